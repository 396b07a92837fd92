/**
 * The emulator as a portal that fires events (docs/bitrix24-events.md §1-§5), seen on the wire: event.* and
 * imconnector.* refuse webhooks, offline binding needs an admin, online deliveries are form-encoded POSTs (§2.2) sent
 * once and recorded (delivered, failed, timeout, down), the offline queue coalesces by MESSAGE_ID and reserves by
 * process_id, connector events go only to the application that registered the connector, ACTIVE is read with PHP
 * `empty()`, inbound messages open chats and sessions and fire the session events, operator messages reach the
 * connector and show their delivery status, deleting a line tells every bound application.
 */
import { WireRequest } from "@bitrix24-effect/core"
import { describe, it } from "@effect/vitest"
import { assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"
import type * as Net from "node:net"
import * as Emulator from "../src/Emulator.js"
import { postJson, webhook, withEmulator } from "./helpers.js"

/** Like `withEmulator`, for tests that hold resources of their own (handler servers) in the scope. */
const withEmulatorScoped = <A, E>(f: (emulator: Emulator.Service) => Effect.Effect<A, E, Scope.Scope>) =>
  Effect.flatMap(Emulator.Emulator, f).pipe(Effect.provide(Emulator.layer()), Effect.scoped)

interface Captured {
  readonly contentType: string | undefined
  readonly body: string
  readonly form: Record<string, any>
}

/** A handler URL on loopback that records every POST and answers `status` (after `delayMs`). */
const capture = (
  answer: { status: number; delayMs: number } = { status: 200, delayMs: 0 }
): Effect.Effect<{ readonly url: string; readonly seen: Array<Captured> }, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<{ readonly url: string; readonly seen: Array<Captured>; readonly server: Http.Server }>((resume) => {
      const seen: Array<Captured> = []
      const server = Http.createServer((request, response) => {
        let body = ""
        request.on("data", (chunk) => (body += chunk))
        request.on("end", () => {
          seen.push({
            contentType: request.headers["content-type"],
            body,
            form: Either.getOrThrow(WireRequest.parseQuery(body))
          })
          setTimeout(() => response.writeHead(answer.status).end("ok"), answer.delayMs)
        })
      })
      server.listen(0, "127.0.0.1", () => {
        const port = (server.address() as Net.AddressInfo).port
        resume(Effect.succeed({ url: `http://127.0.0.1:${port}/hook`, seen, server }))
      })
    }),
    ({ server }) =>
      Effect.sync(() => server.closeAllConnections()).pipe(Effect.zipRight(Effect.sync(() => server.close())))
  )

/** The REST base for an application's token of `userId` (through the application `clientId`). */
const app = (emulator: Emulator.Service, userId = 1, clientId?: string) =>
  `${emulator.url}/rest/|${Redacted.value(emulator.oauth.issue(userId, clientId).accessToken)}`

/** Calls a method with an application's token in `auth` (JSON body), as the portal's docs do. */
const call = (base: string, method: string, params: Record<string, unknown> = {}) => {
  const [url, token] = base.split("|")
  return postJson(`${url}${method}.json`, { ...params, auth: token })
}

const settled = (emulator: Emulator.Service) =>
  Effect.gen(function*() {
    const deadline = Date.now() + 5000
    while (emulator.events.deliveries.some((d) => d.outcome === "pending") && Date.now() < deadline) {
      yield* Effect.sleep("10 millis")
    }
    return emulator.events.deliveries.map((d) => [d.event, d.outcome] as const)
  })

const twoApps = {
  applications: [
    { clientId: "local.bridge.1", scopes: ["imopenlines", "imconnector", "im"] },
    { clientId: "local.other.2", scopes: ["imopenlines", "imconnector", "im"] }
  ]
}

describe("event.* and imconnector.* need an application (§1, §5.1)", () => {
  it.effect("an inbound webhook gets 403 WRONG_AUTH_TYPE", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        for (
          const method of ["event.bind", "event.get", "event.offline.get", "imconnector.register", "imconnector.list"]
        ) {
          const answer = yield* postJson(`${webhook(emulator)}${method}.json`, { event: "ONAPPTEST" })
          deepStrictEqual([method, answer.status, answer.body.error], [method, 403, "WRONG_AUTH_TYPE"])
        }
      })
    ))

  it.effect("offline binding and event.offline.* need an administrator (403 ACCESS_DENIED)", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const operator = app(emulator, 2)
        const bind = yield* call(operator, "event.bind", { event: "ONAPPTEST", event_type: "offline" })
        deepStrictEqual([bind.status, bind.body.error], [403, "ACCESS_DENIED"])
        assertTrue(bind.body.error_description.includes("administrator"))
        const get = yield* call(operator, "event.offline.get", {})
        deepStrictEqual([get.status, get.body.error], [403, "ACCESS_DENIED"])
        const unknown = yield* call(app(emulator), "event.bind", {
          event: "ONNOSUCHEVENT",
          handler: "http://1.2.3.4/x"
        })
        deepStrictEqual([unknown.status, unknown.body.error], [400, "ERROR_EVENT_NOT_FOUND"])
        const noDot = yield* call(app(emulator), "event.bind", { event: "ONAPPTEST", handler: "http://localhost/x" })
        deepStrictEqual([noDot.status, noDot.body.error], [400, "ERROR_WRONG_HANDLER_URL"])
      })
    ))
})

describe("online delivery (§2)", () => {
  it.live("a form-encoded POST with event, event_handler_id, data, ts and auth; once, after the call answered", () =>
    withEmulatorScoped((emulator) =>
      Effect.gen(function*() {
        const hook = yield* capture()
        const base = app(emulator)
        assertTrue((yield* call(base, "event.bind", { event: "onapptest", handler: hook.url })).body.result)
        const listed = yield* call(base, "event.get")
        deepStrictEqual(listed.body.result, [{ event: "ONAPPTEST", handler: hook.url, auth_type: "0", offline: 0 }])
        deepStrictEqual((yield* call(base, "event.test", { a: { b: "c" } })).body.result, 1)
        deepStrictEqual(yield* settled(emulator), [["ONAPPTEST", "delivered"]])
        strictEqual(hook.seen.length, 1)
        const [sent] = hook.seen
        strictEqual(sent!.contentType, "application/x-www-form-urlencoded")
        assertTrue(sent!.body.includes("data%5BQUERY%5D%5Ba%5D%5Bb%5D=c"), sent!.body)
        deepStrictEqual(Object.keys(sent!.form).sort(), ["auth", "data", "event", "event_handler_id", "ts"])
        strictEqual(sent!.form.event, "ONAPPTEST")
        assertTrue(/^\d+$/.test(sent!.form.event_handler_id) && /^\d+$/.test(sent!.form.ts))
        deepStrictEqual(Object.keys(sent!.form.auth).sort(), [
          "access_token",
          "application_token",
          "client_endpoint",
          "domain",
          "expires",
          "expires_in",
          "member_id",
          "scope",
          "server_endpoint",
          "status",
          "user_id"
        ])
        strictEqual(sent!.form.auth.application_token, emulator.events.applicationTokens.get(emulator.oauth.clientId))
      })
    ))

  it.live("a failing, a slow and a down handler: each delivery is one attempt, recorded, never retried", () =>
    withEmulatorScoped((emulator) =>
      Effect.gen(function*() {
        const failing = yield* capture({ status: 500, delayMs: 0 })
        const slowAnswer = yield* capture({ status: 200, delayMs: 400 })
        const down = yield* capture()
        const base = app(emulator)
        emulator.events.settings.deliveryTimeoutMs = 150
        for (const hook of [failing, slowAnswer, down]) {
          yield* call(base, "event.bind", { event: "ONAPPTEST", handler: hook.url })
        }
        emulator.events.modes.set(down.url, { kind: "down" })
        yield* call(base, "event.test")
        const outcomes = yield* settled(emulator)
        deepStrictEqual(outcomes, [["ONAPPTEST", "failed"], ["ONAPPTEST", "timeout"], ["ONAPPTEST", "down"]])
        yield* Effect.sleep("500 millis")
        deepStrictEqual([failing.seen.length, slowAnswer.seen.length, down.seen.length], [1, 1, 0])
        strictEqual(emulator.events.deliveries[0]!.status, 500)
        // a "slow" handler mode: the queue server sends late
        emulator.events.settings.deliveryTimeoutMs = 5000
        emulator.events.modes.set(down.url, { kind: "slow", delayMs: 200 })
        const started = Date.now()
        yield* call(base, "event.unbind", { event: "ONAPPTEST", handler: failing.url })
        yield* call(base, "event.unbind", { event: "ONAPPTEST", handler: slowAnswer.url })
        yield* call(base, "event.test")
        deepStrictEqual((yield* settled(emulator)).slice(3), [["ONAPPTEST", "delivered"]])
        assertTrue(Date.now() - started >= 200)
        // deliveries go to loopback only
        yield* call(base, "event.bind", { event: "ONAPPTEST", handler: "https://example.com/hook" })
        yield* call(base, "event.test")
        assertTrue((yield* settled(emulator)).some(([, outcome]) => outcome === "refused"))
      })
    ))
})

describe("the offline queue (§3)", () => {
  it.effect("coalesces by MESSAGE_ID while unreserved; clear=0 reserves under a process_id until cleared", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const base = app(emulator)
        yield* call(base, "event.bind", { event: "ONAPPTEST", event_type: "offline" })
        yield* call(base, "event.test", { same: "1" })
        yield* call(base, "event.test", { same: "1" })
        yield* call(base, "event.test", { other: "2" })
        strictEqual(emulator.events.offline.length, 2)
        const taken = yield* call(base, "event.offline.get", { clear: 0, limit: 1 })
        const processId = taken.body.result.process_id
        assertTrue(/^[0-9a-f]{32}$/.test(processId))
        strictEqual(taken.body.result.events.length, 1)
        const row = taken.body.result.events[0]
        assertTrue(/^[0-9a-f]{32}$/.test(row.MESSAGE_ID))
        deepStrictEqual(row.EVENT_NAME, "ONAPPTEST")
        // a concurrent reader gets the other row
        const other = yield* call(base, "event.offline.get", { clear: 0 })
        deepStrictEqual(other.body.result.events.map((e: any) => e.ID), ["2"])
        // re-reading with the process_id (and clear=0: the default 1 would delete them) answers the same row
        const again = yield* call(base, "event.offline.get", { process_id: processId, clear: 0 })
        deepStrictEqual(again.body.result.events.map((e: any) => e.MESSAGE_ID), [row.MESSAGE_ID])
        // a new identical change makes a fresh unreserved row
        yield* call(base, "event.test", { same: "1" })
        strictEqual(emulator.events.offline.length, 3)
        assertTrue((yield* call(base, "event.offline.clear", { process_id: processId })).body.result)
        strictEqual(emulator.events.offline.length, 2)
        const listed = yield* call(base, "event.offline.list")
        deepStrictEqual(listed.body.total, 2)
      })
    ))
})

describe("connectors (§5)", () => {
  it.effect("ACTIVE is read with PHP empty(): \"N\" switches on, 0 switches off and fires STATUSDELETE to the owner", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const base = app(emulator)
        yield* call(base, "event.bind", { event: "ONIMCONNECTORSTATUSDELETE", event_type: "offline" })
        yield* call(base, "imconnector.activate", { CONNECTOR: "demo_connector", LINE: 2, ACTIVE: "N" })
        const on = yield* call(base, "imconnector.status", { CONNECTOR: "demo_connector", LINE: 2 })
        deepStrictEqual(on.body.result.STATUS, true)
        yield* call(base, "imconnector.activate", { CONNECTOR: "demo_connector", LINE: 2, ACTIVE: 0 })
        const off = yield* call(base, "imconnector.status", { CONNECTOR: "demo_connector", LINE: 2 })
        deepStrictEqual(off.body.result.STATUS, false)
        deepStrictEqual(emulator.events.offline.map((row) => [row.event, row.data]), [[
          "ONIMCONNECTORSTATUSDELETE",
          { connector: "demo_connector", line: "2" }
        ]])
        const sent = yield* call(base, "imconnector.send.messages", {
          CONNECTOR: "demo_connector",
          LINE: 2,
          MESSAGES: [{ user: { id: "u" }, message: { text: "hi" }, chat: { id: "c" } }]
        })
        deepStrictEqual([sent.status, sent.body.error], [400, "NOT_ACTIVE_LINE"])
      })
    ))

  it.effect("register reports failures inside HTTP 200; another application's ID is refused", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const first = app(emulator, 1, "local.bridge.1")
        const second = app(emulator, 1, "local.other.2")
        const register = {
          ID: "mine",
          NAME: "Mine",
          ICON: { DATA_IMAGE: "data:image/svg+xml,x" },
          PLACEMENT_HANDLER: "https://a.b/s"
        }
        deepStrictEqual((yield* call(first, "imconnector.register", register)).body.result, { result: true })
        const taken = yield* call(second, "imconnector.register", register)
        deepStrictEqual([taken.status, taken.body.result.result, taken.body.result.error], [
          200,
          false,
          "APPLICATION_REGISTRATION_ERROR"
        ])
        const dot = yield* call(first, "imconnector.register", { ...register, ID: "a.b" })
        deepStrictEqual([dot.status, dot.body.result.error], [200, "APPLICATION_REGISTRATION_ERROR_POINT"])
        const gone = yield* call(second, "imconnector.unregister", { ID: "nope" })
        deepStrictEqual([gone.status, gone.body.result.error], [200, "APPLICATION_UNREGISTRATION_ERROR"])
      }), twoApps))

  it.effect("messages both ways; connector events only to the registering application; statuses operators see", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const bridge = app(emulator, 1, "local.bridge.1")
        const other = app(emulator, 1, "local.other.2")
        yield* call(bridge, "imconnector.register", {
          ID: "bridge",
          NAME: "Bridge",
          ICON: { DATA_IMAGE: "data:image/svg+xml,x" },
          PLACEMENT_HANDLER: "https://a.b/s"
        })
        yield* call(bridge, "imconnector.activate", { CONNECTOR: "bridge", LINE: 1, ACTIVE: 1 })
        for (const base of [bridge, other]) {
          for (const event of ["ONIMCONNECTORMESSAGEADD", "ONSESSIONSTART", "ONIMCONNECTORDIALOGSTART"]) {
            yield* call(base, "event.bind", { event, event_type: "offline" })
          }
        }
        const sent = yield* call(bridge, "imconnector.send.messages", {
          CONNECTOR: "bridge",
          LINE: 1,
          MESSAGES: [{ user: { id: "ann", name: "Ann" }, message: { id: "o-1", text: "Hello" }, chat: { id: "room" } }]
        })
        const item = sent.body.result.DATA.RESULT[0]
        deepStrictEqual(item.SUCCESS, true)
        const chatId = Number(item.session.CHAT_ID)
        const chat = emulator.portal.chats.get(chatId)!
        deepStrictEqual([chat.type, chat.lineId, chat.entityId.split("|").slice(0, 3)], ["L", 1, [
          "bridge",
          "1",
          "room"
        ]])
        strictEqual(emulator.portal.messages.at(-1)!.text, "Hello")
        // the operator replies
        const reply = yield* postJson(`${webhook(emulator)}im.message.add.json`, {
          DIALOG_ID: `chat${chatId}`,
          MESSAGE: "Hi Ann"
        })
        const messageId = reply.body.result
        const rows = emulator.events.offline.map((row) => [row.clientId, row.event])
        deepStrictEqual(rows, [
          ["local.bridge.1", "ONSESSIONSTART"],
          ["local.bridge.1", "ONIMCONNECTORDIALOGSTART"],
          ["local.bridge.1", "ONIMCONNECTORMESSAGEADD"]
        ])
        const added = emulator.events.offline[2]!.data as any
        deepStrictEqual(added.MESSAGES[0].im, { chat_id: String(chatId), message_id: String(messageId) })
        deepStrictEqual(added.MESSAGES[0].chat, { id: "room" })
        assertTrue(added.MESSAGES[0].message.text.endsWith("Hi Ann"))
        strictEqual(emulator.connectors.messages.get(messageId)!.delivered, false)
        yield* call(bridge, "imconnector.send.status.delivery", {
          CONNECTOR: "bridge",
          LINE: 1,
          MESSAGES: [{
            im: { chat_id: chatId, message_id: messageId },
            message: { id: ["out-9"] },
            chat: { id: "room" }
          }]
        })
        const link = emulator.connectors.messages.get(messageId)!
        deepStrictEqual([link.delivered, link.read, link.outsideIds], [true, true, ["out-9"]])
      }), twoApps))

  it.effect("deleting a line fires ONIMCONNECTORLINEDELETE with the bare line ID to every bound application", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        for (const clientId of ["local.bridge.1", "local.other.2"]) {
          yield* call(app(emulator, 1, clientId), "event.bind", {
            event: "ONIMCONNECTORLINEDELETE",
            event_type: "offline"
          })
        }
        const created = yield* call(app(emulator, 1, "local.bridge.1"), "imopenlines.config.add", {
          PARAMS: { LINE_NAME: "Outside" }
        })
        const line = created.body.result
        assertTrue(
          (yield* call(app(emulator, 1, "local.bridge.1"), "imopenlines.config.delete", { CONFIG_ID: line })).body
            .result
        )
        deepStrictEqual(emulator.events.offline.map((row) => [row.clientId, row.data]), [
          ["local.bridge.1", String(line)],
          ["local.other.2", String(line)]
        ])
      }), twoApps))
})
