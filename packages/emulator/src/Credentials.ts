/**
 * Who may call the emulated portal: inbound webhooks (user, secret code, scopes), OAuth applications (client ID,
 * client secret, scopes) and the access and refresh tokens issued to them (wire sheet §1.1 and §4).
 *
 * @since 0.1.0
 */
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Crypto from "node:crypto"

/** @since 0.1.0 @category models */
export interface Webhook {
  readonly userId: number
  readonly code: string
  readonly scopes: ReadonlySet<string>
}

/**
 * An OAuth application (a local or Marketplace app) as the fixture declares it: its `client_id`, its
 * `client_secret` (generated at start when absent), the scopes its tokens carry, its status as `app.info`
 * reports it (`F` free, `D` demo, `T` trial, `P` paid, `L` local; wire sheet §4) and its handler URL.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Application = Schema.Struct({
  clientId: Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9._-]{1,128}$/)),
  clientSecret: Schema.optional(Schema.Redacted(Schema.String.pipe(Schema.minLength(8)))),
  scopes: Schema.optionalWith(Schema.Array(Schema.String), { default: () => ["imopenlines", "imconnector", "im"] }),
  status: Schema.optionalWith(Schema.Literal("F", "D", "T", "P", "L"), { default: () => "L" as const }),
  /** The application's registered handler URL: where `/oauth/authorize/` sends the user without a `redirect_uri`. */
  redirectUri: Schema.optional(Schema.String)
})

/**
 * The application every fixture has unless it declares its own: a local app with the scopes of an open-lines
 * connector (`imopenlines`, `imconnector`, `im`: docs/bitrix24-events.md §5.1) and a secret generated at start.
 *
 * @since 0.1.0
 * @category fixtures
 */
export const defaultApplication: typeof Application.Type = {
  clientId: "local.b24emulator.000001",
  scopes: ["imopenlines", "imconnector", "im"],
  status: "L"
}

/**
 * A registered OAuth application, with its secret kept `Redacted`.
 *
 * @since 0.1.0
 * @category models
 */
export interface RegisteredApplication {
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  readonly scopes: ReadonlySet<string>
  readonly status: "F" | "D" | "T" | "P" | "L"
  readonly redirectUri: string | undefined
}

/**
 * An OAuth access token the portal accepts, with its expiry in epoch milliseconds on the emulator's clock.
 * `clientId` names the application it was issued to (absent for tokens a test plants by hand).
 *
 * @since 0.1.0
 * @category models
 */
export interface AccessToken {
  readonly token: string
  readonly userId: number
  readonly scopes: ReadonlySet<string>
  readonly expiresAt: number
  readonly clientId?: string | undefined
}

/**
 * A refresh token: single use (a refresh rotates it, wire sheet §4), valid for 180 days.
 *
 * @since 0.1.0
 * @category models
 */
export interface RefreshToken {
  readonly token: string
  readonly userId: number
  readonly clientId: string
  readonly scopes: ReadonlySet<string>
  readonly expiresAt: number
}

/**
 * An authorization code handed out by `/oauth/authorize/`: single use, valid for 30 seconds, for one application
 * and the user who authorized it (wire sheet §4).
 *
 * @since 0.1.0
 * @category models
 */
export interface AuthorizationCode {
  readonly code: string
  readonly clientId: string
  readonly userId: number
  readonly expiresAt: number
}

/**
 * The credential tables.
 *
 * @since 0.1.0
 * @category models
 */
export interface Credentials {
  readonly webhooks: Array<Webhook>
  readonly tokens: Map<string, AccessToken>
  readonly applications: Array<RegisteredApplication>
  readonly refreshTokens: Map<string, RefreshToken>
  readonly codes: Map<string, AuthorizationCode>
}

/**
 * A random credential of lowercase letters and digits, like the portal's webhook codes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const randomCode = (length = 16): string => {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
  return Array.from(Crypto.randomBytes(length), (byte) => alphabet[byte % alphabet.length]).join("")
}

/**
 * The lifetime of an OAuth access token: one hour, in milliseconds (wire sheet §4).
 *
 * @since 0.1.0
 * @category constants
 */
export const accessTokenLifetimeMs = 3600 * 1000

/**
 * The lifetime of a refresh token: 180 days, in milliseconds, as the current apidocs state. Older training material
 * says "28 days or until first use" (wire sheet §4, §8.3); rotation makes a used token dead either way.
 *
 * @since 0.1.0
 * @category constants
 */
export const refreshTokenLifetimeMs = 180 * 24 * 3600 * 1000

/**
 * The lifetime of an authorization code: 30 seconds, in milliseconds (wire sheet §4).
 *
 * @since 0.1.0
 * @category constants
 */
export const authorizationCodeLifetimeMs = 30 * 1000

/**
 * Issues a single-use authorization code for a user of an application, valid for 30 seconds from `now` (epoch
 * milliseconds).
 *
 * @since 0.1.0
 * @category constructors
 */
export const issueCode = (
  credentials: Credentials,
  now: number,
  application: RegisteredApplication,
  userId: number
): AuthorizationCode => {
  const code: AuthorizationCode = {
    code: randomCode(32),
    clientId: application.clientId,
    userId,
    expiresAt: now + authorizationCodeLifetimeMs
  }
  credentials.codes.set(code.code, code)
  return code
}

/**
 * Issues an OAuth access token for a user, valid for one hour from `now` (epoch milliseconds).
 *
 * @since 0.1.0
 * @category constructors
 */
export const issueToken = (
  credentials: Credentials,
  now: number,
  userId: number,
  scopes: ReadonlySet<string>,
  clientId?: string
): AccessToken => {
  const token: AccessToken = {
    token: randomCode(32),
    userId,
    scopes,
    expiresAt: now + accessTokenLifetimeMs,
    clientId
  }
  credentials.tokens.set(token.token, token)
  return token
}

/**
 * An access token and its refresh token, as the OAuth server hands them out.
 *
 * @since 0.1.0
 * @category models
 */
export interface TokenPair {
  readonly access: AccessToken
  readonly refresh: RefreshToken
}

/**
 * Issues an access token (one hour) and a refresh token (180 days) for a user of an application, from `now`
 * (epoch milliseconds). The tokens carry the application's scopes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const issuePair = (
  credentials: Credentials,
  now: number,
  application: RegisteredApplication,
  userId: number
): TokenPair => {
  const access = issueToken(credentials, now, userId, application.scopes, application.clientId)
  const refresh: RefreshToken = {
    token: randomCode(32),
    userId,
    clientId: application.clientId,
    scopes: application.scopes,
    expiresAt: now + refreshTokenLifetimeMs
  }
  credentials.refreshTokens.set(refresh.token, refresh)
  return { access, refresh }
}

/**
 * The part of a decoded fixture the credentials are built from.
 *
 * @since 0.1.0
 * @category models
 */
export interface Source {
  readonly webhooks: ReadonlyArray<{
    readonly userId: number
    readonly code?: string | undefined
    readonly scopes: ReadonlyArray<string>
  }>
  readonly applications?: ReadonlyArray<typeof Application.Type> | undefined
}

/**
 * The credentials of a fixture. Webhooks without a code and applications without a secret get random ones; a
 * fixture without applications gets {@link defaultApplication}. One OAuth access token (with its refresh token) is
 * issued through the first application for the first webhook's user.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (fixture: Source, now: number): Credentials => {
  const credentials: Credentials = {
    webhooks: [],
    tokens: new Map(),
    applications: [],
    refreshTokens: new Map(),
    codes: new Map()
  }
  fill(credentials, fixture, now)
  return credentials
}

/**
 * Replaces the credential tables in place (so references held elsewhere see the new tables), as {@link make}
 * builds them.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fill = (credentials: Credentials, fixture: Source, now: number): void => {
  credentials.webhooks.splice(
    0,
    credentials.webhooks.length,
    ...fixture.webhooks.map((w) => ({ userId: w.userId, code: w.code ?? randomCode(), scopes: new Set(w.scopes) }))
  )
  const applications = fixture.applications === undefined || fixture.applications.length === 0
    ? [defaultApplication]
    : fixture.applications
  credentials.applications.splice(
    0,
    credentials.applications.length,
    ...applications.map((a) => ({
      clientId: a.clientId,
      clientSecret: a.clientSecret ?? Redacted.make(randomCode(40)),
      scopes: new Set(a.scopes),
      status: a.status,
      redirectUri: a.redirectUri
    }))
  )
  credentials.tokens.clear()
  credentials.refreshTokens.clear()
  credentials.codes.clear()
  const first = credentials.webhooks[0]
  const app = credentials.applications[0]
  if (first !== undefined && app !== undefined) issuePair(credentials, now, app, first.userId)
}

/**
 * The application with this `client_id`, if registered.
 *
 * @since 0.1.0
 * @category lookups
 */
export const application = (credentials: Credentials, clientId: string): RegisteredApplication | undefined =>
  credentials.applications.find((a) => a.clientId === clientId)

/**
 * Compares a presented secret with the application's in constant time.
 *
 * @since 0.1.0
 * @category lookups
 */
export const secretMatches = (app: RegisteredApplication, presented: string): boolean => {
  const expected = Buffer.from(Redacted.value(app.clientSecret))
  const given = Buffer.from(presented)
  return expected.length === given.length && Crypto.timingSafeEqual(expected, given)
}
