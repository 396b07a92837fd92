/**
 * What every emulated method shares: the handler contract (a call in, an outcome out), the PHP value rules only the
 * handlers need (`trim`, loose `== 'N'`, key case; `intval`, truthiness and `empty` are core's `Php`), and the
 * access check every open-lines method that takes a `CHAT_ID` runs first (`Operator::checkAccess`,
 * docs/bitrix24-wire.md §6.0).
 *
 * @since 0.1.0
 */
import { Envelope, Php, PortalError } from "@bitrix24-effect/core"
import type * as Connectors from "../Connectors.js"
import type * as EventBus from "../EventBus.js"
import * as Portal from "../Portal.js"

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
 * One call as a handler sees it: the portal, the authenticated user and the merged wire params; how the caller
 * authenticated (`kind`, and the application's `clientId` for an OAuth token issued to one); the portal's events
 * (`EventBus`) and connector state (`Connectors`).
 *
 * @since 0.1.0
 * @category models
 */
export interface CallContext {
  readonly portal: Portal.Portal
  readonly userId: number
  readonly params: Readonly<Record<string, unknown>>
  readonly caller: { readonly kind: "webhook" | "oauth"; readonly clientId: string | undefined }
  readonly events: EventBus.Bus
  readonly connectors: Connectors.State
}

/** @since 0.1.0 @category models */
export type Handler = (context: CallContext) => Outcome

/**
 * Answers a result.
 *
 * @since 0.1.0
 * @category constructors
 */
export const succeed = (result: unknown): Outcome => ({ _tag: "Success", result })

/**
 * Fails with a documented error, optionally with another description (the portal reuses codes with several texts).
 *
 * @since 0.1.0
 * @category constructors
 */
export const fail = (Class: PortalError.PortalErrorClass<any>, description?: string): Outcome => ({
  _tag: "Failure",
  error: Envelope.wireError(Class, { description })
})

/**
 * Fails with a code no method page documents (HTTP 400).
 *
 * @since 0.1.0
 * @category constructors
 */
export const failRaw = (code: string, description: string): Outcome => ({
  _tag: "Failure",
  error: { code, description, status: 400 }
})

/**
 * The `{"error":"","error_description":""}` answer (HTTP 400) of handlers that rethrow an error object nobody set
 * (wire sheet §1.5, "Empty-code quirk").
 *
 * @since 0.1.0
 * @category constructors
 */
export const emptyCode: Outcome = failRaw("", "")

/**
 * Whether a value is an outcome (as opposed to the chat or session a check answers on success).
 *
 * @since 0.1.0
 * @category guards
 */
export const isOutcome = (value: unknown): value is Outcome =>
  typeof value === "object" && value !== null && "_tag" in value &&
  (value._tag === "Success" || value._tag === "Failure")

/**
 * PHP `trim((string) $value)` of a scalar param (arrays read as `""`).
 *
 * @since 0.1.0
 * @category php
 */
export const phpTrim = (value: unknown): string =>
  typeof value === "string" ? value.trim() : typeof value === "number" ? String(value) : value === true ? "1" : ""

/**
 * PHP 8 loose `$value == 'N'`.
 *
 * @since 0.1.0
 * @category php
 */
export const phpLooseEqualsN = (value: unknown): boolean => {
  if (typeof value === "string") return value === "N"
  if (typeof value === "boolean") return value // 'N' is truthy
  return false // numbers compare as strings with a non-numeric string; null, arrays: never equal
}

/**
 * `array_change_key_case($params, CASE_UPPER)`: what the handlers that accept any key case do first (wire sheet
 * §6.0: `dialog.get`, `operator.answer`, `.skip`, `.spam`, `.finish`, and `im.chat.mute`).
 *
 * @since 0.1.0
 * @category php
 */
export const upperKeys = (params: Readonly<Record<string, unknown>>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(params).map(([key, value]) => [key.toUpperCase(), value]))

/**
 * `Operator::checkAccess`, the check every open-lines method that takes a `CHAT_ID` runs first (wire sheet §6.0):
 * the messenger must be installed (`IM_LOAD_ERROR`), `CHAT_ID` must be a positive integer (`CHAT_ID`), the caller
 * known (`USER_ID`); a member must be in a `LINES` chat (`CHAT_TYPE`); a non-member without a session row in the chat
 * needs an existing (`CHAT_ID`) open-line chat (`CHAT_TYPE`) whose line, or bound CRM entity, the caller may join
 * (`ACCESS_DENIED`). Answers the chat, or the failure.
 *
 * @since 0.1.0
 * @category checks
 */
export const checkAccess = (context: CallContext, rawChatId: unknown): Portal.Chat | Outcome => {
  const { portal, userId } = context
  if (!portal.settings.imInstalled) return failRaw("IM_LOAD_ERROR", "Error initializing Instant Messenger module.")
  const chatId = Php.intval(rawChatId)
  if (chatId <= 0) return fail(PortalError.ChatIdInvalid)
  if (userId <= 0) return fail(PortalError.UserIdInvalid)
  const chat = portal.chats.get(chatId)
  if (chat !== undefined && chat.members.has(userId)) {
    return chat.entityType === "LINES" ? chat : fail(PortalError.ChatTypeInvalid)
  }
  if (Portal.hasRecent(portal, chatId, userId) && chat !== undefined) return chat
  if (chat === undefined) return fail(PortalError.ChatIdInvalid)
  if (chat.type !== "L") return fail(PortalError.ChatTypeInvalid)
  if (!Portal.canJoin(portal, chat.lineId, userId, chat.crm)) return fail(PortalError.AccessDenied)
  return chat
}
