import { describe, it } from "@effect/vitest"
import { deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Option from "effect/Option"
import * as Envelope from "../src/Envelope.js"
import * as PortalError from "../src/PortalError.js"

const time = {
  start: 1773678966,
  finish: 1773678966.767325,
  duration: 0.7673249244689941,
  processing: 0,
  date_start: "2026-03-16T19:36:06+01:00",
  date_finish: "2026-03-16T19:36:06+01:00"
}

describe("Envelope.success (wire sheet §1.4)", () => {
  it("writes result, next, total, time in the portal's order, whatever order they are given in", () => {
    strictEqual(
      JSON.stringify(Envelope.success({ time, total: 123, next: 50, result: [1] })),
      JSON.stringify({ result: [1], next: 50, total: 123, time })
    )
    deepStrictEqual(Object.keys(Envelope.success({ result: true, time })), ["result", "time"])
  })

  it("leaves out the parts that are absent, and keeps a falsy result", () => {
    deepStrictEqual(Envelope.success({ result: false, next: undefined, total: 0 }), { result: false, total: 0 })
  })

  it("builds the envelope of a call response", () => {
    const response = { result: { chatId: "1763" }, time: Option.some(time), next: Option.none(), total: Option.some(1) }
    strictEqual(
      JSON.stringify(Envelope.fromResponse(response)),
      JSON.stringify({ result: { chatId: "1763" }, total: 1, time })
    )
  })
})

describe("Envelope errors (wire sheet §1.5)", () => {
  it("builds the envelope of a declared class from its spec", () => {
    deepStrictEqual(Envelope.error(PortalError.ChatIdEmpty), {
      status: 400,
      body: { error: "CHAT_ID_EMPTY", error_description: "Chat ID can't be empty" }
    })
    deepStrictEqual(Envelope.error(PortalError.QueryLimitExceeded), {
      status: 503,
      body: { error: "QUERY_LIMIT_EXCEEDED", error_description: "Too many requests" }
    })
  })

  it("builds the wire error of a declared class, before it is an envelope", () => {
    deepStrictEqual(Envelope.wireError(PortalError.UserNotOperator, { description: "Attempt to close the dialog" }), {
      code: "ERROR_USER_NOT_OPERATOR",
      description: "Attempt to close the dialog",
      status: 400
    })
  })

  it("takes another description or status when given (one code, several texts; a status profile)", () => {
    deepStrictEqual(Envelope.error(PortalError.InsufficientScope, { description: "", status: 401 }), {
      status: 401,
      body: { error: "insufficient_scope", error_description: "" }
    })
  })

  it("builds the envelope of a wire error, and ERROR_ARGUMENT with its argument key", () => {
    deepStrictEqual(Envelope.fromWireError({ code: "", description: "", status: 400 }), {
      status: 400,
      body: { error: "", error_description: "" }
    })
    deepStrictEqual(Envelope.invalidArgument("CHAT_ID", "must be a positive integer"), {
      status: 400,
      body: { error: "ERROR_ARGUMENT", error_description: "must be a positive integer", argument: "CHAT_ID" }
    })
  })
})

describe("Envelope.encodeJson (wire sheet §1.4: the portal's JSON_HEX_* encoding)", () => {
  it("escapes / < > & ' \" inside strings, keeps non-ASCII raw", () => {
    strictEqual(
      Envelope.encodeJson({ error: "CHAT_ID_EMPTY", error_description: "Chat ID can't be empty" }),
      "{\"error\":\"CHAT_ID_EMPTY\",\"error_description\":\"Chat ID can\\u0027t be empty\"}"
    )
    strictEqual(
      Envelope.encodeJson(["pin / unpin", "<b>&</b>", "say \"hi\"", "ü"]),
      "[\"pin \\/ unpin\",\"\\u003Cb\\u003E\\u0026\\u003C\\/b\\u003E\",\"say \\u0022hi\\u0022\",\"ü\"]"
    )
  })

  it("parses back to the same value as JSON.stringify", () => {
    const value = { "k/ey": ["can't / <b> & \"q\" ü \\ \\\" end", 1, 1.5, true, null, { nested: "'" }] }
    deepStrictEqual(JSON.parse(Envelope.encodeJson(value)), value)
  })
})

describe("Envelope.encodeXml (wire sheet §1.4: the XML transport)", () => {
  it("wraps the payload in <response>, integer keys as <item>, true as 1, false and null empty, text escaped", () => {
    strictEqual(
      Envelope.encodeXml({ result: { list: [1, 2], on: true, off: false, none: null, text: "<a & 'b'>" } }),
      "<?xml version=\"1.0\" encoding=\"utf-8\"?><response><result><list><item>1</item><item>2</item></list>" +
        "<on>1</on><off></off><none></none><text>&lt;a &amp; &#039;b&#039;&gt;</text></result></response>"
    )
  })

  it("is chosen by the transport", () => {
    strictEqual(Envelope.encode("json", { result: "a/b" }), "{\"result\":\"a\\/b\"}")
    strictEqual(Envelope.encode("xml", { result: 1 }), Envelope.encodeXml({ result: 1 }))
  })
})

describe("Envelope headers (wire sheet §1.4)", () => {
  it("are the portal's response headers: CORS and nosniff, and a content type per transport", () => {
    deepStrictEqual(Envelope.responseHeaders, {
      "access-control-allow-origin": "*",
      "access-control-allow-headers": "origin, content-type, accept",
      "x-content-type-options": "nosniff"
    })
    deepStrictEqual(Envelope.corsHeaders, {
      "access-control-allow-origin": "*",
      "access-control-allow-headers": "origin, content-type, accept"
    })
    deepStrictEqual(Envelope.contentType, {
      json: "application/json; charset=utf-8",
      xml: "text/xml; charset=utf-8"
    })
  })
})

describe("Envelope.portalHeaders (the cloud's X-Bitrix-Rest-* headers, wire sheet §1.4)", () => {
  it("picks the portal's own headers of a response and nothing else", () => {
    deepStrictEqual(
      Envelope.portalHeaders({
        "content-type": "application/json",
        "x-bitrix-rest-time": "0.0123456789",
        "x-bitrix-rest-application": "local.1",
        "x-powered-by": "PHP"
      }),
      { "x-bitrix-rest-time": "0.0123456789", "x-bitrix-rest-application": "local.1" }
    )
    deepStrictEqual(Envelope.portalHeaders({ "content-type": "text/html" }), {})
  })
})
