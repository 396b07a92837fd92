/**
 * The emulated messenger chat methods (`im.chat.*`, scope `im`): `im.chat.mute`. Semantics: docs/bitrix24-wire.md
 * §6.14; the handler uppercases its keys.
 *
 * @since 0.1.0
 */
import { ImChat, type Method, Php, PortalError } from "@bitrix24-effect/core"
import type * as Portal from "../Portal.js"
import { fail, type Handler, phpLooseEqualsN, succeed, upperKeys } from "./Common.js"

/**
 * Resolves a DIALOG_ID to a chat ID: `chatN`, `sgN` (the project's chat), or a user ID for the private dialog with
 * that user; 0 when it names nothing, `undefined` when it is not a dialog ID at all.
 */
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

/**
 * `im.chat.mute` (wire sheet §6.14): `DIALOG_ID` (else `CHAT_ID`) names the chat; open-line chats have no role
 * allowed to mute (`Permission.php`, `ExtendedType::Lines`), so they always answer `ACCESS_ERROR` 403, as do chats the
 * caller is not in. `ACTION` overrides `MUTE`; `!= 'N'` (PHP 8 loose) mutes.
 */
const chatMute: Handler = (context) => {
  const params = upperKeys(context.params)
  const { portal, userId } = context
  let chatId: number
  if (params.DIALOG_ID !== undefined) {
    const resolved = dialogChatId(portal, userId, String(params.DIALOG_ID))
    if (resolved === undefined) return fail(PortalError.DialogIdEmpty)
    chatId = resolved
  } else {
    chatId = Php.intval(params.CHAT_ID)
    if (chatId <= 0) return fail(PortalError.ChatIdEmpty)
  }
  const chat = portal.chats.get(chatId)
  if (chat === undefined || !chat.members.has(userId) || chat.type === "L") return fail(PortalError.AccessError)
  const value = "ACTION" in params ? params.ACTION : ("MUTE" in params ? params.MUTE : "Y")
  if (phpLooseEqualsN(value)) chat.muted.delete(userId)
  else chat.muted.add(userId)
  return succeed(true)
}

/**
 * The chat handlers, by declaration.
 *
 * @since 0.1.0
 * @category handlers
 */
export const handlers: ReadonlyArray<readonly [Method.Any, Handler]> = [[ImChat.mute, chatMute]]
