/**
 * The bridge end to end over real HTTP on the embedded emulator: the customer talks to the bridge's chat, the
 * operator to the portal's REST API, and the portal's queue server carries the events back to the bridge.
 */
import { Emulator } from "@bitrix24-effect/emulator"
import { TokenStore } from "@bitrix24-effect/http"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Embedded from "../src/Embedded.js"

const post = (url: string, body: unknown) =>
  Effect.promise(() =>
    fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
      .then(async (response) => ({ status: response.status, body: await response.json() as any }))
  )

const get = (url: string) => Effect.promise(() => fetch(url).then((response) => response.json() as Promise<any>))

/** Waits (real time) until `check` holds, at most 5 s. */
const until = (check: () => Effect.Effect<boolean>) =>
  Effect.gen(function*() {
    const deadline = Date.now() + 5000
    while (!(yield* check()) && Date.now() < deadline) yield* Effect.sleep("10 millis")
    return yield* check()
  })

const Live = Layer.mergeAll(Emulator.layer().pipe(Layer.orDie), TokenStore.layerMemory(), NodeHttpClient.layerUndici)

describe("the connector bridge, end to end", () => {
  it.live("customer message in, operator reply out and delivered, edits and deletes both ways, teardown", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const { bridge, url } = yield* Embedded.start(emulator)
      const operator = (method: string, params: unknown) =>
        post(`${Redacted.value(emulator.webhookUrl)}${method}.json`, params)
      const inbox = (since = 0) => get(`${url}/chat/inbox?chat=room-7&since=${since}`)

      // set up as the flow says: registered, bound, active on line 1 (ACTIVE sent as 1)
      expect(emulator.connectors.connectors.get("outside_chat")?.clientId).toBe(emulator.oauth.clientId)
      expect(emulator.journal.find((e) => e.method === "imconnector.activate")?.params.ACTIVE).toBe(1)
      expect(emulator.events.bindings.map((b) => b.event)).toContain("ONIMCONNECTORMESSAGEADD")

      // 1. the customer's message arrives in the line, in an open-line chat with a session
      const sent = yield* post(`${url}/chat/send`, {
        user: "ann",
        name: "Ann",
        chat: "room-7",
        id: "c-1",
        text: "Hello"
      })
      expect(sent.status).toBe(202)
      const mapped = emulator.connectors.chats.find((chat) => chat.chatId === "room-7")!
      const chat = emulator.portal.chats.get(mapped.portalChatId)!
      expect([chat.type, chat.lineId]).toEqual(["L", 1])
      const customerMessage = emulator.portal.messages.find((m) => m.chatId === chat.id && m.text === "Hello")!
      expect(customerMessage.authorId).toBe(mapped.userId)
      expect([...emulator.portal.sessions.values()].some((s) => s.chatId === chat.id)).toBe(true)

      // 2. the operator's reply reaches the channel, and shows as delivered
      const reply = yield* operator("im.message.add", {
        DIALOG_ID: `chat${chat.id}`,
        MESSAGE: "Hi Ann, how can I help?"
      })
      const replyId = reply.body.result as number
      expect(yield* until(() => Effect.map(inbox(), (box) => box.entries.length === 1))).toBe(true)
      const [received] = (yield* inbox()).entries
      expect(received).toMatchObject({ type: "message", id: `op-${replyId}`, chat: "room-7" })
      expect(received.text).toContain("Hi Ann, how can I help?")
      yield* bridge.drain
      expect(yield* until(() => Effect.sync(() => emulator.connectors.messages.get(replyId)?.delivered === true)))
        .toBe(true)
      expect(emulator.connectors.messages.get(replyId)?.outsideIds).toEqual([`op-${replyId}`])

      // 3. the operator edits, then deletes the reply
      yield* operator("im.message.update", { MESSAGE_ID: replyId, MESSAGE: "Hi Ann! How can I help?" })
      yield* operator("im.message.delete", { MESSAGE_ID: replyId })
      expect(yield* until(() => Effect.map(inbox(), (box) => box.entries.length === 3))).toBe(true)
      expect((yield* inbox(1)).entries.map((e: any) => [e.type, e.id, e.text])).toEqual([
        ["edit", `op-${replyId}`, "Hi Ann! How can I help?"],
        ["delete", `op-${replyId}`, undefined]
      ])

      // 4. the customer edits, then deletes their message
      expect((yield* post(`${url}/chat/edit`, { user: "ann", chat: "room-7", id: "c-1", text: "Hello there" })).status)
        .toBe(202)
      expect(emulator.portal.messages.find((m) => m.id === customerMessage.id)?.text).toBe("Hello there")
      expect((yield* post(`${url}/chat/delete`, { user: "ann", chat: "room-7", id: "c-1" })).status).toBe(202)
      expect(emulator.portal.messages.find((m) => m.id === customerMessage.id)?.params.IS_DELETED).toBe("Y")

      // 5. teardown: the connector is switched off on the line; the chat closes and refuses new messages
      const app = yield* post(`${emulator.url}/rest/imconnector.activate.json`, {
        CONNECTOR: "outside_chat",
        LINE: 1,
        ACTIVE: 0,
        auth: Redacted.value(emulator.oauth.issue(1).accessToken)
      })
      expect(app.body.result).toBe(true)
      expect(yield* until(() => Effect.map(inbox(), (box) => box.open === false))).toBe(true)
      expect((yield* inbox(3)).entries.map((e: any) => e.type)).toEqual(["closed"])
      const refused = yield* post(`${url}/chat/send`, { user: "ann", chat: "room-7", id: "c-2", text: "Anyone?" })
      expect(refused.status).toBe(409)
      expect(emulator.journal.filter((e) => e.method === "imconnector.send.messages").length).toBe(1)
      // every event reached the bridge on the first and only attempt
      expect(emulator.events.deliveries.every((d) => d.outcome === "delivered")).toBe(true)
    }).pipe(Effect.provide(Live), Effect.scoped))
})
