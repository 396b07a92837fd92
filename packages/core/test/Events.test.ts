/**
 * `Events.Event` over decoded form bodies (docs/bitrix24-events.md §2.2-§2.4, §4, §6): the key variants fold into
 * one typed form, numbers decode from their strings, tokens stay `Redacted`, unknown codes are kept raw, and a known
 * code with the wrong `data` shape fails instead of passing as something else.
 */
import { describe, it } from "@effect/vitest"
import { assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import * as Events from "../src/Events.js"
import * as WireRequest from "../src/WireRequest.js"

const auth = "auth[member_id]=m1&auth[domain]=x.bitrix24.ru&auth[application_token]=secret-token"
const form = (body: string) => Either.getOrThrow(WireRequest.parseQuery(`${body}&${auth}`))
const decode = (body: string) => Events.decode(form(body))

describe("Events.Event", () => {
  it("decodes the §2.2 example: numbers from strings, lists from bracket indices, tokens Redacted", () => {
    const decoded = Either.getOrThrow(decode(
      "event=ONIMCONNECTORMESSAGEADD&event_handler_id=555&data[CONNECTOR]=myconnector&data[LINE]=107" +
        "&data[MESSAGES][0][im][chat_id]=1807&data[MESSAGES][0][im][message_id]=86497" +
        "&data[MESSAGES][0][message][user_id]=27&data[MESSAGES][0][message][text]=%5Bb%5DOperator%3A%5B%2Fb%5D" +
        "&data[MESSAGES][0][message][files][0][link]=https%3A%2F%2Fx%2Fa.png&data[MESSAGES][0][chat][id]=channel-123" +
        "&ts=1773759161"
    ))
    assertTrue(decoded._tag === "ONIMCONNECTORMESSAGEADD")
    if (decoded._tag !== "ONIMCONNECTORMESSAGEADD") return
    deepStrictEqual([decoded.event_handler_id, decoded.ts, decoded.data.LINE], [555, 1773759161, 107])
    deepStrictEqual(decoded.data.MESSAGES[0]!.im, { chat_id: 1807, message_id: 86497 })
    deepStrictEqual(decoded.data.MESSAGES[0]!.message.files, [{ link: "https://x/a.png" }])
    strictEqual(Redacted.value(decoded.auth.application_token), "secret-token")
    assertTrue(!JSON.stringify(Events.toJson(decoded)).includes("secret-token"))
  })

  it("folds eventId / event_id into event_handler_id, and a lower-case code into its tag", () => {
    for (const key of ["event_handler_id", "eventId", "event_id"]) {
      const decoded = Either.getOrThrow(decode(`event=onsessionstart&${key}=9&ts=1&data[DATA][0][session][id]=5`))
      deepStrictEqual([decoded._tag, decoded.event_handler_id], ["ONSESSIONSTART", 9])
    }
  })

  it("keeps an unknown event whole, and refuses a known one with the wrong data", () => {
    const unknown = Either.getOrThrow(decode("event=ONCRMLEADADD&ts=1&data[FIELDS][ID]=7"))
    deepStrictEqual([unknown._tag, Events.code(unknown), unknown.data], ["UnknownEvent", "ONCRMLEADADD", {
      FIELDS: { ID: "7" }
    }])
    assertTrue(Either.isLeft(decode("event=ONIMCONNECTORMESSAGEADD&ts=1&data[CONNECTOR]=c")))
    assertTrue(Either.isLeft(Events.decode({ event: "ONAPPTEST", ts: "1" })), "no auth block")
  })
})
