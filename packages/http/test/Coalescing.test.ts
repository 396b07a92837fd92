/**
 * Automatic batching never lets one call fail another, over real HTTP on loopback against the emulator (its fault
 * switches aimed at `method: "batch"`), and through a gateway in front of it where a failure the emulator has no
 * switch for is needed:
 * - a call whose params cannot be encoded fails alone, before it joins a batch;
 * - a `batch` refused as a whole with a 4xx is split: each call goes again alone and gets its own answer; a 401 (the
 *   credentials every call shares) is not split;
 * - after an ambiguous failure of the whole `batch`, each call's retry policy decides: idempotent calls are replayed
 *   alone, a non-idempotent one fails with OutcomeUnknown;
 * - a refused `batch` (QUERY_LIMIT_EXCEEDED) is retried by each call's policy after its backoff, not split at once.
 */
import { Bitrix24Client, ImChat, ImOpenLines, PortalError } from "@bitrix24-effect/core"
import type { Emulator, Faults } from "@bitrix24-effect/emulator"
import { describe, it } from "@effect/vitest"
import { assertInstanceOf, assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Bitrix24Http from "../src/Bitrix24Http.js"
import * as PortalLimits from "../src/PortalLimits.js"
import * as RetryPolicy from "../src/RetryPolicy.js"
import { drive } from "./emulated.js"
import { withEmulator, withServer } from "./helpers.js"

/** The batching webhook transport with the safe retry policy, the client's bucket off, over `url`. */
const batching = (url: Redacted.Redacted<string>, retry = RetryPolicy.layer()) =>
  Bitrix24Http.layerWebhook(url, { batching: true, timeout: "1 second" }).pipe(
    Layer.provide(Layer.merge(retry, PortalLimits.layer({ bucket: "off" }))),
    Layer.provide(Bitrix24Http.layerDefaults)
  )

/** A raw idempotent call of im.chat.mute with these params, allowed into a batch. */
const rawMute = (params: Record<string, unknown>) =>
  Effect.flatMap(
    Bitrix24Client.Bitrix24Client,
    (client) =>
      client.call({ method: "im.chat.mute", params: { CHAT_ID: 1489, ...params }, idempotent: true, batchable: true })
  )

/** A value nested `depth` levels deep. */
const nested = (depth: number): unknown => {
  let value: unknown = 1
  for (let i = 0; i < depth; i++) value = { a: value }
  return value
}

const batchesOf = (emulator: Emulator.Service) => emulator.journal.filter((entry) => entry.method === "batch")
const direct = (emulator: Emulator.Service, method: string) =>
  emulator.journal.filter((entry) => entry.method === method && entry.via === "direct")

describe("a call that cannot be encoded fails alone", () => {
  it.effect("5,000 levels of nesting: that call fails with UnencodableParams, the others travel in one batch", () =>
    withEmulator(
      (emulator) =>
        Effect.gen(function*() {
          const fiber = yield* Effect.all([
            ImChat.mute({ CHAT_ID: 1489 }),
            rawMute({ NOTE: nested(5000) }),
            ImOpenLines.sessionModeSilent({ CHAT_ID: 2043, ACTIVATE: true }),
            ImChat.mute({ DIALOG_ID: "sg7" })
          ], { batching: true, mode: "either" }).pipe(Effect.provide(batching(emulator.webhookUrl)), Effect.fork)
          const [first, deep, silent, last] = yield* drive(fiber, { emulator })
          deepStrictEqual(first, Either.right(true))
          deepStrictEqual(silent, Either.right(true))
          deepStrictEqual(last, Either.right(true))
          assertTrue(Either.isLeft(deep))
          assertInstanceOf(deep.left, RetryPolicy.UnencodableParams)
          assertInstanceOf(deep.left, PortalError.TransportError)
          strictEqual(deep.left.method, "im.chat.mute")
          assertTrue(deep.left.description.includes("nothing was sent"))
          strictEqual(RetryPolicy.classify(deep.left), "final")
          // One request: the batch of the three others; the deep params never left.
          strictEqual(emulator.httpRequests(), 1)
          deepStrictEqual(
            emulator.journal.filter((entry) => entry.via === "batch").map((entry) => entry.method),
            ["im.chat.mute", "imopenlines.session.mode.silent", "im.chat.mute"]
          )
        }),
      { clock: "manual" }
    ))

  it.effect("without batching too: the call fails with UnencodableParams before any request", () =>
    withEmulator(
      (emulator) =>
        Effect.gen(function*() {
          const transport = Bitrix24Http.layerWebhook(emulator.webhookUrl).pipe(
            Layer.provide(RetryPolicy.layer()),
            Layer.provide(Bitrix24Http.layerDefaults)
          )
          const error = yield* Effect.flip(rawMute({ NOTE: nested(5000) }).pipe(Effect.provide(transport)))
          assertInstanceOf(error, RetryPolicy.UnencodableParams)
          strictEqual(emulator.httpRequests(), 0)
          strictEqual(yield* rawMute({ NOTE: nested(3) }).pipe(Effect.provide(transport), Effect.as(true)), true)
        })
    ))
})

/**
 * A gateway in front of the emulator that refuses, as a whole, any request whose body contains `marker` (as a web
 * application firewall does), with `status` and an HTML page; everything else is forwarded to the emulator.
 */
const withGateway = <A, E, R>(
  emulator: Emulator.Service,
  refusal: { readonly marker: string; readonly status: number },
  f: (webhookUrl: Redacted.Redacted<string>) => Effect.Effect<A, E, R>
) =>
  withServer((request, response) => {
    const chunks: Array<Buffer> = []
    request.on("data", (chunk: Buffer) => chunks.push(chunk))
    request.on("end", () => {
      const body = Buffer.concat(chunks)
      if (body.toString("utf8").includes(refusal.marker)) {
        response.writeHead(refusal.status, { "content-type": "text/html" })
        response.end(`<html><body>${refusal.status}: request blocked by the gateway</body></html>`)
        return
      }
      fetch(`${emulator.url}${request.url}`, {
        method: request.method ?? "POST",
        headers: { "content-type": request.headers["content-type"] ?? "application/json", accept: "application/json" },
        body
      }).then(async (answer) => {
        response.writeHead(answer.status, { "content-type": answer.headers.get("content-type") ?? "text/plain" })
        response.end(Buffer.from(await answer.arrayBuffer()))
      }, () => response.destroy())
    })
  }, (url) => f(Redacted.make(Redacted.value(emulator.webhookUrl).replace(emulator.url, url))))

describe("a batch refused as a whole with a 4xx is split", () => {
  it.effect("403 from a gateway: each call goes again alone; only the call that caused it fails, with its own 403", () =>
    withEmulator((emulator) =>
      withGateway(emulator, { marker: "blockedbythegateway", status: 403 }, (url) =>
        Effect.gen(function*() {
          const [muted, blocked, silent] = yield* Effect.all([
            ImChat.mute({ CHAT_ID: 1489 }),
            rawMute({ NOTE: "blockedbythegateway" }),
            ImOpenLines.sessionModeSilent({ CHAT_ID: 2043, ACTIVATE: true })
          ], { batching: true, mode: "either" }).pipe(Effect.provide(batching(url)))
          deepStrictEqual(muted, Either.right(true))
          deepStrictEqual(silent, Either.right(true))
          assertTrue(Either.isLeft(blocked))
          assertInstanceOf(blocked.left, PortalError.TransportError)
          strictEqual(blocked.left.status, 403)
          strictEqual(blocked.left.method, "im.chat.mute")
          // The refused batch never reached the portal; the two good calls did, each by itself.
          deepStrictEqual(batchesOf(emulator), [])
          strictEqual(direct(emulator, "im.chat.mute").length, 1)
          strictEqual(direct(emulator, "imopenlines.session.mode.silent").length, 1)
          strictEqual(emulator.portal.chats.get(2043)!.silent, true)
        }))
    ))

  it.effect("401 for the batch (a wrong webhook code) is not split: one request, each call gets NoAuthFound", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const wrong = Redacted.make(`${emulator.url}/rest/1/wrongcode123/`)
        const results = yield* Effect.all([
          ImChat.mute({ CHAT_ID: 1489 }),
          ImChat.mute({ CHAT_ID: 1500 }),
          ImOpenLines.sessionModeSilent({ CHAT_ID: 2043, ACTIVATE: true })
        ], { batching: true, mode: "either" }).pipe(Effect.provide(batching(wrong)))
        for (const result of results as ReadonlyArray<Either.Either<unknown, unknown>>) {
          assertTrue(Either.isLeft(result))
          assertInstanceOf(result.left, PortalError.NoAuthFound)
        }
        strictEqual(emulator.httpRequests(), 1)
      })
    ))
})

describe("an ambiguous failure of the whole batch: each call's retry policy decides, replays go alone", () => {
  const kinds: ReadonlyArray<readonly [Faults.Kind, ran: boolean]> = [
    ["internal-error", false],
    ["drop-after", true],
    ["truncated-json", true]
  ]
  for (const [kind, ran] of kinds) {
    it.effect(`${kind} on the batch: idempotent calls are replayed alone, the non-idempotent one is OutcomeUnknown`, () =>
      withEmulator(
        (emulator) =>
          Effect.gen(function*() {
            emulator.setFaults([{ kind, method: "batch", times: 1 }])
            const sessions = emulator.portal.sessions.size
            const fiber = yield* Effect.all([
              ImChat.mute({ CHAT_ID: 1489 }),
              ImOpenLines.sessionStart({ CHAT_ID: 494 }),
              ImOpenLines.sessionModeSilent({ CHAT_ID: 2043, ACTIVATE: true })
            ], { batching: true, mode: "either" }).pipe(Effect.provide(batching(emulator.webhookUrl)), Effect.fork)
            const [muted, started, silent] = yield* drive(fiber, { emulator, step: "100 millis" })
            deepStrictEqual(muted, Either.right(true))
            deepStrictEqual(silent, Either.right(true))
            assertTrue(Either.isLeft(started))
            assertInstanceOf(started.left, RetryPolicy.OutcomeUnknown)
            strictEqual(started.left.method, "imopenlines.session.start")
            strictEqual(started.left.attempts, 1)
            // One batch, then each idempotent call replayed by itself; the non-idempotent one was not sent again.
            strictEqual(batchesOf(emulator).length, 1)
            strictEqual(direct(emulator, "im.chat.mute").length, 1)
            strictEqual(direct(emulator, "imopenlines.session.mode.silent").length, 1)
            strictEqual(direct(emulator, "imopenlines.session.start").length, 0)
            strictEqual(emulator.httpRequests(), 3)
            // Whether the session was started is what the portal says: it ran inside the faulted batch or not at all.
            strictEqual(emulator.portal.sessions.size - sessions, ran ? 1 : 0)
          }),
        { clock: "manual" }
      ))
  }
})

describe("a refused batch is retried by each call's policy, not split at once", () => {
  it.effect("QUERY_LIMIT_EXCEEDED for the batch: no call is sent again before its backoff, and all succeed", () =>
    withEmulator(
      (emulator) =>
        Effect.gen(function*() {
          const program = Effect.gen(function*() {
            // Fills the portal's one-request bucket; the client's own bucket is off.
            yield* ImChat.mute({ CHAT_ID: 1500 })
            return yield* Effect.all([
              ImChat.mute({ CHAT_ID: 1489 }),
              ImChat.mute({ DIALOG_ID: "chat1489" }),
              ImOpenLines.sessionModeSilent({ CHAT_ID: 2043, ACTIVATE: true })
            ], { batching: true })
          })
          const fiber = yield* program.pipe(
            Effect.provide(batching(emulator.webhookUrl, RetryPolicy.layerDefault)),
            Effect.fork
          )
          deepStrictEqual(yield* drive(fiber, { emulator, step: "50 millis" }), [true, true, true])
          const refused = emulator.journal.filter((entry) => entry.error === "QUERY_LIMIT_EXCEEDED")
          deepStrictEqual(refused.map((entry) => entry.method), ["batch"])
          const later = emulator.journal.filter((entry) => entry.request > refused[0]!.request)
          assertTrue(later.length >= 3)
          // The backoff's first delay is 500 ms, jittered to at least 400 ms: nothing was re-sent at once.
          assertTrue(later.every((entry) => entry.at - refused[0]!.at >= 400), "retries waited for the backoff")
        }),
      { clock: "manual", limits: { bucket: { size: 1, drainPerSecond: 1 } } }
    ))
})
