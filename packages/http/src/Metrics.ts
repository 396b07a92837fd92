/**
 * The transport's metrics (`effect/Metric`), for any Effect metrics exporter (OpenTelemetry, Prometheus). Tags carry
 * method names, outcomes and portal hosts, never credentials.
 *
 * | Metric | Kind | Tags | Unit |
 * | --- | --- | --- | --- |
 * | `bitrix24_calls_total` | counter | `method`, `outcome` (`ok`, the error code, or the transport reason) | calls |
 * | `bitrix24_call_duration_ms` | histogram | `method` | milliseconds, from the call to its answer |
 * | `bitrix24_http_requests_total` | counter | `kind` (`call`, `batch`) | HTTP requests sent |
 * | `bitrix24_batch_size` | histogram | | commands per `batch` request |
 * | `bitrix24_limiter_wait_ms` | histogram | `limit` (`bucket`, `operating`) | milliseconds waited before a request |
 * | `bitrix24_retries_total` | counter | `method`, `classification` | retries |
 * | `bitrix24_token_refreshes_total` | counter | `outcome` (`ok`, `failed`, `reauthorize`) | refreshes |
 * | `bitrix24_portal_moves_total` | counter | | 302 portal address changes followed |
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import * as MetricKey from "effect/MetricKey"
import type * as MetricKeyType from "effect/MetricKeyType"

const millis = MetricBoundaries.exponential({ start: 1, factor: 2, count: 18 })

// The keys of the metrics recorded per call or per request. A metric made from a key that already carries all its
// tags (`Metric.fromMetricKey`) finds its registry entry once and keeps it; `Metric.tagged` would build a new key,
// hash it and look it up in the registry on every update. Both name the same registry entry.
const callsKey = MetricKey.counter("bitrix24_calls_total", {
  description: "Bitrix24 REST calls by method and outcome",
  incremental: true
})
const callDurationKey = MetricKey.histogram(
  "bitrix24_call_duration_ms",
  millis,
  "Bitrix24 REST call latency in milliseconds"
)
const httpRequestsKey = MetricKey.counter("bitrix24_http_requests_total", {
  description: "HTTP requests sent to Bitrix24 portals",
  incremental: true
})
const limiterWaitKey = MetricKey.histogram(
  "bitrix24_limiter_wait_ms",
  millis,
  "Milliseconds waited for the Bitrix24 limits before a request"
)
const retriesKey = MetricKey.counter("bitrix24_retries_total", {
  description: "Bitrix24 REST call retries by method and classification",
  incremental: true
})

/**
 * Calls by method and outcome.
 *
 * @since 0.1.0
 * @category metrics
 */
export const calls: Metric.Metric.Counter<number> = Metric.fromMetricKey(callsKey)

/**
 * Call latency in milliseconds, by method: from the call until its answer, waits and retries included.
 *
 * @since 0.1.0
 * @category metrics
 */
export const callDuration: Metric.Metric.Histogram<number> = Metric.fromMetricKey(callDurationKey)

/**
 * HTTP requests sent, by kind (`call` or `batch`).
 *
 * @since 0.1.0
 * @category metrics
 */
export const httpRequests: Metric.Metric.Counter<number> = Metric.fromMetricKey(httpRequestsKey)

/**
 * Commands per `batch` request.
 *
 * @since 0.1.0
 * @category metrics
 */
export const batchSize = Metric.histogram(
  "bitrix24_batch_size",
  MetricBoundaries.linear({ start: 1, width: 7, count: 8 }),
  "Commands per Bitrix24 batch request"
)

/**
 * Milliseconds waited before a request, by limit (`bucket`: the leaky bucket; `operating`: the operating time).
 *
 * @since 0.1.0
 * @category metrics
 */
export const limiterWait: Metric.Metric.Histogram<number> = Metric.fromMetricKey(limiterWaitKey)

/**
 * Retries by method and classification (`refused`, `not-sent`, `ambiguous`).
 *
 * @since 0.1.0
 * @category metrics
 */
export const retries: Metric.Metric.Counter<number> = Metric.fromMetricKey(retriesKey)

/**
 * OAuth token refreshes by outcome.
 *
 * @since 0.1.0
 * @category metrics
 */
export const refreshes = Metric.counter("bitrix24_token_refreshes_total", {
  description: "Bitrix24 OAuth token refreshes by outcome",
  incremental: true
})

/**
 * Portal address changes (HTTP 302 to a renamed portal) followed.
 *
 * @since 0.1.0
 * @category metrics
 */
export const portalMoves = Metric.counter("bitrix24_portal_moves_total", {
  description: "Bitrix24 portal address changes followed",
  incremental: true
})

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

/** The metric of `key` with these tags, in this order (see the keys above). */
const withTags = <Type extends MetricKeyType.MetricKeyType<any, any>>(
  key: MetricKey.MetricKey<Type>,
  ...tags: ReadonlyArray<readonly [name: string, value: string]>
) => Metric.fromMetricKey(tags.reduce((tagged, [name, value]) => MetricKey.tagged(tagged, name, value), key))

const refreshesBy = memo((outcome) => Metric.tagged(refreshes, "outcome", outcome))
const waitsBy = memo((limit) => withTags(limiterWaitKey, ["limit", limit]))
const requestsBy = memo((kind) => withTags(httpRequestsKey, ["kind", kind]))

/**
 * Counts one refresh with its outcome.
 *
 * @since 0.1.0
 * @category recording
 */
export const refreshed = (outcome: "ok" | "failed" | "reauthorize"): Effect.Effect<void> =>
  Metric.increment(refreshesBy(outcome))

/**
 * Records a wait for a limit, in milliseconds.
 *
 * @since 0.1.0
 * @category recording
 */
export const waited = (limit: "bucket" | "operating", ms: number): Effect.Effect<void> =>
  Metric.update(waitsBy(limit), ms)

/**
 * Counts one HTTP request of a kind (`call` or `batch`).
 *
 * @since 0.1.0
 * @category recording
 */
export const requested = (kind: "call" | "batch"): Effect.Effect<void> => Metric.increment(requestsBy(kind))

/**
 * The metrics of one method, tagged once and kept: each is made from its fully tagged key, so an update goes straight
 * to its registry entry.
 *
 * @since 0.1.0
 * @category recording
 */
export interface MethodMetrics {
  readonly calls: (outcome: string) => Metric.Metric.Counter<number>
  readonly duration: Metric.Metric.Histogram<number>
  readonly retries: (classification: string) => Metric.Metric.Counter<number>
}

const byMethod = new Map<string, MethodMetrics>()

/**
 * The tagged metrics of a method.
 *
 * @since 0.1.0
 * @category recording
 */
export const forMethod = (method: string): MethodMetrics => {
  let metrics = byMethod.get(method)
  if (metrics === undefined) {
    metrics = {
      calls: memo((outcome) => withTags(callsKey, ["method", method], ["outcome", outcome])),
      duration: withTags(callDurationKey, ["method", method]),
      retries: memo((classification) => withTags(retriesKey, ["method", method], ["classification", classification]))
    }
    byMethod.set(method, metrics)
  }
  return metrics
}
