/**
 * The operating-time budget of one auth entity (an inbound webhook or an OAuth application) on one portal, per method
 * (wire sheet §3.2). The portal sums the execution time of each method in a 10-minute window and answers 429
 * `OPERATION_TIME_LIMIT` above the limit; every success envelope reports the sum so far (`time.operating`, seconds)
 * and when the oldest part of the window expires (`time.operating_reset_at`, Unix seconds). `batch` itself is not
 * counted: each command is charged under its own method and reported in `result_time`.
 *
 * The budget records those reports and, before each call, answers how long to wait: nothing below `slowdownAt` of
 * the limit; above it a pause of 1 % of the time left until the reset (at most `maxSlowdown`), as the official JS SDK
 * does; at `limitSeconds - marginSeconds` until the reset itself. The reset time is converted to the local clock from
 * the portal's own `time.start`, so a skew between the two clocks does not matter (measuring from the start rather
 * than the finish errs on the late side by the call's duration, never on the early side).
 *
 * @since 0.1.0
 */
import type { Wire } from "@bitrix24-effect/core"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberClock from "./internal/fiberClock.js"
import type * as PortalLimits from "./PortalLimits.js"

interface Entry {
  /** Seconds of operating time used in the window, as last reported. */
  used: number
  /** When the portal's window resets, on the local clock (epoch ms). */
  resetAt: number
}

/**
 * A wait the budget asks for before a call.
 *
 * @since 0.1.0
 * @category models
 */
export interface Wait {
  readonly delay: Duration.Duration
  /** `slowdown`: near the limit; `reset`: at the limit, waiting for the window to reset. */
  readonly kind: "none" | "slowdown" | "reset"
  readonly used: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface OperatingBudget {
  /** How long to wait before calling `method` now. */
  readonly check: (method: string) => Effect.Effect<Wait>
  /** Waits as {@link check} says (logging waits for the reset); answers the wait. */
  readonly gate: (method: string) => Effect.Effect<Wait>
  /** Records the `time` block of an answer to `method`. */
  readonly record: (method: string, time: Wire.Time | undefined) => Effect.Effect<void>
  /** {@link record} at a given local time (epoch ms), synchronously: for the many commands of one `batch` answer. */
  readonly recordAt: (method: string, time: Wire.Time | undefined, now: number) => void
  /** Records a 429 `OPERATION_TIME_LIMIT`: the method is blocked until the known reset, or for `blockedFor`. */
  readonly blocked: (method: string) => Effect.Effect<void>
  /** The recorded state of a method, for observability: seconds used and the reset on the local clock. */
  readonly snapshot: (method: string) => Effect.Effect<{ readonly used: number; readonly resetAt: number | undefined }>
}

const none: Wait = { delay: Duration.zero, kind: "none", used: 0 }

/**
 * A budget with these settings, or one that never waits for `"off"`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (settings: PortalLimits.Operating | "off"): OperatingBudget => {
  const entries = new Map<string, Entry>()
  const key = (method: string) => method.toLowerCase()

  const decide = (method: string, now: number): Wait => {
    if (settings === "off") return none
    const entry = entries.get(key(method))
    if (entry === undefined) return none
    if (now >= entry.resetAt) {
      // The oldest part of the window has expired; the next answer tells the new sum.
      entries.delete(key(method))
      return none
    }
    if (entry.used >= settings.limitSeconds - settings.marginSeconds) {
      // One extra second, as the portal's window expires on whole seconds.
      return { delay: Duration.millis(entry.resetAt - now + 1000), kind: "reset", used: entry.used }
    }
    if (entry.used >= settings.slowdownAt * settings.limitSeconds) {
      const pause = Math.min(Duration.toMillis(settings.maxSlowdown), (entry.resetAt - now) * 0.01)
      return { delay: Duration.millis(pause), kind: "slowdown", used: entry.used }
    }
    return none
  }

  const recordAt = (method: string, time: Wire.Time | undefined, now: number): void => {
    if (settings === "off" || time === undefined || time.operating === undefined) return
    // Without a reported reset, the record lapses after `blockedFor` (one bucket of the window).
    const resetAt = time.operating_reset_at === undefined
      ? now + Duration.toMillis(settings.blockedFor)
      : now + Math.max(0, time.operating_reset_at - time.start) * 1000
    const previous = entries.get(key(method))
    // Answers can arrive out of order: within one window keep the largest sum reported.
    const sameWindow = previous !== undefined && Math.abs(previous.resetAt - resetAt) < 2000
    entries.set(key(method), {
      used: sameWindow ? Math.max(previous.used, time.operating) : time.operating,
      resetAt
    })
  }

  const check = (method: string): Effect.Effect<Wait> =>
    Effect.clockWith((clock) => Effect.succeed(decide(method, clock.unsafeCurrentTimeMillis())))

  return {
    check,
    gate: (method) =>
      FiberClock.clockWith((clock) => {
        const wait = decide(method, clock.unsafeCurrentTimeMillis())
        if (wait.kind === "none") return Effect.succeed(wait)
        const log = wait.kind === "reset"
          ? Effect.logWarning(
            `Bitrix24 operating time of ${method} is at ${wait.used.toFixed(1)} s of the limit; ` +
              `waiting ${Duration.format(wait.delay)} for the window to reset (wire sheet §3.2)`
          )
          : Effect.void
        return Effect.as(Effect.zipRight(log, Effect.sleep(wait.delay)), wait)
      }),
    record: (method, time) =>
      settings === "off" || time === undefined || time.operating === undefined
        ? Effect.void
        : Effect.clockWith((clock) => {
          recordAt(method, time, clock.unsafeCurrentTimeMillis())
          return Effect.void
        }),
    recordAt,
    blocked: (method) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        if (settings === "off") return
        const previous = entries.get(key(method))
        const resetAt = previous !== undefined && previous.resetAt > now
          ? previous.resetAt
          : now + Duration.toMillis(settings.blockedFor)
        entries.set(key(method), { used: settings.limitSeconds, resetAt })
      }),
    snapshot: (method) =>
      Effect.sync(() => {
        const entry = entries.get(key(method))
        return { used: entry?.used ?? 0, resetAt: entry?.resetAt }
      })
  }
}
