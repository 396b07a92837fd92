/**
 * Bad input never crashes the emulated portal: params nested past the limits (`WireRequest.maxKeyNesting` for
 * bracket keys, `Wire.maxDepth` for JSON) or a body over `WireRequest.maxBodyBytes` are answered HTTP 400 with the
 * portal's envelope, the method's documented code for the field, on both server paths, and the portal keeps serving.
 */
import { Wire, WireRequest } from "@bitrix24-effect/core"
import { describe, it } from "@effect/vitest"
import { assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import type * as Emulator from "../src/Emulator.js"
import {
  type Answer,
  assertError,
  assertSuccess,
  postForm,
  postJson,
  request,
  webhook,
  withEmulator
} from "./helpers.js"

const levels = 5_000

/** im.chat.mute with a `CHAT_ID` nested 5,000 levels deep, in each encoding a client can use. */
const deepMute: ReadonlyArray<readonly [string, (emulator: Emulator.Service) => Effect.Effect<Answer>]> = [
  [
    "JSON body",
    (emulator) =>
      request(`${webhook(emulator)}im.chat.mute.json`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: `{"MUTE":"Y","CHAT_ID":${"[".repeat(levels)}1489${"]".repeat(levels)}}`
      })
  ],
  [
    "form body with bracket keys",
    (emulator) => postForm(`${webhook(emulator)}im.chat.mute`, `CHAT_ID${"[a]".repeat(levels)}=1489`)
  ],
  ["query string", (emulator) => request(`${webhook(emulator)}im.chat.mute?MUTE=Y&CHAT_ID${"[]".repeat(levels)}=1489`)]
]

/** The Effect handler answers every call while any fault switch is armed; the fast listener otherwise. */
const paths: ReadonlyArray<readonly [string, (emulator: Emulator.Service) => void]> = [
  ["the fast listener", () => {}],
  ["the Effect handler", (emulator) => emulator.setFaults([{ kind: "internal-error", method: "some.other.method" }])]
]

describe("bad input never crashes the emulated portal", () => {
  for (const [path, choose] of paths) {
    for (const [encoding, send] of deepMute) {
      it.effect(`${path}: a ${levels}-level CHAT_ID in a ${encoding} is 400 CHAT_ID_EMPTY, and nothing runs`, () =>
        withEmulator((emulator) =>
          Effect.gen(function*() {
            choose(emulator)
            const answer = yield* send(emulator)
            assertError(answer, 400, "CHAT_ID_EMPTY", "Chat ID can't be empty")
            strictEqual(answer.headers.get("access-control-allow-origin"), "*")
            const entry = emulator.journal.at(-1)
            strictEqual(entry?.method, "im.chat.mute")
            strictEqual(entry?.executed, false)
            strictEqual(entry?.error, "CHAT_ID_EMPTY")
            strictEqual(emulator.portal.chats.get(1489)!.muted.size, 0)
            // The portal keeps serving.
            assertSuccess(yield* postJson(`${webhook(emulator)}im.chat.mute`, { DIALOG_ID: "chat1489" }))
          })
        ))
    }

    it.effect(`${path}: a body over maxBodyBytes is 400 ERROR_ARGUMENT`, () =>
      withEmulator((emulator) =>
        Effect.gen(function*() {
          choose(emulator)
          const answer = yield* postForm(
            `${webhook(emulator)}im.chat.mute`,
            `CHAT_ID=1489&x=${"a".repeat(WireRequest.maxBodyBytes)}`
          )
          strictEqual(answer.status, 400, answer.text.slice(0, 200))
          deepStrictEqual(answer.body, {
            error: "ERROR_ARGUMENT",
            error_description: WireRequest.bodyTooLarge.description,
            argument: ""
          })
          assertSuccess(yield* postJson(`${webhook(emulator)}im.chat.mute`, { CHAT_ID: 1489 }))
        })
      ))
  }

  it.effect("a method outside the catalog answers ERROR_ARGUMENT naming the param", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const answer = yield* postJson(`${webhook(emulator)}no.such.method`, { deep: nested(Wire.maxDepth) })
        strictEqual(answer.status, 400)
        deepStrictEqual(answer.body, {
          error: "ERROR_ARGUMENT",
          error_description: `the value is nested deeper than ${Wire.maxDepth} levels`,
          argument: "deep"
        })
      })
    ))

  it.effect("params just inside the limits reach the handler, which reads them as PHP does", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        // intval of a non-empty array is 1: chat 1 is not one user 1 may mute.
        const json = yield* postJson(`${webhook(emulator)}im.chat.mute`, { CHAT_ID: nested(Wire.maxDepth - 1) })
        strictEqual(json.status, 403, json.text)
        const form = yield* postForm(
          `${webhook(emulator)}im.chat.mute`,
          `CHAT_ID${"[a]".repeat(WireRequest.maxKeyNesting)}=1489`
        )
        strictEqual(form.status, 403, form.text)
        strictEqual(emulator.journal.filter((entry) => entry.executed).length, 2)
      })
    ))

  it.effect("inside a batch, a command nested too deeply gets the refusal in result_error; the others run", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const deep = `im.chat.mute?CHAT_ID${"%5Ba%5D".repeat(WireRequest.maxKeyNesting + 1)}=1489`
        const answer = yield* postJson(`${webhook(emulator)}batch`, {
          cmd: { deep, fine: "im.chat.mute?CHAT_ID=1489" }
        })
        strictEqual(answer.status, 200, answer.text)
        deepStrictEqual(answer.body.result.result, { fine: true })
        deepStrictEqual(answer.body.result.result_error, {
          deep: { error: "CHAT_ID_EMPTY", error_description: "Chat ID can't be empty" }
        })
        assertTrue(emulator.portal.chats.get(1489)!.muted.has(1))
      })
    ))
})

function nested(depth: number): unknown {
  let value: unknown = 1
  for (let i = 0; i < depth; i++) value = [value]
  return value
}
