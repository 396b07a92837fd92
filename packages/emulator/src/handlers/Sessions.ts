/**
 * The emulated session family: `imopenlines.session.mode.*`, `.start`, `.open`, `.join`, `.intercept`,
 * `.head.vote`, and the two methods that act on a session from a chat: `imopenlines.message.session.start` and
 * `imopenlines.crm.lead.create`. Semantics: docs/bitrix24-wire.md §6.1-§6.11 and §7. All of them read the exact
 * (UPPERCASE) keys, as the portal's handlers do: a lowercase `chat_id` is not seen (§6.0).
 *
 * @since 0.1.0
 */
import { ImOpenLines, type Method, Php, PortalError } from "@bitrix24-effect/core"
import * as Portal from "../Portal.js"
import {
  type CallContext,
  checkAccess,
  emptyCode,
  fail,
  type Handler,
  isOutcome,
  type Outcome,
  phpTrim,
  succeed
} from "./Common.js"

const dayMs = 24 * 3600 * 1000

/**
 * The system messages of silent mode and pin (wire sheet §7.2, §7.3; texts of the portal's English language file,
 * `IMOL_CHAT_STEALTH_ON`/`_OFF`, `IMOL_CHAT_ASSIGN_ON`/`_OFF`).
 *
 * @since 0.1.0
 * @category messages
 */
export const texts = {
  silentOn: "[b]Whisper mode is on.[/b][br]Your messages will not be visible to your contact.",
  silentOff: "[b]Whisper mode is off.[/b][br]Your contact can read your subsequent messages.",
  pinOn: (until: string) => `The conversation is assigned to agent, auto close date moved to ${until}`,
  pinOff: "The conversation is unassigned from agent, auto close date set according to the queue rules."
} as const

/** `imopenlines.session.mode.silent` (wire sheet §6.1, §7.2): only the exact string `"Y"` switches it on. */
const sessionModeSilent: Handler = (context) => {
  const chat = checkAccess(context, context.params.CHAT_ID)
  if (isOutcome(chat)) return chat
  const on = context.params.ACTIVATE === "Y"
  if (chat.silent !== on) {
    chat.silent = on
    Portal.postSystemMessage(context.portal, chat.id, context.userId, on ? texts.silentOn : texts.silentOff)
  }
  return succeed(true)
}

/**
 * `Chat::setPauseFlag` (wire sheet §7.3): only the running session's operator may pin or unpin; a state that already
 * holds changes nothing.
 */
const setPinMode = (context: CallContext, chat: Portal.Chat, pin: boolean): Outcome => {
  const session = Portal.runningSession(context.portal, chat.id)
  if (session === undefined) return emptyCode // IMOL_CHAT_ERROR_ANSWER_NOT_LOAD_SESSION surfaces without a code
  if (session.operatorId !== context.userId) {
    return context.portal.settings.emptyCodes ? emptyCode : fail(PortalError.UserNotOperator)
  }
  if (session.pinned !== pin) {
    session.pinned = pin
    const until = new Date(context.portal.now() + 7 * dayMs).toISOString().slice(0, 10)
    Portal.postSystemMessage(context.portal, chat.id, context.userId, pin ? texts.pinOn(until) : texts.pinOff)
  }
  return succeed(true)
}

/** `imopenlines.session.mode.pin` (wire sheet §6.2): `ACTIVATE !== 'N'` pins, so JSON `false` pins too. */
const sessionModePin: Handler = (context) => {
  if (!Php.truthy(context.params.CHAT_ID)) return fail(PortalError.ChatIdEmpty)
  const chat = checkAccess(context, context.params.CHAT_ID)
  if (isOutcome(chat)) return chat
  return setPinMode(context, chat, context.params.ACTIVATE !== "N")
}

/** `imopenlines.session.mode.unpin`, undocumented (wire sheet §6.2): pin with `ACTIVATE=N`. */
const sessionModeUnpin: Handler = (context) => {
  if (!Php.truthy(context.params.CHAT_ID)) return fail(PortalError.ChatIdEmpty)
  const chat = checkAccess(context, context.params.CHAT_ID)
  if (isOutcome(chat)) return chat
  return setPinMode(context, chat, false)
}

/**
 * `imopenlines.session.mode.pinAll` / `.unpinAll` (wire sheet §6.3): the caller's sessions with the other pin state
 * and a status in [10 ANSWER, 50 WAIT_CLIENT), each through the pin of its chat; the IDs that changed, by ID.
 */
const pinAll = (pin: boolean): Handler => (context) => {
  const pinned: Array<number> = []
  const sessions = [...context.portal.sessions.values()].sort((a, b) => a.id - b.id)
  for (const session of sessions) {
    if (
      session.operatorId !== context.userId || session.pinned === pin ||
      session.status < Portal.SessionStatus.ANSWER || session.status >= Portal.SessionStatus.WAIT_CLIENT
    ) continue
    const chat = checkAccess(context, session.chatId)
    if (isOutcome(chat)) continue
    if (setPinMode(context, chat, pin)._tag === "Success") pinned.push(session.id)
  }
  return succeed(pinned)
}

/**
 * `imopenlines.session.start` (wire sheet §6.4): a chat without a running session gets one with the caller as
 * operator; otherwise the caller joins the chat.
 */
const sessionStart: Handler = (context) => {
  const chat = checkAccess(context, context.params.CHAT_ID)
  if (isOutcome(chat)) return chat
  const { portal, userId } = context
  if (Portal.runningSession(portal, chat.id) === undefined) {
    const session = Portal.openSession(portal, chat, userId, Portal.SessionStatus.OPERATOR)
    chat.authorId = userId
    Portal.postSystemMessage(portal, chat.id, userId, `A new conversation #${session.id} was started by the operator.`)
  }
  Portal.addMember(portal, chat, userId)
  return succeed(true)
}

/**
 * `imopenlines.session.open` (wire sheet §6.5): the chat of a USER_CODE (exact key, no `imol|` stripping). Extranet
 * users are refused with an empty code (source) or `ACCESS_DENIED` (documented); a caller other than the chat's
 * current operator needs to be able to join the line or the bound CRM entity.
 */
const sessionOpen: Handler = (context) => {
  const { portal, userId } = context
  if (portal.users.get(userId)?.extranet === true) {
    return portal.settings.emptyCodes ? emptyCode : fail(PortalError.AccessDenied)
  }
  const code = context.params.USER_CODE
  const chat = typeof code === "string" ? Portal.chatByUserCode(portal, code) : undefined
  if (chat === undefined) return fail(PortalError.AccessDenied)
  if (chat.authorId !== userId && !Portal.canJoin(portal, chat.lineId, userId, chat.crm)) {
    return fail(PortalError.AccessDenied)
  }
  return succeed({ chatId: String(chat.id) })
}

/** `imopenlines.session.join` (wire sheet §6.6): adds the caller, with the messenger's "joined" notice. */
const sessionJoin: Handler = (context) => {
  const chat = checkAccess(context, context.params.CHAT_ID)
  if (isOutcome(chat)) return chat
  Portal.addMember(context.portal, chat, context.userId)
  return succeed(true)
}

/**
 * `imopenlines.session.intercept` (wire sheet §6.7): `CHAT_ID_EMPTY` for a non-positive `CHAT_ID`, `OPERATOR_WRONG`
 * for every other failure (no access, no running dialog, nobody answered it yet, the caller already has it).
 */
const sessionIntercept: Handler = (context) => {
  const chatId = Php.intval(context.params.CHAT_ID)
  if (chatId <= 0) return fail(PortalError.ChatIdEmpty)
  const chat = checkAccess(context, chatId)
  if (isOutcome(chat)) return fail(PortalError.OperatorWrong)
  const { portal, userId } = context
  const session = Portal.runningSession(portal, chat.id)
  const previous = chat.authorId
  if (session === undefined || previous <= 0 || previous === userId) return fail(PortalError.OperatorWrong)
  Portal.answer(portal, chat, session, userId)
  Portal.postSystemMessage(
    portal,
    chat.id,
    userId,
    `${Portal.mention(userId)} took conversation from ${Portal.mention(previous)}`
  )
  return succeed(true)
}

/**
 * `imopenlines.session.head.vote` (wire sheet §6.9): `!SESSION_ID` -> `EMPTY_SESSION_ID`; `!trim(RATING) &&
 * !trim(COMMENT)` -> `EMPTY_VOTE_PARAMS`; an unknown session or a caller without the line's supervisor-vote right
 * (or a plan without the feature) -> `ACCESS_DENIED`. A rating above 5 is stored as 0; a comment is cut at 10 000
 * characters plus "...".
 */
const sessionHeadVote: Handler = (context) => {
  const { RATING, COMMENT, SESSION_ID } = context.params
  if (!Php.truthy(SESSION_ID)) return fail(PortalError.EmptySessionId)
  const rating = phpTrim(RATING)
  const comment = phpTrim(COMMENT)
  if (!Php.truthy(rating) && !Php.truthy(comment)) return fail(PortalError.EmptyVoteParams)
  const { portal, userId } = context
  const session = portal.sessions.get(Php.intval(SESSION_ID))
  if (session === undefined || !Portal.canVoteAsHead(portal, session.lineId, userId)) {
    return fail(PortalError.AccessDenied)
  }
  if (Php.truthy(rating)) {
    const value = Php.intval(rating)
    session.voteHead = value >= 1 && value <= 5 ? value : 0
  }
  if (Php.truthy(comment)) {
    const raw = typeof COMMENT === "string" ? COMMENT : comment
    session.commentHead = raw.length > 10_000 ? `${raw.slice(0, 10_000)}...` : raw
  }
  return succeed(true)
}

/**
 * `imopenlines.message.session.start` (wire sheet §6.10): with a running session and a message of this chat, posts
 * "closed the current conversation and started a new one", closes the session, opens a new one answered by the
 * caller and re-posts the message into it with `SKIP_CONNECTOR=Y`. Anything else is ignored: the answer is `true`
 * once the access check passes.
 */
const messageSessionStart: Handler = (context) => {
  const chat = checkAccess(context, context.params.CHAT_ID)
  if (isOutcome(chat)) return chat
  const { portal, userId } = context
  const messageId = Php.intval(context.params.MESSAGE_ID)
  const message = portal.messages.find((m) => m.id === messageId)
  const session = Portal.runningSession(portal, chat.id)
  if (session !== undefined && message !== undefined && message.chatId === chat.id) {
    Portal.postSystemMessage(
      portal,
      chat.id,
      userId,
      `${Portal.mention(userId)} closed the current conversation and started a new one`
    )
    Portal.closeSession(portal, chat, session, Portal.SessionStatus.CLOSE)
    const next = Portal.openSession(portal, chat, userId, Portal.SessionStatus.ANSWER, session.id)
    Portal.answer(portal, chat, next, userId)
    Portal.postMessage(portal, chat.id, message.authorId, message.text, {
      system: message.system,
      params: { ...message.params, SKIP_CONNECTOR: "Y" }
    })
  }
  return succeed(true)
}

/**
 * `imopenlines.crm.lead.create` (wire sheet §6.11): a chat already bound to a CRM entity answers `true` unchanged;
 * otherwise the running session's operator creates a lead, the chat is bound to it and the portal posts its notice.
 * No running session -> `IMOL_CHAT_ERROR_ANSWER_NOT_LOAD_SESSION`; another user -> `ERROR_USER_NOT_OPERATOR`; no CRM
 * (`settings.crmInstalled`) -> `IMOL_CHAT_ERROR_NOT_LOAD_CRM`.
 */
const crmLeadCreate: Handler = (context) => {
  const chat = checkAccess(context, context.params.CHAT_ID)
  if (isOutcome(chat)) return chat
  if (chat.crm !== undefined) return succeed(true)
  const { portal, userId } = context
  const session = Portal.runningSession(portal, chat.id)
  if (session === undefined) return fail(PortalError.ImolChatErrorAnswerNotLoadSession)
  if (session.operatorId !== userId) {
    return fail(PortalError.UserNotOperator, "Attempt to save a CRM entity by a user who is not an operator")
  }
  if (!portal.settings.crmInstalled) return fail(PortalError.ImolChatErrorNotLoadCrm)
  const lead: Portal.Lead = { id: portal.nextLeadId++, title: chat.title, chatId: chat.id, sessionId: session.id }
  portal.leads.push(lead)
  chat.crm = { entityType: "LEAD", entityId: lead.id }
  Portal.postSystemMessage(portal, chat.id, userId, `New lead created: "${lead.title}"`)
  return succeed(true)
}

/**
 * The session handlers, by declaration.
 *
 * @since 0.1.0
 * @category handlers
 */
export const handlers: ReadonlyArray<readonly [Method.Any, Handler]> = [
  [ImOpenLines.sessionModeSilent, sessionModeSilent],
  [ImOpenLines.sessionModePin, sessionModePin],
  [ImOpenLines.sessionModeUnpin, sessionModeUnpin],
  [ImOpenLines.sessionModePinAll, pinAll(true)],
  [ImOpenLines.sessionModeUnpinAll, pinAll(false)],
  [ImOpenLines.sessionStart, sessionStart],
  [ImOpenLines.sessionOpen, sessionOpen],
  [ImOpenLines.sessionJoin, sessionJoin],
  [ImOpenLines.sessionIntercept, sessionIntercept],
  [ImOpenLines.sessionHeadVote, sessionHeadVote],
  [ImOpenLines.messageSessionStart, messageSessionStart],
  [ImOpenLines.crmLeadCreate, crmLeadCreate]
]
