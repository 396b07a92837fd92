import { describe, it } from "@effect/vitest"
import { assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Catalog from "../src/Catalog.js"
import * as ImChat from "../src/ImChat.js"
import * as ImOpenLines from "../src/ImOpenLines.js"
import * as Method from "../src/Method.js"

/**
 * The open-lines session and operator family (wire sheet §6.1-§6.13) and im.chat.mute (§6.14), in catalog order: by
 * module (`Catalog.modules`), then by REST name.
 */
const names = [
  "imopenlines.crm.lead.create",
  "imopenlines.dialog.get",
  "imopenlines.message.session.start",
  "imopenlines.operator.another.finish",
  "imopenlines.operator.answer",
  "imopenlines.operator.finish",
  "imopenlines.operator.skip",
  "imopenlines.operator.spam",
  "imopenlines.operator.transfer",
  "imopenlines.session.head.vote",
  "imopenlines.session.history.get",
  "imopenlines.session.intercept",
  "imopenlines.session.join",
  "imopenlines.session.mode.pin",
  "imopenlines.session.mode.pinAll",
  "imopenlines.session.mode.silent",
  "imopenlines.session.mode.unpin",
  "imopenlines.session.mode.unpinAll",
  "imopenlines.session.open",
  "imopenlines.session.start",
  "im.chat.mute",
  // docs/bitrix24-events.md §5.5, §5.2, then im.message.*, then §1 and §3
  "imopenlines.config.add",
  "imopenlines.config.delete",
  "imopenlines.config.get",
  "imopenlines.config.list.get",
  "imopenlines.config.path.get",
  "imopenlines.config.update",
  "imconnector.activate",
  "imconnector.chat.name.set",
  "imconnector.connector.data.set",
  "imconnector.delete.messages",
  "imconnector.list",
  "imconnector.register",
  "imconnector.send.messages",
  "imconnector.send.status.delivery",
  "imconnector.send.status.reading",
  "imconnector.set.error",
  "imconnector.status",
  "imconnector.unregister",
  "imconnector.update.messages",
  "im.message.add",
  "im.message.delete",
  "im.message.update",
  "event.bind",
  "event.get",
  "event.offline.clear",
  "event.offline.error",
  "event.offline.get",
  "event.offline.list",
  "event.test",
  "event.unbind",
  "events"
]

const scopeOf = (name: string) => name.startsWith("event") ? "_global" : name.startsWith("im.") ? "im" : "imopenlines"

describe("Catalog: the open-lines session and operator family, and im.chat.mute", () => {
  it("lists each method once, with its scope", () => {
    deepStrictEqual(
      Catalog.methods.map((method) => [method.method, method.scope]),
      names.map((name) => [name, scopeOf(name)])
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
      "ImOpenLines.crmLeadCreate",
      "ImOpenLines.dialogGet",
      "ImOpenLines.messageSessionStart",
      "ImOpenLines.operatorAnotherFinish",
      "ImOpenLines.operatorAnswer",
      "ImOpenLines.operatorFinish",
      "ImOpenLines.operatorSkip",
      "ImOpenLines.operatorSpam",
      "ImOpenLines.operatorTransfer",
      "ImOpenLines.sessionHeadVote",
      "ImOpenLines.sessionHistoryGet",
      "ImOpenLines.sessionIntercept",
      "ImOpenLines.sessionJoin",
      "ImOpenLines.sessionModePin",
      "ImOpenLines.sessionModePinAll",
      "ImOpenLines.sessionModeSilent",
      "ImOpenLines.sessionModeUnpin",
      "ImOpenLines.sessionModeUnpinAll",
      "ImOpenLines.sessionOpen",
      "ImOpenLines.sessionStart",
      "ImChat.mute",
      "ImOpenLinesConfig.add",
      "ImOpenLinesConfig.remove",
      "ImOpenLinesConfig.get",
      "ImOpenLinesConfig.listGet",
      "ImOpenLinesConfig.pathGet",
      "ImOpenLinesConfig.update",
      "ImConnector.activate",
      "ImConnector.chatNameSet",
      "ImConnector.connectorDataSet",
      "ImConnector.deleteMessages",
      "ImConnector.list",
      "ImConnector.register",
      "ImConnector.sendMessages",
      "ImConnector.sendStatusDelivery",
      "ImConnector.sendStatusReading",
      "ImConnector.setError",
      "ImConnector.status",
      "ImConnector.unregister",
      "ImConnector.updateMessages",
      "ImMessage.add",
      "ImMessage.remove",
      "ImMessage.update",
      "Event.bind",
      "Event.get",
      "Event.offlineClear",
      "Event.offlineError",
      "Event.offlineGet",
      "Event.offlineList",
      "Event.test",
      "Event.unbind",
      "Event.events"
    ])
  })

  it("marks the writes that create, post, end or move dialogs as not idempotent; reads and set-to-state as idempotent", () => {
    deepStrictEqual(
      Catalog.methods.filter((method) => !method.idempotent).map((method) => method.method),
      [
        "imopenlines.crm.lead.create",
        "imopenlines.message.session.start",
        "imopenlines.operator.another.finish",
        "imopenlines.operator.answer",
        "imopenlines.operator.finish",
        "imopenlines.operator.skip",
        "imopenlines.operator.spam",
        "imopenlines.operator.transfer",
        "imopenlines.session.intercept",
        "imopenlines.session.start",
        "imopenlines.config.add",
        "imconnector.send.messages",
        "im.message.add",
        "event.bind",
        "event.offline.get",
        "event.test"
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

  it("marks event.* and imconnector.* as needing an application's OAuth, and nothing else", () => {
    deepStrictEqual(
      Catalog.methods.filter((method) => method.auth === "application").map((method) => method.method),
      names.filter((name) => name.startsWith("imconnector.") || name.startsWith("event"))
    )
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

describe("Catalog.methods is derived from Catalog.modules", () => {
  it("holds every declaration each module exports, and nothing else", () => {
    for (const [moduleName, module] of Object.entries(Catalog.modules)) {
      for (const [name, value] of Object.entries(module)) {
        strictEqual(Catalog.methods.includes(value as any), Method.isMethod(value), `${moduleName}.${name}`)
      }
    }
    strictEqual(
      Catalog.methods.length,
      Object.values(Catalog.modules).flatMap((module) => Object.values(module).filter(Method.isMethod)).length
    )
  })

  it("keeps a stable order: by module, then by REST name", () => {
    const modules = Object.values(Catalog.modules)
    const rank = (method: Method.Any) => modules.findIndex((module) => Object.values(module).includes(method))
    const sorted = [...Catalog.methods].sort((a, b) =>
      rank(a) - rank(b) || (a.method < b.method ? -1 : a.method > b.method ? 1 : 0)
    )
    deepStrictEqual(Catalog.methods, sorted)
  })

  it("names a method outside the catalog by its REST name", () => {
    const stray = Method.make({ ...ImChat.mute, method: "im.chat.stray" })
    strictEqual(Catalog.exportName(stray), "im.chat.stray")
    strictEqual(Catalog.find("im.chat.stray"), undefined)
  })
})
