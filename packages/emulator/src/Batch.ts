/**
 * The `batch` method (wire sheet §2): up to 50 commands in one HTTP request, each run through the same handler
 * registry with the same auth and scope checks, `$result[key][...]`-style references to earlier answers, `halt` with
 * PHP truthiness, and the five result buckets.
 *
 * @since 0.1.0
 */
import { Wire } from "@bitrix24-effect/core"
import * as Envelope from "./Envelope.js"
import { phpTruthy } from "./handlers/Common.js"

/**
 * The most commands one `batch` runs (`CRestUtil::BATCH_MAX_LENGTH`, wire sheet §2).
 *
 * @since 0.1.0
 * @category constants
 */
export const maxLength = 50

/**
 * Methods refused inside `batch` with `ERROR_BATCH_METHOD_NOT_ALLOWED` (exact, case-sensitive comparison, as the
 * source does).
 *
 * @since 0.1.0
 * @category constants
 */
export const notAllowed: ReadonlySet<string> = new Set(["batch", "download", "upload"])

/**
 * What one command answered: a result (with its list navigation and `time` block) or an error envelope.
 *
 * @since 0.1.0
 * @category models
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
 * @since 0.1.0
 * @category models
 */
export type RunCommand = (method: string, params: Record<string, unknown>, key: string) => CommandResult

/**
 * A top-level param read case-insensitively (`cmd`/`CMD`, `halt`/`HALT`: the source uppercases the keys, so the
 * last spelling wins).
 *
 * @since 0.1.0
 * @category params
 */
export const param = (params: Readonly<Record<string, unknown>>, name: string): unknown => {
  let found: unknown
  for (const key in params) if (key.toUpperCase() === name) found = params[key]
  return found
}

/**
 * The commands of a `cmd` param in order: a map's entries, or a list's with their indexes as keys. Anything else
 * has no commands.
 *
 * @since 0.1.0
 * @category params
 */
export const commands = (cmd: unknown): ReadonlyArray<readonly [string, unknown]> => {
  if (Array.isArray(cmd)) return cmd.map((value, index) => [String(index), value] as const)
  if (cmd !== null && typeof cmd === "object") return Object.entries(cmd)
  return []
}

interface Buckets {
  readonly result: Record<string, unknown>
  readonly error: Record<string, unknown>
  readonly total: Record<string, unknown>
  readonly next: Record<string, unknown>
  readonly time: Record<string, unknown>
}

const wholeReference = /^\$(result|next|total|time|error)((?:\[[^\]]+\])+)$/i
const embeddedReference = /\$(result|next|total|time|error)((?:\[[^\]]+\])+)/gi
const pathElement = /\[([^\]]+)\]/g

/** Walks a reference path; a missing element stops the walk at the deepest existing value. */
const walk = (buckets: Buckets, bucket: string, path: string): unknown => {
  let value: unknown = buckets[bucket.toLowerCase() as keyof Buckets]
  for (const match of path.matchAll(pathElement)) {
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
 * @since 0.1.0
 * @category references
 */
export const resolveReferences = (value: unknown, buckets: Buckets): unknown => {
  if (typeof value === "string") {
    if (!value.includes("$")) return value
    const whole = wholeReference.exec(value)
    if (whole !== null) return walk(buckets, whole[1]!, whole[2]!)
    return value.replace(
      embeddedReference,
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

/**
 * Splits a command string as `parse_url` does: the path is the method, the query is parsed with PHP `parse_str`
 * (bracket keys nest).
 *
 * @since 0.1.0
 * @category params
 */
export const parseCommand = (
  command: string
): { readonly method: string; readonly params: Record<string, unknown> } => {
  const hash = command.indexOf("#")
  const text = hash === -1 ? command : command.slice(0, hash)
  const q = text.indexOf("?")
  return q === -1
    ? { method: text, params: {} }
    : { method: text.slice(0, q), params: Wire.parseQuery(text.slice(q + 1)) }
}

const lengthExceeded = { error: "ERROR_BATCH_LENGTH_EXCEEDED", error_description: "Max batch length exceeded" }
const methodNotAllowed = {
  error: "ERROR_BATCH_METHOD_NOT_ALLOWED",
  error_description: "Method is not allowed for batch usage"
}

/**
 * Runs a `batch` call's params and builds its `result`:
 * `{ result, result_error, result_total, result_next, result_time }` (wire sheet §2). The first 50 commands run in
 * order; later ones get `ERROR_BATCH_LENGTH_EXCEEDED`; a non-string command is skipped but counts; `batch`,
 * `download` and `upload` get `ERROR_BATCH_METHOD_NOT_ALLOWED`; with a truthy `halt` processing stops after the
 * first command that failed. Each bucket follows PHP's array rules: `[]` when empty, a JSON list when its keys are
 * `0..n-1` (a list `cmd` whose commands all succeeded), an object otherwise.
 *
 * @since 0.1.0
 * @category batch
 */
export const run = (params: Readonly<Record<string, unknown>>, runCommand: RunCommand): Record<string, unknown> => {
  const halt = phpTruthy(param(params, "HALT"))
  const buckets: Buckets = { result: {}, error: {}, total: {}, next: {}, time: {} }
  let count = 0
  for (const [key, command] of commands(param(params, "CMD"))) {
    if (count++ >= maxLength) {
      buckets.error[key] = lengthExceeded
      continue
    }
    if (typeof command !== "string") continue
    const parsed = parseCommand(command)
    let failed: boolean
    if (notAllowed.has(parsed.method)) {
      buckets.error[key] = methodNotAllowed
      failed = true
    } else {
      const resolved = resolveReferences(parsed.params, buckets) as Record<string, unknown>
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
