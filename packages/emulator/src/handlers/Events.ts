/**
 * The emulated `event.*` methods (docs/bitrix24-events.md §1, §3): bindings and the offline queue. All of them answer
 * 403 `WRONG_AUTH_TYPE` to anything but an application's OAuth token (§1); offline events and `event.offline.*` need
 * an administrator (403 `ACCESS_DENIED`, §3.1). Keys are read case-insensitively, as the portal upper-cases them.
 *
 * @since 0.1.0
 */
import { Event, Events, type Method, Php, PortalError } from "@bitrix24-effect/core"
import * as Envelope from "../Envelope.js"
import * as EventBus from "../EventBus.js"
import { type CallContext, fail, type Handler, type Outcome, phpTrim, succeed, upperKeys } from "./Common.js"

/**
 * The application of the call, or the `WRONG_AUTH_TYPE` answer (§1, §5.1).
 *
 * @since 0.1.0
 * @category checks
 */
export const application = (context: CallContext, text?: string): string | Outcome =>
  context.caller.kind === "oauth" && context.caller.clientId !== undefined
    ? context.caller.clientId
    : fail(PortalError.WrongAuthType, text)

const isAdmin = (context: CallContext) => context.portal.users.get(context.userId)?.admin === true

const denied = (what: string) =>
  fail(PortalError.EventAccessDenied, `Access denied! ${what} requires administrator access rights`)

/** The scopes an application may bind events of: its own, plus the global ones (§1.4). */
const bindable = (context: CallContext, clientId: string): ReadonlyArray<string> => {
  const scopes = context.events.host.credentials.applications.find((a) => a.clientId === clientId)?.scopes ??
    new Set<string>()
  return Events.codes.filter((code) => {
    const scope = Events.definitions[code].scope
    return scope === "_global" || scopes.has(scope)
  })
}

/** `allowOptions`: the options each event keeps (§1.1). */
const allowedOptions: Readonly<Record<string, ReadonlyArray<string>>> = { ONOFFLINEEVENT: ["minTimeout"] }

/** `HandlerHelper::checkCallback`: an http(s) URL whose host contains a dot (§1.1). */
const handlerUrlValid = (url: string): boolean => {
  try {
    const parsed = new URL(url)
    return (parsed.protocol === "http:" || parsed.protocol === "https:") && parsed.hostname.includes(".")
  } catch {
    return false
  }
}

const eventBind: Handler = (context) => {
  const clientId = application(context)
  if (typeof clientId !== "string") return clientId
  const params = upperKeys(context.params)
  const event = phpTrim(params.EVENT).toUpperCase()
  if (event === "") return fail(PortalError.ErrorArgument, "Argument 'EVENT' is null or empty")
  const type = phpTrim(params.EVENT_TYPE).toLowerCase() || "online"
  if (type !== "online" && type !== "offline") {
    return fail(PortalError.ErrorArgument, "Value of argument 'EVENT_TYPE' must be online or offline")
  }
  if (!bindable(context, clientId).includes(event)) return fail(PortalError.EventNotFound)
  const offline = type === "offline"
  if (offline && !isAdmin(context)) return denied("Offline events binding")
  if (offline && event === "ONOFFLINEEVENT") {
    return fail(PortalError.ErrorArgument, "Offline event cannot be registered for this event.")
  }
  const handler = offline ? undefined : phpTrim(params.HANDLER)
  if (handler !== undefined) {
    if (handler === "") return fail(PortalError.ErrorArgument, "Argument 'HANDLER' is null or empty")
    if (!handlerUrlValid(handler)) return fail(PortalError.WrongHandlerUrl)
  }
  let authType = Php.intval(params.AUTH_TYPE)
  if (authType > 0 && authType !== context.userId && !isAdmin(context)) {
    return denied("Event binding with AUTH_TYPE")
  }
  if (!isAdmin(context) && params.AUTH_TYPE !== undefined) authType = context.userId
  const authConnector = offline ? phpTrim(params.AUTH_CONNECTOR) : ""
  const bus = context.events
  const duplicate = bus.bindings.some((b) =>
    b.clientId === clientId && b.event === event && b.offline === offline && b.handler === handler &&
    b.authType === authType && b.authConnector === authConnector
  )
  if (duplicate) return fail(PortalError.ErrorCore, "Unable to set event handler: Handler already binded")
  const given = params.OPTIONS !== null && typeof params.OPTIONS === "object" ?
    params.OPTIONS as Record<string, unknown> :
    {}
  const options = Object.fromEntries(
    (allowedOptions[event] ?? []).flatMap((key) => key in given ? [[key, given[key]]] : [])
  )
  bus.bindings.push({
    id: ++bus.counters.bindings,
    clientId,
    event,
    handler,
    authType,
    offline,
    authConnector,
    options
  })
  return succeed(true)
}

const eventUnbind: Handler = (context) => {
  const clientId = application(context)
  if (typeof clientId !== "string") return clientId
  const params = upperKeys(context.params)
  const event = phpTrim(params.EVENT).toUpperCase()
  if (event === "") return fail(PortalError.ErrorArgument, "Argument 'EVENT' is null or empty")
  const offline = phpTrim(params.EVENT_TYPE).toLowerCase() === "offline"
  if (offline && !isAdmin(context)) return denied("Offline events unbinding")
  const authType = Php.intval(params.AUTH_TYPE)
  if (authType > 0 && authType !== context.userId && !isAdmin(context)) return denied("Event unbinding with AUTH_TYPE")
  const handler = phpTrim(params.HANDLER)
  if (!offline && handler === "") return fail(PortalError.ErrorArgument, "Argument 'HANDLER' is null or empty")
  const authConnector = phpTrim(params.AUTH_CONNECTOR)
  const bus = context.events
  const keep = bus.bindings.filter((b) =>
    !(b.clientId === clientId && b.event === event && b.offline === offline &&
      (offline ? b.authConnector === authConnector : b.handler === handler) && b.authType === authType)
  )
  const count = bus.bindings.length - keep.length
  bus.bindings.splice(0, bus.bindings.length, ...keep)
  return succeed({ count })
}

const eventGet: Handler = (context) => {
  const clientId = application(context)
  if (typeof clientId !== "string") return clientId
  return succeed(
    context.events.bindings.filter((b) => b.clientId === clientId).map((b) =>
      b.offline
        ? { event: b.event, connector_id: b.authConnector, offline: 1 }
        : { event: b.event, handler: b.handler, auth_type: String(b.authType), offline: 0 }
    )
  )
}

const eventsList: Handler = (context) => {
  const clientId = application(context)
  if (typeof clientId !== "string") return clientId
  const params = upperKeys(context.params)
  const scope = phpTrim(params.SCOPE)
  if (scope !== "") return succeed(Events.codes.filter((code) => Events.definitions[code].scope === scope))
  if (Php.truthy(params.FULL)) return succeed([...Events.codes])
  return succeed(bindable(context, clientId))
}

const eventTest: Handler = (context) => {
  const clientId = application(context)
  if (typeof clientId !== "string") return clientId
  EventBus.emit(context.events, "ONAPPTEST", { QUERY: context.params, LANGUAGE_ID: "en" }, {
    userId: context.userId,
    only: [clientId]
  })
  return succeed(1)
}

// ---------------------------------------------------------------------------------------------------------------
// The offline queue (§3)
// ---------------------------------------------------------------------------------------------------------------

const offlineAccess = (context: CallContext): string | Outcome => {
  const clientId = application(context)
  if (typeof clientId !== "string") return clientId
  return isAdmin(context) ? clientId : fail(PortalError.EventAccessDenied, "Access denied!")
}

const fields = ["ID", "TIMESTAMP_X", "EVENT_NAME", "MESSAGE_ID", "PROCESS_ID", "ERROR"] as const

const fieldOf = (row: EventBus.OfflineRow, field: string): string | number => {
  switch (field) {
    case "ID":
      return row.id
    case "TIMESTAMP_X":
      return row.timestamp
    case "EVENT_NAME":
      return row.event
    case "MESSAGE_ID":
      return row.messageId
    case "PROCESS_ID":
      return row.processId
    default:
      return row.error ? 1 : 0
  }
}

/** `filter` with operator prefixes (`">=ID"`, `"=EVENT_NAME"`), on the allowed fields (§3.2, §3.5). */
const matches = (filter: unknown, allowed: ReadonlyArray<string>) => (row: EventBus.OfflineRow): boolean => {
  if (filter === null || typeof filter !== "object") return true
  for (const [key, expected] of Object.entries(filter)) {
    const match = /^(>=|<=|!=|=|>|<|!)?(.+)$/.exec(key)!
    const field = match[2]!.toUpperCase()
    if (!allowed.includes(field)) continue
    const value = fieldOf(row, field)
    const other = typeof value === "number" ? Number(expected) : String(expected)
    const op = match[1] ?? "="
    const ok = op === ">="
      ? value >= other
      : op === "<="
      ? value <= other
      : op === ">"
      ? value > other
      : op === "<"
      ? value < other
      : op === "!=" || op === "!"
      ? value !== other
      : value === other
    if (!ok) return false
  }
  return true
}

const ordered = (rows: Array<EventBus.OfflineRow>, order: unknown, fallback: string) => {
  const entries = order !== null && typeof order === "object" ? Object.entries(order) : [[fallback, "ASC"]]
  return rows.sort((a, b) => {
    for (const [key, direction] of entries) {
      const x = fieldOf(a, String(key).toUpperCase())
      const y = fieldOf(b, String(key).toUpperCase())
      if (x === y) continue
      const sign = String(direction).toUpperCase() === "DESC" ? -1 : 1
      return x < y ? -sign : sign
    }
    return a.id - b.id
  })
}

const offlineGet: Handler = (context) => {
  const clientId = offlineAccess(context)
  if (typeof clientId !== "string") return clientId
  const params = upperKeys(context.params)
  const limit = params.LIMIT === undefined ? 50 : Php.intval(params.LIMIT)
  if (limit <= 0) return fail(PortalError.ErrorArgument, "Argument 'LIMIT' must be greater than 0")
  const clear = params.CLEAR === undefined ? true : Php.truthy(params.CLEAR)
  const error = Php.truthy(params.ERROR)
  const processId = phpTrim(params.PROCESS_ID)
  const connectorId = phpTrim(params.AUTH_CONNECTOR)
  const bus = context.events
  const mine = bus.offline.filter((row) =>
    row.clientId === clientId && row.connectorId === connectorId && row.error === error &&
    (processId === "" ? row.processId === "" : row.processId === processId) &&
    matches(params.FILTER, fields.slice(0, 4))(row)
  )
  const rows = ordered(mine, params.ORDER, "TIMESTAMP_X").slice(0, limit)
  const stamp = processId !== "" ? processId : (clear ? "" : EventBus.newProcessId())
  const answer = rows.map((row) => EventBus.offlineRowJson(row, false))
  if (clear) {
    const gone = new Set(rows)
    bus.offline.splice(0, bus.offline.length, ...bus.offline.filter((row) => !gone.has(row)))
  } else {
    for (const row of rows) row.processId = stamp
  }
  return succeed({ process_id: stamp === "" ? null : stamp, events: answer })
}

const stringList = (value: unknown): Array<string> | undefined =>
  Array.isArray(value)
    ? value.map(String)
    : value !== null && typeof value === "object"
    ? Object.values(value).map(String)
    : undefined

const offlineClear: Handler = (context) => {
  const clientId = offlineAccess(context)
  if (typeof clientId !== "string") return clientId
  const params = upperKeys(context.params)
  const processId = phpTrim(params.PROCESS_ID)
  if (processId === "") return fail(PortalError.ErrorArgument, "Argument 'PROCESS_ID' is null or empty")
  const ids = stringList(params.ID)?.map(Php.intval)
  const messageIds = stringList(params.MESSAGE_ID)
  if (ids !== undefined && ids.some((id) => id <= 0)) return fail(PortalError.ErrorArgument, "Wrong ID")
  if (ids === undefined && messageIds !== undefined && messageIds.some((id) => id.length !== 32)) {
    return fail(PortalError.ErrorArgument, "Wrong MESSAGE_ID")
  }
  const bus = context.events
  const connectorId = phpTrim(params.AUTH_CONNECTOR)
  bus.offline.splice(
    0,
    bus.offline.length,
    ...bus.offline.filter((row) =>
      !(row.clientId === clientId && row.connectorId === connectorId && row.processId === processId &&
        (ids !== undefined ? ids.includes(row.id) : messageIds === undefined || messageIds.includes(row.messageId)))
    )
  )
  return succeed(true)
}

const offlineError: Handler = (context) => {
  const clientId = offlineAccess(context)
  if (typeof clientId !== "string") return clientId
  const params = upperKeys(context.params)
  const processId = phpTrim(params.PROCESS_ID)
  if (processId === "") return fail(PortalError.ErrorArgument, "Argument 'PROCESS_ID' is null or empty")
  const messageIds = stringList(params.MESSAGE_ID)
  if (messageIds === undefined) return fail(PortalError.ErrorArgument, "Argument 'MESSAGE_ID' must be an array")
  const bus = context.events
  const connectorId = phpTrim(params.AUTH_CONNECTOR)
  const flagged = new Set<string>()
  for (const row of bus.offline) {
    if (
      row.clientId === clientId && row.connectorId === connectorId && row.processId === processId &&
      messageIds.includes(row.messageId)
    ) {
      row.error = true
      row.processId = ""
      flagged.add(row.messageId)
    }
  }
  // Duplicates of the flagged rows elsewhere in the queue are removed (markError, §3.4).
  bus.offline.splice(
    0,
    bus.offline.length,
    ...bus.offline.filter((row) =>
      row.error || !(row.clientId === clientId && row.connectorId === connectorId && flagged.has(row.messageId))
    )
  )
  return succeed(true)
}

const offlineList: Handler = (context) => {
  const clientId = offlineAccess(context)
  if (typeof clientId !== "string") return clientId
  const params = upperKeys(context.params)
  const connectorId = phpTrim(params.AUTH_CONNECTOR)
  const rows = ordered(
    context.events.offline.filter((row) =>
      row.clientId === clientId && row.connectorId === connectorId && matches(params.FILTER, fields)(row)
    ),
    params.ORDER,
    "ID"
  )
  const start = Math.max(0, Php.intval(params.START))
  const page = rows.slice(start, start + 50).map((row) => EventBus.offlineRowJson(row, true))
  return succeed(Envelope.paged(page, { total: rows.length, next: start + 50 < rows.length ? start + 50 : undefined }))
}

/**
 * The `event.*` handlers, by declaration.
 *
 * @since 0.1.0
 * @category handlers
 */
export const handlers: ReadonlyArray<readonly [Method.Any, Handler]> = [
  [Event.bind, eventBind],
  [Event.unbind, eventUnbind],
  [Event.get, eventGet],
  [Event.events, eventsList],
  [Event.test, eventTest],
  [Event.offlineGet, offlineGet],
  [Event.offlineClear, offlineClear],
  [Event.offlineError, offlineError],
  [Event.offlineList, offlineList]
]
