/**
 * The connector side of the emulated portal (docs/bitrix24-events.md §5): connectors registered per application, their
 * state per open line, the outside users and chats mapped to portal users and open-line chats, the outside message
 * IDs of each portal message, and the delivery and reading statuses operators see.
 *
 * Open-line chats made for an outside chat carry the USER_CODE `<connector>|<LINE>|<outside chat>|<portal user>`
 * (wire sheet §7.1), so the rest of the portal (sessions, operators, dialogs) treats them like any other.
 *
 * @since 0.1.0
 */
import type * as Fixture from "./Fixture.js"

/**
 * A registered connector (`imconnector.register`), owned by the application that registered it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Connector {
  readonly id: string
  readonly clientId: string
  name: string
  placementHandler: string
  flags: Record<string, boolean>
}

/**
 * A connector's state on one line (§5.2, §6 #12): `active`, `connection`, `register` and `error` flags and the
 * outside channel's data (`connector.data.set`, merged).
 *
 * @since 0.1.0
 * @category models
 */
export interface LineState {
  readonly connector: string
  readonly line: number
  active: boolean
  connection: boolean
  register: boolean
  error: boolean
  readonly data: Record<string, string>
}

/**
 * An outside chat of an outside user, mapped to the portal user made for them and the open-line chat.
 *
 * @since 0.1.0
 * @category models
 */
export interface OutsideChat {
  readonly connector: string
  readonly line: number
  readonly chatId: string
  readonly outsideUserId: string
  readonly userId: number
  readonly portalChatId: number
}

/**
 * A portal message of a connector's chat: its outside IDs (the customer's own ID for an inbound message; the IDs the
 * application acknowledged for an operator's message) and the statuses operators see.
 *
 * @since 0.1.0
 * @category models
 */
export interface MessageLink {
  readonly messageId: number
  readonly connector: string
  readonly line: number
  readonly outsideChatId: string
  readonly direction: "inbound" | "outbound"
  outsideIds: Array<string>
  delivered: boolean
  read: boolean
  deleted: boolean
}

/**
 * The connector state of one portal.
 *
 * @since 0.1.0
 * @category models
 */
export interface State {
  readonly connectors: Map<string, Connector>
  readonly lines: Map<string, LineState>
  readonly chats: Array<OutsideChat>
  readonly messages: Map<number, MessageLink>
}

/**
 * The key of a connector's line state.
 *
 * @since 0.1.0
 * @category lookups
 */
export const lineKey = (connector: string, line: number): string => `${connector}|${line}`

/**
 * A connector's state on a line, made (all flags off) on first use.
 *
 * @since 0.1.0
 * @category lookups
 */
export const lineState = (state: State, connector: string, line: number): LineState => {
  const key = lineKey(connector, line)
  let found = state.lines.get(key)
  if (found === undefined) {
    found = { connector, line, active: false, connection: false, register: false, error: false, data: {} }
    state.lines.set(key, found)
  }
  return found
}

/**
 * The outside chat behind a portal chat, if the chat belongs to a connector.
 *
 * @since 0.1.0
 * @category lookups
 */
export const byPortalChat = (state: State, portalChatId: number): OutsideChat | undefined =>
  state.chats.find((chat) => chat.portalChatId === portalChatId)

/**
 * The state the fixture declares: its connectors, each active on its lines.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (fixture: Fixture.Fixture): State => {
  const state: State = { connectors: new Map(), lines: new Map(), chats: [], messages: new Map() }
  for (const connector of fixture.connectors) {
    state.connectors.set(connector.id, {
      id: connector.id,
      clientId: connector.clientId,
      name: connector.name,
      placementHandler: connector.placementHandler,
      flags: {}
    })
    for (const line of connector.activeLines) {
      const found = lineState(state, connector.id, line)
      found.active = true
      found.connection = true
      found.register = true
    }
    for (const chat of connector.chats) {
      const member = fixture.chats.find((c) => c.id === chat.portalChatId)?.members[0] ?? 0
      state.chats.push({
        connector: connector.id,
        line: chat.line,
        chatId: chat.chatId,
        outsideUserId: chat.outsideUserId,
        userId: member,
        portalChatId: chat.portalChatId
      })
    }
  }
  return state
}

/**
 * Replaces the state in place with the fixture's (so references held elsewhere see it).
 *
 * @since 0.1.0
 * @category constructors
 */
export const reset = (state: State, fixture: Fixture.Fixture): void => {
  const fresh = make(fixture)
  state.connectors.clear()
  for (const [key, value] of fresh.connectors) state.connectors.set(key, value)
  state.lines.clear()
  for (const [key, value] of fresh.lines) state.lines.set(key, value)
  state.chats.splice(0, state.chats.length, ...fresh.chats)
  state.messages.clear()
}
