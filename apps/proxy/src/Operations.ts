/**
 * The proxy's operational routes, on its main listener outside `/rest/`:
 *
 * - `GET /healthz`: liveness, `200 {"status":"alive"}` while the process serves.
 * - `GET /readyz`: readiness (`Health`), `200` with every check, or `503` with the failing checks' reasons (and while
 *   the proxy drains). Never a portal call per probe: the checks run in the background.
 * - `GET /metrics`: every metric of the process in the Prometheus text format (`Telemetry.Prometheus`). With
 *   `B24_PROXY_METRICS_TOKEN` set, only for `Authorization: Bearer {token}` (else `401`).
 *
 * - `/_admin/...`: the admin API (`Admin`), when `B24_PROXY_ADMIN_TOKEN` is set.
 *
 * Any other path is `404`.
 *
 * @since 0.1.0
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Crypto from "node:crypto"
import * as Health from "./Health.js"
import * as ProxyConfig from "./ProxyConfig.js"
import * as Telemetry from "./Telemetry.js"

/**
 * The settings of the routes: the token `/metrics` asks for, if any.
 *
 * @since 0.1.0
 * @category models
 */
export interface Settings {
  readonly metricsToken: Option.Option<Redacted.Redacted<string>>
  readonly adminToken: Option.Option<Redacted.Redacted<string>>
}

const token = (name: string) =>
  Config.option(Config.redacted(name)).pipe(
    Effect.map(Option.filter((value) => Redacted.value(value).trim().length > 0)),
    Effect.mapError((error) => new ProxyConfig.InvalidConfig({ key: name, reason: String(error) }))
  )

/**
 * The settings from `B24_PROXY_METRICS_TOKEN` (unset or empty: `/metrics` is open) and `B24_PROXY_ADMIN_TOKEN`
 * (unset or empty: no admin API).
 *
 * @since 0.1.0
 * @category config
 */
export const settingsConfig: Effect.Effect<Settings, ProxyConfig.InvalidConfig> = Effect.all({
  metricsToken: token("B24_PROXY_METRICS_TOKEN"),
  adminToken: token("B24_PROXY_ADMIN_TOKEN")
})

const digest = (value: string) => Crypto.createHash("sha256").update(value).digest()

/**
 * Whether a given token is the configured one (SHA-256 digests compared in constant time).
 *
 * @since 0.1.0
 * @category auth
 */
export const tokenMatches = (given: string, token: Redacted.Redacted<string>): boolean =>
  Crypto.timingSafeEqual(digest(given.trim()), digest(Redacted.value(token)))

/**
 * Whether an `Authorization` header carries `Bearer {token}` ({@link tokenMatches}).
 *
 * @since 0.1.0
 * @category auth
 */
export const bearerMatches = (authorization: string | undefined, token: Redacted.Redacted<string>): boolean => {
  const match = /^Bearer\s+(.+)$/i.exec(authorization ?? "")
  return match !== null && tokenMatches(match[1]!, token)
}

/**
 * `GET /healthz`.
 *
 * @since 0.1.0
 * @category routes
 */
export const healthz = HttpServerResponse.unsafeJson({ status: "alive" })

/**
 * `GET /readyz` (see the module docs).
 *
 * @since 0.1.0
 * @category routes
 */
export const readyz = Effect.map(Health.Readiness, (readiness) => {
  const status = readiness.status()
  const checks = status.checks.map((check) =>
    check.ok
      ? { name: check.name, ok: true }
      : { name: check.name, ok: false, reason: check.reason ?? "failed" }
  )
  return status.ready
    ? HttpServerResponse.unsafeJson({ status: "ready", checks })
    : HttpServerResponse.unsafeJson(
      { status: "not ready", ...(status.draining ? { reason: "draining" } : {}), checks },
      { status: 503 }
    )
})

/**
 * `GET /metrics` (see the module docs).
 *
 * @since 0.1.0
 * @category routes
 */
export const metrics = (settings: Settings) =>
  Effect.gen(function*() {
    if (Option.isSome(settings.metricsToken)) {
      const request = yield* HttpServerRequest.HttpServerRequest
      if (!bearerMatches(request.headers["authorization"], settings.metricsToken.value)) {
        return HttpServerResponse.text("Unauthorized", {
          status: 401,
          headers: { "www-authenticate": "Bearer realm=\"b24-proxy metrics\"" }
        })
      }
    }
    const text = yield* Effect.flatMap(Telemetry.Prometheus, (prometheus) => prometheus.scrape)
    return HttpServerResponse.text(text, { contentType: Telemetry.prometheusContentType })
  })

/**
 * The routes as one HttpApp, with the admin API (`Admin.make`) under `/_admin/` when given.
 *
 * @since 0.1.0
 * @category routes
 */
export const router = <E, R>(
  settings: Settings,
  admin: Option.Option<Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>>
) => {
  const routes = HttpRouter.empty.pipe(
    HttpRouter.get("/healthz", Effect.succeed(healthz)),
    HttpRouter.get("/readyz", readyz),
    HttpRouter.get("/metrics", metrics(settings))
  )
  return Option.isSome(admin) ? HttpRouter.mountApp(routes, "/_admin", admin.value, { includePrefix: true }) : routes
}
