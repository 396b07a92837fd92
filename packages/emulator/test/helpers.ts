/**
 * Shared helpers for the emulator tests: a fresh emulator per test, and plain `fetch` calls that look at the wire
 * exactly as curl would.
 */
import { assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Emulator from "../src/Emulator.js"

/** Runs `f` against a fresh emulator on an ephemeral loopback port, torn down afterwards. */
export const withEmulator = <A, E>(
  f: (emulator: Emulator.Service) => Effect.Effect<A, E>,
  options?: Emulator.Options
) => Effect.flatMap(Emulator.Emulator, f).pipe(Effect.provide(Emulator.layer(options)))

/** The inbound webhook URL (ending in `/`) of user 1, or of another fixture user. */
export const webhook = (emulator: Emulator.Service, userId?: number): string =>
  Redacted.value(userId === undefined ? emulator.webhookUrl : emulator.webhookUrlFor(userId))

/** A response as seen on the wire. `body` is the parsed JSON, or `undefined` when the body is not JSON. */
export interface Answer {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  readonly body: any
}

/** One HTTP request with the platform `fetch`. */
export const request = (url: string, init: RequestInit = {}): Effect.Effect<Answer> =>
  Effect.promise(async () => {
    const response = await fetch(url, init)
    const text = await response.text()
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      body = undefined
    }
    return { status: response.status, headers: response.headers, text, body }
  })

/** `curl -X POST -H "Content-Type: application/json" -H "Accept: application/json" -d '<body>' <url>` */
export const curl = (url: string, body: string, headers: Record<string, string> = {}): Effect.Effect<Answer> =>
  request(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json", ...headers },
    body
  })

/** POSTs a value as a JSON body. */
export const postJson = (url: string, body: unknown): Effect.Effect<Answer> => curl(url, JSON.stringify(body))

/** POSTs a form-urlencoded body. */
export const postForm = (url: string, body: string): Effect.Effect<Answer> =>
  request(url, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body })

/**
 * Asserts the documented success envelope (seeds/001, seeds/003): `{"result":true,"time":{...}}` with HTTP 200,
 * integer `start` and `processing` (rest 25.700+), and the cloud's `operating_reset_at` and `operating`.
 */
export const assertSuccess = (answer: Answer, result: unknown = true): void => {
  strictEqual(answer.status, 200, answer.text)
  deepStrictEqual(Object.keys(answer.body).sort(), ["result", "time"])
  deepStrictEqual(answer.body.result, result)
  const time = answer.body.time
  deepStrictEqual(Object.keys(time).sort(), [
    "date_finish",
    "date_start",
    "duration",
    "finish",
    "operating",
    "operating_reset_at",
    "processing",
    "start"
  ])
  assertTrue(Number.isInteger(time.start), "start is an integer")
  assertTrue(Number.isInteger(time.processing), "processing is an integer")
  assertTrue(typeof time.finish === "number" && time.finish >= time.start, "finish is a number after start")
  assertTrue(typeof time.duration === "number" && time.duration >= 0, "duration is a non-negative number")
  assertTrue(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/.test(time.date_start), "date_start is ISO-8601")
  assertTrue(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/.test(time.date_finish), "date_finish is ISO-8601")
  assertTrue(Number.isInteger(time.operating_reset_at) && time.operating_reset_at > time.start, "operating_reset_at")
  assertTrue(typeof time.operating === "number", "operating is a number")
}

/** Asserts an error envelope: exact status and exact body, which never has a `time` block (wire sheet §1.5). */
export const assertError = (answer: Answer, status: number, error: string, description: string): void => {
  strictEqual(answer.status, status, answer.text)
  deepStrictEqual(answer.body, { error, error_description: description })
}
