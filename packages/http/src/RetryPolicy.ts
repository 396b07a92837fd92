/**
 * When a failed call is sent again, classified by what the failure proves about the portal (wire sheet §3, §5):
 *
 * - **refused**: `QUERY_LIMIT_EXCEEDED` (503, the leaky bucket, §3.1) and `OPERATION_TIME_LIMIT` (429, the operating
 *   time, §3.2). The portal did not run the call, so it is always safe to send again.
 * - **not sent**: the request never reached the portal (connection refused, DNS failure, the token refresh before it
 *   failed). Nothing ran, so it is safe to send again.
 * - **ambiguous**: the request was dispatched and the answer is missing or unreadable (timeout, dropped connection, a
 *   5xx, an HTML or truncated body). The call may or may not have run. Only methods declared idempotent are replayed;
 *   for the others the transport fails with {@link OutcomeUnknown}, naming the method.
 * - **final**: documented method errors and auth errors. Never retried (an expired OAuth token is refreshed and the
 *   call replayed once by the OAuth endpoint, not by this policy). So is {@link StateUnavailable}: the transport's
 *   state (the bucket, the budget, the tokens) stayed out of reach for its whole wait bound, and nothing was sent.
 *
 * Delays are jittered exponential backoff (80-120 %), capped, for a maximum number of retries and within an overall
 * deadline. The transport layers require a `RetryPolicy`: {@link layerDefault} (proven refusals only, the policy of
 * `Bitrix24Http.layerDefaults`), {@link layer} (the safe policy), {@link layerConfig} or {@link layerNone}.
 *
 * @since 0.1.0
 */
import type { Bitrix24Client } from "@bitrix24-effect/core"
import { PortalError } from "@bitrix24-effect/core"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"

/**
 * The failures a single attempt can end with.
 *
 * @since 0.1.0
 * @category models
 */
export type AttemptError = Bitrix24Client.WireFailure | PortalError.TransportError

/**
 * A transport failure before anything reached the portal: the connection was refused, the name did not resolve, or
 * the OAuth token could not be obtained first. It is a `TransportError` (reason `Network`, usually), so it travels
 * through the core seam unchanged; the policy knows nothing ran and may send again.
 *
 * @since 0.1.0
 * @category errors
 */
export class NotSent extends PortalError.TransportError.extend<NotSent>("@bitrix24-effect/http/NotSent")({}) {}

/**
 * The call's params could not be encoded for the wire (nested too deeply, cyclic, or holding a value JSON cannot
 * carry), so nothing was sent. It is a `TransportError` (reason `InvalidBody`: the request's body could not be made),
 * so it travels through the core seam unchanged; it is final, as sending again cannot help. With automatic batching
 * it fails only its own call, before the call joins a `batch`.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnencodableParams extends PortalError.TransportError.extend<UnencodableParams>(
  "@bitrix24-effect/http/UnencodableParams"
)({}) {}

/**
 * The {@link UnencodableParams} of a method, from what the encoder threw (its message names the problem, never a
 * value).
 *
 * @internal
 */
export const unencodable = (method: string, cause: unknown): UnencodableParams =>
  new UnencodableParams({
    method,
    reason: "InvalidBody",
    description: `the params could not be encoded, nothing was sent (${
      cause instanceof Error ? `${cause.name}: ${cause.message}`.slice(0, 200) : "not encodable"
    })`
  })

/**
 * The state the transport keeps outside the call could not be read or written: the leaky bucket's `RateLimiter`, the
 * operating budget's store, or the OAuth tokens' store. With `SharedState.layerRedis` this is Redis out of reach for
 * longer than its wait bound (`B24_REDIS_WAIT`); the call waited that long for it. Nothing was sent: no call goes to
 * the portal without its bucket token. It is a `TransportError` (reason `Network`), final for the retry policy (the
 * wait for the store is already spent); the call may be made again once the store is back.
 *
 * @since 0.1.0
 * @category errors
 */
export class StateUnavailable extends PortalError.TransportError.extend<StateUnavailable>(
  "@bitrix24-effect/http/StateUnavailable"
)({}) {}

/**
 * A non-idempotent call failed ambiguously (timeout, dropped connection, 5xx, unreadable body after the request was
 * sent): it may or may not have run on the portal, and it was not replayed because replaying could apply it twice.
 * It is a `TransportError` (its `reason` says what went wrong, `attempts` how many requests carried the call), so
 * `catchTag("TransportError")` still sees it; tell it apart with `instanceof OutcomeUnknown` or {@link isOutcomeUnknown}.
 * When the ambiguous failure was the portal's own error envelope (a 5xx such as `INTERNAL_SERVER_ERROR`), `wire`
 * keeps its code and description (and `status` its HTTP status), so a server in front of the portal can answer with
 * it. Check the portal's state before acting again.
 *
 * @since 0.1.0
 * @category errors
 */
export class OutcomeUnknown extends PortalError.TransportError.extend<OutcomeUnknown>(
  "@bitrix24-effect/http/OutcomeUnknown"
)({
  attempts: Schema.Number,
  wire: Schema.optional(Schema.Struct({ code: Schema.String, description: Schema.String }))
}) {
  override get message(): string {
    const status = this.status === undefined ? "" : ` (HTTP ${this.status})`
    return `${this.method}: outcome unknown after ${this.attempts} attempt(s): ${this.reason}${status}: ` +
      `${this.description}; the call may have run on the portal and was not replayed (the method is not idempotent)`
  }
}

/**
 * Is this error an {@link OutcomeUnknown}?
 *
 * @since 0.1.0
 * @category predicates
 */
export const isOutcomeUnknown = (error: unknown): error is OutcomeUnknown => error instanceof OutcomeUnknown

/**
 * What a failure proves: see the module docs.
 *
 * @since 0.1.0
 * @category models
 */
export type Classification = "refused" | "not-sent" | "ambiguous" | "final"

/**
 * Codes answered with a 5xx that are nevertheless final: the portal is deleted, or the application or webhook is
 * blocked by hand (wire sheet §3.3, §5).
 */
const finalServerCodes: ReadonlySet<string> = new Set(["PORTAL_DELETED", "OVERLOAD_LIMIT"])

/**
 * Classifies an attempt's failure (wire sheet §3.1, §3.2, §5):
 * `QUERY_LIMIT_EXCEEDED` and `OPERATION_TIME_LIMIT` are `refused`; {@link NotSent} is `not-sent`; timeouts, network
 * failures after dispatch, 5xx envelopes (except `PORTAL_DELETED` and `OVERLOAD_LIMIT`) and unreadable bodies with a
 * 2xx or 5xx status are `ambiguous`; everything else (method errors, auth errors, a 4xx page, {@link UnencodableParams},
 * {@link StateUnavailable}) is `final`.
 *
 * @since 0.1.0
 * @category predicates
 */
export const classify = (error: AttemptError): Classification => {
  if (error._tag === "WireFailure") {
    if (error.code === "QUERY_LIMIT_EXCEEDED" || error.code === "OPERATION_TIME_LIMIT") return "refused"
    if (error.status !== undefined && error.status >= 500 && !finalServerCodes.has(error.code)) return "ambiguous"
    return "final"
  }
  if (error instanceof NotSent) return "not-sent"
  if (error instanceof UnencodableParams || error instanceof StateUnavailable) return "final"
  switch (error.reason) {
    case "Network":
    case "Timeout":
      return "ambiguous"
    case "InvalidBody":
      return error.status !== undefined && error.status >= 400 && error.status < 500 ? "final" : "ambiguous"
    case "UnexpectedResult":
      return "final"
  }
}

/**
 * Is this failure a proven refusal, i.e. the portal did not run the call? (wire sheet §3.1, §3.2)
 *
 * @since 0.1.0
 * @category predicates
 */
export const isProvenRefusal = (error: AttemptError): boolean => classify(error) === "refused"

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Wraps one attempt of a call with the policy's retries. */
  readonly apply: <A>(
    request: Bitrix24Client.CallRequest,
    attempt: Effect.Effect<A, AttemptError>
  ) => Effect.Effect<A, AttemptError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class RetryPolicy extends Context.Tag("@bitrix24-effect/http/RetryPolicy")<RetryPolicy, Service>() {}

/**
 * Policy settings.
 * - `base`: the first delay (default 500 ms); delays double and are jittered (80-120 %).
 * - `cap`: the cap on any one delay (default 10 s).
 * - `retries`: the number of retries after the first attempt (default 5, so at most 6 attempts).
 * - `deadline`: no retry starts later than this after the first attempt began (default 2 minutes).
 * - `replay`: `"safe"` (default) retries refusals, requests that were not sent, and ambiguous failures of idempotent
 *   methods; `"refusals"` retries proven refusals only.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly base?: Duration.DurationInput | undefined
  readonly cap?: Duration.DurationInput | undefined
  readonly retries?: number | undefined
  readonly deadline?: Duration.DurationInput | undefined
  readonly replay?: "safe" | "refusals" | undefined
}

/**
 * Jittered exponential backoff, capped, for a number of retries. Outputs the delay before the next attempt.
 *
 * @since 0.1.0
 * @category schedules
 */
export const backoff = (options: Options = {}): Schedule.Schedule<Duration.Duration> => {
  const cap = Duration.decode(options.cap ?? "10 seconds")
  return Schedule.exponential(options.base ?? "500 millis").pipe(
    Schedule.jittered,
    Schedule.modifyDelay((delay) => Duration.min(delay, cap)),
    Schedule.intersect(Schedule.recurs(options.retries ?? 5)),
    Schedule.delays
  )
}

/**
 * Should a call that failed with this error be sent again under this replay mode?
 *
 * @since 0.1.0
 * @category predicates
 */
export const shouldRetry = (
  request: Bitrix24Client.CallRequest,
  error: AttemptError,
  replay: "safe" | "refusals" = "safe"
): boolean => {
  const kind = classify(error)
  if (kind === "refused") return true
  if (replay === "refusals") return false
  if (kind === "not-sent") return true
  return kind === "ambiguous" && request.idempotent
}

/**
 * A policy with these settings (see {@link Options}).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Service => {
  const deadline = Duration.toMillis(Duration.decode(options.deadline ?? "2 minutes"))
  const replay = options.replay ?? "safe"
  return {
    apply: (request, attempt) =>
      Effect.flatMap(Clock.currentTimeMillis, (start) =>
        // The schedule is built only after a first failure: a call that succeeds at once pays nothing for it.
        Effect.catchAll(attempt, (first) => {
          if (!shouldRetry(request, first, replay)) return Effect.fail(first)
          let pending = true
          const again = Effect.suspend(() => {
            if (!pending) return attempt
            pending = false
            return Effect.fail(first)
          })
          return Effect.retry(again, {
            schedule: backoff(options).pipe(
              Schedule.whileInput((error: AttemptError) => shouldRetry(request, error, replay)),
              Schedule.checkEffect((_, delay) =>
                Effect.map(Clock.currentTimeMillis, (now) => now + Duration.toMillis(delay) - start <= deadline)
              )
            )
          })
        }))
  }
}

/**
 * The default policy: proven refusals only (`QUERY_LIMIT_EXCEEDED`, `OPERATION_TIME_LIMIT`), with the default backoff.
 * Ambiguous failures are never replayed under it.
 *
 * @since 0.1.0
 * @category constructors
 */
export const defaultPolicy: Service = make({ replay: "refusals" })

/**
 * {@link defaultPolicy} as a Layer: proven refusals only. `Bitrix24Http.layerDefaults` includes it.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerDefault: Layer.Layer<RetryPolicy> = Layer.succeed(RetryPolicy, defaultPolicy)

/**
 * A policy as a Layer. `RetryPolicy.layer()` is the full, safe policy: refusals, unsent requests and ambiguous
 * failures of idempotent methods are retried.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<RetryPolicy> => Layer.succeed(RetryPolicy, make(options))

/**
 * The policy from configuration: `B24_RETRY_BASE` (first delay), `B24_RETRY_CAP` (longest delay),
 * `B24_RETRY_RETRIES`, `B24_RETRY_DEADLINE` (no retry starts after it), `B24_RETRY_REPLAY` (`safe` or `refusals`).
 * Durations use Effect's duration syntax (`"750 millis"`). Unset variables take `defaults`, and then the policy's own
 * defaults (500 millis, 10 seconds, 5, 2 minutes, safe): a long-running proxy and an interactive CLI want different
 * patience.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (defaults: Options = {}): Layer.Layer<RetryPolicy, ConfigError.ConfigError> =>
  Layer.effect(
    RetryPolicy,
    Effect.map(
      Config.all({
        base: Config.duration("B24_RETRY_BASE").pipe(
          Config.withDefault(Duration.decode(defaults.base ?? "500 millis"))
        ),
        cap: Config.duration("B24_RETRY_CAP").pipe(Config.withDefault(Duration.decode(defaults.cap ?? "10 seconds"))),
        retries: Config.integer("B24_RETRY_RETRIES").pipe(Config.withDefault(defaults.retries ?? 5)),
        deadline: Config.duration("B24_RETRY_DEADLINE").pipe(
          Config.withDefault(Duration.decode(defaults.deadline ?? "2 minutes"))
        ),
        replay: Config.literal("safe", "refusals")("B24_RETRY_REPLAY").pipe(
          Config.withDefault(defaults.replay ?? "safe")
        )
      }),
      make
    )
  )

/**
 * A policy that never retries.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerNone: Layer.Layer<RetryPolicy> = Layer.succeed(RetryPolicy, { apply: (_request, attempt) => attempt })
