/**
 * The emulator's HTTP face: the Bitrix24 REST wire protocol over `@effect/platform` HttpServer.
 *
 * Serves `/rest/{user}/{code}/{method}[.json|.xml]` (inbound webhook) and `/rest/{method}[.json|.xml]` (OAuth, token
 * in `auth`, `access_token` or `Authorization: Bearer`; or webhook credentials as `aplogin`/`ap` params), with an
 * optional trailing slash; the OAuth token endpoint at `/oauth/token/`; and hands `/_emulator/...` to the control
 * API. Params are merged as the server does: query string first, then a POST body (JSON, form-urlencoded, multipart
 * or raw `parse_str` with PHP bracket keys) overriding it (wire sheet §1.1, §1.2). Method names are
 * case-insensitive. The portal's OAuth authorize step is at `/oauth/authorize/` (see `OAuthServer.authorize`).
 *
 * Each REST request goes through, in order: the fault switches, the leaky bucket (503 `QUERY_LIMIT_EXCEEDED`), auth
 * (`NO_AUTH_FOUND`, `invalid_token`, `expired_token`, `OVERLOAD_LIMIT`), the method lookup
 * (`ERROR_METHOD_NOT_FOUND`), the scope check (`insufficient_scope`), the operating-time limit (429
 * `OPERATION_TIME_LIMIT`) and the handler (wire sheet §3, §4, §5). Success envelopes carry `time` (and `next` /
 * `total` for list results); error envelopes are `{error, error_description}` without it (§1.4, §1.5).
 *
 * `app` is the whole behaviour as an `@effect/platform` HttpApp; `listener` answers the plain calls (no fault
 * switch armed) straight on Node's request and response with the same code, and hands everything else to `app`.
 *
 * @since 0.1.0
 */
import { Catalog, PortalError, Wire } from "@bitrix24-effect/core"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import type * as Http from "node:http"
import * as Batch from "./Batch.js"
import type * as Credentials from "./Credentials.js"
import * as Envelope from "./Envelope.js"
import * as Faults from "./Faults.js"
import * as Handlers from "./Handlers.js"
import * as Journal from "./Journal.js"
import type * as Limits from "./Limits.js"
import * as OAuthServer from "./OAuthServer.js"
import type * as Portal from "./Portal.js"
import type * as PortalClock from "./PortalClock.js"
import * as StatusProfile from "./StatusProfile.js"

/**
 * Running counters: HTTP requests received (every request but the control API's), journal sequence numbers and
 * refresh-token exchanges.
 *
 * @since 0.1.0
 * @category models
 */
export interface Counters {
  requests: number
  seq: number
  refreshes: number
}

/**
 * Everything one emulated portal holds: the open-lines domain, the credentials, the journal, the clock, the limits,
 * the fault switches and the status profile.
 *
 * @since 0.1.0
 * @category models
 */
export interface Instance {
  readonly portal: Portal.Portal
  readonly credentials: Credentials.Credentials
  readonly journal: Journal.Journal
  readonly clock: PortalClock.PortalClock
  readonly limits: Limits.Limiter
  readonly faults: Faults.Injector
  readonly profile: StatusProfile.Profile
  /** See `Journal.append`. */
  readonly journalLimit: number | undefined
  readonly counters: Counters
  /** Methods served besides the handler registry (they win over it), keyed by lowercased name. */
  readonly methods: ReadonlyMap<string, ExtraMethod>
  /** The base URL the server answers on (set once listening). */
  baseUrl: string
  /** The portal's `member_id` (wire sheet §4). */
  memberId: string
  /** The control API, served under `/_emulator/`. */
  control:
    | Effect.Effect<HttpServerResponse.HttpServerResponse, unknown, HttpServerRequest.HttpServerRequest>
    | undefined
}

/**
 * A method served besides the handler registry (`Emulator.Options.methods`): its handler and the scope it needs
 * (none when absent).
 *
 * @since 0.1.0
 * @category models
 */
export interface ExtraMethod {
  readonly handler: Handlers.Handler
  readonly scope?: string | undefined
}

/** An error envelope with its HTTP status. */
interface WireError {
  readonly code: string
  readonly description: string
  readonly status: number
}

const systemError = (
  instance: Instance,
  Class: PortalError.PortalErrorClass<any>,
  description?: string
): WireError => ({
  code: Class.spec.code,
  description: description ?? Class.spec.description,
  status: StatusProfile.status(instance.profile, Class.spec.code, Class.spec.status)
})

const tokenScopeText = "The request requires higher privileges than provided by the access token"

/** An authenticated caller. */
interface Caller {
  readonly userId: number
  readonly scopes: ReadonlySet<string>
  /** The journal's `auth`: `webhook:<userId>` or `oauth:<userId>`. */
  readonly auth: string
  /** The limits' entity: `webhook:<userId>` or `app:<client_id>`. */
  readonly entity: string
  readonly kind: "webhook" | "oauth"
  readonly clientId: string | undefined
}

const isCaller = (value: Caller | WireError): value is Caller => "userId" in value

const webhookCaller = (instance: Instance, user: string, code: string): Caller | WireError => {
  const webhook = instance.credentials.webhooks.find((w) => w.code === code && String(w.userId) === user)
  if (webhook === undefined) return systemError(instance, PortalError.NoAuthFound)
  const entity = `webhook:${webhook.userId}`
  if (instance.limits.held(entity)) return systemError(instance, PortalError.OverloadLimit)
  return { userId: webhook.userId, scopes: webhook.scopes, auth: entity, entity, kind: "webhook", clientId: undefined }
}

const authenticate = (
  instance: Instance,
  route: Wire.RestPath,
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

/** Where a call sits: its HTTP request, direct or inside a batch, and the fault on its request. */
interface Context {
  readonly request: number
  readonly via: "direct" | "batch"
  readonly key: string | undefined
  readonly fault: Faults.Kind | undefined
}

type Invocation =
  | {
    readonly _tag: "Success"
    readonly hoisted: Envelope.Hoisted
    readonly time: Record<string, number | string>
  }
  | { readonly _tag: "Failure"; readonly error: WireError }
  /** The handler returned `{error, error_description}`: emitted as-is, HTTP 200, no time (wire sheet §1.4). */
  | { readonly _tag: "Raw"; readonly body: Readonly<Record<string, unknown>> }

const record = (
  instance: Instance,
  context: Context,
  entry: {
    readonly at: number
    readonly method: string
    readonly params: Readonly<Record<string, unknown>>
    readonly auth: string
    readonly entity: string | undefined
    readonly status: number
    readonly error: string | undefined
    readonly executed: boolean
  }
): void =>
  Journal.append(instance.journal, {
    seq: ++instance.counters.seq,
    request: context.request,
    via: context.via,
    key: context.key,
    ...entry,
    method: Catalog.find(entry.method)?.method ?? entry.method,
    status: context.fault === "drop-after" && context.via === "direct" ? 0 : entry.status,
    fault: context.fault
  }, instance.journalLimit)

const isRawError = (value: unknown): value is Readonly<Record<string, unknown>> =>
  value !== null && typeof value === "object" && !Array.isArray(value) &&
  typeof (value as Record<string, unknown>).error === "string" && (value as Record<string, unknown>).error !== "" &&
  typeof (value as Record<string, unknown>).error_description === "string" &&
  (value as Record<string, unknown>).error_description !== ""

/**
 * Runs one method call for an authenticated caller: handler lookup, scope, operating limit, handler, operating
 * record, journal.
 */
const invoke = (
  instance: Instance,
  caller: Caller,
  method: string,
  params: Readonly<Record<string, unknown>>,
  context: Context
): Invocation => {
  const { clock, limits } = instance
  const startMs = clock.now()
  const base = { at: startMs, method, params, auth: caller.auth, entity: caller.entity }
  const failure = (error: WireError, executed: boolean): Invocation => {
    record(instance, context, { ...base, status: error.status, error: error.code, executed })
    return { _tag: "Failure", error }
  }
  const extra = instance.methods.size === 0 ? undefined : instance.methods.get(method)
  const handler = extra === undefined ? Handlers.handlers.get(method) : extra.handler
  if (handler === undefined) return failure(systemError(instance, PortalError.MethodNotFound), false)
  const scope = extra === undefined ? Handlers.scopeOf(method) : extra.scope
  if (scope !== undefined && !caller.scopes.has(scope)) {
    // Inside a batch the scope failure has an empty description, as the docs' batch example shows (wire sheet §2).
    const text = context.via === "batch" ? "" : caller.kind === "webhook" ? undefined : tokenScopeText
    return failure(systemError(instance, PortalError.InsufficientScope, text), false)
  }
  if (limits.blocked(caller.entity, method, startMs)) {
    return failure(systemError(instance, PortalError.OperationTimeLimit), false)
  }
  const t0 = performance.now()
  let outcome: Handlers.Outcome
  try {
    outcome = handler({ portal: instance.portal, userId: caller.userId, params })
  } catch {
    return failure(systemError(instance, PortalError.InternalServerError), true)
  }
  const simulated = limits.executionSeconds(method)
  const seconds = simulated ?? (performance.now() - t0) / 1000
  const report = limits.operatingActive() ? limits.record(caller.entity, method, seconds, startMs) : undefined
  if (outcome._tag === "Failure") {
    const { code, description, status } = outcome.error
    return failure({ code, description, status }, true)
  }
  if (isRawError(outcome.result)) {
    record(instance, context, { ...base, status: 200, error: String(outcome.result.error), executed: true })
    return { _tag: "Raw", body: outcome.result }
  }
  record(instance, context, { ...base, status: 200, error: undefined, executed: true })
  const finishMs = simulated === undefined ? clock.now() : startMs + simulated * 1000
  return {
    _tag: "Success",
    hoisted: Envelope.hoist(outcome.result),
    time: Envelope.timeBlock(startMs, finishMs, report)
  }
}

/** The params of a `batch` as journaled: credentials removed, also from inside the command strings. */
const batchJournalParams = (params: Readonly<Record<string, unknown>>): Record<string, unknown> => {
  const out = Journal.stripParams(params)
  for (const key in out) {
    if (key.toUpperCase() !== "CMD") continue
    const cmd = out[key]
    if (Array.isArray(cmd)) out[key] = cmd.map((c) => typeof c === "string" ? Journal.stripCommand(c) : c)
    else if (cmd !== null && typeof cmd === "object") {
      out[key] = Object.fromEntries(
        Object.entries(cmd).map(([k, c]) => [k, typeof c === "string" ? Journal.stripCommand(c) : c])
      )
    }
  }
  return out
}

/** Runs a `batch` call (wire sheet §2); the batch itself is journaled first, its commands after it. */
const runBatch = (
  instance: Instance,
  caller: Caller,
  params: Readonly<Record<string, unknown>>,
  context: Context
): { readonly result: unknown; readonly time: Record<string, number | string> } => {
  const startMs = instance.clock.now()
  record(instance, context, {
    at: startMs,
    method: "batch",
    params: batchJournalParams(params),
    auth: caller.auth,
    entity: caller.entity,
    status: 200,
    error: undefined,
    executed: true
  })
  const result = Batch.run(params, (method, commandParams, key): Batch.CommandResult => {
    const answer = invoke(instance, caller, method, Journal.stripParams(commandParams), {
      ...context,
      via: "batch",
      key
    })
    switch (answer._tag) {
      case "Success":
        return {
          _tag: "Success",
          result: answer.hoisted.result,
          next: answer.hoisted.next,
          total: answer.hoisted.total,
          time: answer.time
        }
      case "Failure":
        return { _tag: "Failure", error: answer.error.code, description: answer.error.description }
      case "Raw":
        return { _tag: "Failure", error: String(answer.body.error), description: String(answer.body.error_description) }
    }
  })
  // `batch` itself is not counted by the operating limiter (LoadLimiter ignores it, wire sheet §3.2).
  const report = instance.limits.operatingActive() ? instance.limits.report(caller.entity, "batch", startMs) : undefined
  return { result, time: Envelope.timeBlock(startMs, instance.clock.now(), report) }
}

/**
 * A response before it becomes an HttpServerResponse: status, body text and headers.
 *
 * @since 0.1.0
 * @category models
 */
export interface Reply {
  readonly status: number
  readonly body: string
  readonly contentType: string
  readonly headers: Readonly<Record<string, string>>
}

const corsHeaders: Record<string, string> = Object.fromEntries(
  Object.entries(Wire.responseHeaders).filter(([key]) => key !== "content-type")
)

const zeroSeconds = Envelope.headerSeconds(0)

const encode = (transport: Envelope.Transport, payload: unknown): string =>
  transport === "xml" ? Envelope.encodeXml(payload) : Wire.encodeJson(payload)

/** Answers one REST request (everything after the fault switches). */
const restReply = (
  instance: Instance,
  input: {
    readonly route: Wire.RestPath
    readonly method: string
    readonly transport: Envelope.Transport
    readonly params: Readonly<Record<string, unknown>>
    readonly authorization: string | undefined
  },
  context: Context
): Reply => {
  const t0 = performance.now()
  const now = instance.clock.now()
  const params = Journal.stripParams(input.params)
  let status = 200
  let payload: unknown
  let clientId: string | undefined
  const failed = (error: WireError) => {
    status = error.status
    payload = { error: error.code, error_description: error.description }
  }
  if (!instance.limits.admit(now)) {
    const error = systemError(instance, PortalError.QueryLimitExceeded)
    record(instance, context, {
      at: now,
      method: input.method,
      params,
      auth: "none",
      entity: undefined,
      status: error.status,
      error: error.code,
      executed: false
    })
    failed(error)
  } else {
    const caller = authenticate(instance, input.route, input.params, input.authorization, now)
    if (!isCaller(caller)) {
      record(instance, context, {
        at: now,
        method: input.method,
        params,
        auth: "none",
        entity: undefined,
        status: caller.status,
        error: caller.code,
        executed: false
      })
      failed(caller)
    } else {
      clientId = caller.clientId
      if (input.method === "batch") {
        payload = runBatch(instance, caller, params, context)
      } else {
        const answer = invoke(instance, caller, input.method, params, context)
        switch (answer._tag) {
          case "Success": {
            const { next, result, total } = answer.hoisted
            const envelope: Record<string, unknown> = { result }
            if (next !== undefined) envelope.next = next
            if (total !== undefined) envelope.total = total
            envelope.time = answer.time
            payload = envelope
            break
          }
          case "Failure":
            failed(answer.error)
            break
          case "Raw":
            payload = answer.body
        }
      }
    }
  }
  let headers: Record<string, string> = corsHeaders
  if (StatusProfile.timingHeaders(instance.profile)) {
    // The portal prints its request time and the CPU time split (getrusage); the emulator has no per-request CPU
    // accounting worth its cost, so all of the measured time counts as user time.
    const elapsed = Envelope.headerSeconds((performance.now() - t0) / 1000)
    headers = {
      ...corsHeaders,
      "x-bitrix-rest-time": elapsed,
      "x-bitrix-rest-user-time": elapsed,
      "x-bitrix-rest-system-time": zeroSeconds
    }
    if (clientId !== undefined) headers["x-bitrix-rest-application"] = clientId
  }
  return { status, body: encode(input.transport, payload), contentType: Envelope.contentType[input.transport], headers }
}

const tokenReply = (instance: Instance, params: Readonly<Record<string, unknown>>): Reply => {
  const answer = OAuthServer.token(instance.credentials, params, instance.clock.now(), {
    baseUrl: instance.baseUrl,
    memberId: instance.memberId
  })
  if (answer.status === 200) instance.counters.refreshes++
  return {
    status: answer.status,
    body: JSON.stringify(answer.body),
    contentType: Envelope.contentType.json,
    headers: { "cache-control": "no-store" }
  }
}

/** The authorize step, approved at once by the portal's signed-in user: the first inbound webhook's user. */
const authorizeReply = (instance: Instance, search: string): HttpServerResponse.HttpServerResponse => {
  const answer = OAuthServer.authorize(instance.credentials, Wire.parseQuery(search.slice(1)), instance.clock.now(), {
    baseUrl: instance.baseUrl,
    memberId: instance.memberId,
    userId: instance.credentials.webhooks[0]?.userId ?? 1
  })
  return answer._tag === "Redirect"
    ? HttpServerResponse.empty({ status: 302, headers: { location: answer.location, "cache-control": "no-store" } })
    : HttpServerResponse.unsafeJson(answer.answer.body, { status: answer.answer.status })
}

const toResponse = (reply: Reply): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.text(reply.body, { status: reply.status, contentType: reply.contentType, headers: reply.headers })

const notFound = HttpServerResponse.text("Not Found", { status: 404 })

const preflight = HttpServerResponse.empty({ status: 204, headers: corsHeaders })

const badGatewayPage = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n" +
  "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"

/** Real-time sleep, independent of any TestClock in the server's context. */
const sleepReal = (ms: number): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    const timer = setTimeout(() => resume(Effect.void), ms)
    return Effect.sync(() => clearTimeout(timer))
  })

/** Drops the connection without an answer; the handler fiber ends interrupted. */
const drop = (request: HttpServerRequest.HttpServerRequest): Effect.Effect<never> =>
  Effect.suspend(() => {
    NodeHttpServerRequest.toIncomingMessage(request).socket.destroy()
    return Effect.interrupt
  })

const truncate = (reply: Reply): Reply => ({
  ...reply,
  body: reply.body.slice(0, Math.max(1, Math.floor(reply.body.length / 2)))
})

/** Applies a fault that happens before the method runs, journaling the call as not executed. */
const faultBefore = (
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
    record(instance, context, {
      at: instance.clock.now(),
      method: call.method,
      params: Journal.stripParams(call.params),
      auth: "none",
      entity: undefined,
      status,
      error,
      executed: false
    })
  }
  switch (fault.kind) {
    case "drop-before":
      log(0, undefined)
      return drop(request)
    case "internal-error": {
      const error = systemError(instance, PortalError.InternalServerError)
      log(error.status, error.code)
      return Effect.succeed(toResponse({
        status: error.status,
        body: Wire.encodeJson({ error: error.code, error_description: error.description }),
        contentType: Envelope.contentType.json,
        headers: corsHeaders
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

/** Where a request goes: the control API, the OAuth authorize step or token endpoint, a REST method, or nowhere. */
type Target =
  | { readonly _tag: "control" }
  | { readonly _tag: "none" }
  | { readonly _tag: "authorize"; readonly search: string }
  | {
    readonly _tag: "call"
    /** `undefined` for the OAuth token endpoint. */
    readonly route: Wire.RestPath | undefined
    readonly pathname: string
    readonly search: string
  }

const classify = (url: string): Target => {
  const q = url.indexOf("?")
  const pathname = q === -1 ? url : url.slice(0, q)
  const search = q === -1 ? "" : url.slice(q)
  if (pathname === "/oauth/token/" || pathname === "/oauth/token") {
    return { _tag: "call", route: undefined, pathname, search }
  }
  if (pathname === "/oauth/authorize/" || pathname === "/oauth/authorize") return { _tag: "authorize", search }
  if (pathname.startsWith("/rest/")) {
    const route = Wire.parseRestPath(pathname)
    return route === undefined ? { _tag: "none" } : { _tag: "call", route, pathname, search }
  }
  if (pathname.startsWith("/_emulator/") || pathname === "/_emulator") return { _tag: "control" }
  return { _tag: "none" }
}

/** One REST or token request, read: its number, params, method and how to answer it. */
interface Call {
  readonly requestNo: number
  readonly params: Readonly<Record<string, unknown>>
  readonly method: string
  readonly answer: (fault: Faults.Kind | undefined) => Reply
}

const readCall = (
  instance: Instance,
  target: Extract<Target, { _tag: "call" }>,
  request: {
    readonly requestNo: number
    readonly method: string
    readonly contentType: string | undefined
    readonly authorization: string | undefined
    readonly body: string
  }
): Call => {
  const params = Wire.requestParams({
    method: request.method,
    search: target.search,
    contentType: request.contentType,
    body: request.body
  })
  const route = target.route
  if (route === undefined) {
    return {
      requestNo: request.requestNo,
      params,
      method: Faults.tokenEndpoint,
      answer: () => tokenReply(instance, params)
    }
  }
  const { method, transport } = Wire.normalizeMethod(route.method)
  return {
    requestNo: request.requestNo,
    params,
    method,
    answer: (fault) =>
      restReply(instance, { route, method, transport, params, authorization: request.authorization }, {
        request: request.requestNo,
        via: "direct",
        key: undefined,
        fault
      })
  }
}

/**
 * The emulator as an HttpApp over a portal instance: every route, with the fault switches.
 *
 * @since 0.1.0
 * @category wire
 */
export const app = (instance: Instance): HttpApp.Default =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
    const target = classify(request.url)
    if (target._tag === "control") {
      return instance.control === undefined ? Effect.succeed(notFound) : Effect.orDie(instance.control)
    }
    const requestNo = ++instance.counters.requests
    if (target._tag === "none") return Effect.succeed(notFound)
    if (target._tag === "authorize") return Effect.succeed(authorizeReply(instance, target.search))
    if (request.method === "OPTIONS") return Effect.succeed(preflight)
    const body = request.method === "POST" ? Effect.orElseSucceed(request.text, () => "") : Effect.succeed("")
    return Effect.flatMap(body, (text) => {
      const call = readCall(instance, target, {
        requestNo,
        method: request.method,
        contentType: request.headers["content-type"],
        authorization: request.headers["authorization"],
        body: text
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

/** The most a request body may hold on the fast path (as the platform's own limit): 10 MiB. */
const maxBodyBytes = 10 * 1024 * 1024

/**
 * The server's `request` listener: REST and token calls while no fault switch is armed are answered right here on
 * the Node request and response (no fiber, no platform response object: the emulator must never be a benchmark's
 * bottleneck, wire behaviour identical); everything else (the control API, CORS preflights, 404s, any call while
 * faults are armed) goes to `fallback`, the Effect handler of {@link app}.
 *
 * @since 0.1.0
 * @category wire
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
  const finish = (body: string) => {
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
    return finish("")
  }
  const chunks: Array<Buffer> = []
  let size = 0
  request.on("data", (chunk: Buffer) => {
    size += chunk.length
    if (size > maxBodyBytes) request.destroy()
    else chunks.push(chunk)
  })
  request.on(
    "end",
    () => finish(chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8"))
  )
  request.on("error", () => response.destroy())
}
