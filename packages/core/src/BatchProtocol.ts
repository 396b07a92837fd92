/**
 * The wire facts of the `batch` method (wire sheet §2), for the code that builds batches (the http package's
 * `Batch`) and the code that runs them (the emulator): the 50-command limit, the methods refused inside a batch, the
 * `method?query` command strings, the back-references to earlier commands' answers, the answer's five per-command
 * maps, and what one command came to.
 *
 * ```ts
 * BatchProtocol.encodeCommand("im.chat.mute", { CHAT_ID: 1489 })   // "im.chat.mute?CHAT_ID=1489"
 * BatchProtocol.outcomeOf(answer, "a")                            // { _tag: "Result", response } | { _tag: "Error", ... }
 * ```
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type * as Bitrix24Client from "./Bitrix24Client.js"
import * as WireTime from "./internal/wireTime.js"
import * as Php from "./Php.js"
import * as PortalError from "./PortalError.js"
import * as Wire from "./Wire.js"

// ---------------------------------------------------------------------------------------------------------------
// Limits and refusals
// ---------------------------------------------------------------------------------------------------------------

/**
 * The most commands one `batch` runs (`CRestUtil::BATCH_MAX_LENGTH`, wire sheet §2): later ones are answered
 * `ERROR_BATCH_LENGTH_EXCEEDED` (`PortalError.BatchLengthExceeded`) without running.
 *
 * @since 0.1.0
 * @category limits
 */
export const maxCommands = 50

/**
 * The methods refused inside `batch` with `ERROR_BATCH_METHOD_NOT_ALLOWED` (`PortalError.BatchMethodNotAllowed`);
 * the portal compares the exact string (wire sheet §2, step 4).
 *
 * @since 0.1.0
 * @category limits
 */
export const notAllowed: ReadonlySet<string> = new Set(["batch", "download", "upload"])

/**
 * Batch keys must not be decimal numbers: the portal would answer a map with keys `0..n-1` as a JSON list (wire sheet
 * §2, PHP's `json_encode`), and a caller could no longer find its command by key. Answers the refusal, before any
 * I/O, or `undefined` for a good key.
 *
 * @since 0.1.0
 * @category limits
 */
export const invalidKey = (key: string): PortalError.InvalidParams | undefined =>
  /^\d+$/.test(key)
    ? new PortalError.InvalidParams({
      method: "batch",
      field: `cmd.${key}`,
      missing: false,
      reason: "batch keys must not be decimal numbers (the portal would answer a list)"
    })
    : undefined

// ---------------------------------------------------------------------------------------------------------------
// Requests: params and command strings
// ---------------------------------------------------------------------------------------------------------------

/**
 * A top-level param of a `batch` call read case-insensitively (`cmd`/`CMD`, `halt`/`HALT`): the portal uppercases
 * the keys, so the last spelling wins (wire sheet §2).
 *
 * @since 0.1.0
 * @category requests
 */
export const param = (params: Readonly<Record<string, unknown>>, name: "CMD" | "HALT"): unknown => {
  let found: unknown
  for (const key in params) if (key.toUpperCase() === name) found = params[key]
  return found
}

/**
 * The commands of a `batch` call's params in order: the `cmd` map's entries, or a `cmd` list's with their indexes as
 * keys. Anything else has no commands.
 *
 * @since 0.1.0
 * @category requests
 */
export const commands = (params: Readonly<Record<string, unknown>>): ReadonlyArray<readonly [string, unknown]> => {
  const cmd = param(params, "CMD")
  if (Array.isArray(cmd)) return cmd.map((value, index) => [String(index), value] as const)
  if (cmd !== null && typeof cmd === "object") return Object.entries(cmd)
  return []
}

/**
 * One command as the `cmd` map carries it: `method?query`, the params in PHP bracket syntax (wire sheet §1.2, §2).
 * In a JSON body the string is sent as is (not encoded a second time).
 *
 * @since 0.1.0
 * @category requests
 */
export const encodeCommand = (method: string, params: Wire.Params): string => {
  const query = Wire.encodeQuery(params)
  return query.length === 0 ? method : `${method}?${query}`
}

/**
 * Splits a command string as the portal's `parse_url` does: the path is the method (as written), the query its
 * params in PHP `parse_str` syntax (read them with `WireRequest.parseQuery`); a `#fragment` is dropped.
 *
 * @since 0.1.0
 * @category requests
 */
export const parseCommand = (command: string): { readonly method: string; readonly query: string } => {
  const hash = command.indexOf("#")
  const text = hash === -1 ? command : command.slice(0, hash)
  const q = text.indexOf("?")
  return q === -1 ? { method: text, query: "" } : { method: text.slice(0, q), query: text.slice(q + 1) }
}

/**
 * The methods of the commands of a `batch` call's params, by key, normalised as the router does (for charging each
 * command's operating time to its own method, wire sheet §3.2). Commands that are not strings are left out.
 *
 * @since 0.1.0
 * @category requests
 */
export const commandMethods = (params: Wire.Params): ReadonlyArray<readonly [key: string, method: string]> => {
  // `commands` and `parseCommand` in one pass, without their intermediate pairs and objects (once per batch request).
  const cmd = param(params, "CMD")
  const methods: Array<readonly [string, string]> = []
  if (Array.isArray(cmd)) {
    for (let index = 0; index < cmd.length; index++) {
      const value: unknown = cmd[index]
      if (typeof value === "string") methods.push([String(index), normalized(methodOf(value))])
    }
  } else if (cmd !== null && typeof cmd === "object") {
    const map = cmd as Readonly<Record<string, unknown>>
    for (const key of Object.keys(map)) {
      const value = map[key]
      if (typeof value === "string") methods.push([key, normalized(methodOf(value))])
    }
  }
  return methods
}

/** The method part of a command string: {@link parseCommand}'s `method`, up to the first `?` or `#`. */
const methodOf = (command: string): string => {
  for (let index = 0; index < command.length; index++) {
    const char = command.charCodeAt(index)
    if (char === 0x3f || char === 0x23) return command.slice(0, index)
  }
  return command
}

/** Normalised method names, remembered for the first few hundred names seen (a batch repeats a handful). */
const normalizedNames = new Map<string, string>()

const normalized = (method: string): string => {
  let name = normalizedNames.get(method)
  if (name === undefined) {
    name = Wire.normalizeMethod(method).method
    if (normalizedNames.size < 256) normalizedNames.set(method, name)
  }
  return name
}

// ---------------------------------------------------------------------------------------------------------------
// References to earlier answers
// ---------------------------------------------------------------------------------------------------------------

/**
 * A param value that is exactly one reference, `$result[key][field]...` (or `$next`, `$total`, `$time`, `$error`,
 * case-insensitive): it is replaced by the referenced value with its type. Groups: the bucket, the bracket path
 * (wire sheet §2, `processBatchStructure`).
 *
 * @since 0.1.0
 * @category references
 */
export const wholeReference = /^\$(result|next|total|time|error)((?:\[[^\]]+\])+)$/i

/**
 * A reference inside a longer string (global: use it with `String.replace`), replaced only when its target is a
 * scalar. Same groups as {@link wholeReference}.
 *
 * @since 0.1.0
 * @category references
 */
export const embeddedReference = /\$(result|next|total|time|error)((?:\[[^\]]+\])+)/gi

/**
 * One element of a reference's bracket path (global: use it with `String.matchAll`).
 *
 * @since 0.1.0
 * @category references
 */
export const referencePathElement = /\[([^\]]+)\]/g

const referenceStart = /\$(result|next|total|time|error)\[/i

/**
 * Does any param key or value contain the start of a back-reference (`$result[`, `$next[`, `$total[`, `$time[`,
 * `$error[`, case-insensitive)? Inside `batch` the portal would substitute it (wire sheet §2), so a call carrying such
 * text is never batched automatically. Walks the params without recursion.
 *
 * @since 0.1.0
 * @category references
 */
export const hasReferences = (params: unknown): boolean => {
  const pending: Array<unknown> = [params]
  while (pending.length > 0) {
    const value = pending.pop()
    if (typeof value === "string") {
      if (referenceStart.test(value)) return true
    } else if (Array.isArray(value)) {
      for (const item of value) pending.push(item)
    } else if (value !== null && typeof value === "object") {
      for (const key of Object.keys(value)) {
        if (referenceStart.test(key)) return true
        pending.push((value as Record<string, unknown>)[key])
      }
    }
  }
  return false
}

// ---------------------------------------------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------------------------------------------

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
 * The `result` of a `batch` answer: per-command maps `result`, `result_error`, `result_total`, `result_next` and
 * `result_time`, each `[]` when empty (wire sheet §2).
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

const mapKeys = ["result", "result_error", "result_total", "result_next", "result_time"] as const
const hasOwn = (value: object, key: string) => Object.prototype.hasOwnProperty.call(value, key)

/** A plain object as `JSON.parse` makes it, whose keys a record decoder would copy as they are. */
const isPlainRecord = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype &&
  !hasOwn(value, "__proto__")

/**
 * {@link BatchResult} decoded without the schema interpreter, for an answer as `JSON.parse` makes it: each map absent
 * (then empty), a list (keyed by index) or a plain object (kept as it is). Anything else answers `undefined`, and the
 * schema decides. The output equals the schema's (a property test holds them together).
 */
const decodeWellFormed = (result: unknown): BatchResult | undefined => {
  if (!isPlainRecord(result)) return undefined
  const decoded: Record<string, Readonly<Record<string, unknown>>> = {}
  for (const key of mapKeys) {
    const value = hasOwn(result, key) ? result[key] : undefined
    if (value === undefined) {
      decoded[key] = {}
    } else if (Array.isArray(value)) {
      const keyed: Record<string, unknown> = {}
      for (let index = 0; index < value.length; index++) keyed[index] = value[index]
      decoded[key] = keyed
    } else if (isPlainRecord(value)) {
      decoded[key] = value
    } else {
      return undefined
    }
  }
  return decoded as unknown as BatchResult
}

/**
 * Decodes the `result` of a `batch` answer (remembered per answer object, as a transport reads each answer twice:
 * for the operating time and for the calls). An answer as `JSON.parse` makes it is read directly; anything else goes
 * through the {@link BatchResult} schema, with the same outcome.
 *
 * @since 0.1.0
 * @category answers
 */
export const decodeResult = (result: unknown): Either.Either<BatchResult, ParseResult.ParseError> => {
  if (result === null || typeof result !== "object") return decodeBatchResult(result)
  let value = decodedResults.get(result)
  if (value === undefined) {
    const wellFormed = decodeWellFormed(result)
    value = wellFormed === undefined ? decodeBatchResult(result) : Either.right(wellFormed)
    decodedResults.set(result, value)
  }
  return value
}

/**
 * The `result` of a `batch` answer as the portal writes it: the five maps in their order, each following PHP's array
 * rules (`Php.jsonArray`: `[]` when empty, a JSON list when its keys are `0..n-1`, wire sheet §2). For a server that
 * builds or rebuilds an answer (the proxy merging the commands it refused itself into the portal's answer).
 *
 * @since 0.1.0
 * @category answers
 */
export const encodeResult = (result: BatchResult): Readonly<Record<string, unknown>> => ({
  result: Php.jsonArray(result.result),
  result_error: Php.jsonArray(result.result_error),
  result_total: Php.jsonArray(result.result_total),
  result_next: Php.jsonArray(result.result_next),
  result_time: Php.jsonArray(result.result_time)
})

const decodeError = Schema.decodeUnknownOption(Wire.ErrorEnvelope)
const decodeTime = (value: unknown): Option.Option<Wire.Time> =>
  WireTime.isTime(value) ? Option.some(value) : Option.none()
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
 * The outcome of the command under `key`, read once per answer and key: a second reading answers the same object.
 *
 * @since 0.1.0
 * @category answers
 */
export const outcomeOf = (result: BatchResult, key: string): Outcome => {
  let outcomes = commandOutcomes.get(result)
  if (outcomes === undefined) {
    outcomes = new Map()
    commandOutcomes.set(result, outcomes)
  }
  let outcome = outcomes.get(key)
  if (outcome === undefined) {
    outcome = readOutcome(result, key)
    outcomes.set(key, outcome)
  }
  return outcome
}

/**
 * The outcomes of an answer's commands, each read once (a transport reads them twice: for the operating time and for
 * the calls), with its `time` block checked against `Wire.Time`.
 */
const commandOutcomes = new WeakMap<BatchResult, Map<string, Outcome>>()

const readOutcome = (result: BatchResult, key: string): Outcome => {
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
    return { _tag: "Result", response: commandResponse(result, key) }
  }
  return { _tag: "NotExecuted" }
}

/** One command's response. */
const commandResponse = (result: BatchResult, key: string): Bitrix24Client.CallResponse => ({
  result: result.result[key],
  time: decodeTime(result.result_time[key]),
  next: number(result.result_next[key]),
  total: number(result.result_total[key])
})
