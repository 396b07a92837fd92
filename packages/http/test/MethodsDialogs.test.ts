/**
 * The dialog, history, message and CRM methods through the typed library, over real HTTP on loopback against a fresh
 * emulator: results decoded into their models, state changes, and each documented error reachable through typed
 * params as its typed class (code, status, method).
 */
import { ImOpenLines, PortalError } from "@bitrix24-effect/core"
import { describe, it } from "@effect/vitest"
import { assertInstanceOf, assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import { failsWith, withPortal } from "./MethodsHelpers.js"

describe("imopenlines.session.history.get (wire sheet §6.8)", () => {
  const method = ImOpenLines.sessionHistoryGet.method

  it.effect("SESSION_ID 321: the session's messages, users and chat, decoded into SessionHistory", () =>
    withPortal(({ as }) =>
      Effect.gen(function*() {
        const history = yield* ImOpenLines.sessionHistoryGet({ SESSION_ID: 321 }).pipe(Effect.provide(as()))
        deepStrictEqual(
          {
            chatId: history.chatId,
            sessionId: history.sessionId,
            canJoin: history.canJoin,
            canVoteHead: history.canVoteHead,
            vote: history.sessionVoteHead,
            comment: history.sessionCommentHead,
            userId: history.userId
          },
          {
            chatId: 2043,
            sessionId: 321,
            canJoin: true,
            canVoteHead: true,
            vote: 0,
            comment: null,
            userId: "chat2043"
          }
        )
        deepStrictEqual(Object.keys(history.message).sort(), ["18960", "18971", "18972"])
        const message = history.message["18971"]!
        deepStrictEqual(
          [message.id, message.chatid, message.senderid, message.recipientid, message.text],
          [18971, 2043, 5, "chat2043", "Hello! How do I add observers to a task?"]
        )
        deepStrictEqual(history.usersMessage, { chat2043: [18972, 18971, 18960] })
        deepStrictEqual(Object.keys(history.users).sort(), ["1", "5"])
        strictEqual(history.users["5"]!.name, "Guest #5")
        deepStrictEqual(history.openlines, { canvoteashead: { "1": true } })
        const chat = history.chat["2043"]!
        deepStrictEqual(
          [chat.id, chat.entityType, chat.entityId, chat.entityData2],
          [2043, "LINES", "livechat|1|2043|5", "LEAD|1205|COMPANY|0|CONTACT|0|DEAL|0"]
        )
        strictEqual(chat.entityData1?.split("|")[5], "321")
        deepStrictEqual(history.userInChat, { "2043": [1, 5] })
        // PHP's empty array: the portal sends "files": [], decoded to {}
        deepStrictEqual(history.files, {})
      })
    ))

  it.effect("CHAT_ID alone takes the chat's newest session, closed or not", () =>
    withPortal(({ as, emulator }) =>
      Effect.gen(function*() {
        strictEqual(
          (yield* ImOpenLines.sessionHistoryGet({ CHAT_ID: 494 }).pipe(Effect.provide(as()))).sessionId,
          323
        )
        yield* ImOpenLines.sessionStart({ CHAT_ID: 494 }).pipe(Effect.provide(as()))
        const newest = Math.max(
          ...[...emulator.portal.sessions.values()].filter((s) => s.chatId === 494).map((s) => s.id)
        )
        strictEqual(
          (yield* ImOpenLines.sessionHistoryGet({ CHAT_ID: 494 }).pipe(Effect.provide(as()))).sessionId,
          newest
        )
      })
    ))

  it.effect("the supervisor of line 1 reads user 2's history; CRM access to lead 1205 opens session 321", () =>
    withPortal(({ as }) =>
      Effect.gen(function*() {
        const supervised = yield* ImOpenLines.sessionHistoryGet({ SESSION_ID: 1743 }).pipe(Effect.provide(as(4)))
        deepStrictEqual([supervised.sessionId, supervised.canVoteHead], [1743, true])
        const crm = yield* ImOpenLines.sessionHistoryGet({ SESSION_ID: 321 }).pipe(Effect.provide(as(14)))
        deepStrictEqual([crm.sessionId, crm.canJoin, crm.canVoteHead], [321, true, false])
      })
    ))

  it.effect("INVALID_SESSION_ID for a chat without sessions; ACCESS_DENIED for others' history or no session", () =>
    withPortal(({ as }) =>
      Effect.gen(function*() {
        yield* failsWith(
          ImOpenLines.sessionHistoryGet({ CHAT_ID: 1489 }).pipe(Effect.provide(as())),
          PortalError.InvalidSessionId,
          method
        )
        yield* failsWith(
          ImOpenLines.sessionHistoryGet({ SESSION_ID: 321 }).pipe(Effect.provide(as(3))),
          PortalError.AccessDenied,
          method
        )
        yield* failsWith(
          ImOpenLines.sessionHistoryGet({ SESSION_ID: 1743 }).pipe(Effect.provide(as(15))),
          PortalError.AccessDenied,
          method
        )
        yield* failsWith(
          ImOpenLines.sessionHistoryGet({ SESSION_ID: 999999 }).pipe(Effect.provide(as())),
          PortalError.AccessDenied,
          method
        )
      })
    ))

  it.effect("neither SESSION_ID nor CHAT_ID fails before any I/O", () =>
    withPortal(({ as, emulator }) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(ImOpenLines.sessionHistoryGet({}).pipe(Effect.provide(as())))
        assertInstanceOf(error, PortalError.InvalidParams)
        strictEqual(error.field, "CHAT_ID")
        strictEqual(emulator.journal.length, 0)
      })
    ))
})

describe("imopenlines.dialog.get (wire sheet §6.12)", () => {
  const method = ImOpenLines.dialogGet.method

  it.effect("the same chat by CHAT_ID, DIALOG_ID, SESSION_ID and USER_CODE (with or without imol|)", () =>
    withPortal(({ as }) =>
      Effect.gen(function*() {
        const ids = []
        for (
          const params of [
            { CHAT_ID: 2043 },
            { DIALOG_ID: "chat2043" },
            { SESSION_ID: 321 },
            { USER_CODE: "livechat|1|2043|5" },
            { USER_CODE: "imol|livechat|1|2043|5" }
          ]
        ) {
          const dialog = yield* ImOpenLines.dialogGet(params).pipe(Effect.provide(as()))
          ids.push([dialog.id, dialog.dialog_id])
        }
        deepStrictEqual(ids, Array.from({ length: 5 }, () => [2043, "chat2043"]))
      })
    ))

  it.effect("the documentation's example: USER_CODE livechat|1|1373|211, a closed dialog", () =>
    withPortal(({ as }) =>
      Effect.gen(function*() {
        const dialog = yield* ImOpenLines.dialogGet({ USER_CODE: "livechat|1|1373|211" }).pipe(Effect.provide(as()))
        deepStrictEqual(
          [dialog.id, dialog.type, dialog.entity_type, dialog.entity_id, dialog.message_type, dialog.owner],
          [1373, "lines", "LINES", "livechat|1|1373|211", "L", 0]
        )
        // no running session: the session fields of ENTITY_DATA_1 are zero (wire sheet §7.1)
        strictEqual(dialog.entity_data_1, "N|NONE|0|N|N|0|0|1|0|0")
      })
    ))

  it.effect("entity_data_1 carries the pin flag and the session ID; entity_data_3 the silent flag", () =>
    withPortal(({ as }) =>
      Effect.gen(function*() {
        yield* ImOpenLines.sessionModePin({ CHAT_ID: 2043 }).pipe(Effect.provide(as()))
        yield* ImOpenLines.sessionModeSilent({ CHAT_ID: 2043, ACTIVATE: true }).pipe(Effect.provide(as()))
        const dialog = yield* ImOpenLines.dialogGet({ CHAT_ID: 2043 }).pipe(Effect.provide(as()))
        const fields = dialog.entity_data_1!.split("|")
        deepStrictEqual([fields[0], fields[1], fields[2], fields[3], fields[5], fields[7]], [
          "Y",
          "LEAD",
          "1205",
          "Y",
          "321",
          "1"
        ])
        strictEqual(dialog.entity_data_3, "Y")
        deepStrictEqual([dialog.role, dialog.manager_list], ["owner", [1]])
      })
    ))

  it.effect("ACCESS_ERROR (400) arrives as DialogAccessError, never as the mute denial AccessError", () =>
    withPortal(({ as }) =>
      Effect.gen(function*() {
        for (
          const [params, user] of [
            [{ CHAT_ID: 2043 }, 3],
            [{ CHAT_ID: 1489 }, 1],
            [{ SESSION_ID: 999999 }, 1],
            [{ USER_CODE: "livechat|1|9999|5" }, 1],
            [{ CHAT_ID: 2043 }, 11]
          ] as const
        ) {
          const error = yield* failsWith(
            ImOpenLines.dialogGet(params).pipe(Effect.provide(as(user))),
            PortalError.DialogAccessError,
            method
          )
          assertTrue(!(error instanceof PortalError.AccessError))
        }
      })
    ))

  it.effect("IM_NOT_INSTALLED on a portal without the messenger", () =>
    withPortal(({ as }) =>
      Effect.gen(function*() {
        yield* failsWith(
          ImOpenLines.dialogGet({ CHAT_ID: 2043 }).pipe(Effect.provide(as())),
          PortalError.ImNotInstalled,
          method
        )
      }), { settings: { imInstalled: false } }))
})

describe("imopenlines.message.session.start (wire sheet §6.10)", () => {
  const method = ImOpenLines.messageSessionStart.method

  it.effect("closes session 321, opens a new one answered by the caller and re-posts message 18971 into it", () =>
    withPortal(({ as, emulator }) =>
      Effect.gen(function*() {
        const { portal } = emulator
        const before = portal.messages.length
        strictEqual(
          yield* ImOpenLines.messageSessionStart({ CHAT_ID: 2043, MESSAGE_ID: 18971 }).pipe(Effect.provide(as())),
          true
        )
        strictEqual(portal.sessions.get(321)!.status, 60)
        const next = [...portal.sessions.values()].find((session) => session.parentId === 321)!
        deepStrictEqual([next.chatId, next.operatorId, next.status < 60], [2043, 1, true])
        deepStrictEqual(
          portal.messages.slice(before).map((m) => [m.sessionId, m.authorId, m.text, m.params["SKIP_CONNECTOR"]]),
          [
            [321, 1, "[USER=1][/USER] closed the current conversation and started a new one", undefined],
            [next.id, 5, "Hello! How do I add observers to a task?", "Y"]
          ]
        )
      })
    ))

  it.effect("a message of another chat changes nothing, and the answer is still true", () =>
    withPortal(({ as, emulator }) =>
      Effect.gen(function*() {
        const sessions = emulator.portal.sessions.size
        strictEqual(
          yield* ImOpenLines.messageSessionStart({ CHAT_ID: 2043, MESSAGE_ID: 18980 }).pipe(Effect.provide(as())),
          true
        )
        strictEqual(emulator.portal.sessions.size, sessions)
        strictEqual(emulator.portal.sessions.get(321)!.status, 20)
      })
    ))

  it.effect("CHAT_ID, CHAT_TYPE, ACCESS_DENIED arrive as their classes", () =>
    withPortal(({ as }) =>
      Effect.gen(function*() {
        yield* failsWith(
          ImOpenLines.messageSessionStart({ CHAT_ID: 999999, MESSAGE_ID: 18971 }).pipe(Effect.provide(as())),
          PortalError.ChatIdInvalid,
          method
        )
        yield* failsWith(
          ImOpenLines.messageSessionStart({ CHAT_ID: 1600, MESSAGE_ID: 18971 }).pipe(Effect.provide(as())),
          PortalError.ChatTypeInvalid,
          method
        )
        yield* failsWith(
          ImOpenLines.messageSessionStart({ CHAT_ID: 2043, MESSAGE_ID: 18971 }).pipe(Effect.provide(as(3))),
          PortalError.AccessDenied,
          method
        )
      })
    ))
})

describe("imopenlines.crm.lead.create (wire sheet §6.11)", () => {
  const method = ImOpenLines.crmLeadCreate.method

  it.effect("the operator creates a lead from chat 2024; the chat is bound to it and a repeat creates nothing", () =>
    withPortal(({ as, emulator }) =>
      Effect.gen(function*() {
        const { portal } = emulator
        strictEqual(yield* ImOpenLines.crmLeadCreate({ CHAT_ID: 2024 }).pipe(Effect.provide(as())), true)
        strictEqual(portal.leads.length, 1)
        const lead = portal.leads[0]!
        deepStrictEqual(portal.chats.get(2024)!.crm, { entityType: "LEAD", entityId: lead.id })
        strictEqual(portal.messages.at(-1)!.text, "New lead created: \"Website chat: client 6\"")
        strictEqual(yield* ImOpenLines.crmLeadCreate({ CHAT_ID: 2024 }).pipe(Effect.provide(as())), true)
        strictEqual(portal.leads.length, 1)
      })
    ))

  it.effect("chat 2043 is already bound to lead 1205: true, no new lead", () =>
    withPortal(({ as, emulator }) =>
      Effect.gen(function*() {
        strictEqual(yield* ImOpenLines.crmLeadCreate({ CHAT_ID: 2043 }).pipe(Effect.provide(as())), true)
        deepStrictEqual([emulator.portal.leads.length, emulator.portal.chats.get(2043)!.crm?.entityId], [0, 1205])
      })
    ))

  it.effect("ERROR_USER_NOT_OPERATOR (with its CRM text), IMOL_CHAT_ERROR_ANSWER_NOT_LOAD_SESSION, access errors", () =>
    withPortal(({ as }) =>
      Effect.gen(function*() {
        yield* failsWith(
          ImOpenLines.crmLeadCreate({ CHAT_ID: 2050 }).pipe(Effect.provide(as())),
          PortalError.UserNotOperator,
          method,
          "Attempt to save a CRM entity by a user who is not an operator"
        )
        yield* failsWith(
          ImOpenLines.crmLeadCreate({ CHAT_ID: 494 }).pipe(Effect.provide(as())),
          PortalError.ImolChatErrorAnswerNotLoadSession,
          method
        )
        yield* failsWith(
          ImOpenLines.crmLeadCreate({ CHAT_ID: 999999 }).pipe(Effect.provide(as())),
          PortalError.ChatIdInvalid,
          method
        )
        yield* failsWith(
          ImOpenLines.crmLeadCreate({ CHAT_ID: 1489 }).pipe(Effect.provide(as())),
          PortalError.ChatTypeInvalid,
          method
        )
        yield* failsWith(
          ImOpenLines.crmLeadCreate({ CHAT_ID: 2024 }).pipe(Effect.provide(as(3))),
          PortalError.AccessDenied,
          method
        )
      })
    ))

  it.effect("IMOL_CHAT_ERROR_NOT_LOAD_CRM on a portal without the CRM", () =>
    withPortal(({ as, emulator }) =>
      Effect.gen(function*() {
        yield* failsWith(
          ImOpenLines.crmLeadCreate({ CHAT_ID: 2024 }).pipe(Effect.provide(as())),
          PortalError.ImolChatErrorNotLoadCrm,
          method
        )
        strictEqual(emulator.portal.chats.get(2024)!.crm, undefined)
      }), { settings: { crmInstalled: false } }))
})
