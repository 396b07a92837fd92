/**
 * The outcome table (src/Outcome.ts, the README's table), row by row, over real HTTP: the emulator's fault switches
 * produce each upstream outcome, for an idempotent method (`im.chat.mute`, replayed by the retry policy) and a
 * non-idempotent one (`imopenlines.session.start`, never replayed after an ambiguous failure). The client gets the
 * same status and code for both; only the replays differ, and the non-idempotent answer says the call may have run.
 */
import { Emulator, type Faults } from "@bitrix24-effect/emulator"
import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { client, config, portal, post, serve, webhookOf } from "./helpers.js"

const idempotent = { method: "im.chat.mute", body: { CHAT_ID: 1489 } }
const nonIdempotent = { method: "imopenlines.session.start", body: { CHAT_ID: 494 } }

/** Both methods through the proxy under a fault switch aimed at each; with the journal's entries per method. */
const underFault = (fault: Omit<Faults.Fault, "method">) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const base = yield* serve(config(
      [portal("main", webhookOf(emulator), { timeout: Duration.millis(400) })],
      [client("9", "outcome-client-secret", "main")]
    ))
    emulator.setFaults([{ ...fault, method: idempotent.method }, { ...fault, method: nonIdempotent.method }])
    const url = `${base}/rest/9/outcome-client-secret/`
    const answers = []
    for (const call of [idempotent, nonIdempotent]) {
      const answer = yield* post(`${url}${call.method}`, call.body)
      answers.push({
        status: answer.status,
        error: answer.json?.error,
        description: String(answer.json?.error_description),
        requests: emulator.journal.filter((entry) => entry.method === call.method).length
      })
    }
    return answers
  }).pipe(Effect.provide(Emulator.layer()))

describe("the outcome table", () => {
  it.scopedLive("the portal's error envelope: its status and envelope, as sent, not retried", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const base = yield* serve(
        config([portal("main", webhookOf(emulator))], [client("9", "outcome-client-secret", "main")])
      )
      for (
        const [method, body] of [["im.chat.mute", { CHAT_ID: 2043 }], ["imopenlines.session.start", {
          CHAT_ID: 999999
        }]] as const
      ) {
        const direct = yield* post(`${Redacted.value(emulator.webhookUrl)}${method}`, body)
        const proxied = yield* post(`${base}/rest/9/outcome-client-secret/${method}`, body)
        expect([proxied.status, proxied.json]).toEqual([direct.status, direct.json])
        expect(direct.status).toBeGreaterThanOrEqual(400)
      }
    }).pipe(Effect.provide(Emulator.layer())))

  it.scopedLive("a 5xx envelope: the portal's status and envelope; the idempotent call was replayed first", () =>
    Effect.gen(function*() {
      const [safe, unsafe] = yield* underFault({ kind: "internal-error" })
      for (const answer of [safe!, unsafe!]) {
        expect([answer.status, answer.error, answer.description]).toEqual([
          500,
          "INTERNAL_SERVER_ERROR",
          "Internal server error"
        ])
      }
      expect(safe!.requests).toBeGreaterThan(1)
      expect(unsafe!.requests).toBe(1)
    }))

  it.scopedLive("an HTML page: 502 ERROR_UNEXPECTED_ANSWER; the non-idempotent answer says the call may have run", () =>
    Effect.gen(function*() {
      const [safe, unsafe] = yield* underFault({ kind: "html-502" })
      for (const answer of [safe!, unsafe!]) {
        expect([answer.status, answer.error]).toEqual([502, "ERROR_UNEXPECTED_ANSWER"])
        expect(answer.description).toContain("HTTP 502 with a body that is not a Bitrix24 envelope")
      }
      expect(safe!.description).not.toContain("may have run")
      expect(unsafe!.description).toContain("may have run on the portal")
      expect([safe!.requests > 1, unsafe!.requests]).toEqual([true, 1])
    }))

  it.scopedLive("a dropped connection: 502 ERROR_UNEXPECTED_ANSWER", () =>
    Effect.gen(function*() {
      const [safe, unsafe] = yield* underFault({ kind: "drop-after" })
      for (const answer of [safe!, unsafe!]) {
        expect([answer.status, answer.error]).toEqual([502, "ERROR_UNEXPECTED_ANSWER"])
      }
      expect(unsafe!.description).toContain("may have run on the portal")
      expect(unsafe!.requests).toBe(1)
    }))

  it.scopedLive("no answer within the timeout: 504 ERROR_UNEXPECTED_ANSWER", () =>
    Effect.gen(function*() {
      const [safe, unsafe] = yield* underFault({ kind: "latency", ms: 1_500 })
      for (const answer of [safe!, unsafe!]) {
        expect([answer.status, answer.error]).toEqual([504, "ERROR_UNEXPECTED_ANSWER"])
        expect(answer.description).toContain("no response within")
      }
      expect(unsafe!.description).toContain("may have run on the portal")
    }), 60_000)

  it.scopedLive("the portal refuses the proxy's own credentials: 502 naming the code, never a 401 to the client", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const wrong = Redacted.make(`${emulator.url}/rest/1/not-the-webhook-code/`)
      const base = yield* serve(config(
        [portal("main", { _tag: "Webhook", url: wrong })],
        [client("9", "outcome-client-secret", "main")]
      ))
      const answer = yield* post(`${base}/rest/9/outcome-client-secret/im.chat.mute`, { CHAT_ID: 1489 })
      expect([answer.status, answer.json.error]).toEqual([502, "ERROR_UNEXPECTED_ANSWER"])
      expect(answer.json.error_description).toContain("refused the proxy's credentials (NO_AUTH_FOUND)")
      expect(answer.text).not.toContain("not-the-webhook-code")
    }).pipe(Effect.provide(Emulator.layer())))
})
