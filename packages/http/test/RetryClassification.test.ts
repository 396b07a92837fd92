/**
 * The retry classification of wire sheet §3 and §5 with a stub portal (the exact failure matters here; the same rules
 * over real HTTP against the emulator's faults are in RetryFaults.test.ts) and the TestClock: proven refusals are
 * retried, requests that never left are retried, ambiguous failures are retried only for idempotent methods and
 * otherwise surface as OutcomeUnknown naming the method, and final errors are never retried.
 */
import { Bitrix24Client, ImChat, ImOpenLines, PortalError } from "@bitrix24-effect/core"
import { describe, it } from "@effect/vitest"
import { assertFalse, assertInstanceOf, assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import * as Bitrix24Http from "../src/Bitrix24Http.js"
import * as RetryPolicy from "../src/RetryPolicy.js"
import { driveClock, ok, queryLimit, type Reply, stubPortal } from "./stubs.js"

const webhookUrl = Redacted.make("https://x.bitrix24.com/rest/1/abc/")

const transport = <E>(stub: ReturnType<typeof stubPortal>, policy: Layer.Layer<RetryPolicy.RetryPolicy, E>) =>
  Bitrix24Http.layerWebhook(webhookUrl, { timeout: "5 seconds" }).pipe(
    Layer.provide(Layer.merge(stub.layer, policy)),
    Layer.provide(Bitrix24Http.layerDefaults)
  )

/** An idempotent method (im.chat.mute) and a non-idempotent one (imopenlines.session.start, wire sheet §6). */
const mute = ImChat.mute({ CHAT_ID: 1489 })
const start = ImOpenLines.sessionStart({ CHAT_ID: 494 })

const internalError: Reply = [500, { error: "INTERNAL_SERVER_ERROR", error_description: "Internal server error" }]
const ambiguous: ReadonlyArray<readonly [string, Reply, PortalError.TransportError["reason"]]> = [
  ["an HTML 502 page", [502, "<html><body>Bad Gateway</body></html>"], "InvalidBody"],
  ["truncated JSON", [200, "{\"result\":tr"], "InvalidBody"],
  ["a connection reset after sending", { network: "ECONNRESET" }, "Network"],
  ["no answer within the timeout", "hang", "Timeout"]
]

describe("RetryPolicy.classify (wire sheet §3, §5)", () => {
  const wire = (code: string, status: number | undefined) =>
    new Bitrix24Client.WireFailure({ code, description: "", status })
  const transportError = (reason: PortalError.TransportError["reason"], status?: number) =>
    new PortalError.TransportError({
      method: "m",
      reason,
      description: "",
      ...(status === undefined ? {} : { status })
    })

  it("sorts failures into refused, not-sent, ambiguous and final", () => {
    deepStrictEqual(
      [
        wire("QUERY_LIMIT_EXCEEDED", 503),
        wire("OPERATION_TIME_LIMIT", 429),
        wire("OPERATION_TIME_LIMIT", undefined),
        new RetryPolicy.NotSent({ method: "m", reason: "Network", description: "" }),
        wire("INTERNAL_SERVER_ERROR", 500),
        wire("ERROR_CORE", 500),
        transportError("Timeout"),
        transportError("Network"),
        transportError("InvalidBody", 502),
        transportError("InvalidBody", 200),
        wire("PORTAL_DELETED", 500),
        wire("OVERLOAD_LIMIT", 503),
        wire("expired_token", 401),
        wire("ACCESS_ERROR", 403),
        wire("CHAT_ID", 400),
        wire("INTERNAL_SERVER_ERROR", undefined),
        transportError("InvalidBody", 404),
        transportError("UnexpectedResult")
      ].map(RetryPolicy.classify),
      [
        "refused",
        "refused",
        "refused",
        "not-sent",
        "ambiguous",
        "ambiguous",
        "ambiguous",
        "ambiguous",
        "ambiguous",
        "ambiguous",
        "final",
        "final",
        "final",
        "final",
        "final",
        "final",
        "final",
        "final"
      ]
    )
  })
})

describe("RetryPolicy.layer(): the safe policy", () => {
  const safe = RetryPolicy.layer()

  for (
    const [name, reply, reason] of [
      ["INTERNAL_SERVER_ERROR (500)", internalError, "InvalidBody"] as const,
      ...ambiguous
    ]
  ) {
    it.effect(`${name}: an idempotent call is replayed and succeeds`, () =>
      Effect.gen(function*() {
        const stub = stubPortal([reply, ok])
        const fiber = yield* mute.pipe(Effect.provide(transport(stub, safe)), Effect.fork)
        strictEqual(yield* driveClock(fiber, 60), true)
        strictEqual(stub.requests.length, 2)
      }))

    it.effect(`${name}: a non-idempotent call is not replayed and fails with OutcomeUnknown naming the method`, () =>
      Effect.gen(function*() {
        const stub = stubPortal([reply, ok])
        const fiber = yield* start.pipe(Effect.provide(transport(stub, safe)), Effect.fork)
        const error = yield* Effect.flip(driveClock(fiber, 60))
        assertInstanceOf(error, RetryPolicy.OutcomeUnknown)
        assertInstanceOf(error, PortalError.TransportError)
        assertTrue(RetryPolicy.isOutcomeUnknown(error))
        strictEqual(error._tag, "TransportError")
        strictEqual(error.method, "imopenlines.session.start")
        strictEqual(error.reason, reason)
        strictEqual(error.attempts, 1)
        assertTrue(error.message.startsWith("imopenlines.session.start: outcome unknown after 1 attempt(s)"))
        strictEqual(stub.requests.length, 1)
      }))
  }

  it.effect("a connection refused before sending is not ambiguous: even a non-idempotent call is sent again", () =>
    Effect.gen(function*() {
      const stub = stubPortal([{ network: "ECONNREFUSED" }, ok])
      const fiber = yield* start.pipe(Effect.provide(transport(stub, safe)), Effect.fork)
      strictEqual(yield* driveClock(fiber, 60), true)
      strictEqual(stub.requests.length, 2)
    }))

  it.effect("a connection refused every time ends as a plain TransportError Network, not OutcomeUnknown", () =>
    Effect.gen(function*() {
      const stub = stubPortal([{ network: "ECONNREFUSED" }])
      const fiber = yield* start.pipe(Effect.provide(transport(stub, RetryPolicy.layer({ retries: 2 }))), Effect.fork)
      const error = yield* Effect.flip(driveClock(fiber, 60))
      assertInstanceOf(error, PortalError.TransportError)
      assertFalse(RetryPolicy.isOutcomeUnknown(error))
      strictEqual(error.reason, "Network")
      strictEqual(error.description, "the request failed (ECONNREFUSED)")
      strictEqual(stub.requests.length, 3)
    }))

  it.effect("proven refusals are retried for non-idempotent calls too", () =>
    Effect.gen(function*() {
      const stub = stubPortal([queryLimit, queryLimit, ok])
      const fiber = yield* start.pipe(Effect.provide(transport(stub, safe)), Effect.fork)
      strictEqual(yield* driveClock(fiber, 60), true)
      strictEqual(stub.requests.length, 3)
    }))

  const final: ReadonlyArray<readonly [string, Reply, (error: unknown) => void]> = [
    [
      "a documented method error (403 ACCESS_ERROR)",
      [403, { error: "ACCESS_ERROR", error_description: "This chat cannot be muted" }],
      (error) => assertInstanceOf(error, PortalError.AccessError)
    ],
    [
      "an auth error (401 NO_AUTH_FOUND)",
      [401, { error: "NO_AUTH_FOUND", error_description: "Wrong authorization data" }],
      (error) => assertInstanceOf(error, PortalError.NoAuthFound)
    ],
    [
      "an expired token on a webhook transport, which cannot refresh (401 expired_token)",
      [401, { error: "expired_token", error_description: "The access token provided has expired" }],
      (error) => assertInstanceOf(error, PortalError.ExpiredToken)
    ],
    [
      "a deleted portal (500 PORTAL_DELETED)",
      [500, { error: "PORTAL_DELETED", error_description: "Portal was deleted" }],
      (error) => assertInstanceOf(error, PortalError.PortalDeleted)
    ],
    [
      "a 404 page (the URL is wrong; nothing ran)",
      [404, "<html>Not Found</html>"],
      (error) => {
        assertInstanceOf(error, PortalError.TransportError)
        strictEqual(error.status, 404)
      }
    ]
  ]
  for (const [name, reply, check] of final) {
    it.effect(`${name} is never retried`, () =>
      Effect.gen(function*() {
        const stub = stubPortal([reply, ok])
        const fiber = yield* mute.pipe(Effect.provide(transport(stub, safe)), Effect.fork)
        check(yield* Effect.flip(driveClock(fiber, 60)))
        strictEqual(stub.requests.length, 1)
      }))
  }

  it.effect("retries stop at the maximum: retries 3 makes 4 attempts", () =>
    Effect.gen(function*() {
      const stub = stubPortal([internalError])
      const fiber = yield* mute.pipe(Effect.provide(transport(stub, RetryPolicy.layer({ retries: 3 }))), Effect.fork)
      assertInstanceOf(yield* Effect.flip(driveClock(fiber, 120)), PortalError.InternalServerError)
      strictEqual(stub.requests.length, 4)
    }))

  it.effect("no retry starts after the deadline", () =>
    Effect.gen(function*() {
      const stub = stubPortal([queryLimit])
      const policy = RetryPolicy.layer({ base: "2 seconds", cap: "2 seconds", retries: 100, deadline: "7 seconds" })
      const fiber = yield* mute.pipe(Effect.provide(transport(stub, policy)), Effect.fork)
      assertInstanceOf(yield* Effect.flip(driveClock(fiber, 120)), PortalError.QueryLimitExceeded)
      // Delays of 1.6-2.4 s each: the attempts at about 0, 2, 4 and 6 s fit in 7 s, the next would start after it.
      assertTrue(stub.requests.length >= 3 && stub.requests.length <= 5, `${stub.requests.length} attempts`)
      assertTrue((yield* TestClock.currentTimeMillis) <= 8_000)
    }))

  it.effect("delays grow exponentially, jittered within 80-120 %, and are capped", () =>
    Effect.gen(function*() {
      const stub = stubPortal([queryLimit])
      const policy = RetryPolicy.layer({ base: "1 second", cap: "4 seconds", retries: 5 })
      const fiber = yield* mute.pipe(Effect.provide(transport(stub, policy)), Effect.fork)
      const times: Array<number> = []
      for (let ms = 0; ms <= 40_000 && Option.isNone(yield* Fiber.poll(fiber)); ms += 100) {
        while (times.length < stub.requests.length) times.push(yield* TestClock.currentTimeMillis)
        yield* TestClock.adjust(Duration.millis(100))
      }
      yield* Effect.flip(Fiber.join(fiber))
      while (times.length < stub.requests.length) times.push(yield* TestClock.currentTimeMillis)
      strictEqual(times.length, 6)
      const gaps = times.slice(1).map((at, i) => at - times[i]!)
      const expected = [1000, 2000, 4000, 4000, 4000]
      gaps.forEach((gap, i) => {
        const low = i < 2 ? expected[i]! * 0.8 : 4000 * 0.8
        assertTrue(gap >= low - 100 && gap <= 4100, `gap ${i}: ${gap} ms`)
      })
    }))
})

describe("the default policy (RetryPolicy.layerDefault, in Bitrix24Http.layerDefaults): refusals only", () => {
  it.effect("an ambiguous failure of an idempotent call is not replayed", () =>
    Effect.gen(function*() {
      const stub = stubPortal([internalError, ok])
      const layer = Bitrix24Http.layerWebhook(webhookUrl).pipe(
        Layer.provide(stub.layer),
        Layer.provide(Bitrix24Http.layerDefaults)
      )
      const fiber = yield* mute.pipe(Effect.provide(layer), Effect.fork)
      assertInstanceOf(yield* Effect.flip(driveClock(fiber, 60)), PortalError.InternalServerError)
      strictEqual(stub.requests.length, 1)
    }))

  it.effect("a non-idempotent call that failed ambiguously still reports OutcomeUnknown", () =>
    Effect.gen(function*() {
      const stub = stubPortal([internalError, ok])
      const layer = Bitrix24Http.layerWebhook(webhookUrl).pipe(
        Layer.provide(stub.layer),
        Layer.provide(Bitrix24Http.layerDefaults)
      )
      const fiber = yield* start.pipe(Effect.provide(layer), Effect.fork)
      const error = yield* Effect.flip(driveClock(fiber, 60))
      assertInstanceOf(error, RetryPolicy.OutcomeUnknown)
      strictEqual(error.status, 500)
      assertTrue(error.description.includes("INTERNAL_SERVER_ERROR"))
    }))
})

describe("RetryPolicy.layerConfig", () => {
  it.effect("reads the B24_RETRY_* settings", () =>
    Effect.gen(function*() {
      const stub = stubPortal([internalError])
      const config = RetryPolicy.layerConfig().pipe(
        Layer.provide(
          Layer.setConfigProvider(
            ConfigProvider.fromMap(new Map([["B24_RETRY_RETRIES", "1"], ["B24_RETRY_REPLAY", "safe"]]))
          )
        )
      )
      const fiber = yield* mute.pipe(Effect.provide(transport(stub, config)), Effect.fork)
      assertInstanceOf(yield* Effect.flip(driveClock(fiber, 60)), PortalError.InternalServerError)
      strictEqual(stub.requests.length, 2)
    }))
})
