/**
 * The operator actions (`imopenlines.operator.*`) through the typed library, over real HTTP on loopback against a
 * fresh emulator: each action's effect on the session and chat, the portal's system messages, and each documented
 * error reachable through typed params as its typed class (code, status, method).
 */
import { type Bitrix24Client, ImOpenLines, PortalError } from "@bitrix24-effect/core"
import { describe, it } from "@effect/vitest"
import { assertInstanceOf, assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import { failsWith, withPortal } from "./MethodsHelpers.js"

const members = (chat: { readonly members: ReadonlySet<number> }) => [...chat.members].sort((a, b) => a - b)

describe("the access check of every operator action (wire sheet §6.0)", () => {
  const actions: ReadonlyArray<{
    readonly method: string
    (params: { readonly CHAT_ID: number }): Effect.Effect<boolean, unknown, Bitrix24Client.Bitrix24Client>
  }> = [
    ImOpenLines.operatorAnswer,
    ImOpenLines.operatorSkip,
    ImOpenLines.operatorSpam,
    ImOpenLines.operatorFinish,
    ImOpenLines.operatorAnotherFinish
  ]
  for (const action of actions) {
    it.effect(`${action.method}: CHAT_ID, CHAT_TYPE and ACCESS_DENIED arrive as their classes, nothing changes`, () =>
      withPortal(({ as, emulator }) =>
        Effect.gen(function*() {
          const messages = emulator.portal.messages.length
          yield* failsWith(
            action({ CHAT_ID: 999999 }).pipe(Effect.provide(as())),
            PortalError.ChatIdInvalid,
            action.method
          )
          yield* failsWith(
            action({ CHAT_ID: 1489 }).pipe(Effect.provide(as())),
            PortalError.ChatTypeInvalid,
            action.method
          )
          yield* failsWith(
            action({ CHAT_ID: 2043 }).pipe(Effect.provide(as(3))),
            PortalError.AccessDenied,
            action.method
          )
          strictEqual(emulator.portal.messages.length, messages)
          strictEqual(emulator.portal.sessions.get(321)!.status, 20)
        })
      ))
  }
})

describe("imopenlines.operator.answer (wire sheet §6.13)", () => {
  it.effect("user 1 takes queued chat 2060: operator, AUTHOR_ID, status 10 ANSWER, member, \"picked conversation\"", () =>
    withPortal(({ as, emulator }) =>
      Effect.gen(function*() {
        const { portal } = emulator
        strictEqual(yield* ImOpenLines.operatorAnswer({ CHAT_ID: 2060 }).pipe(Effect.provide(as())), true)
        const session = portal.sessions.get(325)!
        deepStrictEqual([session.operatorId, session.status, portal.chats.get(2060)!.authorId], [1, 10, 1])
        deepStrictEqual(members(portal.chats.get(2060)!), [1, 9])
        strictEqual(portal.messages.at(-1)!.text, "[USER=1][/USER] picked conversation")
      })
    ))

  it.effect("answering a dialog the caller already has: the source's empty code, as UnknownPortalError \"\"", () =>
    withPortal(({ as }) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(ImOpenLines.operatorAnswer({ CHAT_ID: 2043 }).pipe(Effect.provide(as())))
        assertInstanceOf(error, PortalError.UnknownPortalError)
        deepStrictEqual(
          [error.method, error.code, error.description, error.status],
          ["imopenlines.operator.answer", "", "", 400]
        )
      })
    ))
})

describe("imopenlines.operator.skip (wire sheet §6.13)", () => {
  it.effect("user 1 skips chat 2043: the next operator of line 1's queue (user 2) gets it, user 1 leaves", () =>
    withPortal(({ as, emulator }) =>
      Effect.gen(function*() {
        const { portal } = emulator
        const before = portal.messages.length
        strictEqual(yield* ImOpenLines.operatorSkip({ CHAT_ID: 2043 }).pipe(Effect.provide(as())), true)
        const session = portal.sessions.get(321)!
        deepStrictEqual([session.operatorId, session.status, portal.chats.get(2043)!.authorId], [2, 5, 0])
        deepStrictEqual(members(portal.chats.get(2043)!), [2, 5])
        deepStrictEqual(portal.messages.slice(before).map((message) => message.text), [
          "[USER=1][/USER] rejected conversation",
          "Enquiry transferred to [USER=2][/USER] according to queuing rules"
        ])
      })
    ))

  it.effect("the queue goes round: user 2 skips it on to user 15, who skips it back to user 1", () =>
    withPortal(({ as, emulator }) =>
      Effect.gen(function*() {
        yield* ImOpenLines.operatorSkip({ CHAT_ID: 2043 }).pipe(Effect.provide(as()))
        yield* ImOpenLines.operatorSkip({ CHAT_ID: 2043 }).pipe(Effect.provide(as(2)))
        strictEqual(emulator.portal.sessions.get(321)!.operatorId, 15)
        yield* ImOpenLines.operatorSkip({ CHAT_ID: 2043 }).pipe(Effect.provide(as(15)))
        strictEqual(emulator.portal.sessions.get(321)!.operatorId, 1)
      })
    ))

  it.effect("ACCESS_DENIED_KICK for a closed dialog (494)", () =>
    withPortal(({ as }) =>
      Effect.gen(function*() {
        yield* failsWith(
          ImOpenLines.operatorSkip({ CHAT_ID: 494 }).pipe(Effect.provide(as())),
          PortalError.AccessDeniedKick,
          ImOpenLines.operatorSkip.method
        )
      })
    ))
})

describe("imopenlines.operator.spam (wire sheet §6.13)", () => {
  it.effect("ends the session with status 65 SPAM; the operators leave; a closed dialog answers true unchanged", () =>
    withPortal(({ as, emulator }) =>
      Effect.gen(function*() {
        const { portal } = emulator
        strictEqual(yield* ImOpenLines.operatorSpam({ CHAT_ID: 2024 }).pipe(Effect.provide(as())), true)
        deepStrictEqual([portal.sessions.get(322)!.status, portal.chats.get(2024)!.authorId], [65, 0])
        deepStrictEqual(members(portal.chats.get(2024)!), [6])
        strictEqual(portal.messages.at(-1)!.text, "[USER=1][/USER] marked the current conversation as spam")
        const count = portal.messages.length
        strictEqual(yield* ImOpenLines.operatorSpam({ CHAT_ID: 2024 }).pipe(Effect.provide(as())), true)
        strictEqual(portal.messages.length, count)
      })
    ))
})

describe("imopenlines.operator.finish (wire sheet §6.13, §7.3)", () => {
  const method = ImOpenLines.operatorFinish.method

  it.effect("the operator closes chat 2043: status 60, pin and silent mode cleared, the operator leaves", () =>
    withPortal(({ as, emulator }) =>
      Effect.gen(function*() {
        const { portal } = emulator
        yield* ImOpenLines.sessionModePin({ CHAT_ID: 2043 }).pipe(Effect.provide(as()))
        yield* ImOpenLines.sessionModeSilent({ CHAT_ID: 2043, ACTIVATE: true }).pipe(Effect.provide(as()))
        strictEqual(yield* ImOpenLines.operatorFinish({ CHAT_ID: 2043 }).pipe(Effect.provide(as())), true)
        const session = portal.sessions.get(321)!
        const chat = portal.chats.get(2043)!
        deepStrictEqual([session.status, session.pinned, chat.silent, chat.authorId], [60, false, false, 0])
        deepStrictEqual(members(chat), [5])
      })
    ))

  it.effect("ERROR_USER_NOT_OPERATOR (with its close text) and NOT_LOAD_SESSION_OR_CHAT", () =>
    withPortal(({ as, emulator }) =>
      Effect.gen(function*() {
        yield* failsWith(
          ImOpenLines.operatorFinish({ CHAT_ID: 2050 }).pipe(Effect.provide(as())),
          PortalError.UserNotOperator,
          method,
          "Attempt to close the dialog by a user who is not an operator"
        )
        strictEqual(emulator.portal.sessions.get(324)!.status, 20)
        yield* failsWith(
          ImOpenLines.operatorFinish({ CHAT_ID: 494 }).pipe(Effect.provide(as())),
          PortalError.NotLoadSessionOrChat,
          method
        )
      })
    ))
})

describe("imopenlines.operator.another.finish (wire sheet §6.13)", () => {
  const method = ImOpenLines.operatorAnotherFinish.method

  it.effect("user 1 closes user 2's chat 2050, and the portal says who closed it", () =>
    withPortal(({ as, emulator }) =>
      Effect.gen(function*() {
        const { portal } = emulator
        strictEqual(yield* ImOpenLines.operatorAnotherFinish({ CHAT_ID: 2050 }).pipe(Effect.provide(as())), true)
        strictEqual(portal.sessions.get(324)!.status, 60)
        strictEqual(portal.messages.at(-1)!.text, "[USER=1][/USER] closed the conversation")
        deepStrictEqual(members(portal.chats.get(2050)!), [8])
      })
    ))

  it.effect("a dialog nobody answered is answered by the caller first, then closed", () =>
    withPortal(({ as, emulator }) =>
      Effect.gen(function*() {
        const { portal } = emulator
        yield* ImOpenLines.operatorAnotherFinish({ CHAT_ID: 2060 }).pipe(Effect.provide(as(4)))
        const session = portal.sessions.get(325)!
        deepStrictEqual([session.operatorId, session.status], [4, 60])
        strictEqual(portal.messages.at(-1)!.text, "[USER=4][/USER] picked conversation")
      })
    ))

  it.effect("NOT_LOAD_SESSION_OR_CHAT for a closed dialog", () =>
    withPortal(({ as }) =>
      Effect.gen(function*() {
        yield* failsWith(
          ImOpenLines.operatorAnotherFinish({ CHAT_ID: 494 }).pipe(Effect.provide(as())),
          PortalError.NotLoadSessionOrChat,
          method
        )
      })
    ))
})

describe("imopenlines.operator.transfer (wire sheet §6.13)", () => {
  const method = ImOpenLines.operatorTransfer.method

  it.effect("USER_ID 15: user 15 becomes the operator and a member, user 1 leaves, AUTHOR_ID waits for the answer", () =>
    withPortal(({ as, emulator }) =>
      Effect.gen(function*() {
        const { portal } = emulator
        strictEqual(
          yield* ImOpenLines.operatorTransfer({ CHAT_ID: 2043, USER_ID: 15 }).pipe(Effect.provide(as())),
          true
        )
        deepStrictEqual([portal.sessions.get(321)!.operatorId, portal.chats.get(2043)!.authorId], [15, 0])
        deepStrictEqual(members(portal.chats.get(2043)!), [5, 15])
        strictEqual(portal.messages.at(-1)!.text, "[USER=1][/USER] transfered conversation to [USER=15][/USER]")
        // the new operator answers it
        strictEqual(yield* ImOpenLines.operatorAnswer({ CHAT_ID: 2043 }).pipe(Effect.provide(as(15))), true)
        strictEqual(portal.chats.get(2043)!.authorId, 15)
      })
    ))

  it.effect("TRANSFER_ID \"queue2\" and QUEUE_ID 2: the dialog moves to line 2, its queue's first operator gets it", () =>
    withPortal(({ as, emulator }) =>
      Effect.gen(function*() {
        const { portal } = emulator
        yield* ImOpenLines.operatorTransfer({ CHAT_ID: 2024, TRANSFER_ID: "queue2" }).pipe(Effect.provide(as()))
        const session = portal.sessions.get(322)!
        deepStrictEqual([session.lineId, session.operatorId, portal.chats.get(2024)!.lineId], [2, 15, 2])
        deepStrictEqual(members(portal.chats.get(2024)!), [6, 15])
        strictEqual(
          portal.messages.at(-1)!.text,
          "[USER=1][/USER] redirected conversation from queue \"Website chat\" to queue \"Telegram support\""
        )
        yield* ImOpenLines.operatorTransfer({ CHAT_ID: 2043, QUEUE_ID: 2 }).pipe(Effect.provide(as()))
        strictEqual(portal.sessions.get(321)!.lineId, 2)
      })
    ))

  it.effect("TRANSFER_ID \"2\" (a user ID as a string) transfers to user 2", () =>
    withPortal(({ as, emulator }) =>
      Effect.gen(function*() {
        yield* ImOpenLines.operatorTransfer({ CHAT_ID: 2024, TRANSFER_ID: "2" }).pipe(Effect.provide(as()))
        strictEqual(emulator.portal.sessions.get(322)!.operatorId, 2)
        deepStrictEqual(emulator.journal.at(-1)?.params, { CHAT_ID: 2024, TRANSFER_ID: "2" })
      })
    ))

  it.effect("OPERATOR_WRONG: to oneself, to an inactive user, to an unknown line or user, without access, closed", () =>
    withPortal(({ as, emulator }) =>
      Effect.gen(function*() {
        const cases = [
          [{ CHAT_ID: 2043, USER_ID: 1 }, 1],
          [{ CHAT_ID: 2043, USER_ID: 12 }, 1],
          [{ CHAT_ID: 2043, USER_ID: 999 }, 1],
          [{ CHAT_ID: 2043, TRANSFER_ID: "queue99" }, 1],
          [{ CHAT_ID: 2043, USER_ID: 2 }, 3],
          [{ CHAT_ID: 494, USER_ID: 2 }, 1],
          [{ CHAT_ID: 1489, USER_ID: 2 }, 1]
        ] as const
        for (const [params, user] of cases) {
          yield* failsWith(
            ImOpenLines.operatorTransfer(params).pipe(Effect.provide(as(user))),
            PortalError.OperatorWrong,
            method
          )
        }
        strictEqual(emulator.portal.sessions.get(321)!.operatorId, 1)
        assertTrue(emulator.journal.every((entry) => entry.error === "OPERATOR_WRONG"))
      })
    ))

  it.effect("no target, or a malformed TRANSFER_ID, fails before any I/O", () =>
    withPortal(({ as, emulator }) =>
      Effect.gen(function*() {
        for (const params of [{ CHAT_ID: 2043 }, { CHAT_ID: 2043, TRANSFER_ID: "queue0" }]) {
          const error = yield* Effect.flip(ImOpenLines.operatorTransfer(params).pipe(Effect.provide(as())))
          assertInstanceOf(error, PortalError.InvalidParams)
          strictEqual(error.field, "TRANSFER_ID")
        }
        strictEqual(emulator.journal.length, 0)
      })
    ))
})
