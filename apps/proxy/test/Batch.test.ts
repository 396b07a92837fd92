/**
 * `batch` through the proxy, with the portal's semantics (wire sheet §2), over real HTTP against the emulator:
 * CRest's form body, JSON, `halt` across commands refused by the proxy and by the portal, references, the 50-command
 * limit, and the commands the proxy refuses itself appearing in `result_error` as the portal would put them.
 */
import { Emulator } from "@bitrix24-effect/emulator"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { post, serveClient } from "./helpers.js"

const secret = "batch-client-secret"

const startProxy = (methods?: ReadonlyArray<string>) =>
  Effect.map(serveClient("3", secret, methods), (started) => started.client)

/** A form body exactly as CRest's callBatch builds it: cmd[key] = method?http_build_query(params), and halt. */
const crestBody = (commands: Record<string, string>, halt: number) =>
  [
    ...Object.entries(commands).map(([key, command]) =>
      `${encodeURIComponent(`cmd[${key}]`)}=${encodeURIComponent(command)}`
    ),
    `halt=${halt}`
  ].join("&")

describe("batch through the proxy", () => {
  it.scopedLive("CRest's form body (cmd[a]=method?query&...&halt=0) gets the portal's envelope", () =>
    Effect.gen(function*() {
      const url = yield* startProxy()
      const answer = yield* post(
        `${url}batch`,
        crestBody({
          a: "im.chat.mute?CHAT_ID=1489&MUTE=Y",
          b: "im.chat.mute?CHAT_ID=2043",
          c: "imopenlines.session.mode.silent?CHAT_ID=2043&ACTIVATE=Y"
        }, 0),
        "application/x-www-form-urlencoded"
      )
      expect(answer.status).toBe(200)
      expect(Object.keys(answer.json)).toEqual(["result", "time"])
      expect(Object.keys(answer.json.result)).toEqual([
        "result",
        "result_error",
        "result_total",
        "result_next",
        "result_time"
      ])
      expect(answer.json.result.result).toEqual({ a: true, c: true })
      expect(answer.json.result.result_error).toEqual({
        b: { error: "ACCESS_ERROR", error_description: "This chat cannot be muted" }
      })
      expect(answer.json.result.result_total).toEqual([])
      expect(Object.keys(answer.json.result.result_time)).toEqual(["a", "c"])
    }).pipe(Effect.provide(Emulator.layer())))

  it.scopedLive("commands refused here sit in result_error as the portal puts them; the rest run in one request", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const url = yield* startProxy(["im.*", "imopenlines.*"])
      const answer = yield* post(`${url}batch`, {
        halt: 0,
        cmd: {
          ok: "im.chat.mute?CHAT_ID=1489",
          scope: "crm.lead.list",
          invalid: "im.chat.mute?CHAT_ID=abc",
          nested: "batch?cmd[x]=im.chat.mute",
          last: "imopenlines.session.mode.silent?CHAT_ID=2043&ACTIVATE=Y&auth=stolen"
        }
      })
      expect(answer.json.result.result).toEqual({ ok: true, last: true })
      expect(answer.json.result.result_error).toEqual({
        scope: { error: "insufficient_scope", error_description: "" },
        invalid: { error: "CHAT_ID_EMPTY", error_description: "Chat ID can't be empty" },
        nested: { error: "ERROR_BATCH_METHOD_NOT_ALLOWED", error_description: "Method is not allowed for batch usage" }
      })
      expect(emulator.httpRequests()).toBe(1)
      // Only the accepted commands went upstream, re-encoded by their declarations, without credentials.
      expect(emulator.journal.filter((entry) => entry.via === "batch").map((entry) => [entry.key, entry.params]))
        .toEqual([["ok", { CHAT_ID: "1489" }], ["last", { CHAT_ID: "2043", ACTIVATE: "Y" }]])
    }).pipe(Effect.provide(Emulator.layer())))

  it.scopedLive("halt stops at a command refused here: nothing after it is sent or answered", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const url = yield* startProxy()
      const answer = yield* post(`${url}batch`, {
        halt: 1,
        cmd: { a: "im.chat.mute?CHAT_ID=1489", b: "im.chat.mute?CHAT_ID=0", c: "im.chat.mute?CHAT_ID=1489" }
      })
      expect(answer.json.result.result).toEqual({ a: true })
      expect(Object.keys(answer.json.result.result_error)).toEqual(["b"])
      expect(emulator.journal.filter((entry) => entry.via === "batch").map((entry) => entry.key)).toEqual(["a"])
    }).pipe(Effect.provide(Emulator.layer())))

  it.scopedLive("halt stops at the portal's error too; a list cmd answers lists where PHP would", () =>
    Effect.gen(function*() {
      const url = yield* startProxy()
      const halted = yield* post(`${url}batch`, {
        halt: "false", // PHP truthiness: the string "false" halts (wire sheet §1.3)
        cmd: ["im.chat.mute?CHAT_ID=2043", "im.chat.mute?CHAT_ID=1489"]
      })
      expect(halted.json.result.result).toEqual([])
      expect(Object.keys(halted.json.result.result_error)).toEqual(["0"])
      const list = yield* post(`${url}batch`, { cmd: ["im.chat.mute?CHAT_ID=1489", "im.chat.mute?DIALOG_ID=chat1489"] })
      expect(list.json.result.result).toEqual([true, true])
    }).pipe(Effect.provide(Emulator.layer())))

  it.scopedLive("references travel upstream together, in order, and the portal fills them in", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const url = yield* startProxy()
      const answer = yield* post(`${url}batch`, {
        halt: 0,
        cmd: {
          open: "imopenlines.session.open?USER_CODE=livechat|1|2043|5",
          silent: "imopenlines.session.mode.silent?CHAT_ID=$result[open][chatId]&ACTIVATE=Y&EXTRA=1",
          flag: "imopenlines.session.mode.silent?CHAT_ID=$result[open][chatId]&ACTIVATE=yes"
        }
      })
      expect(Object.keys(answer.json.result.result)).toEqual(["open", "silent"])
      expect(answer.json.result.result.silent).toBe(true)
      // The reference's other params are still checked: a bad flag is refused here.
      expect(answer.json.result.result_error.flag.error).toBe("ERROR_ARGUMENT")
      const chatId = Number(answer.json.result.result.open.chatId)
      expect(emulator.portal.chats.get(chatId)!.silent).toBe(true)
      expect(emulator.journal.filter((entry) => entry.via === "batch").map((entry) => entry.params)).toEqual([
        { USER_CODE: "livechat|1|2043|5" },
        { CHAT_ID: String(chatId), ACTIVATE: "Y" }
      ])
    }).pipe(Effect.provide(Emulator.layer())))

  it.scopedLive("at most 50 commands run; the others get ERROR_BATCH_LENGTH_EXCEEDED", () =>
    Effect.gen(function*() {
      const url = yield* startProxy()
      const cmd = Object.fromEntries(Array.from({ length: 52 }, (_, i) => [`k${i}`, "im.chat.mute?CHAT_ID=1489"]))
      const answer = yield* post(`${url}batch`, { halt: 0, cmd })
      expect(Object.keys(answer.json.result.result).length).toBe(50)
      expect(answer.json.result.result_error).toEqual({
        k50: { error: "ERROR_BATCH_LENGTH_EXCEEDED", error_description: "Max batch length exceeded" },
        k51: { error: "ERROR_BATCH_LENGTH_EXCEEDED", error_description: "Max batch length exceeded" }
      })
    }).pipe(Effect.provide(Emulator.layer())))
})
