/**
 * The emulated methods. Each handler reads the raw wire params the way the portal's PHP does (literal `"Y"`
 * comparisons, `intval`, loose `!=`), checks rights, changes the portal state and answers a result or a documented
 * error. The method facts (scope, codes, statuses, texts) come from the core declarations; the semantics from
 * docs/bitrix24-wire.md §6 and §7.
 *
 * @since 0.1.0
 */
import { Catalog, PortalError } from "@bitrix24-effect/core"
import * as Portal from "./Portal.js"

/**
 * What a handler answers: a result, or a wire error.
 *
 * @since 0.1.0
 * @category models
 */
export type Outcome =
  | { readonly _tag: "Success"; readonly result: unknown }
  | { readonly _tag: "Failure"; readonly error: PortalError.WireError & { readonly status: number } }

/**
 * One call as a handler sees it: the portal, the authenticated user and the merged wire params.
 *
 * @since 0.1.0
 * @category models
 */
export interface CallContext {
  readonly portal: Portal.Portal
  readonly userId: number
  readonly params: Readonly<Record<string, unknown>>
}

/** @since 0.1.0 @category models */
export type Handler = (context: CallContext) => Outcome

const succeed = (result: unknown): Outcome => ({ _tag: "Success", result })

/**
 * Fails with a documented error, optionally with another description (the portal reuses codes with several texts).
 *
 * @since 0.1.0
 * @category constructors
 */
export const fail = (Class: PortalError.PortalErrorClass<any>, description?: string): Outcome => ({
  _tag: "Failure",
  error: { code: Class.spec.code, description: description ?? Class.spec.description, status: Class.spec.status }
})

/** The `{"error":"","error_description":""}` answer of handlers that rethrow an unset error (wire sheet §1.5). */
const emptyCode: Outcome = { _tag: "Failure", error: { code: "", description: "", status: 400 } }

/** PHP `intval`. */
export const phpInt = (value: unknown): number => {
  if (typeof value === "number") return Number.isFinite(value) ? Math.trunc(value) : 0
  if (typeof value === "boolean") return value ? 1 : 0
  if (typeof value === "string") {
    const match = /^\s*[+-]?\d+/.exec(value)
    return match === null ? 0 : Number.parseInt(match[0], 10)
  }
  if (Array.isArray(value)) return value.length > 0 ? 1 : 0
  return 0
}

/** PHP truthiness. */
export const phpTruthy = (value: unknown): boolean => {
  if (value === undefined || value === null || value === false) return false
  if (value === 0 || value === "" || value === "0") return false
  if (Array.isArray(value)) return value.length > 0
  if (typeof value === "object") return Object.keys(value).length > 0
  return true
}

/** PHP 8 loose `$value == 'N'`. */
const phpLooseEqualsN = (value: unknown): boolean => {
  if (typeof value === "string") return value === "N"
  if (typeof value === "boolean") return value // 'N' is truthy
  return false // numbers compare as strings with a non-numeric string; null, arrays: never equal
}

const upperKeys = (params: Readonly<Record<string, unknown>>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(params).map(([key, value]) => [key.toUpperCase(), value]))

/**
 * `Operator::checkAccess`, the check every open-lines method runs first (wire sheet §6.0).
 * Answers the chat, or the failure.
 */
const checkAccess = (context: CallContext, rawChatId: unknown): Portal.Chat | Outcome => {
  const { portal, userId } = context
  const chatId = phpInt(rawChatId)
  if (chatId <= 0) return fail(PortalError.ChatIdInvalid)
  if (userId <= 0) return fail(PortalError.UserIdInvalid)
  const chat = portal.chats.get(chatId)
  if (chat !== undefined && chat.members.has(userId)) {
    return chat.entityType === "LINES" ? chat : fail(PortalError.ChatTypeInvalid)
  }
  if (Portal.hasRecent(portal, chatId, userId) && chat !== undefined) return chat
  if (chat === undefined) return fail(PortalError.ChatIdInvalid)
  if (chat.type !== "L") return fail(PortalError.ChatTypeInvalid)
  if (!Portal.canJoin(portal, chat.lineId, userId)) return fail(PortalError.AccessDenied)
  return chat
}

const isOutcome = (value: Portal.Chat | Outcome): value is Outcome => "_tag" in value

const dayMs = 24 * 3600 * 1000

/** `imopenlines.session.mode.silent` (wire sheet §6.1, §7.2). */
const sessionModeSilent: Handler = (context) => {
  const chat = checkAccess(context, context.params.CHAT_ID)
  if (isOutcome(chat)) return chat
  const on = context.params.ACTIVATE === "Y"
  if (chat.silent !== on) {
    chat.silent = on
    Portal.postSystemMessage(
      context.portal,
      chat.id,
      context.userId,
      on
        ? "[b]Whisper mode is on.[/b][br]Your messages will not be visible to your contact."
        : "[b]Whisper mode is off.[/b][br]Your messages will be visible to your contact."
    )
  }
  return succeed(true)
}

/** `imopenlines.session.mode.pin` (wire sheet §6.2, §7.3). */
const sessionModePin: Handler = (context) => {
  if (!phpTruthy(context.params.CHAT_ID)) return fail(PortalError.ChatIdEmpty)
  const chat = checkAccess(context, context.params.CHAT_ID)
  if (isOutcome(chat)) return chat
  const session = Portal.activeSession(context.portal, chat.id)
  if (session === undefined) return emptyCode // IMOL_CHAT_ERROR_ANSWER_NOT_LOAD_SESSION surfaces without a code
  if (session.operatorId !== context.userId) {
    return context.portal.settings.emptyCodes ? emptyCode : fail(PortalError.UserNotOperator)
  }
  const pin = context.params.ACTIVATE !== "N"
  if (session.pinned !== pin) {
    session.pinned = pin
    const until = new Date(context.portal.now() + 7 * dayMs).toISOString().slice(0, 10)
    Portal.postSystemMessage(
      context.portal,
      chat.id,
      context.userId,
      pin
        ? `The conversation is assigned to agent, auto close date moved to ${until}`
        : "The conversation is unassigned from agent, auto close date set according to the queue rules."
    )
  }
  return succeed(true)
}

/** `imopenlines.session.start` (wire sheet §6.4). */
const sessionStart: Handler = (context) => {
  const chat = checkAccess(context, context.params.CHAT_ID)
  if (isOutcome(chat)) return chat
  const { portal, userId } = context
  const running = Portal.activeSession(portal, chat.id)
  if (running === undefined) {
    const id = portal.nextId++
    portal.sessions.set(id, {
      id,
      chatId: chat.id,
      lineId: chat.lineId,
      operatorId: userId,
      status: Portal.SessionStatus.OPERATOR,
      pinned: false,
      createdAt: portal.now()
    })
    Portal.postSystemMessage(portal, chat.id, userId, `A new conversation #${id} was started by the operator.`)
  }
  if (!chat.members.has(userId)) {
    chat.members.add(userId)
    Portal.postSystemMessage(portal, chat.id, userId, `${portal.users.get(userId)?.name ?? userId} joined the chat.`)
  }
  return succeed(true)
}

/** Resolves a DIALOG_ID to a chat ID: `chatN`, `sgN`, or a user ID for the private dialog with that user. */
const dialogChatId = (portal: Portal.Portal, userId: number, dialogId: string): number | undefined => {
  let match = /^chat(\d+)$/.exec(dialogId)
  if (match) return Number(match[1])
  match = /^sg(\d+)$/.exec(dialogId)
  if (match) {
    for (const chat of portal.chats.values()) {
      if (chat.entityType === "SONET_GROUP" && chat.entityId === match[1]) return chat.id
    }
    return 0
  }
  if (/^\d+$/.test(dialogId) && Number(dialogId) > 0) {
    const other = Number(dialogId)
    for (const chat of portal.chats.values()) {
      if (chat.type === "P" && chat.members.has(userId) && chat.members.has(other)) return chat.id
    }
    return 0
  }
  return undefined
}

/** `im.chat.mute` (wire sheet §6.14). */
const chatMute: Handler = (context) => {
  const params = upperKeys(context.params)
  const { portal, userId } = context
  let chatId: number
  if (params.DIALOG_ID !== undefined) {
    const resolved = dialogChatId(portal, userId, String(params.DIALOG_ID))
    if (resolved === undefined) return fail(PortalError.DialogIdEmpty)
    chatId = resolved
  } else {
    chatId = phpInt(params.CHAT_ID)
    if (chatId <= 0) return fail(PortalError.ChatIdEmpty)
  }
  const chat = portal.chats.get(chatId)
  // Open-line chats have no role allowed to mute (Permission.php, ExtendedType::Lines): always ACCESS_ERROR.
  if (chat === undefined || !chat.members.has(userId) || chat.type === "L") return fail(PortalError.AccessError)
  const value = "ACTION" in params ? params.ACTION : ("MUTE" in params ? params.MUTE : "Y")
  if (phpLooseEqualsN(value)) chat.muted.delete(userId)
  else chat.muted.add(userId)
  return succeed(true)
}

/**
 * The handlers, keyed by lowercased method name.
 *
 * @since 0.1.0
 * @category handlers
 */
export const handlers: ReadonlyMap<string, Handler> = new Map([
  ["imopenlines.session.mode.silent", sessionModeSilent],
  ["imopenlines.session.mode.pin", sessionModePin],
  ["imopenlines.session.start", sessionStart],
  ["im.chat.mute", chatMute]
])

/**
 * The scope a method needs, from its core declaration.
 *
 * @since 0.1.0
 * @category handlers
 */
export const scopeOf = (method: string): string | undefined => Catalog.find(method)?.scope
