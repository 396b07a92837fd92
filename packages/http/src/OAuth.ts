/**
 * OAuth 2.0 for Bitrix24 applications (wire sheet §4): the application's credentials, the token refresh against the
 * OAuth server, and a session that keeps one portal's access token fresh.
 *
 * - The refresh is a `POST` with a form body (`grant_type=refresh_token`, `client_id`, `client_secret`,
 *   `refresh_token`) to the OAuth server, `https://oauth.bitrix.info/oauth/token/` unless configured otherwise. The
 *   client secret goes there and nowhere else, and never in a URL.
 * - A session refreshes ahead of expiry (a configurable skew), and when the portal answers `expired_token` or
 *   `invalid_token` (the transport then replays the call once).
 * - Refreshes are single-flight: one fiber of the session refreshes while the others wait, and only while holding the
 *   `TokenStore`'s refresh lock, which every user of the store sees (every process, for `SharedState.layerRedis`).
 *   The holder re-reads the store first, so N concurrent calls (or processes) with an expired token make exactly one
 *   refresh, and a used refresh token is never sent again (the server rotates it, and the old one is dead).
 * - Rotated tokens are written to the `TokenStore` before they are used; the write is fenced, so a holder whose lock
 *   expired never overwrites a newer pair. An `invalid_grant` is checked against the store before it is final: when
 *   the stored refresh token is no longer the one sent, another holder rotated it, and its pair is used.
 * - `invalid_grant` (the refresh token is dead or unknown) and `invalid_client` (wrong client id or secret, or the
 *   application is not installed) are terminal: {@link ReauthorizationRequired}.
 *
 * HttpClient's own spans are off for the token endpoint, as for portal calls; the session's span
 * `Bitrix24.oauth.refresh` carries only the OAuth server's host.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import * as Metrics from "./Metrics.js"
import * as TokenStore from "./TokenStore.js"

/**
 * The public OAuth server of Bitrix24 cloud portals (wire sheet §4).
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultTokenUrl = "https://oauth.bitrix.info/oauth/token/"

/**
 * An OAuth application: its client id, its secret (kept `Redacted`) and the token endpoint of its OAuth server
 * (`https://oauth.bitrix.info/oauth/token/` for cloud portals; an on-premise portal may have its own).
 *
 * @since 0.1.0
 * @category models
 */
export interface Application {
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  readonly tokenUrl: string
}

/**
 * @since 0.1.0
 * @category tags
 */
export class OAuthApplication extends Context.Tag("@bitrix24-effect/http/OAuthApplication")<
  OAuthApplication,
  Application
>() {}

/**
 * The application as a Layer; `tokenUrl` defaults to {@link defaultTokenUrl}.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (application: {
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  readonly tokenUrl?: string | undefined
}): Layer.Layer<OAuthApplication> =>
  Layer.succeed(OAuthApplication, { ...application, tokenUrl: application.tokenUrl ?? defaultTokenUrl })

/**
 * The application from configuration: `B24_CLIENT_ID`, `B24_CLIENT_SECRET` (read with `Config.redacted`) and
 * `B24_OAUTH_URL` (default {@link defaultTokenUrl}).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (config: {
  readonly clientId?: Config.Config<string> | undefined
  readonly clientSecret?: Config.Config<Redacted.Redacted<string>> | undefined
  readonly tokenUrl?: Config.Config<string> | undefined
} = {}): Layer.Layer<OAuthApplication, ConfigError.ConfigError> =>
  Layer.effect(
    OAuthApplication,
    Config.all({
      clientId: config.clientId ?? Config.string("B24_CLIENT_ID"),
      clientSecret: config.clientSecret ?? Config.redacted("B24_CLIENT_SECRET"),
      tokenUrl: config.tokenUrl ?? Config.string("B24_OAUTH_URL").pipe(Config.withDefault(defaultTokenUrl))
    })
  )

/**
 * The OAuth server refused the refresh for good: `invalid_grant` (the refresh token is dead, expired or already
 * used) or `invalid_client` (wrong client id or secret, or the application is not installed), or there are no tokens
 * stored for the key. The application must be authorized on the portal again (wire sheet §4).
 *
 * @since 0.1.0
 * @category errors
 */
export class ReauthorizationRequired extends Schema.TaggedError<ReauthorizationRequired>(
  "@bitrix24-effect/http/ReauthorizationRequired"
)("ReauthorizationRequired", {
  code: Schema.String,
  description: Schema.String,
  status: Schema.optional(Schema.Number)
}) {
  override get message(): string {
    return `the OAuth application must be authorized on the portal again (${this.code}: ${this.description})`
  }
}

/**
 * The refresh did not complete: the OAuth server was unreachable, too slow, answered something that is not a token
 * response, or the token store failed. Nothing was sent to the portal; the call may be tried again.
 *
 * @since 0.1.0
 * @category errors
 */
export class TokenRefreshFailed extends Schema.TaggedError<TokenRefreshFailed>(
  "@bitrix24-effect/http/TokenRefreshFailed"
)("TokenRefreshFailed", {
  reason: Schema.Literal("Network", "Timeout", "InvalidBody", "Store"),
  description: Schema.String,
  status: Schema.optional(Schema.Number)
}) {
  override get message(): string {
    const status = this.status === undefined ? "" : ` (HTTP ${this.status})`
    return `the OAuth token refresh failed: ${this.reason}${status}: ${this.description}`
  }
}

/**
 * What a refresh can fail with.
 *
 * @since 0.1.0
 * @category errors
 */
export type OAuthError = ReauthorizationRequired | TokenRefreshFailed

/**
 * The token endpoint's answer to a refresh (wire sheet §4). `expires_in` is seconds (3600); `client_endpoint` the
 * portal's REST base.
 *
 * @since 0.1.0
 * @category schemas
 */
export const TokenResponse = Schema.Struct({
  access_token: Schema.String,
  refresh_token: Schema.String,
  expires_in: Schema.optionalWith(Schema.Number, { default: () => 3600 }),
  expires: Schema.optional(Schema.Number),
  client_endpoint: Schema.String,
  server_endpoint: Schema.optional(Schema.String),
  member_id: Schema.optional(Schema.String),
  domain: Schema.optional(Schema.String),
  scope: Schema.optional(Schema.String),
  status: Schema.optional(Schema.String),
  user_id: Schema.optional(Schema.Number)
})

const TokenAnswer = Schema.Union(
  Schema.Struct({ error: Schema.String, error_description: Schema.optionalWith(Schema.String, { default: () => "" }) }),
  TokenResponse
)
const decodeAnswer = Schema.decodeUnknownEither(TokenAnswer)

/** Codes of the OAuth server after which refreshing again cannot help (wire sheet §4, auth-server errors). */
const terminal: ReadonlySet<string> = new Set(["invalid_grant", "invalid_client", "invalid_request"])

const describeCause = (cause: unknown): string => {
  const code = typeof cause === "object" && cause !== null && "code" in cause ? String(cause.code) : undefined
  return code === undefined ? "the request failed before a response arrived" : `the request failed (${code})`
}

/**
 * Exchanges a refresh token for a new pair (wire sheet §4: `POST` form body to the token endpoint). The answer's
 * `expires_in` is counted from the local clock. Fails with {@link ReauthorizationRequired} for `invalid_grant` and
 * `invalid_client`, else {@link TokenRefreshFailed}. Neither error contains a token or the secret.
 *
 * @since 0.1.0
 * @category refresh
 */
export const refresh = (
  application: Application,
  refreshToken: Redacted.Redacted<string>,
  options: { readonly timeout?: Duration.DurationInput | undefined } = {}
): Effect.Effect<TokenStore.Tokens, OAuthError, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const client = HttpClient.withTracerDisabledWhen(yield* HttpClient.HttpClient, () => true)
    const request = HttpClientRequest.post(application.tokenUrl).pipe(
      HttpClientRequest.acceptJson,
      HttpClientRequest.bodyUrlParams({
        grant_type: "refresh_token",
        client_id: application.clientId,
        client_secret: Redacted.value(application.clientSecret),
        refresh_token: Redacted.value(refreshToken)
      })
    )
    const failed = (reason: TokenRefreshFailed["reason"], description: string, status?: number) =>
      new TokenRefreshFailed({ reason, description, ...(status === undefined ? {} : { status }) })
    const exchange = Effect.gen(function*() {
      const response = yield* client.execute(request).pipe(
        Effect.mapError((error) =>
          error._tag === "RequestError"
            ? failed("Network", describeCause(error.cause))
            : failed("InvalidBody", `the response could not be read (${error.reason})`, error.response.status)
        )
      )
      const text = yield* Effect.mapError(response.text, () =>
        failed("InvalidBody", "the body could not be read", response.status))
      let json: unknown
      try {
        json = JSON.parse(text)
      } catch {
        return yield* Effect.fail(failed("InvalidBody", `not JSON (${text.length} bytes)`, response.status))
      }
      const answer = decodeAnswer(json)
      if (Either.isLeft(answer)) {
        return yield* Effect.fail(failed("InvalidBody", "not a token response", response.status))
      }
      const value = answer.right
      if ("error" in value) {
        return yield* Effect.fail(
          terminal.has(value.error)
            ? new ReauthorizationRequired({
              code: value.error,
              description: value.error_description,
              status: response.status
            })
            : failed("InvalidBody", `the OAuth server answered ${value.error}`, response.status)
        )
      }
      return { value, now: yield* Clock.currentTimeMillis }
    })
    const { now, value } = yield* exchange.pipe(
      Effect.timeoutFail({
        duration: options.timeout ?? "30 seconds",
        onTimeout: () =>
          failed("Timeout", "no answer from the OAuth server in time")
      })
    )
    return {
      accessToken: Redacted.make(value.access_token),
      refreshToken: Redacted.make(value.refresh_token),
      expiresAt: now + value.expires_in * 1000,
      restUrl: value.client_endpoint,
      ...(value.member_id === undefined ? {} : { memberId: value.member_id }),
      ...(value.user_id === undefined ? {} : { userId: value.user_id }),
      ...(value.scope === undefined ? {} : { scope: value.scope })
    }
  })

/**
 * A portal's OAuth session: the current tokens, refreshed ahead of expiry, and a single-flight renewal for when the
 * portal rejects the access token.
 *
 * @since 0.1.0
 * @category models
 */
export interface Session {
  /** The key of the tokens in the store. */
  readonly key: string
  /** The application's client id: the auth entity the portal charges operating time to (wire sheet §3.2). */
  readonly clientId: string
  /** The stored tokens as they are, without refreshing (e.g. for their `restUrl`). */
  readonly stored: Effect.Effect<TokenStore.Tokens, OAuthError>
  /** Tokens to call with now: refreshed first when they expire within the skew. */
  readonly current: Effect.Effect<TokenStore.Tokens, OAuthError>
  /**
   * The portal rejected `accessToken` (`expired_token`, `invalid_token`): answers tokens with a different access
   * token, refreshing unless another fiber (or process, through the store) already has.
   */
  readonly renew: (accessToken: Redacted.Redacted<string>) => Effect.Effect<TokenStore.Tokens, OAuthError>
}

/**
 * Session settings: `key` of the tokens in the store (default `"default"`), `skew` before expiry at which tokens
 * are refreshed ahead (default 60 s), `timeout` of the refresh request (default 30 s). The store's refresh lock is
 * taken for `timeout` plus 5 s: a holder that dies mid-refresh keeps the other processes waiting no longer.
 *
 * @since 0.1.0
 * @category models
 */
export interface SessionOptions {
  readonly key?: string | undefined
  readonly skew?: Duration.DurationInput | undefined
  readonly timeout?: Duration.DurationInput | undefined
}

/** How long the refresh lock outlives the refresh request's own timeout. */
const lockMargin = Duration.seconds(5)

/**
 * Makes a session over the application, the token store and the HttpClient in context.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeSession = (
  options: SessionOptions = {}
): Effect.Effect<Session, never, OAuthApplication | TokenStore.TokenStore | HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const application = yield* OAuthApplication
    const store = yield* TokenStore.TokenStore
    const context = yield* Effect.context<HttpClient.HttpClient>()
    const key = options.key ?? "default"
    const skew = Duration.toMillis(Duration.decode(options.skew ?? "60 seconds"))
    const timeout = Duration.decode(options.timeout ?? "30 seconds")
    const lockTtl = Duration.sum(timeout, lockMargin)
    const cache = yield* Ref.make(Option.none<TokenStore.Tokens>())
    const lock = yield* Effect.makeSemaphore(1)
    const tokenHost = new URL(application.tokenUrl).host

    const storeError = (error: TokenStore.TokenStoreError) =>
      new TokenRefreshFailed({ reason: "Store", description: error.message })

    const load = Effect.flatMap(
      Effect.mapError(store.get(key), storeError),
      Option.match({
        onNone: () =>
          Effect.fail(
            new ReauthorizationRequired({
              code: "no_tokens",
              description: `no tokens are stored under "${key}"; authorize the application first`
            })
          ),
        onSome: (tokens) => Effect.as(Ref.set(cache, Option.some(tokens)), tokens)
      })
    )

    const expiring = (tokens: TokenStore.Tokens) =>
      Effect.map(Clock.currentTimeMillis, (now) => tokens.expiresAt - skew <= now)

    const same = (a: Redacted.Redacted<string>, b: Redacted.Redacted<string>) => Redacted.value(a) === Redacted.value(b)

    const exchange = (tokens: TokenStore.Tokens) =>
      refresh(application, tokens.refreshToken, { timeout }).pipe(
        Effect.provide(context),
        Effect.tapBoth({
          onFailure: (error) => Metrics.refreshed(error._tag === "ReauthorizationRequired" ? "reauthorize" : "failed"),
          onSuccess: () => Metrics.refreshed("ok")
        })
      )

    // Inside the lock: exchange the stored refresh token, then persist the rotated pair before anyone uses it (the old
    // refresh token is dead from now on). A fenced save that loses, or an invalid_grant for a token the store no
    // longer holds, means another holder rotated the pair: the stored one is used.
    const doRefresh = (tokens: TokenStore.Tokens, save: TokenStore.Save) =>
      exchange(tokens).pipe(
        Effect.flatMap((fresh) =>
          Effect.flatMap(
            Effect.mapError(save(fresh), storeError),
            (saved) => saved ? Effect.as(Ref.set(cache, Option.some(fresh)), fresh) : load
          )
        ),
        Effect.catchIf(
          (error): error is ReauthorizationRequired =>
            error._tag === "ReauthorizationRequired" && error.code === "invalid_grant",
          (error) =>
            Effect.flatMap(load, (now) => same(now.refreshToken, tokens.refreshToken) ? Effect.fail(error) : load)
        ),
        Effect.tap((fresh) =>
          Effect.flatMap(Clock.currentTimeMillis, (now) =>
            Effect.logDebug(
              `Bitrix24 OAuth tokens refreshed for "${key}"; the new access token is valid for ` +
                `${Math.round((fresh.expiresAt - now) / 1000)} s`
            ))
        ),
        Effect.withSpan("Bitrix24.oauth.refresh", {
          kind: "client",
          attributes: { "bitrix24.oauth.server": tokenHost, "bitrix24.oauth.key": key }
        })
      )

    // One fiber of this session at a time, then the store's lock (every process, for a shared store): re-read the
    // store (another fiber or process may have refreshed), refresh only if the stored access token is still the
    // rejected (or expiring) one.
    const renewLocked = (rejected: Option.Option<Redacted.Redacted<string>>) =>
      lock.withPermits(1)(
        store.withRefreshLock(key, lockTtl, (save) =>
          Effect.gen(function*() {
            const stored = yield* load
            const stale = Option.match(rejected, {
              onNone: () => false,
              onSome: (token) => same(token, stored.accessToken)
            })
            if (!stale && !(yield* expiring(stored))) return stored
            return yield* doRefresh(stored, save)
          })).pipe(
            Effect.catchTag("TokenStoreError", (error) => Effect.fail(storeError(error)))
          )
      )

    const current = Effect.gen(function*() {
      const cached = yield* Ref.get(cache)
      if (Option.isSome(cached) && !(yield* expiring(cached.value))) return cached.value
      return yield* renewLocked(Option.none())
    })

    return {
      key,
      clientId: application.clientId,
      stored: load,
      current,
      renew: (accessToken) => renewLocked(Option.some(accessToken))
    }
  })
