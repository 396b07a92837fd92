/**
 * The session family through the typed library, over real HTTP on loopback against a fresh emulator: each method's
 * success with the state it changes, and each documented error reachable through typed params as its typed class
 * (code, status, method). Wire-level cases that typed validation blocks are in packages/emulator/test/Catalog*.
 */
import { ImOpenLines, PortalError } from "@bitrix24-effect/core"
import { describe, it } from "@effect/vitest"
import { assertInstanceOf, assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { failsWith, withPortal } from "./MethodsHelpers.js"

describe("imopenlines.session.mode.unpin (undocumented; wire sheet §6.2)", () => {
  const method = ImOpenLines.sessionModeUnpin.method

  it.effect("unpins a pinned dialog of the caller, with the portal's message; an unpinned one is left as it is", () =>
    withPortal(({ as, emulator }) =>
      Effect.gen(function*() {
        const session = emulator.portal.sessions.get(322)!
        session.pinned = true
        const before = emulator.portal.messages.length
        strictEqual(yield* ImOpenLines.sessionModeUnpin({ CHAT_ID: 2024 }).pipe(Effect.provide(as())), true)
        strictEqual(session.pinned, false)
        strictEqual(yield* ImOpenLines.sessionModeUnpin({ CHAT_ID: 2024 }).pipe(Effect.provide(as())), true)
        deepStrictEqual(emulator.portal.messages.slice(before).map((message) => message.text), [
          "The conversation is unassigned from agent, auto close date set according to the queue rules."
        ])
      })
    ))

  it.effect("CHAT_ID, CHAT_TYPE, ACCESS_DENIED and ERROR_USER_NOT_OPERATOR arrive as their classes", () =>
    withPortal(({ as }) =>
      Effect.gen(function*() {
        yield* failsWith(
          ImOpenLines.sessionModeUnpin({ CHAT_ID: 999999 }).pipe(Effect.provide(as())),
          PortalError.ChatIdInvalid,
          method
        )
        yield* failsWith(
          ImOpenLines.sessionModeUnpin({ CHAT_ID: 1489 }).pipe(Effect.provide(as())),
          PortalError.ChatTypeInvalid,
          method
        )
        yield* failsWith(
          ImOpenLines.sessionModeUnpin({ CHAT_ID: 2043 }).pipe(Effect.provide(as(3))),
          PortalError.AccessDenied,
          method
        )
        yield* failsWith(
          ImOpenLines.sessionModeUnpin({ CHAT_ID: 2050 }).pipe(Effect.provide(as())),
          PortalError.UserNotOperator,
          method
        )
      })
    ))
})

describe("imopenlines.session.mode.pinAll / unpinAll (wire sheet §6.3)", () => {
  it.effect("pinAll pins the caller's active sessions and answers their IDs; a repeat answers []", () =>
    withPortal(({ as, emulator }) =>
      Effect.gen(function*() {
        const pinned = yield* ImOpenLines.sessionModePinAll({}).pipe(Effect.provide(as()))
        // 321, 322 (status 20) and 343 (status 40) are user 1's; 323 is closed, 324 is user 2's
        deepStrictEqual(pinned, [321, 322, 343])
        assertTrue([321, 322, 343].every((id) => emulator.portal.sessions.get(id)!.pinned))
        strictEqual(emulator.portal.sessions.get(324)!.pinned, false)
        deepStrictEqual(yield* ImOpenLines.sessionModePinAll({}).pipe(Effect.provide(as())), [])
      })
    ))

  it.effect("unpinAll unpins them again; user 2's pin is not touched by user 1", () =>
    withPortal(({ as, emulator }) =>
      Effect.gen(function*() {
        deepStrictEqual(yield* ImOpenLines.sessionModeUnpinAll({}).pipe(Effect.provide(as())), [])
        deepStrictEqual(yield* ImOpenLines.sessionModePinAll({}).pipe(Effect.provide(as(2))), [324])
        yield* ImOpenLines.sessionModePinAll({}).pipe(Effect.provide(as()))
        deepStrictEqual(yield* ImOpenLines.sessionModeUnpinAll({}).pipe(Effect.provide(as())), [321, 322, 343])
        strictEqual(emulator.portal.sessions.get(324)!.pinned, true)
      })
    ))

  it.effect("sessions below 10 ANSWER or from 50 WAIT_CLIENT on are not selected", () =>
    withPortal(({ as, emulator }) =>
      Effect.gen(function*() {
        emulator.portal.sessions.get(321)!.status = 5
        emulator.portal.sessions.get(322)!.status = 50
        deepStrictEqual(yield* ImOpenLines.sessionModePinAll({}).pipe(Effect.provide(as())), [343])
      })
    ))
})

describe("imopenlines.session.open (wire sheet §6.5)", () => {
  const method = ImOpenLines.sessionOpen.method

  it.effect("answers the chat of a USER_CODE; the wire's string chatId arrives as a number", () =>
    withPortal(({ as, emulator }) =>
      Effect.gen(function*() {
        const response = yield* ImOpenLines.sessionOpen.withResponse({ USER_CODE: "livechat|22|1761|587" }).pipe(
          Effect.provide(as())
        )
        deepStrictEqual(response.result, { chatId: 1763 })
        assertTrue(Option.isSome(response.time))
        // user 14 has no line right but may open lead 1205, which chat 2043 is bound to (wire sheet §7.4)
        deepStrictEqual(
          yield* ImOpenLines.sessionOpen({ USER_CODE: "livechat|1|2043|5" }).pipe(Effect.provide(as(14))),
          { chatId: 2043 }
        )
        strictEqual(emulator.journal.at(-1)?.method, "imopenlines.session.open")
      })
    ))

  it.effect("ACCESS_DENIED for an unknown code, a user without rights, and an extranet user", () =>
    withPortal(({ as }) =>
      Effect.gen(function*() {
        yield* failsWith(
          ImOpenLines.sessionOpen({ USER_CODE: "livechat|1|9999|5" }).pipe(Effect.provide(as())),
          PortalError.AccessDenied,
          method
        )
        yield* failsWith(
          ImOpenLines.sessionOpen({ USER_CODE: "livechat|1|2043|5" }).pipe(Effect.provide(as(3))),
          PortalError.AccessDenied,
          method
        )
        yield* failsWith(
          ImOpenLines.sessionOpen({ USER_CODE: "livechat|1|2043|5" }).pipe(Effect.provide(as(11))),
          PortalError.AccessDenied,
          method
        )
      })
    ))

  it.effect("with settings.emptyCodes an extranet user gets the source's empty code: UnknownPortalError \"\"", () =>
    withPortal(({ as }) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(
          ImOpenLines.sessionOpen({ USER_CODE: "livechat|1|2043|5" }).pipe(Effect.provide(as(11)))
        )
        assertInstanceOf(error, PortalError.UnknownPortalError)
        deepStrictEqual([error.method, error.code, error.status], [method, "", 400])
      }), { settings: { emptyCodes: true } }))

  it.effect("a malformed USER_CODE fails before any I/O", () =>
    withPortal(({ as, emulator }) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(ImOpenLines.sessionOpen({ USER_CODE: "2043" }).pipe(Effect.provide(as())))
        assertInstanceOf(error, PortalError.InvalidParams)
        strictEqual(error.field, "USER_CODE")
        strictEqual(emulator.journal.length, 0)
      })
    ))
})

describe("imopenlines.session.join (wire sheet §6.6)", () => {
  const method = ImOpenLines.sessionJoin.method

  it.effect("adds the caller with the messenger's notice; a repeat adds nothing", () =>
    withPortal(({ as, emulator }) =>
      Effect.gen(function*() {
        const before = emulator.portal.messages.length
        strictEqual(yield* ImOpenLines.sessionJoin({ CHAT_ID: 2050 }).pipe(Effect.provide(as(4))), true)
        strictEqual(yield* ImOpenLines.sessionJoin({ CHAT_ID: 2050 }).pipe(Effect.provide(as(4))), true)
        assertTrue(emulator.portal.chats.get(2050)!.members.has(4))
        deepStrictEqual(emulator.portal.messages.slice(before).map((message) => message.text), [
          "Line Supervisor joined the chat."
        ])
      })
    ))

  it.effect("CHAT_ID, CHAT_TYPE, ACCESS_DENIED arrive as their classes", () =>
    withPortal(({ as }) =>
      Effect.gen(function*() {
        yield* failsWith(
          ImOpenLines.sessionJoin({ CHAT_ID: 999999 }).pipe(Effect.provide(as())),
          PortalError.ChatIdInvalid,
          method
        )
        yield* failsWith(
          ImOpenLines.sessionJoin({ CHAT_ID: 1500 }).pipe(Effect.provide(as())),
          PortalError.ChatTypeInvalid,
          method
        )
        yield* failsWith(
          ImOpenLines.sessionJoin({ CHAT_ID: 2050 }).pipe(Effect.provide(as(3))),
          PortalError.AccessDenied,
          method
        )
        // an extranet user never may join a line's dialogs (wire sheet §7.4)
        yield* failsWith(
          ImOpenLines.sessionJoin({ CHAT_ID: 2050 }).pipe(Effect.provide(as(11))),
          PortalError.AccessDenied,
          method
        )
      })
    ))
})

describe("imopenlines.session.intercept (wire sheet §6.7)", () => {
  const method = ImOpenLines.sessionIntercept.method

  it.effect("takes user 2's dialog: user 1 becomes its operator, user 2 leaves, the portal says so", () =>
    withPortal(({ as, emulator }) =>
      Effect.gen(function*() {
        const { portal } = emulator
        const before = portal.messages.length
        strictEqual(yield* ImOpenLines.sessionIntercept({ CHAT_ID: 2050 }).pipe(Effect.provide(as())), true)
        const session = portal.sessions.get(324)!
        deepStrictEqual([session.operatorId, portal.chats.get(2050)!.authorId], [1, 1])
        deepStrictEqual([...portal.chats.get(2050)!.members].sort((a, b) => a - b), [1, 8])
        deepStrictEqual(portal.messages.slice(before).map((message) => message.text), [
          "[USER=1][/USER] took conversation from [USER=2][/USER]"
        ])
      })
    ))

  it.effect("OPERATOR_WRONG for no access, the caller's own dialog, a dialog nobody answered, a closed one", () =>
    withPortal(({ as }) =>
      Effect.gen(function*() {
        for (const [CHAT_ID, user] of [[2050, 3], [2043, 1], [2060, 1], [494, 1], [1489, 1]] as const) {
          yield* failsWith(
            ImOpenLines.sessionIntercept({ CHAT_ID }).pipe(Effect.provide(as(user))),
            PortalError.OperatorWrong,
            method
          )
        }
      })
    ))
})

describe("imopenlines.session.head.vote (wire sheet §6.9)", () => {
  const method = ImOpenLines.sessionHeadVote.method

  it.effect("the line's supervisor rates and comments; a comment alone keeps the rating", () =>
    withPortal(({ as, emulator }) =>
      Effect.gen(function*() {
        const session = emulator.portal.sessions.get(1743)!
        strictEqual(
          yield* ImOpenLines.sessionHeadVote({ SESSION_ID: 1743, RATING: 4 }).pipe(Effect.provide(as(4))),
          true
        )
        strictEqual(
          yield* ImOpenLines.sessionHeadVote({ SESSION_ID: 1743, COMMENT: "Polite and quick" }).pipe(
            Effect.provide(as(4))
          ),
          true
        )
        deepStrictEqual([session.voteHead, session.commentHead], [4, "Polite and quick"])
      })
    ))

  it.effect("a comment longer than 10 000 characters is cut and gets \"...\"", () =>
    withPortal(({ as, emulator }) =>
      Effect.gen(function*() {
        yield* ImOpenLines.sessionHeadVote({ SESSION_ID: 1743, COMMENT: "x".repeat(10_005) }).pipe(
          Effect.provide(as())
        )
        strictEqual(emulator.portal.sessions.get(1743)!.commentHead, `${"x".repeat(10_000)}...`)
      })
    ))

  it.effect("ACCESS_DENIED without the vote right, for an unknown session, and on a plan without the feature", () =>
    withPortal(({ as }) =>
      Effect.gen(function*() {
        yield* failsWith(
          ImOpenLines.sessionHeadVote({ SESSION_ID: 1743, RATING: 5 }).pipe(Effect.provide(as(2))),
          PortalError.AccessDenied,
          method
        )
        yield* failsWith(
          ImOpenLines.sessionHeadVote({ SESSION_ID: 999999, RATING: 5 }).pipe(Effect.provide(as())),
          PortalError.AccessDenied,
          method
        )
      })
    ))

  it.effect("settings.headVoteAvailable false: even the supervisor gets ACCESS_DENIED", () =>
    withPortal(({ as, emulator }) =>
      Effect.gen(function*() {
        yield* failsWith(
          ImOpenLines.sessionHeadVote({ SESSION_ID: 1743, RATING: 5 }).pipe(Effect.provide(as(4))),
          PortalError.AccessDenied,
          method
        )
        strictEqual(emulator.portal.sessions.get(1743)!.voteHead, 0)
      }), { settings: { headVoteAvailable: false } }))

  it.effect("neither RATING nor COMMENT, or RATING 6, fails before any I/O", () =>
    withPortal(({ as, emulator }) =>
      Effect.gen(function*() {
        const missing = yield* Effect.flip(
          ImOpenLines.sessionHeadVote({ SESSION_ID: 1743, COMMENT: "  " }).pipe(Effect.provide(as()))
        )
        assertInstanceOf(missing, PortalError.InvalidParams)
        strictEqual(missing.field, "COMMENT")
        const high = yield* Effect.flip(
          ImOpenLines.sessionHeadVote({ SESSION_ID: 1743, RATING: 6 }).pipe(Effect.provide(as()))
        )
        assertInstanceOf(high, PortalError.InvalidParams)
        strictEqual(high.field, "RATING")
        strictEqual(emulator.journal.length, 0)
      })
    ))
})
