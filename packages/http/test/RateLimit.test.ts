/**
 * The client-side leaky bucket (wire sheet §3.1) over real HTTP against the emulator's bucket, with the TestClock
 * and the emulator's manual clock moving in lockstep: requests wait for their token instead of meeting 503
 * QUERY_LIMIT_EXCEEDED, at the portal's own pace.
 */
import { ImChat } from "@bitrix24-effect/core"
import * as RateLimiter from "@effect/experimental/RateLimiter"
import { describe, it } from "@effect/vitest"
import { assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import * as Bitrix24Http from "../src/Bitrix24Http.js"
import * as OperatingBudget from "../src/OperatingBudget.js"
import * as PortalLimits from "../src/PortalLimits.js"
import * as RetryPolicy from "../src/RetryPolicy.js"
import { drive, limitErrors } from "./emulated.js"
import { withDefaults, withEmulator } from "./helpers.js"

const range = (n: number) => Array.from({ length: n }, (_, i) => i)
const concurrently = (n: number) =>
  Effect.forEach(range(n), () => ImChat.mute({ CHAT_ID: 1489 }), { concurrency: "unbounded" })

describe("the leaky bucket, mirrored (wire sheet §3.1)", () => {
  it.effect("standard (50, 2/s): 130 concurrent calls, no 503, paced at the drain rate", () =>
    withEmulator(
      (emulator) =>
        Effect.gen(function*() {
          const fiber = yield* concurrently(130).pipe(
            Effect.provide(withDefaults(Bitrix24Http.layerWebhook(emulator.webhookUrl))),
            Effect.fork
          )
          const results = yield* drive(fiber, { emulator, step: "100 millis" })
          strictEqual(results.length, 130)
          deepStrictEqual(limitErrors(emulator), [])
          strictEqual(emulator.httpRequests(), 130)
          // 50 at once, then 80 more at 2 per second: 40 s at best.
          const elapsed = yield* TestClock.currentTimeMillis
          assertTrue(elapsed >= 39_500 && elapsed <= 45_000, `elapsed ${elapsed} ms`)
        }),
      { clock: "manual" }
    ))

  it.effect("enterprise (250, 5/s) against an enterprise portal: 300 calls, no 503, about 10 s", () =>
    withEmulator(
      (emulator) =>
        Effect.gen(function*() {
          const fiber = yield* concurrently(300).pipe(
            Effect.provide(
              withDefaults(
                Bitrix24Http.layerWebhook(emulator.webhookUrl).pipe(
                  Layer.provide(PortalLimits.layer({ bucket: "enterprise" }))
                )
              )
            ),
            Effect.fork
          )
          yield* drive(fiber, { emulator, step: "100 millis" })
          deepStrictEqual(limitErrors(emulator), [])
          const elapsed = yield* TestClock.currentTimeMillis
          assertTrue(elapsed >= 9_500 && elapsed <= 13_000, `elapsed ${elapsed} ms`)
        }),
      { clock: "manual", limits: { bucket: "enterprise" } }
    ))

  it.effect("a custom bucket from configuration (B24_BUCKET=10/5)", () =>
    withEmulator(
      (emulator) =>
        Effect.gen(function*() {
          const limits = PortalLimits.layerConfig().pipe(
            Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["B24_BUCKET", "10/5"]]))))
          )
          const fiber = yield* concurrently(40).pipe(
            Effect.provide(withDefaults(Bitrix24Http.layerWebhook(emulator.webhookUrl).pipe(Layer.provide(limits)))),
            Effect.fork
          )
          yield* drive(fiber, { emulator, step: "100 millis" })
          deepStrictEqual(limitErrors(emulator), [])
          const elapsed = yield* TestClock.currentTimeMillis
          assertTrue(elapsed >= 5_900 && elapsed <= 8_000, `elapsed ${elapsed} ms`)
        }),
      { clock: "manual", limits: { bucket: { size: 10, drainPerSecond: 5 } } }
    ))

  it.effect("two transports of one portal share the bucket through the RateLimiter they are given", () =>
    withEmulator(
      (emulator) =>
        Effect.gen(function*() {
          const store = Layer.mergeAll(
            Layer.provideMerge(RateLimiter.layer, RateLimiter.layerStoreMemory),
            OperatingBudget.layerStoreMemory,
            PortalLimits.layer(),
            RetryPolicy.layerDefault
          )
          const program = Effect.gen(function*() {
            const a = yield* Effect.fork(
              concurrently(45).pipe(Effect.provide(Bitrix24Http.layerWebhook(emulator.webhookUrl)))
            )
            const b = yield* Effect.fork(
              concurrently(45).pipe(Effect.provide(Bitrix24Http.layerWebhook(emulator.webhookUrl)))
            )
            return [yield* a.await, yield* b.await]
          })
          const fiber = yield* program.pipe(Effect.provide(store), Effect.fork)
          const exits = yield* drive(fiber, { emulator, step: "100 millis" })
          assertTrue(exits.every((exit) => exit._tag === "Success"))
          deepStrictEqual(limitErrors(emulator), [])
          assertTrue((yield* TestClock.currentTimeMillis) >= 19_500, "40 of the 90 waited for the drain")
        }),
      { clock: "manual" }
    ))

  it.effect("without the mirror (bucket off), the same burst meets 503 QUERY_LIMIT_EXCEEDED on the wire", () =>
    withEmulator(
      (emulator) =>
        Effect.gen(function*() {
          const fiber = yield* concurrently(80).pipe(
            Effect.provide(
              withDefaults(
                Bitrix24Http.layerWebhook(emulator.webhookUrl).pipe(
                  Layer.provide(PortalLimits.layer({ bucket: "off" }))
                )
              )
            ),
            Effect.either,
            Effect.fork
          )
          yield* drive(fiber, { emulator, step: "100 millis" })
          assertTrue(limitErrors(emulator).length >= 30, `${limitErrors(emulator).length} refusals`)
        }),
      { clock: "manual" }
    ))
})

describe("PortalLimits settings", () => {
  it("parseBucket reads presets, off and <size>/<drain>", () => {
    deepStrictEqual(PortalLimits.parseBucket("Standard"), Option.some("standard"))
    deepStrictEqual(PortalLimits.parseBucket("enterprise"), Option.some("enterprise"))
    deepStrictEqual(PortalLimits.parseBucket("off"), Option.some("off"))
    deepStrictEqual(PortalLimits.parseBucket("50 / 2.5"), Option.some({ size: 50, drainPerSecond: 2.5 }))
    deepStrictEqual(PortalLimits.parseBucket("0/2"), Option.none())
    deepStrictEqual(PortalLimits.parseBucket("fast"), Option.none())
  })

  it.effect("layerConfig rejects a bucket it cannot read", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Effect.provide(
          PortalLimits.PortalLimits,
          PortalLimits.layerConfig().pipe(
            Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["B24_BUCKET", "fast"]]))))
          )
        )
      )
      assertTrue(String(error).includes("B24_BUCKET"))
    }))

  it("the presets are the documented ones", () => {
    deepStrictEqual(PortalLimits.presets, {
      standard: { size: 50, drainPerSecond: 2 },
      enterprise: { size: 250, drainPerSecond: 5 }
    })
    deepStrictEqual(PortalLimits.bucketSize("off"), undefined)
  })
})
