/**
 * Fires the session events as sessions change, whichever method changed them (docs/bitrix24-events.md §4):
 * `ONSESSIONSTART` and `ONIMCONNECTORDIALOGSTART` for a new session, `ONSESSIONFINISH` and
 * `ONIMCONNECTORDIALOGFINISH` for a session that closed, in chats of a custom connector, to the application that
 * registered the connector only. After each successful call the sessions are compared with the ones seen before;
 * nothing is scanned while no application binds these events, and changes made then fire nothing later.
 *
 * @internal
 */
import * as Connectors from "../Connectors.js"
import * as EventBus from "../EventBus.js"
import * as Portal from "../Portal.js"
import type { Instance } from "./instance.js"

const events = ["ONSESSIONSTART", "ONSESSIONFINISH", "ONIMCONNECTORDIALOGSTART", "ONIMCONNECTORDIALOGFINISH"]

/** A session counts as closed from status 60 (CLOSE) on, or once it has a closing time (wire sheet §7.1). */
const isClosed = (session: Portal.Session) =>
  session.closedAt !== undefined || session.status >= Portal.SessionStatus.CLOSE

/**
 * Records the portal's current sessions as seen (at start and after a reset), firing nothing.
 *
 * @internal
 */
export const remember = (instance: Instance): void => {
  instance.sessions.seen.clear()
  for (const session of instance.portal.sessions.values()) instance.sessions.seen.set(session.id, isClosed(session))
}

/**
 * Compares the sessions with the ones seen and fires the events of the changes.
 *
 * @internal
 */
export const observe = (instance: Instance, userId: number): void => {
  const { seen } = instance.sessions
  if (!events.some((e) => EventBus.isBound(instance.events, e))) {
    // Nobody listens: take a fresh look (firing nothing) once somebody binds.
    instance.sessions.watching = false
    return
  }
  if (!instance.sessions.watching) {
    instance.sessions.watching = true
    return remember(instance)
  }
  for (const session of instance.portal.sessions.values()) {
    const closed = isClosed(session)
    const before = seen.get(session.id)
    seen.set(session.id, closed)
    if (before === closed) continue
    if (before === undefined && closed) continue
    const outside = Connectors.byPortalChat(instance.connectors, session.chatId)
    const connector = outside === undefined ? undefined : instance.connectors.connectors.get(outside.connector)
    if (outside === undefined || connector === undefined) continue
    const item = {
      connector: {
        connector_id: outside.connector,
        line_id: String(outside.line),
        chat_id: outside.chatId,
        user_id: outside.outsideUserId
      },
      session: {
        id: String(session.id),
        closed: closed ? "Y" : "N",
        parent_id: String(session.parentId ?? 0),
        close_term: "1440"
      },
      chat: { id: String(session.chatId) },
      user: { id: String(outside.userId) }
    }
    const only = { userId, only: [connector.clientId] }
    const start = before === undefined
    EventBus.emit(instance.events, start ? "ONSESSIONSTART" : "ONSESSIONFINISH", { DATA: [item] }, only)
    EventBus.emit(instance.events, start ? "ONIMCONNECTORDIALOGSTART" : "ONIMCONNECTORDIALOGFINISH", {
      CONNECTOR: outside.connector,
      LINE: String(outside.line),
      DATA: [item]
    }, only)
  }
}
