import { describe, it } from "@effect/vitest"
import { assertLeft, assertRight, assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import * as Wire from "../src/Wire.js"

const decode = <A, I>(schema: Schema.Schema<A, I>) => Schema.decodeUnknownEither(schema)
const encode = <A, I>(schema: Schema.Schema<A, I>) => Schema.encodeUnknownEither(schema)

describe("Wire.YesNo (wire sheet §1.3: flags travel as the literal strings Y/N)", () => {
  it("encodes true as \"Y\" and false as \"N\"", () => {
    assertRight(encode(Wire.YesNo)(true), "Y")
    assertRight(encode(Wire.YesNo)(false), "N")
  })

  it("decodes \"Y\" and \"N\"", () => {
    assertRight(decode(Wire.YesNo)("Y"), true)
    assertRight(decode(Wire.YesNo)("N"), false)
  })

  it("rejects JSON booleans, which the portal would read as the opposite of what was meant", () => {
    assertTrue(Either.isLeft(decode(Wire.YesNo)(true)))
    assertTrue(Either.isLeft(decode(Wire.YesNo)(false)))
  })

  it("rejects any other string or value", () => {
    for (const value of ["y", "n", "yes", "no", "1", "0", "true", "", 1, 0, null]) {
      assertTrue(Either.isLeft(decode(Wire.YesNo)(value)), `accepted ${JSON.stringify(value)}`)
    }
  })

  it("is a flag for the CLI and the reference docs", () => {
    strictEqual(Wire.kindOf(Wire.YesNo), "flag")
  })
})

describe("Wire.Id (positive integer, JSON number or decimal string)", () => {
  it("accepts a JSON number and a decimal string", () => {
    assertRight(decode(Wire.Id)(2043), 2043)
    assertRight(decode(Wire.Id)("2043"), 2043)
  })

  it("rejects zero, negatives, fractions and non-numbers", () => {
    for (const value of [0, -1, 1.5, "abc", "0", "-1", "1.5", "", null, true]) {
      assertTrue(Either.isLeft(decode(Wire.Id)(value)), `accepted ${JSON.stringify(value)}`)
    }
  })

  it("is always sent as a JSON number", () => {
    assertRight(encode(Wire.Id)(2043), 2043)
  })

  it("says what is wrong", () => {
    const result = decode(Wire.Id)(-1)
    assertTrue(Either.isLeft(result))
    assertTrue(result.left.message.includes("must be a positive integer"))
  })

  it("is an integer kind", () => {
    strictEqual(Wire.kindOf(Wire.Id), "integer")
  })
})

describe("Wire.DialogId (seeds/003: chat<N>, sg<N> or a user ID)", () => {
  it("accepts chat<N>, sg<N> and a user ID string", () => {
    assertRight(decode(Wire.DialogId)("chat12"), "chat12")
    assertRight(decode(Wire.DialogId)("sg7"), "sg7")
    assertRight(decode(Wire.DialogId)("5"), "5")
  })

  it("accepts a bare number and turns it into its decimal string", () => {
    assertRight(decode(Wire.DialogId)(5), "5")
  })

  it("rejects anything else", () => {
    for (const value of ["bad", "chat0", "sg0", "0", "chat", "sg", "", "chat-1", "chat12x", "05", 0, -3, 1.5]) {
      assertTrue(Either.isLeft(decode(Wire.DialogId)(value)), `accepted ${JSON.stringify(value)}`)
    }
  })

  it("is sent as the string", () => {
    assertRight(encode(Wire.DialogId)("chat12"), "chat12")
    assertRight(encode(Wire.DialogId)("5"), "5")
  })

  it("is a text kind", () => {
    strictEqual(Wire.kindOf(Wire.DialogId), "text")
    strictEqual(Wire.kindOf(Schema.String), "text")
  })
})

describe("Wire.normalizeMethod (wire sheet §1.1: the router's view of a method name)", () => {
  it("lowercases the name", () => {
    deepStrictEqual(Wire.normalizeMethod("IMOPENLINES.Session.Mode.Silent"), {
      method: "imopenlines.session.mode.silent",
      transport: "json"
    })
  })

  it("removes a .json or .xml transport suffix, in any case", () => {
    deepStrictEqual(Wire.normalizeMethod("imopenlines.session.mode.silent.json"), {
      method: "imopenlines.session.mode.silent",
      transport: "json"
    })
    deepStrictEqual(Wire.normalizeMethod("im.chat.mute.XML"), { method: "im.chat.mute", transport: "xml" })
    deepStrictEqual(Wire.normalizeMethod("Im.Chat.Mute.JSON"), { method: "im.chat.mute", transport: "json" })
  })

  it("keeps any other suffix as part of the name", () => {
    deepStrictEqual(Wire.normalizeMethod("crm.deal.add.php"), { method: "crm.deal.add.php", transport: "json" })
    deepStrictEqual(Wire.normalizeMethod("user.get"), { method: "user.get", transport: "json" })
  })

  it("ignores a trailing slash (the router's #method#/ template)", () => {
    deepStrictEqual(Wire.normalizeMethod("im.chat.mute.json/"), { method: "im.chat.mute", transport: "json" })
    deepStrictEqual(Wire.normalizeMethod("im.chat.mute/"), { method: "im.chat.mute", transport: "json" })
  })
})

describe("Wire.encodeQuery (wire sheet §1.2: PHP http_build_query)", () => {
  it("writes bracket keys with indices, and booleans as 1/0", () => {
    strictEqual(
      Wire.encodeQuery({ fields: { TITLE: "x" }, select: ["ID", "TITLE"], flag: true, off: false, n: 5 }),
      "fields%5BTITLE%5D=x&select%5B0%5D=ID&select%5B1%5D=TITLE&flag=1&off=0&n=5"
    )
  })
})

describe("Wire envelopes (wire sheet §1.4, §1.5)", () => {
  it("tells an error envelope from a success envelope", () => {
    assertRight(
      decode(Wire.Envelope)({ error: "CHAT_ID", error_description: "Chat ID is incorrect" }),
      { error: "CHAT_ID", error_description: "Chat ID is incorrect" }
    )
    const success = decode(Wire.Envelope)({
      result: true,
      time: {
        start: 1773678966,
        finish: 1773678966.767325,
        duration: 0.7673249244689941,
        processing: 0,
        date_start: "2026-03-16T19:36:06+01:00",
        date_finish: "2026-03-16T19:36:06+01:00",
        operating_reset_at: 1773679566,
        operating: 0
      }
    })
    assertTrue(Either.isRight(success))
    assertTrue(!("error" in success.right))
    strictEqual(success.right.time?.operating_reset_at, 1773679566)
  })

  it("defaults a missing error_description to the empty string", () => {
    assertRight(decode(Wire.ErrorEnvelope)({ error: "" }), { error: "", error_description: "" })
  })

  it("rejects a body that is neither", () => {
    assertLeft(
      Either.mapLeft(decode(Wire.Envelope)("<html>Not Found</html>"), () => "invalid"),
      "invalid"
    )
  })
})

describe("Wire.tooDeep (the nesting limit of untrusted params)", () => {
  const nested = (levels: number, leaf: unknown = 1): unknown => {
    let value = leaf
    for (let i = 0; i < levels; i++) value = i % 2 === 0 ? [value] : { k: value }
    return value
  }

  it("counts the params object as the first level, as json_decode's depth does", () => {
    strictEqual(Wire.tooDeep({ CHAT_ID: 1 }, 1), undefined)
    strictEqual(Wire.tooDeep({ CHAT_ID: [] }, 1), "CHAT_ID")
    strictEqual(Wire.tooDeep({ a: 1, CHAT_ID: nested(Wire.maxDepth - 1) }), undefined)
    strictEqual(Wire.tooDeep({ a: 1, CHAT_ID: nested(Wire.maxDepth) }), "CHAT_ID")
    strictEqual(Wire.tooDeep("not params"), undefined)
  })

  it("measures a million levels without recursion", () => {
    strictEqual(Wire.tooDeep({ deep: nested(1_000_000) }), "deep")
  })

  it("follows the deepest path through shared values, and counts a cycle as too deep", () => {
    const shared = nested(Wire.maxDepth - 10)
    strictEqual(Wire.tooDeep({ a: shared, b: shared }), undefined)
    strictEqual(Wire.tooDeep({ a: shared, b: nested(20, shared) }), "b")
    const cycle: Record<string, unknown> = {}
    cycle.self = { again: cycle }
    strictEqual(Wire.tooDeep({ ok: 1, cycle }), "cycle")
  })

  it("walks wide values once each: 2^30 paths through 30 shared levels take no time", () => {
    let value: unknown = "leaf"
    for (let i = 0; i < 30; i++) value = [value, value]
    strictEqual(Wire.tooDeep({ wide: value }), undefined)
    strictEqual(Wire.tooDeep({ wide: value }, 30), "wide")
  })
})
