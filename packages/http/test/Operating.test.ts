/**
 * The operating-time budget (wire sheet §3.2) over real HTTP against the emulator's operating limiter, on the
 * TestClock and the emulator's manual clock in lockstep: the client reads `time.operating` / `operating_reset_at`
 * (for `batch`, each command's own time, charged under its own method), slows down near the limit and waits for the
 * window to reset instead of meeting 429 OPERATION_TIME_LIMIT.
 */
import { ImChat, ImOpenLines, PortalError } from "@bitrix24-effect/core"
import { describe, it } from "@effect/vitest"
import { assertInstanceOf, assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import * as Bitrix24Http from "../src/Bitrix24Http.js"
import * as OperatingBudget from "../src/OperatingBudget.js"
import * as PortalLimits from "../src/PortalLimits.js"
import * as RetryPolicy from "../src/RetryPolicy.js"
import { drive, limitErrors } from "./emulated.js"
import { withEmulator } from "./helpers.js"

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

/** A portal where im.chat.mute takes 5 s of operating time and the limit is 60 s per 10 minutes. */
const portal = {
  clock: "manual",
  limits: { bucket: "off", operatingLimitSeconds: 60, executionSeconds: { "im.chat.mute": 5 } }
} as const

const client = (
  emulator: { readonly webhookUrl: Parameters<typeof Bitrix24Http.layerWebhook>[0] },
  options: PortalLimits.Options,
  batching = false
) =>
  Bitrix24Http.layerWebhook(emulator.webhookUrl, { batching }).pipe(
    Layer.provide(
      Layer.mergeAll(
        PortalLimits.layer({ bucket: "off", ...options }),
        RetryPolicy.layer({ deadline: "1 hour" }),
        PortalLimits.layerMemory
      )
    )
  )

describe("the operating-time budget (wire sheet §3.2)", () => {
  it.effect("20 sequential 5-second calls against a 60 s limit: the client waits for the reset, no 429", () =>
    withEmulator(
      (emulator) =>
        Effect.gen(function*() {
          const fiber = yield* Effect.forEach(range(20), () => ImChat.mute({ CHAT_ID: 1489 })).pipe(
            Effect.provide(client(emulator, { operating: { limitSeconds: 60 } })),
            Effect.fork
          )
          const results = yield* drive(fiber, { emulator, step: "1 second", max: "30 minutes" })
          strictEqual(results.length, 20)
          deepStrictEqual(limitErrors(emulator), [])
          const calls = emulator.journal.filter((entry) => entry.method === "im.chat.mute")
          strictEqual(calls.length, 20)
          // The 12th call would have pushed the window over 55 s (60 s limit, 5 s margin): it waited for the reset.
          const waitedFor = calls[11]!.at - calls[0]!.at
          assertTrue(waitedFor >= 600_000, `the 12th call came ${waitedFor} ms after the first`)
          // Above 80 % (48 s), calls were spread out rather than sent back to back.
          assertTrue(calls[10]!.at - calls[9]!.at >= 3_000, "slowed down near the limit")
          // Below it they went back to back (one clock step of 1 s per round trip on the driven clocks).
          assertTrue(calls.slice(1, 9).every((entry, i) => entry.at - calls[i]!.at <= 1_000), "back to back")
        }),
      portal
    ))

  it.effect("without the budget the same calls meet 429 OPERATION_TIME_LIMIT on the wire", () =>
    withEmulator(
      (emulator) =>
        Effect.gen(function*() {
          const fiber = yield* Effect.forEach(range(14), () => ImChat.mute({ CHAT_ID: 1489 })).pipe(
            Effect.provide(
              Bitrix24Http.layerWebhook(emulator.webhookUrl).pipe(
                Layer.provide(
                  Layer.mergeAll(
                    PortalLimits.layer({ bucket: "off", operating: "off" }),
                    RetryPolicy.layerNone,
                    PortalLimits.layerMemory
                  )
                )
              )
            ),
            Effect.flip,
            Effect.fork
          )
          const error = yield* drive(fiber, { emulator, step: "1 second" })
          assertInstanceOf(error, PortalError.OperationTimeLimit)
          strictEqual(error.status, 429)
          strictEqual(limitErrors(emulator).length, 1)
        }),
      portal
    ))

  it.effect("batch commands are charged under their own methods: a later round waits for the reset", () =>
    withEmulator(
      (emulator) =>
        Effect.gen(function*() {
          const round = (n: number) =>
            Effect.forEach(range(n), () => ImChat.mute({ CHAT_ID: 1489 }), { batching: true })
          const program = Effect.zipRight(round(11), round(5))
          const fiber = yield* program.pipe(
            Effect.provide(client(emulator, { operating: { limitSeconds: 60 } }, true)),
            Effect.fork
          )
          yield* drive(fiber, { emulator, step: "1 second", max: "30 minutes" })
          deepStrictEqual(limitErrors(emulator), [])
          const batches = emulator.journal.filter((entry) => entry.method === "batch")
          strictEqual(batches.length, 2)
          assertTrue(batches[1]!.at - batches[0]!.at >= 600_000, "the second round waited for the window to reset")
          // batch itself is not charged; a method that was never called has no budget used.
          strictEqual(emulator.journal.filter((entry) => entry.method === "im.chat.mute").length, 16)
        }),
      portal
    ))

  it.effect("a 429 the client did not foresee blocks the method until the reported reset, then the call succeeds", () =>
    withEmulator(
      (emulator) =>
        Effect.gen(function*() {
          // The client believes in 480 s; the portal allows 60. The 13th call meets 429 and is retried after the reset.
          const fiber = yield* Effect.forEach(range(14), () => ImChat.mute({ CHAT_ID: 1489 })).pipe(
            Effect.provide(client(emulator, {})),
            Effect.fork
          )
          const results = yield* drive(fiber, { emulator, step: "1 second", max: "30 minutes" })
          strictEqual(results.length, 14)
          strictEqual(limitErrors(emulator).length, 1)
          const calls = emulator.journal.filter((entry) => entry.method === "im.chat.mute")
          const refused = calls.findIndex((entry) => entry.error === "OPERATION_TIME_LIMIT")
          assertTrue(calls[refused + 1]!.at - calls[0]!.at >= 600_000, "the retry waited for the reset")
        }),
      portal
    ))

  it.effect("other methods keep their own budget", () =>
    withEmulator(
      (emulator) =>
        Effect.gen(function*() {
          const program = Effect.gen(function*() {
            yield* Effect.forEach(range(11), () => ImChat.mute({ CHAT_ID: 1489 }))
            const before = yield* TestClock.currentTimeMillis
            yield* ImOpenLines.sessionModeSilent({ CHAT_ID: 2043, ACTIVATE: true })
            return (yield* TestClock.currentTimeMillis) - before
          })
          const fiber = yield* program.pipe(
            Effect.provide(client(emulator, { operating: { limitSeconds: 60 } })),
            Effect.fork
          )
          const elapsed = yield* drive(fiber, { emulator, step: "1 second", max: "30 minutes" })
          assertTrue(elapsed < 5_000, `silent waited ${elapsed} ms`)
        }),
      portal
    ))
})

describe("OperatingBudget", () => {
  const time = (operating: number, start: number, resetIn: number) => ({
    start,
    finish: start + 0.5,
    duration: 0,
    processing: 0,
    date_start: "",
    date_finish: "",
    operating,
    operating_reset_at: start + resetIn
  })

  it.effect("asks for nothing, a slowdown, then a wait for the reset (converted from the portal's clock)", () =>
    Effect.gen(function*() {
      const budget = OperatingBudget.make(PortalLimits.defaultOperating, OperatingBudget.makeStoreMemory(), "p")
      strictEqual((yield* budget.check("m")).kind, "none")
      // The portal's clock is far from the local one: only the difference to its own `finish` counts.
      yield* budget.record("m", time(100, 2_000_000_000, 600))
      strictEqual((yield* budget.check("m")).kind, "none")
      yield* budget.record("m", time(400, 2_000_000_000, 600))
      const slowdown = yield* budget.check("M")
      strictEqual(slowdown.kind, "slowdown")
      strictEqual(Duration.toMillis(slowdown.delay), 6_000)
      yield* budget.record("m", time(476, 2_000_000_000, 300))
      const reset = yield* budget.check("m")
      strictEqual(reset.kind, "reset")
      strictEqual(Duration.toMillis(reset.delay), 301_000)
      yield* TestClock.adjust("301 seconds")
      strictEqual((yield* budget.check("m")).kind, "none")
      deepStrictEqual(yield* budget.snapshot("m"), { used: 0, resetIn: undefined })
    }))

  it.effect("blocked() without a known reset holds the method for blockedFor; \"off\" never waits", () =>
    Effect.gen(function*() {
      const budget = OperatingBudget.make(PortalLimits.defaultOperating, OperatingBudget.makeStoreMemory(), "p")
      yield* budget.blocked("m")
      const wait = yield* budget.check("m")
      strictEqual(wait.kind, "reset")
      strictEqual(Duration.toMillis(wait.delay), 61_000)
      const off = OperatingBudget.make("off", OperatingBudget.makeStoreMemory(), "p")
      yield* off.blocked("m")
      strictEqual((yield* off.check("m")).kind, "none")
      strictEqual(Option.isNone(Option.none()), true)
    }))
})
