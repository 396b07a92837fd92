import { describe, it } from "@effect/vitest"
import { deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Either from "effect/Either"
import * as Wire from "../src/Wire.js"
import * as WireRequest from "../src/WireRequest.js"

/** Params a request reading accepted (the test fails on a refusal). */
const accepted = <A>(either: Either.Either<A, WireRequest.ParamsRefused>): A =>
  Either.getOrThrowWith(either, (refused) => new Error(`refused: ${refused.message}`))

describe("WireRequest.parseQuery (wire sheet §1.2: PHP parse_str with bracket keys)", () => {
  const parse = (query: string) => accepted(WireRequest.parseQuery(query))

  it("reads plain keys, with or without a leading ?", () => {
    deepStrictEqual(parse("CHAT_ID=2043&ACTIVATE=Y"), { CHAT_ID: "2043", ACTIVATE: "Y" })
    deepStrictEqual(parse("?CHAT_ID=2043"), { CHAT_ID: "2043" })
    deepStrictEqual(parse(""), {})
  })

  it("nests bracket keys", () => {
    deepStrictEqual(parse("fields[TITLE]=x&fields[PHONE][0][VALUE]=112233"), {
      fields: { TITLE: "x", PHONE: [{ VALUE: "112233" }] }
    })
  })

  it("turns a[]= into a list", () => {
    deepStrictEqual(parse("select[]=ID&select[]=TITLE"), { select: ["ID", "TITLE"] })
  })

  it("turns a[0]= and keys exactly 0..n-1 into a list", () => {
    deepStrictEqual(parse("a[0]=z"), { a: ["z"] })
    deepStrictEqual(parse("b[0]=x&b[1]=y&b[2]=w"), { b: ["x", "y", "w"] })
  })

  it("keeps non-sequential keys as an object", () => {
    deepStrictEqual(parse("c[1]=p&c[3]=q"), { c: { "1": "p", "3": "q" } })
    deepStrictEqual(parse("c[1]=p&c[0]=q&c[x]=r"), { c: { "1": "p", "0": "q", x: "r" } })
  })

  it("decodes percent-encoded keys and values", () => {
    deepStrictEqual(parse("fields%5BTITLE%5D=a%26b%3Dc"), { fields: { TITLE: "a&b=c" } })
  })

  it("reads back what Wire.encodeQuery writes", () => {
    const params = {
      CHAT_ID: "2043",
      fields: { TITLE: "a&b=c ü", PHONE: [{ VALUE: "112233", VALUE_TYPE: "WORK" }] },
      select: ["ID", "TITLE"],
      map: { "1": "a", "3": "b" }
    }
    deepStrictEqual(parse(Wire.encodeQuery(params)), params)
  })
})

describe("WireRequest.parseRestPath (wire sheet §1.1: the router's URL forms)", () => {
  it("reads an inbound webhook path, with or without a trailing slash", () => {
    deepStrictEqual(WireRequest.parseRestPath("/rest/1/8g9l071eismy9q2l/crm.deal.add.json"), {
      kind: "webhook",
      user: "1",
      code: "8g9l071eismy9q2l",
      method: "crm.deal.add.json"
    })
    deepStrictEqual(WireRequest.parseRestPath("/rest/1/8g9l071eismy9q2l/im.chat.mute/"), {
      kind: "webhook",
      user: "1",
      code: "8g9l071eismy9q2l",
      method: "im.chat.mute"
    })
  })

  it("reads an OAuth path, with or without a trailing slash", () => {
    deepStrictEqual(WireRequest.parseRestPath("/rest/imopenlines.session.mode.silent.json"), {
      kind: "oauth",
      method: "imopenlines.session.mode.silent.json"
    })
    deepStrictEqual(WireRequest.parseRestPath("/rest/im.chat.mute/"), { kind: "oauth", method: "im.chat.mute" })
  })

  it("decodes percent-escapes", () => {
    deepStrictEqual(WireRequest.parseRestPath("/rest/1/a%2Db/im.chat.mute"), {
      kind: "webhook",
      user: "1",
      code: "a-b",
      method: "im.chat.mute"
    })
  })

  it("is undefined for anything else, including a malformed escape", () => {
    for (const path of ["/", "/rest/", "/rest/1/abc/", "/other/im.chat.mute", "/rest/1/ab%ZZ/im.chat.mute"]) {
      strictEqual(WireRequest.parseRestPath(path), undefined, path)
    }
  })
})

describe("WireRequest.requestParams (wire sheet §1.2: how the server builds the parameter array)", () => {
  const post = (contentType: string | undefined, body: string, search = "") =>
    accepted(WireRequest.requestParams({ method: "POST", search, contentType, body }))

  it("reads the query string of a GET, and ignores a body that is not POSTed", () => {
    deepStrictEqual(
      accepted(
        WireRequest.requestParams({
          method: "GET",
          search: "?CHAT_ID=2043&ACTIVATE=Y",
          contentType: undefined,
          body: ""
        })
      ),
      { CHAT_ID: "2043", ACTIVATE: "Y" }
    )
    deepStrictEqual(
      accepted(WireRequest.requestParams({
        method: "PUT",
        search: "?CHAT_ID=1",
        contentType: "application/json",
        body: "{\"CHAT_ID\":2}"
      })),
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

describe("WireRequest.credentialParams", () => {
  it("name the credential params of both auth forms (wire sheet §1.1)", () => {
    deepStrictEqual([...WireRequest.credentialParams].sort(), ["access_token", "ap", "aplogin", "auth"])
  })
})

describe("WireRequest limits: refused, never reshaped, before any param is decoded", () => {
  const nestedKey = (root: string, levels: number) => `${root}${"[a]".repeat(levels)}=1`
  const nestedJson = (levels: number) => `{"CHAT_ID":${"[".repeat(levels)}1${"]".repeat(levels)}}`
  const refusedBy = <A>(either: Either.Either<A, WireRequest.ParamsRefused>) =>
    Either.match(either, { onLeft: (refused) => refused, onRight: () => undefined })

  it("reads bracket keys up to maxKeyNesting levels (PHP's max_input_nesting_level) as PHP does", () => {
    let expected: unknown = "1"
    for (let i = 0; i < WireRequest.maxKeyNesting; i++) expected = { a: expected }
    deepStrictEqual(accepted(WireRequest.parseQuery(nestedKey("CHAT_ID", WireRequest.maxKeyNesting))), {
      CHAT_ID: expected
    })
  })

  it("refuses a deeper key, naming its param, in a query, a form body and a multipart body", () => {
    const deep = nestedKey("CHAT_ID", WireRequest.maxKeyNesting + 1)
    const fromQuery = refusedBy(WireRequest.parseQuery(`?MUTE=Y&${deep}`))
    strictEqual(fromQuery?.reason, "TooDeep")
    strictEqual(fromQuery?.field, "CHAT_ID")
    const fromForm = refusedBy(
      WireRequest.requestParams({
        method: "POST",
        search: "",
        contentType: "application/x-www-form-urlencoded",
        body: deep
      })
    )
    strictEqual(fromForm?.field, "CHAT_ID")
    const multipart = [
      "--B",
      `Content-Disposition: form-data; name="${deep.slice(0, -2)}"`,
      "",
      "1",
      "--B--",
      ""
    ].join("\r\n")
    const fromMultipart = refusedBy(
      WireRequest.requestParams({
        method: "POST",
        search: "",
        contentType: "multipart/form-data; boundary=B",
        body: multipart
      })
    )
    strictEqual(fromMultipart?.field, "CHAT_ID")
    // 5,000 levels, percent-encoded brackets: refused the same way, no stack overflow.
    const encoded = `CHAT_ID${"%5B%5D".repeat(5000)}=1`
    strictEqual(refusedBy(WireRequest.parseQuery(encoded))?.field, "CHAT_ID")
  })

  it("reads a JSON body up to Wire.maxDepth levels (PHP's json_decode depth), and refuses a deeper one", () => {
    const post = (body: string) =>
      WireRequest.requestParams({ method: "POST", search: "?MUTE=Y", contentType: "application/json", body })
    deepStrictEqual(Object.keys(accepted(post(nestedJson(Wire.maxDepth - 1)))).sort(), ["CHAT_ID", "MUTE"])
    const refused = refusedBy(post(nestedJson(Wire.maxDepth)))
    strictEqual(refused?.reason, "TooDeep")
    strictEqual(refused?.field, "CHAT_ID")
    strictEqual(refusedBy(post(nestedJson(100_000)))?.field, "CHAT_ID")
  })

  it("refuses a body over maxBodyBytes (PHP's post_max_size) whatever its type", () => {
    const body = "x".repeat(WireRequest.maxBodyBytes + 1)
    for (const contentType of ["application/json", "application/x-www-form-urlencoded", undefined]) {
      const refused = refusedBy(WireRequest.requestParams({ method: "POST", search: "", contentType, body }))
      strictEqual(refused, WireRequest.bodyTooLarge)
      strictEqual(refused?.reason, "TooLarge")
    }
  })

  it("keeps the last value of a repeated plain key, as PHP does, and every value of a[]", () => {
    deepStrictEqual(accepted(WireRequest.parseQuery("CHAT_ID=1&CHAT_ID=2")), { CHAT_ID: "2" })
    deepStrictEqual(accepted(WireRequest.parseQuery("a[]=1&a[]=2&a[]=3")), { a: ["1", "2", "3"] })
  })

  it("keeps every parameter: there is no parameter count limit besides the body size", () => {
    const query = Array.from({ length: 20_000 }, (_, i) => `k${i}=${i}`).join("&")
    strictEqual(Object.keys(accepted(WireRequest.parseQuery(query))).length, 20_000)
    strictEqual(
      accepted(WireRequest.parseQuery(Array.from({ length: 2000 }, (_, i) => `a[${i}]=x`).join("&"))).a
        ?.constructor,
      Array
    )
  })
})

describe("WireRequest refusals as the portal's envelopes", () => {
  const refused = new WireRequest.ParamsRefused({ reason: "TooDeep", field: "CHAT_ID", description: "too deep" })

  it("answer a declared method's documented code for the field, with HTTP 400", () => {
    deepStrictEqual(WireRequest.refusalReply("IM.CHAT.MUTE", refused), {
      status: 400,
      body: { error: "CHAT_ID_EMPTY", error_description: "Chat ID can't be empty" }
    })
    deepStrictEqual(WireRequest.refusalReply("imopenlines.session.mode.silent", refused).body.error, "CHAT_ID")
  })

  it("answer ERROR_ARGUMENT with the argument for a field without one, or a method outside the catalog", () => {
    const other = new WireRequest.ParamsRefused({ reason: "TooDeep", field: "fields", description: "too deep" })
    deepStrictEqual(WireRequest.refusalReply("im.chat.mute", other), {
      status: 400,
      body: { error: "ERROR_ARGUMENT", error_description: "too deep", argument: "fields" }
    })
    deepStrictEqual(WireRequest.refusalReply("crm.deal.add", refused).body, {
      error: "ERROR_ARGUMENT",
      error_description: "too deep",
      argument: "CHAT_ID"
    })
  })

  it("become the InvalidParams of a method, naming the field", () => {
    const invalid = WireRequest.toInvalidParams("im.chat.mute", refused)
    strictEqual(invalid._tag, "InvalidParams")
    strictEqual(invalid.field, "CHAT_ID")
    strictEqual(invalid.missing, false)
  })
})

describe("WireRequest.parseQuery keeps the params a map", () => {
  it("reads sequential top-level keys as params, not as a list", () => {
    deepStrictEqual(accepted(WireRequest.parseQuery("0=a&1=b")), { "0": "a", "1": "b" })
    deepStrictEqual(accepted(WireRequest.parseQuery("[]=x")), { "0": "x" })
  })

  it("reads multipart text with lone surrogates as U+FFFD instead of throwing", () => {
    const body = "--XB\r\nContent-Disposition: form-data; name=\"CHAT_ID\"\r\n\r\n\uD800\r\n--XB--\r\n"
    deepStrictEqual(
      accepted(
        WireRequest.requestParams({ method: "POST", search: "", contentType: "multipart/form-data; boundary=XB", body })
      ),
      { CHAT_ID: "\uFFFD" }
    )
  })
})
