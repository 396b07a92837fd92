/**
 * The emulated operator actions, `imopenlines.operator.*`: answer, skip, spam, finish, another.finish and transfer.
 * Semantics: docs/bitrix24-wire.md §6.13 and §7. `answer`, `skip`, `spam` and `finish` uppercase their keys first;
 * `another.finish` and `transfer` read the exact keys (§6.0).
 *
 * @since 0.1.0
 */
import { ImOpenLines, type Method, Php, PortalError } from "@bitrix24-effect/core"
import * as Portal from "../Portal.js"
import { checkAccess, emptyCode, fail, type Handler, isOutcome, succeed, upperKeys } from "./Common.js"

/**
 * `imopenlines.operator.answer`: the caller takes the dialog ("#USER# picked conversation"). When the answer fails
 * after the access check (the caller already is the chat's `AUTHOR_ID`, or no session runs), the portal rethrows an
 * error object nobody set: the empty code (wire sheet §6.13 ⚠, §1.5).
 */
const operatorAnswer: Handler = (context) => {
  const chat = checkAccess(context, upperKeys(context.params).CHAT_ID)
  if (isOutcome(chat)) return chat
  const { portal, userId } = context
  const session = Portal.runningSession(portal, chat.id)
  if (chat.authorId === userId || session === undefined) return emptyCode
  Portal.answer(portal, chat, session, userId)
  Portal.postSystemMessage(portal, chat.id, userId, `${Portal.mention(userId)} picked conversation`)
  return succeed(true)
}

/**
 * `imopenlines.operator.skip`: "#USER# rejected conversation"; the caller and the other operators leave and the dialog
 * goes to the next operator of the line's queue (status 5 SKIP, waiting for that operator's answer), or back to the
 * queue when nobody is left. A chat without a running session cannot be passed on: the portal's attempt to remove the
 * caller raises `ACCESS_DENIED_KICK` through the application-exception override (wire sheet §6.13, §1.5).
 */
const operatorSkip: Handler = (context) => {
  const chat = checkAccess(context, upperKeys(context.params).CHAT_ID)
  if (isOutcome(chat)) return chat
  const { portal, userId } = context
  const session = Portal.runningSession(portal, chat.id)
  if (session === undefined) return fail(PortalError.AccessDeniedKick)
  Portal.postSystemMessage(portal, chat.id, userId, `${Portal.mention(userId)} rejected conversation`)
  const next = Portal.nextInQueue(portal, session.lineId, userId, [userId])
  Portal.removeOperators(portal, chat)
  chat.authorId = 0
  session.pinned = false
  if (next === undefined) {
    session.operatorId = 0
    session.status = Portal.SessionStatus.NEW
    Portal.postSystemMessage(
      portal,
      chat.id,
      0,
      "Enquiry has been resubmitted to the queue because there are no agents available"
    )
  } else {
    session.operatorId = next
    session.status = Portal.SessionStatus.SKIP
    Portal.addMember(portal, chat, next, { silent: true })
    Portal.postSystemMessage(
      portal,
      chat.id,
      0,
      `Enquiry transferred to ${Portal.mention(next)} according to queuing rules`
    )
  }
  return succeed(true)
}

/**
 * `imopenlines.operator.spam`: "#USER# marked the current conversation as spam", and the running session ends with
 * status 65 SPAM. The portal answers `true` once the access check passes, also when no session runs.
 */
const operatorSpam: Handler = (context) => {
  const chat = checkAccess(context, upperKeys(context.params).CHAT_ID)
  if (isOutcome(chat)) return chat
  const { portal, userId } = context
  const session = Portal.runningSession(portal, chat.id)
  if (session !== undefined) {
    Portal.postSystemMessage(
      portal,
      chat.id,
      userId,
      `${Portal.mention(userId)} marked the current conversation as spam`
    )
    Portal.closeSession(portal, chat, session, Portal.SessionStatus.SPAM)
  }
  return succeed(true)
}

/**
 * `Chat::finish(user, permissionOtherClose)`: no running session -> `NOT_LOAD_SESSION_OR_CHAT`; without the
 * permission to close others' dialogs, only the session's operator may (`ERROR_USER_NOT_OPERATOR`). A dialog nobody
 * answered is answered by the caller first; closing another operator's dialog posts who closed it.
 */
const finish = (otherClose: boolean): Handler => (context) => {
  const rawChatId = otherClose ? context.params.CHAT_ID : upperKeys(context.params).CHAT_ID
  const chat = checkAccess(context, rawChatId)
  if (isOutcome(chat)) return chat
  const { portal, userId } = context
  const session = Portal.runningSession(portal, chat.id)
  if (session === undefined) return fail(PortalError.NotLoadSessionOrChat)
  if (!otherClose && session.operatorId !== userId) {
    return fail(PortalError.UserNotOperator, "Attempt to close the dialog by a user who is not an operator")
  }
  if (chat.authorId <= 0) {
    Portal.answer(portal, chat, session, userId)
    Portal.postSystemMessage(portal, chat.id, userId, `${Portal.mention(userId)} picked conversation`)
  } else if (otherClose && session.operatorId !== userId) {
    Portal.postSystemMessage(portal, chat.id, userId, `${Portal.mention(userId)} closed the conversation`)
  }
  Portal.closeSession(portal, chat, session, Portal.SessionStatus.CLOSE)
  return succeed(true)
}

const isset = (value: unknown): boolean => value !== undefined && value !== null

/**
 * `imopenlines.operator.transfer` (wire sheet §6.13). The parameter checks come first, in the server's order:
 * `CHAT_ID_EMPTY`; `TRANSFER_ID` (a string or an integer) is mapped to `QUEUE_ID` when it starts with `queue`, else
 * to `USER_ID`; then `USER_ID` (`USER_ID_EMPTY`) wins over `QUEUE_ID` (`QUEUE_ID_EMPTY`); neither:
 * `TRANSFER_ID_EMPTY`. Every later failure is `OPERATOR_WRONG`: no access, a transfer to oneself, no running session,
 * an unknown or inactive user, an unknown line.
 *
 * To a user: all operators leave, the target joins and becomes the session's operator, `AUTHOR_ID` is 0 until the
 * target answers ("#USER_FROM# transfered conversation to #USER_TO#"). To a line: the dialog moves to that line, the
 * operators leave, and the first available operator of the line's queue gets it (status 0 NEW).
 */
const operatorTransfer: Handler = (context) => {
  const params = context.params
  const chatId = Php.intval(params.CHAT_ID)
  if (chatId <= 0) return fail(PortalError.ChatIdEmpty)
  let userParam = params.USER_ID
  let queueParam = params.QUEUE_ID
  const transfer = params.TRANSFER_ID
  if (typeof transfer === "string" || (typeof transfer === "number" && Number.isInteger(transfer))) {
    const text = String(transfer)
    if (text.startsWith("queue")) queueParam = text.slice(5)
    else userParam = transfer
  }
  let target: { readonly kind: "user" | "queue"; readonly id: number }
  if (isset(userParam)) {
    const id = Php.intval(userParam)
    if (id <= 0) return fail(PortalError.UserIdEmpty)
    target = { kind: "user", id }
  } else if (isset(queueParam)) {
    const id = Php.intval(queueParam)
    if (id <= 0) return fail(PortalError.QueueIdEmpty)
    target = { kind: "queue", id }
  } else {
    return fail(PortalError.TransferIdEmpty)
  }
  const chat = checkAccess(context, chatId)
  if (isOutcome(chat)) return fail(PortalError.OperatorWrong)
  const { portal, userId } = context
  if (target.kind === "user" && target.id === userId) return fail(PortalError.OperatorWrong) // SELF_TRANSFER_FAIL
  const session = Portal.runningSession(portal, chat.id)
  if (session === undefined) return fail(PortalError.OperatorWrong)
  if (target.kind === "queue") {
    const line = portal.lines.get(target.id)
    if (line === undefined) return fail(PortalError.OperatorWrong)
    const from = session.lineId === undefined ? undefined : portal.lines.get(session.lineId)
    const next = Portal.nextInQueue(portal, line.id, 0, [userId])
    Portal.removeOperators(portal, chat)
    chat.lineId = line.id
    chat.authorId = 0
    session.lineId = line.id
    session.operatorId = next ?? 0
    session.status = Portal.SessionStatus.NEW
    session.pinned = false
    if (next !== undefined) Portal.addMember(portal, chat, next, { silent: true })
    Portal.postSystemMessage(
      portal,
      chat.id,
      userId,
      `${Portal.mention(userId)} redirected conversation from queue "${from?.name ?? ""}" to queue "${line.name}"`
    )
    return succeed(true)
  }
  if (!Portal.isOperatorCandidate(portal, target.id)) return fail(PortalError.OperatorWrong)
  Portal.removeOperators(portal, chat)
  chat.authorId = 0
  session.operatorId = target.id
  session.pinned = false
  Portal.addMember(portal, chat, target.id, { silent: true })
  Portal.postSystemMessage(
    portal,
    chat.id,
    userId,
    `${Portal.mention(userId)} transfered conversation to ${Portal.mention(target.id)}`
  )
  return succeed(true)
}

/**
 * The operator handlers, by declaration.
 *
 * @since 0.1.0
 * @category handlers
 */
export const handlers: ReadonlyArray<readonly [Method.Any, Handler]> = [
  [ImOpenLines.operatorAnswer, operatorAnswer],
  [ImOpenLines.operatorSkip, operatorSkip],
  [ImOpenLines.operatorSpam, operatorSpam],
  [ImOpenLines.operatorFinish, finish(false)],
  [ImOpenLines.operatorAnotherFinish, finish(true)],
  [ImOpenLines.operatorTransfer, operatorTransfer]
]
