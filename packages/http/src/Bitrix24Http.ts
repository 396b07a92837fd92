/**
 * The Bitrix24 transport over `@effect/platform` HttpClient: provides the core `Bitrix24Client` for an inbound
 * webhook, an OAuth access token, or an OAuth application whose tokens refresh themselves.
 *
 * Each call is a JSON `POST` to `{base}/{method}.json` (wire sheet §1.1, §1.2); the body is the wire params, plus
 * `auth` for OAuth. The envelope is decoded into a result or a `WireFailure` carrying code, description and status
 * (§1.4, §1.5). Non-JSON bodies (HTML error pages, truncated JSON) and network failures become `TransportError`.
 *
 * Around every call, so that a user who just composes Effects does not meet them:
 * - **Limits** (`PortalLimits`, §3): a client-side leaky bucket per portal and an operating-time budget per auth
 *   entity and method; requests wait instead of meeting 503 `QUERY_LIMIT_EXCEEDED` or 429 `OPERATION_TIME_LIMIT`.
 *   Their state lives in the `RateLimiter` and the `OperatingBudget.OperatingBudgetStore` in context: this process's
 *   memory, or Redis for every process of the portal (`SharedState.layerRedis`).
 * - **Retries** (`RetryPolicy`): proven refusals always; requests that never left; ambiguous failures only for
 *   idempotent methods (with `RetryPolicy.layer()`); a non-idempotent call whose outcome is unknown fails with
 *   `RetryPolicy.OutcomeUnknown` naming the method.
 * - **OAuth** (`OAuth`, §4): tokens refreshed ahead of expiry and on `expired_token` / `invalid_token` (then the
 *   request is replayed once), single-flight, persisted in the `TokenStore` first.
 * - **Automatic batching** (the `batching` option, §2): concurrent calls coalesced into `batch` requests of up to 50,
 *   each call with its own outcome; one call's bad params or failure never fails the others.
 * - **Portal rename** (§1.1): a 302 to a new address is followed with the same `POST`, the new address is kept for
 *   later calls, logged (origins only) and published in {@link PortalAddress}.
 * - **Timeout**: each request within 55 s by default (the cloud cuts requests at 60 s, §3.1).
 * - **Secrets** stay `Redacted` until the request is built: HttpClient's own spans (which carry the full URL) are off
 *   for portal and token calls, and no error, log line or span contains the URL, a token or the client secret.
 * - **Observability**: one span `Bitrix24.http` per call (method, portal and host, batch size, attempts, limiter
 *   wait, outcome) and the metrics of the `Metrics` module.
 *
 * The transport layers name what they need in their requirements: an `HttpClient` and the {@link Policies} (the
 * `RetryPolicy`, the `PortalLimits`, the `RateLimiter` the leaky bucket runs on and the operating budget's store).
 * {@link layerDefaults} provides the policies with their defaults in one layer:
 *
 * ```ts
 * Bitrix24Http.layerWebhook(url).pipe(
 *   Layer.provide(Bitrix24Http.layerDefaults),
 *   Layer.provide(NodeHttpClient.layerUndici)
 * )
 * ```
 *
 * @since 0.1.0
 */
import { BatchProtocol, Bitrix24Client, Envelope as WireEnvelope, PortalError, Wire } from "@bitrix24-effect/core"
import type * as RateLimiter from "@effect/experimental/RateLimiter"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FiberRef from "effect/FiberRef"
import { globalValue } from "effect/GlobalValue"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as SubscriptionRef from "effect/SubscriptionRef"
import * as BucketLoader from "./internal/bucketLoader.js"
import * as Coalescing from "./internal/coalescing.js"
import * as PortalClient from "./internal/portalClient.js"
import * as Metrics from "./Metrics.js"
import * as OAuth from "./OAuth.js"
import * as OperatingBudget from "./OperatingBudget.js"
import * as PortalLimits from "./PortalLimits.js"
import * as RetryPolicy from "./RetryPolicy.js"
import type * as TokenStore from "./TokenStore.js"

/**
 * Where calls go and how they authenticate.
 * - `portal`: the portal's origin, safe to log (`https://example.bitrix24.com`).
 * - `base`: the REST base URL ending in `/`; for a webhook it contains the secret code, hence `Redacted`.
 * - `auth`: extra body params per request (`{}` for a webhook, `{ auth: token }` for OAuth), read fresh each time.
 * - `renew`: for credentials that can be renewed (OAuth): called with the params that were sent when the portal
 *   answered `expired_token` or `invalid_token`; the request is then sent once more.
 * - `key`: what identifies the portal in the keys of its limits' state (the leaky bucket, the operating budget):
 *   its `member_id` when known, else its host (the default, from `portal`).
 * - `entity`: the auth entity the portal charges operating time to (wire sheet §3.2): `webhook:{user_id}` for an
 *   inbound webhook, `app:{client_id}` for an OAuth application (default `"default"`).
 *
 * Neither `key` nor `entity` may hold a secret: they name the shared state (Redis keys, with `SharedState`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Endpoint {
  readonly portal: string
  readonly base: Redacted.Redacted<string>
  readonly auth: Effect.Effect<Readonly<Record<string, string>>, OAuth.OAuthError>
  readonly renew?: ((sent: Readonly<Record<string, string>>) => Effect.Effect<void, OAuth.OAuthError>) | undefined
  readonly key?: string | undefined
  readonly entity?: string | undefined
}

/**
 * A parsed inbound webhook URL: `https://{portal}/rest/{user_id}/{code}/` (wire sheet §1.1).
 *
 * @since 0.1.0
 * @category models
 */
export interface WebhookUrl {
  readonly portal: string
  readonly userId: string
  readonly code: Redacted.Redacted<string>
}

/**
 * The webhook URL could not be read. The message names the expected form but never echoes the URL.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidWebhookUrl extends Schema.TaggedError<InvalidWebhookUrl>(
  "@bitrix24-effect/http/InvalidWebhookUrl"
)("InvalidWebhookUrl", { reason: Schema.String }) {
  override get message(): string {
    return `invalid inbound webhook URL (${this.reason}); expected https://<portal>/rest/<user_id>/<code>/`
  }
}

const webhookPattern = /^(https?:\/\/[^/?#]+)((?:\/[^/?#]+)*?)\/rest\/([^/?#]+)\/([^/?#]+)\/?(?:[^/?#]+\.json)?$/

/**
 * Parses an inbound webhook URL. A trailing method (`.../crm.deal.add.json`) is tolerated and dropped.
 *
 * @since 0.1.0
 * @category constructors
 */
export const parseWebhookUrl = (url: Redacted.Redacted<string>): Either.Either<WebhookUrl, InvalidWebhookUrl> => {
  const value = Redacted.value(url).trim()
  if (value.length === 0) return Either.left(new InvalidWebhookUrl({ reason: "empty" }))
  const match = webhookPattern.exec(value)
  if (match === null) return Either.left(new InvalidWebhookUrl({ reason: "not of the inbound webhook form" }))
  try {
    // The pattern lets through what URL cannot parse (an unclosed IPv6 address, a bad port).
    new URL(match[1]!)
  } catch {
    return Either.left(new InvalidWebhookUrl({ reason: "the portal address is not a valid URL" }))
  }
  return Either.right({ portal: match[1]! + match[2]!, userId: match[3]!, code: Redacted.make(match[4]!) })
}

/**
 * The endpoint of an inbound webhook.
 *
 * @since 0.1.0
 * @category constructors
 */
export const webhookEndpoint = (webhook: WebhookUrl): Endpoint => ({
  portal: webhook.portal,
  base: Redacted.make(`${webhook.portal}/rest/${webhook.userId}/${Redacted.value(webhook.code)}/`),
  auth: PortalClient.noAuth,
  entity: `webhook:${webhook.userId}`
})

const restBase = (restUrl: string) => restUrl.endsWith("/") ? restUrl : `${restUrl}/`

/**
 * The endpoint of an OAuth application with a fixed access token. `restUrl` is the token response's
 * `client_endpoint` (`https://{portal}/rest/`). For tokens that refresh themselves see {@link layerOAuth}.
 *
 * @since 0.1.0
 * @category constructors
 */
export const oauthTokenEndpoint = (options: {
  readonly restUrl: string
  readonly accessToken: Redacted.Redacted<string>
}): Endpoint => {
  const base = restBase(options.restUrl)
  return {
    portal: new URL(base).origin,
    base: Redacted.make(base),
    auth: Effect.sync(() => ({ auth: Redacted.value(options.accessToken) }))
  }
}

/**
 * The endpoint of an OAuth session: the access token of the session's current tokens (refreshed ahead of expiry),
 * renewed when the portal rejects it. Calls go to the stored tokens' `restUrl` (the portal's `client_endpoint`); the
 * limits' state is keyed by their `memberId` (else the portal's host) and the session's application.
 *
 * @since 0.1.0
 * @category constructors
 */
export const oauthSessionEndpoint = (
  session: OAuth.Session,
  tokens: Pick<TokenStore.Tokens, "restUrl" | "memberId">
): Endpoint => {
  const base = restBase(tokens.restUrl)
  return {
    portal: new URL(base).origin,
    base: Redacted.make(base),
    auth: Effect.map(session.current, (current) => ({ auth: Redacted.value(current.accessToken) })),
    renew: (sent) => Effect.asVoid(session.renew(Redacted.make(sent.auth ?? ""))),
    key: tokens.memberId,
    entity: `app:${session.clientId}`
  }
}

/**
 * What names a portal in the keys of its limits' state: the endpoint's `key` (its `member_id`), else its host.
 *
 * @since 0.1.0
 * @category constructors
 */
export const portalKey = (endpoint: Endpoint): string => endpoint.key ?? new URL(endpoint.portal).host

/**
 * Automatic batching settings: calls arriving within `window` (default 10 ms) are coalesced into `batch` requests of
 * at most `maxBatchSize` commands (default and maximum 50, wire sheet §2).
 *
 * @since 0.1.0
 * @category models
 */
export interface BatchingOptions {
  readonly window?: Duration.DurationInput | undefined
  readonly maxBatchSize?: number | undefined
}

/**
 * The portal's current origin: the configured one, or the new address after the portal answered a 302 to it (a
 * renamed portal, wire sheet §1.1). Subscribe to `changes` to be told.
 *
 * @since 0.1.0
 * @category tags
 */
export class PortalAddress extends Context.Tag("@bitrix24-effect/http/PortalAddress")<
  PortalAddress,
  SubscriptionRef.SubscriptionRef<string>
>() {}

/**
 * Transport settings:
 * - `timeout`: each HTTP request, headers and body, within this (default 55 s, inside the cloud's 60 s request limit,
 *   wire sheet §3.1); the wait for the leaky bucket is not counted.
 * - `batching`: automatic batching, `true` or its settings; default off. Calls issued concurrently (`Effect.all` /
 *   `Effect.forEach` with `batching: true`, or any fibers within the window) then travel in `batch` requests; calls
 *   whose method may not be batched (`CallRequest.batchable` false, or `batch`, `download`, `upload`) and calls whose
 *   params contain `$result[`-style back-references go alone. It is an option of the transport rather than a service:
 *   it decides how this transport sends, and leaving it out means "each call is its own request", a safe default.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly timeout?: Duration.DurationInput | undefined
  readonly batching?: boolean | BatchingOptions | undefined
}

/**
 * The services every transport layer requires besides an `HttpClient`: the `RetryPolicy`, the `PortalLimits`, the
 * `RateLimiter` the leaky bucket runs on (`@effect/experimental`) and the `OperatingBudget.OperatingBudgetStore`.
 * {@link layerDefaults} provides all four.
 *
 * @since 0.1.0
 * @category models
 */
export type Policies =
  | RetryPolicy.RetryPolicy
  | PortalLimits.PortalLimits
  | RateLimiter.RateLimiter
  | OperatingBudget.OperatingBudgetStore

/**
 * The {@link Policies} with their defaults: `RetryPolicy.layerDefault` (proven refusals only), `PortalLimits.layer()`
 * (the `standard` bucket of 50 draining 2 per second, the 480 s operating budget) and `PortalLimits.layerMemory`
 * (the buckets and the operating budget in this process's memory, shared by every transport the layer is provided
 * to). Provide other layers in front of it to replace any of them, e.g.
 * `Layer.provide(RetryPolicy.layer()), Layer.provide(Bitrix24Http.layerDefaults)` for the safe retry policy, or
 * `Layer.provide(SharedState.layerConfig()), Layer.provide(Bitrix24Http.layerDefaults)` for limits shared
 * between processes.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerDefaults: Layer.Layer<Policies> = Layer.mergeAll(
  RetryPolicy.layerDefault,
  PortalLimits.layer(),
  PortalLimits.layerMemory
)

/**
 * What the transport knows of one call once it has settled: its method, its `outcome` (`ok`, the error code, or the
 * transport reason, as in the `bitrix24_calls_total` metric), the HTTP requests that carried it (`attempts`: the
 * first one and each retry), the commands of the last request that carried it (`batchSize`, 1 when alone), the
 * milliseconds it waited for the leaky bucket and for the operating-time budget, and its whole duration in
 * milliseconds. No credentials, no URL.
 *
 * @since 0.1.0
 * @category models
 */
export interface CallReport {
  readonly method: string
  readonly outcome: string
  readonly attempts: number
  readonly batchSize: number
  readonly bucketWaitMs: number
  readonly operatingWaitMs: number
  readonly durationMs: number
}

/**
 * Told about each call the current fiber makes through a transport, once the call settles (see {@link CallReport}).
 * A server in front of a portal sets it on each request's fiber (`FiberRef.set`) to log what its calls cost; unset,
 * nothing is reported.
 *
 * @since 0.1.0
 * @category observability
 */
export const currentCallReporter: FiberRef.FiberRef<((report: CallReport) => void) | undefined> = globalValue(
  Symbol.for("@bitrix24-effect/http/Bitrix24Http/currentCallReporter"),
  () => FiberRef.unsafeMake<((report: CallReport) => void) | undefined>(undefined)
)

/**
 * A running transport: the core service plus the portal's current address.
 *
 * @since 0.1.0
 * @category models
 */
export interface Transport extends Bitrix24Client.Service {
  readonly portal: SubscriptionRef.SubscriptionRef<string>
}

const decodeEnvelope = Schema.decodeUnknownEither(Wire.Envelope)

/** Connection errors raised before a request is written: nothing reached the portal. */
const notSentCodes: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "UND_ERR_CONNECT_TIMEOUT"
])

const causeCode = (cause: unknown): string | undefined => {
  if (typeof cause !== "object" || cause === null) return undefined
  if ("code" in cause && typeof cause.code === "string") return cause.code
  return "cause" in cause ? causeCode(cause.cause) : undefined
}

/** How a failure shows in the `outcome` tag of the calls metric. */
const outcomeTag = (error: RetryPolicy.AttemptError): string =>
  error._tag === "WireFailure"
    ? (error.code || "(empty code)")
    : error instanceof RetryPolicy.OutcomeUnknown
    ? "outcome_unknown"
    : `transport_${error.reason}`

const oauthFailure = (method: string, error: OAuth.OAuthError): RetryPolicy.AttemptError =>
  error._tag === "ReauthorizationRequired"
    ? new Bitrix24Client.WireFailure({
      code: error.code,
      description: `${error.description}; the OAuth application must be authorized on the portal again`,
      status: error.status ?? 401
    })
    : error.reason === "Store"
    ? new RetryPolicy.StateUnavailable({ method, reason: "Network", description: error.message })
    : new RetryPolicy.NotSent({
      method,
      reason: error.reason === "Timeout" ? "Timeout" : error.reason === "InvalidBody" ? "InvalidBody" : "Network",
      description: error.message
    })

/** What the portal client can fail with: HTTP, its timeout, the rate limiter's store, the OAuth refresh. */
type ExchangeError =
  | HttpClientError.HttpClientError
  | Cause.TimeoutException
  | RateLimiter.RateLimitStoreError
  | OAuth.OAuthError

/** An exchange's failure as the failure of an attempt of `method`; the messages never contain the URL. */
const attemptError = (method: string, timeout: Duration.DurationInput) => (error: ExchangeError) => {
  switch (error._tag) {
    case "RequestError": {
      const code = causeCode(error.cause)
      const props = {
        method,
        reason: "Network" as const,
        description: code === undefined
          ? "the request failed before a response arrived"
          : `the request failed (${code})`
      }
      return code !== undefined && notSentCodes.has(code)
        ? new RetryPolicy.NotSent(props)
        : new PortalError.TransportError(props)
    }
    case "ResponseError":
      return new PortalError.TransportError({
        method,
        reason: "InvalidBody",
        description: error.reason === "Decode"
          ? "the response body could not be read"
          : `the response could not be read (${error.reason})`,
        status: error.response.status
      })
    case "TimeoutException":
      return new PortalError.TransportError({
        method,
        reason: "Timeout",
        description: `no response within ${Duration.format(Duration.decode(timeout))}`
      })
    case "RateLimiterError":
      return new RetryPolicy.StateUnavailable({
        method,
        reason: "Network",
        description: `the leaky bucket's store failed, nothing was sent: ${error.message}`
      })
    case "ReauthorizationRequired":
    case "TokenRefreshFailed":
      return oauthFailure(method, error)
  }
}

/**
 * A non-idempotent call that failed ambiguously becomes {@link RetryPolicy.OutcomeUnknown}; everything else is kept.
 */
const settle = (
  request: Bitrix24Client.CallRequest,
  error: RetryPolicy.AttemptError,
  attempts: number
): RetryPolicy.AttemptError => {
  if (request.idempotent || RetryPolicy.classify(error) !== "ambiguous") return error
  if (error._tag === "WireFailure") {
    return new RetryPolicy.OutcomeUnknown({
      method: request.method,
      reason: "InvalidBody",
      description: `the portal answered ${error.code || "an empty error code"}: ${error.description}`,
      ...(error.status === undefined ? {} : { status: error.status }),
      attempts,
      wire: { code: error.code, description: error.description }
    })
  }
  return new RetryPolicy.OutcomeUnknown({
    method: request.method,
    reason: error.reason,
    description: error.description,
    ...(error.status === undefined ? {} : { status: error.status }),
    attempts
  })
}

/**
 * A response body as an envelope: the call's response, its `WireFailure` (with the envelope as sent), or
 * `InvalidBody` when it is neither. Both carry the portal's `X-Bitrix-Rest-*` headers (`Envelope.portalHeaders`).
 */
const decode = (
  method: string,
  status: number,
  text: string,
  headers: Readonly<Record<string, string>>
): Either.Either<Bitrix24Client.CallResponse, RetryPolicy.AttemptError> => {
  const invalidBody = (description: string) =>
    new PortalError.TransportError({ method, reason: "InvalidBody", description, status })
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return Either.left(invalidBody(`not a JSON envelope (${text.length} bytes)`))
  }
  const envelope = decodeEnvelope(json)
  if (Either.isLeft(envelope)) return Either.left(invalidBody("not a Bitrix24 envelope"))
  const value = envelope.right
  if ("error" in value) {
    return Either.left(
      new Bitrix24Client.WireFailure({
        code: value.error,
        description: value.error_description,
        status,
        envelope: json as Readonly<Record<string, unknown>>,
        headers: WireEnvelope.portalHeaders(headers)
      })
    )
  }
  return Either.right<Bitrix24Client.CallResponse>({
    result: value.result,
    time: Option.fromNullable(value.time),
    next: Option.fromNullable(value.next),
    total: Option.fromNullable(value.total),
    headers: WireEnvelope.portalHeaders(headers)
  })
}

/** The body of a call: its params as JSON, or {@link RetryPolicy.UnencodableParams} when they cannot be. */
const jsonBody = (method: string, params: Wire.Params): Either.Either<string, RetryPolicy.UnencodableParams> => {
  try {
    return Either.right(JSON.stringify(params))
  } catch (cause) {
    return Either.left(RetryPolicy.unencodable(method, cause))
  }
}

/**
 * Makes the transport for an endpoint over the HttpClient in context, with the `RetryPolicy`, the `PortalLimits` and
 * the `RateLimiter` in context (see {@link Policies}).
 *
 * The HttpClient is decorated for the portal: each HTTP request waits for the leaky bucket, goes to the portal's
 * current address with the endpoint's credentials, follows a moved portal (at most 3 moves in a row), has the
 * credentials renewed once when the portal rejects them, and completes within the timeout. What stays here is each
 * call's own work: encode the request, execute it, decode the envelope, apply the retry policy and the operating
 * budget, and record the span and the metrics.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  endpoint: Endpoint,
  options: Options = {}
): Effect.Effect<Transport, never, HttpClient.HttpClient | Policies | Scope.Scope> =>
  Effect.gen(function*() {
    const timeout = options.timeout ?? "55 seconds"
    const policy = yield* RetryPolicy.RetryPolicy
    const limits = yield* PortalLimits.PortalLimits
    // The portal's limits, keyed per portal ({member_id or host}) and, for operating time, per auth entity.
    const scope = `portal:${portalKey(endpoint)}`
    const take = yield* PortalLimits.makeBucket(limits.bucket, scope, limits.headroom)
    const budget = OperatingBudget.make(
      limits.operating,
      yield* OperatingBudget.OperatingBudgetStore,
      `${scope}:operating:${endpoint.entity ?? "default"}`
    )
    const portal = yield* SubscriptionRef.make(endpoint.portal)
    // The base URL follows the portal when it moves; the path part (with a webhook's code) stays.
    const initial = PortalClient.makeAddress(endpoint.portal, endpoint.base)
    const address = yield* Ref.make(initial)
    const client = (yield* HttpClient.HttpClient).pipe(
      HttpClient.withTracerDisabledWhen(() => true),
      PortalClient.withTimeout(timeout),
      PortalClient.withBucket(take),
      PortalClient.withAddress(address),
      PortalClient.withRedirects({ address, portal, maxMoves: 3 }),
      PortalClient.withCredentials(endpoint)
    )

    /** The operating budget's wait before an attempt; a store out of reach fails the call, nothing sent. */
    const gate = (method: string) =>
      Effect.mapError(budget.gate(method), (error) =>
        new RetryPolicy.StateUnavailable({
          method,
          reason: "Network",
          description: `the operating budget's store failed, nothing was sent: ${error.description}`
        }))

    /** Charges the operating time an answer reports: each command's own for `batch` (wire sheet §3.2). */
    const charge = (method: string, params: Wire.Params, response: Bitrix24Client.CallResponse) => {
      if (method !== "batch") return budget.record(method, Option.getOrUndefined(response.time))
      const decoded = BatchProtocol.decodeResult(response.result)
      if (Either.isLeft(decoded)) return Effect.void
      // One pass over the commands, one store update for all of them.
      const answers: Array<readonly [string, Wire.Time | undefined]> = []
      for (const [key, commandMethod] of BatchProtocol.commandMethods(params)) {
        const outcome = BatchProtocol.outcomeOf(decoded.right, key)
        if (outcome._tag === "Result") answers.push([commandMethod, Option.getOrUndefined(outcome.response.time)])
      }
      return budget.recordAll(answers)
    }

    /**
     * One request to the portal for the calls it carries: encoded, executed through the portal client (which tells
     * the calls' stats and the metrics about each HTTP request it sends), decoded.
     */
    const send: Coalescing.Send = (method, params, carried) => {
      const body = jsonBody(method, params)
      if (Either.isLeft(body)) return Effect.fail(body.left)
      const batch = method === "batch"
      for (const stats of carried) stats.batchSize = batch ? carried.length : 1
      const sent = batch
        ? Effect.zipRight(Metrics.requested("batch"), Metric.update(Metrics.batchSize, carried.length))
        : Metrics.requested("call")
      // Per HTTP request: its wait for the bucket, and the address it goes to (a moved portal's new one).
      const observe = (waitedMs: number) =>
        Effect.flatMap(Ref.get(address), (current) => {
          for (const stats of carried) {
            stats.bucketWaitMs += waitedMs
            stats.address = current
          }
          return waitedMs <= 0 ? sent : Effect.zipRight(Metrics.waited("bucket", waitedMs), sent)
        })
      const request = HttpClientRequest.post(`${method}.json`, { acceptJson: true }).pipe(
        HttpClientRequest.bodyText(body.right, "application/json")
      )
      return Effect.matchEffect(PortalClient.observeRequests(client.execute(request), observe), {
        onFailure: (error) => Effect.fail(attemptError(method, timeout)(error)),
        onSuccess: (response) => {
          // The portal client read the body within the timeout.
          const text = PortalClient.bodyOf(response) ?? ""
          const outcome = decode(method, response.status, text, response.headers)
          return Either.isRight(outcome)
            ? Effect.as(charge(method, params, outcome.right), outcome.right)
            : Effect.fail(outcome.left)
        }
      })
    }

    const batching = options.batching === undefined || options.batching === false
      ? undefined
      : batchingSettings(options.batching === true ? {} : options.batching)
    const loader = batching === undefined ? undefined : Coalescing.makeCoalescing(
      send,
      yield* BucketLoader.make(Coalescing.makeResolver(send, batching.maxBatchSize), {
        window: batching.window,
        maxBatchSize: batching.maxBatchSize,
        take
      }),
      batching.maxBatchSize
    )
    let sequence = 0

    /**
     * One call: its span and metrics around the retry policy around its attempts. The success path is kept short,
     * as every call takes it: the clock, the metric labels and the span come from the calling fiber once, an attempt
     * the operating budget lets through goes straight to the request, and the outcome is recorded in the
     * continuation that ends the call.
     */
    const call = (request: Bitrix24Client.CallRequest) => {
      // The call's batch command, encoded once; a call that cannot be encoded fails alone, before any I/O.
      const encoded = loader === undefined ? Either.right(undefined) : Coalescing.encode(request)
      const command = Either.getOrUndefined(encoded)
      const metrics = Metrics.forMethod(request.method)
      return Effect.useSpan("Bitrix24.http", {
        kind: "client",
        captureStackTrace: false,
        attributes: {
          "bitrix24.method": request.method,
          "bitrix24.portal": endpoint.portal,
          "bitrix24.idempotent": request.idempotent
        }
      }, (span) =>
        Effect.withFiberRuntime<Bitrix24Client.CallResponse, RetryPolicy.AttemptError>((fiber) => {
          const clock = Context.get(fiber.currentDefaultServices, Clock.Clock)
          // The labels of the calling fiber (`Effect.tagMetrics`), read once for every metric of the call.
          const labels = fiber.getFiberRef(FiberRef.currentMetricLabels)
          const started = clock.unsafeCurrentTimeMillis()
          const stats = Coalescing.makeStats()
          let previous: RetryPolicy.Classification | undefined
          const carry = () =>
            loader === undefined || command === undefined || stats.alone
              ? send(request.method, request.params, [stats])
              : Effect.request(Coalescing.Call({ id: ++sequence, call: request, command, stats }), loader)
          const attempt = Either.isLeft(encoded)
            ? Effect.suspend(() => {
              stats.attempts++
              return Effect.fail(encoded.left)
            })
            : Effect.suspend(() => {
              stats.attempts++
              if (previous !== undefined) metrics.retries(previous).unsafeUpdate(1, labels)
              return Effect.flatMap(gate(request.method), (wait) => {
                if (wait.kind === "none") return carry()
                const waitedMs = Duration.toMillis(wait.delay)
                stats.operatingWaitMs += waitedMs
                return Effect.zipRight(Metrics.waited("operating", waitedMs), carry())
              })
            }).pipe(
              Effect.catchAll((error) => {
                previous = RetryPolicy.classify(error)
                return error._tag === "WireFailure" && error.code === "OPERATION_TIME_LIMIT"
                  ? Effect.zipRight(budget.blocked(request.method), Effect.fail(error))
                  : Effect.fail(error)
              })
            )
          /** Span attributes and metrics of the settled call, in place. */
          const record = (outcome: string) => {
            const current = stats.address ?? initial
            span.attribute("bitrix24.portal", current.origin)
            span.attribute("bitrix24.portal.host", current.host)
            span.attribute("bitrix24.attempts", stats.attempts)
            span.attribute("bitrix24.batch_size", stats.batchSize)
            span.attribute("bitrix24.limiter_wait_ms", stats.bucketWaitMs + stats.operatingWaitMs)
            span.attribute("bitrix24.bucket_wait_ms", stats.bucketWaitMs)
            span.attribute("bitrix24.operating_wait_ms", stats.operatingWaitMs)
            span.attribute("bitrix24.outcome", outcome)
            const durationMs = clock.unsafeCurrentTimeMillis() - started
            metrics.calls(outcome).unsafeUpdate(1, labels)
            metrics.duration.unsafeUpdate(durationMs, labels)
            const reporter = fiber.getFiberRef(currentCallReporter)
            if (reporter !== undefined) {
              reporter({
                method: request.method,
                outcome,
                attempts: stats.attempts,
                batchSize: stats.batchSize,
                bucketWaitMs: stats.bucketWaitMs,
                operatingWaitMs: stats.operatingWaitMs,
                durationMs
              })
            }
          }
          return Effect.matchCauseEffect(policy.apply(request, attempt), {
            onSuccess: (response) => {
              record("ok")
              return Effect.succeed(response)
            },
            onFailure: (cause) => {
              const failure = Cause.failureOption(cause)
              if (Option.isNone(failure) || Cause.isInterrupted(cause)) {
                record("interrupted_or_defect")
                return Effect.failCause(cause)
              }
              const error = settle(request, failure.value, stats.attempts)
              record(outcomeTag(error))
              return Effect.fail(error)
            }
          })
        }))
    }

    return { call, portal }
  })

const batchingSettings = (options: BatchingOptions) => ({
  window: Duration.decode(options.window ?? "10 millis"),
  maxBatchSize: Math.max(
    1,
    Math.min(BatchProtocol.maxCommands, Math.floor(options.maxBatchSize ?? BatchProtocol.maxCommands))
  )
})

/**
 * The transport for an endpoint as a Layer; it also provides the portal's current address. It requires an
 * `HttpClient` and the {@link Policies} (see {@link layerDefaults}).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  endpoint: Endpoint,
  options?: Options
): Layer.Layer<Bitrix24Client.Bitrix24Client | PortalAddress, never, HttpClient.HttpClient | Policies> =>
  Layer.scopedContext(
    Effect.map(
      make(endpoint, options),
      (transport) =>
        Context.make(Bitrix24Client.Bitrix24Client, { call: transport.call }).pipe(
          Context.add(PortalAddress, transport.portal)
        )
    )
  )

/**
 * The transport for an inbound webhook URL; fails to build with {@link InvalidWebhookUrl} when the URL is not of the
 * inbound webhook form (the message never echoes it). Requires an `HttpClient` and the {@link Policies}.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWebhook = (
  url: Redacted.Redacted<string>,
  options?: Options
): Layer.Layer<
  Bitrix24Client.Bitrix24Client | PortalAddress,
  InvalidWebhookUrl,
  HttpClient.HttpClient | Policies
> =>
  Layer.unwrapEffect(
    Effect.map(parseWebhookUrl(url), (webhook) => layer(webhookEndpoint(webhook), options))
  )

/**
 * The configured inbound webhook URL: `B24_WEBHOOK_URL`, kept `Redacted`; unset or blank is `None`.
 *
 * @since 0.1.0
 * @category config
 */
export const webhookUrlConfig: Config.Config<Option.Option<Redacted.Redacted<string>>> = Config.option(
  Config.redacted("B24_WEBHOOK_URL")
).pipe(Config.map(Option.filter((url) => Redacted.value(url).trim().length > 0)))

/**
 * The transport for the inbound webhook in `B24_WEBHOOK_URL` (kept `Redacted`), or another config.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWebhookConfig = (
  config: Config.Config<Redacted.Redacted<string>> = Config.redacted("B24_WEBHOOK_URL"),
  options?: Options
): Layer.Layer<
  Bitrix24Client.Bitrix24Client | PortalAddress,
  ConfigError.ConfigError | InvalidWebhookUrl,
  HttpClient.HttpClient | Policies
> => Layer.unwrapEffect(Effect.map(config, (url) => layerWebhook(url, options)))

/**
 * The proof of an application context (`Bitrix24Client.ApplicationAuth`) for a portal REST URL: what the OAuth
 * transports add, so `auth: "application"` methods (`event.*`, `imconnector.*`) can be called through them and not
 * through a webhook.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerApplicationAuth = (restUrl: string): Layer.Layer<Bitrix24Client.ApplicationAuth> =>
  Layer.succeed(Bitrix24Client.ApplicationAuth, { portal: new URL(restBase(restUrl)).origin })

/**
 * The transport for a fixed OAuth access token at a portal's REST URL (`client_endpoint`). It is not refreshed; see
 * {@link layerOAuth}. An OAuth token is an application's, so it also provides `Bitrix24Client.ApplicationAuth`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerOAuthToken = (
  options: { readonly restUrl: string; readonly accessToken: Redacted.Redacted<string> } & Options
): Layer.Layer<
  Bitrix24Client.Bitrix24Client | PortalAddress | Bitrix24Client.ApplicationAuth,
  never,
  HttpClient.HttpClient | Policies
> => Layer.merge(layer(oauthTokenEndpoint(options), options), layerApplicationAuth(options.restUrl))

/**
 * The transport for an OAuth application (wire sheet §4): the tokens stored under `key` in the `TokenStore`
 * (default key `"default"`) are refreshed `skew` ahead of expiry (default 60 s) and when the portal answers
 * `expired_token` / `invalid_token` (the request is then replayed once), single-flight, with the rotated pair persisted
 * before use. Calls go to the stored tokens' `client_endpoint`. Needs the `OAuth.OAuthApplication` (see
 * `OAuth.layer` / `OAuth.layerConfig`), a `TokenStore`, an HttpClient and the {@link Policies}. Fails to build with
 * `OAuth.ReauthorizationRequired` when no tokens are stored (or `TokenRefreshFailed` when the store cannot be read).
 * A dead refresh token (`invalid_grant`) fails the calls, as a `WireFailure` with that code. Also provides
 * `Bitrix24Client.ApplicationAuth` (the `auth: "application"` methods need it).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerOAuth = (
  options: OAuth.SessionOptions & Options = {}
): Layer.Layer<
  Bitrix24Client.Bitrix24Client | PortalAddress | Bitrix24Client.ApplicationAuth,
  OAuth.OAuthError,
  HttpClient.HttpClient | Policies | OAuth.OAuthApplication | TokenStore.TokenStore
> =>
  Layer.unwrapScoped(
    Effect.gen(function*() {
      const session = yield* OAuth.makeSession(options)
      // Only the portal's address is needed now; refreshing, when due, happens with the first call.
      const tokens = yield* session.stored
      return Layer.merge(
        layer(oauthSessionEndpoint(session, tokens), options),
        layerApplicationAuth(tokens.restUrl)
      )
    })
  )

/**
 * {@link layerOAuth} with the application from configuration (`OAuth.layerConfig`: `B24_CLIENT_ID`,
 * `B24_CLIENT_SECRET`, `B24_OAUTH_URL`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerOAuthConfig = (
  options: OAuth.SessionOptions & Options = {}
): Layer.Layer<
  Bitrix24Client.Bitrix24Client | PortalAddress | Bitrix24Client.ApplicationAuth,
  OAuth.OAuthError | ConfigError.ConfigError,
  HttpClient.HttpClient | Policies | TokenStore.TokenStore
> => layerOAuth(options).pipe(Layer.provide(OAuth.layerConfig()))
