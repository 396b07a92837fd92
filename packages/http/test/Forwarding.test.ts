/**
 * What a server in front of the portal (the proxy) needs from the transport to answer as the portal did, over real
 * HTTP on loopback against the emulator: the portal's `X-Bitrix-Rest-*` headers on every answer (a call alone or
 * carried inside a `batch`), the error envelope as the portal sent it, the portal's envelope inside `OutcomeUnknown`
 * when a non-idempotent call met a 5xx, and a bucket that refuses at once instead of waiting.
 */
import { Bitrix24Client, ImOpenLines } from "@bitrix24-effect/core"
import * as RateLimiter from "@effect/experimental/RateLimiter"
import { describe, it } from "@effect/vitest"
import { assertInstanceOf, assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as TestClock from "effect/TestClock"
import * as Bitrix24Http from "../src/Bitrix24Http.js"
import * as PortalLimits from "../src/PortalLimits.js"
import * as RetryPolicy from "../src/RetryPolicy.js"
import { drive } from "./emulated.js"
import { withDefaults, withEmulator } from "./helpers.js"

const call = (request: Partial<Bitrix24Client.CallRequest> & { readonly method: string }) =>
  Effect.flatMap(
    Bitrix24Client.Bitrix24Client,
    (client) => client.call({ params: {}, idempotent: true, batchable: false, ...request })
  )

const timingHeaders = ["x-bitrix-rest-system-time", "x-bitrix-rest-time", "x-bitrix-rest-user-time"]

describe("the portal's answer as it came", () => {
  it.effect("a success carries the X-Bitrix-Rest-* headers, and only those", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const response = yield* call({ method: "im.chat.mute", params: { CHAT_ID: 1489 } }).pipe(
          Effect.provide(withDefaults(Bitrix24Http.layerWebhook(emulator.webhookUrl)))
        )
        deepStrictEqual(Object.keys(response.headers ?? {}).sort(), timingHeaders)
        assertTrue(/^\d+\.\d{10}$/.test(response.headers!["x-bitrix-rest-time"]!))
      })
    ))

  it.effect("an error keeps its envelope with every key (ERROR_ARGUMENT's argument) and its headers", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        // Deeper than the portal reads JSON (Wire.maxDepth): refused with ERROR_ARGUMENT naming the param.
        const deep = JSON.parse(`${"[".repeat(600)}1${"]".repeat(600)}`)
        const failure = yield* call({ method: "user.current", params: { X: deep } }).pipe(
          Effect.provide(withDefaults(Bitrix24Http.layerWebhook(emulator.webhookUrl))),
          Effect.flip
        )
        assertInstanceOf(failure, Bitrix24Client.WireFailure)
        strictEqual(failure.code, "ERROR_ARGUMENT")
        deepStrictEqual(Object.keys(failure.envelope ?? {}), ["error", "error_description", "argument"])
        // Refused before the portal processed anything: no timing headers.
        deepStrictEqual(failure.headers, {})
        const denied = yield* call({ method: "im.chat.mute", params: { CHAT_ID: 2043 } }).pipe(
          Effect.provide(withDefaults(Bitrix24Http.layerWebhook(emulator.webhookUrl))),
          Effect.flip
        )
        assertInstanceOf(denied, Bitrix24Client.WireFailure)
        deepStrictEqual([denied.code, denied.status], ["ACCESS_ERROR", 403])
        deepStrictEqual(Object.keys(denied.headers ?? {}).sort(), timingHeaders)
      })
    ))

  it.effect("calls carried inside one batch each get that request's headers", () =>
    withEmulator(
      (emulator) =>
        Effect.gen(function*() {
          const fiber = yield* Effect.all([
            ImOpenLines.sessionModeSilent.withResponse({ CHAT_ID: 2043, ACTIVATE: true }),
            Effect.either(call({ method: "im.chat.mute", params: { CHAT_ID: 2043 }, batchable: true }))
          ], { batching: true }).pipe(
            Effect.provide(
              withDefaults(Bitrix24Http.layerWebhook(emulator.webhookUrl, { batching: true }))
            ),
            Effect.fork
          )
          const [silent, mute] = yield* drive(fiber, { emulator })
          strictEqual(emulator.httpRequests(), 1)
          deepStrictEqual(Object.keys(silent.headers ?? {}).sort(), timingHeaders)
          assertTrue(Either.isLeft(mute))
          const error = mute.left as Bitrix24Client.WireFailure
          strictEqual(error.code, "ACCESS_ERROR")
          deepStrictEqual(error.headers, silent.headers)
        }),
      { clock: "manual" }
    ))

  it.effect("a non-idempotent call meeting a 500 envelope: OutcomeUnknown keeps the portal's code and status", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        emulator.setFaults([{ kind: "internal-error", times: 1 }])
        const error = yield* ImOpenLines.sessionStart({ CHAT_ID: 494 }).pipe(
          Effect.provide(
            Bitrix24Http.layerWebhook(emulator.webhookUrl).pipe(
              Layer.provide(RetryPolicy.layer()),
              Layer.provide(Bitrix24Http.layerDefaults)
            )
          ),
          Effect.flip
        )
        assertInstanceOf(error, RetryPolicy.OutcomeUnknown)
        strictEqual(error.status, 500)
        deepStrictEqual(error.wire, { code: "INTERNAL_SERVER_ERROR", description: "Internal server error" })
      })
    ))
})

describe("PortalLimits.makeAdmission: a bucket that refuses at once", () => {
  const admissions = (bucket: PortalLimits.Bucket, n: number) =>
    Effect.gen(function*() {
      const admit = yield* PortalLimits.makeAdmission(bucket, "test:client")
      const taken: Array<boolean> = []
      for (let i = 0; i < n; i++) taken.push(yield* admit)
      return { admit, taken }
    }).pipe(Effect.provide(PortalLimits.layerRateLimiterMemory))

  it.effect("3 tokens draining 1 per second: 3 admitted, the 4th refused without waiting, one more a second later", () =>
    Effect.gen(function*() {
      const { admit, taken } = yield* admissions({ size: 3, drainPerSecond: 1 }, 4)
      deepStrictEqual(taken, [true, true, true, false])
      strictEqual(yield* TestClock.currentTimeMillis, 0)
      yield* TestClock.adjust("1 second")
      deepStrictEqual([yield* admit, yield* admit], [true, false])
    }))

  it.effect("off admits everything", () =>
    Effect.gen(function*() {
      const { taken } = yield* admissions("off", 500)
      strictEqual(taken.filter(Boolean).length, 500)
    }))

  it.effect("two keys are two buckets", () =>
    Effect.gen(function*() {
      const a = yield* PortalLimits.makeAdmission({ size: 1, drainPerSecond: 1 }, "a")
      const b = yield* PortalLimits.makeAdmission({ size: 1, drainPerSecond: 1 }, "b")
      deepStrictEqual([yield* a, yield* a, yield* b], [true, false, true])
    }).pipe(Effect.provide(Layer.provide(RateLimiter.layer, RateLimiter.layerStoreMemory))))
})
