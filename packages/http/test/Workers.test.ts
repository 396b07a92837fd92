/**
 * Library workers in separate OS processes against one Redis and one emulator (test/workers.ts): N processes holding
 * an expired OAuth token make exactly one refresh and then all use the rotated pair; a refresh whose holder is
 * killed holds the others back only until its lock expires, and nothing needs re-authorization.
 */
import type { Emulator as EmulatorService } from "@bitrix24-effect/emulator"
import { Emulator } from "@bitrix24-effect/emulator"
import { describe, it } from "@effect/vitest"
import { assertFalse, assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as SharedState from "../src/SharedState.js"
import * as TokenStore from "../src/TokenStore.js"
import { redisUrl, uniquePrefix } from "./redis.js"
import { spawnWorker, type WorkerConfig } from "./workers.js"

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

/** The tokens of user 1 in Redis under `key`, with the local expiry given; answers the store and the issued pair. */
const seed = (emulator: EmulatorService.Service, prefix: string, key: string, expiresAt: number) =>
  Effect.gen(function*() {
    const state = yield* Layer.build(SharedState.layerRedis({ url: redisUrl(), prefix }))
    const store = Context.get(state, TokenStore.TokenStore)
    const issued = emulator.oauth.issue(1)
    yield* store.set(key, {
      accessToken: issued.accessToken,
      refreshToken: issued.refreshToken,
      expiresAt,
      restUrl: `${emulator.url}/rest/`
    })
    return { store, issued }
  })

const oauthWorker = (
  emulator: EmulatorService.Service,
  prefix: string,
  options: { readonly calls: number; readonly refreshTimeout?: string }
): WorkerConfig => ({
  redisUrl: Redacted.value(redisUrl()),
  prefix,
  bucket: "off",
  calls: options.calls,
  concurrency: options.calls,
  portal: {
    kind: "oauth",
    key: "portal",
    clientId: emulator.oauth.clientId,
    clientSecret: Redacted.value(emulator.oauth.clientSecret),
    tokenUrl: emulator.oauth.tokenUrl,
    refreshTimeout: options.refreshTimeout
  }
})

/** Requests to the token endpoint: every HTTP request the emulator received that is not a REST call. */
const tokenRequests = (emulator: EmulatorService.Service) => emulator.httpRequests() - emulator.journal.length

describe("3 library worker processes share one OAuth token pair through Redis", () => {
  for (
    const variant of [
      { name: "the stored expiry has passed: refreshed ahead", expiresIn: -60_000, expiredOnTheWire: 0 },
      {
        name: "the portal answers expired_token first: renewed, then replayed",
        expiresIn: 3_600_000,
        expiredOnTheWire: 90
      }
    ]
  ) {
    it.scopedLive(
      `${variant.name}: 30 concurrent calls each, exactly one refresh, every call succeeds`,
      () =>
        Effect.gen(function*() {
          const emulator = yield* Emulator.make({ clock: "manual", limits: { bucket: "off" } })
          const prefix = uniquePrefix()
          const { issued, store } = yield* seed(emulator, prefix, "portal", Date.now() + variant.expiresIn)
          // An hour passes on the portal: the access token it issued has expired. The OAuth server takes half a second
          // to answer, so the processes' refreshes would overlap.
          emulator.clock.advance(3_601_000)
          emulator.setFaults([{ kind: "latency", method: "oauth/token", ms: 500 }])
          const workers = yield* Effect.all(
            range(3).map(() => spawnWorker(oauthWorker(emulator, prefix, { calls: 30 })))
          )
          yield* Effect.all(workers.map((worker) => worker.ready), { concurrency: "unbounded" })
          yield* Effect.forEach(workers, (worker) => worker.go)
          const results = yield* Effect.all(workers.map((worker) => worker.done), { concurrency: "unbounded" })

          deepStrictEqual(results.map((result) => [result.ok, result.failed]), range(3).map(() => [30, {}]))
          strictEqual(emulator.oauth.refreshes(), 1, "exactly one refresh")
          strictEqual(tokenRequests(emulator), 1, "one request to the token endpoint: no invalid_grant")
          const calls = emulator.journal.filter((entry) => entry.method === "im.chat.mute")
          strictEqual(calls.filter((entry) => entry.error === "expired_token").length, variant.expiredOnTheWire)
          strictEqual(calls.filter((entry) => entry.status === 200).length, 90)
          const stored = Option.getOrThrow(yield* store.get("portal"))
          assertFalse(Redacted.value(stored.refreshToken) === Redacted.value(issued.refreshToken), "the pair rotated")
        }),
      120_000
    )
  }

  it.scopedLive(
    "the lock holder is killed mid-refresh: the others go on once its lock expires; no re-authorization",
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make({ clock: "manual", limits: { bucket: "off" } })
        const prefix = uniquePrefix()
        const { store } = yield* seed(emulator, prefix, "portal", Date.now() - 60_000)
        emulator.clock.advance(3_601_000)
        // The OAuth server is slow to answer the first refresh: its holder is killed while it waits.
        emulator.setFaults([{ kind: "latency", method: "oauth/token", ms: 60_000, times: 1 }])
        // A refresh times out after 4 s, so the lock lives 9 s.
        const holder = yield* spawnWorker(oauthWorker(emulator, prefix, { calls: 1, refreshTimeout: "4 seconds" }))
        yield* holder.ready
        yield* holder.go
        yield* Effect.sync(() => tokenRequests(emulator)).pipe(
          Effect.repeat({ until: (requests) => requests >= 1, schedule: Schedule.spaced("10 millis") })
        )
        const lockedAt = Date.now()
        yield* holder.kill

        const others = yield* Effect.all(
          range(2).map(() => spawnWorker(oauthWorker(emulator, prefix, { calls: 10, refreshTimeout: "4 seconds" })))
        )
        yield* Effect.all(others.map((worker) => worker.ready), { concurrency: "unbounded" })
        yield* Effect.forEach(others, (worker) => worker.go)
        const results = yield* Effect.all(others.map((worker) => worker.done), { concurrency: "unbounded" })

        deepStrictEqual(results.map((result) => [result.ok, result.failed]), [[10, {}], [10, {}]])
        strictEqual(emulator.oauth.refreshes(), 1, "one refresh completed: the killed holder's never ran")
        strictEqual(tokenRequests(emulator), 2, "the killed holder's request and one more: no invalid_grant")
        const waited = Math.min(...results.map((result) => result.finishedAt)) - lockedAt
        assertTrue(waited >= 7_000, `the others went on ${waited} ms after the holder took the lock (it lives 9 s)`)
        assertTrue(Option.isSome(yield* store.get("portal")))
      }),
    120_000
  )
})
