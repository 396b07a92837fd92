/**
 * The decorators over `@effect/platform` HttpClient that turn a plain client into one that talks to a Bitrix24 portal.
 * `Bitrix24Http.make` stacks them, innermost first:
 *
 * 1. {@link withTimeout}: the whole exchange of one HTTP request, headers and body, within the timeout.
 * 2. {@link withBucket}: before each HTTP request, a token of the client-side leaky bucket (wire sheet §3.1).
 * 3. {@link withAddress}: the portal's current REST base prepended to the request's relative URL (`{method}.json`).
 * 4. {@link withRedirects}: a 3xx answer is followed by sending the same request again to the new location; another
 *    origin means the portal moved (wire sheet §1.1), and later requests go there too.
 * 5. {@link withCredentials}: the endpoint's auth params added to the JSON body; a portal that rejects them
 *    (`expired_token` / `invalid_token`, wire sheet §4) makes the endpoint renew them, and the request is sent once
 *    more.
 *
 * Each outer decorator calls the inner client's `execute`, so every request it sends again (a redirect hop, a
 * replay after renewal) passes the inner ones again: it waits for its own bucket token, goes to the current address,
 * and has its own timeout. Failures stay in HTTP terms (`HttpClientError`, `TimeoutException`, the rate limiter's
 * store error, `OAuthError`); the transport turns them into Bitrix24 errors with the method name.
 *
 * @since 0.1.0
 * @internal
 */
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import type * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as Metric from "effect/Metric"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as SubscriptionRef from "effect/SubscriptionRef"
import * as Metrics from "../Metrics.js"
import type * as OAuth from "../OAuth.js"
import type * as PortalLimits from "../PortalLimits.js"

/**
 * A client whose `execute` runs `f` on each request, after the preprocessing of any decorator applied on top of it.
 *
 * @internal
 */
const around = <E, R>(
  f: (request: HttpClientRequest.HttpClientRequest) => Effect.Effect<HttpClientResponse.HttpClientResponse, E, R>
): HttpClient.HttpClient.With<E, R> =>
  HttpClient.makeWith<never, never, E, R>((request) => Effect.flatMap(request, f), Effect.succeed)

/** The body of each response read by {@link withTimeout}, kept for {@link bodyOf}. */
const bodies = new WeakMap<HttpClientResponse.HttpClientResponse, string>()

/**
 * Each request, headers and body, within `timeout`; else `TimeoutException` (the request is interrupted). The body is
 * read here, so a stalled body counts too, and kept for {@link bodyOf}.
 *
 * @internal
 */
export const withTimeout = (timeout: Duration.DurationInput) =>
<E, R>(
  client: HttpClient.HttpClient.With<E, R>
): HttpClient.HttpClient.With<E | HttpClientError.ResponseError | Cause.TimeoutException, R> =>
  around((request) =>
    client.execute(request).pipe(
      Effect.flatMap((response) =>
        Effect.map(response.text, (text) => {
          bodies.set(response, text)
          return response
        })
      ),
      Effect.timeout(timeout)
    )
  )

/**
 * The body {@link withTimeout} read of a response it answered (`undefined` for any other response).
 *
 * @internal
 */
export const bodyOf = (response: HttpClientResponse.HttpClientResponse): string | undefined => bodies.get(response)

/**
 * Told about each HTTP request a send makes, after the request's wait for the leaky bucket (ms).
 *
 * @internal
 */
export type RequestObserver = (bucketWaitMs: number) => Effect.Effect<void>

/** The observer of the send each fiber is running: a fiber runs one send at a time. */
const observers = new WeakMap<Fiber.RuntimeFiber<unknown, unknown>, RequestObserver>()

/**
 * Runs `effect` (one send through a client with {@link withBucket}) with `observe` told about each HTTP request it
 * makes. The observer is kept per fiber rather than in a FiberRef: `Effect.locally` would copy the fiber's FiberRefs
 * twice for every request, and the send is on the fiber's path anyway.
 *
 * @internal
 */
export const observeRequests = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  observe: RequestObserver
): Effect.Effect<A, E, R> =>
  Effect.withFiberRuntime((fiber) => {
    observers.set(fiber, observe)
    return effect
  })

/**
 * Before each request, waits for a token of the leaky bucket (`take`), then tells the observer of the fiber's send
 * how long it waited.
 *
 * @internal
 */
export const withBucket = (take: PortalLimits.Take) => <E, R>(client: HttpClient.HttpClient.With<E, R>) =>
  HttpClient.tapRequest(client, () =>
    Effect.flatMap(take, (waited) =>
      Effect.withFiberRuntime((fiber) => {
        const observe = observers.get(fiber)
        return observe === undefined ? Effect.void : observe(Duration.toMillis(waited))
      })))

/**
 * Where requests go: `origin` is the portal's address, safe to log (it may carry a path prefix the portal is served
 * under); `host` its host; `base` the REST base URL ending in `/`, which for an inbound webhook contains the secret
 * code, hence `Redacted`.
 *
 * @internal
 */
export interface Address {
  readonly origin: string
  readonly host: string
  readonly base: Redacted.Redacted<string>
}

/** @internal */
export const makeAddress = (origin: string, base: Redacted.Redacted<string>): Address => ({
  origin,
  host: new URL(origin).host,
  base
})

/**
 * Sends each request (a URL relative to the REST base, `{method}.json`) to the current address.
 *
 * @internal
 */
export const withAddress =
  (address: Ref.Ref<Address>) => <E, R>(client: HttpClient.HttpClient.With<E, R>): HttpClient.HttpClient.With<E, R> =>
    HttpClient.mapRequestEffect(client, (request) =>
      Effect.map(
        Ref.get(address),
        (current) => HttpClientRequest.prependUrl(request, Redacted.value(current.base))
      ))

const redirectStatuses: ReadonlySet<number> = new Set([301, 302, 303, 307, 308])

/**
 * Follows redirects: the same request (method and body) is sent again to the location, at most `maxMoves` times in a
 * row. A location on another origin is the portal's new address (a renamed portal, wire sheet §1.1): `address` moves
 * there, keeping the path of the base (a webhook's user and code), the move is published in `portal`, counted and
 * logged with both origins only. A location on the same origin is simply asked again.
 *
 * @internal
 */
export const withRedirects = (options: {
  readonly address: Ref.Ref<Address>
  readonly portal: SubscriptionRef.SubscriptionRef<string>
  readonly maxMoves: number
}) =>
<E, R>(client: HttpClient.HttpClient.With<E, R>): HttpClient.HttpClient.With<E, R> => {
  const follow = (location: string, status: number) =>
    Effect.flatMap(Ref.get(options.address), (current) => {
      const base = Redacted.value(current.base)
      const target = new URL(location, base).origin
      const from = new URL(current.origin).origin
      if (target === from) return Effect.void
      return Ref.set(options.address, makeAddress(target, Redacted.make(`${target}${base.slice(from.length)}`))).pipe(
        Effect.zipRight(SubscriptionRef.set(options.portal, target)),
        Effect.zipRight(Metric.increment(Metrics.portalMoves)),
        Effect.zipRight(Effect.logWarning(
          `Bitrix24 portal moved: ${from} answered HTTP ${status} with the new address ${target}; ` +
            `calls now go there (wire sheet §1.1)`
        ))
      )
    })
  const send = (
    request: HttpClientRequest.HttpClientRequest,
    moves: number
  ): Effect.Effect<HttpClientResponse.HttpClientResponse, E, R> =>
    Effect.flatMap(client.execute(request), (response) => {
      const location = response.headers["location"]
      return moves < options.maxMoves && location !== undefined && redirectStatuses.has(response.status)
        ? Effect.zipRight(follow(location, response.status), send(request, moves + 1))
        : Effect.succeed(response)
    })
  return around((request) => send(request, 0))
}

/**
 * The credentials of an endpoint: `auth`, the params added to each request's body (read fresh each time: `{}` for a
 * webhook, whose credentials are in the base URL; `{ auth: token }` for OAuth); `renew`, for credentials that can be
 * renewed, called with the params that were sent when the portal rejected them.
 *
 * @internal
 */
export interface Credentials {
  readonly auth: Effect.Effect<Readonly<Record<string, string>>, OAuth.OAuthError>
  readonly renew?: ((sent: Readonly<Record<string, string>>) => Effect.Effect<void, OAuth.OAuthError>) | undefined
}

/**
 * The auth params of an endpoint whose credentials are all in its URL (an inbound webhook): nothing to add, nothing
 * to renew, so {@link withCredentials} leaves the client as it is.
 *
 * @internal
 */
export const noAuth: Effect.Effect<Readonly<Record<string, string>>> = Effect.succeed({})

/** The codes with which a portal rejects an OAuth access token (wire sheet §4): renew, then send again. */
const rejectedTokenCodes: ReadonlySet<string> = new Set(["expired_token", "invalid_token"])

/** Does this answer reject the credentials? Only a 401 (wire sheet §4) is read for it. */
const rejectsCredentials = (response: HttpClientResponse.HttpClientResponse): Effect.Effect<boolean> =>
  response.status !== 401 ? Effect.succeed(false) : response.text.pipe(
    Effect.map((text) => {
      try {
        const body: unknown = JSON.parse(text)
        return typeof body === "object" && body !== null && "error" in body && typeof body.error === "string" &&
          rejectedTokenCodes.has(body.error)
      } catch {
        return false
      }
    }),
    Effect.orElseSucceed(() => false)
  )

/**
 * Adds the endpoint's auth params to each request's JSON body. When the portal rejects them and they can be renewed,
 * renews them (once per request) and sends the request again with the renewed ones. With {@link noAuth} and nothing
 * to renew, the client is returned as it is.
 *
 * @internal
 */
export const withCredentials =
  (credentials: Credentials) =>
  <E, R>(client: HttpClient.HttpClient.With<E, R>): HttpClient.HttpClient.With<E | OAuth.OAuthError, R> => {
    const renew = credentials.renew
    if (renew === undefined && credentials.auth === noAuth) return client
    if (renew === undefined) {
      return around((request) =>
        Effect.flatMap(credentials.auth, (auth) => client.execute(withBodyParams(request, auth)))
      )
    }
    const attempt = (
      request: HttpClientRequest.HttpClientRequest,
      renewed: boolean
    ): Effect.Effect<HttpClientResponse.HttpClientResponse, E | OAuth.OAuthError, R> =>
      Effect.flatMap(
        credentials.auth,
        (auth) =>
          Effect.flatMap(client.execute(withBodyParams(request, auth)), (response) =>
            renewed ? Effect.succeed(response) : Effect.flatMap(
              rejectsCredentials(response),
              (rejected) =>
                rejected ? Effect.zipRight(renew(auth), attempt(request, true)) : Effect.succeed(response)
            ))
      )
    return around((request) => attempt(request, false))
  }

const encoder = new TextEncoder()

/** JSON whitespace: space, tab, line feed, carriage return. */
const isSpace = (byte: number) => byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d

/**
 * The request with `params` added to its JSON object body, where they replace params of the same name (the portal
 * decodes with PHP's `json_decode`, where the last of two equal keys wins). Without params, the request itself.
 *
 * @internal
 */
export const withBodyParams = (
  request: HttpClientRequest.HttpClientRequest,
  params: Readonly<Record<string, string>>
): HttpClientRequest.HttpClientRequest => {
  let members = ""
  for (const key in params) members += `,${JSON.stringify(key)}:${JSON.stringify(params[key])}`
  if (members === "" || request.body._tag !== "Uint8Array") return request
  const { body, contentType } = request.body
  // The body is a serialized JSON object: the members go before its closing brace.
  const end = body.lastIndexOf(0x7d)
  if (end < 0) return request
  let last = end - 1
  while (last >= 0 && isSpace(body[last]!)) last--
  const empty = body[last] === 0x7b
  const tail = encoder.encode(`${empty ? members.slice(1) : members}}`)
  const joined = new Uint8Array(end + tail.length)
  joined.set(body.subarray(0, end))
  joined.set(tail, end)
  return HttpClientRequest.setBody(request, HttpBody.uint8Array(joined, contentType))
}
