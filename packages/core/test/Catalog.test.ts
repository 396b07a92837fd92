import { describe, it } from "@effect/vitest"
import { assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Catalog from "../src/Catalog.js"
import * as ImChat from "../src/ImChat.js"
import * as ImOpenLines from "../src/ImOpenLines.js"

describe("Catalog: the four methods of the seed pages", () => {
  it("lists each method once, with its scope", () => {
    deepStrictEqual(Catalog.methods.map((method) => [method.method, method.scope]), [
      ["imopenlines.session.mode.silent", "imopenlines"],
      ["imopenlines.session.mode.pin", "imopenlines"],
      ["imopenlines.session.start", "imopenlines"],
      ["im.chat.mute", "im"]
    ])
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
      "ImOpenLines.sessionStart",
      "ImChat.mute"
    ])
  })

  it("marks only the start of a session as not idempotent", () => {
    deepStrictEqual(
      Catalog.methods.filter((method) => !method.idempotent).map((method) => method.method),
      ["imopenlines.session.start"]
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
