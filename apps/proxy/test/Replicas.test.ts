/**
 * Replicas on one Redis (`B24_REDIS_URL`), as separate OS processes in front of one emulator with its leaky bucket on:
 * the replicas share one bucket (no `QUERY_LIMIT_EXCEEDED` reaches the portal's journal while calls are spread over
 * all of them), and each replica's readiness includes Redis (lost: 503 naming it; back: 200).
 *
 * Redis: CI's (`B24_TEST_REDIS_URL`), else a private redis-server (the http package's test support) for this file.
 */
import { Emulator } from "@bitrix24-effect/emulator"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { startServer } from "../../../packages/http/test/redisProcess.js"
import { post, request } from "./helpers.js"
import { spawnProxy } from "./proxyProcess.js"

const secret = "replica-client-secret"

/** A private redis-server for the scope. */
const privateRedis = Effect.acquireRelease(Effect.promise(startServer), (server) => Effect.promise(server.kill))

/** The Redis of this run: CI's, else a private one. */
const redisUrl = Effect.suspend(() => {
  const given = process.env["B24_TEST_REDIS_URL"]?.trim()
  return given !== undefined && given.length > 0 ? Effect.succeed(given) : Effect.map(privateRedis, (s) => s.url)
})

/**
 * One portal (the emulator's webhook from UPSTREAM_WEBHOOK, the bucket given with no headroom, no batching), one
 * client without a limit.
 */
const configFile = (bucket: string) => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "b24-proxy-replicas-"))
  const file = Path.join(dir, "b24-proxy.yaml")
  Fs.writeFileSync(
    file,
    `portals:\n  main:\n    webhook: { env: UPSTREAM_WEBHOOK }\n    bucket: "${bucket}"\n    headroom: 0\n    batching: false\n` +
      `clients:\n  - id: 1\n    secret: ${secret}\n    limit: "off"\n`
  )
  return file
}

describe("replicas on one Redis", () => {
  it.scopedLive(
    "three replicas share one bucket: 60 calls spread over them, 0 QUERY_LIMIT_EXCEEDED on the wire",
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const url = yield* redisUrl
        const env = {
          B24_PROXY_CONFIG: configFile("10/5"),
          UPSTREAM_WEBHOOK: Redacted.value(emulator.webhookUrl),
          B24_REDIS_URL: url,
          B24_REDIS_PREFIX: `test:${Crypto.randomUUID()}:`,
          B24_PROXY_LOG_LEVEL: "warning"
        }
        const replicas = yield* Effect.all([spawnProxy(env), spawnProxy(env), spawnProxy(env)], {
          concurrency: "unbounded"
        })
        for (const replica of replicas) {
          const ready = yield* request(`${replica.base}/readyz`)
          expect(ready.json.checks.map((check: { name: string }) => check.name)).toEqual(["portal:main", "redis"])
          expect(ready.status).toBe(200)
        }
        const from = emulator.journal.length
        const answers = yield* Effect.forEach(
          Array.from({ length: 60 }, (_, i) => i),
          (i) => post(`${replicas[i % 3]!.base}/rest/1/${secret}/im.chat.mute`, { CHAT_ID: 1489 }),
          { concurrency: "unbounded" }
        )
        expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200))
        const wire = emulator.journal.slice(from)
        expect(wire.filter((entry) => entry.error === "QUERY_LIMIT_EXCEEDED")).toEqual([])
        expect(wire.filter((entry) => entry.method === "im.chat.mute" && entry.executed).length).toBe(60)
        // The portal's bucket holds 20 where the replicas keep to 10 together: room for calls a loaded machine
        // delays and then sends close together, never for three replicas that each believe they own all 10.
      }).pipe(Effect.provide(Emulator.layer({ limits: { bucket: { size: 20, drainPerSecond: 5 } } }))),
    300_000
  )

  it.scopedLive("readiness includes Redis: lost, 503 naming it; back, 200", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const redis = yield* privateRedis
      const replica = yield* spawnProxy({
        B24_PROXY_CONFIG: configFile("off"),
        UPSTREAM_WEBHOOK: Redacted.value(emulator.webhookUrl),
        B24_REDIS_URL: redis.url,
        B24_PROXY_LOG_LEVEL: "error"
      })
      expect((yield* request(`${replica.base}/readyz`)).status).toBe(200)
      yield* Effect.promise(redis.kill)
      let down = yield* request(`${replica.base}/readyz`)
      while (down.status === 200) {
        down = yield* Effect.zipRight(Effect.sleep("100 millis"), request(`${replica.base}/readyz`))
      }
      expect(down.status).toBe(503)
      expect(down.json.checks).toContainEqual({ name: "redis", ok: false, reason: "Redis cannot be reached" })
      expect(down.text).not.toContain(redis.url)
      yield* Effect.promise(redis.start)
      let up = down
      while (up.status !== 200) {
        up = yield* Effect.zipRight(Effect.sleep("100 millis"), request(`${replica.base}/readyz`))
      }
      expect(up.json.status).toBe("ready")
    }).pipe(Effect.provide(Emulator.layer())), 180_000)
})
