/**
 * Conformance, wire sheet §1: URL forms, parameter encodings, booleans, the success and error envelopes, response
 * headers, JSON encoding and the XML transport, over real HTTP.
 */
import { describe, it } from "@effect/vitest"
import { assertFalse, assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { call, callOAuth, withPortal } from "./conformance.js"
import { assertError, assertSuccess, curl, postForm, request, webhook } from "./helpers.js"

describe("§1.1 URL forms", () => {
  it.effect("inbound webhook: /rest/{user_id}/{code}/{method}.json", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        assertSuccess(yield* curl(`${webhook(emulator)}im.chat.mute.json`, "{\"CHAT_ID\":1489}"))
        strictEqual(emulator.journal[0]?.auth, "webhook:1")
      })
    ))

  it.effect("OAuth: /rest/{method} with the token as auth, access_token or Authorization: Bearer", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const token = Redacted.value(emulator.accessToken)
        assertSuccess(yield* callOAuth(emulator, token, "im.chat.mute", { CHAT_ID: 1489 }))
        assertSuccess(yield* request(`${emulator.url}/rest/im.chat.mute?CHAT_ID=1489&access_token=${token}`))
        assertSuccess(
          yield* curl(`${emulator.url}/rest/im.chat.mute`, "{\"CHAT_ID\":1489}", {
            Authorization: `Bearer ${token}`
          })
        )
        deepStrictEqual(emulator.journal.map((entry) => entry.auth), ["oauth:1", "oauth:1", "oauth:1"])
      })
    ))

  it.effect("the webhook credentials are also accepted as plain aplogin and ap params", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const code = emulator.credentials.webhooks[0]!.code
        assertSuccess(yield* request(`${emulator.url}/rest/im.chat.mute.json?CHAT_ID=1489&aplogin=1&ap=${code}`))
        assertError(
          yield* request(`${emulator.url}/rest/im.chat.mute.json?CHAT_ID=1489&aplogin=1&ap=wrongcode`),
          401,
          "NO_AUTH_FOUND",
          "Wrong authorization data"
        )
        deepStrictEqual(emulator.journal[0]?.params, { CHAT_ID: "1489" })
      })
    ))

  it.effect("method names are lowercased; .json or .xml is a transport; a trailing slash is accepted", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        for (const spelling of ["IM.Chat.MUTE", "im.chat.mute.JSON", "im.chat.mute/", "im.chat.mute.json/"]) {
          assertSuccess(yield* call(emulator, spelling, { CHAT_ID: 1489 }))
        }
        const xml = yield* call(emulator, "IM.CHAT.MUTE.XML", { CHAT_ID: 1489 })
        strictEqual(xml.status, 200)
        assertTrue(xml.text.startsWith("<?xml"))
        assertError(
          yield* call(emulator, "im.chat.mute.php", { CHAT_ID: 1489 }),
          404,
          "ERROR_METHOD_NOT_FOUND",
          "Method not found!"
        )
        deepStrictEqual(
          emulator.journal.map((entry) => entry.method),
          ["im.chat.mute", "im.chat.mute", "im.chat.mute", "im.chat.mute", "im.chat.mute", "im.chat.mute.php"]
        )
      })
    ))

  it.effect("SDK telemetry params (bx24_request_id, bx24_sdk_ver, bx24_sdk_type) are tolerated", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        assertSuccess(
          yield* curl(
            `${webhook(emulator)}im.chat.mute.json?bx24_request_id=abc&bx24_sdk_ver=1.0&bx24_sdk_type=b24-js-sdk`,
            "{\"CHAT_ID\":1489}"
          )
        )
      })
    ))
})

describe("§1.2 HTTP verbs and parameter encodings", () => {
  it.effect("GET query, JSON body, +json content type, form body and multipart all reach the method", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const url = `${webhook(emulator)}conformance.echo`
        assertSuccess(yield* request(`${url}?a=1&b[x]=2`), { a: "1", b: { x: "2" } })
        assertSuccess(yield* curl(url, "{\"a\":1,\"b\":{\"x\":[1,2]}}"), { a: 1, b: { x: [1, 2] } })
        assertSuccess(
          yield* request(url, {
            method: "POST",
            headers: { "content-type": "application/vnd.api+json" },
            body: "{\"a\":true}"
          }),
          { a: true }
        )
        assertSuccess(yield* postForm(url, "fields%5BTITLE%5D=x&select[]=ID&select[]=NAME"), {
          fields: { TITLE: "x" },
          select: ["ID", "NAME"]
        })
        const form = new FormData()
        form.append("a", "1")
        form.append("list[0]", "x")
        assertSuccess(yield* request(url, { method: "POST", body: form }), { a: "1", list: ["x"] })
      })
    ))

  it.effect("body values override query values of the same name; the rest of the query stays", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        assertSuccess(yield* curl(`${webhook(emulator)}conformance.echo?a=query&b=query`, "{\"a\":\"body\"}"), {
          a: "body",
          b: "query"
        })
      })
    ))

  it.effect("a JSON body that is not an object or array is ignored; a PUT sees only the query", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const url = `${webhook(emulator)}conformance.echo?q=1`
        assertSuccess(yield* curl(url, "\"just a string\""), { q: "1" })
        assertSuccess(yield* curl(url, "{broken"), { q: "1" })
        assertSuccess(
          yield* request(url, { method: "PUT", headers: { "content-type": "application/json" }, body: "{\"a\":1}" }),
          { q: "1" }
        )
      })
    ))
})

describe("§1.3 booleans are compared literally", () => {
  it.effect("form encoding turns every value into a string; JSON keeps true/false", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const url = `${webhook(emulator)}conformance.echo`
        assertSuccess(yield* postForm(url, "ACTIVATE=Y&FLAG=true&N=1"), { ACTIVATE: "Y", FLAG: "true", N: "1" })
        assertSuccess(yield* curl(url, "{\"FLAG\":true,\"N\":1}"), { FLAG: true, N: 1 })
      })
    ))
})

describe("§1.4 success envelope", () => {
  it.effect("{result, time}: integer start and processing, float finish and duration, ISO dates, operating", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const answer = yield* call(emulator, "im.chat.mute", { CHAT_ID: 1489 })
        assertSuccess(answer)
        const time = answer.body.time
        strictEqual(time.start, Math.floor(emulator.clock.now() / 1000))
        strictEqual(time.operating, 0)
        strictEqual(time.operating_reset_at, time.start + 600)
        deepStrictEqual(Object.keys(answer.body), ["result", "time"])
      })
    ))

  it.effect("a handler's next and total are hoisted to the top level (Envelope.paged)", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const answer = yield* call(emulator, "conformance.paged")
        strictEqual(answer.status, 200)
        deepStrictEqual(Object.keys(answer.body), ["result", "next", "total", "time"])
        deepStrictEqual(answer.body.result, [{ ID: "1" }, { ID: "2" }, { ID: "3" }])
        strictEqual(answer.body.next, 3)
        strictEqual(answer.body.total, 7)
      })
    ))

  it.effect("an array result with next and total keys is hoisted as PHP does: next cast with intval", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const answer = yield* call(emulator, "conformance.phparray")
        deepStrictEqual(answer.body.result, ["a", "b"])
        strictEqual(answer.body.next, 2)
        strictEqual(answer.body.total, 9)
      })
    ))

  it.effect("quirk: a result with error and error_description is sent as-is, HTTP 200, without time", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const answer = yield* call(emulator, "conformance.rawerror")
        strictEqual(answer.status, 200)
        deepStrictEqual(answer.body, { error: "SOME_CODE", error_description: "Some text" })
      })
    ))

  it.effect("an empty PHP array is [] on the wire", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        strictEqual((yield* call(emulator, "conformance.echo")).text.startsWith("{\"result\":[],\"time\""), true)
      })
    ))

  it.effect("JSON as the portal encodes it: / as \\/, < > & ' \" as \\u escapes, non-ASCII raw", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const answer = yield* call(emulator, "conformance.echo", { t: "a/b <i>&'\"Ж" })
        assertTrue(
          answer.text.startsWith("{\"result\":{\"t\":\"a\\/b \\u003Ci\\u003E\\u0026\\u0027\\u0022Ж\"}"),
          answer.text
        )
        strictEqual(answer.body.result.t, "a/b <i>&'\"Ж")
      })
    ))

  it.effect("response headers: content type, CORS, nosniff and the cloud's X-Bitrix-Rest-* timings", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        for (
          const answer of [
            yield* call(emulator, "im.chat.mute", { CHAT_ID: 1489 }),
            yield* call(emulator, "im.chat.mute")
          ]
        ) {
          strictEqual(answer.headers.get("content-type"), "application/json; charset=utf-8")
          strictEqual(answer.headers.get("access-control-allow-origin"), "*")
          strictEqual(answer.headers.get("access-control-allow-headers"), "origin, content-type, accept")
          strictEqual(answer.headers.get("x-content-type-options"), "nosniff")
          for (const name of ["x-bitrix-rest-time", "x-bitrix-rest-user-time", "x-bitrix-rest-system-time"]) {
            assertTrue(/^\d+\.\d{10}$/.test(answer.headers.get(name) ?? ""), `${name}: ${answer.headers.get(name)}`)
          }
          strictEqual(answer.headers.get("x-bitrix-rest-application"), null)
        }
        const oauth = yield* callOAuth(emulator, emulator.accessToken, "im.chat.mute", { CHAT_ID: 1489 })
        strictEqual(oauth.headers.get("x-bitrix-rest-application"), emulator.oauth.clientId)
      })
    ))

  it.effect("a CORS preflight gets the headers and runs nothing", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const answer = yield* request(`${webhook(emulator)}im.chat.mute`, { method: "OPTIONS" })
        strictEqual(answer.status, 204)
        strictEqual(answer.headers.get("access-control-allow-origin"), "*")
        strictEqual(emulator.journal.length, 0)
      })
    ))

  it.effect("XML transport: <response> wrapper, integer keys as <item>, true as 1, text escaped", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const ok = yield* call(emulator, "im.chat.mute.xml", { CHAT_ID: 1489 })
        strictEqual(ok.headers.get("content-type"), "text/xml; charset=utf-8")
        assertTrue(
          /^<\?xml version="1.0" encoding="utf-8"\?><response><result>1<\/result><time><start>\d+<\/start>/.test(
            ok.text
          ),
          ok.text
        )
        const list = yield* call(emulator, "conformance.paged.xml")
        assertTrue(
          list.text.includes(
            "<result><item><ID>1</ID></item><item><ID>2</ID></item><item><ID>3</ID></item></result>" +
              "<next>3</next><total>7</total>"
          ),
          list.text
        )
        const escaped = yield* call(emulator, "conformance.echo.xml", { t: "<&>" })
        assertTrue(escaped.text.includes("<result><t>&lt;&amp;&gt;</t></result>"), escaped.text)
        const failed = yield* call(emulator, "im.chat.mute.xml")
        strictEqual(failed.status, 400)
        strictEqual(
          failed.text,
          "<?xml version=\"1.0\" encoding=\"utf-8\"?><response><error>CHAT_ID_EMPTY</error>" +
            "<error_description>Chat ID can&#039;t be empty</error_description></response>"
        )
      })
    ))
})

describe("§1.4 / §1.5 the same wire on both server paths", () => {
  it.effect("plain calls (answered on Node's request) and calls while a fault is armed (the Effect handler) match", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const probes = [
          () => call(emulator, "im.chat.mute", { CHAT_ID: 1489 }),
          () => call(emulator, "im.chat.mute.xml"),
          () => call(emulator, "conformance.paged"),
          () => call(emulator, "batch", { cmd: { a: "conformance.echo?x=1", b: "no.such" } }),
          () => request(`${emulator.url}/rest/1/wrongcode/im.chat.mute`),
          () => postForm(emulator.oauth.tokenUrl, "grant_type=refresh_token")
        ]
        const sample = Effect.forEach(probes, (probe) =>
          Effect.map(probe(), (answer) => ({
            status: answer.status,
            type: answer.headers.get("content-type"),
            text: answer.text
          })))
        const fast = yield* sample
        emulator.setFaults([{ kind: "internal-error", method: "some.other.method" }])
        const handled = yield* sample
        deepStrictEqual(handled, fast)
        strictEqual(emulator.httpRequests(), 2 * probes.length)
      })
    ))
})

describe("§1.5 error envelope", () => {
  it.effect("{error, error_description} with the exception's status and never a time block", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const answers = [
          yield* call(emulator, "im.chat.mute"),
          yield* call(emulator, "no.such.method"),
          yield* request(`${emulator.url}/rest/1/wrongcode/im.chat.mute`),
          yield* callOAuth(emulator, "not-a-token", "im.chat.mute", { CHAT_ID: 1489 })
        ]
        deepStrictEqual(answers.map((answer) => [answer.status, answer.body.error]), [
          [400, "CHAT_ID_EMPTY"],
          [404, "ERROR_METHOD_NOT_FOUND"],
          [401, "NO_AUTH_FOUND"],
          [401, "invalid_token"]
        ])
        for (const answer of answers) {
          deepStrictEqual(Object.keys(answer.body), ["error", "error_description"])
          assertFalse(answer.text.includes("\"time\""))
        }
      })
    ))

  it.effect("a path outside /rest/ is a plain 404 page and no call", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const answer = yield* request(`${emulator.url}/index.php`)
        strictEqual(answer.status, 404)
        strictEqual(answer.body, undefined)
        strictEqual(emulator.journal.length, 0)
      })
    ))
})
