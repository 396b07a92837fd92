/**
 * The emulator's stand-in for the Bitrix24 authorization server (`https://oauth.bitrix.info/oauth/token/`, wire
 * sheet §4), served at `{url}/oauth/token/`: `grant_type=refresh_token` or `authorization_code`, by GET query (docs,
 * PHPSDK) or POST form (CREST), with the application's `client_id` and `client_secret`. A refresh rotates the refresh
 * token: the used one is dead afterwards (`invalid_grant`).
 *
 * The portal's authorize step is served at `{url}/oauth/authorize/`: the emulated portal has one signed-in user who
 * approves every request at once, so the answer is the redirect to the application with a 30-second, single-use
 * `code` (wire sheet §4).
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
 * The authorize step's answer: the redirect to the application, or a refusal (status and JSON error body).
 *
 * @since 0.1.0
 * @category models
 */
export type AuthorizeAnswer =
  | { readonly _tag: "Redirect"; readonly location: string }
  | { readonly _tag: "Refused"; readonly answer: Answer }

const isHttpUrl = (value: string): boolean => {
  try {
    const url = new URL(value)
    return url.protocol === "http:" || url.protocol === "https:"
  } catch {
    return false
  }
}

/**
 * Answers `/oauth/authorize/?client_id=…&state=…` for the signed-in `userId` (wire sheet §4): the redirect goes to
 * `redirect_uri` when given (the emulator takes any absolute http(s) URL), else to the application's registered
 * `redirectUri`, with `code`, `state`, `domain` (the portal), `member_id`, `scope` (comma-separated) and
 * `server_domain` (the authorization server: the emulator itself). Refusals: `invalid_request` 400 (no `client_id`,
 * or nowhere to redirect), `invalid_client` 401 (unknown application).
 *
 * @since 0.1.0
 * @category responses
 */
export const authorize = (
  credentials: Credentials.Credentials,
  params: Readonly<Record<string, unknown>>,
  now: number,
  endpoints: Endpoints & { readonly userId: number }
): AuthorizeAnswer => {
  const refused = (status: number, code: string, description: string): AuthorizeAnswer => ({
    _tag: "Refused",
    answer: error(status, code, description)
  })
  const clientId = text(params.client_id)
  if (clientId === undefined) return refused(400, "invalid_request", "client_id is required")
  const application = Credentials.application(credentials, clientId)
  if (application === undefined) return refused(401, "invalid_client", "Unknown client_id")
  const redirect = text(params.redirect_uri) ?? application.redirectUri
  if (redirect === undefined || !isHttpUrl(redirect)) {
    return refused(400, "invalid_request", "redirect_uri is required: the application has no handler URL")
  }
  const code = Credentials.issueCode(credentials, now, application, endpoints.userId)
  const host = new URL(endpoints.baseUrl).host
  const location = new URL(redirect)
  const query: Record<string, string> = {
    code: code.code,
    domain: host,
    member_id: endpoints.memberId,
    scope: [...application.scopes].join(","),
    server_domain: host
  }
  const state = text(params.state)
  if (state !== undefined) query.state = state
  for (const [key, value] of Object.entries(query)) location.searchParams.set(key, value)
  return { _tag: "Redirect", location: location.toString() }
}

/**
 * Answers one token request (params merged from query and body): `grant_type=refresh_token` with `refresh_token`,
 * or `grant_type=authorization_code` with the `code` from the authorize step. Errors (DOC-EN
 * `settings/oauth/error-codes.md`, statuses as PHPSDK maps them): `invalid_request` 400 (a required param missing, or
 * another grant type), `invalid_client` 401 (unknown `client_id` or wrong `client_secret`), `invalid_grant` 400 (an
 * unknown, used, expired or other application's refresh token or code).
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
  if (grantType !== "refresh_token" && grantType !== "authorization_code") {
    return error(400, "invalid_request", `Unsupported grant_type: ${grantType.slice(0, 40)}`)
  }
  const application = Credentials.application(credentials, clientId)
  if (application === undefined || !Credentials.secretMatches(application, clientSecret)) {
    return error(401, "invalid_client", "Invalid client credentials")
  }
  const user = grantType === "authorization_code"
    ? redeemCode(credentials, text(params.code), clientId, now)
    : redeemRefreshToken(credentials, text(params.refresh_token), clientId, now)
  if (typeof user !== "number") return user
  const pair = Credentials.issuePair(credentials, now, application, user)
  return { status: 200, body: tokenResponse(pair, application, endpoints) as unknown as Record<string, unknown> }
}

/** The user of a live authorization code of this application; the code is spent whatever the outcome. */
const redeemCode = (
  credentials: Credentials.Credentials,
  presented: string | undefined,
  clientId: string,
  now: number
): number | Answer => {
  if (presented === undefined) return error(400, "invalid_request", "code is required")
  const code = credentials.codes.get(presented)
  credentials.codes.delete(presented)
  if (code === undefined || code.clientId !== clientId || code.expiresAt <= now) {
    return error(400, "invalid_grant", "Invalid authorization code")
  }
  return code.userId
}

/** The user of a live refresh token of this application; the token is spent (rotation). */
const redeemRefreshToken = (
  credentials: Credentials.Credentials,
  presented: string | undefined,
  clientId: string,
  now: number
): number | Answer => {
  if (presented === undefined) return error(400, "invalid_request", "refresh_token is required")
  const refresh = credentials.refreshTokens.get(presented)
  if (refresh === undefined || refresh.clientId !== clientId || refresh.expiresAt <= now) {
    return error(400, "invalid_grant", "Invalid refresh token")
  }
  credentials.refreshTokens.delete(presented)
  return refresh.userId
}
