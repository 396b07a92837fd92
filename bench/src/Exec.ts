/**
 * Runs a command to completion through `@effect/platform`'s `Command` and answers its standard output; a non-zero
 * exit is a `BenchError` carrying the end of both outputs.
 *
 * @since 0.1.0
 */
import * as Command from "@effect/platform/Command"
import type * as CommandExecutor from "@effect/platform/CommandExecutor"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { BenchError } from "./BenchError.js"

const text = <E>(stream: Stream.Stream<Uint8Array, E>) =>
  stream.pipe(Stream.decodeText(), Stream.runFold("", (all, chunk) => all + chunk))

/**
 * `command args...` in `cwd`; answers the trimmed standard output.
 *
 * @since 0.1.0
 * @category constructors
 */
export const run = (
  cwd: string,
  command: string,
  ...args: ReadonlyArray<string>
): Effect.Effect<string, BenchError, CommandExecutor.CommandExecutor> =>
  Effect.scoped(
    Effect.gen(function*() {
      const process = yield* Command.start(Command.make(command, ...args).pipe(Command.workingDirectory(cwd)))
      const [out, err, code] = yield* Effect.all([text(process.stdout), text(process.stderr), process.exitCode], {
        concurrency: "unbounded"
      })
      if (code !== 0) {
        return yield* new BenchError({
          message: `${command} ${args.join(" ")} exited with ${code}:\n${(out + err).trim().slice(-2000)}`
        })
      }
      return out.trimEnd()
    })
  ).pipe(
    Effect.catchTags({
      SystemError: (error) => new BenchError({ message: `${command} ${args.join(" ")}: ${error.message}` }),
      BadArgument: (error) => new BenchError({ message: `${command} ${args.join(" ")}: ${error.message}` })
    })
  )
