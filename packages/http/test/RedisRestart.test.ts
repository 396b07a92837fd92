/**
 * Redis restarted under load: 3 library worker processes (test/workers.ts) share one portal's leaky bucket through a
 * private redis-server, which is killed (its data is gone) and started again twice while they call, once briefly and
 * once for longer than the workers' wait bound. The emulator's journal shows no call beyond the bucket, and every call
 * ends as documented: it succeeds, or it fails with StateUnavailable having sent nothing.
 */
import { Emulator } from "@bitrix24-effect/emulator"
import { describe, it } from "@effect/vitest"
import { assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import { limitErrors } from "./emulated.js"
import { privateServer, uniquePrefix } from "./redis.js"
import { spawnWorker } from "./workers.js"

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

describe("Redis restarted under load", () => {
  it.scopedLive(
    "no call exceeds the bucket; calls caught by the outage fail with StateUnavailable, the rest succeed",
    () =>
      Effect.gen(function*() {
        const server = yield* privateServer
        // A bucket of 20 draining 10 per second, on the portal and in the workers' mirror.
        const bucket = { size: 20, drainPerSecond: 10 }
        const emulator = yield* Emulator.make({ limits: { bucket } })
        const prefix = uniquePrefix()
        const workers = yield* Effect.all(
          range(3).map(() =>
            spawnWorker({
              redisUrl: server.url,
              prefix,
              wait: "1500 millis",
              bucket,
              calls: 40,
              concurrency: 10,
              portal: { kind: "webhook", url: `${emulator.url}/rest/1/${emulator.credentials.webhooks[0]!.code}/` }
            })
          )
        )
        yield* Effect.all(workers.map((worker) => worker.ready), { concurrency: "unbounded" })
        yield* Effect.forEach(workers, (worker) => worker.go)
        const journalReaches = (n: number) =>
          Effect.sync(() => emulator.journal.length).pipe(
            Effect.repeat({ until: (length) => length >= n, schedule: Schedule.spaced("20 millis") })
          )

        // A restart: turns reserved in the lost dataset are taken again, and the new one starts without a burst.
        yield* journalReaches(25)
        yield* Effect.promise(server.kill)
        yield* Effect.sleep("300 millis")
        yield* Effect.promise(server.start)
        // An outage longer than the wait bound (1.5 s): the calls waiting for it fail, nothing sent.
        yield* journalReaches(60)
        yield* Effect.promise(server.kill)
        yield* Effect.sleep("3 seconds")
        yield* Effect.promise(server.start)
        const back = Date.now()

        const results = yield* Effect.all(workers.map((worker) => worker.done), { concurrency: "unbounded" })
        deepStrictEqual(limitErrors(emulator), [], "no QUERY_LIMIT_EXCEEDED on the wire")
        const ok = results.reduce((sum, result) => sum + result.ok, 0)
        const unavailable = results.reduce((sum, result) => sum + (result.failed.StateUnavailable ?? 0), 0)
        deepStrictEqual(
          results.map((result) => Object.keys(result.failed).filter((name) => name !== "StateUnavailable")),
          [[], [], []],
          "no other failure"
        )
        strictEqual(ok + unavailable, 120)
        assertTrue(unavailable > 0, "the long outage failed the calls waiting for it")
        strictEqual(emulator.journal.length, ok, "every call that failed sent nothing")
        assertTrue(emulator.journal.some((entry) => entry.at > back), "calls went on once Redis was back")
      }),
    120_000
  )
})
