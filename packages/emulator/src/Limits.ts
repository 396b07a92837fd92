/**
 * The portal's limits (wire sheet §3): the request-intensity leaky bucket of the cloud front-end, the operating-time
 * limit per auth entity and method, and the manual `OVERLOAD_LIMIT` hold of one webhook or application. All of them
 * run on the emulator's clock, so a test moves time with `clock.advance` instead of sleeping.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * The leaky bucket's shape: `standard` (50 requests, draining 2 per second: every plan but Enterprise), `enterprise`
 * (250 and 5 per second), `off`, or a custom `{ size, drainPerSecond }` (wire sheet §3.1).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Bucket = Schema.Union(
  Schema.Literal("standard", "enterprise", "off"),
  Schema.Struct({
    size: Schema.Number.pipe(Schema.int(), Schema.positive()),
    drainPerSecond: Schema.Number.pipe(Schema.nonNegative())
  })
)

/**
 * The limit settings; every field is optional, and `setLimits` merges what it is given over the current settings.
 * - `bucket`: the leaky bucket (default `standard` under the cloud profile, `off` under `self-hosted`).
 * - `operatingLimitSeconds`: the operating-time limit per auth entity and method in a 10-minute window, in seconds
 *   (default 480, the docs' value; the self-hosted source defaults to 420 and leaves the limiter off unless set).
 * - `executionSeconds`: the simulated execution time of a method, in seconds, keyed by method name (any case);
 *   `"*"` applies to every method without its own entry. Methods without one take their real (tiny) time, and calls
 *   of 0.1 s or less are not recorded, as on the portal.
 * - `holds`: the auth entities under a manual `OVERLOAD_LIMIT` hold: `webhook:<userId>` or `app:<client_id>`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Limits = Schema.Struct({
  bucket: Schema.optional(Bucket),
  operatingLimitSeconds: Schema.optional(Schema.Number.pipe(Schema.nonNegative())),
  executionSeconds: Schema.optional(
    Schema.Record({ key: Schema.String, value: Schema.Number.pipe(Schema.nonNegative()) })
  ),
  holds: Schema.optional(Schema.Array(Schema.String))
})

/**
 * @since 0.1.0
 * @category models
 */
export type Limits = typeof Limits.Type

/**
 * The documented default operating-time limit: 480 seconds per 10 minutes (DOC-EN limits.md).
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultOperatingLimitSeconds = 480

/** The window of the operating limiter: 10 buckets of 60 s (LoadLimiter). */
const slotMs = 60_000
const slots = 10
/** Calls of this many seconds or less are not recorded (`minimalFixTime`). */
const minimalFixSeconds = 0.1

/**
 * The bucket shapes by name.
 *
 * @since 0.1.0
 * @category constants
 */
export const bucketShapes = {
  standard: { size: 50, drainPerSecond: 2 },
  enterprise: { size: 250, drainPerSecond: 5 }
} as const

interface Slot {
  readonly index: number
  readonly firstAt: number
  seconds: number
}

/**
 * What the operating limiter reports in a `time` block: `operating` (float seconds used in the window) and
 * `operating_reset_at` (Unix seconds at which the oldest recorded slot expires).
 *
 * @since 0.1.0
 * @category models
 */
export interface OperatingReport {
  readonly operating: number
  readonly operating_reset_at: number
}

/**
 * The limits of one emulated portal, with their running state.
 *
 * @since 0.1.0
 * @category models
 */
export interface Limiter {
  /** The settings in force (resolved: every field present). */
  readonly settings: () => {
    readonly bucket: typeof Bucket.Type
    readonly operatingLimitSeconds: number
    readonly operatingActive: boolean
    readonly executionSeconds: Readonly<Record<string, number>>
    readonly holds: ReadonlyArray<string>
  }
  /** Merges new settings over the current ones; a changed bucket starts empty. */
  readonly set: (limits: Limits) => void
  /** Back to the settings the limiter was made with; empties the bucket and forgets the recorded operating time. */
  readonly reset: () => void
  /** Counts one request into the leaky bucket; `false` when it overflows (503 QUERY_LIMIT_EXCEEDED). */
  readonly admit: (now: number) => boolean
  /** The bucket's current level (requests), drained to `now`. */
  readonly level: (now: number) => number
  /** Whether the entity is under an `OVERLOAD_LIMIT` hold. */
  readonly held: (entity: string) => boolean
  /** Whether the operating limiter is on. */
  readonly operatingActive: () => boolean
  /** Whether the entity's operating time on the method is over the limit (429 OPERATION_TIME_LIMIT). */
  readonly blocked: (entity: string, method: string, now: number) => boolean
  /** The simulated execution time of a method in seconds, if configured. */
  readonly executionSeconds: (method: string) => number | undefined
  /** Records a call's execution time (seconds) started at `startMs`, and reports the window afterwards. */
  readonly record: (entity: string, method: string, seconds: number, startMs: number) => OperatingReport
  /** The window's report without recording anything (e.g. for `batch`, which is not counted). */
  readonly report: (entity: string, method: string, now: number) => OperatingReport
  /** The recorded windows, for state reads: key `entity method` to seconds in the window. */
  readonly snapshot: (now: number) => Record<string, number>
}

/**
 * Makes the limiter. `operatingDefault` says whether the operating limiter runs when `operatingLimitSeconds` is not
 * set (the cloud: yes; a self-hosted portal: no), `bucketDefault` the bucket when `bucket` is not set.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  limits: Limits,
  defaults: { readonly bucket: typeof Bucket.Type; readonly operatingActive: boolean }
): Limiter => {
  let bucket: typeof Bucket.Type = limits.bucket ?? defaults.bucket
  let operatingLimit = limits.operatingLimitSeconds ?? defaultOperatingLimitSeconds
  let operatingActive = limits.operatingLimitSeconds !== undefined || defaults.operatingActive
  let execution: Record<string, number> = lowerKeys(limits.executionSeconds)
  let holds = new Set(limits.holds ?? [])
  let shape = resolve(bucket)
  let level = 0
  let lastAt = 0
  const windows = new Map<string, Array<Slot>>()

  const drain = (now: number) => {
    if (shape === undefined) return
    if (now > lastAt) {
      level = Math.max(0, level - ((now - lastAt) / 1000) * shape.drainPerSecond)
      lastAt = now
    }
  }

  const live = (key: string, now: number): Array<Slot> | undefined => {
    const list = windows.get(key)
    if (list === undefined) return undefined
    const oldest = Math.floor(now / slotMs) - slots
    while (list.length > 0 && list[0]!.index <= oldest) list.shift()
    return list
  }

  const sum = (list: Array<Slot> | undefined) => {
    let total = 0
    if (list !== undefined) { for (const slot of list) total += slot.seconds }
    return total
  }

  const reportOf = (list: Array<Slot> | undefined, now: number): OperatingReport => {
    const first = list !== undefined && list.length > 0 ? list[0]!.firstAt : now
    return { operating: sum(list), operating_reset_at: Math.floor(first / 1000) + slots * slotMs / 1000 }
  }

  return {
    settings: () => ({
      bucket,
      operatingLimitSeconds: operatingLimit,
      operatingActive,
      executionSeconds: execution,
      holds: [...holds]
    }),
    set: (next) => {
      if (next.bucket !== undefined && JSON.stringify(next.bucket) !== JSON.stringify(bucket)) {
        bucket = next.bucket
        shape = resolve(bucket)
        level = 0
      }
      if (next.operatingLimitSeconds !== undefined) {
        operatingLimit = next.operatingLimitSeconds
        operatingActive = true
      }
      if (next.executionSeconds !== undefined) execution = lowerKeys(next.executionSeconds)
      if (next.holds !== undefined) holds = new Set(next.holds)
    },
    reset: () => {
      bucket = limits.bucket ?? defaults.bucket
      shape = resolve(bucket)
      operatingLimit = limits.operatingLimitSeconds ?? defaultOperatingLimitSeconds
      operatingActive = limits.operatingLimitSeconds !== undefined || defaults.operatingActive
      execution = lowerKeys(limits.executionSeconds)
      holds = new Set(limits.holds ?? [])
      level = 0
      lastAt = 0
      windows.clear()
    },
    admit: (now) => {
      if (shape === undefined) return true
      drain(now)
      if (level + 1 > shape.size) return false
      level += 1
      return true
    },
    level: (now) => {
      drain(now)
      return level
    },
    held: (entity) => holds.size > 0 && holds.has(entity),
    operatingActive: () => operatingActive,
    blocked: (entity, method, now) => operatingActive && sum(live(`${entity} ${method}`, now)) > operatingLimit,
    executionSeconds: (method) => execution[method] ?? execution["*"],
    record: (entity, method, seconds, startMs) => {
      const key = `${entity} ${method}`
      let list = live(key, startMs)
      if (seconds > minimalFixSeconds) {
        if (list === undefined) {
          list = []
          windows.set(key, list)
        }
        const index = Math.floor(startMs / slotMs)
        const last = list[list.length - 1]
        if (last !== undefined && last.index === index) last.seconds += seconds
        else list.push({ index, firstAt: startMs, seconds })
      }
      return reportOf(list, startMs)
    },
    report: (entity, method, now) => reportOf(live(`${entity} ${method}`, now), now),
    snapshot: (now) => {
      const out: Record<string, number> = {}
      for (const key of windows.keys()) {
        const total = sum(live(key, now))
        if (total > 0) out[key] = total
      }
      return out
    }
  }
}

const lowerKeys = (record: Readonly<Record<string, number>> | undefined): Record<string, number> =>
  Object.fromEntries(Object.entries(record ?? {}).map(([key, value]) => [key.toLowerCase(), value]))

const resolve = (bucket: typeof Bucket.Type): { readonly size: number; readonly drainPerSecond: number } | undefined =>
  bucket === "off" ? undefined : typeof bucket === "string" ? bucketShapes[bucket] : bucket
