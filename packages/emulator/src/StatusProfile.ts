/**
 * Which portal the emulator imitates where the sources disagree (wire sheet §5, §8.4, §9).
 *
 * - `cloud` (the default): the documented HTTP statuses (`insufficient_scope` 403, `OVERLOAD_LIMIT` 503, ...), the
 *   cloud-only `X-Bitrix-Rest-*` timing headers, `operating` and `operating_reset_at` in every `time` block and the
 *   leaky bucket of the cloud front-end.
 * - `self-hosted`: the published module source. Auth-layer errors raised through `OAuthException` answer 401
 *   (`insufficient_scope`, `OVERLOAD_LIMIT`, `INVALID_REQUEST`, auth-layer `ACCESS_DENIED`, `INVALID_CREDENTIALS`,
 *   `user_access_error`), `PORTAL_DELETED` answers 403; no timing headers; no leaky bucket and no operating-time
 *   limiter unless the limits are set explicitly (`load_limiter_active=Y`).
 *
 * The profile applies to the errors the portal's REST layer raises, never to a method handler's own errors.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 * @category models
 */
export type Profile = "cloud" | "self-hosted"

const selfHosted: ReadonlyMap<string, number> = new Map([
  ["insufficient_scope", 401],
  ["OVERLOAD_LIMIT", 401],
  ["INVALID_REQUEST", 401],
  ["ACCESS_DENIED", 401],
  ["INVALID_CREDENTIALS", 401],
  ["user_access_error", 401],
  ["PORTAL_DELETED", 403]
])

/**
 * The HTTP status of a REST-layer error code under a profile; `documented` is the cloud docs value.
 *
 * @since 0.1.0
 * @category statuses
 */
export const status = (profile: Profile, code: string, documented: number): number =>
  profile === "self-hosted" ? selfHosted.get(code) ?? documented : documented

/**
 * Whether responses carry the cloud-only headers (`X-Bitrix-Rest-Time`, `-User-Time`, `-System-Time`,
 * `-Application`; wire sheet §1.4).
 *
 * @since 0.1.0
 * @category statuses
 */
export const timingHeaders = (profile: Profile): boolean => profile === "cloud"
