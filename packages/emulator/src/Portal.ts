/**
 * The emulated portal's open-lines domain: users, open lines with their queues and rights, chats, sessions, the
 * messages in them and the CRM leads made from them. Plain mutable records behind one object, touched only from the
 * request handler; handlers check everything before they change anything, so a call is applied whole or not at all.
 * Credentials live in `Credentials`, the call journal in `Journal`.
 *
 * The rules here are the portal's (docs/bitrix24-wire.md §6.0, §7): who may join a line's dialogs, vote on them or
 * read their history; which session of a chat is running; what closing, answering or moving a dialog does to its
 * chat; the system messages the portal posts.
 *
 * @since 0.1.0
 */
import type * as Fixture from "./Fixture.js"

/**
 * A portal user. `connector` users are the clients of external channels (they sit in open-line chats but never
 * operate them); `crmAccess` holds the CRM entities the user may open, as `TYPE|ID`.
 *
 * @since 0.1.0
 * @category models
 */
export interface User {
  readonly id: number
  readonly name: string
  readonly admin: boolean
  readonly active: boolean
  readonly extranet: boolean
  readonly connector: boolean
  readonly crmAccess: ReadonlySet<string>
}

/**
 * An open line (`CONFIG_ID`): its operator queue in order and its per-line rights (wire sheet §7.4).
 *
 * @since 0.1.0
 * @category models
 */
export interface Line {
  readonly id: number
  readonly name: string
  readonly queue: ReadonlyArray<number>
  readonly join: ReadonlySet<number>
  readonly voteHead: ReadonlySet<number>
  readonly historyView: ReadonlySet<number>
}

/**
 * A message in a chat: posted by a user, or a system notice of the portal (wire sheet §7). `sessionId` is the session
 * that was running in the chat when it was posted; `date` is epoch milliseconds; `params` are the message's service
 * params (`SKIP_CONNECTOR` for a message re-posted into a new session, wire sheet §6.10).
 *
 * @since 0.1.0
 * @category models
 */
export interface Message {
  readonly id: number
  readonly chatId: number
  readonly authorId: number
  readonly text: string
  readonly system: boolean
  readonly date: number
  readonly sessionId: number | undefined
  readonly params: Readonly<Record<string, unknown>>
}

/**
 * A CRM entity a chat is bound to (`LEAD`, `DEAL`, `CONTACT`, `COMPANY`).
 *
 * @since 0.1.0
 * @category models
 */
export interface CrmBinding {
  readonly entityType: string
  readonly entityId: number
}

/**
 * A chat. For open-line chats (`type` `L`, `entityType` `LINES`, the USER_CODE as `entityId`), `lineId` is the line
 * the dialog is in (a transfer to another line's queue changes it), `authorId` is the chat's `AUTHOR_ID` (the operator
 * who answered the running dialog, 0 when nobody has), `silent` is `ENTITY_DATA_3 = Y` and `crm` the bound CRM entity
 * (wire sheet §7.1).
 *
 * @since 0.1.0
 * @category models
 */
export interface Chat {
  readonly id: number
  readonly type: "L" | "C" | "O" | "P"
  readonly title: string
  readonly entityType: string
  readonly entityId: string
  lineId: number | undefined
  readonly members: Set<number>
  readonly muted: Set<number>
  /** `ENTITY_DATA_3 = Y`: silent ("whisper") mode (wire sheet §7.2). */
  silent: boolean
  authorId: number
  crm: CrmBinding | undefined
  readonly createdAt: number
}

/**
 * An open-line session (one dialog of a chat). `operatorId` 0 means it waits in the queue; `pinned` is the PAUSE
 * flag (wire sheet §7.3); `voteHead` and `commentHead` are the supervisor's rating and comment (§6.9).
 *
 * @since 0.1.0
 * @category models
 */
export interface Session {
  readonly id: number
  readonly chatId: number
  lineId: number | undefined
  operatorId: number
  status: number
  /** The PAUSE flag: pinned to its operator (wire sheet §7.3). */
  pinned: boolean
  voteHead: number
  commentHead: string | null
  readonly createdAt: number
  closedAt: number | undefined
  readonly parentId: number | undefined
}

/**
 * A CRM lead created from a dialog by `imopenlines.crm.lead.create`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Lead {
  readonly id: number
  readonly title: string
  readonly chatId: number
  readonly sessionId: number
}

/** Session statuses (wire sheet §7.1). @since 0.1.0 @category constants */
export const SessionStatus = {
  NEW: 0,
  SKIP: 5,
  ANSWER: 10,
  CLIENT: 20,
  CLIENT_AFTER_OPERATOR: 25,
  OPERATOR: 40,
  WAIT_CLIENT: 50,
  CLOSE: 60,
  SPAM: 65,
  DUPLICATE: 69,
  SILENTLY_CLOSE: 75
} as const

/**
 * The portal.
 *
 * @since 0.1.0
 * @category models
 */
export interface Portal {
  readonly domain: string
  readonly users: Map<number, User>
  readonly lines: Map<number, Line>
  readonly chats: Map<number, Chat>
  readonly sessions: Map<number, Session>
  readonly messages: Array<Message>
  readonly leads: Array<Lead>
  /** The current time in epoch milliseconds. */
  readonly now: () => number
  readonly settings: Settings
  /** The next session ID. */
  nextId: number
  nextMessageId: number
  nextLeadId: number
}

/**
 * Behaviour switches where the sources disagree, and parts of the portal that can be missing.
 * - `emptyCodes`: answer the failures the server rethrows without setting an error code with
 *   `{"error":"","error_description":""}` as the published source does, instead of the documented code (pin or unpin
 *   by a non-operator: `ERROR_USER_NOT_OPERATOR`; `session.open` by an extranet user: `ACCESS_DENIED`; wire sheet
 *   §1.5, §6.2, §6.5). Off by default: the documentation wins.
 * - `imInstalled`: the messenger module is installed (default `true`); without it `imopenlines.dialog.get` answers
 *   `IM_NOT_INSTALLED` and the operator checks `IM_LOAD_ERROR` (wire sheet §6.0 step 1, §6.12).
 * - `crmInstalled`: the CRM is available (default `true`); without it `imopenlines.crm.lead.create` answers
 *   `IMOL_CHAT_ERROR_NOT_LOAD_CRM` (§6.11).
 * - `headVoteAvailable`: the plan includes supervisor rating (`Limit::canUseVoteHead`, default `true`); without it
 *   `imopenlines.session.head.vote` answers `ACCESS_DENIED` (§6.9).
 *
 * @since 0.1.0
 * @category models
 */
export interface Settings {
  readonly emptyCodes: boolean
  readonly imInstalled: boolean
  readonly crmInstalled: boolean
  readonly headVoteAvailable: boolean
}

const minuteMs = 60 * 1000

/**
 * Builds a portal from a decoded fixture, on a clock (epoch milliseconds; `Date.now` by default). A chat's
 * `authorId` defaults to the operator of its running session; fixture messages are dated a minute apart, ending now.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  fixture: Fixture.Fixture,
  options?: { readonly now?: (() => number) | undefined; readonly settings?: Partial<Settings> | undefined }
): Portal => {
  const now = options?.now ?? Date.now
  const start = now()
  const portal: Portal = {
    domain: fixture.domain,
    users: new Map(fixture.users.map((u) => [u.id, { ...u, crmAccess: new Set(u.crmAccess) }])),
    lines: new Map(fixture.lines.map((l) => [l.id, {
      id: l.id,
      name: l.name,
      queue: [...l.queue],
      join: new Set(l.join),
      voteHead: new Set(l.voteHead),
      historyView: new Set(l.historyView)
    }])),
    chats: new Map(fixture.chats.map((c) => [c.id, {
      id: c.id,
      type: c.type,
      title: c.title,
      entityType: c.entityType,
      entityId: c.entityId,
      lineId: c.lineId ?? lineOfUserCode(c.entityId),
      members: new Set(c.members),
      muted: new Set(c.muted),
      silent: c.silent,
      authorId: c.authorId ?? 0,
      crm: c.crm === undefined ? undefined : { ...c.crm },
      createdAt: start - 2 * 3600 * 1000
    }])),
    sessions: new Map(),
    messages: [],
    leads: [],
    now,
    settings: {
      emptyCodes: options?.settings?.emptyCodes ?? false,
      imInstalled: options?.settings?.imInstalled ?? true,
      crmInstalled: options?.settings?.crmInstalled ?? true,
      headVoteAvailable: options?.settings?.headVoteAvailable ?? true
    },
    nextId: 1,
    nextMessageId: 1,
    nextLeadId: 1
  }
  for (const s of fixture.sessions) {
    const chat = portal.chats.get(s.chatId)
    portal.sessions.set(s.id, {
      ...s,
      lineId: chat?.lineId,
      createdAt: start - 3600 * 1000,
      closedAt: s.status >= SessionStatus.CLOSE ? start - 1800 * 1000 : undefined,
      parentId: undefined
    })
  }
  for (const chat of portal.chats.values()) {
    const fromFixture = fixture.chats.find((c) => c.id === chat.id)
    if (fromFixture?.authorId === undefined) chat.authorId = runningSession(portal, chat.id)?.operatorId ?? 0
  }
  fixture.messages.forEach((m, index) => {
    portal.messages.push({
      id: m.id,
      chatId: m.chatId,
      authorId: m.authorId,
      text: m.text,
      system: m.system,
      date: start - (fixture.messages.length - index) * minuteMs,
      sessionId: m.sessionId,
      params: {}
    })
  })
  portal.nextId = 1 + Math.max(0, ...portal.sessions.keys())
  portal.nextMessageId = 1 + Math.max(0, ...portal.messages.map((m) => m.id))
  portal.nextLeadId = 1 + Math.max(0, ...[...portal.chats.values()].map((c) => c.crm?.entityId ?? 0))
  return portal
}

const lineOfUserCode = (userCode: string): number | undefined => {
  const line = Number(userCode.split("|")[1])
  return Number.isInteger(line) && line > 0 ? line : undefined
}

/**
 * The running session of a chat: the newest one that is not closed (status below 60 CLOSE), if any.
 *
 * @since 0.1.0
 * @category sessions
 */
export const runningSession = (portal: Portal, chatId: number): Session | undefined => {
  let found: Session | undefined
  for (const session of portal.sessions.values()) {
    if (session.chatId === chatId && session.status < SessionStatus.CLOSE && (!found || session.id > found.id)) {
      found = session
    }
  }
  return found
}

/**
 * The newest session of a chat, closed or not (`ORDER BY ID DESC`, wire sheet §6.8).
 *
 * @since 0.1.0
 * @category sessions
 */
export const newestSession = (portal: Portal, chatId: number): Session | undefined => {
  let found: Session | undefined
  for (const session of portal.sessions.values()) {
    if (session.chatId === chatId && (!found || session.id > found.id)) found = session
  }
  return found
}

/**
 * The newest session of a chat that is not closed, if any (the same as {@link runningSession}).
 *
 * @since 0.1.0
 * @category sessions
 */
export const activeSession = runningSession

/**
 * Whether the user has a session row in the chat (the portal's "recent" entry for operators, wire sheet §6.0 step 6).
 *
 * @since 0.1.0
 * @category rights
 */
export const hasRecent = (portal: Portal, chatId: number, userId: number): boolean => {
  for (const session of portal.sessions.values()) {
    if (session.chatId === chatId && session.operatorId === userId) return true
  }
  return false
}

/** An active, internal user (not extranet, not a connector client). */
const staff = (portal: Portal, userId: number): User | undefined => {
  const user = portal.users.get(userId)
  return user === undefined || !user.active || user.extranet || user.connector ? undefined : user
}

/**
 * `Config::canJoin`: the user may join the line's dialogs through a line permission, admin rights, or CRM access to
 * the entity the chat is bound to (wire sheet §7.4). Extranet, inactive and connector users never may.
 *
 * @since 0.1.0
 * @category rights
 */
export const canJoin = (
  portal: Portal,
  lineId: number | undefined,
  userId: number,
  crm?: CrmBinding | undefined
): boolean => {
  const user = staff(portal, userId)
  if (user === undefined) return false
  if (user.admin) return true
  if (lineId !== undefined && (portal.lines.get(lineId)?.join.has(userId) ?? false)) return true
  return crm !== undefined && user.crmAccess.has(`${crm.entityType}|${crm.entityId}`)
}

/**
 * `Config::canVoteAsHead`: the line's supervisor-vote permission (or admin rights), on a plan that has the feature
 * (wire sheet §7.4).
 *
 * @since 0.1.0
 * @category rights
 */
export const canVoteAsHead = (portal: Portal, lineId: number | undefined, userId: number): boolean => {
  const user = staff(portal, userId)
  if (user === undefined || !portal.settings.headVoteAvailable) return false
  return user.admin || (lineId !== undefined && (portal.lines.get(lineId)?.voteHead.has(userId) ?? false))
}

/**
 * Who may read a session's history: its operator, a user with the history-view permission of its line (or admin
 * rights), or a user with access to the CRM entity of its chat (wire sheet §6.8, §7.4).
 *
 * @since 0.1.0
 * @category rights
 */
export const canViewHistory = (portal: Portal, session: Session, userId: number): boolean => {
  if (session.operatorId === userId) return true
  const user = staff(portal, userId)
  if (user === undefined) return false
  if (user.admin) return true
  if (session.lineId !== undefined && (portal.lines.get(session.lineId)?.historyView.has(userId) ?? false)) return true
  const crm = portal.chats.get(session.chatId)?.crm
  return crm !== undefined && user.crmAccess.has(`${crm.entityType}|${crm.entityId}`)
}

/**
 * Whether the user may take dialogs: an active internal user (not extranet, not a connector client).
 *
 * @since 0.1.0
 * @category rights
 */
export const isOperatorCandidate = (portal: Portal, userId: number): boolean => staff(portal, userId) !== undefined

/**
 * The `[USER=<id>][/USER]` mention the portal's system messages use for a user.
 *
 * @since 0.1.0
 * @category messages
 */
export const mention = (userId: number): string => `[USER=${userId}][/USER]`

/**
 * Posts a message into a chat, in the chat's running session.
 *
 * @since 0.1.0
 * @category messages
 */
export const postMessage = (
  portal: Portal,
  chatId: number,
  authorId: number,
  text: string,
  options?: { readonly system?: boolean; readonly params?: Readonly<Record<string, unknown>> }
): Message => {
  const message: Message = {
    id: portal.nextMessageId++,
    chatId,
    authorId,
    text,
    system: options?.system ?? false,
    date: portal.now(),
    sessionId: runningSession(portal, chatId)?.id,
    params: options?.params ?? {}
  }
  portal.messages.push(message)
  return message
}

/**
 * Posts a system message into a chat (the portal's notices for silent, pin, answer, transfer, ...; wire sheet §7).
 *
 * @since 0.1.0
 * @category messages
 */
export const postSystemMessage = (portal: Portal, chatId: number, authorId: number, text: string): Message =>
  postMessage(portal, chatId, authorId, text, { system: true })

/**
 * The messages of a session, oldest first.
 *
 * @since 0.1.0
 * @category messages
 */
export const sessionMessages = (portal: Portal, sessionId: number): ReadonlyArray<Message> =>
  portal.messages.filter((message) => message.sessionId === sessionId)

/**
 * Adds a user to a chat (`CIMChat::AddUser`), posting the messenger's "joined" notice unless asked not to. Answers
 * whether the user was added (false when already a member).
 *
 * @since 0.1.0
 * @category chats
 */
export const addMember = (portal: Portal, chat: Chat, userId: number, options?: { readonly silent?: boolean }) => {
  if (chat.members.has(userId)) return false
  chat.members.add(userId)
  if (options?.silent !== true) {
    postSystemMessage(portal, chat.id, userId, `${portal.users.get(userId)?.name ?? userId} joined the chat.`)
  }
  return true
}

/**
 * Removes from a chat every operator-side member (not the clients of the connector) except the ones named.
 *
 * @since 0.1.0
 * @category chats
 */
export const removeOperators = (portal: Portal, chat: Chat, keep: ReadonlyArray<number> = []): void => {
  for (const member of [...chat.members]) {
    if (keep.includes(member) || portal.users.get(member)?.connector === true) continue
    chat.members.delete(member)
  }
}

/**
 * `Chat::answer`: the user becomes the operator of the running session and the chat's `AUTHOR_ID`, joins the chat,
 * and the other operators leave it; a session not yet answered moves to status 10 ANSWER (wire sheet §6.13).
 *
 * @since 0.1.0
 * @category sessions
 */
export const answer = (portal: Portal, chat: Chat, session: Session, userId: number): void => {
  addMember(portal, chat, userId, { silent: true })
  removeOperators(portal, chat, [userId])
  session.operatorId = userId
  if (session.status < SessionStatus.ANSWER) session.status = SessionStatus.ANSWER
  chat.authorId = userId
}

/**
 * Closes a session with a final status (60 CLOSE, 65 SPAM) and resets its chat as `Chat::close` does: the operators
 * leave, `AUTHOR_ID` becomes 0, and pin and silent mode are cleared (wire sheet §7.2, §7.3).
 *
 * @since 0.1.0
 * @category sessions
 */
export const closeSession = (portal: Portal, chat: Chat, session: Session, status: number): void => {
  session.status = status
  session.pinned = false
  session.closedAt = portal.now()
  removeOperators(portal, chat)
  chat.authorId = 0
  chat.silent = false
}

/**
 * Opens a new session in a chat with an operator (0: waiting in the queue) and a status.
 *
 * @since 0.1.0
 * @category sessions
 */
export const openSession = (
  portal: Portal,
  chat: Chat,
  operatorId: number,
  status: number,
  parentId?: number
): Session => {
  const session: Session = {
    id: portal.nextId++,
    chatId: chat.id,
    lineId: chat.lineId,
    operatorId,
    status,
    pinned: false,
    voteHead: 0,
    commentHead: null,
    createdAt: portal.now(),
    closedAt: undefined,
    parentId
  }
  portal.sessions.set(session.id, session)
  return session
}

/**
 * The next operator of a line's queue after `after` (round robin), skipping users who cannot take dialogs and the
 * ones excluded; `undefined` when nobody is left.
 *
 * @since 0.1.0
 * @category sessions
 */
export const nextInQueue = (
  portal: Portal,
  lineId: number | undefined,
  after: number,
  exclude: ReadonlyArray<number> = []
): number | undefined => {
  const queue = lineId === undefined ? [] : portal.lines.get(lineId)?.queue ?? []
  const start = queue.indexOf(after)
  for (let step = 1; step <= queue.length; step++) {
    const candidate = queue[(start + step + queue.length) % queue.length]!
    if (!exclude.includes(candidate) && isOperatorCandidate(portal, candidate)) return candidate
  }
  return undefined
}

/**
 * The chat whose USER_CODE (`ENTITY_ID`) is given, among the open-line chats.
 *
 * @since 0.1.0
 * @category chats
 */
export const chatByUserCode = (portal: Portal, userCode: string): Chat | undefined => {
  for (const chat of portal.chats.values()) {
    if (chat.entityType === "LINES" && chat.entityId === userCode) return chat
  }
  return undefined
}

/**
 * `ENTITY_DATA_1` of an open-line chat: `CRM|CRM_ENTITY_TYPE|CRM_ENTITY_ID|PAUSE|WAIT_ACTION|SESSION_ID|DATE_CREATE|
 * LINE_ID|BLOCK_DATE|BLOCK_REASON` (wire sheet §7.1); session fields are zero when no session runs.
 *
 * @since 0.1.0
 * @category chats
 */
export const entityData1 = (portal: Portal, chat: Chat): string => {
  const session = runningSession(portal, chat.id)
  return [
    chat.crm === undefined ? "N" : "Y",
    chat.crm?.entityType ?? "NONE",
    chat.crm?.entityId ?? 0,
    session?.pinned === true ? "Y" : "N",
    "N",
    session?.id ?? 0,
    session === undefined ? 0 : Math.floor(session.createdAt / 1000),
    chat.lineId ?? 0,
    0,
    0
  ].join("|")
}

/**
 * `ENTITY_DATA_2` of an open-line chat: `LEAD|id|COMPANY|id|CONTACT|id|DEAL|id` (wire sheet §7.1).
 *
 * @since 0.1.0
 * @category chats
 */
export const entityData2 = (chat: Chat): string =>
  ["LEAD", "COMPANY", "CONTACT", "DEAL"]
    .map((type) => `${type}|${chat.crm?.entityType === type ? chat.crm.entityId : 0}`)
    .join("|")

/**
 * An epoch-millisecond time as the portal's `date('c')` writes it (ISO 8601 with the UTC offset, no fraction).
 *
 * @since 0.1.0
 * @category encoding
 */
export const isoDate = (ms: number): string =>
  new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "+00:00")
