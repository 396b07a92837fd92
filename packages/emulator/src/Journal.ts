/**
 * The journal of every call the emulated portal received, in order, with the HTTP request that carried it, the auth
 * entity, the outcome and whether the method ran.
 *
 * @since 0.1.0
 */
import { WireRequest } from "@bitrix24-effect/core"
import type * as Faults from "./Faults.js"

/**
 * One call as the portal saw it. `params` have credentials removed; `executed` says whether the method's handler ran
 * (so a test can prove that nothing reached the portal, or that a write happened exactly once).
 *
 * @since 0.1.0
 * @category models
 */
export interface Entry {
  readonly seq: number
  /**
   * The sequence number of the HTTP request that carried the call (see `Emulator.Service.httpRequests`); the
   * commands of one `batch` share the batch's number.
   */
  readonly request: number
  /** `direct` for a call in its own HTTP request (including `batch` itself), `batch` for a command inside one. */
  readonly via: "direct" | "batch"
  /** The command's key inside its `batch` (`cmd` map key or list index), for `via: "batch"`. */
  readonly key?: string | undefined
  /** When the call arrived, epoch milliseconds on the portal's clock. */
  readonly at: number
  /**
   * The method without transport suffix: as the catalog declares it when it is declared (`...mode.pinAll`),
   * lowercased as the portal's router reads it otherwise.
   */
  readonly method: string
  readonly params: Readonly<Record<string, unknown>>
  /** `webhook:<userId>`, `oauth:<userId>` or `none` (not authenticated). */
  readonly auth: string
  /**
   * The entity limits are kept for (wire sheet §3.2, §3.3): `webhook:<userId>` or `app:<client_id>`; absent when
   * not authenticated.
   */
  readonly entity?: string | undefined
  /** The HTTP status answered (the envelope's status for a `batch` command); 0 when no answer was sent. */
  readonly status: number
  /** The error code answered, or `undefined` on success. */
  readonly error: string | undefined
  readonly executed: boolean
  /** The fault injected into this call's HTTP request, if any. */
  readonly fault?: Faults.Kind | undefined
}

/**
 * The journal: appended to by the server, read by tests and the control API.
 *
 * @since 0.1.0
 * @category models
 */
export type Journal = Array<Entry>

/**
 * Appends an entry. With a `limit`, the oldest entries are dropped in chunks once the journal holds more than
 * `limit` plus a tenth (at least 1,000), so a long benchmark does not grow memory without bound.
 *
 * @internal
 */
export const append = (journal: Journal, entry: Entry, limit: number | undefined): void => {
  journal.push(entry)
  if (limit !== undefined && journal.length > limit + Math.max(1000, Math.floor(limit / 10))) {
    journal.splice(0, journal.length - limit)
  }
}

/**
 * Param names whose values are secrets: the credential params of a REST call plus the OAuth server's.
 *
 * @internal
 */
export const secretParams: ReadonlySet<string> = new Set([
  ...WireRequest.credentialParams,
  "refresh_token",
  "client_secret"
])

const secretInQuery = /(^|[?&])(auth|access_token|refresh_token|client_secret|ap|aplogin)=[^&]*/gi

/**
 * Removes credential params from a `batch` command string (`method?query`).
 *
 * @internal
 */
export const stripCommand = (command: string): string =>
  command.includes("=") ?
    command.replace(secretInQuery, "$1").replace(/\?&+/, "?").replace(/&&+/g, "&").replace(/[?&]$/, "")
    : command

/**
 * Params without their credential keys (top level), and `batch` command strings without credential params.
 *
 * @internal
 */
export const stripParams = (params: Readonly<Record<string, unknown>>): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const key in params) {
    if (secretParams.has(key)) continue
    out[key] = params[key]
  }
  return out
}

/**
 * An entry as the control API shows it: params deep-copied with any secret-named key replaced by `"[redacted]"`.
 *
 * @internal
 */
export const redact = (entry: Entry): Entry => ({ ...entry, params: redactValue(entry.params) as Entry["params"] })

const redactValue = (value: unknown): unknown => {
  if (typeof value === "string") return stripCommand(value)
  if (Array.isArray(value)) return value.map(redactValue)
  if (value === null || typeof value !== "object") return value
  const out: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(value)) {
    out[key] = secretParams.has(key.toLowerCase()) ? "[redacted]" : redactValue(item)
  }
  return out
}
