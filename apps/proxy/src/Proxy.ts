/**
 * `b24-proxy` as an HttpApp: a Bitrix24 wire-compatible endpoint that any Bitrix24 SDK or `curl` calls as it would
 * call a portal. For each request under `/rest/`, in order:
 *
 * 1. **The client** (`Clients`): the inbound-webhook form `/rest/{id}/{secret}/{method}`, or the OAuth form
 *    `/rest/{method}` with the secret as `Authorization: Bearer`, `auth` or `access_token` (else
 *    `401 NO_AUTH_FOUND`). Credential params are removed: nothing of the client's goes upstream.
 * 2. **Its own bucket** (`Lanes.admit`): over it, `503 QUERY_LIMIT_EXCEEDED` at once.
 * 3. **Its method scope** (`MethodScope`): a method outside it is answered as the portal answers a method the caller
 *    may not use, `insufficient_scope` (403; the webhook's or the access token's text by the form the client used).
 *    `batch` is always allowed; its commands are checked one by one.
 * 4. **The params**, read as the portal reads them (`WireRequest`: query, JSON, form and multipart bodies, PHP
 *    bracket keys, the size and nesting limits, refused with the portal's 400 envelope). A declared method's params
 *    are decoded and re-encoded by its declaration (a method declaring none forwards none; bad input is answered with
 *    the envelope the portal itself would send, before any upstream call); any other method's params go as the client
 *    sent them (the portal's reading of its request), in one request of their own.
 * 5. **Its lane** (`Lanes.run`): the client's turn in the portal's fair queue, then the portal's transport, with the
 *    proxy's own credentials, the portal's bucket mirror, retries and automatic batching.
 * 6. **The answer**: the portal's envelope and status, its `result` untouched and its `X-Bitrix-Rest-*` headers
 *    passed on, in JSON or, for a `.xml` call, in the portal's XML; a failure upstream as the `Outcome` table says.
 *
 * `OPTIONS` is a CORS preflight (headers only); `HEAD` is handled as the portal handles it, like `GET` (the query's
 * params, the method runs) with the body left out. Every request ends in one `Answer`, written in one place
 * ({@link app}), where its status, outcome, client, portal and method are known (the span `b24-proxy.request`
 * carries them).
 */
import {
  BatchProtocol,
  type Bitrix24Client,
  Catalog,
  Envelope,
  Method,
  PortalError,
  Wire,
  WireRequest
} from "@bitrix24-effect/core"
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Clients from "./Clients.js"
import * as Batch from "./internal/batch.js"
import * as Outcome from "./Outcome.js"
import * as Portals from "./Portals.js"

/**
 * How a request ended, for logs and metrics: `ok`; `portal_error` (the portal answered an error envelope);
 * `upstream_failure` (no usable answer from the portal); `refused` (over the client's bucket); `invalid` (bad input,
 * answered here); `unauthorized`; `forbidden` (outside the client's scope); `not_found` (not a REST path).
 */
export type Kind =
  | "ok"
  | "portal_error"
  | "upstream_failure"
  | "refused"
  | "invalid"
  | "unauthorized"
  | "forbidden"
  | "not_found"

/** One request's answer, before it is written. `payload` is the envelope (none for a preflight). */
export interface Answer {
  readonly status: number
  readonly payload: unknown
  readonly headers: Readonly<Record<string, string>>
  readonly kind: Kind
  readonly client?: string | undefined
  readonly portal?: string | undefined
  readonly method?: string | undefined
}

const errorAnswer = (reply: Envelope.ErrorReply, kind: Kind): Answer => ({
  status: reply.status,
  payload: reply.body,
  headers: {},
  kind
})

/** A POST body, refused past `WireRequest.maxBodyBytes`; a broken read is an empty body. */
const readBody = (request: HttpServerRequest.HttpServerRequest) =>
  Effect.orElseSucceed(WireRequest.readBody(request.stream), () => Either.right(""))

/** The answer of a failed upstream call. */
const failed = (
  method: string,
  failure: Parameters<typeof Outcome.fromFailure>[1],
  declared: Method.Any | undefined
): Answer => {
  const reply = Outcome.fromFailure(
    method,
    failure,
    (wire) => PortalError.fromWire(method, wire, declared?.errors ?? []).status
  )
  return {
    status: reply.status,
    payload: reply.body,
    headers: reply.headers,
    kind: failure._tag === "WireFailure" && reply.status !== 502 ? "portal_error" : "upstream_failure"
  }
}

/**
 * Sends a call upstream in the client's lane; the transport's metrics of the call carry the portal and the client.
 */
const upstream = (caller: Clients.Caller, portal: Portals.Portal, request: Bitrix24Client.CallRequest) =>
  portal.lanes.run(
    caller.client,
    portal.client.call(request).pipe(Effect.tagMetrics({ portal: portal.name, client: caller.client.id }))
  )

/** A call to one method (not `batch`), after the client and its bucket. */
const single = (
  caller: Clients.Caller,
  portal: Portals.Portal,
  name: string,
  params: Either.Either<Record<string, unknown>, WireRequest.ParamsRefused>
): Effect.Effect<Answer> =>
  Effect.gen(function*() {
    if (!caller.client.scope.allows(name)) {
      return errorAnswer(
        Envelope.error(PortalError.InsufficientScope, {
          description: caller.form === "token" ? PortalError.insufficientScopeForToken : undefined
        }),
        "forbidden"
      )
    }
    if (Either.isLeft(params)) return errorAnswer(WireRequest.refusalReply(name, params.left), "invalid")
    const declared = Catalog.find(name)
    let request: Bitrix24Client.CallRequest
    if (declared === undefined) {
      request = { method: name, params: params.right, idempotent: false, batchable: false }
    } else {
      const wire = yield* Effect.either(Effect.flatMap(declared.decodeParams(params.right), declared.encodeParams))
      if (Either.isLeft(wire)) return errorAnswer(Method.invalidParamsToWire(declared, wire.left), "invalid")
      request = {
        method: declared.method,
        params: wire.right,
        idempotent: declared.idempotent,
        batchable: declared.batchable ?? true
      }
    }
    const result = yield* Effect.either(upstream(caller, portal, request))
    if (Either.isLeft(result)) return failed(request.method, result.left, declared)
    return {
      status: 200,
      payload: Envelope.fromResponse(result.right),
      headers: result.right.headers ?? {},
      kind: "ok"
    }
  })

/** A `batch` call, after the client and its bucket (see `internal/batch`). */
const batch = (
  caller: Clients.Caller,
  portal: Portals.Portal,
  params: Either.Either<Record<string, unknown>, WireRequest.ParamsRefused>
): Effect.Effect<Answer> =>
  Effect.gen(function*() {
    if (Either.isLeft(params)) return errorAnswer(WireRequest.refusalReply("batch", params.left), "invalid")
    const prepared = yield* Batch.prepare(params.right, caller.client.scope)
    if (Object.keys(prepared.cmd).length === 0) {
      return { status: 200, payload: { result: Batch.answer(prepared, undefined) }, headers: {}, kind: "ok" }
    }
    const result = yield* Effect.either(upstream(caller, portal, {
      method: "batch",
      params: { halt: prepared.halt ? 1 : 0, cmd: prepared.cmd },
      idempotent: prepared.idempotent,
      batchable: false
    }))
    if (Either.isLeft(result)) return failed("batch", result.left, undefined)
    const decoded = BatchProtocol.decodeResult(result.right.result)
    if (Either.isLeft(decoded)) {
      return failed(
        "batch",
        new PortalError.TransportError({
          method: "batch",
          reason: "InvalidBody",
          description: "the batch answer is not the documented result/result_error maps"
        }),
        undefined
      )
    }
    return {
      status: 200,
      payload: Envelope.fromResponse({ ...result.right, result: Batch.answer(prepared, decoded.right) }),
      headers: result.right.headers ?? {},
      kind: "ok"
    }
  })

/** Everything after the route: the client, its bucket, then one method or `batch`. */
const handle = (
  request: HttpServerRequest.HttpServerRequest,
  route: WireRequest.RestPath,
  url: URL,
  name: string
): Effect.Effect<Answer, never, Clients.Clients | Portals.Portals> =>
  Effect.gen(function*() {
    // HEAD reads like GET: the query's params (PHP sees only those), and no body.
    const verb = request.method === "HEAD" ? "GET" : request.method
    const body = verb === "POST" ? yield* readBody(request) : Either.right("")
    const params = Either.flatMap(body, (text) =>
      WireRequest.requestParams({
        method: verb,
        search: url.search,
        contentType: request.headers["content-type"],
        body: text
      }))
    const clients = yield* Clients.Clients
    const caller = clients.authenticate({
      route,
      authorization: request.headers["authorization"],
      // A body refused for its size or depth carries no credentials the portal would read: the query's stand.
      params: Either.getOrElse(params, () => Either.getOrElse(WireRequest.parseQuery(url.search), () => ({})))
    })
    if (caller === undefined) return errorAnswer(Envelope.error(PortalError.NoAuthFound), "unauthorized")
    const portal = (yield* Portals.Portals).get(caller.client.portal)
    const who = { client: caller.client.id, portal: portal.name, method: name }
    if (!(yield* portal.lanes.admit(caller.client))) {
      return { ...errorAnswer(Envelope.error(PortalError.QueryLimitExceeded), "refused"), ...who }
    }
    const clean = Either.map(params, Clients.withoutCredentials)
    const answer = name === "batch"
      ? yield* batch(caller, portal, clean)
      : yield* single(caller, portal, name, clean)
    return { ...answer, ...who }
  })

const notFound = HttpServerResponse.text("Not Found", { status: 404 })

/** Writes an answer: the envelope in the call's transport, the REST headers and the portal's own. */
const write = (answer: Answer, transport: Envelope.Transport): HttpServerResponse.HttpServerResponse =>
  answer.payload === undefined
    ? HttpServerResponse.empty({ status: answer.status, headers: { ...Envelope.responseHeaders, ...answer.headers } })
    : HttpServerResponse.text(Envelope.encode(transport, answer.payload), {
      status: answer.status,
      contentType: Envelope.contentType[transport],
      headers: { ...Envelope.responseHeaders, ...answer.headers }
    })

/** The proxy as an HttpApp. */
export const app: HttpApp.Default<never, Clients.Clients | Portals.Portals> = Effect.gen(function*() {
  const request = yield* HttpServerRequest.HttpServerRequest
  const url = new URL(request.url, "http://proxy.invalid")
  const route = WireRequest.parseRestPath(url.pathname)
  if (route === undefined) return notFound
  const { method: name, transport } = Wire.normalizeMethod(route.method)
  // A CORS preflight is answered with the headers only; it never runs a method.
  if (request.method === "OPTIONS") {
    return write({ status: 204, payload: undefined, headers: {}, kind: "ok" }, transport)
  }
  return yield* Effect.useSpan("b24-proxy.request", {
    kind: "server",
    captureStackTrace: false,
    attributes: { "bitrix24.method": name }
  }, (span) =>
    Effect.map(handle(request, route, url, name), (answer) => {
      span.attribute("http.status_code", answer.status)
      span.attribute("b24_proxy.outcome", answer.kind)
      if (answer.client !== undefined) span.attribute("b24_proxy.client", answer.client)
      if (answer.portal !== undefined) span.attribute("b24_proxy.portal", answer.portal)
      return write(answer, transport)
    }))
})
