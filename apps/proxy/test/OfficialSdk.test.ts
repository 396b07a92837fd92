/**
 * The official `@bitrix24/b24jssdk` 2.2, unchanged, talks to the proxy as to a portal: over HTTPS (a self-signed
 * certificate the test trusts through an https Agent on the SDK's HTTP client), with a numeric client ID in its
 * inbound-webhook URL. The four seed calls, a documented error, `batch` with and without `halt`, and
 * `batchByChunk` with 120 calls, against the emulator behind the proxy.
 */
import { Emulator, Tls } from "@bitrix24-effect/emulator"
import { ApiVersion, B24Hook, LoggerFactory } from "@bitrix24/b24jssdk"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Https from "node:https"
import { client, config, portal, serve, webhookOf } from "./helpers.js"

const secret = "sdk-client-secret-01"

/** The proxy over HTTPS for client 12 of the emulator in context, and the SDK pointed at it. */
const sdk = Effect.gen(function*() {
  const emulator = yield* Emulator.Emulator
  const tls = yield* Tls.selfSigned("127.0.0.1")
  const base = yield* serve(
    config([portal("main", webhookOf(emulator), { limits: { bucket: "standard" } })], [client("12", secret, "main")]),
    { tls }
  )
  const b24 = B24Hook.fromWebhookUrl(`${base}/rest/12/${secret}`)
  b24.offClientSideWarning()
  b24.setLogger(LoggerFactory.createNullLogger())
  const agent = new Https.Agent({ ca: tls.cert })
  for (const version of [ApiVersion.v2, ApiVersion.v3]) {
    b24.getHttpClient(version).ajaxClient.defaults.httpsAgent = agent
  }
  yield* Effect.addFinalizer(() => Effect.sync(() => agent.destroy()))
  return { b24, emulator, base }
})

const call = (b24: B24Hook, method: string, params: Record<string, unknown>) =>
  Effect.promise(async () => {
    try {
      const result = await b24.actions.v2.call.make({ method, params })
      return { ok: true as const, result: result.getData()?.result }
    } catch (error) {
      const failure = error as { code?: string; status?: number }
      return { ok: false as const, code: failure.code, status: failure.status }
    }
  })

describe("@bitrix24/b24jssdk 2.2 through the proxy over HTTPS", () => {
  it.scopedLive("accepts the numeric client's webhook URL and makes the four seed calls", () =>
    Effect.gen(function*() {
      const { b24, emulator } = yield* sdk
      expect(yield* call(b24, "imopenlines.session.mode.silent", { CHAT_ID: 2043, ACTIVATE: "Y" })).toEqual({
        ok: true,
        result: true
      })
      expect(yield* call(b24, "imopenlines.session.mode.pin", { CHAT_ID: 2024 })).toEqual({ ok: true, result: true })
      expect(yield* call(b24, "imopenlines.session.start", { CHAT_ID: 494 })).toEqual({ ok: true, result: true })
      expect(yield* call(b24, "im.chat.mute", { CHAT_ID: 1489, MUTE: "Y" })).toEqual({ ok: true, result: true })
      expect(emulator.portal.chats.get(2043)!.silent).toBe(true)
      expect(emulator.journal.map((entry) => entry.method)).toEqual([
        "imopenlines.session.mode.silent",
        "imopenlines.session.mode.pin",
        "imopenlines.session.start",
        "im.chat.mute"
      ])
    }).pipe(Effect.provide(Emulator.layer())), 60_000)

  it.scopedLive("a documented error reaches it with its code and status", () =>
    Effect.gen(function*() {
      const { b24 } = yield* sdk
      expect(yield* call(b24, "im.chat.mute", { CHAT_ID: 2043 })).toEqual({
        ok: false,
        code: "ACCESS_ERROR",
        status: 403
      })
    }).pipe(Effect.provide(Emulator.layer())), 60_000)

  it.scopedLive("batch without halt: every command runs, each with its own outcome", () =>
    Effect.gen(function*() {
      const { b24, emulator } = yield* sdk
      const response = yield* Effect.promise(() =>
        b24.actions.v2.batch.make({
          calls: {
            first: ["im.chat.mute", { CHAT_ID: 1489 }],
            denied: ["im.chat.mute", { CHAT_ID: 2043 }],
            last: ["imopenlines.session.mode.silent", { CHAT_ID: 2043, ACTIVATE: "Y" }]
          },
          options: { isHaltOnError: false }
        })
      )
      // The SDK answers the results by key and the failed command among the errors, under its key.
      expect(response.isSuccess).toBe(false)
      expect(response.getData()).toEqual({ first: true, last: true })
      expect(response.getErrorMessagesByKey()).toEqual({ denied: "This chat cannot be muted" })
      expect(emulator.portal.chats.get(2043)!.silent).toBe(true)
    }).pipe(Effect.provide(Emulator.layer())), 60_000)

  it.scopedLive(
    "batch with halt: it stops at the first error, later commands do not run",
    () =>
      Effect.gen(function*() {
        const { b24, emulator } = yield* sdk
        const outcome = yield* Effect.promise(async () => {
          try {
            const response = await b24.actions.v2.batch.make({
              calls: {
                first: ["im.chat.mute", { CHAT_ID: 1489 }],
                denied: ["im.chat.mute", { CHAT_ID: 2043 }],
                last: ["imopenlines.session.mode.silent", { CHAT_ID: 2043, ACTIVATE: "Y" }]
              },
              options: { isHaltOnError: true }
            })
            return { success: response.isSuccess, errors: response.getErrorMessages().join("; ") }
          } catch (error) {
            return { success: false, errors: String(error) }
          }
        })
        expect(outcome.success).toBe(false)
        expect(outcome.errors).toContain("This chat cannot be muted")
        expect(emulator.portal.chats.get(2043)!.silent).toBe(false)
        expect(emulator.journal.filter((entry) => entry.via === "batch").map((entry) => entry.params)).toEqual([
          { CHAT_ID: "1489" },
          { CHAT_ID: "2043" }
        ])
      }).pipe(Effect.provide(Emulator.layer())),
    60_000
  )

  it.scopedLive("batchByChunk with 120 calls: three batch requests, 120 results", () =>
    Effect.gen(function*() {
      const { b24, emulator } = yield* sdk
      const calls = Array.from({ length: 120 }, () => ["im.chat.mute", { CHAT_ID: 1489 }] as [string, object])
      const response = yield* Effect.promise(() =>
        b24.actions.v2.batchByChunk.make({ calls, options: { isHaltOnError: false } })
      )
      expect(response.isSuccess).toBe(true)
      const data = response.getData() as ReadonlyArray<unknown>
      expect(data.length).toBe(120)
      expect(data.every((value) => value === true)).toBe(true)
      expect(emulator.journal.filter((entry) => entry.method === "batch").length).toBe(3)
      expect(emulator.journal.filter((entry) => entry.method === "im.chat.mute" && entry.executed).length).toBe(120)
    }).pipe(Effect.provide(Emulator.layer())), 60_000)
})
