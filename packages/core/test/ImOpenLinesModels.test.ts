/**
 * The result models of the open-lines methods decode what real portals send: extra keys kept, PHP's `[]` for empty
 * maps, IDs as numbers or decimal strings, Y/N flags as booleans (docs/bitrix24-wire.md §1.4, §6.5, §6.8, §6.12).
 */
import { describe, it } from "@effect/vitest"
import { assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import * as ImOpenLines from "../src/ImOpenLines.js"

describe("SessionOpenResult (wire sheet §6.5, §8.8)", () => {
  it("decodes the documented string chatId (and an integer) to a number, and encodes the string back", () => {
    deepStrictEqual(Schema.decodeUnknownSync(ImOpenLines.SessionOpenResult)({ chatId: "1763" }), { chatId: 1763 })
    deepStrictEqual(Schema.decodeUnknownSync(ImOpenLines.SessionOpenResult)({ chatId: 1763 }), { chatId: 1763 })
    deepStrictEqual(Schema.encodeSync(ImOpenLines.SessionOpenResult)({ chatId: 1763 }), { chatId: "1763" })
    assertTrue(Either.isLeft(Schema.decodeUnknownEither(ImOpenLines.SessionOpenResult)({ chatId: "chat1763" })))
  })
})

describe("SessionHistory (wire sheet §6.8)", () => {
  const minimal = {
    chatId: 1763,
    canJoin: "Y",
    canVoteHead: "N",
    sessionId: 321,
    sessionVoteHead: 0,
    sessionCommentHead: null,
    userId: "chat1763",
    message: [],
    usersMessage: [],
    users: [],
    openlines: [],
    userInGroup: [],
    woUserInGroup: [],
    chat: [],
    userBlockChat: [],
    userInChat: [],
    files: []
  }

  it("PHP's [] for every empty map decodes to {}; Y/N become booleans; unknown keys are kept", () => {
    const history = Schema.decodeUnknownSync(ImOpenLines.SessionHistory)({ ...minimal, addedLater: { x: 1 } })
    deepStrictEqual([history.canJoin, history.canVoteHead], [true, false])
    deepStrictEqual([history.message, history.users, history.files, history.openlines], [{}, {}, {}, {}])
    deepStrictEqual(history["addedLater"], { x: 1 })
  })

  it("the documentation's message and chat entries decode, IDs to numbers, other keys as received", () => {
    const history = Schema.decodeUnknownSync(ImOpenLines.SessionHistory)({
      ...minimal,
      message: {
        "85851": {
          id: "85851",
          chatid: "1763",
          senderid: "103",
          recipientid: "chat1763",
          date: "2026-03-11T13:12:46+01:00",
          text: "Open the task card and click Observers",
          textlegacy: "Open the task card and click Observers",
          params: { connectorMid: ["85853"], fileId: [5437] }
        }
      },
      usersMessage: { chat1763: ["85851", "85833"] },
      chat: { "1763": { id: "1763", name: "John - Bitrix24 Documentation", entityType: "LINES", isNew: false } },
      openlines: { canvoteashead: { "22": true } }
    })
    const message = history.message["85851"]!
    deepStrictEqual([message.id, message.chatid, message.senderid], [85851, 1763, 103])
    deepStrictEqual(message.params, { connectorMid: ["85853"], fileId: [5437] })
    deepStrictEqual(history.usersMessage, { chat1763: [85851, 85833] })
    strictEqual(history.chat["1763"]!["isNew"], false)
    deepStrictEqual(history.openlines, { canvoteashead: { "22": true } })
  })

  it("a flag other than Y/N, or a missing chatId, is an unexpected result", () => {
    assertTrue(Either.isLeft(Schema.decodeUnknownEither(ImOpenLines.SessionHistory)({ ...minimal, canJoin: true })))
    const { chatId: _, ...withoutChat } = minimal
    assertTrue(Either.isLeft(Schema.decodeUnknownEither(ImOpenLines.SessionHistory)(withoutChat)))
  })
})

describe("Dialog (wire sheet §6.12)", () => {
  const dialog = {
    id: 1777,
    name: "Green Guest #17 - Bitrix24 Documentation",
    type: "lines",
    entity_type: "LINES",
    entity_id: "livechat|22|1775|599",
    entity_data_1: "Y|LEAD|1209|N|N|343|1773682918|0|0|0",
    dialog_id: "chat1777"
  }

  it("decodes the documentation's fields; mute_list as [], a map or a list; extra keys kept", () => {
    const decoded = Schema.decodeUnknownSync(ImOpenLines.Dialog)({
      ...dialog,
      description: null,
      owner: 27,
      mute_list: [],
      restrictions: { avatar: true, mute: true },
      readed_list: [{ user_id: 599, user_name: "Guest", message_id: 86101, date: null }],
      manager_list: [27],
      last_message_views: { message_id: 86313, first_viewers: [], count_of_viewers: 0 }
    })
    deepStrictEqual([decoded.id, decoded.dialog_id, decoded.owner, decoded.mute_list], [1777, "chat1777", 27, {}])
    deepStrictEqual(decoded["last_message_views"], { message_id: 86313, first_viewers: [], count_of_viewers: 0 })
    deepStrictEqual(
      Schema.decodeUnknownSync(ImOpenLines.Dialog)({ ...dialog, mute_list: { "27": true } }).mute_list,
      { "27": true }
    )
    deepStrictEqual(Schema.decodeUnknownSync(ImOpenLines.Dialog)({ ...dialog, mute_list: [27] }).mute_list, [27])
  })

  it("the optional fields may be absent; the identity may not", () => {
    assertTrue(Either.isRight(Schema.decodeUnknownEither(ImOpenLines.Dialog)(dialog)))
    const { dialog_id: _, ...withoutDialogId } = dialog
    assertTrue(Either.isLeft(Schema.decodeUnknownEither(ImOpenLines.Dialog)(withoutDialogId)))
  })
})

describe("SessionIds (wire sheet §6.3)", () => {
  it("decodes [339, 337] and []", () => {
    deepStrictEqual(Schema.decodeUnknownSync(ImOpenLines.SessionIds)([339, 337]), [339, 337])
    deepStrictEqual(Schema.decodeUnknownSync(ImOpenLines.SessionIds)([]), [])
  })
})
