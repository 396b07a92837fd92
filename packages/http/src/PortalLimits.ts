/**
 * The portal's limits, avoided on the client rather than met and retried (wire sheet §3):
 *
 * - **Leaky bucket** (§3.1): every request fills the portal's counter, which drains at a fixed rate; above the bucket
 *   size the portal answers 503 `QUERY_LIMIT_EXCEEDED`. The client mirrors it with the `@effect/experimental`
 *   RateLimiter (token bucket, `onExceeded: "delay"`), keyed per portal, so a request waits for its token instead.
 *   Presets: `standard` (50, drains 2 per second), `enterprise` (250, 5 per second), a custom size and rate, or `off`.
 *   The transport requires the `RateLimiter.RateLimiter` service: {@link layerRateLimiterMemory} keeps the buckets in
 *   this process (shared by every transport it is provided to); `SharedState.layerRedis` shares them between
 *   processes.
 * - **Operating time** (§3.2): each method may use a number of seconds of execution per 10-minute window (480 s in the
 *   cloud's example) per application or webhook; beyond it the portal answers 429 `OPERATION_TIME_LIMIT`. The client
 *   reads `time.operating` / `time.operating_reset_at` of every answer (for `batch`, each command's own time, charged
 *   under its own method) and slows down near the limit, then waits for the reset (see `OperatingBudget`). The
 *   reports live in the `OperatingBudget.OperatingBudgetStore` the transport requires.
 *
 * {@link layerMemory} provides both in this process's memory; `SharedState.layerRedis` in Redis, for every process
 * that calls the portal.
 *
 * The transport layers require `PortalLimits`: {@link layer} (`layer()` is `standard` and the 480 s budget, as in
 * `Bitrix24Http.layerDefaults`) or {@link layerConfig}.
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
import * as OperatingBudget from "./OperatingBudget.js"

/**
 * A leaky bucket: `size` requests at once, draining `drainPerSecond` requests per second (wire sheet §3.1).
 *
 * @since 0.1.0
 * @category models
 */
export interface BucketSize {
  readonly size: number
  readonly drainPerSecond: number
}

/**
 * The bucket to mirror: a plan preset, a custom size and rate, or `off` (no client-side limiting; self-hosted portals
 * have no bucket by default).
 *
 * @since 0.1.0
 * @category models
 */
export type Bucket = "standard" | "enterprise" | "off" | BucketSize

/**
 * The plan presets of wire sheet §3.1: every plan but Enterprise 50 / 2 per second, Enterprise 250 / 5 per second.
 *
 * @since 0.1.0
 * @category constants
 */
export const presets: { readonly standard: BucketSize; readonly enterprise: BucketSize } = {
  standard: { size: 50, drainPerSecond: 2 },
  enterprise: { size: 250, drainPerSecond: 5 }
}

/**
 * The operating-time budget (wire sheet §3.2), per method and auth entity:
 * - `limitSeconds`: seconds of execution per window (default 480, the documented cloud example).
 * - `slowdownAt`: the share of the limit above which calls are spread out (default 0.8).
 * - `maxSlowdown`: the longest pause before one call while slowing down (default 7 s).
 * - `marginSeconds`: at `limitSeconds - marginSeconds` used, calls wait for the window's reset (default 5).
 * - `blockedFor`: how long a method is held after a 429 `OPERATION_TIME_LIMIT` when the portal never reported its
 *   reset time (default 60 s, one bucket of the 10-minute window).
 *
 * @since 0.1.0
 * @category models
 */
export interface Operating {
  readonly limitSeconds: number
  readonly slowdownAt: number
  readonly maxSlowdown: Duration.Duration
  readonly marginSeconds: number
  readonly blockedFor: Duration.Duration
}

/**
 * The default operating budget.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultOperating: Operating = {
  limitSeconds: 480,
  slowdownAt: 0.8,
  maxSlowdown: Duration.seconds(7),
  marginSeconds: 5,
  blockedFor: Duration.seconds(60)
}

/**
 * The limits the transport mirrors.
 *
 * @since 0.1.0
 * @category models
 */
export interface Limits {
  readonly bucket: Bucket
  /**
   * Tokens of the bucket held back (default 2), so that requests reaching the portal later than they left the client
   * (connection setup, latency) do not overflow the portal's counter, which fills on arrival.
   */
  readonly headroom: number
  readonly operating: Operating | "off"
}

/**
 * @since 0.1.0
 * @category tags
 */
export class PortalLimits extends Context.Tag("@bitrix24-effect/http/PortalLimits")<PortalLimits, Limits>() {}

/**
 * The default limits: the `standard` bucket and the default operating budget.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaults: Limits = { bucket: "standard", headroom: 2, operating: defaultOperating }

/**
 * Settings for {@link layer}: anything left out keeps its default.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly bucket?: Bucket | undefined
  readonly headroom?: number | undefined
  readonly operating?: Partial<Operating> | "off" | undefined
}

/**
 * Completes options with the defaults.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Limits => ({
  bucket: options.bucket ?? defaults.bucket,
  headroom: Math.max(0, Math.floor(options.headroom ?? defaults.headroom)),
  operating: options.operating === "off" ? "off" : { ...defaultOperating, ...options.operating }
})

/**
 * The limits as a Layer, to provide to the transport layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<PortalLimits> => Layer.succeed(PortalLimits, make(options))

/**
 * Reads a bucket from text: `standard`, `enterprise`, `off`, or `<size>/<drain per second>` (e.g. `50/2`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const parseBucket = (text: string): Option.Option<Bucket> => {
  const value = text.trim().toLowerCase()
  if (value === "standard" || value === "enterprise" || value === "off") return Option.some(value)
  const match = /^(\d+)\s*\/\s*(\d+(?:\.\d+)?)$/.exec(value)
  if (match === null) return Option.none()
  const size = Number(match[1])
  const drainPerSecond = Number(match[2])
  return size > 0 && drainPerSecond > 0 ? Option.some({ size, drainPerSecond }) : Option.none()
}

/**
 * The limit settings from the environment: `B24_BUCKET` (`standard`, `enterprise`, `off` or
 * `<size>/<drain per second>`, default `standard`), `B24_BUCKET_HEADROOM` (tokens held back, default 2) and
 * `B24_OPERATING_LIMIT` (seconds per 10-minute window, default 480; `0` turns the operating budget off).
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<Options> = Config.all({
  bucket: Config.string("B24_BUCKET").pipe(
    Config.withDefault("standard"),
    Config.mapOrFail((text) =>
      Either.fromOption(
        parseBucket(text),
        () => ConfigError.InvalidData(["B24_BUCKET"], "expected standard, enterprise, off or <size>/<drain per second>")
      )
    )
  ),
  headroom: Config.integer("B24_BUCKET_HEADROOM").pipe(Config.withDefault(defaults.headroom)),
  operating: Config.number("B24_OPERATING_LIMIT").pipe(
    Config.withDefault(defaultOperating.limitSeconds),
    Config.map((limitSeconds): Options["operating"] => limitSeconds <= 0 ? "off" : { limitSeconds })
  )
})

/**
 * The limits from configuration: {@link config} (`B24_BUCKET`, `B24_BUCKET_HEADROOM`, `B24_OPERATING_LIMIT`) unless
 * another config is given.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  settings: Config.Config<Options> = config
): Layer.Layer<PortalLimits, ConfigError.ConfigError> => Layer.effect(PortalLimits, Effect.map(settings, make))

/**
 * The size and drain of a bucket, or `undefined` for `off`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const bucketSize = (bucket: Bucket): BucketSize | undefined =>
  bucket === "off" ? undefined : typeof bucket === "string" ? presets[bucket] : bucket

/**
 * Takes one request's place in a portal's leaky bucket: waits as long as the bucket requires and answers how long it
 * waited.
 *
 * @since 0.1.0
 * @category models
 */
export type Take = Effect.Effect<Duration.Duration, RateLimiter.RateLimitStoreError>

/**
 * The `RateLimiter` the leaky bucket runs on, with its store in this process's memory: every transport it is provided
 * to shares one bucket per portal. To share the buckets between processes, provide `SharedState.layerRedis` instead.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerRateLimiterMemory: Layer.Layer<RateLimiter.RateLimiter> = Layer.effect(
  RateLimiter.RateLimiter,
  // Its own store, not `RateLimiter.layer`: layers are memoized by reference, so a `RateLimiter.layer` over another
  // store in the same program would otherwise stand in for this one, or this one for it.
  Effect.provide(RateLimiter.make, RateLimiter.layerStoreMemory)
)

/** The RateLimiter options of a token bucket mirroring `shape`, under `key`. */
const tokenBucket = (shape: BucketSize, key: string, onExceeded: "delay" | "fail") =>
  ({
    algorithm: "token-bucket",
    onExceeded,
    key,
    limit: shape.size,
    window: Duration.millis((shape.size / shape.drainPerSecond) * 1000)
  }) as const

/**
 * The state of the portal's limits in this process's memory: the `RateLimiter` of the leaky bucket
 * ({@link layerRateLimiterMemory}) and the operating budget's store (`OperatingBudget.layerStoreMemory`), each shared
 * by every transport the layer is provided to. `SharedState.layerRedis` provides the same services in Redis.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<RateLimiter.RateLimiter | OperatingBudget.OperatingBudgetStore> = Layer.merge(
  layerRateLimiterMemory,
  OperatingBudget.layerStoreMemory
)

/**
 * The client-side leaky bucket for one portal, on the `RateLimiter` in context, keyed `{key}:bucket` (the transport
 * passes `portal:{member_id or host}`). A token bucket of `size - headroom` tokens refilled one every
 * `1 / drainPerSecond` seconds admits no more than the portal's counter admits. With `off`, the answer never waits.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeBucket = (
  bucket: Bucket,
  key: string,
  headroom = defaults.headroom
): Effect.Effect<Take, never, RateLimiter.RateLimiter> =>
  Effect.gen(function*() {
    const limiter = yield* RateLimiter.RateLimiter
    const shape = bucketSize(bucket)
    if (shape === undefined) return Effect.succeed(Duration.zero)
    const options = tokenBucket(
      { size: Math.max(1, shape.size - headroom), drainPerSecond: shape.drainPerSecond },
      `${key}:bucket`,
      "delay"
    )
    // With onExceeded "delay" the limiter answers how long to wait; it fails only when its store does. A shared store
    // may wait inside `consume` too (SharedState), so the wait is measured rather than taken from the answer.
    const take: Take = Effect.clockWith((clock) => {
      const started = clock.unsafeCurrentTimeMillis()
      return limiter.consume(options).pipe(
        Effect.map(({ delay }) => delay),
        Effect.catchAll((error) => error.reason === "Exceeded" ? Effect.succeed(error.retryAfter) : Effect.fail(error)),
        Effect.flatMap((delay) => Duration.isZero(delay) ? Effect.void : Effect.sleep(delay)),
        Effect.map(() => Duration.millis(clock.unsafeCurrentTimeMillis() - started))
      )
    })
    return take
  })

/**
 * Takes a token of a bucket only if one is free now: `true` when it took one, `false` (and takes none) when the bucket
 * is full. Never waits; fails only when the RateLimiter's store does.
 *
 * @since 0.1.0
 * @category models
 */
export type Admit = Effect.Effect<boolean, RateLimiter.RateLimitStoreError>

/**
 * A leaky bucket that refuses instead of waiting, on the `RateLimiter` in context (keyed `bitrix24:{key}`): the shape
 * of a portal's bucket (wire sheet §3.1) applied to someone else's requests, such as a proxy's per-client limit, where
 * a request over the limit is answered at once with `503 QUERY_LIMIT_EXCEEDED` as the portal itself would. With `off`,
 * every request is admitted.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeAdmission = (bucket: Bucket, key: string): Effect.Effect<Admit, never, RateLimiter.RateLimiter> =>
  Effect.gen(function*() {
    const limiter = yield* RateLimiter.RateLimiter
    const shape = bucketSize(bucket)
    if (shape === undefined) return Effect.succeed(true)
    const options = tokenBucket(shape, `bitrix24:${key}`, "fail")
    const admit: Admit = limiter.consume(options).pipe(
      Effect.as(true),
      Effect.catchAll((error) => error.reason === "Exceeded" ? Effect.succeed(false) : Effect.fail(error))
    )
    return admit
  })
