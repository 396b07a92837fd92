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

describe("Wire.parseQuery (wire sheet §1.2: PHP parse_str with bracket keys)", () => {
  it("reads plain keys, with or without a leading ?", () => {
    deepStrictEqual(Wire.parseQuery("CHAT_ID=2043&ACTIVATE=Y"), { CHAT_ID: "2043", ACTIVATE: "Y" })
    deepStrictEqual(Wire.parseQuery("?CHAT_ID=2043"), { CHAT_ID: "2043" })
    deepStrictEqual(Wire.parseQuery(""), {})
  })

  it("nests bracket keys", () => {
    deepStrictEqual(Wire.parseQuery("fields[TITLE]=x&fields[PHONE][0][VALUE]=112233"), {
      fields: { TITLE: "x", PHONE: [{ VALUE: "112233" }] }
    })
  })

  it("turns a[]= into a list", () => {
    deepStrictEqual(Wire.parseQuery("select[]=ID&select[]=TITLE"), { select: ["ID", "TITLE"] })
  })

  it("turns a[0]= and keys exactly 0..n-1 into a list", () => {
    deepStrictEqual(Wire.parseQuery("a[0]=z"), { a: ["z"] })
    deepStrictEqual(Wire.parseQuery("b[0]=x&b[1]=y&b[2]=w"), { b: ["x", "y", "w"] })
  })

  it("keeps non-sequential keys as an object", () => {
    deepStrictEqual(Wire.parseQuery("c[1]=p&c[3]=q"), { c: { "1": "p", "3": "q" } })
    deepStrictEqual(Wire.parseQuery("c[1]=p&c[0]=q&c[x]=r"), { c: { "1": "p", "0": "q", x: "r" } })
  })

  it("decodes percent-encoded keys and values", () => {
    deepStrictEqual(Wire.parseQuery("fields%5BTITLE%5D=a%26b%3Dc"), { fields: { TITLE: "a&b=c" } })
  })
})

describe("Wire.encodeQuery (wire sheet §1.2: PHP http_build_query)", () => {
  it("writes bracket keys with indices, and booleans as 1/0", () => {
    strictEqual(
      Wire.encodeQuery({ fields: { TITLE: "x" }, select: ["ID", "TITLE"], flag: true, off: false, n: 5 }),
      "fields%5BTITLE%5D=x&select%5B0%5D=ID&select%5B1%5D=TITLE&flag=1&off=0&n=5"
    )
  })

  it("round-trips through parseQuery", () => {
    const params = {
      CHAT_ID: "2043",
      fields: { TITLE: "a&b=c ü", PHONE: [{ VALUE: "112233", VALUE_TYPE: "WORK" }] },
      select: ["ID", "TITLE"],
      map: { "1": "a", "3": "b" }
    }
    deepStrictEqual(Wire.parseQuery(Wire.encodeQuery(params)), params)
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

describe("Wire.parseRestPath (wire sheet §1.1: the router's URL forms)", () => {
  it("reads an inbound webhook path, with or without a trailing slash", () => {
    deepStrictEqual(Wire.parseRestPath("/rest/1/8g9l071eismy9q2l/crm.deal.add.json"), {
      kind: "webhook",
      user: "1",
      code: "8g9l071eismy9q2l",
      method: "crm.deal.add.json"
    })
    deepStrictEqual(Wire.parseRestPath("/rest/1/8g9l071eismy9q2l/im.chat.mute/"), {
      kind: "webhook",
      user: "1",
      code: "8g9l071eismy9q2l",
      method: "im.chat.mute"
    })
  })

  it("reads an OAuth path, with or without a trailing slash", () => {
    deepStrictEqual(Wire.parseRestPath("/rest/imopenlines.session.mode.silent.json"), {
      kind: "oauth",
      method: "imopenlines.session.mode.silent.json"
    })
    deepStrictEqual(Wire.parseRestPath("/rest/im.chat.mute/"), { kind: "oauth", method: "im.chat.mute" })
  })

  it("decodes percent-escapes", () => {
    deepStrictEqual(Wire.parseRestPath("/rest/1/a%2Db/im.chat.mute"), {
      kind: "webhook",
      user: "1",
      code: "a-b",
      method: "im.chat.mute"
    })
  })

  it("is undefined for anything else, including a malformed escape", () => {
    for (const path of ["/", "/rest/", "/rest/1/abc/", "/other/im.chat.mute", "/rest/1/ab%ZZ/im.chat.mute"]) {
      strictEqual(Wire.parseRestPath(path), undefined, path)
    }
  })
})

describe("Wire.requestParams (wire sheet §1.2: how the server builds the parameter array)", () => {
  const post = (contentType: string | undefined, body: string, search = "") =>
    Wire.requestParams({ method: "POST", search, contentType, body })

  it("reads the query string of a GET, and ignores a body that is not POSTed", () => {
    deepStrictEqual(
      Wire.requestParams({ method: "GET", search: "?CHAT_ID=2043&ACTIVATE=Y", contentType: undefined, body: "" }),
      { CHAT_ID: "2043", ACTIVATE: "Y" }
    )
    deepStrictEqual(
      Wire.requestParams({
        method: "PUT",
        search: "?CHAT_ID=1",
        contentType: "application/json",
        body: "{\"CHAT_ID\":2}"
      }),
      { CHAT_ID: "1" }
    )
  })

  it("merges a JSON body over the query (body wins)", () => {
    deepStrictEqual(post("application/json", "{\"CHAT_ID\":2043,\"ACTIVATE\":\"Y\"}", "?CHAT_ID=1&extra=q"), {
      CHAT_ID: 2043,
      ACTIVATE: "Y",
      extra: "q"
    })
  })

  it("recognises +json content types and a charset", () => {
    deepStrictEqual(post("application/vnd.api+json", "{\"x\":1}"), { x: 1 })
    deepStrictEqual(post("Application/JSON; charset=utf-8", "{\"x\":2}"), { x: 2 })
  })

  it("silently ignores a JSON body that is malformed or not an object", () => {
    deepStrictEqual(post("application/json", "{bad", "?CHAT_ID=1"), { CHAT_ID: "1" })
    deepStrictEqual(post("application/json", "\"abc\"", "?CHAT_ID=1"), { CHAT_ID: "1" })
    deepStrictEqual(post("application/json", "null", "?CHAT_ID=1"), { CHAT_ID: "1" })
  })

  it("parses a form-urlencoded or raw body with PHP bracket keys, over the query", () => {
    deepStrictEqual(
      post(
        "application/x-www-form-urlencoded",
        "CHAT_ID=2043&fields[TITLE]=x&select[]=ID&select[]=TITLE",
        "?CHAT_ID=1"
      ),
      { CHAT_ID: "2043", fields: { TITLE: "x" }, select: ["ID", "TITLE"] }
    )
    deepStrictEqual(post(undefined, "CHAT_ID=5"), { CHAT_ID: "5" })
  })

  it("reads multipart/form-data fields, which every method accepts (wire sheet §1.2)", () => {
    const body = [
      "--XBOUNDARY",
      "Content-Disposition: form-data; name=\"CHAT_ID\"",
      "",
      "1489",
      "--XBOUNDARY",
      "Content-Disposition: form-data; name=\"MUTE\"",
      "",
      "Y",
      "--XBOUNDARY--",
      ""
    ].join("\r\n")
    deepStrictEqual(post("multipart/form-data; boundary=XBOUNDARY", body), { CHAT_ID: "1489", MUTE: "Y" })
  })
})

describe("Wire.encodeJson (wire sheet §1.4: the portal's JSON_HEX_* encoding)", () => {
  it("escapes / < > & ' \" inside strings, keeps non-ASCII raw", () => {
    strictEqual(
      Wire.encodeJson({ error: "CHAT_ID_EMPTY", error_description: "Chat ID can't be empty" }),
      "{\"error\":\"CHAT_ID_EMPTY\",\"error_description\":\"Chat ID can\\u0027t be empty\"}"
    )
    strictEqual(
      Wire.encodeJson(["pin / unpin", "<b>&</b>", "say \"hi\"", "ü"]),
      "[\"pin \\/ unpin\",\"\\u003Cb\\u003E\\u0026\\u003C\\/b\\u003E\",\"say \\u0022hi\\u0022\",\"ü\"]"
    )
  })

  it("parses back to the same value as JSON.stringify", () => {
    const value = { "k/ey": ["can't / <b> & \"q\" ü \\ \\\" end", 1, 1.5, true, null, { nested: "'" }] }
    deepStrictEqual(JSON.parse(Wire.encodeJson(value)), value)
  })
})

describe("Wire.responseHeaders and Wire.credentialParams", () => {
  it("are the portal's response headers (wire sheet §1.4)", () => {
    deepStrictEqual(Wire.responseHeaders, {
      "content-type": "application/json; charset=utf-8",
      "access-control-allow-origin": "*",
      "access-control-allow-headers": "origin, content-type, accept",
      "x-content-type-options": "nosniff"
    })
  })

  it("name the credential params of both auth forms (wire sheet §1.1)", () => {
    deepStrictEqual([...Wire.credentialParams].sort(), ["access_token", "ap", "aplogin", "auth"])
  })
})
