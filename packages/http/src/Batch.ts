/**
 * Bitrix24 `batch` (wire sheet §2): up to 50 commands in one HTTP request, each a `method?query` string with its params
 * in PHP bracket syntax, answered with per-command `result`, `result_error`, `result_total`, `result_next` and
 * `result_time` maps (HTTP 200 even when every command failed; empty maps arrive as `[]`).
 *
 * Two ways in:
 * - **Explicit**: {@link run} takes a record of commands ({@link command} for a declared method, {@link raw} for any
 *   method name) and answers a record of `Either`s, each command with its own typed result or error. `halt` stops at
 *   the first error (later commands come back as {@link NotExecuted}); above 50 commands the record is sent in
 *   chunks of 50, one after the other. It goes through the `Bitrix24Client` seam, so the transport's limits, retries
 *   and auth apply to each chunk.
 * - **Automatic**: with the transport's `batching` option (`Bitrix24Http.layerWebhook(url, { batching: true })`),
 *   the transport coalesces the calls issued concurrently (by `Effect.all` / `Effect.forEach` with `batching: true`,
 *   or on separate fibers within a short window, through the `@effect/experimental/RequestResolver` data loader) into
 *   `batch` requests, each call with its own outcome.
 *
 * The wire facts (the limit, the command strings, the answer's maps) are core's `BatchProtocol`. Each command's
 * operating time is charged by the portal under its own method (§3.2), which the transport reads from `result_time`.
 *
 * @since 0.1.0
 */
import { BatchProtocol, Bitrix24Client, Method, PortalError, type Wire } from "@bitrix24-effect/core"
import * as Arr from "effect/Array"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"

// ---------------------------------------------------------------------------------------------------------------
// Explicit batches
// ---------------------------------------------------------------------------------------------------------------

/**
 * A command was not executed: `halt` stopped the batch at an earlier error (wire sheet §2, step 7).
 *
 * @since 0.1.0
 * @category errors
 */
export class NotExecuted extends Schema.TaggedError<NotExecuted>("@bitrix24-effect/http/Batch/NotExecuted")(
  "NotExecuted",
  { method: Schema.String, key: Schema.String }
) {
  override get message(): string {
    return `${this.method} (batch command "${this.key}"): not executed, the batch halted at an earlier error`
  }
}

/**
 * One command of an explicit batch: its method, its params (validated and encoded before any I/O), whether replaying
 * it is safe, and how its outcome becomes a typed result or error.
 *
 * @since 0.1.0
 * @category models
 */
export interface Command<A, E> {
  readonly method: string
  readonly idempotent: boolean
  readonly params: Effect.Effect<Wire.Params, PortalError.InvalidParams>
  readonly complete: (outcome: Exclude<BatchProtocol.Outcome, { readonly _tag: "NotExecuted" }>) => Either.Either<A, E>
}

/**
 * The error a command of a declared method can come back with: its documented codes, the system codes, an unknown
 * code, or a result that does not match its schema (`TransportError` `UnexpectedResult`).
 *
 * @since 0.1.0
 * @category models
 */
export type CommandError<Errors extends ReadonlyArray<PortalError.PortalErrorClass<any>>> =
  | InstanceType<Errors[number]>
  | PortalError.SystemError
  | PortalError.UnknownPortalError
  | PortalError.TransportError

/**
 * A command calling a declared method with typed params: validated by the declaration, its result decoded with the
 * declaration's schema, its error typed with the declaration's codes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const command = <
  Name extends string,
  Fields extends Schema.Struct.Fields,
  A,
  I,
  Errors extends ReadonlyArray<PortalError.PortalErrorClass<any>>
>(
  method: Method.Method<Name, Fields, A, I, Errors>,
  params: Method.Params<Fields>
): Command<A, CommandError<Errors>> => ({
  method: method.method,
  idempotent: method.idempotent,
  // An Either is an Effect: `run` reads it without running an effect per command.
  params: method.encodeParamsEither(params),
  complete: completer(method)
})

const completers = new WeakMap<object, Command<any, any>["complete"]>()

/**
 * How a command of a declaration completes: its error typed with the declaration's codes, or its result decoded with
 * the declaration's schema. Made once per declaration and shared by its commands.
 */
const completer = <A, Errors extends ReadonlyArray<PortalError.PortalErrorClass<any>>>(method: {
  readonly method: string
  readonly result: Schema.Schema<A, any>
  readonly errors: Errors
}): Command<A, CommandError<Errors>>["complete"] => {
  let complete = completers.get(method)
  if (complete === undefined) {
    const decode = Schema.decodeUnknownEither(method.result)
    complete = (outcome) => {
      if (outcome._tag === "Error") {
        return Either.left(PortalError.fromWire(method.method, outcome.error, method.errors))
      }
      const decoded = decode(outcome.response.result)
      return Either.isRight(decoded)
        ? decoded
        : Either.left(Method.unexpectedResult(method.method, decoded.left, outcome.response.result))
    }
    completers.set(method, complete)
  }
  return complete
}

/**
 * A command calling any method by name with wire params: no validation, the raw `result`, errors typed as far as the
 * system table allows. Not idempotent unless said so.
 *
 * @since 0.1.0
 * @category constructors
 */
export const raw = (
  method: string,
  params: Wire.Params = {},
  options: { readonly idempotent?: boolean | undefined } = {}
): Command<unknown, PortalError.SystemError | PortalError.UnknownPortalError> => ({
  method,
  idempotent: options.idempotent ?? false,
  params: Effect.succeed(params),
  complete: (outcome) =>
    outcome._tag === "Error"
      ? Either.left(PortalError.fromWire(method, outcome.error, []))
      : Either.right(outcome.response.result)
})

/**
 * The record {@link run} answers: each key's typed result or error.
 *
 * @since 0.1.0
 * @category models
 */
export type Results<Commands extends Readonly<Record<string, Command<any, any>>>> = {
  readonly [K in keyof Commands]: Commands[K] extends Command<infer A, infer E> ? Either.Either<A, E | NotExecuted>
    : never
}

/**
 * What a whole {@link run} can fail with: bad params or keys (before any I/O), or a chunk's `batch` request failing
 * as a whole (limits after the policy's retries, auth, transport).
 *
 * @since 0.1.0
 * @category models
 */
export type RunError =
  | PortalError.InvalidParams
  | PortalError.SystemError
  | PortalError.UnknownPortalError
  | PortalError.TransportError

/** A command of a run with its key and its encoded params. */
type Entry = readonly [key: string, command: Command<unknown, unknown>, params: Wire.Params]

/** The `cmd` map of a chunk: each key's `method?query` string. */
const commandsOf = (chunk: ReadonlyArray<Entry>) => {
  const cmd: Record<string, string> = {}
  for (const [key, command, params] of chunk) cmd[key] = BatchProtocol.encodeCommand(command.method, params)
  return cmd
}

/**
 * Runs a record of commands as `batch` requests of at most 50 (wire sheet §2) and answers each key's outcome.
 * - Keys must not be decimal numbers (the portal would turn the map into a list); `InvalidParams` otherwise, before
 *   any I/O, as for invalid params.
 * - `halt: true` stops at the first failing command: the rest come back as {@link NotExecuted}, including the
 *   commands of later chunks, which are then not sent (chunks go one after the other).
 * - Without `halt`, `concurrency` chunks are in flight at once (default 1); the transport's leaky bucket still
 *   paces them.
 * - A chunk is replayed after an ambiguous failure only when all its commands are idempotent.
 *
 * @since 0.1.0
 * @category batch
 */
export const run = <const Commands extends Readonly<Record<string, Command<any, any>>>>(
  commands: Commands,
  options: {
    readonly halt?: boolean | undefined
    readonly concurrency?: number | "unbounded" | undefined
  } = {}
): Effect.Effect<Results<Commands>, RunError, Bitrix24Client.Bitrix24Client> =>
  Effect.gen(function*() {
    const entries = Object.entries(commands) as Array<[string, Command<unknown, unknown>]>
    const encoded: Array<Entry> = []
    for (const [key, command] of entries) {
      const invalidKey = BatchProtocol.invalidKey(key)
      if (invalidKey !== undefined) return yield* Effect.fail(invalidKey)
      const params = command.params
      if (Either.isEither(params as unknown)) {
        const either = params as unknown as Either.Either<Wire.Params, PortalError.InvalidParams>
        if (Either.isLeft(either)) return yield* Effect.fail(either.left)
        encoded.push([key, command, either.right])
      } else {
        encoded.push([key, command, yield* params])
      }
    }
    const client = yield* Bitrix24Client.Bitrix24Client
    const results: Record<string, Either.Either<unknown, unknown>> = {}
    /** Sends one chunk and records its outcomes; answers whether a command failed. */
    const sendChunk = (chunk: ReadonlyArray<Entry>) =>
      client.call({
        method: "batch",
        params: { halt: options.halt ? 1 : 0, cmd: commandsOf(chunk) },
        idempotent: chunk.every(([, command]) => command.idempotent),
        batchable: false
      }).pipe(
        Effect.catchTag("WireFailure", (failure) => Effect.fail(PortalError.fromWire("batch", failure, []))),
        Effect.flatMap((response) => {
          const result = BatchProtocol.decodeResult(response.result)
          if (Either.isLeft(result)) {
            return Effect.fail(
              new PortalError.TransportError({
                method: "batch",
                reason: "UnexpectedResult",
                description: "the batch result is not the documented result/result_error maps"
              })
            )
          }
          let failed = false
          for (const [key, command] of chunk) {
            const outcome = BatchProtocol.outcomeOf(result.right, key)
            if (outcome._tag === "NotExecuted") {
              results[key] = Either.left(new NotExecuted({ method: command.method, key }))
            } else {
              if (outcome._tag === "Error") failed = true
              results[key] = command.complete(outcome)
            }
          }
          return Effect.succeed(failed)
        })
      )
    const chunks = Arr.chunksOf(encoded, BatchProtocol.maxCommands)
    if (!options.halt) {
      yield* Effect.forEach(chunks, sendChunk, { concurrency: options.concurrency ?? 1, discard: true })
    } else {
      let halted = false
      for (const chunk of chunks) {
        if (halted) {
          for (const [key, command] of chunk) {
            results[key] = Either.left(new NotExecuted({ method: command.method, key }))
          }
        } else {
          halted = yield* sendChunk(chunk)
        }
      }
    }
    return results as Results<Commands>
  })
