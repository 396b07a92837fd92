/**
 * The emulator's HTTP face: the Bitrix24 REST wire protocol over `@effect/platform` HttpServer.
 *
 * Serves `/rest/{user}/{code}/{method}[.json|.xml]` (inbound webhook) and `/rest/{method}[.json|.xml]` (OAuth, token
 * in `auth`, `access_token` or `Authorization: Bearer`; or webhook credentials as `aplogin`/`ap` params), with an
 * optional trailing slash; the OAuth token endpoint at `/oauth/token/`; and hands `/_emulator/...` to the control
 * API. Params are merged as the server does: query string first, then a POST body (JSON, form-urlencoded, multipart
 * or raw `parse_str` with PHP bracket keys) overriding it (wire sheet §1.1, §1.2). Method names are
 * case-insensitive. The portal's OAuth authorize step is at `/oauth/authorize/` (see `OAuthServer.authorize`). A
 * body over `WireRequest.maxBodyBytes`, bracket keys deeper than `WireRequest.maxKeyNesting` or JSON deeper than
 * `Wire.maxDepth` are answered HTTP 400 with the method's documented code for the field (or `ERROR_ARGUMENT`) before
 * anything else.
 *
 * Each REST request goes through, in order: the fault switches, the leaky bucket (503 `QUERY_LIMIT_EXCEEDED`), auth
 * (`NO_AUTH_FOUND`, `invalid_token`, `expired_token`, `OVERLOAD_LIMIT`), the method lookup
 * (`ERROR_METHOD_NOT_FOUND`), the scope check (`insufficient_scope`), the operating-time limit (429
 * `OPERATION_TIME_LIMIT`) and the handler (wire sheet §3, §4, §5). Success envelopes carry `time` (and `next` /
 * `total` for list results); error envelopes are `{error, error_description}` without it (§1.4, §1.5).
 *
 * `app` is the whole behaviour as an `@effect/platform` HttpApp; `listener` answers the plain calls (no fault
 * switch armed) straight on Node's request and response with the same pipeline, and hands everything else to `app`.
 * Both serve an `Instance`, the portal state `Emulator.make` builds (internal).
 *
 * @since 0.1.0
 */
import { Envelope as WireEnvelope, WireRequest } from "@bitrix24-effect/core"
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as Http from "node:http"
import { drop, faultBefore, sleepReal, toResponse, truncate } from "./internal/faultReply.js"
import type { Instance } from "./internal/instance.js"
import { authorizeReply, classify, type Context, readCall } from "./internal/pipeline.js"

const notFound = HttpServerResponse.text("Not Found", { status: 404 })

const preflight = HttpServerResponse.empty({ status: 204, headers: WireEnvelope.responseHeaders })

/** A POST body as text, refused past `WireRequest.maxBodyBytes`; a broken read is an empty body. */
const readBody = (
  request: HttpServerRequest.HttpServerRequest
): Effect.Effect<Either.Either<string, WireRequest.ParamsRefused>> =>
  request.method === "POST"
    ? Effect.orElseSucceed(WireRequest.readBody(request.stream), () => Either.right(""))
    : Effect.succeed(Either.right(""))

/**
 * The emulator as an HttpApp over a portal instance: every route, with the fault switches.
 *
 * @internal
 */
export const app = (instance: Instance): HttpApp.Default =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
    const target = classify(request.url)
    if (target._tag === "control") {
      return instance.control === undefined ? Effect.succeed(notFound) : Effect.orDie(instance.control)
    }
    const requestNo = ++instance.counters.requests
    if (target._tag === "none") return Effect.succeed(notFound)
    if (target._tag === "authorize") return Effect.succeed(toResponse(authorizeReply(instance, target.search)))
    if (request.method === "OPTIONS") return Effect.succeed(preflight)
    return Effect.flatMap(readBody(request), (body) => {
      const call = readCall(instance, target, {
        requestNo,
        method: request.method,
        contentType: request.headers["content-type"],
        authorization: request.headers["authorization"],
        body
      })
      const decision = instance.faults.decide(call.method)
      if (decision === undefined) return Effect.succeed(toResponse(call.answer(undefined)))
      const { fault, latencyMs } = decision
      const context: Context = { request: requestNo, via: "direct", key: undefined, fault: fault?.kind }
      const proceed = Effect.suspend((): Effect.Effect<HttpServerResponse.HttpServerResponse> => {
        if (fault === undefined) return Effect.succeed(toResponse(call.answer(undefined)))
        switch (fault.kind) {
          case "drop-after":
            call.answer("drop-after")
            return drop(request)
          case "truncated-json":
            return Effect.succeed(toResponse(truncate(call.answer("truncated-json"))))
          case "latency":
            return Effect.succeed(toResponse(call.answer(undefined)))
          default:
            return faultBefore(instance, request, fault, {
              method: call.method,
              params: call.params,
              target: target.pathname + target.search,
              journaled: target.route !== undefined
            }, context)
        }
      })
      return latencyMs > 0 ? Effect.zipRight(sleepReal(latencyMs), proceed) : proceed
    })
  })

/**
 * The server's `request` listener: REST and token calls while no fault switch is armed are answered right here on
 * the Node request and response (no fiber, no platform response object: the emulator must never be a benchmark's
 * bottleneck, wire behaviour identical); everything else (the control API, CORS preflights, 404s, any call while
 * faults are armed) goes to `fallback`, the Effect handler of {@link app}.
 *
 * @internal
 */
export const listener = (
  instance: Instance,
  fallback: (request: Http.IncomingMessage, response: Http.ServerResponse) => void
) =>
(request: Http.IncomingMessage, response: Http.ServerResponse): void => {
  if (instance.faults.armed() || request.method === "OPTIONS") return fallback(request, response)
  const target = classify(request.url ?? "/")
  if (target._tag !== "call") return fallback(request, response)
  const requestNo = ++instance.counters.requests
  const method = request.method ?? "GET"
  const finish = (body: Either.Either<string, WireRequest.ParamsRefused>) => {
    const call = readCall(instance, target, {
      requestNo,
      method,
      contentType: request.headers["content-type"],
      authorization: request.headers["authorization"],
      body
    })
    const reply = call.answer(undefined)
    response.writeHead(reply.status, {
      ...reply.headers,
      "content-type": reply.contentType,
      "content-length": Buffer.byteLength(reply.body)
    })
    response.end(reply.body)
  }
  if (method !== "POST") {
    request.resume()
    return finish(Either.right(""))
  }
  // Past WireRequest.maxBodyBytes the rest of the body is read and dropped, then refused with an envelope.
  let chunks: Array<Buffer> | undefined = []
  let size = 0
  request.on("data", (chunk: Buffer) => {
    size += chunk.length
    if (size > WireRequest.maxBodyBytes) chunks = undefined
    else chunks?.push(chunk)
  })
  request.on("end", () =>
    finish(
      chunks === undefined
        ? Either.left(WireRequest.bodyTooLarge)
        : Either.right(chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8"))
    ))
  request.on("error", () => response.destroy())
}
