/**
 * The envelopes a REST endpoint answers with, as a server writes them (the emulator, the proxy, `b24 --json`): the
 * success envelope in the portal's key order, the error envelope built from a declared error class or a wire error,
 * the response headers (CORS included) and the two transports, JSON with the portal's escaping and XML (wire sheet
 * §1.4, §1.5). Clients read envelopes with the schemas of `Wire`.
 *
 * ```ts
 * Envelope.success({ result: true, time })                 // {"result":true,"time":{...}}
 * Envelope.error(PortalError.ChatIdEmpty)                  // { status: 400, body: { error: "CHAT_ID_EMPTY", ... } }
 * Envelope.encode("json", Envelope.error(PortalError.QueryLimitExceeded).body)
 * ```
 *
 * @since 0.1.0
 */
import * as Option from "effect/Option"
import type * as Bitrix24Client from "./Bitrix24Client.js"
import type * as PortalError from "./PortalError.js"

// ---------------------------------------------------------------------------------------------------------------
// Success
// ---------------------------------------------------------------------------------------------------------------

/**
 * A success envelope as the portal writes it: `result`, then `next` and `total` for list methods, then `time`
 * (seconds; absent on some self-hosted portals and inside `batch`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Success {
  readonly result: unknown
  readonly next?: number
  readonly total?: number
  readonly time?: unknown
}

/**
 * Builds a success envelope with its keys in the portal's order: `result`, `next`, `total`, `time` (wire sheet §1.4,
 * `processResponse` hoists `next` and `total` before `appendDebugInfo` adds `time`). Absent parts are left out.
 *
 * @since 0.1.0
 * @category constructors
 */
export const success = (parts: {
  readonly result: unknown
  readonly next?: number | undefined
  readonly total?: number | undefined
  readonly time?: unknown
}): Success => {
  const envelope: { result: unknown; next?: number; total?: number; time?: unknown } = { result: parts.result }
  if (parts.next !== undefined) envelope.next = parts.next
  if (parts.total !== undefined) envelope.total = parts.total
  if (parts.time !== undefined) envelope.time = parts.time
  return envelope
}

/**
 * The success envelope of a decoded call response (the proxy's answer, `b24 --json`): the `result` as received, and
 * `next`, `total` and `time` when the portal sent them.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromResponse = (response: Bitrix24Client.CallResponse): Success =>
  success({
    result: response.result,
    next: Option.getOrUndefined(response.next),
    total: Option.getOrUndefined(response.total),
    time: Option.getOrUndefined(response.time)
  })

// ---------------------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------------------

/**
 * The body of an error envelope: `error` and `error_description`, plus extra keys such as `argument` merged at the
 * top level; never a `time` block (wire sheet §1.5).
 *
 * @since 0.1.0
 * @category models
 */
export interface ErrorBody {
  readonly error: string
  readonly error_description: string
  readonly [extra: string]: string
}

/**
 * An error envelope with the HTTP status it travels with.
 *
 * @since 0.1.0
 * @category models
 */
export interface ErrorReply {
  readonly status: number
  readonly body: ErrorBody
}

/**
 * The error envelope of a wire error: its code, its description and its status (wire sheet §1.5).
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromWireError = (wire: {
  readonly code: string
  readonly description: string
  readonly status: number
}): ErrorReply => ({ status: wire.status, body: { error: wire.code, error_description: wire.description } })

/**
 * The wire error of a declared error class, before it becomes an envelope: its code, and its documented description
 * and status unless others are given (the portal reuses some codes with several texts; a status profile may change a
 * status).
 *
 * @since 0.1.0
 * @category constructors
 */
export const wireError = (
  Class: PortalError.PortalErrorClass<any>,
  options?: { readonly description?: string | undefined; readonly status?: number | undefined }
): PortalError.WireError & { readonly status: number } => ({
  code: Class.spec.code,
  description: options?.description ?? Class.spec.description,
  status: options?.status ?? Class.spec.status
})

/**
 * The error envelope of a declared error class (see {@link wireError}).
 *
 * @since 0.1.0
 * @category constructors
 */
export const error = (
  Class: PortalError.PortalErrorClass<any>,
  options?: { readonly description?: string | undefined; readonly status?: number | undefined }
): ErrorReply => fromWireError(wireError(Class, options))

/**
 * `ERROR_ARGUMENT` (HTTP 400) with the `argument` key naming the param, as the portal maps an `ArgumentException`
 * (wire sheet §1.5).
 *
 * @since 0.1.0
 * @category constructors
 */
export const invalidArgument = (argument: string, description: string): ErrorReply => ({
  status: 400,
  body: { error: "ERROR_ARGUMENT", error_description: description, argument }
})

// ---------------------------------------------------------------------------------------------------------------
// Headers and transports
// ---------------------------------------------------------------------------------------------------------------

/**
 * The transport a call asks for with its `.json` / `.xml` suffix; JSON without one (wire sheet §1.1).
 *
 * @since 0.1.0
 * @category models
 */
export type Transport = "json" | "xml"

/**
 * The `Content-Type` of each transport (wire sheet §1.4).
 *
 * @since 0.1.0
 * @category headers
 */
export const contentType: Readonly<Record<Transport, string>> = {
  json: "application/json; charset=utf-8",
  xml: "text/xml; charset=utf-8"
}

/**
 * The CORS headers of every REST response and of a preflight's answer: any origin, and the request headers a browser
 * may send (wire sheet §1.4).
 *
 * @since 0.1.0
 * @category headers
 */
export const corsHeaders: Readonly<Record<string, string>> = {
  "access-control-allow-origin": "*",
  "access-control-allow-headers": "origin, content-type, accept"
}

/**
 * The headers every REST response carries besides its {@link contentType}: the {@link corsHeaders} and
 * `X-Content-Type-Options: nosniff` (wire sheet §1.4).
 *
 * @since 0.1.0
 * @category headers
 */
export const responseHeaders: Readonly<Record<string, string>> = {
  ...corsHeaders,
  "x-content-type-options": "nosniff"
}

/**
 * The prefix of the cloud's own response headers: `X-Bitrix-Rest-Time`, `-User-Time`, `-System-Time` and, for OAuth
 * calls, `-Application` (wire sheet §1.4). Header names compare in lowercase.
 *
 * @since 0.1.0
 * @category headers
 */
export const portalHeaderPrefix = "x-bitrix-rest-"

/**
 * The portal's own headers among a response's (names in lowercase, as HTTP clients keep them): those starting with
 * {@link portalHeaderPrefix}, with their values as sent. A proxy passes them on; none is there on self-hosted
 * portals.
 *
 * @since 0.1.0
 * @category headers
 */
export const portalHeaders = (headers: Readonly<Record<string, string>>): Readonly<Record<string, string>> => {
  const picked: Record<string, string> = {}
  for (const name in headers) {
    if (name.startsWith(portalHeaderPrefix)) picked[name] = headers[name]!
  }
  return picked
}

/**
 * JSON as the portal's encoder writes it: `/` escaped as `\/`, and `<`, `>`, `&`, `'`, `"` inside strings as
 * `\u003C`-style escapes; non-ASCII stays raw UTF-8 (wire sheet §1.4, the `JSON_HEX_*` flags). Parses back to the
 * same value as `JSON.stringify` would.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeJson = (value: unknown): string =>
  JSON.stringify(value).replace(/"(?:[^"\\]|\\.)*"/g, (token) =>
    "\"" +
    token
      .slice(1, -1)
      .replace(/\\"/g, "\\u0022")
      .replace(/\//g, "\\/")
      .replace(/</g, "\\u003C")
      .replace(/>/g, "\\u003E")
      .replace(/&/g, "\\u0026")
      .replace(/'/g, "\\u0027") +
    "\"")

const xmlEscape = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (c) => c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === "\"" ? "&quot;" : "&#039;"
  )

const xmlScalar = (value: unknown): string => {
  if (value === true) return "1"
  if (value === false || value === null || value === undefined) return ""
  return xmlEscape(String(value))
}

const xmlBody = (value: unknown): string => {
  if (value === null || typeof value !== "object") return xmlScalar(value)
  let out = ""
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    const tag = /^\d+$/.test(key) ? "item" : key
    out += `<${tag}>${xmlBody(item)}</${tag}>`
  }
  return out
}

/**
 * The XML transport (wire sheet §1.4): the payload inside `<response>`, integer keys as `<item>`, `true` as `1`,
 * `false` and `null` empty, text escaped.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeXml = (value: unknown): string =>
  `<?xml version="1.0" encoding="utf-8"?><response>${xmlBody(value)}</response>`

/**
 * Encodes a payload for a transport: {@link encodeJson} or {@link encodeXml}.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encode = (transport: Transport, payload: unknown): string =>
  transport === "xml" ? encodeXml(payload) : encodeJson(payload)
