/**
 * Reading a REST request the way the portal's server does, for code that answers REST calls (the emulator, the
 * proxy; a client never needs it): the URL forms, the query string and form bodies in PHP `parse_str` syntax, JSON
 * and `multipart/form-data` bodies, the query/body merge, and the credential params (wire sheet §1.1, §1.2).
 *
 * Untrusted input meets explicit limits, each refused with {@link ParamsRefused} (which a server answers with the
 * portal's own 400 envelope, {@link refusalReply}) instead of being reshaped: bracket keys nested deeper than
 * {@link maxKeyNesting}, a JSON body nested deeper than `Wire.maxDepth`, a body larger than {@link maxBodyBytes}.
 * The limits are checked before any param is decoded, and nothing here recurses deeper than they allow.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Qs from "qs"
import * as Catalog from "./Catalog.js"
import * as Envelope from "./Envelope.js"
import * as Method from "./Method.js"
import * as PortalError from "./PortalError.js"
import * as Wire from "./Wire.js"

// ---------------------------------------------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------------------------------------------

/**
 * The most bracket levels a key of a query string, form or multipart body may have (`a[b][c]` has two). PHP's
 * `max_input_nesting_level` (64 by default) is the portal's limit: PHP drops a deeper variable without a word; here
 * it is refused.
 *
 * @since 0.1.0
 * @category limits
 */
export const maxKeyNesting = 64

/**
 * The largest request body read, in bytes: PHP's `post_max_size` default (`8M`), past which PHP drops the whole body.
 * Here such a body is refused (servers stop reading it there).
 *
 * @since 0.1.0
 * @category limits
 */
export const maxBodyBytes = 8 * 1024 * 1024

/**
 * A request's params were refused before decoding: `TooDeep` (bracket keys deeper than {@link maxKeyNesting}, JSON
 * deeper than `Wire.maxDepth`) or `TooLarge` (a body over {@link maxBodyBytes}). `field` names the top-level param
 * that was too deep, or is `""` for the whole body. The description never contains the value.
 *
 * @since 0.1.0
 * @category errors
 */
export class ParamsRefused extends Schema.TaggedError<ParamsRefused>("@bitrix24-effect/core/ParamsRefused")(
  "ParamsRefused",
  {
    reason: Schema.Literal("TooDeep", "TooLarge"),
    field: Schema.String,
    description: Schema.String
  }
) {
  override get message(): string {
    return this.field === "" ? this.description : `${this.field}: ${this.description}`
  }
}

/**
 * The refusal as the `InvalidParams` of a method, for code that reports bad input that way (`b24 call`).
 *
 * @since 0.1.0
 * @category errors
 */
export const toInvalidParams = (method: string, refused: ParamsRefused): PortalError.InvalidParams =>
  new PortalError.InvalidParams({ method, field: refused.field, missing: false, reason: refused.description })

/**
 * The envelope a server answers a refusal with: HTTP 400 and, for a declared method, the documented code for the
 * refused field (the declaration's `invalid` mapping, as `Method.invalidParamsToWire`), else `ERROR_ARGUMENT` with
 * `argument` (wire sheet §1.5).
 *
 * @since 0.1.0
 * @category errors
 */
export const refusalReply = (method: string, refused: ParamsRefused): Envelope.ErrorReply => {
  const declared = Catalog.find(method)
  const reply = declared === undefined
    ? Envelope.invalidArgument(refused.field, refused.description)
    : Method.invalidParamsToWire(declared, toInvalidParams(declared.method, refused))
  return { ...reply, status: 400 }
}

/**
 * The refusal of a body larger than {@link maxBodyBytes}, also for servers that stop reading such a body.
 *
 * @since 0.1.0
 * @category errors
 */
export const bodyTooLarge: ParamsRefused = new ParamsRefused({
  reason: "TooLarge",
  field: "",
  description: `the request body is larger than ${maxBodyBytes} bytes`
})

/**
 * Reads a request body as UTF-8 text, at most {@link maxBodyBytes}: past that the rest is read and dropped (so the
 * connection stays usable for the answer) and the body is refused with {@link bodyTooLarge}. Fails only as the
 * stream does (a broken connection).
 *
 * @since 0.1.0
 * @category parsing
 */
export const readBody = <E, R>(
  body: Stream.Stream<Uint8Array, E, R>
): Effect.Effect<Either.Either<string, ParamsRefused>, E, R> =>
  Stream.runFold(body, { chunks: [] as Array<Uint8Array> | undefined, size: 0 }, (read, chunk) => {
    read.size += chunk.length
    if (read.size > maxBodyBytes) read.chunks = undefined
    else read.chunks?.push(chunk)
    return read
  }).pipe(
    Effect.map((read) => {
      if (read.chunks === undefined) return Either.left(bodyTooLarge)
      const bytes = new Uint8Array(read.size)
      let at = 0
      for (const chunk of read.chunks) {
        bytes.set(chunk, at)
        at += chunk.length
      }
      return Either.right(decoder.decode(bytes))
    })
  )

const decoder = new TextDecoder()

// ---------------------------------------------------------------------------------------------------------------
// Query strings and form bodies
// ---------------------------------------------------------------------------------------------------------------

/**
 * qs with PHP's reading and no silent limit: nesting past `depth` throws (`strictDepth`) instead of leaving the rest
 * as a literal key; no parameter count limit (the body size bounds it); every array index becomes an object key
 * (`arrayLimit: 0`), and `toPhpArrays` turns the sequential ones into lists, so no index is reshaped either; a
 * repeated plain key keeps its last value, as PHP does.
 */
const qsOptions: Qs.IParseOptions & { readonly strictDepth: boolean; readonly duplicates: "last" } = {
  depth: maxKeyNesting,
  strictDepth: true,
  arrayLimit: 0,
  parameterLimit: Infinity,
  duplicates: "last",
  allowPrototypes: false,
  plainObjects: true
}

/** The root name of the first parameter whose key nests too deeply, for the refusal (a refusal path only). */
const tooDeepKey = (query: string): string => {
  for (const part of query.split("&")) {
    try {
      Qs.parse(part, qsOptions)
    } catch {
      const name = Object.keys(Qs.parse(part, { ...qsOptions, depth: 0 }))[0] ?? ""
      const bracket = name.indexOf("[")
      return bracket === -1 ? name : name.slice(0, bracket)
    }
  }
  return ""
}

/**
 * Parses a query string or form body the way PHP's `parse_str` does: bracket keys nest, and a level whose keys are
 * exactly `0..n-1` becomes a list (PHP's `json_encode` makes such arrays JSON lists, wire sheet §1.4). A key nested
 * deeper than {@link maxKeyNesting} is refused.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseQuery = (query: string): Either.Either<Record<string, unknown>, ParamsRefused> => {
  const text = query.startsWith("?") ? query.slice(1) : query
  let parsed: unknown
  try {
    parsed = Qs.parse(text, qsOptions)
  } catch {
    return Either.left(
      new ParamsRefused({
        reason: "TooDeep",
        field: tooDeepKey(text),
        description: `a key is nested deeper than ${maxKeyNesting} levels`
      })
    )
  }
  // The params themselves stay a map (`0=a` is the param "0"); the levels below follow PHP's array rules.
  const params: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) params[key] = toPhpArrays(value)
  return Either.right(params)
}

/** Sequential keys to lists, on qs's output (at most {@link maxKeyNesting} levels deep, so recursion is safe). */
const toPhpArrays = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(toPhpArrays)
  if (value === null || typeof value !== "object") return value
  const entries = Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, toPhpArrays(v)] as const)
  const sequential = entries.length > 0 && entries.every(([k], i) => k === String(i))
  return sequential ? entries.map(([, v]) => v) : Object.fromEntries(entries)
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
    return [`${encodeURIComponent(wellFormed(name[1]!))}=${encodeURIComponent(wellFormed(value))}`]
  }).join("&")

/** Lone surrogates as U+FFFD, as a UTF-8 decoder reads them (`encodeURIComponent` throws on them). */
const wellFormed = (text: string): string =>
  text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD")

/**
 * Builds a call's params the way the server does (wire sheet §1.2): the query string first; for a POST, a
 * `multipart/form-data` body (text fields), a JSON body (`application/json` or `+json`, decoded strictly and silently
 * ignored unless it is an object or array) or else a form / raw body parsed with PHP bracket syntax, whose keys
 * override the query's. Refused, before any param is decoded: a body over {@link maxBodyBytes} characters, bracket
 * keys deeper than {@link maxKeyNesting}, a JSON body deeper than `Wire.maxDepth` (PHP's `json_decode` depth).
 *
 * @since 0.1.0
 * @category parsing
 */
export const requestParams = (request: {
  readonly method: string
  readonly search: string
  readonly contentType: string | undefined
  readonly body: string
}): Either.Either<Record<string, unknown>, ParamsRefused> =>
  Either.flatMap(parseQuery(request.search), (query) => {
    if (request.method.toUpperCase() !== "POST" || request.body.length === 0) return Either.right(query)
    if (request.body.length > maxBodyBytes) return Either.left(bodyTooLarge)
    const contentType = request.contentType ?? ""
    const boundary = /^multipart\/form-data;.*boundary="?([^";]+)"?/i.exec(contentType)
    if (boundary !== null) {
      return Either.map(parseQuery(multipartFields(request.body, boundary[1]!)), (body) => ({ ...query, ...body }))
    }
    if (/application\/json|\+json/i.test(contentType)) {
      let parsed: unknown
      try {
        parsed = JSON.parse(request.body)
      } catch {
        return Either.right(query)
      }
      if (parsed === null || typeof parsed !== "object") return Either.right(query)
      const field = Wire.tooDeep(parsed)
      if (field !== undefined) {
        return Either.left(
          new ParamsRefused({
            reason: "TooDeep",
            field,
            description: `the value is nested deeper than ${Wire.maxDepth} levels`
          })
        )
      }
      return Either.right({ ...query, ...parsed })
    }
    return Either.map(parseQuery(request.body), (body) => ({ ...query, ...body }))
  })

// ---------------------------------------------------------------------------------------------------------------
// Routes and credentials
// ---------------------------------------------------------------------------------------------------------------

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
 * The params that carry credentials (OAuth token, webhook login and code): stripped before a call is handled,
 * journaled or forwarded.
 *
 * @since 0.1.0
 * @category routing
 */
export const credentialParams: ReadonlySet<string> = new Set(["auth", "access_token", "aplogin", "ap"])
