/**
 * The proxy over real HTTP on loopback, in front of the emulator: the seed pages' calls in both auth forms, the
 * portal's answers passed on (status, envelope, `result` untouched, `X-Bitrix-Rest-*` headers, XML, HEAD), input
 * checked before anything goes upstream, credentials guarded, method scopes, methods outside the catalog, and
 * `pnpm start` as a process.
 */
import { Catalog, WireRequest } from "@bitrix24-effect/core"
import { Emulator, Handlers } from "@bitrix24-effect/emulator"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as ChildProcess from "node:child_process"
import * as Http from "node:http"
import * as Path from "node:path"
import { client, config, portal, post, request, serve, serveClient } from "./helpers.js"

const secret = "client-secret-0001"

/** The proxy for one client (ID 7) of the emulator in context. */
const startProxy = (methods?: ReadonlyArray<string>) => serveClient("7", secret, methods)

const TestLive = Emulator.layer()

/** `user.current` and `crm.lead.list` served by the emulator as stand-ins for methods outside the catalog. */
const withStubs = Emulator.layer({
  methods: {
    "user.current": { handler: () => Handlers.succeed({ ID: "1", NAME: "Ada" }) },
    "crm.lead.list": { handler: () => Handlers.succeed([{ ID: "5" }]) }
  }
})

describe("the seed pages' calls through the proxy", () => {
  it.scopedLive("webhook form: silent, pin, start and mute answer as the portal does, with the time block", () =>
    Effect.gen(function*() {
      const { portal: state } = yield* Emulator.Emulator
      const { client } = yield* startProxy()
      const silent = yield* post(`${client}imopenlines.session.mode.silent.json`, { CHAT_ID: 2043, ACTIVATE: "Y" })
      expect(silent.status).toBe(200)
      expect(Object.keys(silent.json)).toEqual(["result", "time"])
      expect(silent.json.result).toBe(true)
      expect(Number.isInteger(silent.json.time.start)).toBe(true)
      expect(state.chats.get(2043)!.silent).toBe(true)
      expect((yield* post(`${client}imopenlines.session.mode.pin.json`, { CHAT_ID: 2024 })).json.result).toBe(true)
      expect((yield* post(`${client}imopenlines.session.start.json`, { CHAT_ID: 494 })).json.result).toBe(true)
      expect((yield* post(`${client}im.chat.mute`, { CHAT_ID: 1489, MUTE: "Y" })).json.result).toBe(true)
      expect(state.chats.get(1489)!.muted.has(1)).toBe(true)
    }).pipe(Effect.provide(TestLive)))

  it.scopedLive("OAuth form: the client's secret as auth (the seed curl line), access_token or a bearer header", () =>
    Effect.gen(function*() {
      const { journal } = yield* Emulator.Emulator
      const { base } = yield* startProxy()
      // seeds/001, cURL (OAuth), with the proxy's address and the client's secret for the token.
      const seed = yield* post(
        `${base}/rest/imopenlines.session.mode.silent.json`,
        `{"CHAT_ID":2043,"ACTIVATE":"Y","auth":"${secret}"}`
      )
      expect([seed.status, seed.json.result]).toEqual([200, true])
      const token = yield* post(`${base}/rest/im.chat.mute`, { CHAT_ID: 1489, access_token: secret })
      expect(token.json.result).toBe(true)
      const bearer = yield* post(`${base}/rest/im.chat.mute.json`, { CHAT_ID: 1489 }, "application/json", {
        authorization: `Bearer ${secret}`
      })
      expect(bearer.json.result).toBe(true)
      // The credentials never went upstream.
      expect(journal.map((entry) => Object.keys(entry.params))).toEqual([
        ["CHAT_ID", "ACTIVATE"],
        ["CHAT_ID"],
        ["CHAT_ID"]
      ])
    }).pipe(Effect.provide(TestLive)))

  it.scopedLive("documented errors keep their code and status", () =>
    Effect.gen(function*() {
      const { client } = yield* startProxy()
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

  it.scopedLive("form bodies and query strings are read as the portal reads them", () =>
    Effect.gen(function*() {
      const { journal } = yield* Emulator.Emulator
      const { client } = yield* startProxy()
      const form = yield* post(
        `${client}IM.CHAT.MUTE/`,
        "DIALOG_ID=chat1489&MUTE=Y",
        "application/x-www-form-urlencoded"
      )
      expect(form.json.result).toBe(true)
      const query = yield* request(`${client}imopenlines.session.start.json?CHAT_ID=494`)
      expect(query.status).toBe(200)
      expect(journal.map((entry) => entry.method)).toEqual(["im.chat.mute", "imopenlines.session.start"])
    }).pipe(Effect.provide(TestLive)))
})

describe("the portal's answer, passed on", () => {
  it.scopedLive("history.get's result (with PHP [] maps) is the same text through the proxy as from the portal", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const { client } = yield* startProxy()
      const direct = yield* post(`${Redacted.value(emulator.webhookUrl)}imopenlines.session.history.get.json`, {
        CHAT_ID: 2043
      })
      const proxied = yield* post(`${client}imopenlines.session.history.get.json`, { CHAT_ID: 2043 })
      const resultText = (text: string) => text.slice(text.indexOf("\"result\":"), text.indexOf(",\"time\":"))
      expect(resultText(proxied.text)).toBe(resultText(direct.text))
      expect(resultText(direct.text)).toContain("[]")
    }).pipe(Effect.provide(Emulator.layer({ clock: "manual" }))))

  it.scopedLive("the portal's X-Bitrix-Rest-* headers come through, on successes and errors", () =>
    Effect.gen(function*() {
      const { client } = yield* startProxy()
      for (
        const answer of [
          yield* post(`${client}im.chat.mute`, { CHAT_ID: 1489 }),
          yield* post(`${client}im.chat.mute`, { CHAT_ID: 2043 })
        ]
      ) {
        expect(answer.headers.get("x-bitrix-rest-time")).toMatch(/^\d+\.\d{10}$/)
        expect(answer.headers.get("x-bitrix-rest-system-time")).not.toBeNull()
        expect(answer.headers.get("access-control-allow-origin")).toBe("*")
      }
    }).pipe(Effect.provide(TestLive)))

  it.scopedLive(".xml is answered in the portal's XML; HEAD answers the GET's headers without a body", () =>
    Effect.gen(function*() {
      const { client } = yield* startProxy()
      const xml = yield* post(`${client}imopenlines.session.mode.silent.xml`, { CHAT_ID: 2043, ACTIVATE: "Y" })
      expect(xml.headers.get("content-type")).toBe("text/xml; charset=utf-8")
      expect(xml.text).toMatch(/^<\?xml version="1.0" encoding="utf-8"\?><response><result>1<\/result><time>/)
      const error = yield* post(`${client}im.chat.mute.xml`, { CHAT_ID: 2043 })
      expect([error.status, error.text]).toEqual([
        403,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><response><error>ACCESS_ERROR</error>" +
        "<error_description>This chat cannot be muted</error_description></response>"
      ])
      const head = yield* request(`${client}im.chat.mute.json?CHAT_ID=1489`, { method: "HEAD" })
      expect([head.status, head.text, head.headers.get("content-type")]).toEqual([
        200,
        "",
        "application/json; charset=utf-8"
      ])
      const preflight = yield* request(`${client}im.chat.mute`, { method: "OPTIONS" })
      expect([preflight.status, preflight.headers.get("access-control-allow-headers")]).toEqual([
        204,
        "origin, content-type, accept"
      ])
    }).pipe(Effect.provide(TestLive)))
})

describe("input is checked before anything goes upstream", () => {
  it.scopedLive("bad input gets 400 and the envelope the portal would send", () =>
    Effect.gen(function*() {
      const { journal } = yield* Emulator.Emulator
      const { client } = yield* startProxy()
      const silent = yield* post(`${client}imopenlines.session.mode.silent`, { CHAT_ID: "abc" })
      expect([silent.status, silent.json]).toEqual([400, {
        error: "CHAT_ID",
        error_description: "Chat ID is incorrect"
      }])
      const flag = yield* post(`${client}imopenlines.session.mode.silent`, { CHAT_ID: 2043, ACTIVATE: true })
      expect([flag.status, flag.json.error, flag.json.argument]).toEqual([400, "ERROR_ARGUMENT", "ACTIVATE"])
      const deep = yield* post(`${client}im.chat.mute.json`, `{"CHAT_ID":${"[".repeat(5000)}1${"]".repeat(5000)}}`)
      expect([deep.status, deep.json.error]).toEqual([400, "CHAT_ID_EMPTY"])
      const large = yield* post(
        `${client}im.chat.mute`,
        `CHAT_ID=1489&x=${"a".repeat(WireRequest.maxBodyBytes)}`,
        "application/x-www-form-urlencoded"
      )
      // Over the portal's own limit, and over the proxy's (1 MiB by default): 413 before the body is read.
      expect([large.status, large.json.error]).toEqual([413, "ERROR_ARGUMENT"])
      expect(journal).toEqual([])
      expect((yield* post(`${client}im.chat.mute`, { CHAT_ID: 1489 })).json.result).toBe(true)
    }).pipe(Effect.provide(TestLive)))

  it.scopedLive("a method that declares no params forwards none, whatever the client sends", () =>
    Effect.gen(function*() {
      const { journal } = yield* Emulator.Emulator
      const { client } = yield* startProxy()
      let nested: unknown = "x".repeat(100)
      for (let i = 0; i < 40; i++) nested = { a: nested, b: [1, 2, 3] }
      const answer = yield* post(`${client}imopenlines.session.mode.pinAll`, { NOISE: nested, CHAT_ID: 5 })
      expect(answer.status).toBe(200)
      expect(journal.map((entry) => [entry.method, entry.params])).toEqual([["imopenlines.session.mode.pinAll", {}]])
    }).pipe(Effect.provide(TestLive)))
})

describe("credentials", () => {
  it.scopedLive("a wrong secret, an unknown client or no credentials: 401 NO_AUTH_FOUND, nothing upstream", () =>
    Effect.gen(function*() {
      const { journal } = yield* Emulator.Emulator
      const { base } = yield* startProxy()
      const answers = [
        yield* post(`${base}/rest/7/not-the-secret/im.chat.mute`, { CHAT_ID: 1489 }),
        yield* post(`${base}/rest/8/${secret}/im.chat.mute`, { CHAT_ID: 1489 }),
        yield* post(`${base}/rest/im.chat.mute`, { CHAT_ID: 1489, auth: "not-the-secret" }),
        yield* post(`${base}/rest/im.chat.mute`, { CHAT_ID: 1489 })
      ]
      for (const answer of answers) {
        expect([answer.status, answer.json]).toEqual([401, {
          error: "NO_AUTH_FOUND",
          error_description: "Wrong authorization data"
        }])
        expect(answer.text).not.toContain(secret)
      }
      expect(journal).toEqual([])
    }).pipe(Effect.provide(TestLive)))

  it.scopedLive("the client's secret never goes upstream, in any form or inside a batch command", () =>
    Effect.gen(function*() {
      // A portal stand-in that keeps every request body and answers success envelopes.
      const bodies: Array<string> = []
      const spy = Http.createServer((incoming, response) => {
        let body = ""
        incoming.on("data", (chunk) => body += String(chunk))
        incoming.on("end", () => {
          bodies.push(`${incoming.url} ${body}`)
          const result = incoming.url!.includes("/batch")
            ? {
              result: { result: { a: 1, b: 2 }, result_error: [], result_total: [], result_next: [], result_time: [] }
            }
            : { result: true }
          response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(result))
        })
      })
      yield* Effect.acquireRelease(
        Effect.async<void>((resume) => void spy.listen(0, "127.0.0.1", () => resume(Effect.void))),
        () => Effect.sync(() => spy.close())
      )
      const port = (spy.address() as { port: number }).port
      const base = yield* serve(config(
        [portal("spy", { _tag: "Webhook", url: Redacted.make(`http://127.0.0.1:${port}/rest/1/upstream-code/`) })],
        [client("7", secret, "spy", { methods: ["user.*", "im.chat.*"] })]
      ))
      const answers = [
        yield* post(`${base}/rest/user.current`, { auth: secret, access_token: secret, X: 1 }),
        yield* post(
          `${base}/rest/7/${secret}/user.get`,
          `ID=1&aplogin=7&ap=${secret}`,
          "application/x-www-form-urlencoded"
        ),
        yield* post(`${base}/rest/7/${secret}/batch`, {
          cmd: { a: `user.current?auth=${secret}`, b: `im.chat.mute?CHAT_ID=1489&access_token=${secret}` }
        })
      ]
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200])
      expect(bodies.length).toBe(3)
      for (const body of bodies) expect(body).not.toContain(secret)
      expect(bodies[2]).toContain("user.current")
    }))

  it.scopedLive("the upstream webhook code appears in no answer, success or error", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const code = Redacted.value(emulator.webhookUrl).split("/").at(-2)!
      const { client } = yield* startProxy()
      for (
        const answer of [
          yield* post(`${client}imopenlines.session.mode.silent`, { CHAT_ID: 2043, ACTIVATE: "Y" }),
          yield* post(`${client}im.chat.mute`, { CHAT_ID: 2043 }),
          yield* post(`${client}im.chat.mute`, {})
        ]
      ) {
        expect(answer.text).not.toContain(code)
        expect(JSON.stringify([...answer.headers])).not.toContain(code)
      }
    }).pipe(Effect.provide(TestLive)))
})

describe("method scopes and methods outside the catalog", { timeout: 120_000 }, () => {
  it.scopedLive("outside the client's scope: 403 insufficient_scope with the webhook's or the token's text", () =>
    Effect.gen(function*() {
      const { journal } = yield* Emulator.Emulator
      const { base, client } = yield* startProxy(["im.chat.*"])
      const webhook = yield* post(`${client}imopenlines.session.mode.silent`, { CHAT_ID: 2043, ACTIVATE: "Y" })
      expect([webhook.status, webhook.json]).toEqual([403, {
        error: "insufficient_scope",
        error_description: "The request requires higher privileges than provided by the webhook token"
      }])
      const token = yield* post(`${base}/rest/crm.lead.list`, { auth: secret })
      expect([token.status, token.json]).toEqual([403, {
        error: "insufficient_scope",
        error_description: "The request requires higher privileges than provided by the access token"
      }])
      expect(journal).toEqual([])
      expect((yield* post(`${client}im.chat.mute`, { CHAT_ID: 1489 })).json.result).toBe(true)
    }).pipe(Effect.provide(TestLive)))

  it.scopedLive("undeclared methods in the scope go as the client sent them, and their answers come back as sent", () =>
    Effect.gen(function*() {
      const { journal } = yield* Emulator.Emulator
      const { client } = yield* startProxy(["imopenlines.*", "im.chat.*", "user.current", "crm.lead.*"])
      const user = yield* request(`${client}user.current`)
      expect([user.status, user.json.result]).toEqual([200, { ID: "1", NAME: "Ada" }])
      const leads = yield* post(
        `${client}crm.lead.list`,
        "filter[>ID]=5&select[]=ID&select[]=TITLE&order[ID]=ASC",
        "application/x-www-form-urlencoded"
      )
      expect(leads.json.result).toEqual([{ ID: "5" }])
      expect(journal.map((entry) => [entry.method, entry.params])).toEqual([
        ["user.current", {}],
        ["crm.lead.list", { filter: { ">ID": "5" }, select: ["ID", "TITLE"], order: { ID: "ASC" } }]
      ])
      // Not declared, not in the scope, and (for the portal) not a method: the scope answers first.
      expect((yield* request(`${client}crm.deal.list`)).json.error).toBe("insufficient_scope")
    }).pipe(Effect.provide(withStubs)))

  it.scopedLive("every declared method's example is forwarded and answered, on a fresh portal each", () =>
    Effect.gen(function*() {
      for (const method of Catalog.methods) {
        const outcome = yield* Effect.gen(function*() {
          const { journal } = yield* Emulator.Emulator
          const { client } = yield* startProxy()
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
  it.live(
    "boots the emulator upstream, says so loudly, prints a client URL with a numeric ID that works",
    () =>
      Effect.acquireUseRelease(
        Effect.sync(() =>
          ChildProcess.spawn(
            Path.join(import.meta.dirname, "..", "node_modules", ".bin", "tsx"),
            [Path.join(import.meta.dirname, "..", "src", "main.ts")],
            { env: { ...process.env, PORT: "0", B24_WEBHOOK_URL: "", B24_PROXY_CLIENTS: "", B24_PROXY_CONFIG: "" } }
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
            const url = /(http:\/\/127\.0\.0\.1:\d+\/rest\/(\d+)\/[^/\s]+\/)imopenlines/.exec(banner)!
            expect(url[2]).toMatch(/^\d+$/)
            const answer = yield* post(`${url[1]}imopenlines.session.mode.silent.json`, {
              CHAT_ID: 2043,
              ACTIVATE: "Y"
            })
            expect([answer.status, answer.json.result]).toEqual([200, true])
          }),
        (child) => Effect.sync(() => child.kill())
      ),
    60_000
  )
})
