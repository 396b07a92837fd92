import { Catalog, WireRequest } from "@bitrix24-effect/core"
import { Emulator } from "@bitrix24-effect/emulator"
import { Bitrix24Http } from "@bitrix24-effect/http"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as HttpServer from "@effect/platform/HttpServer"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as ChildProcess from "node:child_process"
import * as Http from "node:http"
import * as Path from "node:path"
import * as Clients from "../src/Clients.js"
import * as Proxy from "../src/Proxy.js"

const secret = "client-secret-0001"

/** Serves the proxy on an ephemeral port, forwarding to the emulator of the test with its webhook. */
const startProxy = Effect.gen(function*() {
  const emulator = yield* Emulator.Emulator
  const server = yield* NodeHttpServer.make(() => Http.createServer(), { port: 0, host: "127.0.0.1" })
  const upstream = yield* Layer.build(
    Bitrix24Http.layerWebhook(emulator.webhookUrl).pipe(
      Layer.provide(Bitrix24Http.layerDefaults),
      Layer.provide(NodeHttpClient.layerUndici)
    )
  )
  yield* HttpServer.serveEffect(Proxy.app).pipe(
    Effect.provideService(HttpServer.HttpServer, server),
    Effect.provideService(Clients.Clients, Clients.make([{ id: "app", secret: Redacted.make(secret) }])),
    Effect.provide(upstream)
  )
  const address = server.address
  if (address._tag !== "TcpAddress") return yield* Effect.die("expected a TCP address")
  return { base: `http://127.0.0.1:${address.port}`, client: `http://127.0.0.1:${address.port}/rest/app/${secret}/` }
})

const post = (url: string, body: unknown, contentType = "application/json") =>
  Effect.promise(async () => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": contentType, accept: "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body)
    })
    const text = await response.text()
    return { status: response.status, text, json: JSON.parse(text), headers: response.headers }
  })

const TestLive = Emulator.layer()

describe("b24-proxy forwards the seed pages' requests", () => {
  it.scoped("silent, pin, start and mute answer as the portal does, with the time block", () =>
    Effect.gen(function*() {
      const { portal } = yield* Emulator.Emulator
      const { client } = yield* startProxy
      const silent = yield* post(`${client}imopenlines.session.mode.silent.json`, { CHAT_ID: 2043, ACTIVATE: "Y" })
      expect(silent.status).toBe(200)
      expect(silent.json.result).toBe(true)
      expect(Object.keys(silent.json)).toEqual(["result", "time"])
      expect(Number.isInteger(silent.json.time.start)).toBe(true)
      expect(silent.json.time.operating_reset_at).toBeTypeOf("number")
      expect(portal.chats.get(2043)!.silent).toBe(true)
      expect((yield* post(`${client}imopenlines.session.mode.pin.json`, { CHAT_ID: 2024 })).json.result).toBe(true)
      expect((yield* post(`${client}imopenlines.session.start.json`, { CHAT_ID: 494 })).json.result).toBe(true)
      expect((yield* post(`${client}im.chat.mute`, { CHAT_ID: 1489, MUTE: "Y" })).json.result).toBe(true)
      expect(portal.chats.get(1489)!.muted.has(1)).toBe(true)
    }).pipe(Effect.provide(TestLive)))

  it.scoped("documented errors keep their code and status", () =>
    Effect.gen(function*() {
      const { client } = yield* startProxy
      const cases = [
        [`${client}imopenlines.session.mode.silent.json`, { CHAT_ID: 999999, ACTIVATE: "Y" }, 400, "CHAT_ID"],
        [`${client}imopenlines.session.mode.silent.json`, { CHAT_ID: 1489, ACTIVATE: "Y" }, 400, "CHAT_TYPE"],
        [`${client}im.chat.mute`, { CHAT_ID: 2043, MUTE: "Y" }, 403, "ACCESS_ERROR"],
        [`${client}im.chat.mute`, { MUTE: "Y" }, 400, "CHAT_ID_EMPTY"],
        [`${client}imopenlines.session.mode.pin`, { CHAT_ID: 2050 }, 400, "ERROR_USER_NOT_OPERATOR"]
      ] as const
      for (const [url, body, status, code] of cases) {
        const answer = yield* post(url, body)
        expect({ status: answer.status, error: answer.json.error, time: answer.json.time }).toEqual({
          status,
          error: code,
          time: undefined
        })
      }
    }).pipe(Effect.provide(TestLive)))

  it.scoped("form-urlencoded bodies and query strings are read like the portal reads them", () =>
    Effect.gen(function*() {
      const { journal } = yield* Emulator.Emulator
      const { client } = yield* startProxy
      const form = yield* post(
        `${client}IM.CHAT.MUTE/`,
        "DIALOG_ID=chat1489&MUTE=Y",
        "application/x-www-form-urlencoded"
      )
      expect(form.json.result).toBe(true)
      const query = yield* Effect.promise(() => fetch(`${client}imopenlines.session.start.json?CHAT_ID=494`))
      expect(query.status).toBe(200)
      expect(journal.map((entry) => entry.method)).toEqual(["im.chat.mute", "imopenlines.session.start"])
    }).pipe(Effect.provide(TestLive)))
})

describe("b24-proxy forwards the portal's result untouched", () => {
  it.scoped("history.get's result (with PHP [] maps) is the same text through the proxy as from the portal", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const { client } = yield* startProxy
      const direct = yield* post(`${Redacted.value(emulator.webhookUrl)}imopenlines.session.history.get.json`, {
        CHAT_ID: 2043
      })
      const proxied = yield* post(`${client}imopenlines.session.history.get.json`, { CHAT_ID: 2043 })
      expect(direct.status).toBe(200)
      const resultText = (text: string) => text.slice(text.indexOf("\"result\":"), text.indexOf(",\"time\":"))
      expect(resultText(proxied.text)).toBe(resultText(direct.text))
      expect(resultText(direct.text)).toContain("[]")
      // A manual clock: time-derived fields (users' lastActivityDate) are the same in both answers.
    }).pipe(Effect.provide(Emulator.layer({ clock: "manual" }))))
})

describe("b24-proxy validates before forwarding", () => {
  it.scoped("bad input gets 400 and the envelope the portal would send, and never reaches upstream", () =>
    Effect.gen(function*() {
      const { journal } = yield* Emulator.Emulator
      const { client } = yield* startProxy
      const silent = yield* post(`${client}imopenlines.session.mode.silent`, { CHAT_ID: "abc" })
      expect([silent.status, silent.json]).toEqual([400, {
        error: "CHAT_ID",
        error_description: "Chat ID is incorrect"
      }])
      const flag = yield* post(`${client}imopenlines.session.mode.silent`, { CHAT_ID: 2043, ACTIVATE: true })
      expect([flag.status, flag.json.error, flag.json.argument]).toEqual([400, "ERROR_ARGUMENT", "ACTIVATE"])
      const dialog = yield* post(`${client}im.chat.mute`, { DIALOG_ID: "nope" })
      expect([dialog.status, dialog.json.error]).toEqual([400, "DIALOG_ID_EMPTY"])
      expect(journal).toEqual([])
    }).pipe(Effect.provide(TestLive)))
})

describe("b24-proxy: bad input never crashes it", () => {
  const levels = 5_000
  const get = (url: string) =>
    Effect.promise(async () => {
      const response = await fetch(url)
      const text = await response.text()
      return { status: response.status, text, json: JSON.parse(text) }
    })

  it.scoped("a 5,000-level CHAT_ID (JSON, form with bracket keys, query) is 400 CHAT_ID_EMPTY; nothing goes upstream", () =>
    Effect.gen(function*() {
      const { journal } = yield* Emulator.Emulator
      const { client } = yield* startProxy
      const answers = [
        yield* post(`${client}im.chat.mute.json`, `{"CHAT_ID":${"[".repeat(levels)}1489${"]".repeat(levels)}}`),
        yield* post(
          `${client}im.chat.mute`,
          `CHAT_ID${"[a]".repeat(levels)}=1489`,
          "application/x-www-form-urlencoded"
        ),
        yield* get(`${client}im.chat.mute?MUTE=Y&CHAT_ID${"[]".repeat(levels)}=1489`)
      ]
      for (const answer of answers) {
        expect([answer.status, answer.json]).toEqual([400, {
          error: "CHAT_ID_EMPTY",
          error_description: "Chat ID can't be empty"
        }])
      }
      expect(journal).toEqual([])
      // The proxy keeps serving.
      expect((yield* post(`${client}im.chat.mute`, { CHAT_ID: 1489 })).json.result).toBe(true)
    }).pipe(Effect.provide(TestLive)))

  it.scoped("deep params the portal would accept fail the declaration instead: 400, never a defect", () =>
    Effect.gen(function*() {
      const { client } = yield* startProxy
      const deep = `{"CHAT_ID":${"[".repeat(500)}1489${"]".repeat(500)}}`
      const answer = yield* post(`${client}imopenlines.session.mode.silent.json`, deep)
      expect([answer.status, answer.json.error]).toEqual([400, "CHAT_ID"])
    }).pipe(Effect.provide(TestLive)))

  it.scoped("a body over WireRequest.maxBodyBytes is 400 ERROR_ARGUMENT", () =>
    Effect.gen(function*() {
      const { client } = yield* startProxy
      const answer = yield* post(
        `${client}im.chat.mute`,
        `CHAT_ID=1489&x=${"a".repeat(WireRequest.maxBodyBytes)}`,
        "application/x-www-form-urlencoded"
      )
      expect([answer.status, answer.json]).toEqual([400, {
        error: "ERROR_ARGUMENT",
        error_description: WireRequest.bodyTooLarge.description,
        argument: ""
      }])
    }).pipe(Effect.provide(TestLive)))
})

describe("b24-proxy guards credentials", () => {
  it.scoped("a wrong client secret or an unknown client is 401 NO_AUTH_FOUND; unknown methods 404", () =>
    Effect.gen(function*() {
      const { journal } = yield* Emulator.Emulator
      const { base } = yield* startProxy
      const wrong = yield* post(`${base}/rest/app/not-the-secret/im.chat.mute`, { CHAT_ID: 1489 })
      expect([wrong.status, wrong.json.error]).toEqual([401, "NO_AUTH_FOUND"])
      const unknown = yield* post(`${base}/rest/other/${secret}/im.chat.mute`, { CHAT_ID: 1489 })
      expect(unknown.status).toBe(401)
      const oauthForm = yield* post(`${base}/rest/im.chat.mute`, { CHAT_ID: 1489, auth: "x" })
      expect(oauthForm.status).toBe(401)
      const method = yield* post(`${base}/rest/app/${secret}/crm.deal.list`, {})
      expect([method.status, method.json.error]).toEqual([404, "ERROR_METHOD_NOT_FOUND"])
      expect(journal).toEqual([])
    }).pipe(Effect.provide(TestLive)))

  it.scoped("the upstream webhook code appears in no response, success or error", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const code = Redacted.value(emulator.webhookUrl).split("/").at(-2)!
      const { client } = yield* startProxy
      const answers = [
        yield* post(`${client}imopenlines.session.mode.silent`, { CHAT_ID: 2043, ACTIVATE: "Y" }),
        yield* post(`${client}im.chat.mute`, { CHAT_ID: 2043 }),
        yield* post(`${client}im.chat.mute`, {})
      ]
      for (const answer of answers) {
        expect(answer.text).not.toContain(code)
        expect(JSON.stringify([...answer.headers])).not.toContain(code)
      }
    }).pipe(Effect.provide(TestLive)))

  it("B24_PROXY_CLIENTS parsing accepts id:secret pairs and rejects bad ones without echoing secrets", () => {
    const parsed = Clients.parse(Redacted.make("a:secret-one-1, b:secret-two-2"))
    expect(Either.map(parsed, (clients) => clients.map((c) => c.id))).toEqual(Either.right(["a", "b"]))
    const bad = Clients.parse(Redacted.make("a:short"))
    expect(Either.isLeft(bad)).toBe(true)
    expect(JSON.stringify(bad)).not.toContain("short")
    const clients = Clients.make(Either.getOrThrow(parsed))
    expect([clients.verify("a", "secret-one-1"), clients.verify("a", "secret-two-2"), clients.verify("c", "x")])
      .toEqual([true, false, false])
  })
})

describe("b24-proxy serves every declared method", { timeout: 120_000 }, () => {
  it.scoped("each catalog method's example is forwarded and answered, on a fresh portal each", () =>
    Effect.gen(function*() {
      for (const method of Catalog.methods) {
        const outcome = yield* Effect.gen(function*() {
          const { journal } = yield* Emulator.Emulator
          const { client } = yield* startProxy
          const wire = Schema.encodeSync(method.paramsSchema)(method.example)
          const answer = yield* post(`${client}${method.method}.json`, wire)
          return { method: method.method, status: answer.status, journal: journal.map((entry) => entry.method) }
        }).pipe(Effect.provide(Emulator.layer()))
        // The upstream is an inbound webhook: the portal refuses the application methods (event.*, imconnector.*)
        // with 403 WRONG_AUTH_TYPE, which the proxy forwards as it came.
        const status = method.auth === "application" ? 403 : 200
        expect(outcome).toEqual({ method: method.method, status, journal: [method.method] })
      }
    }))
})

describe("pnpm start (the proxy process on the embedded emulator)", () => {
  it.live("boots the emulator upstream, says so loudly, prints a client URL that works", () =>
    Effect.acquireUseRelease(
      Effect.sync(() =>
        ChildProcess.spawn(
          Path.join(import.meta.dirname, "..", "node_modules", ".bin", "tsx"),
          [Path.join(import.meta.dirname, "..", "src", "main.ts")],
          { env: { ...process.env, PORT: "0", B24_WEBHOOK_URL: "", B24_PROXY_CLIENTS: "" } }
        )
      ),
      (child) =>
        Effect.gen(function*() {
          const banner = yield* Effect.async<string>((resume) => {
            let out = ""
            child.stdout.on("data", (chunk) => {
              out += String(chunk)
              if (out.includes("imopenlines.session.mode.silent.json")) resume(Effect.succeed(out))
            })
          })
          expect(banner).toContain("EMBEDDED EMULATOR")
          const url = /(http:\/\/127\.0\.0\.1:\d+\/rest\/proxy\/[^/\s]+\/)imopenlines/.exec(banner)![1]!
          const answer = yield* post(`${url}imopenlines.session.mode.silent.json`, { CHAT_ID: 2043, ACTIVATE: "Y" })
          expect([answer.status, answer.json.result]).toEqual([200, true])
        }),
      (child) => Effect.sync(() => child.kill())
    ), 60_000)
})
