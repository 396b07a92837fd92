/**
 * Conformance, wire sheet §2: `batch` over real HTTP: the 50-command limit, the buckets and their PHP array shapes,
 * references, halt, forbidden methods, per-command auth and scope, encodings and the journal.
 */
import { describe, it } from "@effect/vitest"
import { assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Fixture from "../src/Fixture.js"
import { call, callOAuth, withPortal } from "./conformance.js"
import { assertError, postForm, request, webhook } from "./helpers.js"

const timeKeys = [
  "start",
  "finish",
  "duration",
  "processing",
  "date_start",
  "date_finish",
  "operating_reset_at",
  "operating"
]

describe("§2 batch: length", () => {
  it.effect("a 51-command batch runs 50 and answers ERROR_BATCH_LENGTH_EXCEEDED for the 51st only", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const cmd = Object.fromEntries(
          Array.from({ length: 51 }, (_, i) => [`c${i}`, "im.chat.mute?CHAT_ID=1489&MUTE=Y"])
        )
        const answer = yield* call(emulator, "batch", { halt: 0, cmd })
        strictEqual(answer.status, 200)
        const { result, result_error } = answer.body.result
        deepStrictEqual(Object.keys(result), Array.from({ length: 50 }, (_, i) => `c${i}`))
        deepStrictEqual(result_error, {
          c50: { error: "ERROR_BATCH_LENGTH_EXCEEDED", error_description: "Max batch length exceeded" }
        })
        strictEqual(emulator.journal.filter((entry) => entry.via === "batch").length, 50)
      })
    ))

  it.effect("a non-string command is skipped silently but counts toward the 50", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const cmd: Record<string, unknown> = {}
        for (let i = 0; i < 50; i++) cmd[`n${i}`] = { not: "a string" }
        cmd.last = "im.chat.mute?CHAT_ID=1489"
        const answer = yield* call(emulator, "batch", { cmd })
        deepStrictEqual(answer.body.result.result, [])
        deepStrictEqual(Object.keys(answer.body.result.result_error), ["last"])
        strictEqual(answer.body.result.result_error.last.error, "ERROR_BATCH_LENGTH_EXCEEDED")
      })
    ))
})

describe("§2 batch: response buckets", () => {
  it.effect("result, result_error, result_total, result_next and result_time; empty buckets are []", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const answer = yield* call(emulator, "batch", {
          cmd: { page: "conformance.paged", mute: "im.chat.mute?CHAT_ID=1489" }
        })
        strictEqual(answer.status, 200)
        deepStrictEqual(Object.keys(answer.body), ["result", "time"])
        const body = answer.body.result
        deepStrictEqual(Object.keys(body), ["result", "result_error", "result_total", "result_next", "result_time"])
        deepStrictEqual(body.result, { page: [{ ID: "1" }, { ID: "2" }, { ID: "3" }], mute: true })
        deepStrictEqual(body.result_error, [])
        deepStrictEqual(body.result_total, { page: 7 })
        deepStrictEqual(body.result_next, { page: 3 })
        deepStrictEqual(Object.keys(body.result_time), ["page", "mute"])
        deepStrictEqual(Object.keys(body.result_time.mute), timeKeys)
        const empty = yield* call(emulator, "batch", { cmd: {} })
        assertTrue(
          empty.text.startsWith(
            "{\"result\":{\"result\":[],\"result_error\":[],\"result_total\":[],\"result_next\":[],\"result_time\":[]}"
          ),
          empty.text
        )
      })
    ))

  it.effect("cmd as a list: all succeeded -> result is a JSON array; one failed -> objects keyed by index", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const ok = yield* call(emulator, "batch", { cmd: ["im.chat.mute?CHAT_ID=1489", "im.chat.mute?CHAT_ID=1500"] })
        deepStrictEqual(ok.body.result.result, [true, true])
        assertTrue(Array.isArray(ok.body.result.result_time))
        const mixed = yield* call(emulator, "batch", { cmd: ["im.chat.mute?CHAT_ID=1489", "im.chat.mute"] })
        deepStrictEqual(mixed.body.result.result, [true])
        deepStrictEqual(mixed.body.result.result_error, {
          "1": { error: "CHAT_ID_EMPTY", error_description: "Chat ID can't be empty" }
        })
        assertTrue(mixed.text.includes("\"result_error\":{\"1\":"), mixed.text)
      })
    ))

  it.effect("the sub-calls' HTTP statuses are not exposed: a batch of failures is still HTTP 200", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const answer = yield* call(emulator, "batch", { cmd: { a: "no.such.method", b: "im.chat.mute?CHAT_ID=2043" } })
        strictEqual(answer.status, 200)
        deepStrictEqual(answer.body.result.result_error, {
          a: { error: "ERROR_METHOD_NOT_FOUND", error_description: "Method not found!" },
          b: { error: "ACCESS_ERROR", error_description: "This chat cannot be muted" }
        })
      })
    ))
})

describe("§2 batch: forbidden methods", () => {
  it.effect("batch, download and upload inside batch answer ERROR_BATCH_METHOD_NOT_ALLOWED", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const answer = yield* call(emulator, "batch", {
          cmd: { b: "batch?cmd[x]=im.chat.mute", d: "download", u: "upload?x=1", ok: "im.chat.mute?CHAT_ID=1489" }
        })
        const notAllowed = {
          error: "ERROR_BATCH_METHOD_NOT_ALLOWED",
          error_description: "Method is not allowed for batch usage"
        }
        deepStrictEqual(answer.body.result.result_error, { b: notAllowed, d: notAllowed, u: notAllowed })
        deepStrictEqual(answer.body.result.result, { ok: true })
        deepStrictEqual(emulator.journal.map((entry) => entry.method), ["batch", "im.chat.mute"])
      })
    ))
})

describe("§2 batch: references to earlier results", () => {
  it.effect("$result[key][path] as a whole value keeps its type; embedded it is replaced when scalar", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const answer = yield* call(emulator, "batch", {
          cmd: {
            page: "conformance.paged",
            whole: "conformance.echo?id=$result[page][1][ID]&list=$result[page]",
            embedded: "conformance.echo?text=id-$result[page][0][ID]-of-$total[page]&obj=x$result[page][0]",
            buckets: "conformance.echo?n=$next[page]&start=$time[page][start]&upper=$RESULT[page][2][ID]",
            missing: "conformance.echo?deepest=$result[page][0][NOPE]"
          }
        })
        const result = answer.body.result.result
        deepStrictEqual(result.whole, { id: "2", list: [{ ID: "1" }, { ID: "2" }, { ID: "3" }] })
        deepStrictEqual(result.embedded, { text: "id-1-of-7", obj: "x$result[page][0]" })
        deepStrictEqual(result.buckets, {
          n: 3,
          start: answer.body.result.result_time.page.start,
          upper: "3"
        })
        deepStrictEqual(result.missing, { deepest: { ID: "1" } })
      })
    ))

  it.effect("$error[key][...] reaches a failed command's error", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const answer = yield* call(emulator, "batch", {
          cmd: { bad: "im.chat.mute", echo: "conformance.echo?code=$error[bad][error]" }
        })
        deepStrictEqual(answer.body.result.result, { echo: { code: "CHAT_ID_EMPTY" } })
      })
    ))
})

describe("§2 batch: halt (PHP truthiness, §1.3)", () => {
  const cmd = { a: "im.chat.mute", b: "im.chat.mute?CHAT_ID=1489" }

  it.effect("a truthy halt stops after the first failed command", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        for (const halt of [1, true, "1", "Y", "false"]) {
          const answer = yield* call(emulator, "batch", { halt, cmd })
          deepStrictEqual(answer.body.result.result, [], `halt ${JSON.stringify(halt)}`)
          deepStrictEqual(Object.keys(answer.body.result.result_error), ["a"])
        }
        strictEqual(emulator.journal.filter((entry) => entry.method === "im.chat.mute").length, 5)
      })
    ))

  it.effect("0, \"0\", \"\", false and a missing halt do not halt", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        for (const halt of [0, "0", "", false, undefined]) {
          const answer = yield* call(emulator, "batch", { halt, cmd })
          deepStrictEqual(answer.body.result.result, { b: true }, `halt ${JSON.stringify(halt)}`)
        }
      })
    ))

  it.effect("top-level keys are case-insensitive: CMD and HALT", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const answer = yield* call(emulator, "batch", { HALT: 1, CMD: cmd })
        deepStrictEqual(Object.keys(answer.body.result.result_error), ["a"])
        deepStrictEqual(answer.body.result.result, [])
      })
    ))
})

describe("§2 batch: auth and scope per command", () => {
  it.effect("a command outside the caller's scope fails with insufficient_scope and an empty description", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const answer = yield* call(emulator, "batch", {
          cmd: { crm: "conformance.scoped", silent: "imopenlines.session.mode.silent?CHAT_ID=2043&ACTIVATE=Y" }
        })
        deepStrictEqual(answer.body.result.result_error, {
          crm: { error: "insufficient_scope", error_description: "" },
          silent: { error: "insufficient_scope", error_description: "" }
        })
        strictEqual(emulator.portal.chats.get(2043)!.silent, false)
        deepStrictEqual(answer.body.result.result, [])
      }), { fixture: { ...Fixture.defaultFixture, webhooks: [{ userId: 1, scopes: ["im"] }] } }))

  it.effect("commands run as the batch's caller (webhook or OAuth), and a failed outer auth fails the batch", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const oauth = yield* callOAuth(emulator, emulator.accessToken, "batch", {
          cmd: { a: "im.chat.mute?CHAT_ID=1489" }
        })
        deepStrictEqual(oauth.body.result.result, { a: true })
        assertError(
          yield* request(`${emulator.url}/rest/1/wrongcode/batch?cmd[a]=im.chat.mute%3FCHAT_ID%3D1489`),
          401,
          "NO_AUTH_FOUND",
          "Wrong authorization data"
        )
        deepStrictEqual(emulator.journal.map((entry) => [entry.method, entry.auth, entry.via]), [
          ["batch", "oauth:1", "direct"],
          ["im.chat.mute", "oauth:1", "batch"],
          ["batch", "none", "direct"]
        ])
        strictEqual(emulator.portal.chats.get(1489)!.muted.has(1), true)
      })
    ))

  it.effect("credentials inside a command string are not journaled", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const code = emulator.credentials.webhooks[0]!.code
        yield* call(emulator, "batch", { cmd: { a: `im.chat.mute?auth=${code}&CHAT_ID=1489` } })
        assertTrue(!JSON.stringify(emulator.journal).includes(code))
        deepStrictEqual(emulator.journal[0]?.params, { cmd: { a: "im.chat.mute?CHAT_ID=1489" } })
        deepStrictEqual(emulator.journal[1]?.params, { CHAT_ID: "1489" })
      })
    ))
})

describe("§2 batch: encodings", () => {
  it.effect("cmd in a query string or form is URL-encoded twice", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const query = yield* request(
          `${webhook(emulator)}batch?halt=0&cmd[a]=${encodeURIComponent("conformance.echo?x=a%26b&y[0]=1")}`
        )
        deepStrictEqual(query.body.result.result, { a: { x: "a&b", y: ["1"] } })
        const form = yield* postForm(
          `${webhook(emulator)}batch`,
          `cmd[0]=${encodeURIComponent("im.chat.mute?CHAT_ID=1489")}`
        )
        deepStrictEqual(form.body.result.result, [true])
      })
    ))
})

describe("§2 batch: the journal", () => {
  it.effect("the batch and its commands share the HTTP request number; commands are via batch with their keys", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        yield* call(emulator, "im.chat.mute", { CHAT_ID: 1489 })
        yield* call(emulator, "batch", { cmd: { x: "im.chat.mute?CHAT_ID=1500", y: "no.such" } })
        deepStrictEqual(
          emulator.journal.map(({ executed, key, method, request, status, via }) => ({
            request,
            via,
            key,
            method,
            status,
            executed
          })),
          [
            { request: 1, via: "direct", key: undefined, method: "im.chat.mute", status: 200, executed: true },
            { request: 2, via: "direct", key: undefined, method: "batch", status: 200, executed: true },
            { request: 2, via: "batch", key: "x", method: "im.chat.mute", status: 200, executed: true },
            { request: 2, via: "batch", key: "y", method: "no.such", status: 404, executed: false }
          ]
        )
        strictEqual(emulator.httpRequests(), 2)
      })
    ))
})
