/**
 * The open-lines session and operator family on the wire, with plain `fetch` as curl would send it: the documented
 * errors that typed validation keeps a library user from reaching, the per-method key-case rules, the PHP value rules
 * (`intval`, `empty`, `trim`), the empty-code quirk, the portal settings, and the exact wire shapes of the results
 * (docs/bitrix24-wire.md §1.4, §1.5, §6.0-§6.13).
 */
import { Catalog, Method } from "@bitrix24-effect/core"
import { describe, it } from "@effect/vitest"
import { assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import { assertError, assertSuccess, postJson, webhook, withEmulator } from "./helpers.js"

const call = (method: string) => `${method}.json`

const CHAT_ID = ["CHAT_ID", "Chat ID is incorrect"] as const
const CHAT_ID_EMPTY = ["CHAT_ID_EMPTY", "Chat ID can't be empty"] as const

describe("key case per method (wire sheet §6.0)", () => {
  it.effect("dialog.get and operator.answer/skip/spam/finish uppercase their keys: lowercase names work", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const url = webhook(emulator)
        const dialog = yield* postJson(`${url}${call("imopenlines.dialog.get")}`, { chat_id: 2043 })
        strictEqual(dialog.status, 200, dialog.text)
        strictEqual(dialog.body.result.dialog_id, "chat2043")
        assertSuccess(yield* postJson(`${url}${call("imopenlines.operator.answer")}`, { chat_id: 2060 }))
        assertSuccess(yield* postJson(`${url}${call("imopenlines.operator.skip")}`, { Chat_Id: 2043 }))
        assertSuccess(yield* postJson(`${url}${call("imopenlines.operator.spam")}`, { chat_id: 2024 }))
        assertSuccess(yield* postJson(`${url}${call("imopenlines.operator.finish")}`, { chat_id: 1763 }))
        deepStrictEqual(
          [321, 322, 325, 343].map((id) => emulator.portal.sessions.get(id)!.status),
          [5, 65, 10, 60]
        )
      })
    ))

  it.effect("every other method reads the exact UPPERCASE keys: lowercase names are not seen", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const url = webhook(emulator)
        const cases: ReadonlyArray<readonly [string, Record<string, unknown>, readonly [string, string]]> = [
          ["imopenlines.session.mode.unpin", { chat_id: 2024 }, CHAT_ID_EMPTY],
          ["imopenlines.session.join", { chat_id: 2050 }, CHAT_ID],
          ["imopenlines.session.intercept", { chat_id: 2050 }, CHAT_ID_EMPTY],
          ["imopenlines.session.history.get", { session_id: 321 }, [
            "MISSING_REQUIRED_PARAM",
            "Session ID or Chat ID must be provided"
          ]],
          ["imopenlines.session.head.vote", { session_id: 1743, rating: 5 }, [
            "EMPTY_SESSION_ID",
            "Session ID can't be empty"
          ]],
          ["imopenlines.session.open", { user_code: "livechat|1|2043|5" }, [
            "ACCESS_DENIED",
            "You do not have permission to access this chat."
          ]],
          ["imopenlines.message.session.start", { chat_id: 2043, message_id: 18971 }, CHAT_ID],
          ["imopenlines.crm.lead.create", { chat_id: 2024 }, CHAT_ID],
          ["imopenlines.operator.another.finish", { chat_id: 2050 }, CHAT_ID],
          ["imopenlines.operator.transfer", { chat_id: 2043, user_id: 15 }, CHAT_ID_EMPTY]
        ]
        for (const [method, params, [code, description]] of cases) {
          assertError(yield* postJson(`${url}${call(method)}`, params), 400, code, description)
        }
        assertTrue(emulator.journal.every((entry) => entry.status === 400))
        strictEqual(emulator.portal.sessions.get(324)!.status, 20)
      })
    ))
})

describe("documented errors that typed params never send", () => {
  it.effect("session.mode.unpin and session.intercept: CHAT_ID_EMPTY for a missing or non-positive CHAT_ID", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const url = webhook(emulator)
        for (const params of [{}, { CHAT_ID: 0 }, { CHAT_ID: "" }]) {
          assertError(yield* postJson(`${url}${call("imopenlines.session.mode.unpin")}`, params), 400, ...CHAT_ID_EMPTY)
        }
        for (const params of [{}, { CHAT_ID: 0 }, { CHAT_ID: -5 }, { CHAT_ID: "abc" }]) {
          assertError(yield* postJson(`${url}${call("imopenlines.session.intercept")}`, params), 400, ...CHAT_ID_EMPTY)
        }
        // unpin's falsy test lets "abc" through to the access check, which reads intval("abc") = 0
        assertError(
          yield* postJson(`${url}${call("imopenlines.session.mode.unpin")}`, { CHAT_ID: "abc" }),
          400,
          ...CHAT_ID
        )
      })
    ))

  it.effect("session.history.get: MISSING_REQUIRED_PARAM for empty() values; INVALID_SESSION_ID when nothing is found", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const url = `${webhook(emulator)}${call("imopenlines.session.history.get")}`
        for (const params of [{}, { SESSION_ID: 0 }, { SESSION_ID: "", CHAT_ID: "0" }, { SESSION_ID: null }]) {
          assertError(
            yield* postJson(url, params),
            400,
            "MISSING_REQUIRED_PARAM",
            "Session ID or Chat ID must be provided"
          )
        }
        for (
          const params of [{ SESSION_ID: "abc" }, { CHAT_ID: 1489 }, { CHAT_ID: "abc" }, {
            SESSION_ID: 0,
            CHAT_ID: 999999
          }]
        ) {
          assertError(
            yield* postJson(url, params),
            400,
            "INVALID_SESSION_ID",
            "Unable to determine session ID from provided parameters"
          )
        }
        // a negative SESSION_ID is not empty(): it reaches the lookup and is denied
        assertError(
          yield* postJson(url, { SESSION_ID: -1 }),
          400,
          "ACCESS_DENIED",
          "You do not have permission to access this chat."
        )
        // decimal strings are read with intval, as in a form body
        const history = yield* postJson(url, { CHAT_ID: "2024" })
        strictEqual(history.status, 200, history.text)
        strictEqual(history.body.result.sessionId, 322)
      })
    ))

  it.effect("session.head.vote: EMPTY_SESSION_ID, EMPTY_VOTE_PARAMS (trim(\"0\") is falsy), a rating above 5 stored as 0", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const url = `${webhook(emulator)}${call("imopenlines.session.head.vote")}`
        for (const params of [{}, { SESSION_ID: 0, RATING: 5 }, { SESSION_ID: "0", COMMENT: "x" }]) {
          assertError(yield* postJson(url, params), 400, "EMPTY_SESSION_ID", "Session ID can't be empty")
        }
        for (const params of [{ SESSION_ID: 1743 }, { SESSION_ID: 1743, RATING: "0", COMMENT: "   " }]) {
          assertError(
            yield* postJson(url, params),
            400,
            "EMPTY_VOTE_PARAMS",
            "At least one of the parameters RATING or COMMENT must be specified"
          )
        }
        const session = emulator.portal.sessions.get(1743)!
        assertSuccess(yield* postJson(url, { SESSION_ID: 1743, RATING: 3 }))
        strictEqual(session.voteHead, 3)
        assertSuccess(yield* postJson(url, { SESSION_ID: "1743", RATING: "9" }))
        strictEqual(session.voteHead, 0)
      })
    ))

  it.effect("operator.transfer: the parameter checks in the server's order", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const url = `${webhook(emulator)}${call("imopenlines.operator.transfer")}`
        const cases: ReadonlyArray<readonly [Record<string, unknown>, string, string]> = [
          [{ USER_ID: 15 }, "CHAT_ID_EMPTY", "Chat ID can't be empty"],
          [{ CHAT_ID: 0, USER_ID: 15 }, "CHAT_ID_EMPTY", "Chat ID can't be empty"],
          [{ CHAT_ID: 2043 }, "TRANSFER_ID_EMPTY", "Queue ID or User ID can't be empty"],
          [{ CHAT_ID: 2043, USER_ID: 0 }, "USER_ID_EMPTY", "User ID can't be empty"],
          [{ CHAT_ID: 2043, TRANSFER_ID: "abc" }, "USER_ID_EMPTY", "User ID can't be empty"],
          [{ CHAT_ID: 2043, QUEUE_ID: "x" }, "QUEUE_ID_EMPTY", "QUEUE ID can't be empty"],
          [{ CHAT_ID: 2043, TRANSFER_ID: "queue0" }, "QUEUE_ID_EMPTY", "QUEUE ID can't be empty"],
          // a non-scalar TRANSFER_ID is ignored, so nothing names a target
          [{ CHAT_ID: 2043, TRANSFER_ID: [15] }, "TRANSFER_ID_EMPTY", "Queue ID or User ID can't be empty"]
        ]
        for (const [params, code, description] of cases) {
          assertError(yield* postJson(url, params), 400, code, description)
        }
        assertTrue(emulator.journal.every((entry) => entry.executed))
        strictEqual(emulator.portal.sessions.get(321)!.operatorId, 1)
      })
    ))

  it.effect("operator.transfer: TRANSFER_ID as a JSON integer; USER_ID wins over a queue TRANSFER_ID", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const url = `${webhook(emulator)}${call("imopenlines.operator.transfer")}`
        assertSuccess(yield* postJson(url, { CHAT_ID: 2043, TRANSFER_ID: 15 }))
        strictEqual(emulator.portal.sessions.get(321)!.operatorId, 15)
        // TRANSFER_ID "queue2" becomes QUEUE_ID, but USER_ID is looked at first (wire sheet §6.13)
        assertSuccess(yield* postJson(url, { CHAT_ID: 2024, TRANSFER_ID: "queue2", USER_ID: 2 }))
        const session = emulator.portal.sessions.get(322)!
        deepStrictEqual([session.operatorId, session.lineId], [2, 1])
      })
    ))

  it.effect("dialog.get: ACCESS_ERROR 400 without a usable identifier (none, sg<N>, a user ID, 0, a list)", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const url = `${webhook(emulator)}${call("imopenlines.dialog.get")}`
        for (const params of [{}, { DIALOG_ID: "sg7" }, { DIALOG_ID: "2" }, { CHAT_ID: 0 }, { USER_CODE: ["x"] }]) {
          assertError(
            yield* postJson(url, params),
            400,
            "ACCESS_ERROR",
            "You do not have access to the specified dialog"
          )
        }
        // CHAT_ID wins over DIALOG_ID when both are set
        const both = yield* postJson(url, { CHAT_ID: 2024, DIALOG_ID: "chat2043" })
        strictEqual(both.body.result.id, 2024)
      })
    ))
})

describe("the empty-code quirk and the portal settings (wire sheet §1.5, §6.0 step 1, §6.5, §6.13)", () => {
  it.effect("operator.answer on a dialog the caller already has answers {\"error\":\"\",\"error_description\":\"\"} 400", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const answer = yield* postJson(`${webhook(emulator)}${call("imopenlines.operator.answer")}`, { CHAT_ID: 2043 })
        assertError(answer, 400, "", "")
        strictEqual(answer.text, "{\"error\":\"\",\"error_description\":\"\"}")
      })
    ))

  it.effect("emptyCodes: session.open by an extranet user and unpin by a non-operator answer the empty code", () =>
    withEmulator(
      (emulator) =>
        Effect.gen(function*() {
          assertError(
            yield* postJson(`${webhook(emulator, 11)}${call("imopenlines.session.open")}`, {
              USER_CODE: "livechat|1|2043|5"
            }),
            400,
            "",
            ""
          )
          assertError(
            yield* postJson(`${webhook(emulator)}${call("imopenlines.session.mode.unpin")}`, { CHAT_ID: 2050 }),
            400,
            "",
            ""
          )
        }),
      { settings: { emptyCodes: true } }
    ))

  it.effect("without the messenger: dialog.get IM_NOT_INSTALLED, the operator checks IM_LOAD_ERROR", () =>
    withEmulator(
      (emulator) =>
        Effect.gen(function*() {
          assertError(
            yield* postJson(`${webhook(emulator)}${call("imopenlines.dialog.get")}`, { CHAT_ID: 2043 }),
            400,
            "IM_NOT_INSTALLED",
            "Messenger is not installed."
          )
          assertError(
            yield* postJson(`${webhook(emulator)}${call("imopenlines.session.join")}`, { CHAT_ID: 2050 }),
            400,
            "IM_LOAD_ERROR",
            "Error initializing Instant Messenger module."
          )
        }),
      { settings: { imInstalled: false } }
    ))
})

describe("result shapes on the wire (wire sheet §1.4, §6.3, §6.5, §6.8, §6.12)", () => {
  it.effect("session.open sends chatId as a string; pinAll a list of integers", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const url = webhook(emulator)
        const open = yield* postJson(`${url}${call("imopenlines.session.open")}`, { USER_CODE: "livechat|22|1761|587" })
        assertSuccess(open, { chatId: "1763" })
        assertSuccess(yield* postJson(`${url}${call("imopenlines.session.mode.pinAll")}`, {}), [321, 322, 343])
        assertSuccess(yield* postJson(`${url}${call("imopenlines.session.mode.unpinAll")}`, {}), [321, 322, 343])
        assertSuccess(yield* postJson(`${url}${call("imopenlines.session.mode.unpinAll")}`, {}), [])
      })
    ))

  it.effect("session.history.get: objectEncode'd keys, Y/N strings, string IDs in messages, PHP's [] for no files", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const answer = yield* postJson(`${webhook(emulator)}${call("imopenlines.session.history.get")}`, {
          SESSION_ID: 1743
        })
        strictEqual(answer.status, 200, answer.text)
        const result = answer.body.result
        deepStrictEqual(Object.keys(result), [
          "chatId",
          "canJoin",
          "canVoteHead",
          "sessionId",
          "sessionVoteHead",
          "sessionCommentHead",
          "userId",
          "message",
          "usersMessage",
          "users",
          "openlines",
          "userInGroup",
          "woUserInGroup",
          "chat",
          "userBlockChat",
          "userInChat",
          "files"
        ])
        deepStrictEqual([result.chatId, result.canJoin, result.canVoteHead, result.userId], [
          1373,
          "Y",
          "Y",
          "chat1373"
        ])
        deepStrictEqual(result.message["17002"], {
          id: "17002",
          chatid: "1373",
          senderid: "2",
          recipientid: "chat1373",
          date: result.message["17002"].date,
          text: "Yes, from 10 to 16.",
          textlegacy: "Yes, from 10 to 16.",
          params: []
        })
        assertTrue(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/.test(result.message["17002"].date))
        deepStrictEqual(result.usersMessage, { chat1373: ["17002", "17001"] })
        deepStrictEqual(result.openlines, { canvoteashead: { "1": true } })
        deepStrictEqual(result.files, [])
        deepStrictEqual(result.chat["1373"].entityData1, "N|NONE|0|N|N|0|0|1|0|0")
      })
    ))

  it.effect("dialog.get: the snake_case chat object with dialog_id, and [] for an empty mute_list", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const answer = yield* postJson(`${webhook(emulator)}${call("imopenlines.dialog.get")}`, { CHAT_ID: 2043 })
        strictEqual(answer.status, 200, answer.text)
        const result = answer.body.result
        deepStrictEqual(
          [result.id, result.type, result.message_type, result.entity_type, result.entity_id, result.dialog_id],
          [2043, "lines", "L", "LINES", "livechat|1|2043|5", "chat2043"]
        )
        deepStrictEqual(result.mute_list, [])
        deepStrictEqual(result.entity_data_2, "LEAD|1205|COMPANY|0|CONTACT|0|DEAL|0")
        deepStrictEqual(result.entity_link, { type: "LINES", url: "", id: "livechat|1|2043|5" })
        strictEqual(result.last_message_id, 18972)
      })
    ))
})

describe("bad input: the emulated portal answers what Method.invalidParamsToWire predicts", () => {
  const cases: ReadonlyArray<readonly [string, Record<string, unknown>]> = [
    ["imopenlines.session.mode.unpin", {}],
    ["imopenlines.session.mode.unpin", { CHAT_ID: -1 }],
    ["imopenlines.session.open", {}],
    ["imopenlines.session.open", { USER_CODE: "2043" }],
    ["imopenlines.session.join", { CHAT_ID: -1 }],
    ["imopenlines.session.intercept", {}],
    ["imopenlines.session.intercept", { CHAT_ID: "abc" }],
    ["imopenlines.session.history.get", {}],
    ["imopenlines.session.history.get", { SESSION_ID: "abc" }],
    ["imopenlines.session.head.vote", {}],
    ["imopenlines.session.head.vote", { SESSION_ID: 1743 }],
    ["imopenlines.message.session.start", { CHAT_ID: -1, MESSAGE_ID: 18971 }],
    ["imopenlines.crm.lead.create", { CHAT_ID: -1 }],
    ["imopenlines.dialog.get", {}],
    ["imopenlines.dialog.get", { DIALOG_ID: "2" }],
    ["imopenlines.operator.answer", { CHAT_ID: -1 }],
    ["imopenlines.operator.skip", { CHAT_ID: -1 }],
    ["imopenlines.operator.spam", { CHAT_ID: -1 }],
    ["imopenlines.operator.finish", { CHAT_ID: -1 }],
    ["imopenlines.operator.another.finish", { CHAT_ID: -1 }],
    ["imopenlines.operator.transfer", {}],
    ["imopenlines.operator.transfer", { CHAT_ID: 2043 }],
    ["imopenlines.operator.transfer", { CHAT_ID: 2043, USER_ID: 0 }],
    ["imopenlines.operator.transfer", { CHAT_ID: 2043, QUEUE_ID: 0 }]
  ]
  for (const [name, params] of cases) {
    it.effect(`${name} ${JSON.stringify(params)}`, () =>
      withEmulator((emulator) =>
        Effect.gen(function*() {
          const method = Catalog.find(name)!
          const invalid = yield* Effect.flip(method.decodeParams(params))
          const expected = Method.invalidParamsToWire(method, invalid)
          const answer = yield* postJson(`${webhook(emulator)}${call(name)}`, params)
          strictEqual(answer.status, expected.status)
          deepStrictEqual(answer.body, expected.body)
        })
      ))
  }
})
