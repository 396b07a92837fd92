/**
 * The Bitrix24 REST wire format: envelopes, the `time` block, the parameter primitives every method shares
 * (Y/N flags, positive IDs, dialog IDs), method-name normalisation and PHP bracket encoding.
 * Facts from docs/bitrix24-wire.md §1; the emulator, the HTTP layer and the proxy all read the wire through here.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as Qs from "qs"

/**
 * Annotation key recording a parameter's kind (`integer`, `flag` or `text`), read when CLI options and reference
 * docs are derived from a declaration.
 *
 * @since 0.1.0
 * @category annotations
 */
export const KindAnnotationId: unique symbol = Symbol.for("@bitrix24-effect/core/Wire/kind")

/**
 * The `time` block of a success envelope (wire sheet §1.4). Seconds throughout: `start` and `processing` are
 * integers since rest 25.700, `finish` and `duration` floats. `operating` (float seconds of execution time used by
 * this auth entity on this method in the current 10-minute window) and `operating_reset_at` (Unix seconds) are
 * present in the cloud and absent on self-hosted portals without the load limiter.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Time = Schema.Struct({
  start: Schema.Number,
  finish: Schema.Number,
  duration: Schema.Number,
  processing: Schema.Number,
  date_start: Schema.String,
  date_finish: Schema.String,
  operating_reset_at: Schema.optional(Schema.Number),
  operating: Schema.optional(Schema.Number)
}).annotations({ identifier: "Time" })

/**
 * @since 0.1.0
 * @category models
 */
export type Time = typeof Time.Type

/**
 * A success envelope: `{ result, time }`, plus `next` and `total` for list methods (wire sheet §1.4).
 *
 * @since 0.1.0
 * @category schemas
 */
export const SuccessEnvelope = Schema.Struct({
  result: Schema.Unknown,
  time: Schema.optional(Time),
  next: Schema.optional(Schema.Number),
  total: Schema.optional(Schema.Number)
}).pipe(Schema.filter((envelope) => envelope.result !== undefined || "the result key is missing"))

/**
 * An error envelope: `{ error, error_description }`, never with `time` (wire sheet §1.5). Extra keys (such as
 * `argument` for `ERROR_ARGUMENT`) are allowed.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ErrorEnvelope = Schema.Struct({
  error: Schema.String,
  error_description: Schema.optionalWith(Schema.String, { default: () => "" })
})

/**
 * Either envelope, told apart by the `error` key.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Envelope = Schema.Union(ErrorEnvelope, SuccessEnvelope)

/**
 * A Y/N flag: `true`/`false` in the typed API, the exact strings `"Y"`/`"N"` on the wire. The server compares
 * these strings literally, so JSON `true` would mean "off" for silent mode and `false` would pin or mute
 * (wire sheet §1.3); only the two strings are accepted.
 *
 * @since 0.1.0
 * @category schemas
 */
export const YesNo = Schema.transform(
  Schema.Literal("Y", "N").annotations({ message: () => "must be the string \"Y\" or \"N\"" }),
  Schema.Boolean,
  {
    strict: true,
    decode: (flag) => flag === "Y",
    encode: (on) => (on ? "Y" as const : "N" as const)
  }
).annotations({ identifier: "YesNo", [KindAnnotationId]: "flag" })

/**
 * A positive integer identifier (chat, session, user, message). On the wire it may arrive as a JSON number or, in
 * form and query encodings, as a decimal string; it is always sent as a JSON number.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Id = Schema.Union(
  Schema.Number,
  Schema.String.pipe(
    Schema.pattern(/^\d+$/, { message: () => "must be a decimal integer" }),
    Schema.compose(Schema.NumberFromString)
  )
).pipe(
  Schema.compose(Schema.Int),
  Schema.positive({ message: () => "must be a positive integer" })
).annotations({ identifier: "Id", [KindAnnotationId]: "integer" })

/**
 * A `DIALOG_ID`: `chat<N>` for a chat, `sg<N>` for a group or project chat, or a user ID for a private dialog
 * (`seeds/003`). A bare number is accepted and sent as its decimal string.
 *
 * @since 0.1.0
 * @category schemas
 */
export const DialogId = Schema.Union(
  Schema.String,
  Schema.transform(Schema.Int, Schema.String, { strict: true, decode: (n) => String(n), encode: (s) => Number(s) })
).pipe(
  Schema.compose(
    Schema.String.pipe(
      Schema.pattern(/^(chat[1-9]\d*|sg[1-9]\d*|[1-9]\d*)$/, { message: () => "must be chat<N>, sg<N> or a user ID" })
    )
  )
).annotations({ identifier: "DialogId", [KindAnnotationId]: "text" })

/**
 * Reads the parameter kind recorded on a schema (see {@link KindAnnotationId}).
 *
 * @since 0.1.0
 * @category annotations
 */
export const kindOf = (schema: Schema.Schema.Any): "integer" | "flag" | "text" => {
  const value = schema.ast.annotations[KindAnnotationId]
  return value === "integer" || value === "flag" ? value : "text"
}

/**
 * The wire name of a method as the router sees it: lowercased, with a `.json` or `.xml` transport suffix removed
 * (wire sheet §1.1). Any other suffix stays part of the name.
 *
 * @since 0.1.0
 * @category methods
 */
export const normalizeMethod = (raw: string): { readonly method: string; readonly transport: "json" | "xml" } => {
  const lower = raw.replace(/\/+$/, "").toLowerCase()
  const dot = lower.lastIndexOf(".")
  const suffix = dot === -1 ? "" : lower.slice(dot + 1)
  if (suffix === "json" || suffix === "xml") return { method: lower.slice(0, dot), transport: suffix }
  return { method: lower, transport: "json" }
}

/**
 * Parameters as they travel: a JSON-like tree with string keys.
 *
 * @since 0.1.0
 * @category models
 */
export type Params = Readonly<Record<string, unknown>>

/**
 * Encodes params the way PHP's `http_build_query` does, with bracket keys for nested values
 * (`fields[TITLE]=x&select[0]=ID`, wire sheet §1.2). `true`/`false` become `1`/`0`, as PHP sends them.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeQuery = (params: Params): string =>
  Qs.stringify(params, {
    arrayFormat: "indices",
    encodeValuesOnly: false,
    filter: (_key, value) => (typeof value === "boolean" ? (value ? "1" : "0") : value)
  })

/**
 * Parses a query string or form body the way PHP's `parse_str` does: bracket keys nest, and a level whose keys are
 * exactly `0..n-1` becomes a list (PHP's `json_encode` makes such arrays JSON lists, wire sheet §1.4).
 *
 * @since 0.1.0
 * @category encoding
 */
export const parseQuery = (query: string): Record<string, unknown> =>
  toPhpArrays(
    Qs.parse(query.startsWith("?") ? query.slice(1) : query, {
      depth: 32,
      arrayLimit: 0,
      parameterLimit: 100_000,
      allowPrototypes: false,
      plainObjects: true
    })
  ) as Record<string, unknown>

const toPhpArrays = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(toPhpArrays)
  if (value === null || typeof value !== "object") return value
  const entries = Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, toPhpArrays(v)] as const)
  const sequential = entries.length > 0 && entries.every(([k], i) => k === String(i))
  return sequential ? entries.map(([, v]) => v) : Object.fromEntries(entries)
}

/**
 * A REST path as the portal's router reads it (wire sheet §1.1): `/rest/{user}/{code}/{method}` for an inbound
 * webhook, `/rest/{method}` for OAuth, each with an optional trailing slash. `method` is as written (not yet
 * normalised).
 *
 * @since 0.1.0
 * @category routing
 */
export type RestPath =
  | { readonly kind: "webhook"; readonly user: string; readonly code: string; readonly method: string }
  | { readonly kind: "oauth"; readonly method: string }

const webhookPath = /^\/rest\/([^/]+)\/([^/]+)\/([^/]+?)\/?$/
const oauthPath = /^\/rest\/([^/]+?)\/?$/

/**
 * Reads a REST path, or `undefined` when it is not one.
 *
 * @since 0.1.0
 * @category routing
 */
export const parseRestPath = (pathname: string): RestPath | undefined => {
  try {
    let match = webhookPath.exec(pathname)
    if (match) {
      return {
        kind: "webhook",
        user: decodeURIComponent(match[1]!),
        code: decodeURIComponent(match[2]!),
        method: decodeURIComponent(match[3]!)
      }
    }
    match = oauthPath.exec(pathname)
    if (match) return { kind: "oauth", method: decodeURIComponent(match[1]!) }
  } catch {
    // a malformed percent-escape is not a REST path
  }
  return undefined
}

/**
 * Builds a call's params the way the server does (wire sheet §1.2): the query string first; for a POST, a
 * `multipart/form-data` body (text fields), a JSON body (`application/json` or `+json`, decoded strictly and silently
 * ignored unless it is an object or array) or else a form / raw body parsed with PHP bracket syntax, whose keys
 * override the query's.
 *
 * @since 0.1.0
 * @category encoding
 */
export const requestParams = (request: {
  readonly method: string
  readonly search: string
  readonly contentType: string | undefined
  readonly body: string
}): Record<string, unknown> => {
  const query = parseQuery(request.search)
  if (request.method.toUpperCase() !== "POST" || request.body.length === 0) return query
  const contentType = (request.contentType ?? "").toLowerCase()
  const boundary = /^multipart\/form-data;.*boundary="?([^";]+)"?/i.exec(request.contentType ?? "")
  if (boundary !== null) return { ...query, ...parseQuery(multipartFields(request.body, boundary[1]!)) }
  if (/application\/json|\+json/.test(contentType)) {
    try {
      const parsed: unknown = JSON.parse(request.body)
      return parsed !== null && typeof parsed === "object" ? { ...query, ...parsed } : query
    } catch {
      return query
    }
  }
  return { ...query, ...parseQuery(request.body) }
}

/**
 * The text fields of a `multipart/form-data` body as a query string, so bracket keys nest as in a form body. File
 * parts are skipped: PHP puts them in `$_FILES`, not in the params.
 */
const multipartFields = (body: string, boundary: string): string =>
  body.split(`--${boundary}`).flatMap((part) => {
    const split = part.indexOf("\r\n\r\n")
    if (split === -1) return []
    const headers = part.slice(0, split)
    const name = /content-disposition:[^\r\n]*;\s*name="([^"]*)"/i.exec(headers)
    if (name === null || /;\s*filename=/i.test(headers)) return []
    const value = part.slice(split + 4).replace(/\r\n$/, "")
    return [`${encodeURIComponent(name[1]!)}=${encodeURIComponent(value)}`]
  }).join("&")

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

/**
 * The headers every REST response carries (wire sheet §1.4).
 *
 * @since 0.1.0
 * @category encoding
 */
export const responseHeaders: Readonly<Record<string, string>> = {
  "content-type": "application/json; charset=utf-8",
  "access-control-allow-origin": "*",
  "access-control-allow-headers": "origin, content-type, accept",
  "x-content-type-options": "nosniff"
}

/**
 * The params that carry credentials (OAuth token, webhook login and code): stripped before a call is handled,
 * journaled or forwarded.
 *
 * @since 0.1.0
 * @category encoding
 */
export const credentialParams: ReadonlySet<string> = new Set(["auth", "access_token", "aplogin", "ap"])
