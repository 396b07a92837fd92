/**
 * Who is calling: an inbound webhook in the path or as `aplogin`/`ap` params, or an OAuth token in
 * `Authorization: Bearer`, `auth` or `access_token`; the answers `NO_AUTH_FOUND`, `invalid_token`, `expired_token` and
 * `OVERLOAD_LIMIT` (wire sheet §1.1, §3.3, §4).
 *
 * @internal
 */
import { PortalError, type WireRequest } from "@bitrix24-effect/core"
import { type Instance, systemError, type WireError } from "./instance.js"

/**
 * An authenticated caller.
 *
 * @internal
 */
export interface Caller {
  readonly userId: number
  readonly scopes: ReadonlySet<string>
  /** The journal's `auth`: `webhook:<userId>` or `oauth:<userId>`. */
  readonly auth: string
  /** The limits' entity: `webhook:<userId>` or `app:<client_id>`. */
  readonly entity: string
  readonly kind: "webhook" | "oauth"
  readonly clientId: string | undefined
}

/** @internal */
export const isCaller = (value: Caller | WireError): value is Caller => "userId" in value

const webhookCaller = (instance: Instance, user: string, code: string): Caller | WireError => {
  const webhook = instance.credentials.webhooks.find((w) => w.code === code && String(w.userId) === user)
  if (webhook === undefined) return systemError(instance, PortalError.NoAuthFound)
  const entity = `webhook:${webhook.userId}`
  if (instance.limits.held(entity)) return systemError(instance, PortalError.OverloadLimit)
  return { userId: webhook.userId, scopes: webhook.scopes, auth: entity, entity, kind: "webhook", clientId: undefined }
}

/**
 * Authenticates a REST call: the webhook of its path, else the bearer header (checked first), `auth` or
 * `access_token`, else `aplogin`/`ap` params.
 *
 * @internal
 */
export const authenticate = (
  instance: Instance,
  route: WireRequest.RestPath,
  params: Readonly<Record<string, unknown>>,
  authorization: string | undefined,
  now: number
): Caller | WireError => {
  if (route.kind === "webhook") return webhookCaller(instance, route.user, route.code)
  const bearer = authorization !== undefined && authorization.startsWith("Bearer ")
    ? authorization.slice(7).trim()
    : undefined
  const token = bearer ?? params.auth ?? params.access_token
  if (typeof token !== "string" || token.length === 0) {
    // apauth also reads the webhook credentials from plain `aplogin` / `ap` params (wire sheet §1.1).
    if (typeof params.aplogin === "string" && typeof params.ap === "string") {
      return webhookCaller(instance, params.aplogin, params.ap)
    }
    return systemError(instance, PortalError.NoAuthFound)
  }
  const found = instance.credentials.tokens.get(token)
  if (found === undefined) return systemError(instance, PortalError.InvalidToken)
  if (found.expiresAt <= now) return systemError(instance, PortalError.ExpiredToken)
  const entity = found.clientId === undefined ? `oauth:${found.userId}` : `app:${found.clientId}`
  if (instance.limits.held(entity)) return systemError(instance, PortalError.OverloadLimit)
  return {
    userId: found.userId,
    scopes: found.scopes,
    auth: `oauth:${found.userId}`,
    entity,
    kind: "oauth",
    clientId: found.clientId
  }
}
