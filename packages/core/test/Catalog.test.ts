import { describe, it } from "@effect/vitest"
import { assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Catalog from "../src/Catalog.js"
import * as ImChat from "../src/ImChat.js"
import * as ImOpenLines from "../src/ImOpenLines.js"

/** The open-lines session and operator family (wire sheet §6.1-§6.13) and im.chat.mute (§6.14), in catalog order. */
const names = [
  "imopenlines.session.mode.silent",
  "imopenlines.session.mode.pin",
  "imopenlines.session.mode.unpin",
  "imopenlines.session.mode.pinAll",
  "imopenlines.session.mode.unpinAll",
  "imopenlines.session.start",
  "imopenlines.session.open",
  "imopenlines.session.join",
  "imopenlines.session.intercept",
  "imopenlines.session.history.get",
  "imopenlines.session.head.vote",
  "imopenlines.message.session.start",
  "imopenlines.crm.lead.create",
  "imopenlines.dialog.get",
  "imopenlines.operator.answer",
  "imopenlines.operator.skip",
  "imopenlines.operator.spam",
  "imopenlines.operator.finish",
  "imopenlines.operator.another.finish",
  "imopenlines.operator.transfer",
  "im.chat.mute"
]

describe("Catalog: the open-lines session and operator family, and im.chat.mute", () => {
  it("lists each method once, with its scope", () => {
    deepStrictEqual(
      Catalog.methods.map((method) => [method.method, method.scope]),
      names.map((name) => [name, name.startsWith("im.") ? "im" : "imopenlines"])
    )
    strictEqual(new Set(Catalog.methods.map((method) => method.method.toLowerCase())).size, names.length)
  })

  it("finds a method case-insensitively, as the portal's router does (wire sheet §1.1)", () => {
    strictEqual(Catalog.find("IMOPENLINES.SESSION.MODE.SILENT"), ImOpenLines.sessionModeSilent)
    strictEqual(Catalog.find("Im.Chat.Mute"), ImChat.mute)
    strictEqual(Catalog.find("crm.deal.add"), undefined)
  })

  it("names each method by its library export", () => {
    deepStrictEqual(Catalog.methods.map(Catalog.exportName), [
      "ImOpenLines.sessionModeSilent",
      "ImOpenLines.sessionModePin",
      "ImOpenLines.sessionModeUnpin",
      "ImOpenLines.sessionModePinAll",
      "ImOpenLines.sessionModeUnpinAll",
      "ImOpenLines.sessionStart",
      "ImOpenLines.sessionOpen",
      "ImOpenLines.sessionJoin",
      "ImOpenLines.sessionIntercept",
      "ImOpenLines.sessionHistoryGet",
      "ImOpenLines.sessionHeadVote",
      "ImOpenLines.messageSessionStart",
      "ImOpenLines.crmLeadCreate",
      "ImOpenLines.dialogGet",
      "ImOpenLines.operatorAnswer",
      "ImOpenLines.operatorSkip",
      "ImOpenLines.operatorSpam",
      "ImOpenLines.operatorFinish",
      "ImOpenLines.operatorAnotherFinish",
      "ImOpenLines.operatorTransfer",
      "ImChat.mute"
    ])
  })

  it("marks the writes that create, post, end or move dialogs as not idempotent; reads and set-to-state as idempotent", () => {
    deepStrictEqual(
      Catalog.methods.filter((method) => !method.idempotent).map((method) => method.method),
      [
        "imopenlines.session.start",
        "imopenlines.session.intercept",
        "imopenlines.message.session.start",
        "imopenlines.crm.lead.create",
        "imopenlines.operator.answer",
        "imopenlines.operator.skip",
        "imopenlines.operator.spam",
        "imopenlines.operator.finish",
        "imopenlines.operator.another.finish",
        "imopenlines.operator.transfer"
      ]
    )
  })

  it("says in its description that imopenlines.session.mode.unpin is undocumented", () => {
    assertTrue(ImOpenLines.sessionModeUnpin.description.includes("Undocumented"))
    assertTrue(Catalog.methods.every((method) =>
      method === ImOpenLines.sessionModeUnpin ||
      !method.description.includes("Undocumented")
    ))
  })

  it("every example is valid input for its own declaration", () => {
    for (const method of Catalog.methods) {
      assertTrue(Exit.isSuccess(Effect.runSyncExit(method.encodeParams(method.example))), method.method)
    }
  })

  it("marks silent mode deprecated, as seeds/001 does", () => {
    assertTrue(ImOpenLines.sessionModeSilent.deprecated?.includes("continues to function") === true)
    strictEqual(ImOpenLines.sessionModePin.deprecated, undefined)
  })
})
