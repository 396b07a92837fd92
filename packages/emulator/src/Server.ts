/**
 * The emulator's HTTP face: the Bitrix24 REST wire protocol over `@effect/platform` HttpServer.
 *
 * Serves `/rest/{user}/{code}/{method}[.json]` (inbound webhook) and `/rest/{method}[.json]` (OAuth, token in
 * `auth`, `access_token` or `Authorization: Bearer`), with an optional trailing slash. Params are merged as the
 * server does: query string first, then a POST body (JSON, or form-urlencoded / raw `parse_str` with PHP bracket
 * keys) overriding it (wire sheet §1.1, §1.2). Method names are case-insensitive. Success envelopes carry a `time`
 * block; error envelopes are `{error, error_description}` without one (§1.4, §1.5).
 *
 * @since 0.1.0
 */
import { PortalError, Wire } from "@bitrix24-effect/core"
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import type * as Credentials from "./Credentials.js"
import * as Handlers from "./Handlers.js"
import type * as Journal from "./Journal.js"
import type * as Portal from "./Portal.js"

const preflight = HttpServerResponse.empty({
  status: 204,
  headers: Object.fromEntries(Object.entries(Wire.responseHeaders).filter(([key]) => key !== "content-type"))
})

const respond = (status: number, body: unknown) => {
  const { "content-type": contentType, ...headers } = Wire.responseHeaders
  return HttpServerResponse.text(Wire.encodeJson(body), { status, contentType, headers })
}

const isoSeconds = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "+00:00")

/**
 * The `time` block of a success envelope, with integer `start` and `processing` as rest 25.700 sends them, and the
 * operating counters of the cloud (wire sheet §1.4, §3.2).
 */
const timeBlock = (startMs: number, finishMs: number) => ({
  start: Math.floor(startMs / 1000),
  finish: finishMs / 1000,
  duration: (finishMs - startMs) / 1000,
  processing: Math.floor((finishMs - startMs) / 1000),
  date_start: isoSeconds(startMs),
  date_finish: isoSeconds(finishMs),
  operating_reset_at: Math.floor(startMs / 1000) + 600,
  operating: 0
})

/**
 * Everything one emulated portal holds: the open-lines domain, the credentials and the journal.
 *
 * @since 0.1.0
 * @category models
 */
export interface Instance {
  readonly portal: Portal.Portal
  readonly credentials: Credentials.Credentials
  readonly journal: Journal.Journal
}

type Auth =
  | { readonly _tag: "ok"; readonly userId: number; readonly scopes: ReadonlySet<string>; readonly entity: string }
  | { readonly _tag: "failed"; readonly error: PortalError.PortalErrorClass<any> }

const authenticate = (
  instance: Instance,
  route: Wire.RestPath,
  params: Readonly<Record<string, unknown>>,
  authorization: string | undefined
): Auth => {
  if (route.kind === "webhook") {
    const webhook = instance.credentials.webhooks.find((w) => String(w.userId) === route.user && w.code === route.code)
    return webhook === undefined
      ? { _tag: "failed", error: PortalError.NoAuthFound }
      : { _tag: "ok", userId: webhook.userId, scopes: webhook.scopes, entity: `webhook:${webhook.userId}` }
  }
  const bearer = authorization?.startsWith("Bearer ") ? authorization.slice(7).trim() : undefined
  const token = bearer ?? params.auth ?? params.access_token
  if (typeof token !== "string" || token.length === 0) return { _tag: "failed", error: PortalError.NoAuthFound }
  const found = instance.credentials.tokens.get(token)
  if (found === undefined) return { _tag: "failed", error: PortalError.InvalidToken }
  if (found.expiresAt <= instance.portal.now()) return { _tag: "failed", error: PortalError.ExpiredToken }
  return { _tag: "ok", userId: found.userId, scopes: found.scopes, entity: `oauth:${found.userId}` }
}

/**
 * Runs one REST call against the portal: authenticate, find the handler, check the scope, execute, journal.
 *
 * @since 0.1.0
 * @category wire
 */
export const execute = (
  instance: Instance,
  input: {
    readonly route: Wire.RestPath
    readonly params: Readonly<Record<string, unknown>>
    readonly authorization: string | undefined
  }
): { readonly status: number; readonly body: unknown } => {
  const { journal, portal } = instance
  const startMs = portal.now()
  const { method } = Wire.normalizeMethod(input.route.method)
  const params = Object.fromEntries(Object.entries(input.params).filter(([key]) => !Wire.credentialParams.has(key)))
  const auth = authenticate(instance, input.route, input.params, input.authorization)
  const record = (status: number, error: string | undefined, executed: boolean, entity: string) =>
    journal.push({
      seq: journal.length + 1,
      at: startMs,
      method,
      params,
      auth: entity,
      status,
      error,
      executed
    })
  const failure = (Class: PortalError.PortalErrorClass<any>, entity: string) => {
    record(Class.spec.status, Class.spec.code, false, entity)
    return {
      status: Class.spec.status,
      body: { error: Class.spec.code, error_description: Class.spec.description }
    }
  }
  if (auth._tag === "failed") return failure(auth.error, "none")
  const handler = Handlers.handlers.get(method)
  if (handler === undefined) return failure(PortalError.MethodNotFound, auth.entity)
  const scope = Handlers.scopeOf(method)
  if (scope !== undefined && !auth.scopes.has(scope)) return failure(PortalError.InsufficientScope, auth.entity)
  const outcome = handler({ portal, userId: auth.userId, params })
  if (outcome._tag === "Failure") {
    record(outcome.error.status, outcome.error.code, true, auth.entity)
    return {
      status: outcome.error.status,
      body: { error: outcome.error.code, error_description: outcome.error.description }
    }
  }
  record(200, undefined, true, auth.entity)
  return { status: 200, body: { result: outcome.result, time: timeBlock(startMs, portal.now()) } }
}

/**
 * The emulator as an HttpApp over a portal instance.
 *
 * @since 0.1.0
 * @category wire
 */
export const app = (instance: Instance): HttpApp.Default =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const url = new URL(request.url, "http://emulator.invalid")
    const route = Wire.parseRestPath(url.pathname)
    if (route === undefined) return HttpServerResponse.text("Not Found", { status: 404 })
    // A CORS preflight is answered with the headers only; it never runs a method.
    if (request.method === "OPTIONS") return preflight
    const body = request.method === "POST" ? yield* Effect.orElseSucceed(request.text, () => "") : ""
    const params = Wire.requestParams({
      method: request.method,
      search: url.search,
      contentType: request.headers["content-type"],
      body
    })
    const answer = execute(instance, { route, params, authorization: request.headers["authorization"] })
    return respond(answer.status, answer.body)
  })
