/**
 * The emulated methods over real HTTP: the documented errors with their exact status and body, the literal Y/N
 * semantics of the server, and the state each call changes.
 */
import { Catalog, ImChat, ImOpenLines, Method } from "@bitrix24-effect/core"
import { describe, it } from "@effect/vitest"
import { assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Handlers from "../src/Handlers.js"
import * as Portal from "../src/Portal.js"
import { assertError, assertSuccess, postJson, webhook, withEmulator } from "./helpers.js"

const silent = "imopenlines.session.mode.silent.json"
const pin = "imopenlines.session.mode.pin.json"
const start = "imopenlines.session.start.json"
const mute = "im.chat.mute.json"

describe("the handler registry, keyed by declaration", () => {
  it("has a handler for every method of the core catalog", () => {
    for (const method of Catalog.methods) assertTrue(Handlers.handlers.has(method), `no handler for ${method.method}`)
  })

  it("has no handler for anything the catalog does not declare", () => {
    for (const method of Handlers.handlers.keys()) {
      assertTrue(Catalog.methods.includes(method), `a handler for ${method.method}, which the catalog does not declare`)
    }
    strictEqual(Handlers.handlers.size, Catalog.methods.length)
  })

  it("finds a method's handler by name, case-insensitively, with the declaration's scope", () => {
    for (const method of Catalog.methods) {
      const entry = Handlers.find(method.method.toUpperCase())
      strictEqual(entry?.handler, Handlers.handlers.get(method))
      // `_global` (event.*) is every application's scope: nothing to check
      strictEqual(entry?.scope, method.scope === "_global" ? undefined : method.scope)
    }
    strictEqual(Handlers.find("crm.deal.add"), undefined)
  })
})

describe("documented errors of imopenlines.session.mode.silent (seeds/001, wire sheet §6.0)", () => {
  it.effect("CHAT_ID 400 for a chat that does not exist, and for CHAT_ID 0", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        for (const CHAT_ID of [999999, 0, "abc"]) {
          assertError(
            yield* postJson(`${webhook(emulator)}${silent}`, { CHAT_ID, ACTIVATE: "Y" }),
            400,
            "CHAT_ID",
            "Chat ID is incorrect"
          )
        }
      })
    ))

  it.effect("CHAT_TYPE 400 for a group chat the caller is a member of (1489)", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        assertError(
          yield* postJson(`${webhook(emulator)}${silent}`, { CHAT_ID: 1489, ACTIVATE: "Y" }),
          400,
          "CHAT_TYPE",
          "This chat is not Open Channel"
        )
      })
    ))

  it.effect("ACCESS_DENIED 400 for user 3, who has no open-lines rights on chat 2043", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        assertError(
          yield* postJson(`${webhook(emulator, 3)}${silent}`, { CHAT_ID: 2043, ACTIVATE: "Y" }),
          400,
          "ACCESS_DENIED",
          "You do not have permission to access this chat."
        )
        strictEqual(emulator.portal.chats.get(2043)!.silent, false)
      })
    ))

  it.effect("lowercase chat_id is not read (wire sheet §6.0: keys are case-sensitive) -> CHAT_ID", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        assertError(
          yield* postJson(`${webhook(emulator)}${silent}`, { chat_id: 2043, activate: "Y" }),
          400,
          "CHAT_ID",
          "Chat ID is incorrect"
        )
      })
    ))
})

describe("documented errors of imopenlines.session.mode.pin (seeds/002, wire sheet §6.2)", () => {
  it.effect("CHAT_ID_EMPTY 400 for {}", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        assertError(yield* postJson(`${webhook(emulator)}${pin}`, {}), 400, "CHAT_ID_EMPTY", "Chat ID can't be empty")
      })
    ))

  it.effect("CHAT_ID 400 for a chat that does not exist", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        assertError(
          yield* postJson(`${webhook(emulator)}${pin}`, { CHAT_ID: 999999 }),
          400,
          "CHAT_ID",
          "Chat ID is incorrect"
        )
      })
    ))

  it.effect("ERROR_USER_NOT_OPERATOR 400 when user 1 pins chat 2050, whose operator is user 2", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        assertError(
          yield* postJson(`${webhook(emulator)}${pin}`, { CHAT_ID: 2050 }),
          400,
          "ERROR_USER_NOT_OPERATOR",
          "Attempt to pin / unpin a chat by a user who is not an operator"
        )
        strictEqual(emulator.portal.sessions.get(324)!.pinned, false)
      })
    ))

  it.effect("the operator of chat 2050 (user 2) may pin it", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        assertSuccess(yield* postJson(`${webhook(emulator, 2)}${pin}`, { CHAT_ID: 2050 }))
        strictEqual(emulator.portal.sessions.get(324)!.pinned, true)
      })
    ))

  it.effect("with settings.emptyCodes the same call answers {\"error\":\"\",\"error_description\":\"\"} 400 (wire sheet §1.5)", () =>
    withEmulator(
      (emulator) =>
        Effect.gen(function*() {
          const answer = yield* postJson(`${webhook(emulator)}${pin}`, { CHAT_ID: 2050 })
          assertError(answer, 400, "", "")
          strictEqual(answer.text, "{\"error\":\"\",\"error_description\":\"\"}")
        }),
      { settings: { emptyCodes: true } }
    ))
})

describe("documented errors of imopenlines.session.start (seeds/004, wire sheet §6.4)", () => {
  it.effect("CHAT_ID, CHAT_TYPE and ACCESS_DENIED, all 400", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        assertError(
          yield* postJson(`${webhook(emulator)}${start}`, { CHAT_ID: 0 }),
          400,
          "CHAT_ID",
          "Chat ID is incorrect"
        )
        assertError(
          yield* postJson(`${webhook(emulator)}${start}`, { CHAT_ID: 1500 }),
          400,
          "CHAT_TYPE",
          "This chat is not Open Channel"
        )
        assertError(
          yield* postJson(`${webhook(emulator, 3)}${start}`, { CHAT_ID: 494 }),
          400,
          "ACCESS_DENIED",
          "You do not have permission to access this chat."
        )
        const sessions = [...emulator.portal.sessions.values()].filter((session) => session.chatId === 494)
        strictEqual(sessions.length, 1)
      })
    ))
})

describe("documented errors of im.chat.mute (seeds/003, wire sheet §6.14)", () => {
  it.effect("CHAT_ID_EMPTY 400 for {} and for CHAT_ID 0", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        assertError(yield* postJson(`${webhook(emulator)}${mute}`, {}), 400, "CHAT_ID_EMPTY", "Chat ID can't be empty")
        assertError(
          yield* postJson(`${webhook(emulator)}${mute}`, { CHAT_ID: 0, MUTE: "Y" }),
          400,
          "CHAT_ID_EMPTY",
          "Chat ID can't be empty"
        )
      })
    ))

  it.effect("DIALOG_ID_EMPTY 400 for DIALOG_ID \"bad\"", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        assertError(
          yield* postJson(`${webhook(emulator)}${mute}`, { DIALOG_ID: "bad" }),
          400,
          "DIALOG_ID_EMPTY",
          "Dialog ID can't be empty"
        )
      })
    ))

  it.effect("ACCESS_ERROR 403 for an open-line chat (2043) and for a chat that does not exist", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        for (const CHAT_ID of [2043, 999999]) {
          assertError(
            yield* postJson(`${webhook(emulator)}${mute}`, { CHAT_ID, MUTE: "Y" }),
            403,
            "ACCESS_ERROR",
            "This chat cannot be muted"
          )
        }
        strictEqual(emulator.portal.chats.get(2043)!.muted.size, 0)
      })
    ))

  it.effect("ACCESS_ERROR 403 for a chat the caller is not a member of (user 3, project chat 1500)", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        assertError(
          yield* postJson(`${webhook(emulator, 3)}${mute}`, { CHAT_ID: 1500 }),
          403,
          "ACCESS_ERROR",
          "This chat cannot be muted"
        )
      })
    ))
})

describe("bad input: the emulated portal answers what Method.invalidParamsToWire predicts", () => {
  const cases: ReadonlyArray<readonly [Method.Any, string, Record<string, unknown>]> = [
    [ImChat.mute, mute, {}],
    [ImChat.mute, mute, { DIALOG_ID: "bad" }],
    [ImOpenLines.sessionModePin, pin, {}],
    [ImOpenLines.sessionModeSilent, silent, { CHAT_ID: -1 }],
    [ImOpenLines.sessionStart, start, { CHAT_ID: -1 }]
  ]
  for (const [method, path, params] of cases) {
    it.effect(`${method.method} ${JSON.stringify(params)}`, () =>
      withEmulator((emulator) =>
        Effect.gen(function*() {
          const invalid = yield* Effect.flip(method.decodeParams(params))
          const expected = Method.invalidParamsToWire(method, invalid)
          const answer = yield* postJson(`${webhook(emulator)}${path}`, params)
          strictEqual(answer.status, expected.status)
          deepStrictEqual(answer.body, expected.body)
        })
      ))
  }
})

describe("literal Y/N semantics (wire sheet §1.3)", () => {
  it.effect("silent: JSON true means OFF (the test is ACTIVATE === 'Y')", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        assertSuccess(yield* postJson(`${webhook(emulator)}${silent}`, { CHAT_ID: 2043, ACTIVATE: "Y" }))
        strictEqual(emulator.portal.chats.get(2043)!.silent, true)
        assertSuccess(yield* postJson(`${webhook(emulator)}${silent}`, { CHAT_ID: 2043, ACTIVATE: true }))
        strictEqual(emulator.portal.chats.get(2043)!.silent, false)
      })
    ))

  it.effect("pin: JSON false means PIN (the test is ACTIVATE !== 'N')", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        assertSuccess(yield* postJson(`${webhook(emulator)}${pin}`, { CHAT_ID: 2024, ACTIVATE: false }))
        strictEqual(emulator.portal.sessions.get(322)!.pinned, true)
        assertSuccess(yield* postJson(`${webhook(emulator)}${pin}`, { CHAT_ID: 2024, ACTIVATE: "N" }))
        strictEqual(emulator.portal.sessions.get(322)!.pinned, false)
      })
    ))

  it.effect("mute: JSON false MUTES (PHP 8: false == 'N' is false), JSON true unmutes", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const muted = () => emulator.portal.chats.get(1489)!.muted.has(1)
        assertSuccess(yield* postJson(`${webhook(emulator)}${mute}`, { CHAT_ID: 1489, MUTE: false }))
        strictEqual(muted(), true)
        assertSuccess(yield* postJson(`${webhook(emulator)}${mute}`, { CHAT_ID: 1489, MUTE: true }))
        strictEqual(muted(), false)
      })
    ))
})

describe("state effects of imopenlines.session.mode.silent (wire sheet §7.2)", () => {
  it.effect("switches the flag and posts the whisper-mode system messages, once per change", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const { portal } = emulator
        const before = portal.messages.length
        assertSuccess(yield* postJson(`${webhook(emulator)}${silent}`, { CHAT_ID: 2043, ACTIVATE: "Y" }))
        assertSuccess(yield* postJson(`${webhook(emulator)}${silent}`, { CHAT_ID: 2043, ACTIVATE: "Y" }))
        strictEqual(portal.chats.get(2043)!.silent, true)
        assertSuccess(yield* postJson(`${webhook(emulator)}${silent}`, { CHAT_ID: 2043, ACTIVATE: "N" }))
        strictEqual(portal.chats.get(2043)!.silent, false)
        deepStrictEqual(
          portal.messages.slice(before).map((message) => [
            message.chatId,
            message.authorId,
            message.system,
            message.sessionId,
            message.text
          ]),
          [
            [
              2043,
              1,
              true,
              321,
              "[b]Whisper mode is on.[/b][br]Your messages will not be visible to your contact."
            ],
            // IMOL_CHAT_STEALTH_OFF of the portal's English language file (wire sheet §7.2)
            [2043, 1, true, 321, "[b]Whisper mode is off.[/b][br]Your contact can read your subsequent messages."]
          ]
        )
      })
    ))

  it.effect("a missing ACTIVATE switches silent mode off", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        assertSuccess(yield* postJson(`${webhook(emulator)}${silent}`, { CHAT_ID: 2043, ACTIVATE: "Y" }))
        assertSuccess(yield* postJson(`${webhook(emulator)}${silent}`, { CHAT_ID: 2043 }))
        strictEqual(emulator.portal.chats.get(2043)!.silent, false)
      })
    ))
})

describe("state effects of imopenlines.session.mode.pin (wire sheet §7.3)", () => {
  it.effect("pins (the default) and unpins with system messages, and a repeat changes nothing", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const { portal } = emulator
        const before = portal.messages.length
        const posted = () => portal.messages.slice(before)
        assertSuccess(yield* postJson(`${webhook(emulator)}${pin}`, { CHAT_ID: 2024 }))
        assertSuccess(yield* postJson(`${webhook(emulator)}${pin}`, { CHAT_ID: 2024, ACTIVATE: "Y" }))
        strictEqual(portal.sessions.get(322)!.pinned, true)
        strictEqual(posted().length, 1)
        const until = new Date(posted()[0]!.date + 7 * 24 * 3600 * 1000).toISOString().slice(0, 10)
        strictEqual(
          posted()[0]!.text,
          `The conversation is assigned to agent, auto close date moved to ${until}`
        )
        assertSuccess(yield* postJson(`${webhook(emulator)}${pin}`, { CHAT_ID: 2024, ACTIVATE: "N" }))
        strictEqual(portal.sessions.get(322)!.pinned, false)
        deepStrictEqual(
          posted().map((message) => [message.chatId, message.system, message.text]).slice(1),
          [[
            2024,
            true,
            "The conversation is unassigned from agent, auto close date set according to the queue rules."
          ]]
        )
      })
    ))
})

describe("state effects of imopenlines.session.start (wire sheet §6.4)", () => {
  it.effect("chat 494, whose previous session is closed, gets a new session with the caller as operator", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const { portal } = emulator
        const before = portal.messages.length
        strictEqual(Portal.activeSession(portal, 494), undefined)
        assertSuccess(yield* postJson(`${webhook(emulator)}${start}`, { CHAT_ID: 494 }))
        const session = Portal.activeSession(portal, 494)
        assertTrue(session !== undefined)
        assertTrue(session.id !== 323)
        strictEqual(session.operatorId, 1)
        strictEqual(session.status, Portal.SessionStatus.OPERATOR)
        strictEqual(portal.sessions.get(323)!.status, Portal.SessionStatus.CLOSE)
        deepStrictEqual(
          portal.messages.slice(before).map((message) => [message.chatId, message.sessionId, message.text]),
          [[494, session.id, `A new conversation #${session.id} was started by the operator.`]]
        )
      })
    ))

  it.effect("a running session is joined, not duplicated: user 1 (admin) on user 2's chat 2050", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const { portal } = emulator
        const before = portal.sessions.size
        const messages = portal.messages.length
        assertSuccess(yield* postJson(`${webhook(emulator)}${start}`, { CHAT_ID: 2050 }))
        strictEqual(portal.sessions.size, before)
        assertTrue(portal.chats.get(2050)!.members.has(1))
        deepStrictEqual(portal.messages.slice(messages).map((message) => message.text), [
          "Portal Admin joined the chat."
        ])
      })
    ))
})

describe("state effects of im.chat.mute (seeds/003, wire sheet §6.14)", () => {
  it.effect("MUTE Y adds the caller to the chat's muted users, MUTE N removes them, the default is Y", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const muted = () => [...emulator.portal.chats.get(1489)!.muted]
        assertSuccess(yield* postJson(`${webhook(emulator)}${mute}`, { CHAT_ID: 1489, MUTE: "Y" }))
        assertSuccess(yield* postJson(`${webhook(emulator, 2)}${mute}`, { CHAT_ID: 1489 }))
        deepStrictEqual(muted().sort(), [1, 2])
        assertSuccess(yield* postJson(`${webhook(emulator)}${mute}`, { CHAT_ID: 1489, MUTE: "N" }))
        deepStrictEqual(muted(), [2])
      })
    ))

  it.effect("DIALOG_ID chat1489, sg7 (project chat 1500) and \"2\" (private chat 1600 with user 2)", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const { chats } = emulator.portal
        assertSuccess(yield* postJson(`${webhook(emulator)}${mute}`, { DIALOG_ID: "chat1489" }))
        assertSuccess(yield* postJson(`${webhook(emulator)}${mute}`, { DIALOG_ID: "sg7" }))
        assertSuccess(yield* postJson(`${webhook(emulator)}${mute}`, { DIALOG_ID: "2" }))
        deepStrictEqual([...chats.get(1489)!.muted], [1])
        deepStrictEqual([...chats.get(1500)!.muted], [1])
        deepStrictEqual([...chats.get(1600)!.muted], [1])
      })
    ))

  it.effect("keys are case-insensitive, and the undocumented ACTION alias overrides MUTE", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const muted = () => emulator.portal.chats.get(1489)!.muted.has(1)
        assertSuccess(yield* postJson(`${webhook(emulator)}${mute}`, { chat_id: 1489, mute: "Y" }))
        strictEqual(muted(), true)
        assertSuccess(yield* postJson(`${webhook(emulator)}${mute}`, { CHAT_ID: 1489, MUTE: "Y", ACTION: "N" }))
        strictEqual(muted(), false)
      })
    ))
})
