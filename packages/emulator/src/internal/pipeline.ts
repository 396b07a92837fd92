/**
 * The request pipeline of the emulated portal, shared by both front ends of `Server` (the Effect HttpApp and the fast
 * Node listener): where a request goes, reading its params (with the limits of `WireRequest`), and answering a REST
 * call in the portal's order: the leaky bucket (503 `QUERY_LIMIT_EXCEEDED`), auth, the method lookup
 * (`ERROR_METHOD_NOT_FOUND`), the scope (`insufficient_scope`), the operating-time limit (429
 * `OPERATION_TIME_LIMIT`), the handler or `batch`, the journal and the envelope (wire sheet §1-§5).
 *
 * @internal
 */
import { Catalog, Envelope as WireEnvelope, PortalError, Wire, WireRequest } from "@bitrix24-effect/core"
import * as Either from "effect/Either"
import * as Envelope from "../Envelope.js"
import * as Faults from "../Faults.js"
import * as Handlers from "../Handlers.js"
import * as Journal from "../Journal.js"
import * as OAuthServer from "../OAuthServer.js"
import * as StatusProfile from "../StatusProfile.js"
import { authenticate, type Caller, isCaller } from "./auth.js"
import * as Batch from "./batch.js"
import { type Instance, systemError, type WireError } from "./instance.js"
import * as SessionEvents from "./sessionEvents.js"

/**
 * Where a call sits: its HTTP request, direct or inside a batch, and the fault on its request.
 *
 * @internal
 */
export interface Context {
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

/**
 * Journals one call.
 *
 * @internal
 */
export const record = (
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

/**
 * Journals a call answered before it could run: refused before auth (the bucket, bad credentials, params over the
 * limits) or by a fault.
 *
 * @internal
 */
export const recordRefused = (
  instance: Instance,
  context: Context,
  call: { readonly at: number; readonly method: string; readonly params: Readonly<Record<string, unknown>> },
  status: number,
  error: string | undefined
): void => record(instance, context, { ...call, auth: "none", entity: undefined, status, error, executed: false })

// A result that carries its own `result` key (`imconnector.register`'s `{result:false, error, ...}`, docs/bitrix24-
// events.md §5.1) is a result, not a raw error.
const isRawError = (value: unknown): value is Readonly<Record<string, unknown>> =>
  value !== null && typeof value === "object" && !Array.isArray(value) && !Object.hasOwn(value, "result") &&
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
  const served = (instance.methods.size === 0 ? undefined : instance.methods.get(method)) ?? Handlers.find(method)
  if (served === undefined) return failure(systemError(instance, PortalError.MethodNotFound), false)
  const { handler, scope } = served
  if (scope !== undefined && !caller.scopes.has(scope)) {
    // Inside a batch the scope failure has an empty description, as the docs' batch example shows (wire sheet §2).
    const text = context.via === "batch"
      ? ""
      : caller.kind === "webhook"
      ? undefined
      : PortalError.insufficientScopeForToken
    return failure(systemError(instance, PortalError.InsufficientScope, text), false)
  }
  if (limits.blocked(caller.entity, method, startMs)) {
    return failure(systemError(instance, PortalError.OperationTimeLimit), false)
  }
  const t0 = performance.now()
  let outcome: Handlers.Outcome
  try {
    outcome = handler({
      portal: instance.portal,
      userId: caller.userId,
      params,
      caller: { kind: caller.kind, clientId: caller.clientId },
      events: instance.events,
      connectors: instance.connectors
    })
  } catch {
    return failure(systemError(instance, PortalError.InternalServerError), true)
  }
  if (outcome._tag === "Success") SessionEvents.observe(instance, caller.userId)
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
 * @internal
 */
export interface Reply {
  readonly status: number
  readonly body: string
  readonly contentType: string
  readonly headers: Readonly<Record<string, string>>
}

const zeroSeconds = Envelope.headerSeconds(0)

/**
 * Answers one REST request (everything after the fault switches).
 *
 * @internal
 */
export const restReply = (
  instance: Instance,
  input: {
    readonly route: WireRequest.RestPath
    readonly method: string
    readonly transport: WireEnvelope.Transport
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
    const reply = WireEnvelope.fromWireError(error)
    status = reply.status
    payload = reply.body
  }
  if (!instance.limits.admit(now)) {
    const error = systemError(instance, PortalError.QueryLimitExceeded)
    recordRefused(instance, context, { at: now, method: input.method, params }, error.status, error.code)
    failed(error)
  } else {
    const caller = authenticate(instance, input.route, input.params, input.authorization, now)
    if (!isCaller(caller)) {
      recordRefused(instance, context, { at: now, method: input.method, params }, caller.status, caller.code)
      failed(caller)
    } else {
      clientId = caller.clientId
      if (input.method === "batch") {
        payload = runBatch(instance, caller, params, context)
      } else {
        const answer = invoke(instance, caller, input.method, params, context)
        switch (answer._tag) {
          case "Success":
            payload = WireEnvelope.success({ ...answer.hoisted, time: answer.time })
            break
          case "Failure":
            failed(answer.error)
            break
          case "Raw":
            payload = answer.body
        }
      }
    }
  }
  let headers: Readonly<Record<string, string>> = WireEnvelope.responseHeaders
  if (StatusProfile.timingHeaders(instance.profile)) {
    // The portal prints its request time and the CPU time split (getrusage); the emulator has no per-request CPU
    // accounting worth its cost, so all of the measured time counts as user time.
    const elapsed = Envelope.headerSeconds((performance.now() - t0) / 1000)
    headers = {
      ...WireEnvelope.responseHeaders,
      "x-bitrix-rest-time": elapsed,
      "x-bitrix-rest-user-time": elapsed,
      "x-bitrix-rest-system-time": zeroSeconds
    }
    if (clientId !== undefined) headers = { ...headers, "x-bitrix-rest-application": clientId }
  }
  return {
    status,
    body: WireEnvelope.encode(input.transport, payload),
    contentType: WireEnvelope.contentType[input.transport],
    headers
  }
}

/**
 * Answers the OAuth token endpoint (wire sheet §4).
 *
 * @internal
 */
export const tokenReply = (instance: Instance, params: Readonly<Record<string, unknown>>): Reply => {
  const answer = OAuthServer.token(instance.credentials, params, instance.clock.now(), {
    baseUrl: instance.baseUrl,
    memberId: instance.memberId
  })
  if (answer.status === 200) instance.counters.refreshes++
  return {
    status: answer.status,
    body: JSON.stringify(answer.body),
    contentType: WireEnvelope.contentType.json,
    headers: { "cache-control": "no-store" }
  }
}

/**
 * Answers the OAuth authorize step (wire sheet §4), approved at once by the portal's signed-in user, the first
 * inbound webhook's user: a 302 to the application's `redirect_uri` (or its registered handler URL) with a fresh
 * `code`, or an OAuth error. A query that cannot be read counts as one without `client_id`.
 *
 * @internal
 */
export const authorizeReply = (instance: Instance, search: string): Reply => {
  const params = Either.getOrElse(WireRequest.parseQuery(search.slice(1)), () => ({}))
  const answer = OAuthServer.authorize(instance.credentials, params, instance.clock.now(), {
    baseUrl: instance.baseUrl,
    memberId: instance.memberId,
    userId: instance.credentials.webhooks[0]?.userId ?? 1
  })
  return answer._tag === "Redirect"
    ? {
      status: 302,
      body: "",
      contentType: "text/plain",
      headers: { location: answer.location, "cache-control": "no-store" }
    }
    : {
      status: answer.answer.status,
      body: JSON.stringify(answer.answer.body),
      contentType: WireEnvelope.contentType.json,
      headers: { "cache-control": "no-store" }
    }
}

/**
 * Where a request goes: the control API, the OAuth authorize step or token endpoint, a REST method, or nowhere.
 *
 * @internal
 */
export type Target =
  | { readonly _tag: "control" }
  | { readonly _tag: "none" }
  | { readonly _tag: "authorize"; readonly search: string }
  | {
    readonly _tag: "call"
    /** `undefined` for the OAuth token endpoint. */
    readonly route: WireRequest.RestPath | undefined
    readonly pathname: string
    readonly search: string
  }

/**
 * Routes a request URL.
 *
 * @internal
 */
export const classify = (url: string): Target => {
  const q = url.indexOf("?")
  const pathname = q === -1 ? url : url.slice(0, q)
  const search = q === -1 ? "" : url.slice(q)
  if (pathname === "/oauth/token/" || pathname === "/oauth/token") {
    return { _tag: "call", route: undefined, pathname, search }
  }
  if (pathname === "/oauth/authorize/" || pathname === "/oauth/authorize") return { _tag: "authorize", search }
  if (pathname.startsWith("/rest/")) {
    const route = WireRequest.parseRestPath(pathname)
    return route === undefined ? { _tag: "none" } : { _tag: "call", route, pathname, search }
  }
  if (pathname.startsWith("/_emulator/") || pathname === "/_emulator") return { _tag: "control" }
  return { _tag: "none" }
}

/**
 * One REST or token request, read: its number, params, method and how to answer it.
 *
 * @internal
 */
export interface Call {
  readonly requestNo: number
  readonly params: Readonly<Record<string, unknown>>
  readonly method: string
  readonly answer: (fault: Faults.Kind | undefined) => Reply
}

/**
 * Reads a REST or token request: its params (query and body, `WireRequest.requestParams`) and how to answer it. A
 * request whose body is too large or whose params nest too deeply is answered with the refusal, HTTP 400, before
 * anything else (`WireRequest.refusalReply`), and journaled as not executed.
 *
 * @internal
 */
export const readCall = (
  instance: Instance,
  target: Extract<Target, { _tag: "call" }>,
  request: {
    readonly requestNo: number
    readonly method: string
    readonly contentType: string | undefined
    readonly authorization: string | undefined
    readonly body: Either.Either<string, WireRequest.ParamsRefused>
  }
): Call => {
  const read = Either.flatMap(request.body, (body) =>
    WireRequest.requestParams({
      method: request.method,
      search: target.search,
      contentType: request.contentType,
      body
    }))
  const params = Either.getOrElse(read, () => ({}))
  const route = target.route
  if (route === undefined) {
    return {
      requestNo: request.requestNo,
      params,
      method: Faults.tokenEndpoint,
      answer: () =>
        Either.isLeft(read)
          ? refusal(WireEnvelope.invalidArgument(read.left.field, read.left.description), "json")
          : tokenReply(instance, params)
    }
  }
  const { method, transport } = Wire.normalizeMethod(route.method)
  const context = (fault: Faults.Kind | undefined): Context => ({
    request: request.requestNo,
    via: "direct",
    key: undefined,
    fault
  })
  return {
    requestNo: request.requestNo,
    params,
    method,
    answer: Either.isLeft(read)
      ? (fault) => {
        const reply = WireRequest.refusalReply(method, read.left)
        recordRefused(
          instance,
          context(fault),
          { at: instance.clock.now(), method, params },
          reply.status,
          reply.body.error
        )
        return refusal(reply, transport)
      }
      : (fault) =>
        restReply(instance, { route, method, transport, params, authorization: request.authorization }, context(fault))
  }
}

const refusal = (reply: WireEnvelope.ErrorReply, transport: WireEnvelope.Transport): Reply => ({
  status: reply.status,
  body: WireEnvelope.encode(transport, reply.body),
  contentType: WireEnvelope.contentType[transport],
  headers: WireEnvelope.responseHeaders
})
