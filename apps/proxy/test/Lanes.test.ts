/**
 * Each client in its own lane, over real HTTP against the emulator: a client over its own bucket gets the portal's
 * `503 QUERY_LIMIT_EXCEEDED` at once and others are not touched; a client's backlog does not starve another client
 * (the fair queue); and a hostile client's payloads, mixed with innocent calls of other clients coalesced into the
 * same batches, fail alone or are stripped, while every innocent call succeeds.
 */
import { Emulator, Handlers } from "@bitrix24-effect/emulator"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { client, config, portal, post, serve, start, waitFor, webhookOf } from "./helpers.js"

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
    "a client with 30 calls queued does not delay another client's 4 calls behind its backlog",
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        // Two calls in the transport at a time (one batch of 2), each request answered after 300 ms: the busy
        // client's backlog builds up however slowly a loaded machine delivers its calls.
        const { base, portals } = yield* start(config([
          portal("main", webhookOf(emulator), { batching: { maxBatchSize: 2 }, inflight: 2 })
        ], [client("1", "busy-client-secret", "main"), client("2", "quiet-client-secret", "main")]))
        const lanes = portals.get("main").lanes
        // The busy client's calls name the chat by CHAT_ID, the quiet client's by DIALOG_ID: the journal tells
        // them apart on the portal's side, whatever order the answers come back in.
        const busy = yield* Effect.fork(Effect.forEach(
          range(80),
          () => post(`${base}/rest/1/busy-client-secret/im.chat.mute`, { CHAT_ID: 1489 }),
          { concurrency: "unbounded" }
        ))
        yield* waitFor("30 busy calls queued", () => lanes.queuedOf("1") >= 30)
        const backlog = lanes.queuedOf("1")
        const from = emulator.journal.length
        const quiet = yield* Effect.fork(Effect.forEach(
          range(4),
          () => post(`${base}/rest/2/quiet-client-secret/im.chat.mute`, { DIALOG_ID: "chat1489" }),
          { concurrency: "unbounded" }
        ))
        yield* waitFor(
          "the quiet calls queued or sent",
          () => lanes.queuedOf("2") > 0 || emulator.journal.length > from
        )
        const quietAnswers = yield* quiet.await
        const busyAnswers = yield* busy.await
        expect(quietAnswers._tag === "Success" && quietAnswers.value.map((answer) => answer.status)).toEqual(
          [200, 200, 200, 200]
        )
        expect(busyAnswers._tag === "Success" && busyAnswers.value.every((answer) => answer.status === 200)).toBe(true)
        const after = emulator.journal.slice(from)
        const isQuiet = (entry: (typeof after)[number]) => entry.params["DIALOG_ID"] === "chat1489"
        expect(after.filter(isQuiet).length).toBe(4)
        let lastQuiet = after.length - 1
        while (!isQuiet(after[lastQuiet]!)) lastQuiet--
        const busyFirst = after.slice(0, lastQuiet).filter((entry) => entry.params["CHAT_ID"] !== undefined).length
        // In turns: about one busy call per quiet one (and the calls already in the transport) ran before the last
        // quiet call, not the backlog ahead of them: first come, first served would run all of it first.
        expect(backlog).toBeGreaterThanOrEqual(30)
        expect(busyFirst).toBeLessThanOrEqual(15)
      }).pipe(Effect.provide(Emulator.layer({ latency: { ms: 300 } }))),
    90_000
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
        // The hostile calls were answered too, each for itself (the 2 MB body over the proxy's 1 MiB limit: 413).
        expect(answers.slice(0, attacks.length).map((answer) => answer.status)).toEqual([400, 200, 200, 413, 400, 200])
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
