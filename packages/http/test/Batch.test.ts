/**
 * Batching over real HTTP on loopback against the emulator (wire sheet §2): automatic coalescing of concurrent calls
 * into `batch` requests under the portal's standard limits, each caller with its own typed outcome, non-batchable
 * calls alone, nested params encoded into `cmd`; and the explicit typed batch API with `halt` and chunking.
 */
import { Bitrix24Client, ImChat, ImOpenLines, PortalError } from "@bitrix24-effect/core"
import { describe, it } from "@effect/vitest"
import { assertInstanceOf, assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Batch from "../src/Batch.js"
import * as Bitrix24Http from "../src/Bitrix24Http.js"
import * as PortalLimits from "../src/PortalLimits.js"
import { drive, limitErrors } from "./emulated.js"
import { withDefaults, withEmulator } from "./helpers.js"

const batched = (url: Parameters<typeof Bitrix24Http.layerWebhook>[0]) =>
  withDefaults(Bitrix24Http.layerWebhook(url, { batching: true }))

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

describe("automatic batching (the batching option)", () => {
  it.effect(
    "2,000 concurrent independent calls under the standard bucket: no QUERY_LIMIT_EXCEEDED, at most 45 HTTP requests",
    () =>
      withEmulator(
        (emulator) =>
          Effect.gen(function*() {
            const fiber = yield* Effect.forEach(range(2000), (i) => ImChat.mute({ CHAT_ID: 1489, MUTE: i % 2 === 0 }), {
              batching: true
            }).pipe(Effect.provide(batched(emulator.webhookUrl)), Effect.fork)
            const results = yield* drive(fiber, { emulator })
            strictEqual(results.length, 2000)
            assertTrue(results.every((result) => result === true))
            strictEqual(emulator.limits().bucket, "standard")
            deepStrictEqual(limitErrors(emulator), [])
            const requests = emulator.httpRequests()
            assertTrue(requests <= 45, `${requests} HTTP requests`)
            const commands = emulator.journal.filter((entry) => entry.via === "batch")
            strictEqual(commands.length, 2000)
            assertTrue(commands.every((entry) => entry.executed && entry.status === 200))
            // Every command travelled inside a batch request of at most 50.
            const perRequest = new Map<number, number>()
            for (const entry of commands) perRequest.set(entry.request, (perRequest.get(entry.request) ?? 0) + 1)
            assertTrue([...perRequest.values()].every((n) => n <= 50))
            strictEqual(perRequest.size, requests)
          }),
        { clock: "manual" }
      )
  )

  it.effect("calls on separate fibers (the proxy's case) are coalesced by the data loader within the window", () =>
    withEmulator(
      (emulator) =>
        Effect.gen(function*() {
          const program = Effect.gen(function*() {
            const fibers = yield* Effect.forEach(range(120), () => Effect.fork(ImChat.mute({ CHAT_ID: 1489 })))
            return yield* Effect.forEach(fibers, (fiber) => fiber.await)
          })
          const fiber = yield* program.pipe(Effect.provide(batched(emulator.webhookUrl)), Effect.fork)
          const exits = yield* drive(fiber, { emulator })
          strictEqual(exits.filter((exit) => exit._tag === "Success").length, 120)
          strictEqual(emulator.httpRequests(), 3)
        }),
      { clock: "manual" }
    ))

  it.effect("each caller gets its own typed success or error from result / result_error", () =>
    withEmulator(
      (emulator) =>
        Effect.gen(function*() {
          const fiber = yield* Effect.all([
            Effect.either(ImChat.mute({ CHAT_ID: 1489 })),
            Effect.either(ImChat.mute({ CHAT_ID: 2043 })),
            Effect.either(ImOpenLines.sessionModeSilent({ CHAT_ID: 999999, ACTIVATE: true })),
            Effect.either(ImOpenLines.sessionModeSilent({ CHAT_ID: 2043, ACTIVATE: true }))
          ], { batching: true }).pipe(Effect.provide(batched(emulator.webhookUrl)), Effect.fork)
          const [muted, notMuted, badChat, silent] = yield* drive(fiber, { emulator })
          deepStrictEqual(muted, Either.right(true))
          assertTrue(Either.isLeft(notMuted))
          assertInstanceOf(notMuted.left, PortalError.AccessError)
          strictEqual(notMuted.left.status, 403)
          assertTrue(Either.isLeft(badChat))
          assertInstanceOf(badChat.left, PortalError.ChatIdInvalid)
          strictEqual(badChat.left.method, "imopenlines.session.mode.silent")
          deepStrictEqual(silent, Either.right(true))
          strictEqual(emulator.portal.chats.get(2043)!.silent, true)
          strictEqual(emulator.httpRequests(), 1)
          deepStrictEqual(emulator.journal.map((entry) => [entry.method, entry.via]), [
            ["batch", "direct"],
            ["im.chat.mute", "batch"],
            ["im.chat.mute", "batch"],
            ["imopenlines.session.mode.silent", "batch"],
            ["imopenlines.session.mode.silent", "batch"]
          ])
        }),
      { clock: "manual" }
    ))

  it.effect("calls that may not be batched, and params with $result[...] references, go alone", () =>
    withEmulator(
      (emulator) =>
        Effect.gen(function*() {
          const client = Bitrix24Client.Bitrix24Client
          const fiber = yield* Effect.all([
            ImChat.mute({ CHAT_ID: 1489 }),
            ImChat.mute({ CHAT_ID: 1500 }),
            Bitrix24Client.callRaw("im.chat.mute", { CHAT_ID: 1489 }),
            Effect.flatMap(client, (c) =>
              c.call({
                method: "im.chat.mute",
                params: { CHAT_ID: 1489, NOTE: "see $result[first][ID]" },
                idempotent: true,
                batchable: true
              }))
          ], { batching: true }).pipe(Effect.provide(batched(emulator.webhookUrl)), Effect.fork)
          yield* drive(fiber, { emulator })
          strictEqual(emulator.httpRequests(), 3)
          const direct = emulator.journal.filter((entry) => entry.via === "direct").map((entry) => entry.method).sort()
          deepStrictEqual(direct, ["batch", "im.chat.mute", "im.chat.mute"])
          strictEqual(emulator.journal.filter((entry) => entry.via === "batch").length, 2)
        }),
      { clock: "manual" }
    ))

  it.effect("nested params are encoded into the cmd string in PHP bracket syntax (Wire.encodeQuery)", () =>
    withEmulator(
      (emulator) =>
        Effect.gen(function*() {
          const call = (params: Record<string, unknown>) =>
            Effect.flatMap(Bitrix24Client.Bitrix24Client, (c) =>
              c.call({ method: "im.chat.mute", params, idempotent: true, batchable: true }))
          const fiber = yield* Effect.all([
            call({ CHAT_ID: 1489, MUTE: "Y" }),
            call({ CHAT_ID: 1489, extra: { list: [1, "two"], map: { text: "a&b=c d/é", flag: true } } })
          ], { batching: true }).pipe(Effect.provide(batched(emulator.webhookUrl)), Effect.fork)
          yield* drive(fiber, { emulator })
          const [, second] = emulator.journal.filter((entry) =>
            entry.via === "batch"
          )
          // Inside batch every value is a query-string value, so numbers and booleans arrive as strings.
          deepStrictEqual(second!.params, {
            CHAT_ID: "1489",
            extra: { list: ["1", "two"], map: { text: "a&b=c d/é", flag: "1" } }
          })
        }),
      { clock: "manual" }
    ))

  it.effect("without the batching option every call is its own HTTP request", () =>
    withEmulator(
      (emulator) =>
        Effect.gen(function*() {
          const fiber = yield* Effect.forEach(range(10), () => ImChat.mute({ CHAT_ID: 1489 }), { batching: true }).pipe(
            Effect.provide(withDefaults(Bitrix24Http.layerWebhook(emulator.webhookUrl))),
            Effect.fork
          )
          yield* drive(fiber, { emulator })
          strictEqual(emulator.httpRequests(), 10)
          strictEqual(emulator.journal.filter((entry) => entry.method === "batch").length, 0)
        }),
      { clock: "manual" }
    ))
})

describe("Batch.run: the explicit typed batch API", () => {
  const client = (emulator: { readonly webhookUrl: Parameters<typeof Bitrix24Http.layerWebhook>[0] }) =>
    withDefaults(
      Bitrix24Http.layerWebhook(emulator.webhookUrl).pipe(Layer.provide(PortalLimits.layer({ bucket: "off" })))
    )

  it.effect("a record of commands in, a record of typed results or errors out, in one request", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const results = yield* Batch.run({
          mute: Batch.command(ImChat.mute, { CHAT_ID: 1489 }),
          openLine: Batch.command(ImChat.mute, { CHAT_ID: 2043 }),
          silent: Batch.command(ImOpenLines.sessionModeSilent, { CHAT_ID: 2043, ACTIVATE: true }),
          anything: Batch.raw("im.chat.mute", { DIALOG_ID: "sg7" })
        }).pipe(Effect.provide(client(emulator)))
        deepStrictEqual(results.mute, Either.right(true))
        assertTrue(Either.isLeft(results.openLine))
        assertInstanceOf(results.openLine.left, PortalError.AccessError)
        deepStrictEqual(results.silent, Either.right(true))
        deepStrictEqual(results.anything, Either.right(true))
        strictEqual(emulator.httpRequests(), 1)
      })
    ))

  it.effect("halt stops at the first error: the rest come back NotExecuted and did not run", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const results = yield* Batch.run({
          first: Batch.command(ImChat.mute, { CHAT_ID: 1489 }),
          fails: Batch.command(ImChat.mute, { CHAT_ID: 2043 }),
          later: Batch.command(ImOpenLines.sessionModeSilent, { CHAT_ID: 2043, ACTIVATE: true })
        }, { halt: true }).pipe(Effect.provide(client(emulator)))
        deepStrictEqual(results.first, Either.right(true))
        assertTrue(Either.isLeft(results.fails))
        assertInstanceOf(results.fails.left, PortalError.AccessError)
        assertTrue(Either.isLeft(results.later))
        assertInstanceOf(results.later.left, Batch.NotExecuted)
        strictEqual(emulator.portal.chats.get(2043)!.silent, false)
        deepStrictEqual(emulator.journal.find((entry) => entry.method === "batch")?.params.halt, 1)
      })
    ))

  it.effect("above 50 commands the record is sent in chunks of 50, one after the other", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const commands = Object.fromEntries(
          range(120).map((i) => [`m${i}`, Batch.command(ImChat.mute, { CHAT_ID: 1489 })])
        )
        const results = yield* Batch.run(commands).pipe(Effect.provide(client(emulator)))
        strictEqual(Object.keys(results).length, 120)
        assertTrue(Object.values(results).every((result) => Either.isRight(result) && result.right === true))
        strictEqual(emulator.httpRequests(), 3)
        deepStrictEqual(
          emulator.journal.filter((entry) => entry.method === "batch").map((entry) =>
            Object.keys(entry.params.cmd as object).length
          ),
          [50, 50, 20]
        )
      })
    ))

  it.effect("without halt, chunks can be in flight at once (concurrency), each with its own results", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const commands = Object.fromEntries(
          range(120).map((i) => [`m${i}`, Batch.command(ImChat.mute, { CHAT_ID: i % 40 === 7 ? 2043 : 1489 })])
        )
        const results = yield* Batch.run(commands, { concurrency: "unbounded" }).pipe(
          Effect.provide(client(emulator))
        )
        strictEqual(emulator.httpRequests(), 3)
        strictEqual(Object.values(results).filter(Either.isRight).length, 117)
        for (const key of ["m7", "m47", "m87"]) {
          const result = results[key]!
          assertTrue(Either.isLeft(result) && result.left instanceof PortalError.AccessError, key)
        }
      })
    ))

  it.effect("with halt, an error in one chunk stops the later chunks from being sent", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const commands: Record<string, Batch.Command<boolean, unknown>> = {}
        for (const i of range(60)) commands[`m${i}`] = Batch.command(ImChat.mute, { CHAT_ID: i === 10 ? 2043 : 1489 })
        const results = yield* Batch.run(commands, { halt: true }).pipe(Effect.provide(client(emulator)))
        strictEqual(emulator.httpRequests(), 1)
        assertTrue(Either.isRight(results.m9!))
        assertTrue(Either.isLeft(results.m10!))
        assertTrue(Either.isLeft(results.m55!) && results.m55.left instanceof Batch.NotExecuted)
      })
    ))

  it.effect("bad params and numeric keys fail before any I/O", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const badParams = yield* Effect.flip(
          Batch.run({ a: Batch.command(ImChat.mute, {}) }).pipe(Effect.provide(client(emulator)))
        )
        assertInstanceOf(badParams, PortalError.InvalidParams)
        strictEqual(badParams.field, "CHAT_ID")
        const numeric = yield* Effect.flip(
          Batch.run({ 0: Batch.command(ImChat.mute, { CHAT_ID: 1489 }) }).pipe(Effect.provide(client(emulator)))
        )
        assertInstanceOf(numeric, PortalError.InvalidParams)
        strictEqual(numeric.field, "cmd.0")
        strictEqual(emulator.httpRequests(), 0)
      })
    ))
})
