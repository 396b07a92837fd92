/**
 * SharedState over a real Redis (test/redis.ts): the leaky bucket shared by separate connections (as separate
 * processes would hold) against the emulator's bucket, its state after Redis loses its data, the operating budget's
 * store (the same contract as the in-memory one), the OAuth tokens sealed at rest with a refresh lock and a fenced
 * save, no secret in any key, and the failure semantics: Redis out of reach at start, lost while running, back.
 */
import { ImChat } from "@bitrix24-effect/core"
import { Emulator } from "@bitrix24-effect/emulator"
import * as RateLimiter from "@effect/experimental/RateLimiter"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, it } from "@effect/vitest"
import { assertFalse, assertInstanceOf, assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Crypto from "node:crypto"
import * as Bitrix24Http from "../src/Bitrix24Http.js"
import * as OAuth from "../src/OAuth.js"
import * as OperatingBudget from "../src/OperatingBudget.js"
import * as PortalLimits from "../src/PortalLimits.js"
import * as RetryPolicy from "../src/RetryPolicy.js"
import * as SharedState from "../src/SharedState.js"
import * as TokenStore from "../src/TokenStore.js"
import { limitErrors } from "./emulated.js"
import { dump, freePort, privateServer, rawClient, redisUrl, uniquePrefix } from "./redis.js"

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

/** Builds a layer for the rest of the test's scope and answers its services. */
const build = <A, E>(layer: Layer.Layer<A, E>) => Layer.build(layer)

const tokens = (n: number): TokenStore.Tokens => ({
  accessToken: Redacted.make(`access-secret-${n}`),
  refreshToken: Redacted.make(`refresh-secret-${n}`),
  expiresAt: 1_000_000 + n,
  restUrl: "https://x.bitrix24.com/rest/",
  memberId: "member-1"
})

const plain = (value: Option.Option<TokenStore.Tokens>) =>
  Option.map(
    value,
    (t) => ({ ...t, accessToken: Redacted.value(t.accessToken), refreshToken: Redacted.value(t.refreshToken) })
  )

const tokenStore = (options: Partial<SharedState.Options> & { readonly prefix: string }) =>
  Effect.map(build(SharedState.layerRedis({ url: redisUrl(), ...options })), Context.get(TokenStore.TokenStore))

describe("SharedState.layerRedis: OAuth tokens", () => {
  it.scopedLive("are sealed at rest with AES-256-GCM and bound to their key; another key, no key or an altered record fail", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix()
      const key = Redacted.make(Crypto.randomBytes(32).toString("base64"))
      const sealed = yield* tokenStore({ prefix, encryptionKey: key })
      yield* sealed.set("portal-a", tokens(1))
      deepStrictEqual(plain(yield* sealed.get("portal-a")), plain(Option.some(tokens(1))))

      const raw = yield* rawClient(redisUrl())
      const record = (yield* Effect.promise(() => raw.hget(`${prefix}tokens:portal-a`, "data")))!
      assertFalse(record.includes("secret-1"), "no token in clear")
      strictEqual(JSON.parse(record).sealed.alg, "A256GCM")

      const other = yield* tokenStore({ prefix, encryptionKey: Redacted.make(Crypto.randomBytes(32).toString("hex")) })
      assertTrue((yield* Effect.flip(other.get("portal-a"))).message.includes("sealed with another key"))
      const none = yield* tokenStore({ prefix })
      assertTrue((yield* Effect.flip(none.get("portal-a"))).message.includes("set the encryption key"))

      // The same record under another key name does not open: the key name is authenticated.
      yield* Effect.promise(() => raw.hset(`${prefix}tokens:portal-b`, "data", record))
      assertTrue((yield* Effect.flip(sealed.get("portal-b"))).message.includes("do not authenticate"))
      const altered = JSON.parse(record)
      altered.sealed.data = Buffer.from("x".repeat(40)).toString("base64")
      yield* Effect.promise(() => raw.hset(`${prefix}tokens:portal-a`, "data", JSON.stringify(altered)))
      const error = yield* Effect.flip(sealed.get("portal-a"))
      assertInstanceOf(error, TokenStore.TokenStoreError)
      assertTrue(error.message.includes("do not authenticate"))
    }))

  it.scopedLive("a record stored in clear is still read once a key is set, and sealed at its next write", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix()
      const clear = yield* tokenStore({ prefix })
      yield* clear.set("k", tokens(1))
      const raw = yield* rawClient(redisUrl())
      assertTrue((yield* Effect.promise(() => raw.hget(`${prefix}tokens:k`, "data")))!.includes("secret-1"))
      const sealed = yield* tokenStore({ prefix, encryptionKey: Redacted.make("ab".repeat(32)) })
      deepStrictEqual(plain(yield* sealed.get("k")), plain(Option.some(tokens(1))))
      yield* sealed.set("k", tokens(2))
      assertFalse((yield* Effect.promise(() => raw.hget(`${prefix}tokens:k`, "data")))!.includes("secret-2"))
    }))

  it.scopedLive("the refresh lock: one holder at a time across connections, and a dead holder's lock expires", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix()
      const a = yield* tokenStore({ prefix })
      const b = yield* tokenStore({ prefix })
      const order: Array<string> = []
      const hold = (store: TokenStore.Service, name: string) =>
        store.withRefreshLock("k", Duration.seconds(5), () =>
          Effect.gen(function*() {
            order.push(`${name} in`)
            yield* Effect.sleep("300 millis")
            order.push(`${name} out`)
          }))
      yield* Effect.all([hold(a, "a"), Effect.delay(hold(b, "b"), "50 millis")], { concurrency: "unbounded" })
      deepStrictEqual(order, ["a in", "a out", "b in", "b out"])

      // A holder that died: its lock (with a fencing value) stays until it expires, then the next one takes it.
      const raw = yield* rawClient(redisUrl())
      yield* Effect.promise(() => raw.set(`${prefix}tokens:k:lock`, "99:dead-holder", "PX", 700))
      const started = Date.now()
      yield* b.withRefreshLock("k", Duration.seconds(5), () => Effect.void)
      const waited = Date.now() - started
      assertTrue(waited >= 550 && waited < 5_000, `waited ${waited} ms for the dead holder's lock to expire`)
    }))

  it.scopedLive("a holder whose lock expired cannot overwrite the pair a later holder saved (fenced save)", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix()
      const a = yield* tokenStore({ prefix })
      const b = yield* tokenStore({ prefix })
      yield* a.set("k", tokens(1))
      const aSaved = yield* a.withRefreshLock("k", Duration.millis(300), (save) =>
        Effect.gen(function*() {
          // a's lock lapses while it is slow; b takes the lock, refreshes and saves.
          yield* Effect.sleep("500 millis")
          const bSaved = yield* b.withRefreshLock("k", Duration.seconds(5), (saveB) => saveB(tokens(2)))
          assertTrue(bSaved)
          return yield* save(tokens(3))
        }))
      assertFalse(aSaved, "the stale holder's save is refused")
      deepStrictEqual(plain(yield* a.get("k")), plain(Option.some(tokens(2))))

      // A new authorization (`set`) is newer than any lock taken before it.
      const cSaved = yield* a.withRefreshLock(
        "k",
        Duration.seconds(5),
        (save) => Effect.zipRight(b.set("k", tokens(4)), save(tokens(5)))
      )
      assertFalse(cSaved)
      deepStrictEqual(plain(yield* a.get("k")), plain(Option.some(tokens(4))))

      // So is forgetting the tokens (an application removed from the portal): a refresh under way cannot restore them.
      // (`remove` comes to TokenStore.Service with the events work; the Redis store has it already.)
      const remove = (b as unknown as { readonly remove: (key: string) => Effect.Effect<void> }).remove
      const dSaved = yield* a.withRefreshLock(
        "k",
        Duration.seconds(5),
        (save) => Effect.zipRight(remove("k"), save(tokens(6)))
      )
      assertFalse(dSaved)
      strictEqual(Option.isNone(yield* a.get("k")), true)
    }))
})

/** The store contract, run against the in-memory store and Redis alike (live clock, windows of a few hundred ms). */
const budgetContract = (name: string, make: Effect.Effect<OperatingBudget.Store, unknown, Scope.Scope>) =>
  it.scopedLive(`${name}: keeps the larger sum within a window, replaces across windows, lapses at the reset, blocks`, () =>
    Effect.gen(function*() {
      const store = yield* make
      const used = (key: string) => Effect.map(store.get(key), Option.map((entry) => entry.used))
      strictEqual(Option.isNone(yield* store.get("m")), true)
      yield* store.record([["m", { used: 10.5, resetIn: 10_000 }]])
      yield* store.record([["m", { used: 4, resetIn: 10_000 }]]) // an older answer, arriving late
      deepStrictEqual(yield* used("m"), Option.some(10.5))
      yield* store.record([["m", { used: 2, resetIn: 30_000 }]]) // a new window
      deepStrictEqual(yield* used("m"), Option.some(2))
      const entry = Option.getOrThrow(yield* store.get("m"))
      assertTrue(entry.resetIn > 25_000 && entry.resetIn <= 30_000, `resetIn ${entry.resetIn}`)

      yield* store.record([["a", { used: 1, resetIn: 1_000 }], ["b", { used: 2, resetIn: 1_000 }]])
      deepStrictEqual([yield* used("a"), yield* used("b")], [Option.some(1), Option.some(2)])
      yield* Effect.sleep("1100 millis")
      strictEqual(Option.isNone(yield* store.get("a")), true, "the entry lapsed at its reset")

      yield* store.block("x", 480, 10_000)
      deepStrictEqual(yield* used("x"), Option.some(480))
      yield* store.block("m", 480, 10_000) // a known reset is kept
      assertTrue(Option.getOrThrow(yield* store.get("m")).resetIn > 20_000)
    }))

describe("the operating budget's store", () => {
  budgetContract("in memory", Effect.sync(OperatingBudget.makeStoreMemory))
  budgetContract(
    "in Redis",
    Effect.map(
      build(SharedState.layerRedis({ url: redisUrl(), prefix: uniquePrefix() })),
      Context.get(OperatingBudget.OperatingBudgetStore)
    )
  )
})

/** The webhook transport of user 1 over a shared-state layer, a bucket and the proven-refusals policy. */
const transport = (
  emulator: Emulator.Service,
  state: Layer.Layer<SharedState.Services, unknown>,
  bucket: PortalLimits.Bucket
) =>
  Bitrix24Http.layerWebhook(emulator.webhookUrl).pipe(
    Layer.provide(Layer.mergeAll(state, PortalLimits.layer({ bucket }), RetryPolicy.layerDefault)),
    Layer.provide(NodeHttpClient.layerUndici)
  )

const mutes = (n: number) =>
  Effect.forEach(range(n), () => ImChat.mute({ CHAT_ID: 1489 }), { concurrency: "unbounded" })

describe("SharedState.layerRedis: the leaky bucket", () => {
  const bucket = { size: 20, drainPerSecond: 20 }

  it.scopedLive("two connections (as two processes) share one bucket: 80 concurrent calls, no QUERY_LIMIT_EXCEEDED", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ limits: { bucket } })
      const prefix = uniquePrefix()
      const one = transport(emulator, SharedState.layerRedis({ url: redisUrl(), prefix }), bucket)
      const two = transport(emulator, SharedState.layerRedis({ url: redisUrl(), prefix }), bucket)
      yield* Effect.all([Effect.provide(mutes(40), one), Effect.provide(mutes(40), two)], { concurrency: "unbounded" })
      deepStrictEqual(limitErrors(emulator), [])
      strictEqual(emulator.journal.length, 80)
    }))

  it.scopedLive("the same two as separate memories each believe they own the bucket and meet 503", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ limits: { bucket } })
      const one = transport(emulator, SharedState.layerMemory, bucket)
      const two = transport(emulator, SharedState.layerMemory, bucket)
      yield* Effect.all([Effect.provide(mutes(40), one), Effect.provide(mutes(40), two)], { concurrency: "unbounded" })
      assertTrue(limitErrors(emulator).length > 0, "two private buckets overflow the portal's one")
    }))

  it.scopedLive("provided in front of Bitrix24Http.layerDefaults, it replaces the in-memory bucket and budget", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ limits: { bucket: "off" } })
      const prefix = uniquePrefix()
      const portal = Bitrix24Http.layerWebhook(emulator.webhookUrl).pipe(
        Layer.provide(SharedState.layerRedis({ url: redisUrl(), prefix })),
        Layer.provide(Bitrix24Http.layerDefaults),
        Layer.provide(NodeHttpClient.layerUndici)
      )
      yield* Effect.provide(mutes(2), portal)
      const raw = yield* rawClient(redisUrl())
      const host = new URL(emulator.url).host
      deepStrictEqual((yield* dump(raw, prefix)).map(([key]) => key.slice(prefix.length)), [
        `portal:${host}:bucket`,
        `portal:${host}:bucket:epoch`,
        `portal:${host}:operating:webhook:1:im.chat.mute`
      ])
    }))

  it.scopedLive("after Redis loses its data, the bucket does not grant a second burst", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix()
      const services = yield* build(SharedState.layerRedis({ url: redisUrl(), prefix }))
      const limiter = Context.get(services, RateLimiter.RateLimiter)
      // 10 tokens refilled one per 50 ms: a full refill takes 500 ms.
      const consume = limiter.consume({
        algorithm: "token-bucket",
        onExceeded: "delay",
        key: "portal:p:bucket",
        limit: 10,
        window: "500 millis"
      })
      const burst = Effect.forEach(range(10), () => Effect.map(consume, (result) => Duration.toMillis(result.delay)))
      yield* consume
      yield* Effect.sleep("600 millis") // the dataset is older than a full refill: the next burst is granted whole
      deepStrictEqual(yield* burst, range(10).map(() => 0))
      const raw = yield* rawClient(redisUrl())
      yield* Effect.promise(() => raw.del(`${prefix}portal:p:bucket`, `${prefix}portal:p:bucket:epoch`))
      // The data is gone (a restart without persistence): the portal may still count the burst just sent.
      const started = Date.now()
      yield* burst
      const elapsed = Date.now() - started
      assertTrue(elapsed >= 400, `the second burst was paced over ${elapsed} ms, not granted at once`)
    }))
})

describe("SharedState: failure semantics", () => {
  it.scopedLive("Redis out of reach at start: RedisUnavailable with host and port, never the password", () =>
    Effect.gen(function*() {
      const port = yield* Effect.promise(freePort)
      const url = Redacted.make(`redis://:pa55w0rd@127.0.0.1:${port}`)
      const error = yield* Effect.flip(build(SharedState.layerRedis({ url, connectTimeout: "1 second" })))
      assertInstanceOf(error, SharedState.RedisUnavailable)
      strictEqual(error.address, `127.0.0.1:${port}`)
      assertFalse(`${error.message} ${JSON.stringify(error)}`.includes("pa55w0rd"))
      assertTrue(error.message.includes("B24_REDIS_FALLBACK=local"))
    }))

  it.scopedLive("B24_REDIS_FALLBACK=local: a loud warning, then this process's own state", () =>
    Effect.gen(function*() {
      const port = yield* Effect.promise(freePort)
      const logs: Array<string> = []
      const capture = Logger.replace(
        Logger.defaultLogger,
        Logger.make(({ logLevel, message }) => logs.push(`${logLevel.label} ${String(message)}`))
      )
      const settings = ConfigProvider.fromMap(
        new Map([["B24_REDIS_URL", `redis://127.0.0.1:${port}`], ["B24_REDIS_FALLBACK", "local"]])
      )
      const services = yield* Effect.provide(
        build(SharedState.layerConfig().pipe(Layer.provide(Layer.setConfigProvider(settings)))),
        capture
      )
      strictEqual(Context.get(services, SharedState.SharedState).backend, "local")
      assertTrue(logs.some((line) => line.startsWith("WARN") && line.includes("no longer share")), logs.join("\n"))
      yield* Context.get(services, TokenStore.TokenStore).set("k", tokens(1))
    }))

  it.scopedLive("layerConfig: memory without B24_REDIS_URL, Redis with it; a bad key is a config error", () =>
    Effect.gen(function*() {
      const withEnv = (entries: ReadonlyArray<readonly [string, string]>) =>
        build(
          SharedState.layerConfig().pipe(
            Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(entries))))
          )
        )
      const memory = yield* withEnv([])
      strictEqual(Context.get(memory, SharedState.SharedState).backend, "memory")
      const redis = yield* withEnv([["B24_REDIS_URL", Redacted.value(redisUrl())], [
        "B24_REDIS_PREFIX",
        uniquePrefix()
      ]])
      strictEqual(Context.get(redis, SharedState.SharedState).backend, "redis")
      strictEqual(yield* Context.get(redis, SharedState.SharedState).available, true)
      const bad = yield* Effect.flip(
        withEnv([["B24_REDIS_URL", "redis://127.0.0.1:1"], ["B24_REDIS_ENCRYPTION_KEY", "short"]])
      )
      assertTrue(String(bad).includes("B24_REDIS_ENCRYPTION_KEY"))
      assertFalse(String(bad).includes("short"))
      const invalid = yield* Effect.flip(
        build(SharedState.layerRedis({ url: redisUrl(), encryptionKey: Redacted.make("not a key") }))
      )
      assertInstanceOf(invalid, SharedState.InvalidEncryptionKey)
    }))

  it.scopedLive("Redis lost while running: calls wait up to the bound, fail with StateUnavailable, nothing sent; back, they succeed", () =>
    Effect.gen(function*() {
      const server = yield* privateServer
      const emulator = yield* Emulator.make({ limits: { bucket: "off" } })
      const state = yield* build(
        SharedState.layerRedis({ url: Redacted.make(server.url), prefix: uniquePrefix(), wait: "2 seconds" })
      )
      const status = Context.get(state, SharedState.SharedState)
      const portal = yield* build(transport(emulator, Layer.succeedContext(state), "standard"))
      const call = Effect.provide(ImChat.mute({ CHAT_ID: 1489 }), portal)
      strictEqual(yield* call, true)

      yield* Effect.promise(server.kill)
      // The connection notices the loss when its socket closes.
      yield* status.available.pipe(Effect.repeat({ until: (up) => !up, schedule: Schedule.spaced("10 millis") }))
      strictEqual(yield* status.available, false)
      const started = Date.now()
      const error = yield* Effect.flip(call)
      const waited = Date.now() - started
      assertInstanceOf(error, RetryPolicy.StateUnavailable)
      strictEqual(error.method, "im.chat.mute")
      assertTrue(waited >= 1_900 && waited < 10_000, `failed after ${waited} ms`)
      strictEqual(emulator.journal.length, 1, "nothing reached the portal without its bucket token")

      // A call that starts while Redis is down, and Redis is back within the bound (the client reconnects at most a
      // second apart): the call waits and succeeds.
      const pending = yield* Effect.fork(call)
      yield* Effect.promise(server.start)
      strictEqual(yield* Fiber.join(pending), true)
      strictEqual(yield* status.available, true)
      strictEqual(emulator.journal.length, 2)
    }))
})

describe("no secret in any key", () => {
  it.scopedLive("after webhook and OAuth calls: keys name the portal, the auth entity and the method only", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ limits: { bucket: "standard" } })
      const prefix = uniquePrefix()
      const state = yield* build(
        SharedState.layerRedis({ url: redisUrl(), prefix, encryptionKey: Redacted.make("cd".repeat(32)) })
      )
      const shared = Layer.succeedContext(state)
      yield* Effect.provide(mutes(3), transport(emulator, shared, "standard"))
      const issued = emulator.oauth.issue(1)
      yield* Context.get(state, TokenStore.TokenStore).set("portal-1", {
        accessToken: issued.accessToken,
        refreshToken: issued.refreshToken,
        expiresAt: Date.now() - 1000, // expired: the first call refreshes through the lock
        restUrl: `${emulator.url}/rest/`
      })
      const oauth = Bitrix24Http.layerOAuth({ key: "portal-1" }).pipe(
        Layer.provide(
          Layer.mergeAll(
            shared,
            OAuth.layer({
              clientId: emulator.oauth.clientId,
              clientSecret: emulator.oauth.clientSecret,
              tokenUrl: emulator.oauth.tokenUrl
            }),
            PortalLimits.layer(),
            RetryPolicy.layerDefault
          )
        ),
        Layer.provide(NodeHttpClient.layerUndici)
      )
      yield* Effect.provide(mutes(3), oauth)
      strictEqual(emulator.oauth.refreshes(), 1)

      const raw = yield* rawClient(redisUrl())
      const entries = yield* dump(raw, prefix)
      const keys = entries.map(([key]) => key.slice(prefix.length))
      const host = new URL(emulator.url).host
      deepStrictEqual(keys, [
        `portal:${host}:bucket`,
        `portal:${host}:bucket:epoch`,
        `portal:${host}:operating:app:${emulator.oauth.clientId}:im.chat.mute`,
        `portal:${host}:operating:webhook:1:im.chat.mute`,
        "tokens:portal-1",
        "tokens:portal-1:fence"
      ])
      const secrets = [
        ...emulator.credentials.webhooks.map((webhook) => webhook.code),
        Redacted.value(emulator.oauth.clientSecret),
        Redacted.value(issued.accessToken),
        Redacted.value(issued.refreshToken)
      ]
      const everything = JSON.stringify(entries)
      for (const secret of secrets) assertFalse(everything.includes(secret), "no secret in a key or a value")
    }))
})
