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
 * Params are encoded with `Wire.encodeQuery` (PHP `http_build_query`). Each command's operating time is charged by
 * the portal under its own method (§3.2), which the transport reads from `result_time`.
 *
 * @since 0.1.0
 */
import { Bitrix24Client, type Method, PortalError, Wire } from "@bitrix24-effect/core"
import * as Arr from "effect/Array"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

/**
 * The most commands one `batch` request may carry (`CRestUtil::BATCH_MAX_LENGTH`, wire sheet §2).
 *
 * @since 0.1.0
 * @category constants
 */
export const maxCommands = 50

/**
 * Methods the portal refuses inside `batch` (wire sheet §2, step 4).
 *
 * @since 0.1.0
 * @category constants
 */
export const notBatchable: ReadonlySet<string> = new Set(["batch", "download", "upload"])

/**
 * One command as the `cmd` map carries it: `method?query`, the params in PHP bracket syntax (wire sheet §1.2, §2).
 * In a JSON body the string is sent as is (not encoded a second time).
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeCommand = (method: string, params: Wire.Params): string => {
  const query = Wire.encodeQuery(params)
  return query.length === 0 ? method : `${method}?${query}`
}

const referencePattern = /\$(result|next|total|time|error)\[/i

/**
 * Does any param value contain a `batch` back-reference (`$result[...]`, `$next[...]`, `$total[...]`, `$time[...]`,
 * `$error[...]`, case-insensitive)? Inside `batch` the portal would substitute it (wire sheet §2), so a call carrying
 * such text is never coalesced automatically.
 *
 * @since 0.1.0
 * @category encoding
 */
export const hasReferences = (params: unknown): boolean => {
  if (typeof params === "string") return referencePattern.test(params)
  if (Array.isArray(params)) return params.some(hasReferences)
  if (params !== null && typeof params === "object") {
    return Object.entries(params).some(([key, value]) => referencePattern.test(key) || hasReferences(value))
  }
  return false
}

/** A per-command map: an object, or `[]` (PHP's empty array) or a list when the keys were sequential. */
const Keyed = Schema.Union(
  Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  Schema.Array(Schema.Unknown)
).pipe(
  Schema.transform(Schema.Record({ key: Schema.String, value: Schema.Unknown }), {
    strict: true,
    decode: (value): Readonly<Record<string, unknown>> =>
      Array.isArray(value) ? Object.fromEntries(value.map((v, i) => [String(i), v])) : value as Record<string, unknown>,
    encode: (value) => value
  })
)

/**
 * The `result` of a `batch` answer (wire sheet §2).
 *
 * @since 0.1.0
 * @category schemas
 */
export const BatchResult = Schema.Struct({
  result: Schema.optionalWith(Keyed, { default: () => ({}) }),
  result_error: Schema.optionalWith(Keyed, { default: () => ({}) }),
  result_total: Schema.optionalWith(Keyed, { default: () => ({}) }),
  result_next: Schema.optionalWith(Keyed, { default: () => ({}) }),
  result_time: Schema.optionalWith(Keyed, { default: () => ({}) })
})

/**
 * @since 0.1.0
 * @category models
 */
export type BatchResult = typeof BatchResult.Type

const decodeBatchResult = Schema.decodeUnknownEither(BatchResult)
const decodedResults = new WeakMap<object, Either.Either<BatchResult, ParseResult.ParseError>>()

/**
 * Decodes the `result` of a `batch` answer (remembered per answer object, as the transport reads each answer twice:
 * for the operating time and for the calls).
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeResult = (result: unknown): Either.Either<BatchResult, ParseResult.ParseError> => {
  if (result === null || typeof result !== "object") return decodeBatchResult(result)
  let value = decodedResults.get(result)
  if (value === undefined) {
    value = decodeBatchResult(result)
    decodedResults.set(result, value)
  }
  return value
}

const decodeError = Schema.decodeUnknownOption(Wire.ErrorEnvelope)
const isTime = Schema.is(Wire.Time)
const decodeTime = (value: unknown): Option.Option<Wire.Time> => isTime(value) ? Option.some(value) : Option.none()
const number = (value: unknown) => typeof value === "number" ? Option.some(value) : Option.none()

/**
 * What one command of a `batch` answer came to: its result with its own `time`/`next`/`total`, its error (the HTTP
 * status of a command is not exposed, wire sheet §2), or nothing when `halt` stopped before it.
 *
 * @since 0.1.0
 * @category models
 */
export type Outcome =
  | { readonly _tag: "Result"; readonly response: Bitrix24Client.CallResponse }
  | { readonly _tag: "Error"; readonly error: PortalError.WireError }
  | { readonly _tag: "NotExecuted" }

/**
 * The outcome of the command under `key`.
 *
 * @since 0.1.0
 * @category decoding
 */
export const outcomeOf = (result: BatchResult, key: string): Outcome => {
  if (Object.prototype.hasOwnProperty.call(result.result_error, key)) {
    const error = decodeError(result.result_error[key])
    return {
      _tag: "Error",
      error: Option.match(error, {
        onNone: () => ({ code: "", description: "", status: undefined }),
        onSome: (envelope) => ({ code: envelope.error, description: envelope.error_description, status: undefined })
      })
    }
  }
  if (Object.prototype.hasOwnProperty.call(result.result, key)) {
    return {
      _tag: "Result",
      response: {
        result: result.result[key],
        time: decodeTime(result.result_time[key]),
        next: number(result.result_next[key]),
        total: number(result.result_total[key])
      }
    }
  }
  return { _tag: "NotExecuted" }
}

/**
 * The methods of the commands of a `batch` call's params, by key (for charging each command's operating time to its
 * own method). Commands that are not strings are left out.
 *
 * @since 0.1.0
 * @category decoding
 */
export const commandMethods = (params: Wire.Params): ReadonlyArray<readonly [key: string, method: string]> => {
  const cmd = params.cmd ?? params.CMD
  if (cmd === null || typeof cmd !== "object") return []
  return Object.entries(cmd as Record<string, unknown>).flatMap(([key, value]) =>
    typeof value === "string" ? [[key, Wire.normalizeMethod(value.split("?")[0]!).method] as const] : []
  )
}

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
  readonly complete: (outcome: Exclude<Outcome, { readonly _tag: "NotExecuted" }>) => Either.Either<A, E>
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
      return Either.mapLeft(decode(outcome.response.result), (error) =>
        new PortalError.TransportError({
          method: method.method,
          reason: "UnexpectedResult",
          description: ParseResult.TreeFormatter.formatErrorSync(error)
        }))
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
      if (/^\d+$/.test(key)) {
        return yield* Effect.fail(
          new PortalError.InvalidParams({
            method: "batch",
            field: `cmd.${key}`,
            missing: false,
            reason: "batch keys must not be decimal numbers (the portal would answer a list)"
          })
        )
      }
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
          cmd: Object.fromEntries(chunk.map(([key, command, params]) => [key, encodeCommand(command.method, params)]))
        },
        idempotent: chunk.every(([, command]) => command.idempotent),
        batchable: false
      }).pipe(
        Effect.catchTag("WireFailure", (failure) => Effect.fail(PortalError.fromWire("batch", failure, []))),
        Effect.flatMap((response) => {
          const result = decodeResult(response.result)
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
            const outcome = outcomeOf(result.right, key)
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
    const chunks = Arr.chunksOf(encoded, maxCommands)
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
