/**
 * The Bitrix24 REST wire format as a client needs it: the envelope schemas and the `time` block, the parameter
 * primitives every method shares (Y/N flags, positive IDs, dialog IDs), method-name normalisation, PHP bracket
 * encoding, and the nesting limit untrusted params are held to. Facts from docs/bitrix24-wire.md §1. Servers read
 * requests with `WireRequest` and write answers with `Envelope`.
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

/** An integer sent as a JSON number, or as a decimal string in form and query encodings. */
const decimalInt = Schema.Union(
  Schema.Number,
  Schema.String.pipe(
    Schema.pattern(/^\d+$/, { message: () => "must be a decimal integer" }),
    Schema.compose(Schema.NumberFromString)
  )
).pipe(Schema.compose(Schema.Int))

/**
 * A positive integer identifier (chat, session, user, message). On the wire it may arrive as a JSON number or, in
 * form and query encodings, as a decimal string; it is always sent as a JSON number.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Id = decimalInt.pipe(
  Schema.positive({ message: () => "must be a positive integer" })
).annotations({ identifier: "Id", [KindAnnotationId]: "integer" })

/**
 * A non-negative integer (a count, an offset, a Unix time, a user ID where 0 means "none"). Like {@link Id}, it may
 * arrive as a JSON number or as a decimal string (form and query encodings) and is sent as a JSON number.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Count = decimalInt.pipe(
  Schema.nonNegative({ message: () => "must be a non-negative integer" })
).annotations({ identifier: "Count", [KindAnnotationId]: "integer" })

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
 * A boolean sent as the number `1` or `0`, for params the portal reads with PHP's `empty()` (`imconnector.activate`'s
 * `ACTIVE`: any non-empty value, `"N"` and `"false"` included, switches the connector on, events sheet §5.2, §6 #10).
 * Only `1`/`0` (or their strings, from a form) are accepted on the wire side.
 *
 * @since 0.1.0
 * @category schemas
 */
export const OneZero = Schema.transform(
  Schema.Literal(1, 0, "1", "0").annotations({ message: () => "must be 1 or 0" }),
  Schema.Boolean,
  {
    strict: true,
    decode: (flag) => flag === 1 || flag === "1",
    encode: (on) => (on ? 1 as const : 0 as const)
  }
).annotations({ identifier: "OneZero", [KindAnnotationId]: "flag" })

/**
 * A number the portal usually sends as a JSON number and sometimes as a decimal string (form bodies, database
 * values). Decodes to a number; encodes as a number.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Numeric = Schema.Union(Schema.Number, Schema.NumberFromString)

/**
 * A PHP associative array: a JSON object, or `[]` when it is empty (PHP's `json_encode` writes an empty array as a
 * list, wire sheet §1.4). Decodes to a record either way.
 *
 * @since 0.1.0
 * @category schemas
 */
export const phpMap = <V extends Schema.Schema.Any>(value: V) => {
  const record = Schema.Record({ key: Schema.String, value })
  return Schema.Union(
    record,
    Schema.transform(Schema.Tuple(), record, {
      strict: true,
      decode: () => ({}),
      encode: () => [] as const
    })
  )
}

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
export const encodeQuery = (params: Params): string => {
  const flat = encodeFlatQuery(params)
  return flat !== undefined ? flat : Qs.stringify(params, {
    arrayFormat: "indices",
    encodeValuesOnly: false,
    filter: (_key, value) => (typeof value === "boolean" ? (value ? "1" : "0") : value)
  })
}

/** The characters `encodeURIComponent` leaves as they are and `qs` (RFC 3986) escapes. */
const subDelimiters = /[!'()*]/g
const escapeSubDelimiter = (char: string) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`

/** `qs`'s RFC 3986 percent-encoding of a key or scalar value; `undefined` for a string with a lone surrogate. */
const encodeComponent = (text: string): string | undefined => {
  try {
    return encodeURIComponent(text).replace(subDelimiters, escapeSubDelimiter)
  } catch {
    return undefined
  }
}

/**
 * {@link encodeQuery} for flat params (strings, numbers, booleans, `null`, `undefined`; the common case of a batch
 * command), without `qs`; `undefined` for anything else. Byte for byte what `qs` writes (a property test holds the
 * two together): `key=value` pairs in key order, `null` as an empty value, `undefined` left out.
 */
const encodeFlatQuery = (params: Params): string | undefined => {
  let query = ""
  for (const key of Object.keys(params)) {
    const value = params[key]
    let text: string
    switch (typeof value) {
      case "undefined":
        continue
      case "string":
        text = value
        break
      case "number":
        text = String(value)
        break
      case "boolean":
        text = value ? "1" : "0"
        break
      default:
        if (value !== null) return undefined
        text = ""
    }
    const name = encodeComponent(key)
    const encoded = encodeComponent(text)
    if (name === undefined || encoded === undefined) return undefined
    query += query.length === 0 ? `${name}=${encoded}` : `&${name}=${encoded}`
  }
  return query
}

/**
 * The deepest params may nest, counting the params object itself as the first level: PHP's `json_decode` depth (512
 * by default), the deepest any encoding carries to the portal (a deeper JSON body is dropped whole, wire sheet §1.2).
 * Deeper params are refused before they are decoded, so nothing that reads them can overflow the stack.
 *
 * @since 0.1.0
 * @category limits
 */
export const maxDepth = 512

/**
 * The top-level param of `params` nested deeper than `limit` levels in all (the params object is the first level),
 * or `undefined` when none is. Measured without recursion, each object visited once, so it is safe on any input; a
 * cycle counts as too deep.
 *
 * @since 0.1.0
 * @category limits
 */
export const tooDeep = (params: unknown, limit: number = maxDepth): string | undefined => {
  if (params === null || typeof params !== "object") return undefined
  const heights = new Map<object, number>()
  for (const key of Object.keys(params)) {
    if (1 + height((params as Record<string, unknown>)[key], limit - 1, heights) > limit) return key
  }
  return undefined
}

interface Frame {
  readonly node: object
  readonly children: ReadonlyArray<unknown>
  index: number
  height: number
}

/**
 * How many levels of objects and arrays `value` nests (0 for a scalar), or `limit + 1` as soon as it is known to be
 * more than `limit`. Iterative post-order walk; finished objects are remembered in `heights`.
 */
const height = (value: unknown, limit: number, heights: Map<object, number>): number => {
  if (value === null || typeof value !== "object") return 0
  const known = heights.get(value)
  if (known !== undefined) return known
  if (limit < 1) return limit + 1
  const open = new Set<object>([value])
  const stack: Array<Frame> = [{ node: value, children: Object.values(value), index: 0, height: 1 }]
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!
    if (frame.index < frame.children.length) {
      const child = frame.children[frame.index++]
      if (child === null || typeof child !== "object") continue
      const done = heights.get(child)
      if (done !== undefined) {
        frame.height = Math.max(frame.height, done + 1)
      } else if (open.has(child) || stack.length >= limit) {
        return limit + 1
      } else {
        open.add(child)
        stack.push({ node: child, children: Object.values(child), index: 0, height: 1 })
        continue
      }
    } else {
      stack.pop()
      open.delete(frame.node)
      heights.set(frame.node, frame.height)
      const parent = stack[stack.length - 1]
      if (parent !== undefined) parent.height = Math.max(parent.height, frame.height + 1)
    }
    if (frame.height > limit) return limit + 1
  }
  return heights.get(value)!
}
