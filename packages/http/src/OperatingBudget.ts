/**
 * The operating-time budget of one auth entity (an inbound webhook or an OAuth application) on one portal, per method
 * (wire sheet §3.2). The portal sums the execution time of each method in a 10-minute window and answers 429
 * `OPERATION_TIME_LIMIT` above the limit; every success envelope reports the sum so far (`time.operating`, seconds)
 * and when the oldest part of the window expires (`time.operating_reset_at`, Unix seconds). `batch` itself is not
 * counted: each command is charged under its own method and reported in `result_time`.
 *
 * The budget records those reports and, before each call, answers how long to wait: nothing below `slowdownAt` of
 * the limit; above it a pause of 1 % of the time left until the reset (at most `maxSlowdown`), as the official JS SDK
 * does; at `limitSeconds - marginSeconds` until the reset itself. The reset is kept as a duration from the portal's
 * own `time.start` (`operating_reset_at - start`), so a skew between the portal's clock and the client's does not
 * matter (measuring from the start rather than the finish errs on the late side by the call's duration, never on the
 * early side).
 *
 * The reports live in an {@link OperatingBudgetStore}, which the transport layers require: {@link layerStoreMemory}
 * keeps them in this process (shared by every transport it is provided to), `SharedState.layerRedis` in Redis, shared
 * by every process of the portal. A store keeps one entry per portal, auth entity and method, and updates it
 * atomically: within one window the largest sum reported wins, since answers can arrive out of order.
 *
 * @since 0.1.0
 */
import type { Wire } from "@bitrix24-effect/core"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as PortalLimits from "./PortalLimits.js"

/**
 * What a store keeps for one method of one auth entity on one portal: `used`, the seconds of operating time in the
 * window as last reported, and `resetIn`, the milliseconds until the window resets.
 *
 * @since 0.1.0
 * @category models
 */
export interface Entry {
  readonly used: number
  readonly resetIn: number
}

/**
 * The store could not be read or written (a shared store out of reach). The message names the operation and the
 * key, which never holds a secret.
 *
 * @since 0.1.0
 * @category errors
 */
export class OperatingBudgetStoreError extends Schema.TaggedError<OperatingBudgetStoreError>(
  "@bitrix24-effect/http/OperatingBudgetStoreError"
)("OperatingBudgetStoreError", {
  operation: Schema.Literal("get", "record", "block"),
  key: Schema.String,
  description: Schema.String
}) {
  override get message(): string {
    return `operating budget store ${this.operation} of "${this.key}" failed: ${this.description}`
  }
}

/**
 * Where the operating-time reports live, keyed by portal, auth entity and method (`{scope}:{method}`, see
 * {@link make}).
 *
 * - `get`: the entry of a key, `None` once its window has reset.
 * - `record`: stores reports, each atomically: a report whose reset lies within 2 s of the stored one belongs to the
 *   same window and keeps the larger `used`; any other replaces the entry. An entry lapses when its window resets.
 * - `block`: after a 429 `OPERATION_TIME_LIMIT`, stores `used` (the limit) until the known reset, or for
 *   `blockedFor` milliseconds when none is known.
 *
 * @since 0.1.0
 * @category models
 */
export interface Store {
  readonly get: (key: string) => Effect.Effect<Option.Option<Entry>, OperatingBudgetStoreError>
  readonly record: (
    reports: ReadonlyArray<readonly [key: string, entry: Entry]>
  ) => Effect.Effect<void, OperatingBudgetStoreError>
  readonly block: (key: string, used: number, blockedFor: number) => Effect.Effect<void, OperatingBudgetStoreError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class OperatingBudgetStore extends Context.Tag("@bitrix24-effect/http/OperatingBudgetStore")<
  OperatingBudgetStore,
  Store
>() {}

/**
 * Reports whose resets are this close (ms) belong to the same window: the portal's window expires on whole seconds,
 * and each answer's reset is measured from its own start.
 *
 * @since 0.1.0
 * @category constants
 */
export const sameWindowMs = 2000

/**
 * A store in this process's memory, on Effect's `Clock` (so the `TestClock` moves its windows).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeStoreMemory = (): Store => {
  const entries = new Map<string, { used: number; resetAt: number }>()
  const live = (key: string, now: number) => {
    const entry = entries.get(key)
    if (entry === undefined || entry.resetAt > now) return entry
    entries.delete(key)
    return undefined
  }
  return {
    get: (key) =>
      Effect.clockWith((clock) => {
        const now = clock.unsafeCurrentTimeMillis()
        const entry = live(key, now)
        return Effect.succeed(
          entry === undefined ? Option.none() : Option.some({ used: entry.used, resetIn: entry.resetAt - now })
        )
      }),
    record: (reports) =>
      Effect.clockWith((clock) => {
        const now = clock.unsafeCurrentTimeMillis()
        for (const [key, report] of reports) {
          const resetAt = now + report.resetIn
          const previous = live(key, now)
          const same = previous !== undefined && Math.abs(previous.resetAt - resetAt) < sameWindowMs
          entries.set(key, { used: same ? Math.max(previous.used, report.used) : report.used, resetAt })
        }
        return Effect.void
      }),
    block: (key, used, blockedFor) =>
      Effect.clockWith((clock) => {
        const now = clock.unsafeCurrentTimeMillis()
        const previous = live(key, now)
        entries.set(key, { used, resetAt: previous?.resetAt ?? now + blockedFor })
        return Effect.void
      })
  }
}

/**
 * The in-memory store as a Layer: one store for every transport it is provided to.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerStoreMemory: Layer.Layer<OperatingBudgetStore> = Layer.sync(OperatingBudgetStore, makeStoreMemory)

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
 * The budget of one portal and auth entity. Reading the store can fail ({@link OperatingBudgetStoreError}); recording
 * cannot: a report that cannot be stored is logged and dropped (the portal still enforces its limit, and its 429 is
 * retried).
 *
 * @since 0.1.0
 * @category models
 */
export interface OperatingBudget {
  /** How long to wait before calling `method` now. */
  readonly check: (method: string) => Effect.Effect<Wait, OperatingBudgetStoreError>
  /** Waits as {@link check} says (logging waits for the reset); answers the wait. */
  readonly gate: (method: string) => Effect.Effect<Wait, OperatingBudgetStoreError>
  /** Records the `time` block of an answer to `method`. */
  readonly record: (method: string, time: Wire.Time | undefined) => Effect.Effect<void>
  /** Records many answers at once: the commands of one `batch` answer, each under its own method. */
  readonly recordAll: (answers: Iterable<readonly [method: string, time: Wire.Time | undefined]>) => Effect.Effect<void>
  /** Records a 429 `OPERATION_TIME_LIMIT`: the method is blocked until the known reset, or for `blockedFor`. */
  readonly blocked: (method: string) => Effect.Effect<void>
  /** The recorded state of a method, for observability: seconds used and the milliseconds until the reset. */
  readonly snapshot: (
    method: string
  ) => Effect.Effect<{ readonly used: number; readonly resetIn: number | undefined }, OperatingBudgetStoreError>
}

const none: Wait = { delay: Duration.zero, kind: "none", used: 0 }

/**
 * The budget of one portal and auth entity over a store, keyed `{scope}:{method}` (the method in lower case, as the
 * portal's method names are case-insensitive), with these settings; with `"off"` it never waits and never touches
 * the store.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (settings: PortalLimits.Operating | "off", store: Store, scope: string): OperatingBudget => {
  const key = (method: string) => `${scope}:${method.toLowerCase()}`

  const decide = (entry: Option.Option<Entry>): Wait => {
    if (settings === "off" || Option.isNone(entry)) return none
    const { resetIn, used } = entry.value
    if (used >= settings.limitSeconds - settings.marginSeconds) {
      // One extra second, as the portal's window expires on whole seconds.
      return { delay: Duration.millis(resetIn + 1000), kind: "reset", used }
    }
    if (used >= settings.slowdownAt * settings.limitSeconds) {
      const pause = Math.min(Duration.toMillis(settings.maxSlowdown), resetIn * 0.01)
      return { delay: Duration.millis(pause), kind: "slowdown", used }
    }
    return none
  }

  const check = (method: string): Effect.Effect<Wait, OperatingBudgetStoreError> =>
    settings === "off" ? Effect.succeed(none) : Effect.map(store.get(key(method)), decide)

  /** A report as an entry: the reset measured from the answer's own start; `blockedFor` when none is reported. */
  const entryOf = (operating: PortalLimits.Operating, time: Wire.Time & { readonly operating: number }): Entry => ({
    used: time.operating,
    resetIn: time.operating_reset_at === undefined
      ? Duration.toMillis(operating.blockedFor)
      : Math.max(0, time.operating_reset_at - time.start) * 1000
  })

  const dropped = (error: OperatingBudgetStoreError) =>
    Effect.logWarning(`Bitrix24 operating time not recorded (${error.message}); the portal still enforces its limit`)

  const recordAll = (answers: Iterable<readonly [string, Wire.Time | undefined]>): Effect.Effect<void> => {
    if (settings === "off") return Effect.void
    const reports: Array<readonly [string, Entry]> = []
    for (const [method, time] of answers) {
      if (time !== undefined && time.operating !== undefined) {
        reports.push([key(method), entryOf(settings, { ...time, operating: time.operating })])
      }
    }
    return reports.length === 0 ? Effect.void : Effect.catchAll(store.record(reports), dropped)
  }

  return {
    check,
    gate: (method) =>
      Effect.flatMap(check(method), (wait) => {
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
        : recordAll([[method, time]]),
    recordAll,
    blocked: (method) =>
      settings === "off"
        ? Effect.void
        : Effect.catchAll(
          store.block(key(method), settings.limitSeconds, Duration.toMillis(settings.blockedFor)),
          dropped
        ),
    snapshot: (method) =>
      Effect.map(
        store.get(key(method)),
        Option.match({
          onNone: () => ({ used: 0, resetIn: undefined }),
          onSome: (entry) => ({ used: entry.used, resetIn: entry.resetIn })
        })
      )
  }
}
