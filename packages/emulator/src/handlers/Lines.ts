/**
 * The emulated line setup (`imopenlines.config.*`, docs/bitrix24-events.md §5.5): create, read, list, change and
 * delete open lines. Changes need an administrator (403 `CONFIG_WRONG_USER_PERMISSION`); deleting a line switches its
 * connectors off and fires `ONIMCONNECTORLINEDELETE` with the bare line ID to every application bound to it (§4).
 *
 * @since 0.1.0
 */
import { ImOpenLinesConfig, type Method, Php, PortalError } from "@bitrix24-effect/core"
import * as EventBus from "../EventBus.js"
import type * as Portal from "../Portal.js"
import { type CallContext, fail, type Handler, phpTrim, succeed, upperKeys } from "./Common.js"

const isAdmin = (context: CallContext) => context.portal.users.get(context.userId)?.admin === true

const record = (value: unknown): Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value) ? value as Record<string, unknown> : {}

/** The users of a `QUEUE` param (`[{ENTITY_TYPE: "user", ENTITY_ID}]`); departments are not modelled. */
const queueOf = (value: unknown): Array<number> | undefined =>
  value === undefined
    ? undefined
    : Object.values(record(value)).concat(Array.isArray(value) ? value : []).map(record)
      .filter((entry) => phpTrim(entry.ENTITY_TYPE).toLowerCase() === "user")
      .map((entry) => Php.intval(entry.ENTITY_ID))
      .filter((id) => id > 0)

/** A line as `config.get` answers it: values as strings (§5.5). */
const lineJson = (line: Portal.Line, withQueue: boolean): Record<string, unknown> => ({
  ID: String(line.id),
  LINE_NAME: line.name,
  ACTIVE: "Y",
  QUEUE_TYPE: "evenly",
  ...(withQueue ? { QUEUE: line.queue.map(String) } : {})
})

const configId = (params: Record<string, unknown>) => Php.intval(params.CONFIG_ID)

const add: Handler = (context) => {
  if (!isAdmin(context)) return fail(PortalError.ConfigWrongUserPermission)
  const params = record(upperKeys(context.params).PARAMS)
  let id = 1
  for (const key of context.portal.lines.keys()) id = Math.max(id, key + 1)
  const queue = queueOf(params.QUEUE) ?? [context.userId]
  context.portal.lines.set(id, {
    id,
    name: phpTrim(params.LINE_NAME) || `Open line ${id}`,
    queue,
    join: new Set(queue),
    voteHead: new Set(),
    historyView: new Set()
  })
  return succeed(id)
}

const get: Handler = (context) => {
  const params = upperKeys(context.params)
  const id = configId(params)
  const line = context.portal.lines.get(id)
  if (id <= 0 || line === undefined) return fail(PortalError.ConfigIdEmpty)
  return succeed(lineJson(line, params.WITH_QUEUE === "Y"))
}

const listGet: Handler = (context) => {
  const options = record(upperKeys(context.params).PARAMS)
  const limit = Math.min(200, Math.max(1, Php.intval(options.limit) || 50))
  const offset = Math.max(0, Php.intval(options.offset))
  return succeed([...context.portal.lines.values()].slice(offset, offset + limit).map((line) => lineJson(line, true)))
}

const update: Handler = (context) => {
  const params = upperKeys(context.params)
  const id = configId(params)
  if (id <= 0) return fail(PortalError.ConfigIdEmpty)
  if (!isAdmin(context)) return fail(PortalError.ConfigWrongUserPermission)
  const line = context.portal.lines.get(id)
  if (line === undefined) return succeed(false)
  const changes = record(params.PARAMS)
  const queue = queueOf(changes.QUEUE)
  context.portal.lines.set(id, {
    ...line,
    name: phpTrim(changes.LINE_NAME) || line.name,
    ...(queue === undefined ? {} : { queue, join: new Set([...line.join, ...queue]) })
  })
  return succeed(true)
}

const remove: Handler = (context) => {
  const params = upperKeys(context.params)
  const id = configId(params)
  if (id <= 0) return fail(PortalError.ConfigIdEmpty)
  if (!isAdmin(context)) return fail(PortalError.ConfigWrongUserPermission)
  if (!context.portal.lines.delete(id)) return succeed(false)
  for (const [key, state] of context.connectors.lines) {
    if (state.line === id) context.connectors.lines.delete(key)
  }
  // No delivery filter: every application bound to the event is told (§4); data is the bare line ID (§6 #7).
  EventBus.emit(context.events, "ONIMCONNECTORLINEDELETE", String(id), { userId: context.userId })
  return succeed(true)
}

const pathGet: Handler = (context) =>
  succeed({ SERVER_ADDRESS: context.events.host.baseUrl(), PUBLIC_PATH: "/contact_center/" })

/**
 * The line setup handlers, by declaration.
 *
 * @since 0.1.0
 * @category handlers
 */
export const handlers: ReadonlyArray<readonly [Method.Any, Handler]> = [
  [ImOpenLinesConfig.add, add],
  [ImOpenLinesConfig.get, get],
  [ImOpenLinesConfig.listGet, listGet],
  [ImOpenLinesConfig.update, update],
  [ImOpenLinesConfig.remove, remove],
  [ImOpenLinesConfig.pathGet, pathGet]
]
