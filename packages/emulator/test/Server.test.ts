/**
 * The emulator's wire protocol, checked with plain `fetch` as curl would see it: routing and auth (wire sheet §1.1,
 * §4), parameter encodings (§1.2), envelopes and headers (§1.4, §1.5), and the journal.
 */
import { describe, it } from "@effect/vitest"
import { assertFalse, assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Fixture from "../src/Fixture.js"
import { assertError, assertSuccess, curl, postForm, postJson, request, webhook, withEmulator } from "./helpers.js"

const silentBody = "{\"CHAT_ID\":2043,\"ACTIVATE\":\"Y\"}"

describe("the emulator's credentials", () => {
  it.effect("serves on 127.0.0.1 with a webhook URL of the form {url}/rest/{user}/{code}/", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        assertTrue(/^http:\/\/127\.0\.0\.1:\d+$/.test(emulator.url), emulator.url)
        const code = emulator.credentials.webhooks[0]!.code
        strictEqual(webhook(emulator), `${emulator.url}/rest/1/${code}/`)
        strictEqual(webhook(emulator, 3), `${emulator.url}/rest/3/${emulator.credentials.webhooks[2]!.code}/`)
        assertTrue(/^[a-z0-9]{16}$/.test(code), "a 16-character webhook code")
        assertTrue(emulator.credentials.tokens.has(Redacted.value(emulator.accessToken)))
        strictEqual(String(emulator.webhookUrl).includes(code), false)
      })
    ))

  it.effect("each emulator has its own credentials and state", () =>
    Effect.gen(function*() {
      const first = yield* withEmulator((emulator) =>
        Effect.as(postJson(`${webhook(emulator)}im.chat.mute`, { CHAT_ID: 1489 }), webhook(emulator))
      )
      yield* withEmulator((emulator) =>
        Effect.sync(() => {
          assertTrue(webhook(emulator) !== first)
          strictEqual(emulator.journal.length, 0)
          strictEqual(emulator.portal.chats.get(1489)!.muted.size, 0)
        })
      )
    }))
})

describe("envelopes and headers (wire sheet §1.4, §1.5)", () => {
  it.effect("success and error responses carry the portal's headers", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const ok = yield* curl(`${webhook(emulator)}imopenlines.session.mode.silent.json`, silentBody)
        const failed = yield* postJson(`${webhook(emulator)}im.chat.mute.json`, {})
        for (const answer of [ok, failed]) {
          strictEqual(answer.headers.get("content-type"), "application/json; charset=utf-8")
          strictEqual(answer.headers.get("access-control-allow-origin"), "*")
          strictEqual(answer.headers.get("access-control-allow-headers"), "origin, content-type, accept")
          strictEqual(answer.headers.get("x-content-type-options"), "nosniff")
        }
      })
    ))

  it.effect("error bodies have no time block", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const answers = [
          yield* postJson(`${webhook(emulator)}im.chat.mute.json`, {}),
          yield* postJson(`${webhook(emulator)}imopenlines.session.mode.silent.json`, { CHAT_ID: 1489 }),
          yield* postJson(`${webhook(emulator)}no.such.method.json`, {}),
          yield* postJson(`${emulator.url}/rest/1/wrongcode/im.chat.mute.json`, { CHAT_ID: 1489 })
        ]
        for (const answer of answers) {
          assertTrue(answer.status >= 400, answer.text)
          deepStrictEqual(Object.keys(answer.body).sort(), ["error", "error_description"])
          assertFalse(answer.text.includes("time"))
        }
      })
    ))

  it.effect("JSON is encoded as the portal encodes it: ' as \\u0027 and / as \\/", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        strictEqual(
          (yield* postJson(`${webhook(emulator)}im.chat.mute.json`, {})).text,
          "{\"error\":\"CHAT_ID_EMPTY\",\"error_description\":\"Chat ID can\\u0027t be empty\"}"
        )
        strictEqual(
          (yield* postJson(`${webhook(emulator)}imopenlines.session.mode.pin.json`, { CHAT_ID: 2050 })).text,
          "{\"error\":\"ERROR_USER_NOT_OPERATOR\",\"error_description\":" +
            "\"Attempt to pin \\/ unpin a chat by a user who is not an operator\"}"
        )
      })
    ))

  it.effect("a path outside /rest/ is a plain 404 page", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const answer = yield* request(`${emulator.url}/index.php`)
        strictEqual(answer.status, 404)
        strictEqual(answer.body, undefined)
        strictEqual(emulator.journal.length, 0)
      })
    ))
})

describe("unknown methods (wire sheet §1.1)", () => {
  it.effect("answer 404 ERROR_METHOD_NOT_FOUND", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        assertError(
          yield* postJson(`${webhook(emulator)}crm.deal.add.json`, {}),
          404,
          "ERROR_METHOD_NOT_FOUND",
          "Method not found!"
        )
      })
    ))

  it.effect("a suffix other than .json or .xml stays part of the name, so the method is not found", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        assertError(
          yield* postJson(`${webhook(emulator)}im.chat.mute.php`, { CHAT_ID: 1489 }),
          404,
          "ERROR_METHOD_NOT_FOUND",
          "Method not found!"
        )
        strictEqual(emulator.portal.chats.get(1489)!.muted.size, 0)
      })
    ))
})

describe("inbound webhook auth (wire sheet §1.1)", () => {
  it.effect("a wrong webhook code answers 401 NO_AUTH_FOUND and runs nothing", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        assertError(
          yield* curl(`${emulator.url}/rest/1/wrongcode123/imopenlines.session.mode.silent.json`, silentBody),
          401,
          "NO_AUTH_FOUND",
          "Wrong authorization data"
        )
        strictEqual(emulator.portal.chats.get(2043)!.silent, false)
      })
    ))

  it.effect("another user's code does not authenticate user 1", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const code3 = emulator.credentials.webhooks[2]!.code
        assertError(
          yield* curl(`${emulator.url}/rest/1/${code3}/imopenlines.session.mode.silent.json`, silentBody),
          401,
          "NO_AUTH_FOUND",
          "Wrong authorization data"
        )
      })
    ))
})

describe("OAuth auth (wire sheet §1.1, §4)", () => {
  it.effect("an unknown token answers 401 invalid_token", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        assertError(
          yield* curl(
            `${emulator.url}/rest/imopenlines.session.mode.silent.json`,
            "{\"CHAT_ID\":2043,\"ACTIVATE\":\"Y\",\"auth\":\"not-a-token\"}"
          ),
          401,
          "invalid_token",
          "The access token provided is invalid"
        )
      })
    ))

  it.effect("no token at all answers 401 NO_AUTH_FOUND", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        assertError(
          yield* curl(`${emulator.url}/rest/imopenlines.session.mode.silent.json`, silentBody),
          401,
          "NO_AUTH_FOUND",
          "Wrong authorization data"
        )
      })
    ))

  it.effect("an expired token answers 401 expired_token", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        emulator.credentials.tokens.set("expiredtoken", {
          token: "expiredtoken",
          userId: 1,
          scopes: new Set(["imopenlines", "im"]),
          expiresAt: emulator.portal.now() - 1
        })
        assertError(
          yield* curl(
            `${emulator.url}/rest/im.chat.mute`,
            "{\"CHAT_ID\":1489,\"MUTE\":\"Y\",\"auth\":\"expiredtoken\"}"
          ),
          401,
          "expired_token",
          "The access token provided has expired"
        )
      })
    ))

  it.effect("the token is also read from access_token and from Authorization: Bearer", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const token = Redacted.value(emulator.accessToken)
        assertSuccess(
          yield* request(`${emulator.url}/rest/im.chat.mute.json?CHAT_ID=1489&access_token=${token}`)
        )
        assertSuccess(
          yield* curl(`${emulator.url}/rest/imopenlines.session.mode.silent.json`, silentBody, {
            Authorization: `Bearer ${token}`
          })
        )
        deepStrictEqual(emulator.journal.map((entry) => entry.auth), ["oauth:1", "oauth:1"])
      })
    ))
})

describe("scopes (wire sheet §4, §5)", () => {
  it.effect("a webhook without the method's scope answers 403 insufficient_scope", () =>
    withEmulator(
      (emulator) =>
        Effect.gen(function*() {
          assertError(
            yield* curl(`${webhook(emulator)}imopenlines.session.mode.silent.json`, silentBody),
            403,
            "insufficient_scope",
            "The request requires higher privileges than provided by the webhook token"
          )
          strictEqual(emulator.portal.chats.get(2043)!.silent, false)
          assertSuccess(yield* postJson(`${webhook(emulator)}im.chat.mute.json`, { CHAT_ID: 1489 }))
        }),
      { fixture: { ...Fixture.defaultFixture, webhooks: [{ userId: 1, scopes: ["im"] }] } }
    ))
})

describe("method names (wire sheet §1.1: lowercased, .json/.xml suffix removed, trailing slash accepted)", () => {
  it.effect("every spelling reaches the same handler", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const spellings = [
          "imopenlines.session.mode.silent",
          "imopenlines.session.mode.silent.json",
          "IMOPENLINES.Session.Mode.Silent.JSON",
          "imopenlines.session.mode.silent/",
          "imopenlines.session.mode.silent.json/"
        ]
        for (const spelling of spellings) {
          assertSuccess(yield* curl(`${webhook(emulator)}${spelling}`, silentBody))
        }
        assertSuccess(
          yield* curl(
            `${emulator.url}/rest/IM.CHAT.MUTE/`,
            "{\"CHAT_ID\":1489,\"auth\":\"" +
              Redacted.value(emulator.accessToken) + "\"}"
          )
        )
        deepStrictEqual(
          emulator.journal.map((entry) => entry.method),
          [...spellings.map(() => "imopenlines.session.mode.silent"), "im.chat.mute"]
        )
      })
    ))
})

describe("parameter encodings (wire sheet §1.2)", () => {
  it.effect("a form-urlencoded body works", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        assertSuccess(
          yield* postForm(`${webhook(emulator)}imopenlines.session.mode.silent.json`, "CHAT_ID=2043&ACTIVATE=Y")
        )
        strictEqual(emulator.portal.chats.get(2043)!.silent, true)
        deepStrictEqual(emulator.journal[0]?.params, { CHAT_ID: "2043", ACTIVATE: "Y" })
      })
    ))

  it.effect("PHP bracket keys nest", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        assertSuccess(
          yield* postForm(
            `${webhook(emulator)}im.chat.mute.json`,
            "CHAT_ID=1489&fields%5BTITLE%5D=x&fields[PHONE][0][VALUE]=112233&select[]=ID&select[]=TITLE"
          )
        )
        deepStrictEqual(emulator.journal[0]?.params, {
          CHAT_ID: "1489",
          fields: { TITLE: "x", PHONE: [{ VALUE: "112233" }] },
          select: ["ID", "TITLE"]
        })
      })
    ))

  it.effect("a plain query string works (GET)", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        assertSuccess(yield* request(`${webhook(emulator)}im.chat.mute.json?CHAT_ID=1489&MUTE=Y`))
        assertSuccess(yield* request(`${webhook(emulator)}imopenlines.session.mode.silent?CHAT_ID=2043&ACTIVATE=Y`))
        strictEqual(emulator.portal.chats.get(1489)!.muted.has(1), true)
        strictEqual(emulator.portal.chats.get(2043)!.silent, true)
      })
    ))

  it.effect("the body overrides the query", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        assertSuccess(
          yield* curl(`${webhook(emulator)}imopenlines.session.mode.silent.json?CHAT_ID=999999&ACTIVATE=N`, silentBody)
        )
        strictEqual(emulator.portal.chats.get(2043)!.silent, true)
        deepStrictEqual(emulator.journal[0]?.params, { CHAT_ID: 2043, ACTIVATE: "Y" })
      })
    ))

  it.effect("a malformed JSON body is silently ignored, the query still counts", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        assertSuccess(yield* curl(`${webhook(emulator)}im.chat.mute.json?CHAT_ID=1489`, "{not json"))
        strictEqual(emulator.portal.chats.get(1489)!.muted.has(1), true)
      })
    ))

  it.effect("a multipart/form-data body works (curl -F), as for every portal method", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const form = new FormData()
        form.append("CHAT_ID", "1489")
        form.append("MUTE", "Y")
        assertSuccess(yield* request(`${webhook(emulator)}im.chat.mute.json`, { method: "POST", body: form }))
        strictEqual(emulator.portal.chats.get(1489)!.muted.has(1), true)
      })
    ))
})

describe("the journal", () => {
  it.effect("records method, params without credentials, the auth entity, status, error and executed", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const token = Redacted.value(emulator.accessToken)
        yield* curl(`${emulator.url}/rest/imopenlines.session.mode.silent.json`, `{"CHAT_ID":2043,"auth":"${token}"}`)
        yield* postJson(`${webhook(emulator, 2)}IM.CHAT.MUTE`, { CHAT_ID: 2043 })
        yield* postJson(`${emulator.url}/rest/1/wrongcode/im.chat.mute.json`, { CHAT_ID: 1489 })
        yield* postJson(`${webhook(emulator)}no.such.method`, { x: 1 })
        deepStrictEqual(
          emulator.journal.map(({ auth, error, executed, method, params, seq, status }) => ({
            seq,
            method,
            params,
            auth,
            status,
            error,
            executed
          })),
          [
            {
              seq: 1,
              method: "imopenlines.session.mode.silent",
              params: { CHAT_ID: 2043 },
              auth: "oauth:1",
              status: 200,
              error: undefined,
              executed: true
            },
            {
              seq: 2,
              method: "im.chat.mute",
              params: { CHAT_ID: 2043 },
              auth: "webhook:2",
              status: 403,
              error: "ACCESS_ERROR",
              executed: true
            },
            {
              seq: 3,
              method: "im.chat.mute",
              params: { CHAT_ID: 1489 },
              auth: "none",
              status: 401,
              error: "NO_AUTH_FOUND",
              executed: false
            },
            {
              seq: 4,
              method: "no.such.method",
              params: { x: 1 },
              auth: "webhook:1",
              status: 404,
              error: "ERROR_METHOD_NOT_FOUND",
              executed: false
            }
          ]
        )
        assertFalse(JSON.stringify(emulator.journal).includes(token))
      })
    ))

  it.effect("never keeps access_token, aplogin or ap either", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const token = Redacted.value(emulator.accessToken)
        yield* request(`${emulator.url}/rest/im.chat.mute?CHAT_ID=1489&access_token=${token}&aplogin=1&ap=x`)
        deepStrictEqual(emulator.journal[0]?.params, { CHAT_ID: "1489" })
      })
    ))
})

describe("simulated latency (Options.latency)", () => {
  it.live("delays REST answers by the configured latency, never the control API", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const timed = <A>(effect: Effect.Effect<A>) =>
          Effect.gen(function*() {
            const started = performance.now()
            const value = yield* effect
            return { value, ms: performance.now() - started }
          })
        const call = yield* timed(curl(`${webhook(emulator)}im.chat.mute`, "{\"CHAT_ID\":1489}"))
        assertSuccess(call.value)
        assertTrue(call.ms >= 990, `the answer came after ${call.ms} ms, before the 1000 ms latency`)
        const control = yield* timed(request(`${emulator.controlUrl}/stats`))
        strictEqual(control.value.status, 200)
        assertTrue(control.ms < 900, `the control API waited ${control.ms} ms`)
      }), { latency: { ms: 1_000 } }))
})
