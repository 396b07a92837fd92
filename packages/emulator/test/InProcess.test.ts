/**
 * The emulator without a socket: an HttpClient answered by its HttpApp in process.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { describe, it } from "@effect/vitest"
import { assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Emulator from "../src/Emulator.js"
import * as InProcess from "../src/InProcess.js"

describe("InProcess: an emulator reached without a socket", () => {
  it.scoped("a JSON POST to the webhook runs the method; the journal and counters see it", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      strictEqual(emulator.url, Emulator.inProcessUrl)
      const client = yield* HttpClient.HttpClient
      const response = yield* client.execute(
        HttpClientRequest.post(`${Redacted.value(emulator.webhookUrl)}imopenlines.session.mode.silent.json`).pipe(
          HttpClientRequest.bodyUnsafeJson({ CHAT_ID: 2043, ACTIVATE: "Y" })
        )
      )
      strictEqual(response.status, 200)
      const body = (yield* response.json) as { result: unknown; time: { operating_reset_at: number } }
      strictEqual(body.result, true)
      assertTrue(typeof body.time.operating_reset_at === "number")
      strictEqual(emulator.portal.chats.get(2043)!.silent, true)
      deepStrictEqual(emulator.journal.map((entry) => entry.method), ["imopenlines.session.mode.silent"])
      strictEqual(emulator.httpRequests(), 1)
    }).pipe(Effect.provide(InProcess.layer())))

  it.scoped("error statuses, redirects and the control API come through as on the wire", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const client = yield* HttpClient.HttpClient
      const denied = yield* client.execute(
        HttpClientRequest.post(`${Redacted.value(emulator.webhookUrl)}im.chat.mute`).pipe(
          HttpClientRequest.bodyUnsafeJson({ CHAT_ID: 2043 })
        )
      )
      strictEqual(denied.status, 403)
      deepStrictEqual(yield* denied.json, { error: "ACCESS_ERROR", error_description: "This chat cannot be muted" })
      const state = yield* client.execute(HttpClientRequest.get(`${emulator.controlUrl}/stats`))
      strictEqual(state.status, 200)
      strictEqual(((yield* state.json) as { httpRequests: number }).httpRequests, 1)
    }).pipe(Effect.provide(InProcess.layer())))

  it.scoped("each layer build starts from the fixture", () =>
    Effect.gen(function*() {
      const first = yield* Effect.provide(Emulator.Emulator, InProcess.layer())
      first.portal.chats.get(2043)!.silent = true
      const second = yield* Effect.provide(Emulator.Emulator, InProcess.layer())
      strictEqual(second.portal.chats.get(2043)!.silent, false)
    }))
})
