/**
 * The emulated read methods that answer objects: `imopenlines.session.history.get` (camelCase keys after the
 * portal's `objectEncode`) and `imopenlines.dialog.get` (the messenger's chat object in snake_case). Shapes follow the
 * examples of the new documentation pages (docs/bitrix24-wire.md §6.8, §6.12); PHP's empty arrays are written as
 * `[]`, as the portal's JSON encoder does (§1.4).
 *
 * @since 0.1.0
 */
import { ImOpenLines, type Method, Php, PortalError } from "@bitrix24-effect/core"
import * as Portal from "../Portal.js"
import { fail, type Handler, succeed, upperKeys } from "./Common.js"

/** A PHP array as `json_encode` writes it: `[]` when empty, an object otherwise. */
const phpMap = (entries: ReadonlyArray<readonly [string | number, unknown]>): unknown =>
  entries.length === 0 ? [] : Object.fromEntries(entries.map(([key, value]) => [String(key), value]))

/** The messenger's name for a chat type (`L` -> `lines`). */
const typeName = (chat: Portal.Chat): string =>
  chat.type === "L" ? "lines" : chat.type === "O" ? "open" : chat.type === "P" ? "private" : "chat"

/** The BB-code message text as the legacy HTML the portal also sends (`textlegacy`). */
const legacyText = (text: string): string =>
  text.replace(/\[b\]/g, "<b>").replace(/\[\/b\]/g, "</b>").replace(/\[br\]/g, "<br />")

const permissions = {
  manage_users_add: "member",
  manage_users_delete: "manager",
  manage_ui: "member",
  manage_settings: "owner",
  manage_messages: "member",
  can_post: "member"
} as const

/** `objectEncode`'s key rule: lowercase, camelize on `_`, drop `_` (wire sheet §6.8). */
const camelKey = (key: string): string => key.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())

const chatMessages = (portal: Portal.Portal, chat: Portal.Chat) => portal.messages.filter((m) => m.chatId === chat.id)

/** One participant as the history's `users` map describes them. */
const historyUser = (portal: Portal.Portal, user: Portal.User) => {
  const [firstName = user.name, ...rest] = user.name.split(" ")
  return {
    id: String(user.id),
    name: user.name,
    active: user.active,
    firstName,
    lastName: rest.join(" "),
    workPosition: null,
    color: "#4ba984",
    avatar: "",
    avatarId: null,
    gender: "M",
    extranet: user.extranet,
    network: false,
    bot: false,
    connector: user.connector,
    profile: `/company/personal/user/${user.id}/`,
    externalAuthId: user.connector ? "imconnector" : "default",
    status: user.connector ? null : "online",
    idle: false,
    lastActivityDate: Portal.isoDate(portal.now()),
    departments: user.connector || user.extranet ? [] : [1],
    absent: false,
    type: "user"
  }
}

/** The chat as the history's `chat` map describes it (camelCase). */
const historyChat = (portal: Portal.Portal, chat: Portal.Chat) => ({
  id: String(chat.id),
  parentChatId: 0,
  parentMessageId: 0,
  name: chat.title,
  owner: String(chat.authorId),
  color: "#ba9c7b",
  extranet: false,
  avatar: "",
  call: "0",
  callNumber: "",
  entityType: chat.entityType,
  entityId: chat.entityId,
  entityData1: Portal.entityData1(portal, chat),
  entityData2: Portal.entityData2(chat),
  entityData3: chat.silent ? "Y" : "N",
  messageCount: chatMessages(portal, chat).length,
  public: "",
  muteList: phpMap([...chat.members].map((member) => [member, chat.muted.has(member)])),
  managerList: chat.authorId > 0 ? [chat.authorId] : [],
  dateCreate: Portal.isoDate(chat.createdAt),
  type: typeName(chat),
  entityLink: { type: chat.entityType, url: "", id: chat.entityId },
  permissions: Object.fromEntries(Object.entries(permissions).map(([key, value]) => [camelKey(key), value])),
  textFieldEnabled: true,
  backgroundId: null,
  messageType: chat.type,
  isNew: false
})

/**
 * `imopenlines.session.history.get` (wire sheet §6.8), exact keys. `empty(SESSION_ID)`: with `empty(CHAT_ID)` too
 * -> `MISSING_REQUIRED_PARAM`, else the chat's newest session by ID; then no session ID -> `INVALID_SESSION_ID`.
 * An unknown session, a caller who is neither its operator nor allowed to view the line's history (or the bound CRM
 * entity), or a session without messages -> `ACCESS_DENIED`.
 */
const sessionHistoryGet: Handler = (context) => {
  const { portal, userId, params } = context
  let sessionId: number | undefined
  if (Php.empty(params.SESSION_ID)) {
    if (Php.empty(params.CHAT_ID)) return fail(PortalError.MissingRequiredParam)
    if (portal.settings.imInstalled) sessionId = Portal.newestSession(portal, Php.intval(params.CHAT_ID))?.id
  } else {
    sessionId = Php.intval(params.SESSION_ID)
  }
  if (sessionId === undefined || sessionId === 0) return fail(PortalError.InvalidSessionId)
  const session = portal.sessions.get(sessionId)
  const chat = session === undefined ? undefined : portal.chats.get(session.chatId)
  if (session === undefined || chat === undefined || !Portal.canViewHistory(portal, session, userId)) {
    return fail(PortalError.AccessDenied)
  }
  const messages = Portal.sessionMessages(portal, session.id)
  if (messages.length === 0) return fail(PortalError.AccessDenied)
  const userIds = new Set<number>([...chat.members, ...messages.map((m) => m.authorId)].filter((id) => id > 0))
  const users = [...userIds].flatMap((id) => {
    const user = portal.users.get(id)
    return user === undefined ? [] : [user]
  })
  const lineId = session.lineId ?? 0
  const staffIds = users.filter((user) => !user.connector && !user.extranet).map((user) => String(user.id))
  return succeed({
    chatId: chat.id,
    canJoin: Portal.canJoin(portal, session.lineId, userId, chat.crm) ? "Y" : "N",
    canVoteHead: Portal.canVoteAsHead(portal, session.lineId, userId) ? "Y" : "N",
    sessionId: session.id,
    sessionVoteHead: session.voteHead,
    sessionCommentHead: session.commentHead,
    userId: `chat${chat.id}`,
    message: phpMap(messages.map((m) => [m.id, {
      id: String(m.id),
      chatid: String(m.chatId),
      senderid: String(m.authorId),
      recipientid: `chat${m.chatId}`,
      date: Portal.isoDate(m.date),
      text: m.text,
      textlegacy: legacyText(m.text),
      params: phpMap(Object.entries(m.params))
    }])),
    usersMessage: { [`chat${chat.id}`]: messages.map((m) => String(m.id)).reverse() },
    users: phpMap(users.map((user) => [user.id, historyUser(portal, user)])),
    openlines: { canvoteashead: { [String(lineId)]: Portal.canVoteAsHead(portal, session.lineId, userId) } },
    userInGroup: phpMap(staffIds.length === 0 ? [] : [[1, { id: 1, users: staffIds }]]),
    woUserInGroup: users.filter((user) => user.connector || user.extranet).map((user) => String(user.id)),
    chat: { [String(chat.id)]: historyChat(portal, chat) },
    userBlockChat: { [String(chat.id)]: phpMap([...chat.members].map((member) => [member, false])) },
    userInChat: { [String(chat.id)]: [...chat.members] },
    files: []
  })
}

/**
 * `getChatId` of `imopenlines.dialog.get` (wire sheet §6.12): `CHAT_ID`, else `DIALOG_ID` (`chat<ID>` only), else
 * `SESSION_ID`, else `USER_CODE` (an `imol|` prefix stripped), each only when set.
 */
const dialogChatId = (portal: Portal.Portal, params: Readonly<Record<string, unknown>>): number => {
  const isset = (value: unknown) => value !== undefined && value !== null
  if (isset(params.CHAT_ID)) return Php.intval(params.CHAT_ID)
  if (isset(params.DIALOG_ID)) {
    const match = /^chat(\d+)$/.exec(String(params.DIALOG_ID))
    return match === null ? 0 : Number(match[1])
  }
  if (isset(params.SESSION_ID)) return portal.sessions.get(Php.intval(params.SESSION_ID))?.chatId ?? 0
  const code = params.USER_CODE
  if (typeof code === "string" || typeof code === "number") {
    const text = String(code)
    return Portal.chatByUserCode(portal, text.startsWith("imol|") ? text.slice(5) : text)?.id ?? 0
  }
  return 0
}

/**
 * `imopenlines.dialog.get` (wire sheet §6.12), keys uppercased first. No messenger -> `IM_NOT_INSTALLED`; no chat,
 * not an open-line chat (`TYPE L`, or `TYPE C` with `ENTITY_TYPE LINES`), or no access (line permission, bound CRM
 * entity, or membership) -> `ACCESS_ERROR` (400).
 */
const dialogGet: Handler = (context) => {
  const { portal, userId } = context
  if (!portal.settings.imInstalled) return fail(PortalError.ImNotInstalled)
  const chat = portal.chats.get(dialogChatId(portal, upperKeys(context.params)))
  if (
    chat === undefined ||
    !(chat.type === "L" || (chat.type === "C" && chat.entityType === "LINES")) ||
    !(Portal.canJoin(portal, chat.lineId, userId, chat.crm) || chat.members.has(userId))
  ) {
    return fail(PortalError.DialogAccessError)
  }
  const messages = chatMessages(portal, chat)
  const last = messages.at(-1)?.id ?? 0
  return succeed({
    id: chat.id,
    parent_chat_id: 0,
    parent_message_id: 0,
    name: chat.title,
    description: null,
    owner: chat.authorId,
    extranet: false,
    avatar: "",
    color: "#58cc47",
    type: typeName(chat),
    counter: 0,
    user_counter: chat.members.size,
    message_count: messages.length,
    unread_id: 0,
    restrictions: {
      avatar: true,
      rename: true,
      extend: true,
      call: true,
      mute: true,
      leave: true,
      leave_owner: true,
      send: true,
      user_list: true
    },
    last_message_id: last,
    last_id: last,
    marked_id: 0,
    disk_folder_id: 0,
    entity_type: chat.entityType,
    entity_id: chat.entityId,
    entity_data_1: Portal.entityData1(portal, chat),
    entity_data_2: Portal.entityData2(chat),
    entity_data_3: chat.silent ? "Y" : "N",
    mute_list: phpMap([...chat.muted].map((member) => [member, true])),
    date_create: Portal.isoDate(chat.createdAt),
    message_type: chat.type,
    public: "",
    role: chat.authorId === userId ? "owner" : chat.members.has(userId) ? "member" : "none",
    entity_link: { type: chat.entityType, url: "", id: chat.entityId },
    text_field_enabled: true,
    background_id: null,
    permissions,
    is_new: false,
    readed_list: [],
    manager_list: chat.authorId > 0 ? [chat.authorId] : [],
    last_message_views: { message_id: last, first_viewers: [], count_of_viewers: 0 },
    dialog_id: `chat${chat.id}`
  })
}

/**
 * The dialog handlers, by declaration.
 *
 * @since 0.1.0
 * @category handlers
 */
export const handlers: ReadonlyArray<readonly [Method.Any, Handler]> = [
  [ImOpenLines.sessionHistoryGet, sessionHistoryGet],
  [ImOpenLines.dialogGet, dialogGet]
]
