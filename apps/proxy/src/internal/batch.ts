/**
 * A client's `batch`, with the portal's semantics (wire sheet §2): each command is checked before anything goes
 * upstream, against the client's method scope and, for a declared method, against its declaration; a command refused
 * here gets the entry the portal would put in `result_error`; the accepted ones travel upstream together, in order,
 * under their own keys, in one `batch` request; the portal's answer and the refusals are then merged back in the
 * commands' order, `halt` respected across both.
 *
 * - At most `BatchProtocol.maxCommands` commands run; later ones get `ERROR_BATCH_LENGTH_EXCEEDED`. A command that
 *   is not a string is skipped, as the portal skips it (it still counts).
 * - `batch`, `download` and `upload` get `ERROR_BATCH_METHOD_NOT_ALLOWED`; a query nested too deeply gets the refusal
 *   a request would (`WireRequest.refusalReply`).
 * - A method outside the scope gets `insufficient_scope` with an empty description, as inside a portal's batch.
 * - A declared method's params are decoded and re-encoded by its declaration (bad ones get the envelope the portal
 *   would send, `Method.invalidParamsToWire`); when a value holds a `$result[...]`-style reference, the referenced
 *   params are left for the portal to fill in and the others are checked (`Method.checkParams`), and only the
 *   declared params are sent.
 * - Any other method in the scope goes as the client wrote it; credential params are removed from every command.
 *
 * @internal
 */
import { BatchProtocol, Catalog, Envelope, Method, Php, PortalError, WireRequest } from "@bitrix24-effect/core"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as MethodScope from "../MethodScope.js"

/** One command of the client's batch, as prepared. */
interface Entry {
  readonly key: string
  /** The `result_error` entry when the command was refused here. */
  readonly refused?: Readonly<Record<string, string>> | undefined
  /** A refusal past the 50th command, which the portal gives without stopping at `halt`. */
  readonly overLimit?: boolean | undefined
}

/**
 * A client's batch, checked: its entries in order, whether it halts, the commands that go upstream (keyed as the
 * client keyed them) and whether all of those may be replayed after an ambiguous failure.
 *
 * @internal
 */
export interface Prepared {
  readonly entries: ReadonlyArray<Entry>
  readonly halt: boolean
  readonly cmd: Readonly<Record<string, string>>
  readonly idempotent: boolean
}

const lengthExceeded = Envelope.error(PortalError.BatchLengthExceeded).body
const methodNotAllowed = Envelope.error(PortalError.BatchMethodNotAllowed).body
const outOfScope = Envelope.error(PortalError.InsufficientScope, { description: "" }).body

/** A command checked: its string for upstream and whether it may be replayed, or its `result_error` entry. */
type Checked = Either.Either<
  { readonly command: string; readonly idempotent: boolean },
  Readonly<Record<string, string>>
>

const checkCommand = (command: string, scope: MethodScope.MethodScope): Effect.Effect<Checked> =>
  Effect.gen(function*() {
    const parsed = BatchProtocol.parseCommand(command)
    if (BatchProtocol.notAllowed.has(parsed.method)) return Either.left(methodNotAllowed)
    const query = WireRequest.parseQuery(parsed.query)
    if (Either.isLeft(query)) return Either.left(WireRequest.refusalReply(parsed.method, query.left).body)
    const name = parsed.method.toLowerCase()
    if (!scope.allows(name)) return Either.left(outOfScope)
    let credentials = false
    const params: Record<string, unknown> = {}
    for (const key in query.right) {
      if (WireRequest.credentialParams.has(key)) credentials = true
      else params[key] = query.right[key]
    }
    const declared = Catalog.find(name)
    if (declared === undefined) {
      const forwarded = credentials ? BatchProtocol.encodeCommand(parsed.method, params) : command
      return Either.right({ command: forwarded, idempotent: false })
    }
    const deferred = new Set(Object.keys(params).filter((key) => BatchProtocol.hasReferences(params[key])))
    if (deferred.size > 0) {
      const invalid = Method.checkParams(declared, params, deferred)
      if (invalid !== undefined) return Either.left(Method.invalidParamsToWire(declared, invalid).body)
      const kept: Record<string, unknown> = {}
      for (const key of Object.keys(declared.params)) if (key in params) kept[key] = params[key]
      return Either.right({
        command: BatchProtocol.encodeCommand(declared.method, kept),
        idempotent: declared.idempotent
      })
    }
    const wire = yield* Effect.either(Effect.flatMap(declared.decodeParams(params), declared.encodeParams))
    return Either.isLeft(wire)
      ? Either.left(Method.invalidParamsToWire(declared, wire.left).body)
      : Either.right({
        command: BatchProtocol.encodeCommand(declared.method, wire.right),
        idempotent: declared.idempotent
      })
  })

/**
 * Checks a batch call's params (see the module docs). After a refusal here with `halt`, no later command is looked
 * at: the portal would have stopped there.
 *
 * @internal
 */
export const prepare = (
  params: Readonly<Record<string, unknown>>,
  scope: MethodScope.MethodScope
): Effect.Effect<Prepared> =>
  Effect.gen(function*() {
    const halt = Php.truthy(BatchProtocol.param(params, "HALT"))
    const entries: Array<Entry> = []
    const cmd: Record<string, string> = {}
    let idempotent = true
    let position = 0
    for (const [key, value] of BatchProtocol.commands(params)) {
      if (position++ >= BatchProtocol.maxCommands) {
        entries.push({ key, refused: lengthExceeded, overLimit: true })
        continue
      }
      if (typeof value !== "string") continue
      const checked = yield* checkCommand(value, scope)
      if (Either.isLeft(checked)) {
        entries.push({ key, refused: checked.left })
        if (halt) break
        continue
      }
      cmd[key] = checked.right.command
      idempotent = idempotent && checked.right.idempotent
      entries.push({ key })
    }
    return { entries, halt, cmd, idempotent }
  })

/**
 * The `result` of the client's batch: the portal's answer for the commands that went upstream (`upstream`, the
 * decoded `result` of its answer; `undefined` when none went) and the refusals, in the commands' order, each map
 * written as the portal writes it (`BatchProtocol.encodeResult`). With `halt`, the answer stops at the first command
 * that failed, here or upstream.
 *
 * @internal
 */
export const answer = (
  prepared: Prepared,
  upstream: BatchProtocol.BatchResult | undefined
): Readonly<Record<string, unknown>> => {
  const merged = { result: {}, result_error: {}, result_total: {}, result_next: {}, result_time: {} } as {
    readonly [K in keyof BatchProtocol.BatchResult]: Record<string, unknown>
  }
  const has = (map: Readonly<Record<string, unknown>>, key: string) => Object.prototype.hasOwnProperty.call(map, key)
  for (const entry of prepared.entries) {
    const { key } = entry
    if (entry.refused !== undefined) {
      merged.result_error[key] = entry.refused
      if (prepared.halt && entry.overLimit !== true) break
      continue
    }
    if (upstream === undefined) break
    if (has(upstream.result_error, key)) {
      merged.result_error[key] = upstream.result_error[key]
      if (prepared.halt) break
      continue
    }
    // Neither a result nor an error: the portal stopped before it (halt).
    if (!has(upstream.result, key)) break
    merged.result[key] = upstream.result[key]
    for (const map of ["result_total", "result_next", "result_time"] as const) {
      if (has(upstream[map], key)) merged[map][key] = upstream[map][key]
    }
  }
  return BatchProtocol.encodeResult(merged)
}
