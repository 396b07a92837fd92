/**
 * The emulated messenger message methods (`im.message.add`, `.update`, `.delete`, scope `im`). In an open-line chat
 * of a custom connector they are the operator's side of the dialog: the connector's application receives
 * `ONIMCONNECTORMESSAGEADD` / `UPDATE` / `DELETE` (docs/bitrix24-events.md §4), and only that application.
 *
 * @since 0.1.0
 */
import { ImMessage, type Method, Php, PortalError } from "@bitrix24-effect/core"
import * as Connectors from "../Connectors.js"
import * as EventBus from "../EventBus.js"
import * as Portal from "../Portal.js"
import { type CallContext, fail, type Handler, phpTrim, succeed, upperKeys } from "./Common.js"

/** The chat a `DIALOG_ID` names for the caller: `chat<N>`, or the private dialog with a user (made when absent). */
const dialogChat = (context: CallContext, dialogId: string): Portal.Chat | undefined => {
  const { portal, userId } = context
  const chat = /^chat(\d+)$/.exec(dialogId)
  if (chat !== null) return portal.chats.get(Number(chat[1]))
  if (!/^\d+$/.test(dialogId) || !portal.users.has(Number(dialogId))) return undefined
  const other = Number(dialogId)
  for (const candidate of portal.chats.values()) {
    if (candidate.type === "P" && candidate.members.has(userId) && candidate.members.has(other)) return candidate
  }
  let id = 1
  for (const key of portal.chats.keys()) id = Math.max(id, key + 1)
  const created: Portal.Chat = {
    id,
    type: "P",
    title: "",
    entityType: "",
    entityId: "",
    lineId: undefined,
    members: new Set([userId, other]),
    muted: new Set(),
    silent: false,
    authorId: 0,
    crm: undefined,
    createdAt: portal.now()
  }
  portal.chats.set(id, created)
  return created
}

/** The connector's application is told of an operator's message in one of its chats (§4). */
const tell = (
  context: CallContext,
  event: "ONIMCONNECTORMESSAGEADD" | "ONIMCONNECTORMESSAGEUPDATE" | "ONIMCONNECTORMESSAGEDELETE",
  outside: Connectors.OutsideChat,
  item: Record<string, unknown>
) => {
  const connector = context.connectors.connectors.get(outside.connector)
  if (connector === undefined) return
  const state = context.connectors.lines.get(Connectors.lineKey(outside.connector, outside.line))
  if (state === undefined || !state.active) return
  EventBus.emit(context.events, event, {
    CONNECTOR: outside.connector,
    LINE: String(outside.line),
    MESSAGES: [{ ...item, chat: { id: outside.chatId } }]
  }, { userId: context.userId, only: [connector.clientId] })
}

const add: Handler = (context) => {
  const params = upperKeys(context.params)
  const { portal, userId } = context
  const dialogId = phpTrim(params.DIALOG_ID)
  if (dialogId === "") return fail(PortalError.DialogIdEmpty)
  const text = phpTrim(params.MESSAGE)
  if (text === "") return fail(PortalError.MessageEmpty)
  const chat = dialogChat(context, dialogId)
  if (chat === undefined) return fail(PortalError.DialogIdEmpty)
  const isMember = chat.members.has(userId)
  if (!isMember && !(chat.type === "L" && Portal.canJoin(portal, chat.lineId, userId, chat.crm))) {
    return fail(PortalError.AccessError, "You do not have access to the specified dialog")
  }
  const system = params.SYSTEM === "Y"
  const posted = Portal.postMessage(portal, chat.id, userId, text, { system })
  const outside = Connectors.byPortalChat(context.connectors, chat.id)
  if (outside !== undefined && userId !== outside.userId && !system) {
    const connector = context.connectors.connectors.get(outside.connector)
    const signed = connector?.flags.NEED_SIGNATURE === false
      ? text
      : `[b]${portal.users.get(userId)?.name ?? userId}:[/b][br]${text}`
    context.connectors.messages.set(posted.id, {
      messageId: posted.id,
      connector: outside.connector,
      line: outside.line,
      outsideChatId: outside.chatId,
      direction: "outbound",
      outsideIds: [],
      delivered: false,
      read: false,
      deleted: false
    })
    tell(context, "ONIMCONNECTORMESSAGEADD", outside, {
      im: { chat_id: String(chat.id), message_id: String(posted.id) },
      message: { user_id: String(userId), text: signed }
    })
  }
  return succeed(posted.id)
}

/** The caller's own message, or the failure. */
const ownMessage = (context: CallContext, raw: unknown) => {
  const id = Php.intval(raw)
  if (id <= 0) return fail(PortalError.MessageIdError)
  const index = context.portal.messages.findIndex((m) => m.id === id)
  const message = context.portal.messages[index]
  if (message === undefined || message.authorId !== context.userId || message.params.IS_DELETED === "Y") {
    return fail(PortalError.CantEditMessage)
  }
  return { index, message }
}

const change = (kind: "update" | "delete"): Handler => (context) => {
  const params = upperKeys(context.params)
  const own = ownMessage(context, params.MESSAGE_ID)
  if ("_tag" in own) return own
  const text = phpTrim(params.MESSAGE)
  if (kind === "update" && text === "") return fail(PortalError.MessageEmpty)
  context.portal.messages[own.index] = kind === "update"
    ? { ...own.message, text }
    : { ...own.message, text: "", params: { ...own.message.params, IS_DELETED: "Y" } }
  const outside = Connectors.byPortalChat(context.connectors, own.message.chatId)
  const link = context.connectors.messages.get(own.message.id)
  if (outside !== undefined && link !== undefined && link.direction === "outbound") {
    if (kind === "delete") link.deleted = true
    const im = { chat_id: String(own.message.chatId), message_id: String(own.message.id) }
    if (kind === "update") {
      tell(context, "ONIMCONNECTORMESSAGEUPDATE", outside, { im, message: { id: link.outsideIds, text } })
    } else {
      // The new pages send `message.id` as one string (§6 #8): the first outside ID.
      tell(context, "ONIMCONNECTORMESSAGEDELETE", outside, { im, message: { id: link.outsideIds[0] ?? "" } })
    }
  }
  return succeed(true)
}

/**
 * The message handlers, by declaration.
 *
 * @since 0.1.0
 * @category handlers
 */
export const handlers: ReadonlyArray<readonly [Method.Any, Handler]> = [
  [ImMessage.add, add],
  [ImMessage.update, change("update")],
  [ImMessage.remove, change("delete")]
]
