/**
 * Conformance of the emulator's own surface: the control API under `/_emulator/` through the typed
 * `ControlClient` (state and journal without secrets, reset, fixtures, clock, limits, faults, token issue, stats),
 * and TLS (a self-signed pair made at start, or a given certificate and key).
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, it } from "@effect/vitest"
import { assertFalse, assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as ControlClient from "../src/ControlClient.js"
import type * as Emulator from "../src/Emulator.js"
import * as Fixture from "../src/Fixture.js"
import * as Tls from "../src/Tls.js"
import { call, callOAuth, httpsRequest, withPortal } from "./conformance.js"
import { assertError, assertSuccess, request, webhook } from "./helpers.js"

/** Runs `f` with a ControlClient for the emulator over a plain node HTTP client (trusting its certificate). */
const withControl = <A, E>(
  f: (control: ControlClient.Client, emulator: Emulator.Service) => Effect.Effect<A, E>,
  options: Emulator.Options = {}
) =>
  withPortal((emulator) =>
    Effect.flatMap(ControlClient.make(emulator.url), (control) => f(control, emulator)).pipe(
      Effect.provide(NodeHttpClient.layerWithoutAgent.pipe(
        Layer.provide(
          NodeHttpClient.makeAgentLayer(emulator.certificate === undefined ? {} : { ca: emulator.certificate })
        )
      ))
    ), options)

describe("control API: state and journal never show secrets", () => {
  it.effect("state: the portal, the credentials without codes, secrets or tokens, the clock, limits, faults", () =>
    withControl((control, emulator) =>
      Effect.gen(function*() {
        yield* call(emulator, "imopenlines.session.mode.silent", { CHAT_ID: 2043, ACTIVATE: "Y" })
        const state = (yield* control.portal.state()) as any
        const text = JSON.stringify(state)
        for (
          const secret of [
            ...emulator.credentials.webhooks.map((w) => w.code),
            Redacted.value(emulator.oauth.clientSecret),
            Redacted.value(emulator.accessToken)
          ]
        ) assertFalse(text.includes(secret), "a secret in the state")
        strictEqual(state.portal.chats.find((chat: any) => chat.id === 2043).silent, true)
        deepStrictEqual(state.credentials.webhooks[0], { userId: 1, scopes: ["imopenlines", "im"] })
        strictEqual(state.credentials.applications[0].clientId, emulator.oauth.clientId)
        strictEqual(state.clock.mode, "manual")
        strictEqual(state.limits.bucket, "standard")
        strictEqual(state.httpRequests, 1)
      })
    ))

  it.effect("journal: entries with request, via, auth entity, outcome and executed; credentials redacted", () =>
    withControl((control, emulator) =>
      Effect.gen(function*() {
        const token = Redacted.value(emulator.accessToken)
        yield* callOAuth(emulator, token, "im.chat.mute", { CHAT_ID: 1489 })
        yield* call(emulator, "batch", { cmd: { a: `im.chat.mute?CHAT_ID=1500&access_token=${token}` } })
        yield* call(emulator, "conformance.echo", {
          fields: { client_secret: "s3cr3t-value", refresh_token: "rt-value" }
        })
        const journal = yield* control.portal.journal({ urlParams: {} })
        const text = JSON.stringify(journal)
        for (const secret of [token, "s3cr3t-value", "rt-value"]) assertFalse(text.includes(secret), secret)
        deepStrictEqual(journal.map((entry) => [entry.request, entry.via, entry.method, entry.auth, entry.status]), [
          [1, "direct", "im.chat.mute", "oauth:1", 200],
          [2, "direct", "batch", "webhook:1", 200],
          [2, "batch", "im.chat.mute", "webhook:1", 200],
          [3, "direct", "conformance.echo", "webhook:1", 200]
        ])
        deepStrictEqual(journal[3]!.params, { fields: { client_secret: "[redacted]", refresh_token: "[redacted]" } })
        strictEqual(journal[0]!.entity, `app:${emulator.oauth.clientId}`)
        deepStrictEqual((yield* control.portal.journal({ urlParams: { since: 3 } })).map((entry) => entry.seq), [4])
      })
    ))

  it.effect("stats: HTTP requests (control API excluded, errors and faults included), journal length", () =>
    withControl((control, emulator) =>
      Effect.gen(function*() {
        yield* call(emulator, "im.chat.mute")
        yield* request(`${emulator.url}/rest/1/wrong/im.chat.mute`)
        yield* control.faults.set({ payload: { faults: [{ kind: "html-502", times: 1 }] } })
        yield* call(emulator, "im.chat.mute", { CHAT_ID: 1489 })
        const stats = yield* control.portal.stats()
        strictEqual(stats.httpRequests, 3)
        strictEqual(stats.journalEntries, 3)
        strictEqual(emulator.httpRequests(), 3)
      })
    ))
})

describe("control API: reset and fixtures", () => {
  it.effect("reset: the portal back to its fixture; journal and counters cleared; credentials kept", () =>
    withControl((control, emulator) =>
      Effect.gen(function*() {
        const hook = webhook(emulator)
        yield* call(emulator, "imopenlines.session.mode.silent", { CHAT_ID: 2043, ACTIVATE: "Y" })
        strictEqual(emulator.portal.chats.get(2043)!.silent, true)
        yield* control.portal.reset()
        strictEqual(emulator.portal.chats.get(2043)!.silent, false)
        strictEqual(emulator.journal.length, 0)
        strictEqual(emulator.httpRequests(), 0)
        strictEqual(webhook(emulator), hook)
        assertSuccess(yield* call(emulator, "im.chat.mute", { CHAT_ID: 1489 }))
      })
    ))

  it.effect("loadFixture: a new portal and credentials; a bad fixture is a typed InvalidFixture (400)", () =>
    withControl((control, emulator) =>
      Effect.gen(function*() {
        yield* control.portal.loadFixture({
          payload: {
            ...Fixture.defaultFixture,
            chats: [{ id: 77, type: "C", title: "Only chat", members: [1] }],
            sessions: [],
            webhooks: [{ userId: 1, code: "fixedcode1234", scopes: ["im"] }]
          }
        })
        strictEqual(webhook(emulator), `${emulator.url}/rest/1/fixedcode1234/`)
        assertSuccess(yield* call(emulator, "im.chat.mute", { CHAT_ID: 77 }))
        strictEqual(emulator.portal.chats.size, 1)
        const bad = yield* Effect.either(control.portal.loadFixture({ payload: { users: "nope" } }))
        assertTrue(Either.isLeft(bad))
        if (Either.isLeft(bad)) strictEqual(bad.left._tag, "InvalidFixture")
        strictEqual(emulator.portal.chats.size, 1)
      })
    ))
})

describe("control API: the clock", () => {
  it.effect("advance moves the portal's clock: tokens expire on it", () =>
    withControl((control, emulator) =>
      Effect.gen(function*() {
        const before = yield* control.clock.get()
        strictEqual(before.mode, "manual")
        const after = yield* control.clock.advance({ payload: { ms: 3600 * 1000 } })
        strictEqual(after.now, before.now + 3600 * 1000)
        strictEqual(emulator.clock.now(), after.now)
        assertError(
          yield* callOAuth(emulator, emulator.accessToken, "im.chat.mute", { CHAT_ID: 1489 }),
          401,
          "expired_token",
          "The access token provided has expired"
        )
      })
    ))

  it.effect("the system clock follows wall time, shifted by advance", () =>
    withPortal((emulator) =>
      Effect.sync(() => {
        strictEqual(emulator.clock.mode, "system")
        emulator.clock.advance(10 * 60_000)
        assertTrue(emulator.clock.now() >= Date.now() + 10 * 60_000 - 5)
      }), { clock: "system" }))
})

describe("control API: limits, faults and tokens", () => {
  it.effect("limits: read and merge; holds take effect", () =>
    withControl((control, emulator) =>
      Effect.gen(function*() {
        const initial = yield* control.limits.get()
        deepStrictEqual([initial.bucket, initial.operatingLimitSeconds, initial.operatingActive], [
          "standard",
          480,
          true
        ])
        const set = yield* control.limits.set({
          payload: { bucket: { size: 1, drainPerSecond: 0 }, holds: ["webhook:2"] }
        })
        deepStrictEqual(set.bucket, { size: 1, drainPerSecond: 0 })
        strictEqual(set.operatingLimitSeconds, 480)
        assertError(
          yield* call(emulator, "im.chat.mute", { CHAT_ID: 1489 }).pipe(
            Effect.zipRight(request(`${webhook(emulator, 2)}im.chat.mute?CHAT_ID=1489`))
          ),
          503,
          "QUERY_LIMIT_EXCEEDED",
          "Too many requests"
        )
        strictEqual((yield* control.limits.get()).bucketLevel, 1)
      })
    ))

  it.effect("faults: set and read with remaining counts", () =>
    withControl((control, emulator) =>
      Effect.gen(function*() {
        yield* control.faults.set({
          payload: { faults: [{ kind: "internal-error", times: 2, method: "im.chat.mute" }] }
        })
        strictEqual((yield* call(emulator, "im.chat.mute", { CHAT_ID: 1489 })).status, 500)
        deepStrictEqual(yield* control.faults.get(), [
          { fault: { kind: "internal-error", times: 2, method: "im.chat.mute" }, remaining: 1 }
        ])
        const bad = yield* Effect.either(control.faults.set({ payload: { faults: [{ kind: "latency", share: 2 }] } }))
        assertTrue(Either.isLeft(bad))
      })
    ))

  it.effect("oauth.issue: a working token pair (Redacted on the typed side); unknown user is UnknownSubject", () =>
    withControl((control, emulator) =>
      Effect.gen(function*() {
        const issued = yield* control.oauth.issue({ payload: { userId: 2 } })
        assertTrue(Redacted.isRedacted(issued.access_token))
        strictEqual(issued.user_id, 2)
        strictEqual(issued.client_endpoint, `${emulator.url}/rest/`)
        assertSuccess(yield* callOAuth(emulator, issued.access_token, "im.chat.mute", { CHAT_ID: 1489 }))
        const unknown = yield* Effect.either(control.oauth.issue({ payload: { userId: 999 } }))
        assertTrue(Either.isLeft(unknown) && unknown.left._tag === "UnknownSubject")
      })
    ))
})

describe("TLS", () => {
  it.effect("tls: true serves HTTPS with a self-signed certificate made at start, trusted through emulator.certificate", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        assertTrue(emulator.url.startsWith("https://127.0.0.1:"), emulator.url)
        assertTrue(emulator.certificate!.startsWith("-----BEGIN CERTIFICATE-----"))
        const answer = yield* httpsRequest(`${webhook(emulator)}im.chat.mute.json`, {
          ca: emulator.certificate,
          method: "POST",
          body: "{\"CHAT_ID\":1489}"
        })
        assertSuccess(answer)
        assertTrue(answer.authorized)
        const untrusted = yield* Effect.either(httpsRequest(`${webhook(emulator)}im.chat.mute.json?CHAT_ID=1489`))
        assertTrue(Either.isLeft(untrusted), "an untrusting client refuses the self-signed certificate")
        strictEqual(emulator.oauth.tokenUrl, `${emulator.url}/oauth/token/`)
      }), { tls: true }))

  it.effect("tls with a given certificate and key; the control client works over it", () =>
    Effect.gen(function*() {
      const pair = yield* Tls.selfSigned("localhost")
      yield* withControl((control, emulator) =>
        Effect.gen(function*() {
          strictEqual(emulator.certificate, pair.cert)
          strictEqual((yield* control.clock.get()).mode, "manual")
          const answer = yield* httpsRequest(`${webhook(emulator)}im.chat.mute.json?CHAT_ID=1489`, { ca: pair.cert })
          assertSuccess(answer)
        }), { tls: pair })
    }))
})
