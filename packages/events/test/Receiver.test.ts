/**
 * The event receiver over real HTTP on loopback, fed by the emulator's queue server and by hand-made deliveries:
 * ONAPPINSTALL teaches the token, every §4 example decodes to its typed event, a forged or unknown token gets 401 with
 * nothing dispatched, a duplicate delivery runs its handler once, handlers run after the answer, ONAPPUNINSTALL
 * forgets the portal.
 */
import { Event, Events, Wire } from "@bitrix24-effect/core"
import { Emulator } from "@bitrix24-effect/emulator"
import { TokenStore } from "@bitrix24-effect/http"
import { describe, expect, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Receiver from "../src/Receiver.js"
import { application, eventually, portal, serveReceiver, settled } from "./helpers.js"

const post = (url: string, body: string) =>
  Effect.promise(() =>
    fetch(url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body })
      .then(async (response) => ({ status: response.status, text: await response.text() }))
  )

/** A delivery body as the portal's queue server encodes it (§2.2). */
const delivery = (fields: Readonly<Record<string, unknown>>, auth: Readonly<Record<string, unknown>>) =>
  Wire.encodeQuery({ ...fields, auth })

const auth = (memberId: string, token: string) => ({
  domain: "emulator.bitrix24.local",
  member_id: memberId,
  application_token: token,
  server_endpoint: "https://oauth.bitrix.info/rest/",
  client_endpoint: "https://emulator.bitrix24.local/rest/",
  status: "L"
})

/**
 * The events of §4 (and §2.7, §3.6), each as its documentation page's example shapes it, with the key variants of §6.
 * [name, fields without auth, the decoded `_tag`].
 */
const examples: ReadonlyArray<readonly [string, Readonly<Record<string, unknown>>, string]> = [
  ["ONIMCONNECTORMESSAGEADD (§2.2)", {
    event: "ONIMCONNECTORMESSAGEADD",
    event_handler_id: "555",
    data: {
      CONNECTOR: "myconnector",
      LINE: "107",
      MESSAGES: [{
        im: { chat_id: "1807", message_id: "86497" },
        message: {
          user_id: "27",
          text: "[b]Operator:[/b] [br]Hello",
          files: [{ name: "a.png", link: "https://x/a.png", type: "image" }]
        },
        chat: { id: "channel-123" }
      }]
    },
    ts: "1773759161"
  }, "ONIMCONNECTORMESSAGEADD"],
  ["ONIMCONNECTORMESSAGEUPDATE (MESSAGES, message.id a list)", {
    event: "ONIMCONNECTORMESSAGEUPDATE",
    event_handler_id: "556",
    data: {
      CONNECTOR: "myconnector",
      LINE: "107",
      MESSAGES: [{
        im: { chat_id: "1807", message_id: "86497" },
        message: { id: ["out-1"], text: "Hello again" },
        chat: { id: "channel-123" }
      }]
    },
    ts: "1773759162"
  }, "ONIMCONNECTORMESSAGEUPDATE"],
  ["ONIMCONNECTORMESSAGEUPDATE (old DATA key, §6 #5)", {
    event: "ONIMCONNECTORMESSAGEUPDATE",
    event_handler_id: "556",
    data: {
      CONNECTOR: "myconnector",
      LINE: "107",
      DATA: [{ im: { chat_id: "1807", message_id: "86497" }, message: { id: ["out-1"] }, chat: { id: "c" } }]
    },
    ts: "1773759163"
  }, "ONIMCONNECTORMESSAGEUPDATE"],
  ["ONIMCONNECTORMESSAGEDELETE (message.id a string, §6 #8)", {
    event: "ONIMCONNECTORMESSAGEDELETE",
    event_handler_id: "557",
    data: {
      CONNECTOR: "myconnector",
      LINE: "107",
      MESSAGES: [{ im: { chat_id: "1807", message_id: "86497" }, message: { id: "out-1" }, chat: { id: "c" } }]
    },
    ts: "1773759164"
  }, "ONIMCONNECTORMESSAGEDELETE"],
  ["ONIMCONNECTORDIALOGSTART (eventId, §6 #4)", {
    event: "ONIMCONNECTORDIALOGSTART",
    eventId: "558",
    data: {
      CONNECTOR: "myconnector",
      LINE: "107",
      DATA: [{
        connector: { connector_id: "myconnector", line_id: "107", chat_id: "channel-123", user_id: "u-1" },
        session: { id: "2001", closed: "N", parent_id: "0", close_term: "1440" },
        chat: { id: "1807" },
        user: { id: "27" }
      }]
    },
    ts: "1773759165"
  }, "ONIMCONNECTORDIALOGSTART"],
  ["ONIMCONNECTORDIALOGFINISH", {
    event: "ONIMCONNECTORDIALOGFINISH",
    eventId: "559",
    data: {
      CONNECTOR: "myconnector",
      LINE: "107",
      DATA: [{ session: { id: "2001", closed: "Y" }, chat: { id: "1807" }, user: { id: "27" } }]
    },
    ts: "1773759166"
  }, "ONIMCONNECTORDIALOGFINISH"],
  ["ONIMCONNECTORSTATUSDELETE (lower-case keys, §6 #6)", {
    event: "ONIMCONNECTORSTATUSDELETE",
    event_handler_id: "560",
    data: { connector: "myconnector", line: "107" },
    ts: "1773759167"
  }, "ONIMCONNECTORSTATUSDELETE"],
  ["ONIMCONNECTORSTATUSDELETE (old upper-case keys)", {
    event: "ONIMCONNECTORSTATUSDELETE",
    event_handler_id: "560",
    data: { CONNECTOR: "myconnector", LINE: "108" },
    ts: "1773759168"
  }, "ONIMCONNECTORSTATUSDELETE"],
  ["ONIMCONNECTORLINEDELETE (bare line ID, §6 #7)", {
    event: "ONIMCONNECTORLINEDELETE",
    event_handler_id: "561",
    data: "107",
    ts: "1773759169"
  }, "ONIMCONNECTORLINEDELETE"],
  ["ONIMCONNECTORLINEDELETE (old LINE_ID)", {
    event: "ONIMCONNECTORLINEDELETE",
    event_handler_id: "561",
    data: { LINE_ID: "109" },
    ts: "1773759170"
  }, "ONIMCONNECTORLINEDELETE"],
  ["ONOPENLINEMESSAGEADD", {
    event: "ONOPENLINEMESSAGEADD",
    eventId: "562",
    data: {
      DATA: [{
        connector: { connector_id: "myconnector", line_id: "107", chat_id: "channel-123", user_id: "u-1" },
        chat: { id: "1807" },
        message: { id: "86500", date: "2026-03-16T19:36:06+01:00", text: "Hi", system: "N", user_id: "27" },
        ref: [],
        extra: { EXTRA_URL: "" }
      }]
    },
    ts: "1773759171"
  }, "ONOPENLINEMESSAGEADD"],
  ["ONOPENLINEMESSAGEUPDATE", {
    event: "ONOPENLINEMESSAGEUPDATE",
    eventId: "563",
    data: {
      CONNECTOR: "myconnector",
      LINE: "107",
      DATA: [{ im: { chat_id: "1807", message_id: "86500" }, message: { id: "86500" }, chat: { id: "1807" } }]
    },
    ts: "1773759172"
  }, "ONOPENLINEMESSAGEUPDATE"],
  ["ONOPENLINEMESSAGEDELETE", {
    event: "ONOPENLINEMESSAGEDELETE",
    eventId: "564",
    data: {
      CONNECTOR: "myconnector",
      LINE: "107",
      DATA: [{ im: { chat_id: "1807", message_id: "86500" }, message: { id: "86500" }, chat: { id: "1807" } }]
    },
    ts: "1773759173"
  }, "ONOPENLINEMESSAGEDELETE"],
  ["ONSESSIONSTART", {
    event: "ONSESSIONSTART",
    eventId: "565",
    data: {
      DATA: [{
        connector: { connector_id: "myconnector", line_id: "107", chat_id: "channel-123", user_id: "u-1" },
        session: { id: "2001", closed: "N", parent_id: "0", close_term: "1440" },
        chat: { id: "1807" },
        user: { id: "27" }
      }]
    },
    ts: "1773759174"
  }, "ONSESSIONSTART"],
  ["ONSESSIONFINISH (event_id, §6 #4)", {
    event: "ONSESSIONFINISH",
    event_id: "566",
    data: { DATA: [{ session: { id: "2001", closed: "Y" }, chat: { id: "1807" }, user: { id: "27" } }] },
    ts: "1773759175"
  }, "ONSESSIONFINISH"],
  ["ONAPPTEST", {
    event: "ONAPPTEST",
    event_handler_id: "567",
    data: { QUERY: { a: "1" }, LANGUAGE_ID: "en" },
    ts: "1"
  }, "ONAPPTEST"],
  [
    "ONOFFLINEEVENT (no data, §6 #18)",
    { event: "ONOFFLINEEVENT", event_handler_id: "568", ts: "1773759176" },
    "ONOFFLINEEVENT"
  ],
  ["an event the library does not type (never dropped)", {
    event: "ONCRMDEALADD",
    event_handler_id: "569",
    data: { FIELDS: { ID: "42" } },
    ts: "1773759177"
  }, "UnknownEvent"]
]

describe("the event receiver over real HTTP", () => {
  it.live("learns the token from ONAPPINSTALL, then dispatches a typed ONAPPTEST fired by event.test", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const store = yield* TokenStore.TokenStore
      const tested = yield* Deferred.make<Events.Of<"ONAPPTEST">>()
      const receiver = yield* Receiver.make({
        ONAPPTEST: (event) => Deferred.succeed(tested, event)
      })
      const url = yield* serveReceiver(receiver)
      emulator.install({ handler: url })
      const [install] = yield* settled(emulator)
      expect(install).toMatchObject({ event: "ONAPPINSTALL", outcome: "delivered", status: 200 })
      const stored = Option.getOrThrow(yield* store.get(emulator.events.host.memberId()))
      expect(Redacted.value(stored.applicationToken!)).toBe(
        emulator.events.applicationTokens.get(emulator.oauth.clientId)
      )
      expect(stored.restUrl).toBe(`${emulator.url}/rest/`)

      yield* Event.bind({ event: "ONAPPTEST", handler: url }).pipe(Effect.provide(application(emulator)))
      expect(yield* Event.test({ QUERY: { ping: "1" } }).pipe(Effect.provide(application(emulator)))).toBe(1)
      const event = yield* Deferred.await(tested)
      expect(event.data.QUERY).toEqual({ QUERY: { ping: "1" } })
      expect(event.auth.member_id).toBe(emulator.events.host.memberId())
      expect(typeof event.event_handler_id).toBe("number")
      expect(yield* receiver.stats).toMatchObject({ dispatched: 1, refused: 0 })
    }).pipe(Effect.provide(portal()), Effect.scoped))

  it.live("every example of §4 decodes to its typed event, dispatched by its code", () =>
    Effect.gen(function*() {
      const store = yield* TokenStore.TokenStore
      const seen: Array<string> = []
      const record = (event: Events.Event) => Effect.sync(() => void seen.push(event._tag))
      const handlers = Object.fromEntries([...Events.codes, "UnknownEvent"].map((code) => [code, record]))
      const receiver = yield* Receiver.make(handlers)
      const url = yield* serveReceiver(receiver)
      yield* store.set("member-1", {
        accessToken: Redacted.make("a"),
        refreshToken: Redacted.make("r"),
        expiresAt: 0,
        restUrl: "https://emulator.bitrix24.local/rest/",
        applicationToken: Redacted.make("app-token-1")
      })
      for (const [name, fields] of examples) {
        const answer = yield* post(url, delivery(fields, auth("member-1", "app-token-1")))
        expect({ name, status: answer.status }).toEqual({ name, status: 200 })
      }
      yield* receiver.drain
      expect(seen.sort()).toEqual(examples.map(([, , tag]) => tag).sort())
      // the typed forms of the variants
      const decode = (fields: Readonly<Record<string, unknown>>) =>
        Events.decode({ ...fields, auth: auth("m", "t") }).pipe((either) =>
          either._tag === "Right" ? either.right : undefined
        )
      expect(decode(examples[2]![1])).toMatchObject({ data: { MESSAGES: [{ message: { id: ["out-1"] } }] } })
      expect(decode(examples[3]![1])).toMatchObject({ data: { MESSAGES: [{ message: { id: ["out-1"] } }] } })
      expect(decode(examples[4]![1])).toMatchObject({ event_handler_id: 558, data: { LINE: 107 } })
      expect(decode(examples[6]![1])).toMatchObject({ data: { CONNECTOR: "myconnector", LINE: 107 } })
      expect(decode(examples[8]![1])).toMatchObject({ data: { LINE: 107 } })
      expect(decode(examples[9]![1])).toMatchObject({ data: { LINE: 109 } })
      expect(decode(examples[14]![1])).toMatchObject({ event_handler_id: 566 })
      expect(decode(examples[17]![1])).toMatchObject({ event: "ONCRMDEALADD", data: { FIELDS: { ID: "42" } } })
    }).pipe(Effect.provide(portal()), Effect.scoped))

  it.live("a forged or unknown application_token gets 401 and nothing is dispatched", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const calls: Array<string> = []
      const receiver = yield* Receiver.make({
        ONAPPTEST: () => Effect.sync(() => void calls.push("ONAPPTEST")),
        ONAPPUNINSTALL: () => Effect.sync(() => void calls.push("ONAPPUNINSTALL"))
      })
      const url = yield* serveReceiver(receiver)
      emulator.install({ handler: url })
      yield* settled(emulator)
      const memberId = emulator.events.host.memberId()
      const body = (token: string, member = memberId) =>
        delivery({ event: "ONAPPTEST", event_handler_id: "1", data: { QUERY: {} }, ts: "1" }, auth(member, token))
      const real = emulator.events.applicationTokens.get(emulator.oauth.clientId)!
      const forged = yield* post(url, body(`${real.slice(0, -1)}x`))
      const unknown = yield* post(url, body(real, "another-portal"))
      const missing = yield* post(url, Wire.encodeQuery({ event: "ONAPPTEST", ts: "1", auth: { member_id: memberId } }))
      const uninstallForged = yield* post(
        url,
        delivery({ event: "ONAPPUNINSTALL", data: { CLEAN: "1" }, ts: "2" }, auth(memberId, "nope"))
      )
      expect([forged.status, unknown.status, missing.status, uninstallForged.status]).toEqual([401, 401, 401, 401])
      // a forged ONAPPINSTALL for a portal that has a token does not replace it
      const reinstall = yield* post(url, delivery({ event: "ONAPPINSTALL", data: {}, ts: "3" }, auth(memberId, "evil")))
      expect(reinstall.status).toBe(401)
      yield* receiver.drain
      expect(calls).toEqual([])
      expect(yield* receiver.stats).toMatchObject({ dispatched: 0, refused: 5 })
      // the real token still works
      expect((yield* post(url, body(real))).status).toBe(200)
      yield* receiver.drain
      expect(calls).toEqual(["ONAPPTEST"])
    }).pipe(Effect.provide(portal()), Effect.scoped))

  it.live("a delivery the queue server sends twice runs its handler once", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      let runs = 0
      const receiver = yield* Receiver.make({ ONAPPTEST: () => Effect.sync(() => void runs++) })
      const url = yield* serveReceiver(receiver)
      emulator.install({ handler: url })
      yield* settled(emulator)
      yield* Event.bind({ event: "ONAPPTEST", handler: url }).pipe(Effect.provide(application(emulator)))
      emulator.events.settings.duplicateDeliveries = true
      yield* Event.test({}).pipe(Effect.provide(application(emulator)))
      const deliveries = (yield* settled(emulator)).filter((d) => d.event === "ONAPPTEST")
      expect(deliveries.map((d) => d.outcome)).toEqual(["delivered", "delivered"])
      yield* receiver.drain
      expect(runs).toBe(1)
      expect(yield* receiver.stats).toMatchObject({ dispatched: 1, duplicates: 1 })
      // a new event (another ts or data) is not a duplicate
      emulator.events.settings.duplicateDeliveries = false
      yield* Event.test({ QUERY: { n: "2" } }).pipe(Effect.provide(application(emulator)))
      expect(yield* eventually(() => runs === 2)).toBe(true)
    }).pipe(Effect.provide(portal()), Effect.scoped))

  it.live("answers before a slow handler finishes; the handler runs after the answer", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const release = yield* Deferred.make<void>()
      let finished = false
      const receiver = yield* Receiver.make({
        ONAPPTEST: () => Effect.zipRight(Deferred.await(release), Effect.sync(() => void (finished = true)))
      })
      const url = yield* serveReceiver(receiver)
      emulator.install({ handler: url })
      yield* settled(emulator)
      yield* Event.bind({ event: "ONAPPTEST", handler: url }).pipe(Effect.provide(application(emulator)))
      yield* Event.test({}).pipe(Effect.provide(application(emulator)))
      const delivered = (yield* settled(emulator)).filter((d) => d.event === "ONAPPTEST")
      expect(delivered.map((d) => d.outcome)).toEqual(["delivered"])
      expect(finished).toBe(false)
      yield* Deferred.succeed(release, undefined)
      yield* receiver.drain
      expect(finished).toBe(true)
    }).pipe(Effect.provide(portal()), Effect.scoped))

  it.live("ONAPPUNINSTALL with the right token forgets the portal: later deliveries get 401", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const store = yield* TokenStore.TokenStore
      const calls: Array<string> = []
      const receiver = yield* Receiver.make({
        ONAPPUNINSTALL: (event) => Effect.sync(() => void calls.push(`${event._tag}:${event.data.CLEAN}`))
      })
      const url = yield* serveReceiver(receiver)
      emulator.install({ handler: url })
      yield* settled(emulator)
      yield* Event.bind({ event: "ONAPPUNINSTALL", handler: url }).pipe(Effect.provide(application(emulator)))
      const memberId = emulator.events.host.memberId()
      const token = emulator.events.applicationTokens.get(emulator.oauth.clientId)!
      emulator.uninstall()
      const deliveries = yield* settled(emulator)
      expect(deliveries.map((d) => [d.event, d.outcome])).toEqual([
        ["ONAPPINSTALL", "delivered"],
        ["ONAPPUNINSTALL", "delivered"]
      ])
      yield* receiver.drain
      expect(calls).toEqual(["ONAPPUNINSTALL:0"])
      expect(Option.isNone(yield* store.get(memberId))).toBe(true)
      const after = yield* post(
        url,
        delivery({ event: "ONAPPTEST", event_handler_id: "1", data: {}, ts: "9" }, auth(memberId, token))
      )
      expect(after.status).toBe(401)
    }).pipe(Effect.provide(portal()), Effect.scoped))
})
