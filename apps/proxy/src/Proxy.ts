/**
 * `b24-proxy`: a Bitrix24 wire-compatible HTTP proxy. Clients call `/rest/{id}/{secret}/{method}[.json]` exactly as
 * they would call a portal's inbound webhook. The proxy
 * 1. checks the client credential (constant time; `401 NO_AUTH_FOUND` otherwise),
 * 2. finds the method in the core catalog (`404 ERROR_METHOD_NOT_FOUND` otherwise),
 * 3. reads the params as the portal would (`WireRequest`: a body over `WireRequest.maxBodyBytes`, bracket keys deeper
 *    than `WireRequest.maxKeyNesting` or JSON deeper than `Wire.maxDepth` are refused with `400`) and decodes them
 *    with the method's declaration before any upstream call (bad input: `400` and the envelope the portal itself
 *    would send, see `Method.invalidParamsToWire`),
 * 4. forwards with its own upstream credentials, which never appear in a response, and
 * 5. answers the portal's envelope: `{result, next, total, time}` (the `result` exactly as the portal sent it) or
 *    `{error, error_description}` with the portal's status.
 * Routes are derived from the catalog: a method declared in core is served with no change here.
 */
import { Bitrix24Client, Catalog, Envelope, Method, PortalError, Wire, WireRequest } from "@bitrix24-effect/core"
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Clients from "./Clients.js"

const preflight = HttpServerResponse.empty({ status: 204, headers: Envelope.responseHeaders })

const respond = (status: number, body: unknown) =>
  HttpServerResponse.text(Envelope.encodeJson(body), {
    status,
    contentType: Envelope.contentType.json,
    headers: Envelope.responseHeaders
  })

const reply = (error: Envelope.ErrorReply) => respond(error.status, error.body)

/** A POST body, refused past `WireRequest.maxBodyBytes`; a broken read is an empty body. */
const readBody = (request: HttpServerRequest.HttpServerRequest) =>
  request.method === "POST"
    ? Effect.orElseSucceed(WireRequest.readBody(request.stream), () => Either.right(""))
    : Effect.succeed(Either.right(""))

/**
 * The proxy as an HttpApp.
 */
export const app: HttpApp.Default<never, Bitrix24Client.Bitrix24Client | Clients.Clients> = Effect.gen(function*() {
  const request = yield* HttpServerRequest.HttpServerRequest
  const url = new URL(request.url, "http://proxy.invalid")
  const route = WireRequest.parseRestPath(url.pathname)
  if (route === undefined) return HttpServerResponse.text("Not Found", { status: 404 })
  // A CORS preflight is answered with the headers only; it never runs a method.
  if (request.method === "OPTIONS") return preflight
  const clients = yield* Clients.Clients
  if (route.kind !== "webhook" || !clients.verify(route.user, route.code)) {
    return reply(Envelope.error(PortalError.NoAuthFound))
  }
  const method = Catalog.find(Wire.normalizeMethod(route.method).method)
  if (method === undefined) return reply(Envelope.error(PortalError.MethodNotFound))
  const body = yield* readBody(request)
  // Params are read with the portal's limits and decoded with the declaration (bad input never leaves the proxy),
  // then re-encoded canonically; the portal's answer is forwarded as it came (its `result` untouched, so PHP's `[]`
  // maps stay `[]`).
  return yield* Effect.gen(function*() {
    const text = yield* body
    const params = yield* WireRequest.requestParams({
      method: request.method,
      search: url.search,
      contentType: request.headers["content-type"],
      body: text
    })
    for (const key of WireRequest.credentialParams) delete params[key]
    const wire = yield* Effect.flatMap(method.decodeParams(params), method.encodeParams)
    const client = yield* Bitrix24Client.Bitrix24Client
    const response = yield* client.call({
      method: method.method,
      params: wire,
      idempotent: method.idempotent,
      batchable: method.batchable ?? true
    })
    return respond(200, Envelope.fromResponse(response))
  }).pipe(
    // Every failure of a call, answered in one place.
    Effect.catchTags({
      ParamsRefused: (refused) => Effect.succeed(reply(WireRequest.refusalReply(method.method, refused))),
      InvalidParams: (invalid) => Effect.succeed(reply(Method.invalidParamsToWire(method, invalid))),
      // The upstream portal could not be reached or answered something unreadable.
      TransportError: (error) =>
        Effect.succeed(reply(Envelope.error(PortalError.UnexpectedAnswer, {
          status: 502,
          description: `Upstream portal: ${error.reason}: ${error.description}`
        }))),
      WireFailure: (failure) =>
        Effect.succeed(reply(Envelope.fromWireError({
          code: failure.code,
          description: failure.description,
          // Inside a `batch` the portal does not say a command's status: the documented one of its code stands in.
          status: failure.status ?? PortalError.fromWire(method.method, failure, method.errors).status
        })))
    }),
    Effect.withSpan("b24-proxy.call", { kind: "server", attributes: { "bitrix24.method": method.method } })
  )
})
