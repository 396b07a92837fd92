/**
 * The emulated portal's open-lines domain: users, open lines with their rights, chats, sessions and the messages the
 * portal posts. Plain mutable records behind one object, touched only from the request handler, so a call is applied
 * whole or not at all. Credentials live in `Credentials`, the call journal in `Journal`.
 *
 * @since 0.1.0
 */
import type * as Fixture from "./Fixture.js"

/** @since 0.1.0 @category models */
export interface User {
  readonly id: number
  readonly name: string
  readonly admin: boolean
  readonly active: boolean
  readonly extranet: boolean
}

/** @since 0.1.0 @category models */
export interface Line {
  readonly id: number
  readonly name: string
  readonly join: ReadonlySet<number>
  readonly voteHead: ReadonlySet<number>
  readonly historyView: ReadonlySet<number>
}

/** A message the portal posted into a chat (system messages for silent and pin changes, wire sheet §7). */
export interface Message {
  readonly id: number
  readonly chatId: number
  readonly authorId: number
  readonly text: string
  readonly system: boolean
  readonly date: number
}

/** @since 0.1.0 @category models */
export interface Chat {
  readonly id: number
  readonly type: "L" | "C" | "O" | "P"
  readonly title: string
  readonly entityType: string
  readonly entityId: string
  readonly lineId: number | undefined
  readonly members: Set<number>
  readonly muted: Set<number>
  /** `ENTITY_DATA_3 = Y`: silent ("whisper") mode (wire sheet §7.2). */
  silent: boolean
}

/** @since 0.1.0 @category models */
export interface Session {
  readonly id: number
  readonly chatId: number
  readonly lineId: number | undefined
  operatorId: number
  status: number
  /** The PAUSE flag: pinned to its operator (wire sheet §7.3). */
  pinned: boolean
  readonly createdAt: number
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
  /** The current time in epoch milliseconds. */
  readonly now: () => number
  readonly settings: Settings
  nextId: number
}

/**
 * Behaviour switches where the sources disagree.
 * - `emptyCodes`: answer the failures the server rethrows without setting an error code (pin by a non-operator) with
 *   `{"error":"","error_description":""}` as the published source does, instead of the documented code
 *   (wire sheet §1.5, §6.2). Off by default: the seed pages win.
 *
 * @since 0.1.0
 * @category models
 */
export interface Settings {
  readonly emptyCodes: boolean
}

/**
 * Builds a portal from a decoded fixture, on a clock (epoch milliseconds; `Date.now` by default).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  fixture: Fixture.Fixture,
  options?: { readonly now?: (() => number) | undefined; readonly settings?: Partial<Settings> | undefined }
): Portal => {
  const now = options?.now ?? Date.now
  const portal: Portal = {
    domain: fixture.domain,
    users: new Map(fixture.users.map((u) => [u.id, { ...u }])),
    lines: new Map(fixture.lines.map((l) => [l.id, {
      id: l.id,
      name: l.name,
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
      silent: c.silent
    }])),
    sessions: new Map(),
    messages: [],
    now,
    settings: { emptyCodes: options?.settings?.emptyCodes ?? false },
    nextId: 1
  }
  for (const s of fixture.sessions) {
    const chat = portal.chats.get(s.chatId)
    portal.sessions.set(s.id, { ...s, lineId: chat?.lineId, createdAt: now() })
  }
  portal.nextId = 1 + Math.max(0, ...portal.chats.keys(), ...portal.sessions.keys())
  return portal
}

const lineOfUserCode = (userCode: string): number | undefined => {
  const line = Number(userCode.split("|")[1])
  return Number.isInteger(line) && line > 0 ? line : undefined
}

/** The newest session of a chat that is not closed, if any. */
export const activeSession = (portal: Portal, chatId: number): Session | undefined => {
  let found: Session | undefined
  for (const session of portal.sessions.values()) {
    if (session.chatId === chatId && session.status < SessionStatus.CLOSE && (!found || session.id > found.id)) {
      found = session
    }
  }
  return found
}

/** Whether the user has a session row in the chat (the portal's "recent" entry for operators). */
export const hasRecent = (portal: Portal, chatId: number, userId: number): boolean => {
  for (const session of portal.sessions.values()) {
    if (session.chatId === chatId && session.operatorId === userId) return true
  }
  return false
}

/** `Config::canJoin`: a line permission or admin rights (wire sheet §7.4). */
export const canJoin = (portal: Portal, lineId: number | undefined, userId: number): boolean => {
  const user = portal.users.get(userId)
  if (user === undefined || !user.active || user.extranet) return false
  if (user.admin) return true
  return lineId !== undefined && (portal.lines.get(lineId)?.join.has(userId) ?? false)
}

/** Posts a system message into a chat. */
export const postSystemMessage = (portal: Portal, chatId: number, authorId: number, text: string): Message => {
  const message: Message = { id: portal.nextId++, chatId, authorId, text, system: true, date: portal.now() }
  portal.messages.push(message)
  return message
}
