/**
 * Conformance, wire sheet §3 and §5: the leaky bucket (503 QUERY_LIMIT_EXCEEDED), the operating-time limit
 * (429 OPERATION_TIME_LIMIT, reported in `time`), OVERLOAD_LIMIT holds, and the `cloud` / `self-hosted` status
 * profiles. Time moves with the manual clock, never with sleeps.
 */
import { describe, it } from "@effect/vitest"
import { assertFalse, assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Fixture from "../src/Fixture.js"
import { call, callOAuth, withPortal } from "./conformance.js"
import type { Answer } from "./helpers.js"
import { assertError, assertSuccess, postJson, request, webhook } from "./helpers.js"

const queryLimitBody = "{\"error\":\"QUERY_LIMIT_EXCEEDED\",\"error_description\":\"Too many requests\"}"

const mute = (emulator: Parameters<typeof call>[0]) => call(emulator, "im.chat.mute", { CHAT_ID: 1489 })

/** Sends `n` calls back to back and answers their statuses. */
const burst = (n: number, send: () => Effect.Effect<Answer>) =>
  Effect.map(Effect.replicateEffect(Effect.suspend(send), n), (answers) => answers.map((answer) => answer.status))

const count = (statuses: ReadonlyArray<number>, status: number) => statuses.filter((s) => s === status).length

describe("§3.1 leaky bucket (default: standard, 50 requests draining 2/s)", () => {
  it.effect("a burst of back-to-back calls meets 503 QUERY_LIMIT_EXCEEDED with the documented body", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const statuses = yield* burst(50, () => mute(emulator))
        strictEqual(count(statuses, 200), 50)
        const limited = yield* mute(emulator)
        strictEqual(limited.status, 503)
        strictEqual(limited.text, queryLimitBody)
        strictEqual(limited.headers.get("content-type"), "application/json; charset=utf-8")
        const last = emulator.journal.at(-1)!
        deepStrictEqual([last.error, last.executed, last.status], ["QUERY_LIMIT_EXCEEDED", false, 503])
      })
    ))

  it.effect("the bucket drains 2 requests per second of the portal's clock", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        yield* burst(50, () => mute(emulator))
        strictEqual((yield* mute(emulator)).status, 503)
        emulator.clock.advance(500)
        strictEqual((yield* mute(emulator)).status, 200)
        strictEqual((yield* mute(emulator)).status, 503)
        emulator.clock.advance(25_000)
        strictEqual(count(yield* burst(51, () => mute(emulator)), 200), 50)
      })
    ))

  it.effect("counted per portal: webhooks, OAuth tokens and failed calls share one bucket; a batch is one request", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        yield* burst(10, () => mute(emulator))
        yield* burst(10, () => postJson(`${webhook(emulator, 2)}im.chat.mute`, { CHAT_ID: 1489 }))
        yield* burst(10, () => callOAuth(emulator, emulator.accessToken, "im.chat.mute", { CHAT_ID: 1489 }))
        yield* burst(10, () => request(`${emulator.url}/rest/1/wrongcode/im.chat.mute`))
        const batch = yield* call(emulator, "batch", {
          cmd: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`c${i}`, "im.chat.mute?CHAT_ID=1489"]))
        })
        deepStrictEqual(Object.keys(batch.body.result.result).length, 20)
        strictEqual(count(yield* burst(10, () => mute(emulator)), 200), 9)
      })
    ))

  it.effect("enterprise: 250 requests draining 5/s", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const statuses = yield* burst(251, () => mute(emulator))
        strictEqual(count(statuses, 200), 250)
        strictEqual(statuses[250], 503)
        emulator.clock.advance(1000)
        strictEqual(count(yield* burst(6, () => mute(emulator)), 200), 5)
      }), { limits: { bucket: "enterprise" } }))

  it.effect("a custom bucket, and setLimits switching it at run time (off: no limit)", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        deepStrictEqual(yield* burst(4, () => mute(emulator)), [200, 200, 200, 503])
        emulator.setLimits({ bucket: "off" })
        strictEqual(count(yield* burst(60, () => mute(emulator)), 200), 60)
        emulator.setLimits({ bucket: "standard" })
        strictEqual(count(yield* burst(51, () => mute(emulator)), 200), 50)
      }), { limits: { bucket: { size: 3, drainPerSecond: 1 } } }))
})

describe("§3.2 operating time per auth entity and method (10-minute window)", () => {
  it.effect("simulated execution time adds up in time.operating; over the limit: 429 OPERATION_TIME_LIMIT", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const start = Math.floor(emulator.clock.now() / 1000)
        const operating: Array<number> = []
        for (let i = 0; i < 5; i++) {
          const answer = yield* mute(emulator)
          assertSuccess(answer)
          operating.push(answer.body.time.operating)
          strictEqual(answer.body.time.operating_reset_at, start + 600)
          strictEqual(answer.body.time.duration, 100)
          strictEqual(answer.body.time.processing, 100)
        }
        deepStrictEqual(operating, [100, 200, 300, 400, 500])
        assertError(
          yield* mute(emulator),
          429,
          "OPERATION_TIME_LIMIT",
          "Method is blocked due to operation time limit."
        )
        strictEqual(emulator.journal.at(-1)!.executed, false)
      }), { limits: { executionSeconds: { "im.chat.mute": 100 } } }))

  it.effect("the block holds only for that entity and that method", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        for (let i = 0; i < 2; i++) yield* mute(emulator)
        strictEqual((yield* mute(emulator)).status, 429)
        assertSuccess(yield* call(emulator, "imopenlines.session.mode.silent", { CHAT_ID: 2043, ACTIVATE: "Y" }))
        assertSuccess(yield* postJson(`${webhook(emulator, 2)}im.chat.mute`, { CHAT_ID: 1489 }))
        assertSuccess(yield* callOAuth(emulator, emulator.accessToken, "im.chat.mute", { CHAT_ID: 1489 }))
      }), { limits: { operatingLimitSeconds: 100, executionSeconds: { "im.chat.mute": 60 } } }))

  it.effect("the window rolls on the clock: ten minutes later the method runs again", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        for (let i = 0; i < 2; i++) yield* mute(emulator)
        strictEqual((yield* mute(emulator)).status, 429)
        emulator.clock.advance(9 * 60_000)
        strictEqual((yield* mute(emulator)).status, 429)
        emulator.clock.advance(60_000)
        const again = yield* mute(emulator)
        assertSuccess(again)
        strictEqual(again.body.time.operating, 60)
      }), { limits: { operatingLimitSeconds: 100, executionSeconds: { "im.chat.mute": 60 } } }))

  it.effect("batch itself is not counted; its commands are, each under its own method", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const answer = yield* call(emulator, "batch", {
          cmd: { a: "im.chat.mute?CHAT_ID=1489", b: "im.chat.mute?CHAT_ID=1500", c: "conformance.echo?x=1" }
        })
        const times = answer.body.result.result_time
        deepStrictEqual([times.a.operating, times.b.operating, times.c.operating], [50, 100, 50])
        strictEqual(answer.body.time.operating, 0)
        strictEqual((yield* mute(emulator)).body.time.operating, 150)
        const again = yield* call(emulator, "batch", { cmd: { a: "conformance.echo?x=1" } })
        strictEqual(again.body.time.operating, 0)
        strictEqual(again.body.result.result_time.a.operating, 100)
      }), { limits: { executionSeconds: { "*": 50 } } }))

  it.effect("executionSeconds keys are method names in any case, like the methods themselves", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        strictEqual((yield* mute(emulator)).body.time.operating, 100)
        strictEqual((yield* call(emulator, "IM.CHAT.MUTE", { CHAT_ID: 1489 })).body.time.operating, 200)
      }), { limits: { executionSeconds: { "Im.Chat.Mute": 100 } } }))

  it.effect("calls of 0.1 s or less are not recorded", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        for (let i = 0; i < 3; i++) strictEqual((yield* mute(emulator)).body.time.operating, 0)
      }), { limits: { executionSeconds: { "im.chat.mute": 0.1 } } }))
})

describe("§3.3 OVERLOAD_LIMIT holds one webhook or application", () => {
  it.effect("a held webhook answers 503 OVERLOAD_LIMIT; others run; lifting the hold restores it", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        assertError(yield* mute(emulator), 503, "OVERLOAD_LIMIT", "REST API is blocked due to overload")
        assertSuccess(yield* postJson(`${webhook(emulator, 2)}im.chat.mute`, { CHAT_ID: 1489 }))
        assertSuccess(yield* callOAuth(emulator, emulator.accessToken, "im.chat.mute", { CHAT_ID: 1489 }))
        emulator.setLimits({ holds: [] })
        assertSuccess(yield* mute(emulator))
      }), { limits: { holds: ["webhook:1"] } }))

  it.effect("a held application's tokens answer OVERLOAD_LIMIT", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        emulator.setLimits({ holds: [`app:${emulator.oauth.clientId}`] })
        assertError(
          yield* callOAuth(emulator, emulator.accessToken, "im.chat.mute", { CHAT_ID: 1489 }),
          503,
          "OVERLOAD_LIMIT",
          "REST API is blocked due to overload"
        )
        assertSuccess(yield* mute(emulator))
      })
    ))
})

describe("§5 status profiles", () => {
  const scopedFixture = { ...Fixture.defaultFixture, webhooks: [{ userId: 1, scopes: ["im"] }] }

  it.effect("cloud (the default): documented statuses, timing headers, operating counters, the bucket", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        strictEqual(emulator.profile, "cloud")
        strictEqual((yield* call(emulator, "imopenlines.session.mode.silent", { CHAT_ID: 2043 })).status, 403)
        emulator.setLimits({ holds: ["webhook:1"] })
        strictEqual((yield* mute(emulator)).status, 503)
        emulator.setLimits({ holds: [] })
        const ok = yield* mute(emulator)
        assertSuccess(ok)
        assertTrue(ok.headers.get("x-bitrix-rest-time") !== null)
        strictEqual(emulator.limits().bucket, "standard")
      }), { fixture: scopedFixture }))

  it.effect("self-hosted: 401 for insufficient_scope and OVERLOAD_LIMIT, no timing headers, no operating fields", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        assertError(
          yield* call(emulator, "imopenlines.session.mode.silent", { CHAT_ID: 2043 }),
          401,
          "insufficient_scope",
          "The request requires higher privileges than provided by the webhook token"
        )
        emulator.setLimits({ holds: ["webhook:1"] })
        assertError(yield* mute(emulator), 401, "OVERLOAD_LIMIT", "REST API is blocked due to overload")
        emulator.setLimits({ holds: [] })
        const ok = yield* mute(emulator)
        strictEqual(ok.status, 200)
        deepStrictEqual(Object.keys(ok.body.time), [
          "start",
          "finish",
          "duration",
          "processing",
          "date_start",
          "date_finish"
        ])
        assertFalse(ok.headers.has("x-bitrix-rest-time"))
        assertError(yield* call(emulator, "no.such.method"), 404, "ERROR_METHOD_NOT_FOUND", "Method not found!")
      }), { fixture: scopedFixture, profile: "self-hosted" }))

  it.effect("self-hosted: no leaky bucket and no operating limiter unless the limits are set", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        strictEqual(count(yield* burst(60, () => mute(emulator)), 200), 60)
        emulator.setLimits({ operatingLimitSeconds: 420 })
        const answer = yield* mute(emulator)
        strictEqual(answer.body.time.operating, 100)
        for (let i = 0; i < 4; i++) yield* mute(emulator)
        strictEqual((yield* mute(emulator)).status, 429)
      }), { profile: "self-hosted", limits: { executionSeconds: { "im.chat.mute": 100 } } }))

  it.effect("both profiles agree on expired_token, invalid_token and NO_AUTH_FOUND (401)", () =>
    Effect.forEach(["cloud", "self-hosted"] as const, (profile) =>
      withPortal((emulator) =>
        Effect.gen(function*() {
          const token = emulator.accessToken
          emulator.clock.advance(3600 * 1000)
          strictEqual((yield* callOAuth(emulator, token, "im.chat.mute", { CHAT_ID: 1489 })).status, 401)
          strictEqual((yield* callOAuth(emulator, "nope", "im.chat.mute", { CHAT_ID: 1489 })).status, 401)
          strictEqual((yield* request(`${emulator.url}/rest/im.chat.mute`)).status, 401)
        }), { profile })))
})
