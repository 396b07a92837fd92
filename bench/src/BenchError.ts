/**
 * The one error of the bench orchestrator: a step that could not be done (a client that exited without its result
 * line, a baseline that could not be built, flags that do not go together), with the reason.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"

/**
 * @since 0.1.0
 * @category errors
 */
export class BenchError extends Data.TaggedError("BenchError")<{ readonly message: string }> {}
