/**
 * What the proxy tells monitoring systems: its own metrics, their export in the Prometheus text format, and traces
 * over OTLP.
 *
 * The proxy's metrics (`effect/Metric`), next to the transport's (`@bitrix24-effect/http` `Metrics`, tagged with
 * `portal` and `client`) and the queue's (`Lanes`):
 *
 * | Metric | Kind | Tags | Unit |
 * | --- | --- | --- | --- |
 * | `b24_proxy_requests_total` | counter | `portal`, `client`, `method`, `status`, `outcome` (`Proxy.Kind`) | requests |
 * | `b24_proxy_request_duration_ms` | histogram | `portal` | milliseconds, from the request's arrival to its answer |
 * | `b24_proxy_refused_total` | counter | `reason` (`client_limit`, `too_large`, `draining`), `portal` | requests answered without going upstream |
 *
 * Tags never hold a credential. A request that did not authenticate has the portal, client and method `-`; a client
 * calling many undeclared methods cannot grow the `method` tag past {@link maxMethodTags} values (then `other`).
 *
 * **Prometheus**: {@link layerPrometheus} registers `@effect/opentelemetry`'s metric producer (every Effect metric of
 * the process) with `@opentelemetry/exporter-prometheus`'s reader; {@link Prometheus} `scrape` collects and
 * serializes them with that exporter's `PrometheusSerializer` (counters get the `_total` suffix, histograms their
 * `_bucket`, `_sum` and `_count` series).
 *
 * **Traces**: {@link layerTracingConfig} exports spans with `@effect/opentelemetry`'s `OtlpTracer` when the standard
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT` is set (`OTEL_EXPORTER_OTLP_PROTOCOL`
 * `http/protobuf`, the default, or `http/json`; `OTEL_SERVICE_NAME`, default `b24-proxy`; `OTEL_EXPORTER_OTLP_HEADERS`
 * as `name=value` pairs). The proxy's span is `b24-proxy.request`, the transport's `Bitrix24.http` under it; neither
 * carries a URL or a credential.
 *
 * @since 0.1.0
 */
import * as OtelMetrics from "@effect/opentelemetry/Metrics"
import * as OtlpSerialization from "@effect/opentelemetry/OtlpSerialization"
import * as OtlpTracer from "@effect/opentelemetry/OtlpTracer"
import * as Resource from "@effect/opentelemetry/Resource"
import type * as HttpClient from "@effect/platform/HttpClient"
import { PrometheusExporter, PrometheusSerializer } from "@opentelemetry/exporter-prometheus"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import * as Option from "effect/Option"
import type * as Proxy from "./Proxy.js"
import * as ProxyConfig from "./ProxyConfig.js"

/**
 * Requests answered, by portal, client, method, status and outcome.
 *
 * @since 0.1.0
 * @category metrics
 */
export const requests = Metric.counter("b24_proxy_requests_total", {
  description: "Requests b24-proxy answered, by portal, client, method, status and outcome",
  incremental: true
})

/**
 * Milliseconds from a request's arrival to its answer, by portal.
 *
 * @since 0.1.0
 * @category metrics
 */
export const requestDuration = Metric.histogram(
  "b24_proxy_request_duration_ms",
  MetricBoundaries.exponential({ start: 0.5, factor: 2, count: 18 }),
  "Milliseconds from a b24-proxy request's arrival to its answer"
)

/**
 * Requests answered without going upstream because of a limit, by reason and portal.
 *
 * @since 0.1.0
 * @category metrics
 */
export const refused = Metric.counter("b24_proxy_refused_total", {
  description: "Requests b24-proxy refused before they went upstream, by reason (client_limit, too_large, draining)",
  incremental: true
})

/**
 * The most distinct `method` tag values; further methods are counted as `other`.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxMethodTags = 300

const memo = <A>(make: (key: string) => A) => {
  const cache = new Map<string, A>()
  return (key: string): A => {
    let value = cache.get(key)
    if (value === undefined) {
      value = make(key)
      cache.set(key, value)
    }
    return value
  }
}

const methodTags = new Set<string>()
const methodTag = (answer: Proxy.Answer): string => {
  if (answer.client === undefined || answer.method === undefined) return "-"
  if (methodTags.has(answer.method)) return answer.method
  if (methodTags.size >= maxMethodTags) return "other"
  methodTags.add(answer.method)
  return answer.method
}

const requestsBy = memo((key) => {
  const [portal, client, method, status, outcome] = key.split("\u0000") as [string, string, string, string, string]
  return requests.pipe(
    Metric.tagged("portal", portal),
    Metric.tagged("client", client),
    Metric.tagged("method", method),
    Metric.tagged("status", status),
    Metric.tagged("outcome", outcome)
  )
})
const durationBy = memo((portal) => Metric.tagged(requestDuration, "portal", portal))
const refusedBy = memo((key) => {
  const [reason, portal] = key.split("\u0000") as [string, string]
  return refused.pipe(Metric.tagged("reason", reason), Metric.tagged("portal", portal))
})

const refusals: Partial<Record<Proxy.Kind, string>> = {
  refused: "client_limit",
  too_large: "too_large",
  draining: "draining"
}

/**
 * Records a settled request in the proxy's metrics (synchronously: the request's answer is on its way).
 *
 * @since 0.1.0
 * @category recording
 */
export const record = (answer: Proxy.Answer, durationMs: number): void => {
  const portal = answer.portal ?? "-"
  requestsBy(
    [portal, answer.client ?? "-", methodTag(answer), String(answer.status), answer.kind].join("\u0000")
  ).unsafeUpdate(1, [])
  durationBy(portal).unsafeUpdate(durationMs, [])
  const reason = refusals[answer.kind]
  if (reason !== undefined) refusedBy(`${reason}\u0000${portal}`).unsafeUpdate(1, [])
}

// ---------------------------------------------------------------------------------------------------------------
// Prometheus
// ---------------------------------------------------------------------------------------------------------------

/**
 * The metrics in the Prometheus text format (exposition format 0.0.4).
 *
 * @since 0.1.0
 * @category models
 */
export interface Scraper {
  /** Every metric of the process, serialized now. */
  readonly scrape: Effect.Effect<string>
}

/**
 * The Prometheus export of the process's metrics.
 *
 * @since 0.1.0
 * @category tags
 */
export class Prometheus extends Context.Tag("@bitrix24-effect/proxy/Telemetry/Prometheus")<Prometheus, Scraper>() {}

/**
 * The content type of {@link Scraper.scrape}'s text.
 *
 * @since 0.1.0
 * @category constants
 */
export const prometheusContentType = "text/plain; version=0.0.4; charset=utf-8"

/**
 * {@link Prometheus} over `@opentelemetry/exporter-prometheus` (its reader without its own HTTP server: `/metrics`
 * is served on the proxy's listener), with the resource `service.name` `b24-proxy`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerPrometheus: Layer.Layer<Prometheus> = Layer.scoped(
  Prometheus,
  Effect.gen(function*() {
    const exporter = new PrometheusExporter({ preventServerStart: true })
    const producer = yield* OtelMetrics.makeProducer
    yield* OtelMetrics.registerProducer(producer, () => exporter)
    // No scope label on every series; the resource as target_info.
    const serializer = new PrometheusSerializer(undefined, false, undefined, false, true)
    return {
      scrape: Effect.promise(() => exporter.collect()).pipe(
        Effect.map(({ resourceMetrics }) => serializer.serialize(resourceMetrics))
      )
    }
  })
).pipe(Layer.provide(Resource.layer({ serviceName: "b24-proxy" })))

// ---------------------------------------------------------------------------------------------------------------
// OTLP traces
// ---------------------------------------------------------------------------------------------------------------

/**
 * Where and how spans are exported over OTLP/HTTP.
 *
 * @since 0.1.0
 * @category models
 */
export interface Otlp {
  /** The traces endpoint, e.g. `http://collector:4318/v1/traces`. */
  readonly url: string
  readonly protocol: "http/protobuf" | "http/json"
  readonly serviceName: string
  readonly headers: Readonly<Record<string, string>>
}

const optional = (name: string) =>
  Config.option(Config.string(name)).pipe(
    Effect.map(Option.map((value) => value.trim())),
    Effect.map(Option.filter((value) => value.length > 0)),
    Effect.orElseSucceed(() => Option.none<string>())
  )

const checkUrl = (key: string, value: string) => {
  try {
    const url = new URL(value)
    if (url.protocol === "http:" || url.protocol === "https:") return Effect.succeed(value)
  } catch {
    // reported below
  }
  return Effect.fail(new ProxyConfig.InvalidConfig({ key, reason: "expected an http(s) URL" }))
}

/**
 * The OTLP settings of the standard OpenTelemetry variables (see the module docs), or `None` when neither endpoint
 * variable is set. A bad value fails with `InvalidConfig` naming the variable (never the headers' values).
 *
 * @since 0.1.0
 * @category config
 */
export const otlpConfig: Effect.Effect<Option.Option<Otlp>, ProxyConfig.InvalidConfig> = Effect.gen(function*() {
  const traces = yield* optional("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
  const base = yield* optional("OTEL_EXPORTER_OTLP_ENDPOINT")
  let url: string
  if (Option.isSome(traces)) {
    url = yield* checkUrl("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", traces.value)
  } else if (Option.isSome(base)) {
    url = `${(yield* checkUrl("OTEL_EXPORTER_OTLP_ENDPOINT", base.value)).replace(/\/+$/, "")}/v1/traces`
  } else {
    return Option.none()
  }
  const protocol = Option.getOrElse(yield* optional("OTEL_EXPORTER_OTLP_PROTOCOL"), () => "http/protobuf")
  if (protocol !== "http/protobuf" && protocol !== "http/json") {
    return yield* new ProxyConfig.InvalidConfig({
      key: "OTEL_EXPORTER_OTLP_PROTOCOL",
      reason: "expected http/protobuf or http/json (gRPC is not supported)"
    })
  }
  const headers: Record<string, string> = {}
  for (const pair of Option.getOrElse(yield* optional("OTEL_EXPORTER_OTLP_HEADERS"), () => "").split(",")) {
    if (pair.trim().length === 0) continue
    const at = pair.indexOf("=")
    if (at <= 0) {
      return yield* new ProxyConfig.InvalidConfig({
        key: "OTEL_EXPORTER_OTLP_HEADERS",
        reason: "expected name=value pairs separated by commas"
      })
    }
    headers[decodeURIComponent(pair.slice(0, at).trim())] = decodeURIComponent(pair.slice(at + 1).trim())
  }
  return Option.some({
    url,
    protocol,
    serviceName: Option.getOrElse(yield* optional("OTEL_SERVICE_NAME"), () => "b24-proxy"),
    headers
  })
})

/**
 * Exports spans over OTLP/HTTP with `@effect/opentelemetry`'s `OtlpTracer` (buffered, sent every second and when
 * the scope closes).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerTracing = (otlp: Otlp): Layer.Layer<never, never, HttpClient.HttpClient> =>
  OtlpTracer.layer({
    url: otlp.url,
    resource: { serviceName: otlp.serviceName },
    headers: otlp.headers,
    exportInterval: "1 second"
  }).pipe(
    Layer.provide(otlp.protocol === "http/json" ? OtlpSerialization.layerJson : OtlpSerialization.layerProtobuf)
  )

/**
 * {@link layerTracing} when the environment names an OTLP endpoint ({@link otlpConfig}), else nothing.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerTracingConfig: Layer.Layer<never, ProxyConfig.InvalidConfig, HttpClient.HttpClient> = Layer
  .unwrapEffect(
    Effect.map(otlpConfig, Option.match({ onNone: () => Layer.empty, onSome: layerTracing }))
  )
