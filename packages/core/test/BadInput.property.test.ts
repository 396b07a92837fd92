/**
 * Bad input never crashes: generated requests and params (fast-check) against the wire parsers (`WireRequest`:
 * query strings, form bodies with PHP bracket keys, multipart, JSON, through `requestParams`) and every declaration's
 * `decodeParams`. Every input is read, or refused with `ParamsRefused` / `InvalidParams`, each of which maps to the
 * portal's envelope; nothing throws or dies, nothing deeper than the limits gets through, and no error quotes a
 * large part of its input. At least 10,000 inputs run in all (the last test counts them).
 */
import { describe, it } from "@effect/vitest"
import { assertTrue, strictEqual } from "@effect/vitest/utils"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as fc from "fast-check"
import * as Catalog from "../src/Catalog.js"
import * as Method from "../src/Method.js"
import * as Wire from "../src/Wire.js"
import * as WireRequest from "../src/WireRequest.js"

let inputs = 0

/** A message that quotes its input would be as long as the input: errors stay short whatever comes in. */
const maxMessage = 1_000

// ---------------------------------------------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------------------------------------------

const nastyStrings = [
  "",
  " ",
  "0",
  "-0",
  "00",
  " 12",
  "1e3",
  "1e309",
  "NaN",
  "9".repeat(400),
  "Y",
  "N",
  "true",
  "chat0",
  "chat1489",
  "sg",
  "__proto__",
  "constructor",
  "prototype",
  "hasOwnProperty",
  "toString",
  "$result[a][ID]",
  "$error[",
  "%",
  "%ZZ",
  "%5B",
  "%5D",
  "[",
  "]",
  "[]",
  "[[",
  "]]",
  "a[",
  "=",
  "&",
  "&&",
  "?",
  "#",
  "+",
  "\u0000",
  "\r\n\r\n",
  "\uD800",
  "\uDC00",
  "\uFEFF",
  "ü",
  "😀",
  "'\"<>&/\\"
]

const nastyString = fc.oneof(
  fc.constantFrom(...nastyStrings),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: "binary", maxLength: 12 }),
  fc.string({ unit: "grapheme", maxLength: 8 })
)

const fieldNames = [...new Set(Catalog.methods.flatMap((method) => Object.keys(method.params)))]

const key = fc.oneof(
  fc.constantFrom(...fieldNames),
  fc.constantFrom(...fieldNames).map((k) => k.toLowerCase()),
  nastyString
)

const scalar = fc.oneof(
  nastyString,
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, 1, -1, 2043, 1489, Number.MAX_SAFE_INTEGER, 2 ** 64, 1e-7),
  fc.boolean(),
  fc.constant(null)
)

/** Nesting around every limit (64 bracket levels, 512 JSON levels) and past them. */
const depth = fc.oneof(
  fc.integer({ min: 0, max: 8 }),
  fc.integer({ min: 60, max: 70 }),
  fc.integer({ min: Wire.maxDepth - 4, max: Wire.maxDepth + 4 }),
  fc.integer({ min: 600, max: 1_500 })
)

/** Deeper still for values built in memory (cheap to build): formatting these overflowed the stack once. */
const valueDepth = fc.oneof(depth, fc.integer({ min: 2_000, max: 20_000 }))

/** A value nested `depth` levels deep, through arrays and objects in a generated pattern. */
const deep = fc.record({
  depth: valueDepth,
  pattern: fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }),
  leaf: scalar,
  key
})
  .map(({ depth, key, leaf, pattern }) => {
    let value: unknown = leaf
    for (let i = 0; i < depth; i++) value = pattern[i % pattern.length] ? [value] : { [key]: value }
    return value
  })

/** Many elements or keys at one level. */
const wide = fc.record({ size: fc.integer({ min: 0, max: 1_000 }), list: fc.boolean(), leaf: scalar }).map(
  ({ leaf, list, size }) =>
    list
      ? Array.from({ length: size }, (_, i) => (i % 3 === 0 ? leaf : i))
      : Object.fromEntries(Array.from({ length: size }, (_, i) => [`k${i}`, i % 2 === 0 ? leaf : [i]]))
)

const value = fc.oneof(
  { weight: 4, arbitrary: scalar },
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 2, arbitrary: deep },
  { weight: 1, arbitrary: wide },
  {
    weight: 1,
    arbitrary: fc.anything({ maxDepth: 3, withBigInt: true, withNullPrototype: true, withSparseArray: true })
  }
)

/** Params as a client could send them: mostly records of declared and nasty keys, sometimes not a record at all. */
const params = fc.oneof(
  { weight: 8, arbitrary: fc.dictionary(key, value, { maxKeys: 6 }) },
  { weight: 1, arbitrary: value }
)

/** One `key=value` of a query string or form body: bracket keys of any depth, brackets raw or percent-encoded. */
const pair = fc.record({
  root: fc.oneof(fc.constantFrom(...fieldNames), nastyString),
  segments: fc.oneof(
    fc.array(fc.oneof(fc.constant(""), fc.constantFrom("0", "1", "a", "__proto__"), nastyString), { maxLength: 6 }),
    fc.record({ n: depth, segment: fc.constantFrom("", "a", "0") }).map(({ n, segment }) => Array(n).fill(segment))
  ),
  brackets: fc.constantFrom("raw", "encoded", "lower"),
  value: nastyString,
  encodeValue: fc.boolean()
}).map(({ brackets, encodeValue, root, segments, value }) => {
  const [open, close] = brackets === "raw" ? ["[", "]"] : brackets === "encoded" ? ["%5B", "%5D"] : ["%5b", "%5d"]
  const name = encode(root) + segments.map((s) => `${open}${encode(s)}${close}`).join("")
  return `${name}=${encodeValue ? encode(value) : value}`
})

const query = fc.oneof(
  { weight: 4, arbitrary: fc.array(pair, { maxLength: 6 }).map((pairs) => pairs.join("&")) },
  { weight: 1, arbitrary: nastyString }
)

const multipart = fc.record({
  boundary: fc.constantFrom("XB", "----b0undary", "a;b", "=="),
  parts: fc.array(fc.record({ field: pair, file: fc.boolean() }), { maxLength: 5 }),
  truncate: fc.boolean()
}).map(({ boundary, parts, truncate }) => {
  const body = parts.map(({ field, file }) => {
    const at = field.indexOf("=")
    const name = decodeURIComponentSafe(field.slice(0, at))
    const disposition = `Content-Disposition: form-data; name="${name}"${file ? "; filename=\"x.txt\"" : ""}`
    return `--${boundary}\r\n${disposition}\r\n\r\n${field.slice(at + 1)}\r\n`
  }).join("") + `--${boundary}--\r\n`
  return { contentType: `multipart/form-data; boundary=${boundary}`, body: truncate ? body.slice(0, -7) : body }
})

/** JSON bodies: generated params (deep ones written directly: stringifying them would dominate the run time). */
const json = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.dictionary(key, fc.oneof(scalar, fc.jsonValue({ maxDepth: 4 }), wide), { maxKeys: 6 }).map(
      (p) => JSON.stringify(p)
    )
  },
  {
    weight: 1,
    arbitrary: fc.record({ key, n: depth, open: fc.constantFrom("[", "{\"k\":") }).map(({ key, n, open }) =>
      `{${JSON.stringify(key)}:${open.repeat(n)}1${(open === "[" ? "]" : "}").repeat(n)}}`
    )
  },
  { weight: 1, arbitrary: nastyString }
)

interface Request {
  readonly method: string
  readonly search: string
  readonly contentType: string | undefined
  readonly body: string
}

/** Whole requests as a server reads them, by encoding, with how many of each to generate. */
const requests: ReadonlyArray<readonly [string, number, fc.Arbitrary<Request>]> = [
  [
    "a GET query string",
    600,
    query.map((search) => ({ method: "GET", search: `?${search}`, contentType: undefined, body: "" }))
  ],
  [
    "a form body over a query string",
    700,
    fc.record({ search: query, body: query, type: fc.constantFrom("application/x-www-form-urlencoded", undefined) })
      .map(({ body, search, type }) => ({ method: "POST", search, contentType: type, body }))
  ],
  [
    "a JSON body",
    700,
    fc.record({ search: query, body: json, type: fc.constantFrom("application/json", "text/plain+json; charset=x") })
      .map(({ body, search, type }) => ({ method: "POST", search, contentType: type, body }))
  ],
  [
    "a multipart body",
    700,
    fc.record({ search: query, form: multipart }).map(({ form, search }) => ({
      method: "POST",
      search,
      contentType: form.contentType,
      body: form.body
    }))
  ],
  [
    "a PUT, whose body is not read",
    300,
    fc.record({ search: query, body: json }).map(({ body, search }) => ({
      method: "PUT",
      search,
      contentType: "application/json",
      body
    }))
  ]
]

/** Percent-encodes, or leaves as is what cannot be (a lone surrogate): the server must read both. */
function encode(text: string): string {
  try {
    return encodeURIComponent(text)
  } catch {
    return text
  }
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------------------------

/** Decodes params with a declaration: a value (that encodes again), or InvalidParams with an envelope; no defect. */
const checkDecode = (method: Method.Any, input: unknown): void => {
  const exit = Effect.runSyncExit(method.decodeParams(input))
  if (Exit.isSuccess(exit)) {
    assertTrue(Either.isRight(method.encodeParamsEither(exit.value)), `${method.method}: decoded params encode`)
    return
  }
  if (!Cause.isFailType(exit.cause)) {
    throw new Error(`${method.method}: not a typed failure: ${Cause.pretty(exit.cause)}`)
  }
  const error = exit.cause.error
  strictEqual(error._tag, "InvalidParams")
  assertTrue(error.message.length < maxMessage, "a short message")
  const reply = Method.invalidParamsToWire(method, error)
  assertTrue(reply.status >= 400 && reply.status < 500 && reply.body.error.length > 0, "an error envelope")
}

const runs = (n: number, property: fc.IProperty<any>) => {
  fc.assert(property, { numRuns: n })
  inputs += n
}

const someMethod = fc.constantFrom(...Catalog.methods)

describe("the wire parsers never throw (fast-check)", () => {
  for (const [name, n, request] of requests) {
    it(`requestParams reads or refuses ${name}; what it reads is within the limits and decodes or fails typed`, () =>
      runs(
        n,
        fc.property(request, someMethod, (input, method) => {
          const read = WireRequest.requestParams(input)
          if (Either.isLeft(read)) {
            const reply = WireRequest.refusalReply(method.method, read.left)
            strictEqual(reply.status, 400)
            assertTrue(reply.body.error.length > 0)
            assertTrue(read.left.message.length < maxMessage)
            return
          }
          const params = read.right
          assertTrue(params !== null && typeof params === "object" && !Array.isArray(params))
          strictEqual(Wire.tooDeep(params), undefined)
          checkDecode(method, params)
        })
      ))
  }

  it("parseQuery nests bracket keys up to maxKeyNesting levels and refuses deeper ones, naming a param", () =>
    runs(
      1_500,
      fc.property(query, (search) => {
        const read = WireRequest.parseQuery(search)
        if (Either.isRight(read)) strictEqual(Wire.tooDeep(read.right, WireRequest.maxKeyNesting + 1), undefined)
        else strictEqual(read.left.reason, "TooDeep")
      })
    ))
})

describe("every declaration's decodeParams never throws (fast-check)", () => {
  const perMethod = Math.ceil(5_500 / Catalog.methods.length)
  for (const method of Catalog.methods) {
    it(`${method.method}: decodes or fails with InvalidParams, deep, wide and nasty input alike`, () =>
      runs(perMethod, fc.property(params, (input) => checkDecode(method, input))))
  }
})

describe("the property suite's size", () => {
  it("ran at least 10,000 generated inputs", () => {
    assertTrue(inputs >= 10_000, `${inputs} inputs`)
  })
})
