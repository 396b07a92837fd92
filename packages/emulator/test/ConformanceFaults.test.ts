/**
 * Conformance, faults on demand: what a real portal and the network in front of it do when things go wrong
 * (wire sheet §5 `INTERNAL_SERVER_ERROR`, a gateway's 502 page, dropped connections before and after the method
 * ran, a truncated body, §1.1's 302 to a new portal address, added latency), per method or for all, for the next N
 * calls or a seeded share of them; the journal records `executed` truthfully for each.
 */
import { describe, it } from "@effect/vitest"
import { assertFalse, assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as Emulator from "../src/Emulator.js"
import type * as Faults from "../src/Faults.js"
import { attempt, call, withPortal } from "./conformance.js"
import { assertSuccess, postForm, webhook } from "./helpers.js"

const silentUrl = (emulator: Emulator.Service) => `${webhook(emulator)}imopenlines.session.mode.silent.json`

const postSilent = (emulator: Emulator.Service, init: RequestInit = {}) =>
  attempt(silentUrl(emulator), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{\"CHAT_ID\":2043,\"ACTIVATE\":\"Y\"}",
    ...init
  })

const lastEntry = (emulator: Emulator.Service) => {
  const { error, executed, fault, status } = emulator.journal.at(-1)!
  return { status, error, executed, fault }
}

describe("faults: 500 INTERNAL_SERVER_ERROR (wire sheet §5)", () => {
  it.effect("for the next N calls of one method; the method does not run; other methods are untouched", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        emulator.setFaults([{ kind: "internal-error", method: "imopenlines.session.mode.silent", times: 2 }])
        for (let i = 0; i < 2; i++) {
          const answer = yield* postSilent(emulator)
          deepStrictEqual(answer, {
            _tag: "Answered",
            status: 500,
            text: "{\"error\":\"INTERNAL_SERVER_ERROR\",\"error_description\":\"Internal server error\"}"
          })
          deepStrictEqual(lastEntry(emulator), {
            status: 500,
            error: "INTERNAL_SERVER_ERROR",
            executed: false,
            fault: "internal-error"
          })
        }
        assertSuccess(yield* call(emulator, "im.chat.mute", { CHAT_ID: 1489 }))
        strictEqual(emulator.portal.chats.get(2043)!.silent, false)
        strictEqual((yield* postSilent(emulator))._tag === "Answered", true)
        strictEqual(emulator.portal.chats.get(2043)!.silent, true)
        deepStrictEqual(emulator.faults().map((slot) => slot.remaining), [0])
      })
    ))
})

describe("faults: a gateway's HTML 502 page", () => {
  it.effect("502 text/html, not JSON, and nothing ran", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        emulator.setFaults([{ kind: "html-502", times: 1 }])
        const answer = yield* call(emulator, "im.chat.mute", { CHAT_ID: 1489 })
        strictEqual(answer.status, 502)
        strictEqual(answer.headers.get("content-type"), "text/html")
        strictEqual(answer.body, undefined)
        assertTrue(answer.text.includes("<h1>502 Bad Gateway</h1>"))
        strictEqual(emulator.portal.chats.get(1489)!.muted.size, 0)
        deepStrictEqual(lastEntry(emulator), { status: 502, error: undefined, executed: false, fault: "html-502" })
      })
    ))
})

describe("faults: dropped connections", () => {
  it.effect("drop-before: no answer, the method did not run", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        emulator.setFaults([{ kind: "drop-before", times: 1 }])
        strictEqual((yield* postSilent(emulator))._tag, "Dropped")
        strictEqual(emulator.portal.chats.get(2043)!.silent, false)
        deepStrictEqual(lastEntry(emulator), { status: 0, error: undefined, executed: false, fault: "drop-before" })
        strictEqual((yield* postSilent(emulator))._tag, "Answered")
      })
    ))

  it.effect("drop-after: no answer, but the method ran and changed the state", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        emulator.setFaults([{ kind: "drop-after", times: 1 }])
        strictEqual((yield* postSilent(emulator))._tag, "Dropped")
        strictEqual(emulator.portal.chats.get(2043)!.silent, true)
        deepStrictEqual(lastEntry(emulator), { status: 0, error: undefined, executed: true, fault: "drop-after" })
      })
    ))

  it.effect("drop-after on a batch: every command ran", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        emulator.setFaults([{ kind: "drop-after", method: "batch", times: 1 }])
        const answer = yield* attempt(`${webhook(emulator)}batch`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ cmd: { a: "im.chat.mute?CHAT_ID=1489", b: "im.chat.mute?CHAT_ID=1500" } })
        })
        strictEqual(answer._tag, "Dropped")
        deepStrictEqual(
          emulator.journal.map((entry) => [entry.method, entry.via, entry.executed, entry.fault]),
          [
            ["batch", "direct", true, "drop-after"],
            ["im.chat.mute", "batch", true, "drop-after"],
            ["im.chat.mute", "batch", true, "drop-after"]
          ]
        )
        strictEqual(emulator.portal.chats.get(1500)!.muted.has(1), true)
      })
    ))
})

describe("faults: a truncated JSON body", () => {
  it.effect("HTTP 200 with half an envelope; the method ran", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        emulator.setFaults([{ kind: "truncated-json", times: 1 }])
        const answer = yield* postSilent(emulator)
        if (answer._tag !== "Answered") throw new Error("expected an answer")
        strictEqual(answer.status, 200)
        assertTrue(answer.text.startsWith("{\"result\":true,\"time\":{"), answer.text)
        assertFalse(answer.text.endsWith("}}"))
        let parsed = true
        try {
          JSON.parse(answer.text)
        } catch {
          parsed = false
        }
        assertFalse(parsed)
        strictEqual(emulator.portal.chats.get(2043)!.silent, true)
        deepStrictEqual(lastEntry(emulator), { status: 200, error: undefined, executed: true, fault: "truncated-json" })
      })
    ))
})

describe("faults: 302 to a new portal address (wire sheet §1.1)", () => {
  it.effect("Location is the new address plus the same path and query; the method did not run", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        emulator.setFaults([{ kind: "redirect", times: 1, location: "https://moved.bitrix24.example/" }])
        const url = `${webhook(emulator)}im.chat.mute.json?CHAT_ID=1489`
        const response = yield* Effect.promise(() => fetch(url, { method: "POST", redirect: "manual" }))
        strictEqual(response.status, 302)
        strictEqual(
          response.headers.get("location"),
          `https://moved.bitrix24.example${new URL(url).pathname}?CHAT_ID=1489`
        )
        strictEqual(emulator.portal.chats.get(1489)!.muted.size, 0)
        deepStrictEqual(lastEntry(emulator), { status: 302, error: undefined, executed: false, fault: "redirect" })
      })
    ))

  it.effect("without a location the emulator redirects to itself, so re-sending the POST to Location works", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        emulator.setFaults([{ kind: "redirect", times: 1 }])
        const first = yield* Effect.promise(() =>
          fetch(`${webhook(emulator)}im.chat.mute.json`, {
            method: "POST",
            redirect: "manual",
            headers: { "content-type": "application/json" },
            body: "{\"CHAT_ID\":1489}"
          })
        )
        const location = first.headers.get("location")!
        strictEqual(location, `${webhook(emulator)}im.chat.mute.json`)
        assertSuccess(yield* call(emulator, "im.chat.mute.json", { CHAT_ID: 1489 }))
      })
    ))
})

describe("faults: added latency", () => {
  it.effect("the answer comes no sooner than the latency, then the call proceeds normally", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        emulator.setFaults([{ kind: "latency", ms: 150, times: 1 }])
        const started = performance.now()
        assertSuccess(yield* call(emulator, "im.chat.mute", { CHAT_ID: 1489 }))
        assertTrue(performance.now() - started >= 145, "waited for the latency")
        strictEqual(lastEntry(emulator).executed, true)
      })
    ))

  it.effect("a client that gives up during the latency leaves the method unrun", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        emulator.setFaults([{ kind: "latency", ms: 60_000, method: "imopenlines.session.mode.silent" }])
        strictEqual((yield* postSilent(emulator, { signal: AbortSignal.timeout(100) }))._tag, "Dropped")
        assertSuccess(yield* call(emulator, "im.chat.mute", { CHAT_ID: 1489 }))
        strictEqual(emulator.portal.chats.get(2043)!.silent, false)
        deepStrictEqual(emulator.journal.map((entry) => entry.method), ["im.chat.mute"])
      })
    ))
})

describe("faults: shares are seeded and repeatable", () => {
  const pattern = (seed: number | undefined) =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const statuses: Array<number> = []
        for (let i = 0; i < 40; i++) statuses.push((yield* call(emulator, "conformance.echo")).status)
        return statuses
      }), { faults: [{ kind: "internal-error", share: 0.5 }], seed, limits: { bucket: "off" } })

  it.effect("the same seed gives the same sequence; another seed another one; the share is respected", () =>
    Effect.gen(function*() {
      const first = yield* pattern(7)
      const again = yield* pattern(7)
      const other = yield* pattern(8)
      deepStrictEqual(first, again)
      assertTrue(JSON.stringify(first) !== JSON.stringify(other))
      const failures = first.filter((status) => status === 500).length
      assertTrue(failures > 8 && failures < 32, `${failures} of 40 failed`)
    }))

  it.effect("setFaults restarts the generator: the same switches repeat the same sequence", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const run = Effect.gen(function*() {
          emulator.setFaults([{ kind: "internal-error", share: 0.3 }])
          const statuses: Array<number> = []
          for (let i = 0; i < 20; i++) statuses.push((yield* call(emulator, "conformance.echo")).status)
          return statuses
        })
        deepStrictEqual(yield* run, yield* run)
      }), { limits: { bucket: "off" } }))
})

describe("faults: targets", () => {
  it.effect("a fault without a method hits every REST method but not the token endpoint; oauth/token targets it", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const faults: ReadonlyArray<Faults.Fault> = [{ kind: "internal-error" }]
        emulator.setFaults(faults)
        strictEqual((yield* call(emulator, "im.chat.mute", { CHAT_ID: 1489 })).status, 500)
        strictEqual((yield* call(emulator, "batch", { cmd: {} })).status, 500)
        const { refreshToken } = emulator.oauth.issue(1)
        const form = new URLSearchParams({
          grant_type: "refresh_token",
          client_id: emulator.oauth.clientId,
          client_secret: Redacted.value(emulator.oauth.clientSecret),
          refresh_token: Redacted.value(refreshToken)
        }).toString()
        emulator.setFaults([{ kind: "internal-error", method: "oauth/token", times: 1 }])
        strictEqual((yield* postForm(emulator.oauth.tokenUrl, form)).status, 500)
        strictEqual((yield* postForm(emulator.oauth.tokenUrl, form)).status, 200)
        assertSuccess(yield* call(emulator, "im.chat.mute", { CHAT_ID: 1489 }))
      })
    ))

  it.effect("faults given at start are active from the first call; reset restores them", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        strictEqual((yield* call(emulator, "im.chat.mute", { CHAT_ID: 1489 })).status, 502)
        assertSuccess(yield* call(emulator, "im.chat.mute", { CHAT_ID: 1489 }))
        emulator.reset()
        strictEqual((yield* call(emulator, "im.chat.mute", { CHAT_ID: 1489 })).status, 502)
      }), { faults: [{ kind: "html-502", times: 1 }] }))
})
