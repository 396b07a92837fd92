/**
 * The emulator's stand-in for the Bitrix24 authorization server (`https://oauth.bitrix.info/oauth/token/`, wire
 * sheet §4), served at `{url}/oauth/token/`: `grant_type=refresh_token` by GET query (docs, PHPSDK) or POST form
 * (CREST), with the application's `client_id` and `client_secret`. A refresh rotates the refresh token: the used one
 * is dead afterwards (`invalid_grant`).
 *
 * @since 0.1.0
 */
import * as Credentials from "./Credentials.js"

/**
 * The token endpoint's answer: an HTTP status and a JSON body.
 *
 * @since 0.1.0
 * @category models
 */
export interface Answer {
  readonly status: number
  readonly body: Readonly<Record<string, unknown>>
}

/**
 * The token response fields (wire sheet §4): the new `access_token` and `refresh_token`, `expires` (Unix seconds),
 * `expires_in` (3600), `client_endpoint` (the portal's `/rest/`), `server_endpoint` (the auth server's `/rest/`),
 * `domain` (the auth server's host, as `oauth.bitrix.info` is for the cloud: not the portal), `member_id` (the
 * portal's stable identifier), `scope` (comma-separated), `status` (the app's status letter) and `user_id`.
 *
 * @since 0.1.0
 * @category models
 */
export interface TokenResponse {
  readonly access_token: string
  readonly refresh_token: string
  readonly expires: number
  readonly expires_in: number
  readonly client_endpoint: string
  readonly server_endpoint: string
  readonly domain: string
  readonly member_id: string
  readonly scope: string
  readonly status: string
  readonly user_id: number
}

/**
 * Where the portal and its auth server live, for the response's endpoint fields.
 *
 * @since 0.1.0
 * @category models
 */
export interface Endpoints {
  /** The emulator's base URL, e.g. `https://127.0.0.1:8090`. */
  readonly baseUrl: string
  /** The portal's `member_id`. */
  readonly memberId: string
}

const error = (status: number, code: string, description: string): Answer => ({
  status,
  body: { error: code, error_description: description }
})

/**
 * The response body for a freshly issued pair.
 *
 * @since 0.1.0
 * @category responses
 */
export const tokenResponse = (
  pair: Credentials.TokenPair,
  application: Credentials.RegisteredApplication,
  endpoints: Endpoints
): TokenResponse => ({
  access_token: pair.access.token,
  refresh_token: pair.refresh.token,
  expires: Math.floor(pair.access.expiresAt / 1000),
  expires_in: Credentials.accessTokenLifetimeMs / 1000,
  client_endpoint: `${endpoints.baseUrl}/rest/`,
  server_endpoint: `${endpoints.baseUrl}/oauth/rest/`,
  domain: new URL(endpoints.baseUrl).host,
  member_id: endpoints.memberId,
  scope: [...application.scopes].join(","),
  status: application.status,
  user_id: pair.access.userId
})

const text = (value: unknown): string | undefined => typeof value === "string" && value.length > 0 ? value : undefined

/**
 * Answers one token request (params merged from query and body). Errors (DOC-EN `settings/oauth/error-codes.md`,
 * statuses as PHPSDK maps them): `invalid_request` 400 (a required param missing, or a grant type other than
 * `refresh_token`), `invalid_client` 401 (unknown `client_id` or wrong `client_secret`), `invalid_grant` 400 (an
 * unknown, used, expired or other application's refresh token).
 *
 * @since 0.1.0
 * @category responses
 */
export const token = (
  credentials: Credentials.Credentials,
  params: Readonly<Record<string, unknown>>,
  now: number,
  endpoints: Endpoints
): Answer => {
  const grantType = text(params.grant_type)
  const clientId = text(params.client_id)
  const clientSecret = text(params.client_secret)
  if (grantType === undefined || clientId === undefined || clientSecret === undefined) {
    return error(400, "invalid_request", "grant_type, client_id and client_secret are required")
  }
  if (grantType !== "refresh_token") {
    return error(400, "invalid_request", `Unsupported grant_type: ${grantType.slice(0, 40)}`)
  }
  const application = Credentials.application(credentials, clientId)
  if (application === undefined || !Credentials.secretMatches(application, clientSecret)) {
    return error(401, "invalid_client", "Invalid client credentials")
  }
  const presented = text(params.refresh_token)
  if (presented === undefined) return error(400, "invalid_request", "refresh_token is required")
  const refresh = credentials.refreshTokens.get(presented)
  if (refresh === undefined || refresh.clientId !== clientId || refresh.expiresAt <= now) {
    return error(400, "invalid_grant", "Invalid refresh token")
  }
  credentials.refreshTokens.delete(presented)
  const pair = Credentials.issuePair(credentials, now, application, refresh.userId)
  return { status: 200, body: tokenResponse(pair, application, endpoints) as unknown as Record<string, unknown> }
}
