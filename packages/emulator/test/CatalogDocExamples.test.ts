/**
 * The request examples of the new open-lines documentation pages (2026-03; wire sheet §0 DOC-EN), sent verbatim with
 * the portal address replaced by the emulator's, get the documented response. Where a page's example acts on a
 * dialog the default fixture gives to user 1 (who cannot, say, take over his own dialog), it is sent by the fixture
 * user the page's "who can execute" describes.
 */
import { describe, it } from "@effect/vitest"
import { assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import { assertSuccess, curl, webhook, withEmulator } from "./helpers.js"

/** [method, the page's -d body, the fixture user who sends it, the documented result]. */
const examples: ReadonlyArray<readonly [string, string, number, unknown]> = [
  ["imopenlines.session.open", "{\"USER_CODE\":\"livechat|22|1761|587\"}", 1, { chatId: "1763" }],
  ["imopenlines.session.join", "{\"CHAT_ID\":2043}", 4, true],
  ["imopenlines.session.intercept", "{\"CHAT_ID\":2043}", 2, true],
  ["imopenlines.session.head.vote", "{\"SESSION_ID\":1743,\"RATING\":5,\"COMMENT\":\"Excellent handling\"}", 4, true],
  ["imopenlines.session.mode.pinAll", "{}", 1, [321, 322, 343]],
  ["imopenlines.session.mode.unpinAll", "{}", 1, []],
  ["imopenlines.message.session.start", "{\"CHAT_ID\":2043,\"MESSAGE_ID\":18971}", 1, true],
  ["imopenlines.crm.lead.create", "{\"CHAT_ID\":2043}", 1, true],
  ["imopenlines.operator.answer", "{\"CHAT_ID\":2043}", 2, true],
  ["imopenlines.operator.skip", "{\"CHAT_ID\":2043}", 1, true],
  ["imopenlines.operator.spam", "{\"CHAT_ID\":2043}", 1, true],
  ["imopenlines.operator.finish", "{\"CHAT_ID\":2043}", 1, true],
  ["imopenlines.operator.another.finish", "{\"CHAT_ID\":2043}", 2, true],
  ["imopenlines.operator.transfer", "{\"CHAT_ID\":2043,\"USER_ID\":15}", 1, true]
]

describe("the new pages' cURL (Webhook) examples", () => {
  for (const [method, body, user, result] of examples) {
    it.effect(`${method} -d '${body}' (user ${user}) -> ${JSON.stringify(result)}`, () =>
      withEmulator((emulator) =>
        Effect.gen(function*() {
          assertSuccess(yield* curl(`${webhook(emulator, user)}${method}.json`, body), result)
          deepStrictEqual(emulator.journal.map((entry) => [entry.method.toLowerCase(), entry.auth]), [[
            method.toLowerCase(),
            `webhook:${user}`
          ]])
        })
      ))
  }

  it.effect("imopenlines.session.history.get -d '{\"SESSION_ID\":321}' -> the session's history", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const answer = yield* curl(`${webhook(emulator)}imopenlines.session.history.get`, "{\"SESSION_ID\":321}")
        strictEqual(answer.status, 200, answer.text)
        deepStrictEqual([answer.body.result.sessionId, answer.body.result.userId], [321, "chat2043"])
        assertTrue(Object.keys(answer.body.result.message).length > 0)
      })
    ))

  it.effect("imopenlines.dialog.get -d '{\"USER_CODE\":\"livechat|1|1373|211\"}' -> the chat with dialog_id", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const answer = yield* curl(
          `${webhook(emulator)}imopenlines.dialog.get.json`,
          "{\"USER_CODE\":\"livechat|1|1373|211\"}"
        )
        strictEqual(answer.status, 200, answer.text)
        deepStrictEqual(
          [answer.body.result.id, answer.body.result.dialog_id, answer.body.result.entity_id],
          [1373, "chat1373", "livechat|1|1373|211"]
        )
      })
    ))
})
