/**
 * Every request example of the seed pages, sent verbatim with the portal address replaced by the emulator's, gets
 * the documented response.
 */
import { describe, it } from "@effect/vitest"
import { deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { assertSuccess, curl, webhook, withEmulator } from "./helpers.js"

describe("seeds/001: imopenlines.session.mode.silent curl examples", () => {
  it.effect("cURL (Webhook): {\"CHAT_ID\":2043,\"ACTIVATE\":\"Y\"} -> {\"result\":true,\"time\":{...}}", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const answer = yield* curl(
          `${webhook(emulator)}imopenlines.session.mode.silent.json`,
          "{\"CHAT_ID\":2043,\"ACTIVATE\":\"Y\"}"
        )
        assertSuccess(answer)
        strictEqual(emulator.portal.chats.get(2043)!.silent, true)
      })
    ))

  it.effect("cURL (OAuth): the token in the JSON body's auth, at {portal}/rest/ -> {\"result\":true,...}", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const answer = yield* curl(
          `${emulator.url}/rest/imopenlines.session.mode.silent.json`,
          `{"CHAT_ID":2043,"ACTIVATE":"Y","auth":"${Redacted.value(emulator.accessToken)}"}`
        )
        assertSuccess(answer)
        strictEqual(emulator.portal.chats.get(2043)!.silent, true)
        strictEqual(emulator.journal[0]?.auth, "oauth:1")
      })
    ))

  it.effect("JS, PHP, BX24.js and CRest: CHAT_ID 2043, ACTIVATE 'Y' -> true", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        assertSuccess(
          yield* curl(`${webhook(emulator)}imopenlines.session.mode.silent`, "{\"CHAT_ID\":2043,\"ACTIVATE\":\"Y\"}")
        )
      })
    ))
})

describe("seeds/000: imopenlines.session.mode.silent SDK examples", () => {
  it.effect("CHAT_ID 2024 without ACTIVATE -> true (silent mode stays off, the default N)", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        assertSuccess(yield* curl(`${webhook(emulator)}imopenlines.session.mode.silent`, "{\"CHAT_ID\":2024}"))
        strictEqual(emulator.portal.chats.get(2024)!.silent, false)
      })
    ))
})

describe("seeds/002: imopenlines.session.mode.pin SDK examples", () => {
  it.effect("CHAT_ID 2024 -> true, and the dialog is pinned", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        assertSuccess(yield* curl(`${webhook(emulator)}imopenlines.session.mode.pin`, "{\"CHAT_ID\":2024}"))
        strictEqual(emulator.portal.sessions.get(322)!.pinned, true)
      })
    ))

  it.effect("the same call by OAuth -> true", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        assertSuccess(
          yield* curl(
            `${emulator.url}/rest/imopenlines.session.mode.pin.json`,
            `{"CHAT_ID":2024,"auth":"${Redacted.value(emulator.accessToken)}"}`
          )
        )
      })
    ))
})

describe("seeds/004: imopenlines.session.start examples", () => {
  it.effect("CHAT_ID 494 (the parameter table's example) -> true", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        assertSuccess(yield* curl(`${webhook(emulator)}imopenlines.session.start`, "{\"CHAT_ID\":494}"))
      })
    ))

  it.effect("CHAT_ID 2024 (the SDK examples) -> true", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        assertSuccess(yield* curl(`${webhook(emulator)}imopenlines.session.start.json`, "{\"CHAT_ID\":2024}"))
      })
    ))
})

describe("seeds/003: im.chat.mute curl examples", () => {
  it.effect("cURL (Webhook), URL without .json: {\"CHAT_ID\":1489,\"MUTE\":\"Y\"} -> {\"result\":true,...}", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        assertSuccess(yield* curl(`${webhook(emulator)}im.chat.mute`, "{\"CHAT_ID\":1489,\"MUTE\":\"Y\"}"))
        deepStrictEqual([...emulator.portal.chats.get(1489)!.muted], [1])
      })
    ))

  it.effect("cURL (OAuth): {\"CHAT_ID\":1489,\"MUTE\":\"Y\",\"auth\":...} at {portal}/rest/im.chat.mute -> true", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        assertSuccess(
          yield* curl(
            `${emulator.url}/rest/im.chat.mute`,
            `{"CHAT_ID":1489,"MUTE":"Y","auth":"${Redacted.value(emulator.accessToken)}"}`
          )
        )
        deepStrictEqual([...emulator.portal.chats.get(1489)!.muted], [1])
      })
    ))
})
