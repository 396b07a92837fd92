/**
 * `b24-proxy`'s REST handling: a Bitrix24 wire-compatible endpoint that any Bitrix24 SDK or `curl` calls as it would
 * call a portal. For each request under `/rest/`, in order:
 *
 * 0. **What the listener refused** before the body was read (`Server`): a body over the proxy's limit
 *    (`413 ERROR_ARGUMENT`, the connection is closed without reading the rest), or a request that arrived while the
 *    proxy drains (`503 QUERY_LIMIT_EXCEEDED`, on which every SDK backs off).
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
 * 5. **Its lane** (`Lanes.run`): the client's turn in the portal's fair queue (a full queue or a wait past its bound
 *    is answered `503 QUERY_LIMIT_EXCEEDED`: nothing ran), then the portal's transport, with the proxy's own
 *    credentials, the portal's bucket mirror, retries and automatic batching.
 * 6. **The answer**: the portal's envelope and status, its `result` untouched and its `X-Bitrix-Rest-*` headers
 *    passed on, in JSON or, for a `.xml` call, in the portal's XML; a failure upstream as the `Outcome` table says.
 *
 * `OPTIONS` is a CORS preflight (headers only); `HEAD` is handled as the portal handles it, like `GET` (the query's
 * params, the method runs) with the body left out. Every request ends in one {@link Answer}, settled in one place
 * ({@link respond}), where its status, outcome, client, portal, method and upstream cost are known: the span
 * `b24-proxy.request`, the metrics (`Telemetry`) and the access log line (`Logging`) all come from it.
 *
 * @since 0.1.0
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
import { Bitrix24Http } from "@bitrix24-effect/http"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FiberRef from "effect/FiberRef"
import * as Clients from "./Clients.js"
import * as Batch from "./internal/batch.js"
import * as Logging from "./Logging.js"
import * as Outcome from "./Outcome.js"
import * as Portals from "./Portals.js"
import * as Telemetry from "./Telemetry.js"

/**
 * How a request ended, for logs and metrics: `ok`; `portal_error` (the portal answered an error envelope);
 * `upstream_failure` (no usable answer from the portal); `refused` (over the client's bucket); `shed` (the portal's
 * queue was full or the call waited past its bound: it never reached the portal); `invalid` (bad input, answered
 * here); `too_large` (a body over the proxy's limit); `unauthorized`; `forbidden` (outside the client's scope);
 * `not_found` (not a REST path); `draining` (arrived while the proxy shuts down). The access log has one more,
 * `client_gone`, for a client that went away before its answer.
 *
 * @since 0.1.0
 * @category models
 */
export type Kind =
  | "ok"
  | "portal_error"
  | "upstream_failure"
  | "refused"
  | "shed"
  | "invalid"
  | "too_large"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "draining"

/**
 * What the upstream call of a request cost: HTTP requests that carried it (the first and each retry), the commands of
 * the last request that carried it (1 when alone), and its retries.
 *
 * @since 0.1.0
 * @category models
 */
export interface Upstream {
  readonly requests: number
  readonly batchSize: number
  readonly retries: number
}

/**
 * One request's answer, before it is written. `payload` is the envelope (none for a preflight; a string for a plain
 * text answer); `cause` says, for a 5xx, why (never a secret).
 *
 * @since 0.1.0
 * @category models
 */
export interface Answer {
  readonly status: number
  readonly payload: unknown
  readonly headers: Readonly<Record<string, string>>
  readonly kind: Kind
  readonly client?: string | undefined
  readonly portal?: string | undefined
  readonly method?: string | undefined
  readonly upstream?: Upstream | undefined
  readonly cause?: string | undefined
}

/**
 * A REST request as the listener hands it over: the HTTP verb, the URL's path and query, the two headers the proxy
 * reads, the body as text (`POST`) or why it could not be used, and `refused` when the listener refused the request
 * before reading its body (`too_large`: over `maxBodyBytes`; `draining`: the proxy is shutting down).
 *
 * @since 0.1.0
 * @category models
 */
export interface Incoming {
  readonly verb: string
  readonly url: string
  readonly authorization: string | undefined
  readonly contentType: string | undefined
  readonly body: Either.Either<string, WireRequest.ParamsRefused>
  readonly refused?: { readonly reason: "too_large"; readonly maxBodyBytes: number } | {
    readonly reason: "draining"
  } | undefined
}

/**
 * An answer ready to be written: status, headers and body (none for a preflight or `HEAD`'s caller to leave out),
 * and `close` when the connection must be closed after it (a body left unread).
 *
 * @since 0.1.0
 * @category models
 */
export interface Reply {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: string | undefined
  readonly close: boolean
}

const errorAnswer = (reply: Envelope.ErrorReply, kind: Kind): Answer => ({
  status: reply.status,
  payload: reply.body,
  headers: {},
  kind
})

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

/** A call shed from the portal's queue: nothing ran, and SDKs back off on the portal's own refusal. */
const shedAnswer = errorAnswer(Envelope.error(PortalError.QueryLimitExceeded), "shed")

/**
 * Sends a call upstream in the client's lane; the transport's metrics of the call carry the portal and the client,
 * and its report lands in `sink`.
 */
const upstream = (
  caller: Clients.Caller,
  portal: Portals.Portal,
  request: Bitrix24Client.CallRequest,
  sink: { report?: Bitrix24Http.CallReport }
) =>
  Effect.zipRight(
    FiberRef.set(Bitrix24Http.currentCallReporter, (report) => sink.report = report),
    portal.lanes.run(
      caller.client,
      portal.client.call(request).pipe(Effect.tagMetrics({ portal: portal.name, client: caller.client.id }))
    )
  )

const upstreamOf = (sink: { report?: Bitrix24Http.CallReport }): Upstream | undefined =>
  sink.report === undefined ? undefined : {
    requests: sink.report.attempts,
    batchSize: sink.report.batchSize,
    retries: Math.max(0, sink.report.attempts - 1)
  }

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
    const sink: { report?: Bitrix24Http.CallReport } = {}
    const result = yield* Effect.either(upstream(caller, portal, request, sink))
    if (Either.isLeft(result)) {
      if (result.left._tag === "Shed") return shedAnswer
      return { ...failed(request.method, result.left, declared), upstream: upstreamOf(sink) }
    }
    return {
      status: 200,
      payload: Envelope.fromResponse(result.right),
      headers: result.right.headers ?? {},
      kind: "ok",
      upstream: upstreamOf(sink)
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
    const sink: { report?: Bitrix24Http.CallReport } = {}
    const result = yield* Effect.either(upstream(caller, portal, {
      method: "batch",
      params: { halt: prepared.halt ? 1 : 0, cmd: prepared.cmd },
      idempotent: prepared.idempotent,
      batchable: false
    }, sink))
    if (Either.isLeft(result)) {
      if (result.left._tag === "Shed") return shedAnswer
      return { ...failed("batch", result.left, undefined), upstream: upstreamOf(sink) }
    }
    const decoded = BatchProtocol.decodeResult(result.right.result)
    if (Either.isLeft(decoded)) {
      return {
        ...failed(
          "batch",
          new PortalError.TransportError({
            method: "batch",
            reason: "InvalidBody",
            description: "the batch answer is not the documented result/result_error maps"
          }),
          undefined
        ),
        upstream: upstreamOf(sink)
      }
    }
    return {
      status: 200,
      payload: Envelope.fromResponse({ ...result.right, result: Batch.answer(prepared, decoded.right) }),
      headers: result.right.headers ?? {},
      kind: "ok",
      upstream: upstreamOf(sink)
    }
  })

/** Everything after the route: the client, its bucket, then one method or `batch`. */
const handle = (
  incoming: Incoming,
  route: WireRequest.RestPath,
  search: string,
  name: string,
  seen: Logging.Who
): Effect.Effect<Answer, never, Clients.Clients | Portals.Portals> =>
  Effect.gen(function*() {
    // HEAD reads like GET: the query's params (PHP sees only those), and no body.
    const verb = incoming.verb === "HEAD" ? "GET" : incoming.verb
    const body = verb === "POST" ? incoming.body : Either.right("")
    const params = Either.flatMap(body, (text) =>
      WireRequest.requestParams({ method: verb, search, contentType: incoming.contentType, body: text }))
    const clients = yield* Clients.Clients
    const caller = clients.authenticate({
      route,
      authorization: incoming.authorization,
      // A body refused for its size or depth carries no credentials the portal would read: the query's stand.
      params: Either.getOrElse(params, () =>
        Either.getOrElse(WireRequest.parseQuery(search), () => ({})))
    })
    if (caller === undefined) return errorAnswer(Envelope.error(PortalError.NoAuthFound), "unauthorized")
    const portal = (yield* Portals.Portals).get(caller.client.portal)
    const who = { client: caller.client.id, portal: portal.name, method: name }
    seen.client = who.client
    seen.portal = who.portal
    if (!(yield* portal.lanes.admit(caller.client))) {
      return { ...errorAnswer(Envelope.error(PortalError.QueryLimitExceeded), "refused"), ...who }
    }
    const clean = Either.map(params, Clients.withoutCredentials)
    const answer = name === "batch"
      ? yield* batch(caller, portal, clean)
      : yield* single(caller, portal, name, clean)
    return { ...answer, ...who }
  })

const notFound: Answer = { status: 404, payload: "Not Found", headers: {}, kind: "not_found" }

const preflight: Answer = { status: 204, payload: undefined, headers: {}, kind: "ok" }

const draining: Answer = errorAnswer(Envelope.error(PortalError.QueryLimitExceeded), "draining")

/** `413` with the portal's `ERROR_ARGUMENT` envelope for the whole body. */
const tooLarge = (maxBodyBytes: number): Answer =>
  errorAnswer(
    {
      ...Envelope.invalidArgument("", `the request body is larger than ${maxBodyBytes} bytes`),
      status: 413
    },
    "too_large"
  )

/**
 * Writes an answer: the envelope in the call's transport, the REST headers and the portal's own; a plain text
 * answer (404) as text.
 */
const render = (answer: Answer, transport: Envelope.Transport, close: boolean): Reply => {
  if (answer.payload === undefined) {
    return {
      status: answer.status,
      headers: { ...Envelope.responseHeaders, ...answer.headers },
      body: undefined,
      close
    }
  }
  if (typeof answer.payload === "string") {
    return {
      status: answer.status,
      headers: { "content-type": "text/plain; charset=utf-8" },
      body: answer.payload,
      close
    }
  }
  return {
    status: answer.status,
    headers: {
      ...Envelope.responseHeaders,
      ...answer.headers,
      "content-type": Envelope.contentType[transport]
    },
    body: Envelope.encode(transport, answer.payload),
    close
  }
}

/** The URL's path and query (`search` with its `?`), without parsing the whole URL. */
const splitUrl = (url: string): { readonly pathname: string; readonly search: string } => {
  const at = url.indexOf("?")
  return at === -1 ? { pathname: url, search: "" } : { pathname: url.slice(0, at), search: url.slice(at) }
}

/**
 * Answers one REST request: the route, then {@link handle} within the span `b24-proxy.request`; records the answer
 * once (metrics and the access log line, `Telemetry.record` and `Logging.access`), and, when the client goes away
 * first (the fiber is interrupted), the access log line of a `client_gone` request.
 *
 * @since 0.1.0
 * @category handlers
 */
export const respond = (incoming: Incoming): Effect.Effect<Reply, never, Clients.Clients | Portals.Portals> =>
  Effect.suspend(() => {
    const started = performance.now()
    const settle = (answer: Answer, transport: Envelope.Transport, close = false) => {
      const durationMs = performance.now() - started
      Telemetry.record(answer, durationMs)
      return Effect.as(Logging.access(incoming.verb, answer, durationMs), render(answer, transport, close))
    }
    const { pathname, search } = splitUrl(incoming.url)
    const route = WireRequest.parseRestPath(pathname)
    if (route === undefined) return settle(notFound, "json")
    const { method: name, transport } = Wire.normalizeMethod(route.method)
    const refused = incoming.refused
    if (refused !== undefined) {
      return refused.reason === "too_large"
        ? settle({ ...tooLarge(refused.maxBodyBytes), method: name }, transport, true)
        : settle({ ...draining, method: name }, transport, true)
    }
    // A CORS preflight is answered with the headers only; it never runs a method.
    if (incoming.verb === "OPTIONS") return settle({ ...preflight, method: name }, transport)
    const seen: Logging.Who = { client: undefined, portal: undefined, method: name }
    return Effect.useSpan("b24-proxy.request", {
      kind: "server",
      captureStackTrace: false,
      attributes: { "bitrix24.method": name }
    }, (span) =>
      handle(incoming, route, search, name, seen).pipe(
        Effect.flatMap((answer) => {
          span.attribute("http.status_code", answer.status)
          span.attribute("b24_proxy.outcome", answer.kind)
          if (answer.client !== undefined) span.attribute("b24_proxy.client", answer.client)
          if (answer.portal !== undefined) span.attribute("b24_proxy.portal", answer.portal)
          return settle(answer, transport)
        }),
        Effect.onInterrupt(() => Logging.gone(incoming.verb, seen, performance.now() - started))
      ))
  })
