/**
 * The answers of the fault switches (`Faults`): a dropped connection, an nginx 502 page, a 500 envelope, a 302 to
 * another address, a truncated body, and the real-time sleep of a latency fault.
 *
 * @internal
 */
import { Envelope as WireEnvelope, PortalError } from "@bitrix24-effect/core"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import type * as Faults from "../Faults.js"
import * as Journal from "../Journal.js"
import { type Instance, systemError } from "./instance.js"
import { type Context, recordRefused, type Reply } from "./pipeline.js"

/**
 * A reply as an HttpServerResponse.
 *
 * @internal
 */
export const toResponse = (reply: Reply): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.text(reply.body, { status: reply.status, contentType: reply.contentType, headers: reply.headers })

const badGatewayPage = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n" +
  "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"

/**
 * Real-time sleep, independent of any TestClock in the server's context.
 *
 * @internal
 */
export const sleepReal = (ms: number): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    const timer = setTimeout(() => resume(Effect.void), ms)
    return Effect.sync(() => clearTimeout(timer))
  })

/**
 * Drops the connection without an answer; the handler fiber ends interrupted.
 *
 * @internal
 */
export const drop = (request: HttpServerRequest.HttpServerRequest): Effect.Effect<never> =>
  Effect.suspend(() => {
    NodeHttpServerRequest.toIncomingMessage(request).socket.destroy()
    return Effect.interrupt
  })

/**
 * Half of a reply's body, at least one character.
 *
 * @internal
 */
export const truncate = (reply: Reply): Reply => ({
  ...reply,
  body: reply.body.slice(0, Math.max(1, Math.floor(reply.body.length / 2)))
})

/**
 * Applies a fault that happens before the method runs, journaling the call as not executed.
 *
 * @internal
 */
export const faultBefore = (
  instance: Instance,
  request: HttpServerRequest.HttpServerRequest,
  fault: Faults.Fault,
  call: {
    readonly method: string
    readonly params: Readonly<Record<string, unknown>>
    readonly target: string
    readonly journaled: boolean
  },
  context: Context
): Effect.Effect<HttpServerResponse.HttpServerResponse> => {
  const log = (status: number, error: string | undefined) => {
    if (!call.journaled) return
    const at = instance.clock.now()
    recordRefused(
      instance,
      context,
      { at, method: call.method, params: Journal.stripParams(call.params) },
      status,
      error
    )
  }
  switch (fault.kind) {
    case "drop-before":
      log(0, undefined)
      return drop(request)
    case "internal-error": {
      const error = WireEnvelope.fromWireError(systemError(instance, PortalError.InternalServerError))
      log(error.status, error.body.error)
      return Effect.succeed(toResponse({
        status: error.status,
        body: WireEnvelope.encodeJson(error.body),
        contentType: WireEnvelope.contentType.json,
        headers: WireEnvelope.responseHeaders
      }))
    }
    case "html-502":
      log(502, undefined)
      return Effect.succeed(HttpServerResponse.text(badGatewayPage, { status: 502, contentType: "text/html" }))
    default: {
      log(302, undefined)
      const location = `${(fault.location ?? instance.baseUrl).replace(/\/+$/, "")}${call.target}`
      return Effect.succeed(HttpServerResponse.empty({ status: 302, headers: { location } }))
    }
  }
}
