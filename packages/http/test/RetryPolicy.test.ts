/**
 * The retry policy, with a stub HttpClient (the one place a mock is used) and the TestClock: only the proven refusal
 * `QUERY_LIMIT_EXCEEDED` (503, wire sheet §3.1) is retried, with backoff; everything else surfaces at once.
 */
import { Bitrix24Client, ImChat, PortalError } from "@bitrix24-effect/core"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { describe, it } from "@effect/vitest"
import { assertFalse, assertInstanceOf, assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import * as Bitrix24Http from "../src/Bitrix24Http.js"
import * as RetryPolicy from "../src/RetryPolicy.js"

type Reply = readonly [status: number, body: unknown] | "network"

const queryLimit: Reply = [503, { error: "QUERY_LIMIT_EXCEEDED", error_description: "Too many requests" }]
const ok: Reply = [200, {
  result: true,
  time: {
    start: 1773678966,
    finish: 1773678966.767325,
    duration: 0.7673249244689941,
    processing: 0,
    date_start: "2026-03-16T19:36:06+01:00",
    date_finish: "2026-03-16T19:36:06+01:00",
    operating_reset_at: 1773679566,
    operating: 0
  }
}]

/** A stub portal answering the replies in order (the last one repeats), counting the requests. */
const stubPortal = (replies: ReadonlyArray<Reply>) => {
  const requests: Array<HttpClientRequest.HttpClientRequest> = []
  const client = HttpClient.make((request) =>
    Effect.suspend(() => {
      const reply = replies[Math.min(requests.length, replies.length - 1)]!
      requests.push(request)
      if (reply === "network") {
        return Effect.fail(
          new HttpClientError.RequestError({ request, reason: "Transport", cause: { code: "ECONNRESET" } })
        )
      }
      const [status, body] = reply
      return Effect.succeed(
        HttpClientResponse.fromWeb(
          request,
          new Response(typeof body === "string" ? body : JSON.stringify(body), {
            status,
            headers: { "content-type": typeof body === "string" ? "text/html" : "application/json; charset=utf-8" }
          })
        )
      )
    })
  )
  return { requests, layer: Layer.succeed(HttpClient.HttpClient, client) }
}

const webhookUrl = Redacted.make("https://x.bitrix24.com/rest/1/abc/")

/** The webhook transport over the stub, with the given retry policy (`RetryPolicy.layerDefault` when absent). */
const transport = (stub: ReturnType<typeof stubPortal>, policy?: Layer.Layer<RetryPolicy.RetryPolicy>) =>
  Bitrix24Http.layerWebhook(webhookUrl).pipe(
    Layer.provide(policy === undefined ? stub.layer : Layer.merge(stub.layer, policy)),
    Layer.provide(Bitrix24Http.layerDefaults)
  )

/** Moves the TestClock a second at a time until the fiber is done (bounded), then joins it. */
const driveClock = <A, E>(fiber: Fiber.RuntimeFiber<A, E>, maxSeconds = 120) =>
  Effect.gen(function*() {
    for (let second = 0; second < maxSeconds && Option.isNone(yield* Fiber.poll(fiber)); second++) {
      yield* TestClock.adjust("1 second")
    }
    return yield* Fiber.join(fiber)
  })

const mute = ImChat.mute({ CHAT_ID: 1489 })

describe("the default policy: QUERY_LIMIT_EXCEEDED is retried with backoff (wire sheet §3.1)", () => {
  it.effect("503 QUERY_LIMIT_EXCEEDED twice, then success: succeeds after 3 attempts", () =>
    Effect.gen(function*() {
      const stub = stubPortal([queryLimit, queryLimit, ok])
      const fiber = yield* mute.pipe(Effect.provide(transport(stub)), Effect.fork)
      yield* TestClock.adjust("100 millis")
      strictEqual(stub.requests.length, 1)
      assertTrue(Option.isNone(yield* Fiber.poll(fiber)), "the retry waits for the backoff")
      strictEqual(yield* driveClock(fiber), true)
      strictEqual(stub.requests.length, 3)
      assertTrue((yield* TestClock.currentTimeMillis) >= 1000, "two backoff delays passed")
    }))

  it.effect("each attempt is the same JSON POST to {base}{method}.json", () =>
    Effect.gen(function*() {
      const stub = stubPortal([queryLimit, ok])
      const fiber = yield* mute.pipe(Effect.provide(transport(stub)), Effect.fork)
      yield* driveClock(fiber)
      strictEqual(stub.requests.length, 2)
      for (const request of stub.requests) {
        strictEqual(request.method, "POST")
        strictEqual(request.url, "https://x.bitrix24.com/rest/1/abc/im.chat.mute.json")
        strictEqual(request.headers["accept"], "application/json")
        assertTrue(request.body._tag === "Uint8Array")
        deepStrictEqual(JSON.parse(new TextDecoder().decode(request.body.body)), { CHAT_ID: 1489 })
      }
    }))

  it.effect("gives up after the configured retries with QueryLimitExceeded", () =>
    Effect.gen(function*() {
      const stub = stubPortal([queryLimit])
      const fiber = yield* mute.pipe(Effect.provide(transport(stub)), Effect.fork)
      const error = yield* Effect.flip(driveClock(fiber))
      assertInstanceOf(error, PortalError.QueryLimitExceeded)
      strictEqual(error.status, 503)
      strictEqual(stub.requests.length, 6)
    }))

  it.effect("RetryPolicy.layer({ retries: 1 }) makes 2 attempts", () =>
    Effect.gen(function*() {
      const stub = stubPortal([queryLimit])
      const fiber = yield* mute.pipe(Effect.provide(transport(stub, RetryPolicy.layer({ retries: 1 }))), Effect.fork)
      assertInstanceOf(yield* Effect.flip(driveClock(fiber)), PortalError.QueryLimitExceeded)
      strictEqual(stub.requests.length, 2)
    }))

  it.effect("the cap bounds every delay", () =>
    Effect.gen(function*() {
      const stub = stubPortal([queryLimit, queryLimit, ok])
      const policy = RetryPolicy.layer({ base: "1 hour", cap: "1 second" })
      const fiber = yield* mute.pipe(Effect.provide(transport(stub, policy)), Effect.fork)
      strictEqual(yield* driveClock(fiber, 20), true)
      strictEqual(stub.requests.length, 3)
      const elapsed = yield* TestClock.currentTimeMillis
      assertTrue(elapsed >= 2000 && elapsed <= 10_000, `elapsed ${elapsed} ms`)
    }))
})

describe("the default policy also retries OPERATION_TIME_LIMIT (429): the call did not run (wire sheet §3.2)", () => {
  it.effect("429 OPERATION_TIME_LIMIT, then success: succeeds after 2 attempts", () =>
    Effect.gen(function*() {
      const stub = stubPortal([
        [429, { error: "OPERATION_TIME_LIMIT", error_description: "Method is blocked due to operation time limit." }],
        ok
      ])
      const fiber = yield* mute.pipe(Effect.provide(transport(stub)), Effect.fork)
      strictEqual(yield* driveClock(fiber, 300), true)
      strictEqual(stub.requests.length, 2)
    }))
})

describe("under the default policy everything else surfaces at once (1 attempt)", () => {
  const cases: ReadonlyArray<readonly [string, Reply, (error: unknown) => void]> = [
    [
      "a method error (403 ACCESS_ERROR)",
      [403, { error: "ACCESS_ERROR", error_description: "This chat cannot be muted" }],
      (error) => assertInstanceOf(error, PortalError.AccessError)
    ],
    [
      "INTERNAL_SERVER_ERROR (500)",
      [500, { error: "INTERNAL_SERVER_ERROR", error_description: "Internal server error" }],
      (error) => assertInstanceOf(error, PortalError.InternalServerError)
    ],
    [
      "an auth error (401 expired_token)",
      [401, { error: "expired_token", error_description: "The access token provided has expired" }],
      (error) => assertInstanceOf(error, PortalError.ExpiredToken)
    ],
    [
      "a non-JSON 502 page",
      [502, "<html><body>Bad Gateway</body></html>"],
      (error) => {
        assertInstanceOf(error, PortalError.TransportError)
        strictEqual(error.reason, "InvalidBody")
        strictEqual(error.status, 502)
      }
    ],
    [
      "a network failure",
      "network",
      (error) => {
        assertInstanceOf(error, PortalError.TransportError)
        strictEqual(error.reason, "Network")
        strictEqual(error.description, "the request failed (ECONNRESET)")
      }
    ]
  ]
  for (const [name, reply, check] of cases) {
    it.effect(name, () =>
      Effect.gen(function*() {
        const stub = stubPortal([reply, ok])
        const fiber = yield* mute.pipe(Effect.provide(transport(stub)), Effect.fork)
        check(yield* Effect.flip(driveClock(fiber)))
        strictEqual(stub.requests.length, 1)
      }))
  }
})

describe("RetryPolicy.layerNone", () => {
  it.effect("makes one attempt, even for QUERY_LIMIT_EXCEEDED", () =>
    Effect.gen(function*() {
      const stub = stubPortal([queryLimit, ok])
      const fiber = yield* mute.pipe(Effect.provide(transport(stub, RetryPolicy.layerNone)), Effect.fork)
      const error = yield* Effect.flip(driveClock(fiber))
      assertInstanceOf(error, PortalError.QueryLimitExceeded)
      strictEqual(error.code, "QUERY_LIMIT_EXCEEDED")
      strictEqual(stub.requests.length, 1)
    }))
})

describe("RetryPolicy.isProvenRefusal (wire sheet §3.1, §3.2: the portal did not run the call)", () => {
  it("is true for QUERY_LIMIT_EXCEEDED and OPERATION_TIME_LIMIT only", () => {
    const wire = (code: string) => new Bitrix24Client.WireFailure({ code, description: "", status: 503 })
    assertTrue(RetryPolicy.isProvenRefusal(wire("QUERY_LIMIT_EXCEEDED")))
    assertTrue(RetryPolicy.isProvenRefusal(wire("OPERATION_TIME_LIMIT")))
    assertFalse(RetryPolicy.isProvenRefusal(wire("INTERNAL_SERVER_ERROR")))
    assertFalse(RetryPolicy.isProvenRefusal(wire("")))
    assertFalse(
      RetryPolicy.isProvenRefusal(new PortalError.TransportError({ method: "m", reason: "Timeout", description: "" }))
    )
  })
})
