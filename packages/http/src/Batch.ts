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
 * - **Automatic**: with `Bitrix24Http.layerBatching`, the transport coalesces the calls issued concurrently (by
 *   `Effect.all` / `Effect.forEach` with `batching: true`, or on separate fibers within a short window, through the
 *   `@effect/experimental/RequestResolver` data loader) into `batch` requests; see {@link makeCoalescing}.
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
import type * as ParseResult from "effect/ParseResult"
import * as Request from "effect/Request"
import * as RequestResolver from "effect/RequestResolver"
import * as Schema from "effect/Schema"
import type * as RetryPolicy from "./RetryPolicy.js"

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
): Command<A, CommandError<Errors>> => {
  const decode = resultDecoder(method)
  return {
    method: method.method,
    idempotent: method.idempotent,
    // An Either is an Effect: `run` reads it without running an effect per command.
    params: method.encodeParamsEither(params),
    complete: (outcome) => {
      if (outcome._tag === "Error") {
        return Either.left(PortalError.fromWire(method.method, outcome.error, method.errors))
      }
      return Either.mapLeft(
        decode(outcome.response.result),
        (error) => Method.unexpectedResult(method.method, error, outcome.response.result)
      )
    }
  }
}

const resultDecoders = new WeakMap<object, (u: unknown) => Either.Either<unknown, ParseResult.ParseError>>()

/** The compiled result decoder of a declaration, made once per declaration. */
const resultDecoder = <A>(method: { readonly result: Schema.Schema<A, any> }) => {
  let decode = resultDecoders.get(method)
  if (decode === undefined) {
    decode = Schema.decodeUnknownEither(method.result)
    resultDecoders.set(method, decode)
  }
  return decode as (u: unknown) => Either.Either<A, ParseResult.ParseError>
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
    const encoded: Array<readonly [string, Command<unknown, unknown>, Wire.Params]> = []
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
    type Entry = readonly [string, Command<unknown, unknown>, Wire.Params]
    /** Sends one chunk and records its outcomes; answers whether a command failed. */
    const sendChunk = (chunk: ReadonlyArray<Entry>) =>
      client.call({
        method: "batch",
        params: {
          halt: options.halt ? 1 : 0,
          cmd: Object.fromEntries(
            chunk.map(([key, command, params]) => [key, BatchProtocol.encodeCommand(command.method, params)])
          )
        },
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

// ---------------------------------------------------------------------------------------------------------------
// Automatic batching
// ---------------------------------------------------------------------------------------------------------------

/**
 * What the transport learns about one call while it is carried: the attempts made, the size of the last request
 * that carried it (1 when alone) and the milliseconds waited for the leaky bucket and the operating time. Written by
 * the transport, read for the call's span.
 *
 * @since 0.1.0
 * @category models
 */
export interface CallStats {
  attempts: number
  batchSize: number
  bucketWaitMs: number
  operatingWaitMs: number
}

/**
 * Fresh, empty stats.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeStats = (): CallStats => ({ attempts: 0, batchSize: 1, bucketWaitMs: 0, operatingWaitMs: 0 })

/**
 * One attempt of a call as a `Request`, for the automatic batching resolver. `id` keeps two identical calls apart
 * (two identical writes are two writes).
 *
 * @since 0.1.0
 * @category models
 */
export interface Call extends Request.Request<Bitrix24Client.CallResponse, RetryPolicy.AttemptError> {
  readonly _tag: "Bitrix24Call"
  readonly id: number
  readonly call: Bitrix24Client.CallRequest
  readonly stats: CallStats
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const Call = Request.tagged<Call>("Bitrix24Call")

/**
 * Sends one HTTP request to the portal (one attempt, with the transport's limits and auth) and records the wait and
 * request size in the stats of every call it carries.
 *
 * @since 0.1.0
 * @category models
 */
export type Send = (
  method: string,
  params: Wire.Params,
  carried: ReadonlyArray<CallStats>
) => Effect.Effect<Bitrix24Client.CallResponse, RetryPolicy.AttemptError>

/**
 * Sends calls and completes each with its own outcome: a single call goes out as itself; two or more go out as `batch`
 * requests (`halt: 0`, keys `c0`, `c1`, ...) of at most `maxBatchSize` commands, sent concurrently. A failure of a
 * `batch` request as a whole fails every call it carried with that failure, so each call's retry policy decides on its
 * own (an idempotent call is replayed, a non-idempotent one after an ambiguous failure is not).
 *
 * @since 0.1.0
 * @category batching
 */
export const completeAll = (
  send: Send,
  calls: ReadonlyArray<Call>,
  maxBatchSize: number = BatchProtocol.maxCommands
): Effect.Effect<void> =>
  Effect.forEach(
    Arr.chunksOf(calls, Math.max(1, Math.min(BatchProtocol.maxCommands, maxBatchSize))),
    (chunk) => chunk.length === 1 ? completeOne(send, chunk[0]!) : completeBatch(send, chunk),
    { concurrency: "unbounded", discard: true }
  )

const completeOne = (send: Send, only: Call) =>
  Effect.exit(send(only.call.method, only.call.params, [only.stats])).pipe(
    Effect.flatMap((exit) => Request.complete(only, exit))
  )

const keyOf = (index: number) => `c${index}`

const completeBatch = (send: Send, calls: ReadonlyArray<Call>) => {
  const cmd: Record<string, string> = {}
  calls.forEach((call, index) => cmd[keyOf(index)] = BatchProtocol.encodeCommand(call.call.method, call.call.params))
  return send("batch", { halt: 0, cmd }, calls.map((call) => call.stats)).pipe(
    Effect.flatMap((response) =>
      Either.match(BatchProtocol.decodeResult(response.result), {
        onLeft: () =>
          Effect.forEach(calls, (call) =>
            Request.fail(
              call,
              new PortalError.TransportError({
                method: call.call.method,
                reason: "InvalidBody",
                description: "the batch answer is not the documented result/result_error maps"
              })
            ), { discard: true }),
        onRight: (result) =>
          Effect.forEach(calls, (call, index) => {
            const outcome = BatchProtocol.outcomeOf(result, keyOf(index))
            switch (outcome._tag) {
              case "Result":
                return Request.succeed(call, outcome.response)
              case "Error":
                return Request.fail(call, new Bitrix24Client.WireFailure(outcome.error))
              case "NotExecuted":
                return Request.fail(
                  call,
                  new PortalError.TransportError({
                    method: call.call.method,
                    reason: "InvalidBody",
                    description: "the batch answer has neither a result nor an error for this command"
                  })
                )
            }
          }, { discard: true })
      })
    ),
    Effect.catchAll((error) =>
      Effect.forEach(calls, (call) =>
        Request.fail(
          call,
          error._tag === "TransportError" ? retarget(error, call.call.method) : error
        ), { discard: true })
    )
  )
}

/**
 * A resolver over {@link completeAll}: whatever requests Effect hands it at once (the calls of an `Effect.all` /
 * `Effect.forEach` with `batching: true`) go out in `batch` requests of at most `maxBatchSize`, concurrently.
 *
 * @since 0.1.0
 * @category batching
 */
export const makeResolver = (
  send: Send,
  maxBatchSize: number = BatchProtocol.maxCommands
): RequestResolver.RequestResolver<Call> =>
  RequestResolver.makeBatched((calls: Arr.NonEmptyArray<Call>) => completeAll(send, calls, maxBatchSize))

/**
 * The automatic batching resolver of the transport. Calls Effect hands it together (a batched `Effect.all` /
 * `Effect.forEach`) are sent at once by {@link completeAll}; a call that arrives alone (from its own fiber: the
 * proxy's case, or concurrent fibers without `batching: true`) goes through `loader`, the
 * `@effect/experimental/RequestResolver` data loader over {@link makeResolver}, which gathers the calls arriving
 * within its window into one request.
 *
 * @since 0.1.0
 * @category batching
 */
export const makeCoalescing = (
  send: Send,
  loader: RequestResolver.RequestResolver<Call>,
  maxBatchSize: number = BatchProtocol.maxCommands
): RequestResolver.RequestResolver<Call> =>
  RequestResolver.makeBatched((calls: Arr.NonEmptyArray<Call>) => {
    if (calls.length > 1) return completeAll(send, calls, maxBatchSize)
    const [only] = calls
    // A fresh request for the loader: each request object belongs to one resolution.
    return Effect.exit(Effect.request(Call({ id: -only.id, call: only.call, stats: only.stats }), loader)).pipe(
      Effect.flatMap((exit) => Request.complete(only, exit))
    )
  })

/** A batch-level transport failure, reported under the method of one of the calls it carried. */
const retarget = (error: PortalError.TransportError, method: string): PortalError.TransportError => {
  const Class = error.constructor as new(props: {
    readonly method: string
    readonly reason: PortalError.TransportError["reason"]
    readonly description: string
    readonly status?: number | undefined
  }) => PortalError.TransportError
  return new Class({
    method,
    reason: error.reason,
    description: error.description,
    ...(error.status === undefined ? {} : { status: error.status })
  })
}
