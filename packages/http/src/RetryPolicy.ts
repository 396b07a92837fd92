/**
 * When a failed call is sent again. The default policy retries only refusals that prove the call did not run:
 * `QUERY_LIMIT_EXCEEDED` (503, the leaky bucket; wire sheet §3.1), with jittered exponential backoff. Everything
 * else (method errors, auth errors, transport failures) surfaces at once. Provide another `RetryPolicy` layer to
 * change it; the transport reads it from the context and falls back to {@link defaultPolicy}.
 *
 * @since 0.1.0
 */
import type { Bitrix24Client, PortalError } from "@bitrix24-effect/core"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"

/**
 * The failures a single attempt can end with.
 *
 * @since 0.1.0
 * @category models
 */
export type AttemptError = Bitrix24Client.WireFailure | PortalError.TransportError

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
 * Backoff settings: the first delay (default 500 ms), the cap on any one delay (default 10 s) and the number of
 * retries after the first attempt (default 5). Delays double and are jittered (80-120 %).
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly base?: Duration.DurationInput | undefined
  readonly cap?: Duration.DurationInput | undefined
  readonly retries?: number | undefined
}

/**
 * Is this failure a proven refusal, i.e. the portal did not run the call? (wire sheet §3.1, §3.2)
 *
 * @since 0.1.0
 * @category predicates
 */
export const isProvenRefusal = (error: AttemptError): boolean =>
  error._tag === "WireFailure" && (error.code === "QUERY_LIMIT_EXCEEDED" || error.code === "OPERATION_TIME_LIMIT")

/**
 * Jittered exponential backoff, capped, for a number of retries.
 *
 * @since 0.1.0
 * @category schedules
 */
export const backoff = (options: Options = {}): Schedule.Schedule<unknown> => {
  const cap = Duration.decode(options.cap ?? "10 seconds")
  return Schedule.exponential(options.base ?? "500 millis").pipe(
    Schedule.jittered,
    Schedule.modifyDelay((delay) => Duration.min(delay, cap)),
    Schedule.intersect(Schedule.recurs(options.retries ?? 5)),
    Schedule.asVoid
  )
}

/**
 * A policy retrying only `QUERY_LIMIT_EXCEEDED`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Service => {
  const schedule = backoff(options)
  return {
    apply: (_request, attempt) =>
      Effect.retry(attempt, {
        schedule,
        while: (error) => error._tag === "WireFailure" && error.code === "QUERY_LIMIT_EXCEEDED"
      })
  }
}

/**
 * The policy used when none is provided.
 *
 * @since 0.1.0
 * @category constructors
 */
export const defaultPolicy: Service = make()

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<RetryPolicy> => Layer.succeed(RetryPolicy, make(options))

/**
 * A policy that never retries.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerNone: Layer.Layer<RetryPolicy> = Layer.succeed(RetryPolicy, { apply: (_request, attempt) => attempt })
