/**
 * Test support for the transport tests: a stub HttpClient answering scripted replies (for the retry classification,
 * where the exact failure matters), and a clock driver for TestClock.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"

/** A scripted reply: a status and body, a transport failure with a Node error code, or no answer at all. */
export type Reply =
  | readonly [status: number, body: unknown, headers?: Record<string, string>]
  | { readonly network: string }
  | "hang"

export const ok: Reply = [200, {
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

export const queryLimit: Reply = [503, { error: "QUERY_LIMIT_EXCEEDED", error_description: "Too many requests" }]

/** A stub portal answering the replies in order (the last one repeats), recording the requests. */
export const stubPortal = (replies: ReadonlyArray<Reply>) => {
  const requests: Array<HttpClientRequest.HttpClientRequest> = []
  const client = HttpClient.make((request) =>
    Effect.suspend(() => {
      const reply = replies[Math.min(requests.length, replies.length - 1)]!
      requests.push(request)
      if (reply === "hang") return Effect.never
      if ("network" in reply) {
        return Effect.fail(
          new HttpClientError.RequestError({ request, reason: "Transport", cause: { code: reply.network } })
        )
      }
      const [status, body, headers] = reply
      return Effect.succeed(
        HttpClientResponse.fromWeb(
          request,
          new Response(typeof body === "string" ? body : JSON.stringify(body), {
            status,
            headers: {
              "content-type": typeof body === "string" ? "text/html" : "application/json; charset=utf-8",
              ...headers
            }
          })
        )
      )
    })
  )
  return { requests, layer: Layer.succeed(HttpClient.HttpClient, client) }
}

/** The JSON body of a recorded request. */
export const bodyOf = (request: HttpClientRequest.HttpClientRequest): unknown =>
  request.body._tag === "Uint8Array" ? JSON.parse(new TextDecoder().decode(request.body.body)) : undefined

/** Moves the TestClock a step at a time until the fiber is done (bounded), then joins it. */
export const driveClock = <A, E>(fiber: Fiber.RuntimeFiber<A, E>, maxSeconds = 120, step = 1) =>
  Effect.gen(function*() {
    for (let second = 0; second < maxSeconds && Option.isNone(yield* Fiber.poll(fiber)); second += step) {
      yield* TestClock.adjust(`${step} seconds`)
    }
    return yield* Fiber.join(fiber)
  })
