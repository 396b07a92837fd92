/**
 * Each client in its own lane, over real HTTP against the emulator: a client over its own bucket gets the portal's
 * `503 QUERY_LIMIT_EXCEEDED` at once and others are not touched; a client's backlog does not starve another client
 * (the fair queue); and a hostile client's payloads, mixed with innocent calls of other clients coalesced into the
 * same batches, fail alone or are stripped, while every innocent call succeeds.
 */
import { Emulator, Handlers } from "@bitrix24-effect/emulator"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { client, config, portal, post, serve, start, webhookOf } from "./helpers.js"

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

describe("per-client limits", () => {
  it.scopedLive("over its own bucket a client gets 503 QUERY_LIMIT_EXCEEDED at once; another client is not touched", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const base = yield* serve(config([portal("main", webhookOf(emulator))], [
        client("1", "limited-secret-1", "main", { limit: { size: 3, drainPerSecond: 0.1 } }),
        client("2", "free-client-secret", "main")
      ]))
      const limited = yield* Effect.forEach(
        range(5),
        () => post(`${base}/rest/1/limited-secret-1/im.chat.mute`, { CHAT_ID: 1489 })
      )
      expect(limited.map((answer) => answer.status)).toEqual([200, 200, 200, 503, 503])
      expect(limited[3]!.json).toEqual({ error: "QUERY_LIMIT_EXCEEDED", error_description: "Too many requests" })
      const other = yield* Effect.forEach(
        range(5),
        () => post(`${base}/rest/2/free-client-secret/im.chat.mute`, { CHAT_ID: 1489 })
      )
      expect(other.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200])
      // The refused calls never reached the portal.
      expect(emulator.journal.length).toBe(8)
    }).pipe(Effect.provide(Emulator.layer())))
})

describe("fair sharing of a portal", () => {
  it.scopedLive(
    "a client with 40 calls queued does not delay another client's 4 calls behind its backlog",
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        // One batch of 2 in the transport at a time, and the portal's bucket drains 10 requests per second.
        const { base, portals } = yield* start(config([
          portal("main", webhookOf(emulator), {
            limits: { bucket: { size: 2, drainPerSecond: 10 }, headroom: 0 },
            batching: { maxBatchSize: 2 },
            inflight: 2
          })
        ], [client("1", "busy-client-secret", "main"), client("2", "quiet-client-secret", "main")]))
        const finished: Array<string> = []
        const send = (who: "busy" | "quiet", id: string) =>
          post(`${base}/rest/${id}/${who}-client-secret/im.chat.mute`, { CHAT_ID: 1489 }).pipe(
            Effect.tap((answer) => Effect.sync(() => finished.push(`${who}:${answer.status}`)))
          )
        const busy = yield* Effect.fork(
          Effect.forEach(range(40), () => send("busy", "1"), { concurrency: "unbounded" })
        )
        // Once at least 10 of the busy client's calls wait in the queue, the quiet client comes.
        const lanes = portals.get("main").lanes
        while (lanes.depth() < 10) yield* Effect.sleep("5 millis")
        const queuedAhead = lanes.depth()
        const busyBefore = finished.length
        yield* Effect.forEach(range(4), () => send("quiet", "2"), { concurrency: "unbounded" })
        const busyDuring = finished.filter((entry) => entry.startsWith("busy")).length - busyBefore
        yield* busy.await
        expect(finished.filter((entry) => entry.startsWith("quiet"))).toEqual(range(4).map(() => "quiet:200"))
        expect(finished.filter((entry) => entry.startsWith("busy")).length).toBe(40)
        expect(finished.every((entry) => entry.endsWith(":200"))).toBe(true)
        // In turns: about one busy call per quiet one went first, not the whole queue ahead of them (FIFO would).
        expect(queuedAhead).toBeGreaterThanOrEqual(10)
        expect(busyDuring).toBeLessThanOrEqual(6)
      }).pipe(Effect.provide(Emulator.layer())),
    60_000
  )
})

describe("isolation", () => {
  it.scopedLive(
    "deep nesting, huge values and unexpected params from one client; every innocent call succeeds",
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        // The first batch the portal sees fails as a whole (a 500): its idempotent calls are replayed alone.
        emulator.setFaults([{ kind: "internal-error", method: "batch", times: 1 }])
        const base = yield* serve(config([portal("main", webhookOf(emulator))], [
          client("66", "hostile-client-secret", "main", { methods: ["imopenlines.*", "im.*", "user.current"] }),
          client("1", "innocent-secret-one", "main"),
          client("2", "innocent-secret-two", "main")
        ]))
        const hostile = `${base}/rest/66/hostile-client-secret/`
        let nested: unknown = "x".repeat(64)
        for (let i = 0; i < 60; i++) nested = { a: nested, b: ["z".repeat(64)] }
        const attacks = [
          post(`${hostile}im.chat.mute.json`, `{"CHAT_ID":${"[".repeat(5000)}1489${"]".repeat(5000)}}`),
          post(`${hostile}imopenlines.session.mode.pinAll`, { NOISE: nested }),
          post(
            `${hostile}imopenlines.session.mode.unpinAll`,
            `X${"[a]".repeat(50)}=1&Y=${"w".repeat(5000)}`,
            "application/x-www-form-urlencoded"
          ),
          post(`${hostile}user.current`, { BLOB: "y".repeat(2_000_000), DEEP: nested }),
          post(`${hostile}im.chat.mute`, { CHAT_ID: 1489, DIALOG_ID: { $result: "[x]" }, MUTE: "$result[a][b]" }),
          post(`${hostile}batch`, { cmd: { a: `im.chat.mute?CHAT_ID=${"[".repeat(100)}`, b: "batch" } })
        ]
        const innocent = range(30).map((i) =>
          post(
            `${base}/rest/${i % 2 === 0 ? "1/innocent-secret-one" : "2/innocent-secret-two"}/im.chat.mute`,
            { CHAT_ID: 1489 }
          )
        )
        const answers = yield* Effect.all([...attacks, ...innocent], { concurrency: "unbounded" })
        const innocentAnswers = answers.slice(attacks.length)
        expect(innocentAnswers.map((answer) => [answer.status, answer.json.result])).toEqual(
          range(30).map(() => [200, true])
        )
        // The hostile calls were answered too, each for itself.
        expect(answers.slice(0, attacks.length).map((answer) => answer.status)).toEqual([400, 200, 200, 200, 400, 200])
        // pinAll and unpinAll went upstream without the params they do not declare.
        expect(
          emulator.journal.filter((entry) => entry.method.endsWith("pinAll")).map((entry) => entry.params)
        ).toEqual([{}, {}])
      }).pipe(Effect.provide(Emulator.layer({
        methods: { "user.current": { handler: () => Handlers.succeed({ ID: "66" }) } }
      }))),
    60_000
  )
})
