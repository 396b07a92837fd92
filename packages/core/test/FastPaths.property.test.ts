/**
 * The hot path's shortcuts answer exactly what the general code answers (fast-check):
 * - `Method.encodeParamsEither` encodes IDs and Y/N flags without the schema interpreter (`internal/paramsEncoder`):
 *   for every declaration, whatever it answers equals the params schema's encoding, key order included, and it
 *   fails where the schema fails;
 * - `Wire.encodeQuery` writes flat params without `qs`: byte for byte what `qs` writes with the same options;
 * - `BatchProtocol.decodeResult` reads an answer as `JSON.parse` makes it without the schema interpreter: the same
 *   maps as the `BatchResult` schema, and the same refusals;
 * - `BatchProtocol.outcomeOf` checks a command's `time` block once per answer, without the schema interpreter for a
 *   plain object (`internal/wireTime`): the same verdict as `Schema.is(Wire.Time)`;
 * - `BatchProtocol.commandMethods` reads each command's method in one pass: what `commands`, `parseCommand` and
 *   `Wire.normalizeMethod` make of them.
 */
import { describe, it } from "@effect/vitest"
import { assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as fc from "fast-check"
import * as Qs from "qs"
import * as BatchProtocol from "../src/BatchProtocol.js"
import * as Catalog from "../src/Catalog.js"
import * as ParamsEncoder from "../src/internal/paramsEncoder.js"
import * as WireTime from "../src/internal/wireTime.js"
import * as Wire from "../src/Wire.js"

const strings = fc.oneof(
  fc.constantFrom("", "1", "0", "Y", "N", "chat1489", "sg7", "12", "a b", "$result[a]", "__proto__", "\uD800", "😀"),
  fc.string({ maxLength: 8 }),
  fc.string({ unit: "binary", maxLength: 8 })
)

/** Values a typed call may carry at run time: valid IDs and flags, and everything a cast lets through. */
const fieldValue = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 100_000 }) },
  { weight: 3, arbitrary: fc.boolean() },
  {
    weight: 2,
    arbitrary: fc.constantFrom(0, -0, -1, 1.5, NaN, Infinity, Number.MAX_SAFE_INTEGER, 2 ** 53, null, undefined)
  },
  { weight: 2, arbitrary: strings },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) }
)

describe("Method.encodeParamsEither's shortcut (internal/paramsEncoder)", () => {
  it("answers what the params schema answers, for every declaration", () => {
    let direct = 0
    let total = 0
    for (const method of Catalog.methods) {
      const names = Object.keys(method.params)
      const encoder = ParamsEncoder.make(Schema.Struct(method.params).ast)
      const schema = Schema.encodeUnknownEither(method.paramsSchema)
      const params = fc.oneof(
        fc.constant(method.example as Record<string, unknown>),
        fc.dictionary(fc.constantFrom(...names, "EXTRA", "chat_id"), fieldValue, { maxKeys: names.length + 1 })
      )
      fc.assert(
        fc.property(params, (input) => {
          total++
          if (encoder?.(input) !== undefined) direct++
          const ours = method.encodeParamsEither(input)
          // A method that declares no params sends none (the empty struct would let any object through).
          const reference = names.length === 0 ? Either.map(schema(input), () => ({})) : schema(input)
          strictEqual(ours._tag, reference._tag)
          if (Either.isRight(ours) && Either.isRight(reference)) {
            deepStrictEqual(ours.right, reference.right)
            strictEqual(JSON.stringify(ours.right), JSON.stringify(reference.right))
          }
        }),
        { numRuns: 300 }
      )
    }
    // The shortcut did the work for a good share of the inputs (not only the schema, which would pass trivially).
    assertTrue(direct > total / 10, `shortcut used for ${direct} of ${total} inputs`)
  })

  it("takes IDs and flags only: a field of another kind present in the params leaves them to the schema", () => {
    const encoder = ParamsEncoder.make(
      Schema.Struct({ CHAT_ID: Wire.Id, FLAG: Schema.optionalWith(Wire.YesNo, { exact: true }), TEXT: Schema.String })
        .ast
    )
    strictEqual(encoder?.({ CHAT_ID: 5, TEXT: "x" }), undefined)
    strictEqual(encoder?.({ CHAT_ID: 5 }), undefined) // TEXT is required: the schema reports it
    const optional = ParamsEncoder.make(
      Schema.Struct({
        CHAT_ID: Wire.Id.annotations({ description: "an ID" }),
        FLAG: Schema.optionalWith(Wire.YesNo, { exact: true }),
        TEXT: Schema.optional(Schema.String)
      }).ast
    )
    deepStrictEqual(optional?.({ CHAT_ID: 5, FLAG: false, OTHER: 1 }), { CHAT_ID: 5, FLAG: "N" })
    strictEqual(optional?.({ CHAT_ID: 5, TEXT: "x" }), undefined)
    strictEqual(optional?.({ CHAT_ID: 0 }), undefined)
  })
})

/** `qs` with the options `Wire.encodeQuery` documents: the reference for the flat shortcut. */
const qs = (params: Wire.Params) =>
  Qs.stringify(params, {
    arrayFormat: "indices",
    encodeValuesOnly: false,
    filter: (_key, value) => (typeof value === "boolean" ? (value ? "1" : "0") : value)
  })

const flatValue = fc.oneof(
  strings,
  fc.string({ unit: "grapheme", maxLength: 6 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constantFrom(null, undefined, -0, 1e21, 1e-7)
)

describe("Wire.encodeQuery for flat params", () => {
  it("writes byte for byte what qs writes", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.oneof(strings, fc.constantFrom("CHAT_ID", "a[b]", "x y")), flatValue), (params) => {
        strictEqual(Wire.encodeQuery(params), qs(params))
      }),
      { numRuns: 3_000 }
    )
  })

  it("leaves nested params to qs", () => {
    fc.assert(
      fc.property(fc.dictionary(strings, fc.jsonValue({ maxDepth: 3 })), (params) => {
        strictEqual(Wire.encodeQuery(params), qs(params))
      }),
      { numRuns: 1_000 }
    )
  })
})

const decodeBySchema = Schema.decodeUnknownEither(BatchProtocol.BatchResult)

/** A per-command map as answers carry it: an object, `[]`, a list, or something that is not a map at all. */
const commandMap = fc.oneof(
  fc.dictionary(fc.oneof(fc.constantFrom("c0", "c1", "a", "0", "__proto__"), strings), fc.jsonValue({ maxDepth: 2 })),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }),
  fc.constantFrom([], {}, null, 5, "x", true)
)

const answer = fc.oneof(
  fc.record(
    {
      result: commandMap,
      result_error: commandMap,
      result_total: commandMap,
      result_next: commandMap,
      result_time: commandMap,
      other: fc.jsonValue({ maxDepth: 1 })
    },
    { requiredKeys: [] }
  ),
  fc.jsonValue({ maxDepth: 3 })
)

describe("BatchProtocol.decodeResult", () => {
  it("reads an answer as JSON.parse makes it into the maps the BatchResult schema makes", () => {
    fc.assert(
      fc.property(answer, (value) => {
        // Through JSON, as answers arrive (keys such as __proto__ become own properties).
        const parsed: unknown = JSON.parse(JSON.stringify(value))
        const ours = BatchProtocol.decodeResult(parsed)
        const reference = decodeBySchema(parsed)
        strictEqual(ours._tag, reference._tag)
        if (Either.isRight(ours) && Either.isRight(reference)) deepStrictEqual(ours.right, reference.right)
      }),
      { numRuns: 3_000 }
    )
  })
})

describe("BatchProtocol.outcomeOf", () => {
  it("checks a command's time block against Wire.Time, once per answer", () => {
    const time = {
      start: 1,
      finish: 1.5,
      duration: 0.5,
      processing: 0,
      date_start: "d",
      date_finish: "d",
      operating: 2
    }
    const decoded = BatchProtocol.decodeResult({
      result: { a: true, b: true },
      result_time: { a: time, b: { ...time, start: "1" } }
    })
    assertTrue(Either.isRight(decoded))
    const a = BatchProtocol.outcomeOf(decoded.right, "a")
    const b = BatchProtocol.outcomeOf(decoded.right, "b")
    assertTrue(a._tag === "Result" && b._tag === "Result")
    deepStrictEqual(a.response.time, Option.some(time))
    deepStrictEqual(b.response.time, Option.none())
    // Read twice, checked once: the same value.
    const again = BatchProtocol.outcomeOf(decoded.right, "a")
    strictEqual(again._tag === "Result" ? again.response.time : undefined, a.response.time)
  })
})

const timeKeys = ["start", "finish", "duration", "processing", "date_start", "date_finish", "operating_reset_at"]
const timeValue = fc.oneof(
  fc.double(),
  fc.integer(),
  strings,
  fc.constantFrom(undefined, null, NaN, -0, true, [], {})
)

/** `time` blocks: well-formed ones, ones with a field missing, of the wrong type or extra, and non-objects. */
const timeBlock = fc.oneof(
  fc.record({
    start: fc.double(),
    finish: fc.double(),
    duration: fc.double(),
    processing: fc.double(),
    date_start: strings,
    date_finish: strings,
    operating_reset_at: fc.oneof(fc.integer(), timeValue),
    operating: fc.oneof(fc.double(), timeValue)
  }, { requiredKeys: ["start", "finish", "duration", "processing", "date_start", "date_finish"] }),
  // One field of a well-formed block replaced by any value.
  fc.tuple(fc.constantFrom(...timeKeys, "operating"), timeValue).map(([key, value]) => ({
    start: 1,
    finish: 2,
    duration: 1,
    processing: 0.5,
    date_start: "d",
    date_finish: "d",
    [key]: value
  })),
  fc.dictionary(fc.oneof(fc.constantFrom(...timeKeys, "operating", "__proto__"), strings), timeValue, {
    minKeys: 4,
    maxKeys: 10
  }),
  fc.jsonValue({ maxDepth: 2 })
)

describe("the time block check (internal/wireTime)", () => {
  const bySchema = Schema.is(Wire.Time)

  it("answers what Schema.is(Wire.Time) answers, for objects as JSON.parse makes them and as code builds them", () => {
    let accepted = 0
    fc.assert(
      fc.property(timeBlock, (value) => {
        const parsed: unknown = JSON.parse(JSON.stringify(value) ?? "null")
        strictEqual(WireTime.isTime(value), bySchema(value))
        strictEqual(WireTime.isTime(parsed), bySchema(parsed))
        if (bySchema(parsed)) accepted++
      }),
      { numRuns: 2_000 }
    )
    // Both verdicts were exercised.
    assertTrue(accepted > 200, `accepted ${accepted}`)
  })

  it("leaves objects that are not plain to the schema", () => {
    const time = { start: 1, finish: 2, duration: 1, processing: 0, date_start: "d", date_finish: "d" }
    const inherited = Object.create(time) as object
    strictEqual(WireTime.isTime(inherited), bySchema(inherited))
    const bare = Object.assign(Object.create(null) as object, time)
    strictEqual(WireTime.isTime(bare), bySchema(bare))
    strictEqual(WireTime.isTime([time]), false)
    strictEqual(WireTime.isTime(time), true)
  })
})

/** The methods of a batch's commands as the general functions read them. */
const commandMethodsReference = (params: Wire.Params) =>
  BatchProtocol.commands(params).flatMap(([key, value]) =>
    typeof value === "string"
      ? [[key, Wire.normalizeMethod(BatchProtocol.parseCommand(value).method).method] as const]
      : []
  )

const commandString = fc.oneof(
  fc.constantFrom("im.chat.mute?CHAT_ID=1", "IM.Chat.Mute.json?x=1#f", "a#b?c", "a?b#c", "?", "#", "", "batch", " x "),
  fc.tuple(strings, fc.constantFrom("", "?", "#", "?a=1", "#x?y", ".json"), strings).map(([a, b, c]) => a + b + c)
)

describe("BatchProtocol.commandMethods", () => {
  it("answers what commands, parseCommand and Wire.normalizeMethod make of a batch's params", () => {
    const cmd = fc.oneof(
      fc.dictionary(strings, fc.oneof(commandString, fc.jsonValue({ maxDepth: 1 }))),
      fc.array(fc.oneof(commandString, fc.jsonValue({ maxDepth: 1 })), { maxLength: 5 }),
      fc.jsonValue({ maxDepth: 1 })
    )
    const params = fc.oneof(
      cmd.map((value) => ({ cmd: value })),
      fc.tuple(cmd, cmd).map(([a, b]) => ({ CMD: a, halt: 0, cmd: b })),
      fc.dictionary(strings, fc.jsonValue({ maxDepth: 2 }))
    )
    fc.assert(
      fc.property(params, (value) => {
        const parsed = JSON.parse(JSON.stringify(value)) as Wire.Params
        deepStrictEqual(BatchProtocol.commandMethods(parsed), commandMethodsReference(parsed))
      }),
      { numRuns: 1_500 }
    )
  })
})
