/**
 * Running the `batch` method (wire sheet §2): up to 50 commands in one HTTP request, each run through the same
 * handler registry with the same auth and scope checks, `$result[key][...]`-style references to earlier answers
 * resolved, `halt` with PHP truthiness, and the five result buckets. The protocol's facts (the limit, the refused
 * methods, the command strings, the reference syntax) are core's `BatchProtocol`.
 *
 * @internal
 */
import { BatchProtocol, Envelope as WireEnvelope, Php, PortalError, WireRequest } from "@bitrix24-effect/core"
import * as Envelope from "../Envelope.js"

/**
 * What one command answered: a result (with its list navigation and `time` block) or an error envelope.
 *
 * @internal
 */
export type CommandResult =
  | {
    readonly _tag: "Success"
    readonly result: unknown
    readonly next: number | undefined
    readonly total: number | undefined
    readonly time: unknown
  }
  | { readonly _tag: "Failure"; readonly error: string; readonly description: string }

/**
 * Runs one command: the lowercased method name, its params (references already resolved) and its key.
 *
 * @internal
 */
export type RunCommand = (method: string, params: Record<string, unknown>, key: string) => CommandResult

interface Buckets {
  readonly result: Record<string, unknown>
  readonly error: Record<string, unknown>
  readonly total: Record<string, unknown>
  readonly next: Record<string, unknown>
  readonly time: Record<string, unknown>
}

/** Walks a reference path; a missing element stops the walk at the deepest existing value. */
const walk = (buckets: Buckets, bucket: string, path: string): unknown => {
  let value: unknown = buckets[bucket.toLowerCase() as keyof Buckets]
  for (const match of path.matchAll(BatchProtocol.referencePathElement)) {
    if (value === null || typeof value !== "object") break
    const key = match[1]!
    if (!Object.hasOwn(value, key)) break
    value = (value as Record<string, unknown>)[key]
  }
  return value
}

const scalarText = (value: unknown): string | undefined => {
  if (typeof value === "string") return value
  if (typeof value === "number") return String(value)
  if (typeof value === "boolean") return value ? "1" : ""
  return undefined
}

/**
 * Resolves references to earlier commands' answers in a param value (wire sheet §2, `processBatchStructure`):
 * a value that is exactly `$result[key][field]...` (or `$next`, `$total`, `$time`, `$error`, case-insensitive)
 * becomes the referenced value with its type; a reference inside a longer string is replaced only when its target
 * is a scalar (numbers as decimal strings), and left as written otherwise.
 *
 * @internal
 */
export const resolveReferences = (value: unknown, buckets: Buckets): unknown => {
  if (typeof value === "string") {
    if (!value.includes("$")) return value
    const whole = BatchProtocol.wholeReference.exec(value)
    if (whole !== null) return walk(buckets, whole[1]!, whole[2]!)
    return value.replace(
      BatchProtocol.embeddedReference,
      (text, bucket: string, path: string) => scalarText(walk(buckets, bucket, path)) ?? text
    )
  }
  if (Array.isArray(value)) return value.map((item) => resolveReferences(item, buckets))
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value)) out[key] = resolveReferences(item, buckets)
    return out
  }
  return value
}

const lengthExceeded = WireEnvelope.error(PortalError.BatchLengthExceeded).body
const methodNotAllowed = WireEnvelope.error(PortalError.BatchMethodNotAllowed).body

/**
 * Runs a `batch` call's params and builds its `result`:
 * `{ result, result_error, result_total, result_next, result_time }` (wire sheet §2). The first 50 commands run in
 * order; later ones get `ERROR_BATCH_LENGTH_EXCEEDED`; a non-string command is skipped but counts; `batch`,
 * `download` and `upload` get `ERROR_BATCH_METHOD_NOT_ALLOWED`; a command whose query nests deeper than
 * `WireRequest.maxKeyNesting` gets the refusal a request would (a 400 envelope's body); with a truthy `halt`
 * processing stops after the first command that failed. Each bucket follows PHP's array rules: `[]` when empty, a JSON list when its keys are
 * `0..n-1` (a list `cmd` whose commands all succeeded), an object otherwise.
 *
 * @internal
 */
export const run = (params: Readonly<Record<string, unknown>>, runCommand: RunCommand): Record<string, unknown> => {
  const halt = Php.truthy(BatchProtocol.param(params, "HALT"))
  const buckets: Buckets = { result: {}, error: {}, total: {}, next: {}, time: {} }
  let count = 0
  for (const [key, command] of BatchProtocol.commands(params)) {
    if (count++ >= BatchProtocol.maxCommands) {
      buckets.error[key] = lengthExceeded
      continue
    }
    if (typeof command !== "string") continue
    const parsed = BatchProtocol.parseCommand(command)
    const query = WireRequest.parseQuery(parsed.query)
    let failed: boolean
    if (BatchProtocol.notAllowed.has(parsed.method)) {
      buckets.error[key] = methodNotAllowed
      failed = true
    } else if (query._tag === "Left") {
      // A command whose params nest too deeply is refused as a request would be, before it runs.
      buckets.error[key] = WireRequest.refusalReply(parsed.method, query.left).body
      failed = true
    } else {
      const resolved = resolveReferences(query.right, buckets) as Record<string, unknown>
      const answer = runCommand(parsed.method.toLowerCase(), resolved, key)
      if (answer._tag === "Success") {
        buckets.result[key] = answer.result
        if (answer.total !== undefined) buckets.total[key] = answer.total
        if (answer.next !== undefined) buckets.next[key] = answer.next
        buckets.time[key] = answer.time
        failed = false
      } else {
        buckets.error[key] = { error: answer.error, error_description: answer.description }
        failed = true
      }
    }
    if (failed && halt) break
  }
  return {
    result: Envelope.phpArray(buckets.result),
    result_error: Envelope.phpArray(buckets.error),
    result_total: Envelope.phpArray(buckets.total),
    result_next: Envelope.phpArray(buckets.next),
    result_time: Envelope.phpArray(buckets.time)
  }
}
