/**
 * The state that keeps a portal inside its limits, shared by every process that calls it: the leaky bucket (wire
 * sheet §3.1), the operating-time budget (§3.2) and the OAuth tokens with their refresh (§4). In one process's memory
 * each replica of a service, or each worker, believes it owns the whole bucket, and each refreshes the OAuth tokens
 * by itself (a refresh rotates the refresh token, so all but one then hold a dead one). With Redis they share one
 * bucket, one budget and one token pair per portal.
 *
 * {@link layerRedis} provides, over one Redis connection:
 * - `RateLimiter.RateLimiter` (`@effect/experimental`) over a Redis token bucket per portal;
 * - `OperatingBudget.OperatingBudgetStore`, one entry per portal, auth entity and method, updated atomically;
 * - `TokenStore.TokenStore`, with a refresh lock every process sees;
 * - {@link SharedState}, for readiness: whether Redis can be reached now.
 *
 * The transport layers require the first two (`Bitrix24Http.Policies`), `layerOAuth` the third: provide this layer in
 * front of `Bitrix24Http.layerDefaults` and every process of the portal shares them. {@link layerConfig} chooses Redis
 * when `B24_REDIS_URL` is set, else this process's memory ({@link layerMemory}).
 *
 * Keys (prefix `b24:` by default; `{portal}` is the portal's `member_id`, else its host; no key holds a secret):
 * - `b24:portal:{portal}:bucket` (hash) and `b24:portal:{portal}:bucket:epoch`: the leaky bucket;
 * - `b24:portal:{portal}:operating:{entity}:{method}` (hash): the operating time, `entity` being `webhook:{user_id}`
 *   or `app:{client_id}`;
 * - `b24:tokens:{key}` (hash: the pair, sealed when a key is configured, and the fence of its writer),
 *   `b24:tokens:{key}:lock` and `b24:tokens:{key}:fence`: the OAuth tokens stored under `key` (`OAuth.SessionOptions`).
 *
 * How it holds:
 * - **The bucket.** A token is taken in one Lua script on Redis's own clock (`TIME`), so processes with drifting
 *   clocks agree. A bucket with no state, new or lost with Redis's data (a restart without persistence, a flush),
 *   starts with only the tokens refilled since that dataset began: the portal's counter may still hold requests sent
 *   before, never older than a full refill (25 s for the standard bucket). A fresh Redis therefore starts at the drain
 *   rate, without the burst, for that long. A call waiting for a turn reserved ahead checks, when its turn comes, that
 *   the dataset is still the one it reserved in; if Redis lost its data meanwhile, it reserves again in the new one.
 *   `@effect/experimental`'s `RateLimiter/Redis` store is not used: it opens
 *   its own connection, counts time on each client's clock, and starts a lost bucket full, so a Redis restart under
 *   load would let a second burst through.
 * - **The refresh.** The lock is a `SET NX PX` with a fencing value (a counter incremented by every acquisition); the
 *   rotated pair is saved only if no pair was stored under a later fence, so a holder whose lock expired never
 *   overwrites a newer pair. The lock lives `timeout + 5 s` (`OAuth.SessionOptions`): a holder killed mid-refresh
 *   holds the others back no longer. A holder killed after the OAuth server answered but before its write loses that
 *   rotation (the window is one Redis round trip); nothing can recover it.
 * - **Tokens at rest** are sealed with AES-256-GCM (`node:crypto`) when an encryption key is given
 *   (`B24_REDIS_ENCRYPTION_KEY`: 32 bytes as 64 hex digits or base64), bound to their key name; records stored in
 *   clear before the key was set are still read, and sealed at their next write.
 *
 * Failure semantics:
 * - **Redis out of reach at start**: the layer fails with {@link RedisUnavailable} (host and port, never the URL's
 *   password); with `fallback: "local"` (`B24_REDIS_FALLBACK=local`) it logs a warning and runs on this process's
 *   memory instead (the portal's limits are then no longer shared, and OAuth tokens start empty).
 * - **Redis lost while running**: every operation tries again for up to `wait` (`B24_REDIS_WAIT`, default 10 s). A call
 *   waits for its bucket token that long and then fails with `RetryPolicy.StateUnavailable`, nothing sent: no call
 *   goes to the portal without its token. Calls that hold their token already go on. Recording operating time is not
 *   waited for (a report that cannot be stored is logged and dropped). {@link SharedState}'s `available` is false.
 * - **Redis back**: the connection comes back by itself (reconnecting every second at most) and so do the calls.
 *
 * Needs Redis 5 or later (scripts that call `TIME`), one server (or a primary with replicas); not Redis Cluster.
 *
 * @since 0.1.0
 */
import * as RateLimiter from "@effect/experimental/RateLimiter"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Crypto from "node:crypto"
import * as Redis from "./internal/redis.js"
import * as TokenCipher from "./internal/tokenCipher.js"
import * as OperatingBudget from "./OperatingBudget.js"
import * as PortalLimits from "./PortalLimits.js"
import * as TokenStore from "./TokenStore.js"

/**
 * Where the state lives and whether it can be reached now.
 * - `backend`: `redis`; `memory` (no Redis configured); `local` (Redis configured but out of reach at start, and
 *   `fallback: "local"`).
 * - `available`: false while Redis cannot be reached (a proxy's readiness); always true in memory.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly backend: "redis" | "memory" | "local"
  readonly available: Effect.Effect<boolean>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class SharedState extends Context.Tag("@bitrix24-effect/http/SharedState")<SharedState, Service>() {}

/**
 * Everything a shared-state layer provides.
 *
 * @since 0.1.0
 * @category models
 */
export type Services =
  | RateLimiter.RateLimiter
  | OperatingBudget.OperatingBudgetStore
  | TokenStore.TokenStore
  | SharedState

/**
 * Redis could not be reached at start. The message names its host and port, never the URL's user or password.
 *
 * @since 0.1.0
 * @category errors
 */
export class RedisUnavailable extends Schema.TaggedError<RedisUnavailable>("@bitrix24-effect/http/RedisUnavailable")(
  "RedisUnavailable",
  { address: Schema.String, description: Schema.String }
) {
  override get message(): string {
    return `Redis at ${this.address} cannot be reached (${this.description}); the portal's limits and OAuth tokens ` +
      `are shared through it. Start it, or set B24_REDIS_FALLBACK=local to run on this process's own state`
  }
}

/**
 * The encryption key for tokens at rest is not 32 bytes as 64 hex digits or base64. The message never echoes it.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidEncryptionKey extends Schema.TaggedError<InvalidEncryptionKey>(
  "@bitrix24-effect/http/InvalidEncryptionKey"
)("InvalidEncryptionKey", { reason: Schema.String }) {
  override get message(): string {
    return `invalid encryption key for tokens at rest: ${this.reason}`
  }
}

/**
 * Settings of {@link layerRedis}:
 * - `url`: `redis://[[user]:password@]host[:port][/db]`, or `rediss://` for TLS; kept `Redacted`.
 * - `prefix`: of every key (default `b24:`), to share one Redis between deployments.
 * - `encryptionKey`: seals tokens at rest with AES-256-GCM; 32 bytes as 64 hex digits or base64.
 * - `wait`: how long an operation waits for Redis before it fails (default 10 s).
 * - `connectTimeout`: for the connection at start (default 5 s).
 * - `fallback`: `"local"` to run on this process's memory, with a warning, when Redis cannot be reached at start
 *   (default `"none"`: fail with {@link RedisUnavailable}).
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly url: Redacted.Redacted<string>
  readonly prefix?: string | undefined
  readonly encryptionKey?: Redacted.Redacted<string> | undefined
  readonly wait?: Duration.DurationInput | undefined
  readonly connectTimeout?: Duration.DurationInput | undefined
  readonly fallback?: "local" | "none" | undefined
}

/**
 * The `RateLimiterStore` over the connection: keys under `prefix`, the epoch of a bucket next to it.
 *
 * A token taken ahead (`allowOverflow`, the RateLimiter's `delay` mode) is a turn reserved in this dataset. The store
 * waits for that turn itself and then checks that the dataset is still the one the turn was reserved in (its epoch):
 * if Redis lost its data meanwhile, the reservation went with it and the new dataset does not count it, so a turn is
 * reserved again there. Answering `0` then, the RateLimiter adds no delay of its own. Without this a restart would let
 * every reserved turn through on top of the new dataset's tokens.
 */
const rateLimiterStore = (connection: Redis.Connection, prefix: string): RateLimiter.RateLimiterStore["Type"] => {
  const failed = (what: string) => (failure: Redis.Failure) =>
    new RateLimiter.RateLimitStoreError({ message: `${what}: ${failure.description}` })
  const bucketFailed = failed("the leaky bucket in Redis")
  return {
    tokenBucket: (options) => {
      const key = `${prefix}${options.key}`
      const epochKey = `${key}:epoch`
      const refillMs = Duration.toMillis(options.refillRate)
      const reserve: Effect.Effect<number, RateLimiter.RateLimitStoreError> = connection.run((client) =>
        client.b24TokenBucket(key, epochKey, options.tokens, refillMs, options.limit, options.allowOverflow ? 1 : 0)
      ).pipe(
        Effect.mapError(bucketFailed),
        Effect.flatMap(([left, epoch]) =>
          left >= 0 || !options.allowOverflow
            ? Effect.succeed(left)
            : Effect.sleep(Duration.millis(-left * refillMs)).pipe(
              Effect.zipRight(Effect.mapError(connection.run((client) => client.get(epochKey)), bucketFailed)),
              Effect.flatMap((current) =>
                current === epoch
                  ? Effect.succeed(0)
                  : Effect.zipRight(
                    Effect.logDebug("Bitrix24 leaky bucket: Redis lost its data; taking the turn again"),
                    reserve
                  )
              )
            )
        )
      )
      return reserve
    },
    fixedWindow: (options) =>
      Effect.mapError(
        connection.run((client) =>
          client.b24FixedWindow(
            `${prefix}${options.key}`,
            options.tokens,
            Duration.toMillis(options.refillRate),
            options.limit ?? ""
          )
        ),
        failed("the fixed window in Redis")
      )
  }
}

/** The operating budget's store over the connection. Recording is tried once: a call's answer never waits for it. */
const operatingBudgetStore = (connection: Redis.Connection, prefix: string): OperatingBudget.Store => {
  const failed = (operation: "get" | "record" | "block", key: string) => (failure: Redis.Failure) =>
    new OperatingBudget.OperatingBudgetStoreError({ operation, key, description: failure.description })
  return {
    get: (key) =>
      connection.run((client) => client.b24BudgetGet(`${prefix}${key}`)).pipe(
        Effect.map((entry) =>
          entry === null ? Option.none() : Option.some({ used: Number(entry[0]), resetIn: Number(entry[1]) })
        ),
        Effect.mapError(failed("get", key))
      ),
    record: (reports) =>
      Effect.forEach(
        reports,
        ([key, entry]) =>
          Effect.mapError(
            connection.run(
              (client) =>
                client.b24BudgetRecord(
                  `${prefix}${key}`,
                  String(entry.used),
                  Math.round(entry.resetIn),
                  OperatingBudget.sameWindowMs
                ),
              { once: true }
            ),
            failed("record", key)
          ),
        { concurrency: "unbounded", discard: true }
      ),
    block: (key, used, blockedFor) =>
      Effect.mapError(
        connection.run((client) => client.b24BudgetBlock(`${prefix}${key}`, String(used), Math.round(blockedFor))),
        failed("block", key)
      )
  }
}

const StoredTokens = Schema.parseJson(Schema.Struct({ v: Schema.Literal(1), tokens: TokenStore.Tokens }))
const SealedTokens = Schema.parseJson(Schema.Struct({
  v: Schema.Literal(1),
  sealed: Schema.Struct({
    alg: Schema.Literal("A256GCM"),
    kid: Schema.String,
    iv: Schema.String,
    tag: Schema.String,
    data: Schema.String
  })
}))
const TokensJson = Schema.parseJson(TokenStore.Tokens)
const decodeStored = Schema.decodeUnknownEither(Schema.Union(StoredTokens, SealedTokens))
const decodeTokens = Schema.decodeUnknownEither(TokensJson)
const encodeTokens = Schema.encodeEither(TokensJson)

/** The token store over the connection: records sealed when a key is given, a lock with a fencing value. */
const tokenStore = (
  connection: Redis.Connection,
  prefix: string,
  key: TokenCipher.Key | undefined
): TokenStore.Service => {
  const recordKey = (name: string) => `${prefix}tokens:${name}`
  const failed = (operation: "get" | "set" | "remove" | "lock", name: string) => (description: string) =>
    new TokenStore.TokenStoreError({ operation, key: name, description })

  // The sealed record names its store key in its authenticated data, not Redis's prefix: a prefix may change.
  const encode = (name: string, tokens: TokenStore.Tokens): Either.Either<string, string> =>
    Either.mapLeft(encodeTokens(tokens), () => "the tokens could not be encoded").pipe(
      Either.map((json) =>
        key === undefined
          ? `{"v":1,"tokens":${json}}`
          : JSON.stringify({ v: 1, sealed: TokenCipher.seal(key, `tokens:${name}`, json) })
      )
    )

  const decode = (name: string, text: string): Either.Either<TokenStore.Tokens, string> => {
    const stored = decodeStored(text)
    if (Either.isLeft(stored)) return Either.left("the stored record is not a token record")
    const record = stored.right
    if ("tokens" in record) return Either.right(record.tokens)
    if (key === undefined) {
      return Either.left("the stored tokens are sealed; set the encryption key (B24_REDIS_ENCRYPTION_KEY)")
    }
    return Either.flatMap(
      TokenCipher.open(key, `tokens:${name}`, record.sealed),
      (json) => Either.mapLeft(decodeTokens(json), () => "the sealed record is not a token record")
    )
  }

  const get: TokenStore.Service["get"] = (name) =>
    connection.run((client) => client.hget(recordKey(name), "data")).pipe(
      Effect.mapError((failure) => failed("get", name)(failure.description)),
      Effect.flatMap((text): Effect.Effect<Option.Option<TokenStore.Tokens>, TokenStore.TokenStoreError> => {
        if (text === null) return Effect.succeedNone
        const tokens = decode(name, text)
        return Either.isLeft(tokens) ? Effect.fail(failed("get", name)(tokens.left)) : Effect.succeedSome(tokens.right)
      })
    )

  const set: TokenStore.Service["set"] = (name, tokens) =>
    Effect.flatMap(
      Either.mapLeft(encode(name, tokens), failed("set", name)),
      (data) =>
        Effect.asVoid(
          Effect.mapError(
            connection.run((client) => client.b24TokensSet(recordKey(name), `${recordKey(name)}:fence`, data)),
            (failure) => failed("set", name)(failure.description)
          )
        )
    )

  const withRefreshLock: TokenStore.Service["withRefreshLock"] = (name, ttl, use) => {
    const lock = `${recordKey(name)}:lock`
    const ttlMs = Math.max(1, Math.round(Duration.toMillis(ttl)))
    const owner = Crypto.randomUUID()
    const lockError = (description: string) => failed("lock", name)(description)
    const acquire = (deadline: number): Effect.Effect<number, TokenStore.TokenStoreError> =>
      connection.run((client) => client.b24LockAcquire(lock, `${recordKey(name)}:fence`, owner, ttlMs)).pipe(
        Effect.mapError((failure) => lockError(failure.description)),
        Effect.flatMap(([fence, heldFor]) => {
          if (fence > 0) return Effect.succeed(fence)
          return Effect.clockWith((clock) =>
            clock.unsafeCurrentTimeMillis() >= deadline
              ? Effect.fail(
                lockError(`the refresh lock stayed taken for ${Duration.format(Duration.millis(ttlMs * 2))}`)
              )
              : Effect.zipRight(
                Effect.sleep(Duration.millis(Math.max(10, Math.min(heldFor, 50 + Math.random() * 50)))),
                acquire(deadline)
              )
          )
        })
      )
    const save = (fence: number): TokenStore.Save => (tokens) =>
      Effect.flatMap(
        Either.mapLeft(encode(name, tokens), failed("set", name)),
        (data) =>
          connection.run((client) => client.b24TokensSave(recordKey(name), data, fence)).pipe(
            Effect.map((saved) => saved === 1),
            Effect.mapError((failure) => failed("set", name)(failure.description))
          )
      )
    return Effect.acquireUseRelease(
      Effect.flatMap(Effect.clock, (clock) => acquire(clock.unsafeCurrentTimeMillis() + ttlMs * 2)),
      (fence) => use(save(fence)),
      (fence) =>
        // Released once; if Redis is out of reach the lock expires by itself after `ttl`.
        Effect.ignore(connection.run((client) => client.b24LockRelease(lock, `${fence}:${owner}`), { once: true }))
    )
  }

  // Forgets the tokens of `key` (an application removed from the portal), under a fence of its own: a refresh that
  // took the lock before cannot write them back.
  const remove = (name: string): Effect.Effect<void, TokenStore.TokenStoreError> =>
    Effect.asVoid(
      Effect.mapError(
        connection.run((client) => client.b24TokensRemove(recordKey(name), `${recordKey(name)}:fence`)),
        (failure) => failed("remove", name)(failure.description)
      )
    )

  const service = { get, set, withRefreshLock, remove }
  return service
}

/** The memory services, under a backend name. */
const memory = (backend: "memory" | "local"): Layer.Layer<Services> =>
  Layer.mergeAll(
    PortalLimits.layerMemory,
    TokenStore.layerMemory(),
    Layer.succeed(SharedState, { backend, available: Effect.succeed(true) })
  )

/**
 * The shared state in this process's memory: the `RateLimiter` and the operating budget's store of
 * `PortalLimits.layerMemory`, an in-memory `TokenStore`, and {@link SharedState} with backend `memory`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<Services> = memory("memory")

/**
 * The shared state in Redis, over one connection made at start (see the module's docs for the keys and the failure
 * semantics). Fails with {@link RedisUnavailable} when Redis cannot be reached at start (unless `fallback: "local"`),
 * and with {@link InvalidEncryptionKey} before connecting when the key is not 32 bytes.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerRedis = (options: Options): Layer.Layer<Services, RedisUnavailable | InvalidEncryptionKey> =>
  Layer.unwrapScoped(
    Effect.gen(function*() {
      const key = options.encryptionKey === undefined
        ? undefined
        : yield* Either.mapLeft(
          TokenCipher.parseKey(options.encryptionKey),
          (reason) => new InvalidEncryptionKey({ reason })
        )
      const prefix = options.prefix ?? "b24:"
      const connected = yield* Effect.either(Redis.connect({
        url: options.url,
        wait: Duration.decode(options.wait ?? "10 seconds"),
        connectTimeout: Duration.decode(options.connectTimeout ?? "5 seconds")
      }))
      if (Either.isLeft(connected)) {
        const error = new RedisUnavailable({
          address: Redis.address(options.url),
          description: connected.left.description
        })
        if (options.fallback !== "local") return yield* Effect.fail(error)
        yield* Effect.logWarning(
          `Redis at ${error.address} cannot be reached (${error.description}); B24_REDIS_FALLBACK=local: running on ` +
            `this process's memory. Its leaky bucket, operating budget and OAuth tokens are its own: processes no ` +
            `longer share the portal's limits`
        )
        return memory("local")
      }
      const connection = connected.right
      return Layer.mergeAll(
        // Not `RateLimiter.layer` over the store: layers are memoized by reference, so next to another use of
        // `RateLimiter.layer` (the in-memory one of `Bitrix24Http.layerDefaults`) one would stand for both.
        Layer.effect(
          RateLimiter.RateLimiter,
          Effect.provideService(RateLimiter.make, RateLimiter.RateLimiterStore, rateLimiterStore(connection, prefix))
        ),
        Layer.succeed(OperatingBudget.OperatingBudgetStore, operatingBudgetStore(connection, prefix)),
        Layer.succeed(TokenStore.TokenStore, tokenStore(connection, prefix, key)),
        Layer.succeed(SharedState, { backend: "redis", available: connection.available })
      )
    })
  )

/**
 * The settings from configuration: `B24_REDIS_URL` (read with `Config.redacted`; unset or blank is `None`),
 * `B24_REDIS_PREFIX` (default `b24:`), `B24_REDIS_ENCRYPTION_KEY` (redacted; checked to be 32 bytes),
 * `B24_REDIS_WAIT` (a duration, default `10 seconds`) and `B24_REDIS_FALLBACK` (`local` or `none`, default `none`).
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<Option.Option<Options>> = Config.all({
  url: Config.option(Config.redacted("B24_REDIS_URL")).pipe(
    Config.map(Option.filter((url) => Redacted.value(url).trim().length > 0))
  ),
  prefix: Config.string("B24_REDIS_PREFIX").pipe(Config.withDefault("b24:")),
  encryptionKey: Config.option(Config.redacted("B24_REDIS_ENCRYPTION_KEY")).pipe(
    Config.mapOrFail((key) =>
      Option.match(key, {
        onNone: () => Either.right(undefined),
        onSome: (value) =>
          Either.match(TokenCipher.parseKey(value), {
            onLeft: (reason) => Either.left(ConfigError.InvalidData(["B24_REDIS_ENCRYPTION_KEY"], reason)),
            onRight: () => Either.right(value)
          })
      })
    )
  ),
  wait: Config.duration("B24_REDIS_WAIT").pipe(Config.withDefault(Duration.seconds(10))),
  fallback: Config.literal("local", "none")("B24_REDIS_FALLBACK").pipe(Config.withDefault("none" as const))
}).pipe(
  Config.map(({ url, ...rest }) => Option.map(url, (value): Options => ({ url: value, ...rest })))
)

/**
 * The shared state from configuration ({@link config}): Redis when `B24_REDIS_URL` is set, else this process's
 * memory ({@link layerMemory}).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  settings: Config.Config<Option.Option<Options>> = config
): Layer.Layer<Services, ConfigError.ConfigError | RedisUnavailable | InvalidEncryptionKey> =>
  Layer.unwrapEffect(Effect.map(settings, Option.match({ onNone: () => layerMemory, onSome: layerRedis })))
