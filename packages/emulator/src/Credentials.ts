/**
 * Who may call the emulated portal: inbound webhooks (user, secret code, scopes) and OAuth access tokens (user,
 * scopes, expiry), wire sheet §1.1 and §4.
 *
 * @since 0.1.0
 */
import * as Crypto from "node:crypto"
import type * as Fixture from "./Fixture.js"

/** @since 0.1.0 @category models */
export interface Webhook {
  readonly userId: number
  readonly code: string
  readonly scopes: ReadonlySet<string>
}

/**
 * An OAuth access token the portal accepts, with its expiry in epoch milliseconds.
 *
 * @since 0.1.0
 * @category models
 */
export interface AccessToken {
  readonly token: string
  readonly userId: number
  readonly scopes: ReadonlySet<string>
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
 * Issues an OAuth access token for a user, valid for one hour from `now` (epoch milliseconds).
 *
 * @since 0.1.0
 * @category constructors
 */
export const issueToken = (
  credentials: Credentials,
  now: number,
  userId: number,
  scopes: ReadonlySet<string>
): AccessToken => {
  const token: AccessToken = { token: randomCode(32), userId, scopes, expiresAt: now + accessTokenLifetimeMs }
  credentials.tokens.set(token.token, token)
  return token
}

/**
 * The credentials of a fixture. Webhooks without a code get a random one; one OAuth access token is issued for the
 * first webhook's user.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (fixture: Fixture.Fixture, now: number): Credentials => {
  const credentials: Credentials = {
    webhooks: fixture.webhooks.map((w) => ({
      userId: w.userId,
      code: w.code ?? randomCode(),
      scopes: new Set(w.scopes)
    })),
    tokens: new Map()
  }
  const first = credentials.webhooks[0]
  if (first !== undefined) issueToken(credentials, now, first.userId, first.scopes)
  return credentials
}
