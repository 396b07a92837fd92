/**
 * `b24-proxy`: a Bitrix24 wire-compatible HTTP proxy. Clients call `/rest/{id}/{secret}/{method}[.json]` exactly as
 * they would call a portal's inbound webhook. The proxy
 * 1. checks the client credential (constant time; `401 NO_AUTH_FOUND` otherwise),
 * 2. finds the method in the core catalog (`404 ERROR_METHOD_NOT_FOUND` otherwise),
 * 3. decodes the params with the method's declaration before any upstream call (bad input: `400` and the envelope
 *    the portal itself would send, see `Method.invalidParamsToWire`),
 * 4. forwards with its own upstream credentials, which never appear in a response, and
 * 5. answers the portal's envelope: `{result, time}` (the `result` exactly as the portal sent it) or
 *    `{error, error_description}` with the portal's status.
 * Routes are derived from the catalog: a method declared in core is served with no change here.
 */
import { Bitrix24Client, Catalog, Method, PortalError, Wire } from "@bitrix24-effect/core"
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Clients from "./Clients.js"

const preflight = HttpServerResponse.empty({
  status: 204,
  headers: Object.fromEntries(Object.entries(Wire.responseHeaders).filter(([key]) => key !== "content-type"))
})

const respond = (status: number, body: unknown) => {
  const { "content-type": contentType, ...headers } = Wire.responseHeaders
  return HttpServerResponse.text(Wire.encodeJson(body), { status, contentType, headers })
}

const fail = (Class: PortalError.PortalErrorClass<any>) =>
  respond(Class.spec.status, { error: Class.spec.code, error_description: Class.spec.description })

/** How a failed forwarded call is answered. */
const errorResponse = (method: Method.Any, error: unknown) => {
  if (error instanceof PortalError.InvalidParams) {
    const wire = Method.invalidParamsToWire(method, error)
    return respond(wire.status, wire.body)
  }
  if (error instanceof PortalError.TransportError) {
    // The upstream portal could not be reached or answered something unreadable.
    return respond(502, {
      error: "ERROR_UNEXPECTED_ANSWER",
      error_description: `Upstream portal: ${error.reason}: ${error.description}`
    })
  }
  if (error instanceof Bitrix24Client.WireFailure) {
    // Inside a `batch` the portal does not say a command's status: the documented one of its code stands in.
    const status = error.status ?? PortalError.fromWire(method.method, error, method.errors).status
    return respond(status, { error: error.code, error_description: error.description })
  }
  return respond(500, { error: "INTERNAL_SERVER_ERROR", error_description: "Internal server error" })
}

/**
 * The proxy as an HttpApp.
 */
export const app: HttpApp.Default<never, Bitrix24Client.Bitrix24Client | Clients.Clients> = Effect.gen(function*() {
  const request = yield* HttpServerRequest.HttpServerRequest
  const url = new URL(request.url, "http://proxy.invalid")
  const route = Wire.parseRestPath(url.pathname)
  if (route === undefined) return HttpServerResponse.text("Not Found", { status: 404 })
  // A CORS preflight is answered with the headers only; it never runs a method.
  if (request.method === "OPTIONS") return preflight
  const clients = yield* Clients.Clients
  if (route.kind !== "webhook" || !clients.verify(route.user, route.code)) return fail(PortalError.NoAuthFound)
  const method = Catalog.find(Wire.normalizeMethod(route.method).method)
  if (method === undefined) return fail(PortalError.MethodNotFound)
  const body = request.method === "POST" ? yield* Effect.orElseSucceed(request.text, () => "") : ""
  const params = Object.fromEntries(
    Object.entries(
      Wire.requestParams({
        method: request.method,
        search: url.search,
        contentType: request.headers["content-type"],
        body
      })
    ).filter(([key]) => !Wire.credentialParams.has(key))
  )
  // Params are decoded with the declaration (bad input never leaves the proxy), then re-encoded canonically; the
  // portal's answer is forwarded as it came (its `result` untouched, so PHP's `[]` maps stay `[]`).
  return yield* method.decodeParams(params).pipe(
    Effect.flatMap(method.encodeParams),
    Effect.flatMap((wire) =>
      Effect.flatMap(Bitrix24Client.Bitrix24Client, (client) =>
        client.call({
          method: method.method,
          params: wire,
          idempotent: method.idempotent,
          batchable: method.batchable ?? true
        }))
    ),
    Effect.map((response) =>
      respond(200, {
        result: response.result,
        ...Option.match(response.time, { onNone: () => ({}), onSome: (time) => ({ time }) }),
        ...Option.match(response.next, { onNone: () => ({}), onSome: (next) => ({ next }) }),
        ...Option.match(response.total, { onNone: () => ({}), onSome: (total) => ({ total }) })
      })
    ),
    Effect.catchAll((error) => Effect.succeed(errorResponse(method, error))),
    Effect.withSpan("b24-proxy.call", { kind: "server", attributes: { "bitrix24.method": method.method } })
  )
})
