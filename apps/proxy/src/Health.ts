/**
 * Liveness and readiness, on the proxy's main listener, outside `/rest/`:
 *
 * - `GET /healthz`: the process is alive and serving (`200 {"status":"alive"}`), nothing else checked.
 * - `GET /readyz`: whether the proxy should get traffic. `200 {"status":"ready","checks":[...]}` when every check
 *   passed its last run; `503 {"status":"not ready","checks":[...]}` with each failing check's `reason` otherwise,
 *   and while the proxy drains. A probe only reads the last results: the checks run in the background, never once
 *   per probe.
 *
 * The checks are a list ({@link Check}): one per upstream portal ({@link portalCheck}, named `portal:{name}`),
 * plus any a deployment adds with {@link layer} (a shared store, for example). Each runs once when the layer is
 * built (so the proxy can refuse to start with a portal out of reach, see `main.ts`), then every `interval`, and
 * every `retryInterval` while it fails.
 *
 * A portal's check is a `batch` call with no commands through the portal's own transport, with the proxy's own
 * credentials: it proves the portal is reachable and accepts the credentials (an OAuth portal's tokens are refreshed
 * if due), runs no method, and costs one request of the portal's leaky bucket (wire sheet §2, §3.1).
 *
 * @since 0.1.0
 */
import { PortalError } from "@bitrix24-effect/core"
import type { SharedState } from "@bitrix24-effect/http"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as Portals from "./Portals.js"

/**
 * A readiness check: `probe` succeeds, or fails with the reason (one line, never a secret). `key` names the setting
 * the checked thing comes from, for a start error (`portals.sales`, `B24_WEBHOOK_URL`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Check {
  readonly name: string
  readonly key: string
  readonly probe: Effect.Effect<void, string>
  /** How often it runs, passing or failing, when not on the {@link Schedules} (a cheap local check). */
  readonly every?: Duration.DurationInput | undefined
}

/**
 * The last result of a check: when it ran (epoch ms) and, when it failed, why.
 *
 * @since 0.1.0
 * @category models
 */
export interface Result {
  readonly name: string
  readonly key: string
  readonly ok: boolean
  readonly reason?: string | undefined
  readonly checkedAt: number
}

/**
 * Readiness now: every check's last result, and whether the proxy drains.
 *
 * @since 0.1.0
 * @category models
 */
export interface Status {
  readonly ready: boolean
  readonly draining: boolean
  readonly checks: ReadonlyArray<Result>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly status: () => Status
  /** From now on the proxy is not ready: it drains (SIGTERM or SIGINT). */
  readonly drain: () => void
}

/**
 * The proxy's readiness.
 *
 * @since 0.1.0
 * @category tags
 */
export class Readiness extends Context.Tag("@bitrix24-effect/proxy/Health/Readiness")<Readiness, Service>() {}

/**
 * How often checks run: every `interval` while they pass, every `retryInterval` while they fail, each within
 * `timeout`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Schedules {
  readonly interval: Duration.DurationInput
  readonly retryInterval: Duration.DurationInput
  readonly timeout: Duration.DurationInput
}

/**
 * The default schedules: every 15 seconds, every 2 seconds while failing, each within 10 seconds.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultSchedules: Schedules = { interval: "15 seconds", retryInterval: "2 seconds", timeout: "10 seconds" }

/** The codes of a portal that is reachable but refuses the proxy's credentials or its REST API. */
const credentialFailure = (failure: PortalError.WireError) =>
  failure.status === 401 || failure.status === 403 || failure.code === "OVERLOAD_LIMIT" ||
  failure.code === "PORTAL_DELETED"

/**
 * The check of a portal (see the module docs). A `QUERY_LIMIT_EXCEEDED` answer says nothing either way (the portal's
 * bucket is checked before the credentials, wire sheet §3.1) and counts as passing.
 *
 * @since 0.1.0
 * @category checks
 */
export const portalCheck = (portal: Portals.Portal, key: string): Check => ({
  name: `portal:${portal.name}`,
  key,
  probe: portal.client.call({ method: "batch", params: { halt: 0, cmd: {} }, idempotent: true, batchable: false })
    .pipe(
      Effect.asVoid,
      Effect.catchAll((failure): Effect.Effect<void, string> => {
        if (failure._tag === "WireFailure") {
          if (failure.code === PortalError.QueryLimitExceeded.spec.code) return Effect.void
          return Effect.fail(
            credentialFailure(failure)
              ? `${portal.origin} refused the proxy's credentials (${failure.code || "an empty code"})`
              : `${portal.origin} answered ${failure.code || "an empty code"} (HTTP ${failure.status ?? "?"})`
          )
        }
        return Effect.fail(`${portal.origin} is out of reach: ${failure.description}`)
      })
    )
})

/**
 * The check of the shared state (`SharedState`): Redis reachable now. It reads the connection's state (no round
 * trip) every second, so readiness turns false within a second of losing Redis and back once it returns.
 *
 * @since 0.1.0
 * @category checks
 */
export const sharedStateCheck = (state: SharedState.Service): Check => ({
  name: "redis",
  key: "B24_REDIS_URL",
  probe: Effect.flatMap(
    state.available,
    (available) => available ? Effect.void : Effect.fail("Redis cannot be reached")
  ),
  every: "1 second"
})

/**
 * Runs the checks once now, then in the background for the scope (see {@link Schedules}).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  checks: ReadonlyArray<Check>,
  schedules: Schedules = defaultSchedules
): Effect.Effect<Service, never, Scope.Scope> =>
  Effect.gen(function*() {
    const results = new Map<string, Result>()
    let draining = false
    const timeout = Duration.decode(schedules.timeout)
    const run = (check: Check) =>
      check.probe.pipe(
        Effect.timeoutFail({
          duration: timeout,
          onTimeout: () => `no answer within ${Duration.format(timeout)}`
        }),
        Effect.match({
          onSuccess: (): Result => ({ name: check.name, key: check.key, ok: true, checkedAt: Date.now() }),
          onFailure: (reason): Result => ({
            name: check.name,
            key: check.key,
            ok: false,
            reason,
            checkedAt: Date.now()
          })
        }),
        Effect.tap((result) => Effect.sync(() => results.set(check.name, result)))
      )
    const first = yield* Effect.forEach(checks, run, { concurrency: "unbounded" })
    // Each check again after `interval` while it passes, after `retryInterval` while it fails.
    const again = (check: Check, last: Result): Effect.Effect<never> =>
      Effect.sleep(check.every ?? (last.ok ? schedules.interval : schedules.retryInterval)).pipe(
        Effect.zipRight(run(check)),
        Effect.flatMap((result) => again(check, result))
      )
    for (const [index, check] of checks.entries()) yield* Effect.forkScoped(again(check, first[index]!))
    return {
      status: () => {
        const list = checks.map((check) => results.get(check.name)!)
        return { ready: !draining && list.every((result) => result.ok), draining, checks: list }
      },
      drain: () => {
        draining = true
      }
    }
  })

/**
 * The readiness of the proxy's portals and of `extra` checks (a deployment's own, e.g. a shared store), run with
 * `schedules`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = <E = never, R = never>(options: {
  readonly schedules?: Schedules | undefined
  readonly extra?: Effect.Effect<ReadonlyArray<Check>, E, R> | undefined
} = {}): Layer.Layer<Readiness, E, Portals.Portals | R> =>
  Layer.scoped(
    Readiness,
    Effect.gen(function*() {
      const portals = yield* Portals.Portals
      const extra = options.extra === undefined ? [] : yield* options.extra
      return yield* make(
        [...portals.all.map((portal) => portalCheck(portal, portal.key)), ...extra],
        options.schedules
      )
    })
  )
