/**
 * The emulated connector methods (`imconnector.*`, docs/bitrix24-events.md §5): connectors per application,
 * activation per line, outside users and chats mapped to portal users, open-line chats and sessions, messages both
 * ways, and the delivery and reading statuses operators see. Every method answers 403 `WRONG_AUTH_TYPE` to anything
 * but an application's OAuth token (§5.1); `register`/`unregister` report failures inside HTTP 200 (§5.1); the keys
 * inside `MESSAGES` are read lower-cased (§5.1).
 *
 * @since 0.1.0
 */
import { ImConnector, type Method, Php, PortalError } from "@bitrix24-effect/core"
import * as Connectors from "../Connectors.js"
import * as EventBus from "../EventBus.js"
import * as Portal from "../Portal.js"
import { type CallContext, fail, type Handler, type Outcome, phpTrim, succeed, upperKeys } from "./Common.js"
import { application } from "./Events.js"

const appContext = (context: CallContext) => application(context, "Application context required")

/** `{"result":{"result":false,"error":…}}` with HTTP 200 (§5.1). */
const embedded = (Class: PortalError.PortalErrorClass<any>) =>
  succeed({ result: false, error: Class.spec.code, error_description: Class.spec.description })

/** Keys changed at every level: upper-cased by `register`, lower-cased inside `MESSAGES` (§5.1). */
const keysDeep = (change: (key: string) => string) => {
  const walk = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(walk)
      : value !== null && typeof value === "object"
      ? Object.fromEntries(Object.entries(value).map(([key, item]) => [change(key), walk(item)]))
      : value
  return walk
}
const upperDeep = keysDeep((key) => key.toUpperCase())
const lowerDeep = keysDeep((key) => key.toLowerCase())

const record = (value: unknown): Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value) ? value as Record<string, unknown> : {}

const builtIn: Readonly<Record<string, string>> = {
  livechat: "Live chat",
  telegrambot: "Telegram",
  whatsappbytwilio: "WhatsApp (Twilio)",
  network: "Bitrix24.Network"
}

const flags = [
  "DEL_EXTERNAL_MESSAGES",
  "EDIT_INTERNAL_MESSAGES",
  "DEL_INTERNAL_MESSAGES",
  "NEWSLETTER",
  "NEED_SYSTEM_MESSAGES",
  "NEED_SIGNATURE",
  "CHAT_GROUP"
] as const

const register: Handler = (context) => {
  const clientId = appContext(context)
  if (typeof clientId !== "string") return clientId
  const params = record(upperDeep(context.params))
  const id = phpTrim(params.ID).toLowerCase()
  if (id === "") return embedded(PortalError.ConnectorIdRequired)
  if (id.includes(".")) return embedded(PortalError.RegistrationErrorPoint)
  if (phpTrim(params.NAME) === "") return embedded(PortalError.NameRequired)
  if (phpTrim(record(params.ICON).DATA_IMAGE) === "") return embedded(PortalError.IconRequired)
  if (phpTrim(params.PLACEMENT_HANDLER) === "") return embedded(PortalError.NoPlacementHandler)
  const existing = context.connectors.connectors.get(id)
  if (existing !== undefined && existing.clientId !== clientId) {
    return embedded(PortalError.ApplicationRegistrationError)
  }
  context.connectors.connectors.set(id, {
    id,
    clientId,
    name: phpTrim(params.NAME),
    placementHandler: phpTrim(params.PLACEMENT_HANDLER),
    flags: Object.fromEntries(
      flags.map((flag) => [flag, params[flag] === undefined ? flag !== "CHAT_GROUP" : params[flag] === "Y"])
    )
  })
  return succeed({ result: true })
}

const unregister: Handler = (context) => {
  const clientId = appContext(context)
  if (typeof clientId !== "string") return clientId
  const id = phpTrim(upperKeys(context.params).ID).toLowerCase()
  const existing = context.connectors.connectors.get(id)
  if (existing === undefined || existing.clientId !== clientId) {
    return embedded(PortalError.ApplicationUnregistrationError)
  }
  context.connectors.connectors.delete(id)
  for (const [key, state] of context.connectors.lines) {
    if (state.connector === id) context.connectors.lines.delete(key)
  }
  return succeed({ result: true })
}

const list: Handler = (context) => {
  const clientId = appContext(context)
  if (typeof clientId !== "string") return clientId
  if (context.portal.users.get(context.userId)?.admin !== true) {
    return fail(PortalError.AccessDenied, "You dont have access to this action")
  }
  return succeed({
    ...builtIn,
    ...Object.fromEntries([...context.connectors.connectors.values()].map((c) => [c.id, c.name]))
  })
}

/**
 * The connector named by `CONNECTOR` and the `LINE`, checked (§5.2): both present, the connector registered (and the
 * caller's, with `checkConnectorOwner`, §7.9), the line existing.
 */
const target = (
  context: CallContext,
  params: Record<string, unknown>,
  options: { readonly lineRequired: boolean }
): { readonly clientId: string; readonly connector: Connectors.Connector; readonly line: number } | Outcome => {
  const clientId = appContext(context)
  if (typeof clientId !== "string") return clientId
  const id = phpTrim(params.CONNECTOR).toLowerCase()
  if (id === "") return fail(PortalError.ErrorArgument, "Argument 'CONNECTOR' is null or empty")
  const line = Php.intval(params.LINE)
  if (options.lineRequired && line <= 0) return fail(PortalError.ErrorArgument, "Argument 'LINE' is null or empty")
  const connector = context.connectors.connectors.get(id)
  if (connector === undefined) return fail(PortalError.NoCorrectProvider)
  if (context.events.settings.checkConnectorOwner && connector.clientId !== clientId) {
    return fail(PortalError.NoCorrectProvider)
  }
  return { clientId, connector, line }
}

const isOutcome = (value: unknown): value is Outcome => value !== null && typeof value === "object" && "_tag" in value

const statusDelete = (context: CallContext, connector: Connectors.Connector, line: number) =>
  EventBus.emit(context.events, "ONIMCONNECTORSTATUSDELETE", { connector: connector.id, line: String(line) }, {
    userId: context.userId,
    only: [connector.clientId]
  })

const activate: Handler = (context) => {
  const params = upperKeys(context.params)
  const found = target(context, params, { lineRequired: true })
  if (isOutcome(found)) return found
  if (!("ACTIVE" in params)) return fail(PortalError.ErrorArgument, "Argument 'ACTIVE' is null or empty")
  if (!context.portal.lines.has(found.line)) return fail(PortalError.ErrorArgument, "Line not found")
  const state = Connectors.lineState(context.connectors, found.connector.id, found.line)
  // `!empty($ACTIVE)`: any non-empty value switches on, "N" and "false" included (§6 #10).
  if (Php.truthy(params.ACTIVE)) {
    state.active = true
    state.connection = true
    state.register = true
    state.error = false
  } else {
    const was = state.active
    state.active = false
    state.connection = false
    if (was && context.events.settings.statusDeleteToCaller) statusDelete(context, found.connector, found.line)
  }
  return succeed(true)
}

const status: Handler = (context) => {
  const params = upperKeys(context.params)
  const found = target(context, params, { lineRequired: false })
  if (isOutcome(found)) return found
  const state = context.connectors.lines.get(Connectors.lineKey(found.connector.id, found.line))
  const configured = state !== undefined && state.active && state.connection && state.register
  return succeed({
    LINE: found.line,
    CONNECTOR: found.connector.id,
    ERROR: state?.error ?? false,
    CONFIGURED: configured,
    STATUS: configured && !state.error
  })
}

const dataSet: Handler = (context) => {
  const params = upperKeys(context.params)
  const found = target(context, params, { lineRequired: true })
  if (isOutcome(found)) return found
  const data = record(upperDeep(params.DATA))
  if (Object.keys(data).length === 0) return fail(PortalError.ErrorArgument, "Argument 'DATA' is null or empty")
  const state = Connectors.lineState(context.connectors, found.connector.id, found.line)
  // Merged into what is stored; empty fields are ignored (§6 #11).
  for (const key of ["ID", "URL", "URL_IM", "NAME"]) {
    const value = phpTrim(data[key])
    if (value !== "") state.data[key] = value
  }
  return succeed(true)
}

const setError: Handler = (context) => {
  const params = upperKeys(context.params)
  const found = target(context, params, { lineRequired: true })
  if (isOutcome(found)) return found
  const state = Connectors.lineState(context.connectors, found.connector.id, found.line)
  const was = state.active
  state.error = true
  state.active = false
  if (was && context.events.settings.setErrorFiresStatusDelete) statusDelete(context, found.connector, found.line)
  return succeed({ SUCCESS: true, DATA: [] })
}

// ---------------------------------------------------------------------------------------------------------------
// Messages (§5.2, §5.3)
// ---------------------------------------------------------------------------------------------------------------

type Messages = ReadonlyArray<Record<string, unknown>>

/** `MESSAGES` read as the portal does: an array of arrays, keys lower-cased (§5.1, §5.2). */
const readMessages = (params: Record<string, unknown>, needsChat: boolean): Messages | Outcome => {
  const raw = params.MESSAGES
  if (raw === undefined || raw === "" || raw === null) {
    return fail(PortalError.ErrorArgument, "Argument 'MESSAGES' is null or empty")
  }
  if (typeof raw !== "object") return fail(PortalError.ErrorArgument, "Argument 'MESSAGES' must be of type array")
  const items = Object.values(raw as object)
  if (items.some((item) => item === null || typeof item !== "object")) {
    return fail(PortalError.ErrorArgument, "Argument 'MESSAGES' must be an array of messages (arrays)")
  }
  const lowered = items.map((item) => record(lowerDeep(item)))
  const incomplete = lowered.some((item) =>
    item.message === undefined || (needsChat && (item.chat === undefined || item.user === undefined))
  )
  if (incomplete) return fail(PortalError.ErrorArgument, "Incorrect structure of the messages inside MESSAGES")
  return lowered
}

/** The checks every messages method runs: connector, active line, well-formed `MESSAGES`. */
const messagesCall = (context: CallContext, needsChat: boolean) => {
  const params = upperKeys(context.params)
  const found = target(context, params, { lineRequired: true })
  if (isOutcome(found)) return found
  const state = context.connectors.lines.get(Connectors.lineKey(found.connector.id, found.line))
  if (state === undefined || !state.active || !context.portal.lines.has(found.line)) {
    return fail(PortalError.NotActiveLine)
  }
  const messages = readMessages(params, needsChat)
  if (isOutcome(messages)) return messages
  return { ...found, messages }
}

const nextId = (ids: Iterable<number>) => {
  let max = 0
  for (const id of ids) max = Math.max(max, id)
  return max + 1
}

/** The outside chat of this outside user, made with its portal user and open-line chat on first contact. */
const outsideChat = (
  context: CallContext,
  connector: string,
  line: number,
  user: Record<string, unknown>,
  chat: Record<string, unknown>
): Connectors.OutsideChat => {
  const { connectors, portal } = context
  const chatId = phpTrim(chat.id)
  const outsideUserId = phpTrim(user.id)
  const known = connectors.chats.find((c) =>
    c.connector === connector && c.line === line && c.chatId === chatId && c.outsideUserId === outsideUserId
  )
  if (known !== undefined) return known
  const existingUser = connectors.chats.find((c) => c.connector === connector && c.outsideUserId === outsideUserId)
  const userId = existingUser?.userId ?? nextId(portal.users.keys())
  if (existingUser === undefined) {
    const name = [phpTrim(user.name), phpTrim(user.last_name)].filter((part) => part !== "").join(" ")
    portal.users.set(userId, {
      id: userId,
      name: name === "" ? `Guest #${userId}` : name,
      admin: false,
      active: true,
      extranet: false,
      connector: true,
      crmAccess: new Set()
    })
  }
  const portalChatId = nextId(portal.chats.keys())
  portal.chats.set(portalChatId, {
    id: portalChatId,
    type: "L",
    title: `${portal.users.get(userId)!.name} - ${portal.lines.get(line)?.name ?? line}`,
    entityType: "LINES",
    entityId: `${connector}|${line}|${chatId}|${userId}`,
    lineId: line,
    members: new Set([userId]),
    muted: new Set(),
    silent: false,
    authorId: 0,
    crm: undefined,
    createdAt: portal.now()
  })
  const mapped: Connectors.OutsideChat = { connector, line, chatId, outsideUserId, userId, portalChatId }
  connectors.chats.push(mapped)
  return mapped
}

/** The running session of the chat, or a new one offered to the line's first operator (status 0 NEW). */
const ensureSession = (context: CallContext, chatId: number): Portal.Session => {
  const { portal } = context
  const running = Portal.runningSession(portal, chatId)
  if (running !== undefined) return running
  const chat = portal.chats.get(chatId)!
  const operator = Portal.nextInQueue(portal, chat.lineId, 0) ?? 0
  const parent = Portal.newestSession(portal, chatId)
  const session = Portal.openSession(portal, chat, operator, Portal.SessionStatus.NEW, parent?.id)
  if (operator > 0) Portal.addMember(portal, chat, operator, { silent: true })
  return session
}

const messageText = (message: Record<string, unknown>): string => {
  const text = phpTrim(message.text)
  const given = message.files
  const files = (given !== null && typeof given === "object" ? Object.values(given) : []).map(record)
  const links = files.map((file) => `[url=${phpTrim(file.url)}]${phpTrim(file.name) || phpTrim(file.url)}[/url]`)
  return [text, ...links].filter((part) => part !== "").join("[br]")
}

const itemFailure = (item: Record<string, unknown>, error: string) => ({ ...item, SUCCESS: false, ERRORS: [error] })

const sendMessages: Handler = (context) => {
  const call = messagesCall(context, true)
  if (isOutcome(call)) return call
  const results = call.messages.map((item) => {
    const user = record(item.user)
    const message = record(item.message)
    const chat = record(item.chat)
    if (phpTrim(user.id) === "" || phpTrim(chat.id) === "") return itemFailure(item, "user.id and chat.id are required")
    const text = messageText(message)
    if (text === "") return itemFailure(item, "The message has no text and no files")
    const mapped = outsideChat(context, call.connector.id, call.line, user, chat)
    const session = ensureSession(context, mapped.portalChatId)
    const posted = Portal.postMessage(context.portal, mapped.portalChatId, mapped.userId, text)
    const outsideId = phpTrim(message.id)
    context.connectors.messages.set(posted.id, {
      messageId: posted.id,
      connector: call.connector.id,
      line: call.line,
      outsideChatId: mapped.chatId,
      direction: "inbound",
      outsideIds: outsideId === "" ? [] : [outsideId],
      delivered: true,
      read: false,
      deleted: false
    })
    return {
      user: String(mapped.userId),
      message: { id: outsideId, date: Math.floor(posted.date / 1000), text },
      chat: { id: mapped.chatId },
      SUCCESS: true,
      session: { ID: String(session.id), CHAT_ID: String(mapped.portalChatId) }
    }
  })
  return succeed({ SUCCESS: results.every((r) => r.SUCCESS), DATA: { RESULT: results } })
}

/** The inbound portal message with this outside ID in this outside chat. */
const inbound = (context: CallContext, connector: string, line: number, chatId: string, outsideId: string) => {
  for (const link of context.connectors.messages.values()) {
    if (
      link.direction === "inbound" && link.connector === connector && link.line === line &&
      link.outsideChatId === chatId && link.outsideIds.includes(outsideId) && !link.deleted
    ) return link
  }
  return undefined
}

const replaceMessage = (portal: Portal.Portal, messageId: number, change: Partial<Portal.Message>): void => {
  const index = portal.messages.findIndex((m) => m.id === messageId)
  if (index !== -1) portal.messages[index] = { ...portal.messages[index]!, ...change }
}

const changeMessages = (kind: "update" | "delete"): Handler => (context) => {
  const call = messagesCall(context, kind === "update")
  if (isOutcome(call)) return call
  const results = call.messages.map((item) => {
    const message = record(item.message)
    const chatId = phpTrim(record(item.chat).id)
    const link = inbound(context, call.connector.id, call.line, chatId, phpTrim(message.id))
    if (link === undefined) return itemFailure(item, "Message not found")
    if (kind === "update") {
      const text = messageText(message)
      if (text === "") return itemFailure(item, "The message has no text and no files")
      replaceMessage(context.portal, link.messageId, { text })
    } else {
      link.deleted = true
      replaceMessage(context.portal, link.messageId, { text: "", params: { IS_DELETED: "Y" } })
    }
    return { ...item, SUCCESS: true }
  })
  return succeed({ SUCCESS: results.every((r) => r.SUCCESS), DATA: { RESULT: results } })
}

const statusMessages = (kind: "delivery" | "reading"): Handler => (context) => {
  const params = upperKeys(context.params)
  const found = target(context, params, { lineRequired: true })
  if (isOutcome(found)) return found
  const messages = readMessages(params, false)
  if (isOutcome(messages)) return messages
  for (const item of messages) {
    const link = context.connectors.messages.get(Php.intval(record(item.im).message_id))
    if (link === undefined || link.direction !== "outbound" || link.connector !== found.connector.id) continue
    const given = record(item.message).id
    const ids = given !== null && typeof given === "object" ? Object.values(given).map(String) : [phpTrim(given)]
    if (ids.some((id) => id !== "")) link.outsideIds = ids.filter((id) => id !== "")
    // Delivery also marks the message read (§5.2); reading alone is a no-op on current portals (§6 #16).
    if (kind === "delivery") {
      link.delivered = true
      link.read = true
    }
  }
  return succeed({ SUCCESS: true, DATA: [] })
}

const chatNameSet: Handler = (context) => {
  const params = upperKeys(context.params)
  const found = target(context, params, { lineRequired: true })
  if (isOutcome(found)) return found
  const state = context.connectors.lines.get(Connectors.lineKey(found.connector.id, found.line))
  if (state === undefined || !state.active) return fail(PortalError.NotActiveLine)
  const chatId = phpTrim(params.CHAT_ID)
  const name = phpTrim(params.NAME)
  if (chatId === "" || name === "") return fail(PortalError.ErrorArgument, "Argument 'CHAT_ID' or 'NAME' is empty")
  const userId = phpTrim(params.USER_ID)
  const grouped = found.connector.flags.CHAT_GROUP === true
  if (!grouped && userId === "") return fail(PortalError.ErrorArgument, "Argument 'USER_ID' is null or empty")
  const mapped = context.connectors.chats.find((c) =>
    c.connector === found.connector.id && c.line === found.line && c.chatId === chatId &&
    (grouped || c.outsideUserId === userId)
  )
  const chat = mapped === undefined ? undefined : context.portal.chats.get(mapped.portalChatId)
  if (chat === undefined) return fail(PortalError.ChatRenamingFailed)
  context.portal.chats.set(chat.id, { ...chat, title: name })
  return succeed({ SUCCESS: true, DATA: { RESULT: {} } })
}

/**
 * The connector handlers, by declaration.
 *
 * @since 0.1.0
 * @category handlers
 */
export const handlers: ReadonlyArray<readonly [Method.Any, Handler]> = [
  [ImConnector.register, register],
  [ImConnector.unregister, unregister],
  [ImConnector.list, list],
  [ImConnector.activate, activate],
  [ImConnector.status, status],
  [ImConnector.connectorDataSet, dataSet],
  [ImConnector.sendMessages, sendMessages],
  [ImConnector.updateMessages, changeMessages("update")],
  [ImConnector.deleteMessages, changeMessages("delete")],
  [ImConnector.sendStatusDelivery, statusMessages("delivery")],
  [ImConnector.sendStatusReading, statusMessages("reading")],
  [ImConnector.setError, setError],
  [ImConnector.chatNameSet, chatNameSet]
]
