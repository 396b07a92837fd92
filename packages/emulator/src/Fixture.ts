/**
 * The emulator's fixture format: the portal's users, open lines, chats, sessions, messages and credentials, as JSON.
 * `defaultFixture` uses the example IDs of the seed pages and of the documentation pages, so their requests work
 * verbatim.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as Credentials from "./Credentials.js"

const UserId = Schema.Int.pipe(Schema.positive())

/**
 * A portal user. `admin` users pass every open-line permission check; `extranet` and inactive users are refused
 * where the portal refuses them. `connector` marks the client of an external channel (the guest of a live chat, a
 * Telegram user): such users sit in the open-line chats but never operate them. `crmAccess` lists the CRM entities
 * the user may open, as `TYPE|ID` (`LEAD|1205`): access to the entity a chat is bound to lets a user join it
 * without a line permission (wire sheet §7.4).
 *
 * @since 0.1.0
 * @category schemas
 */
export const User = Schema.Struct({
  id: UserId,
  name: Schema.String,
  admin: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  active: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  extranet: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  connector: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  crmAccess: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] })
})

/**
 * An open line (a queue configuration, its ID is the `CONFIG_ID` / `QUEUE_ID`) with its operator queue in order
 * (`queue`: where `imopenlines.operator.skip` and transfers to the line send a dialog) and its per-line rights: who
 * may join its dialogs (`join`), vote as a supervisor (`voteHead`) and view other operators' history
 * (`historyView`), as user ID lists (wire sheet §7.4).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Line = Schema.Struct({
  id: Schema.Int.pipe(Schema.positive()),
  name: Schema.String,
  queue: Schema.optionalWith(Schema.Array(UserId), { default: () => [] }),
  join: Schema.optionalWith(Schema.Array(UserId), { default: () => [] }),
  voteHead: Schema.optionalWith(Schema.Array(UserId), { default: () => [] }),
  historyView: Schema.optionalWith(Schema.Array(UserId), { default: () => [] })
})

/**
 * A chat. `type` is the messenger's chat type: `L` open-line (operator side), `C` closed group, `O` open group,
 * `P` private dialog. Open-line chats carry `entityType: "LINES"`, the USER_CODE as `entityId` and their `lineId`
 * (taken from the USER_CODE when absent); project chats carry `entityType: "SONET_GROUP"` and the group ID as
 * `entityId` (wire sheet §7.1). `authorId` is the chat's `AUTHOR_ID`, the operator who answered the running dialog
 * (0: nobody yet); it defaults to the operator of the chat's running session. `crm` is the CRM entity the dialog is
 * bound to (`ENTITY_DATA_1`/`ENTITY_DATA_2`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Chat = Schema.Struct({
  id: Schema.Int.pipe(Schema.positive()),
  type: Schema.Literal("L", "C", "O", "P"),
  title: Schema.String,
  entityType: Schema.optionalWith(Schema.String, { default: () => "" }),
  entityId: Schema.optionalWith(Schema.String, { default: () => "" }),
  lineId: Schema.optional(Schema.Int),
  members: Schema.optionalWith(Schema.Array(UserId), { default: () => [] }),
  muted: Schema.optionalWith(Schema.Array(UserId), { default: () => [] }),
  silent: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  authorId: Schema.optional(Schema.Int.pipe(Schema.nonNegative())),
  crm: Schema.optional(Schema.Struct({ entityType: Schema.String, entityId: Schema.Int.pipe(Schema.positive()) }))
})

/**
 * An open-line session. Status codes as the portal's (wire sheet §7.1): 0 NEW, 5 SKIP, 10 ANSWER, 20 CLIENT,
 * 25 CLIENT_AFTER_OPERATOR, 40 OPERATOR, 50 WAIT_CLIENT, 60 CLOSE, 65 SPAM, 69 DUPLICATE, 75 SILENTLY_CLOSE.
 * `pinned` is the PAUSE flag of wire sheet §7.3; `voteHead` (0-5) and `commentHead` the supervisor's rating and
 * comment (wire sheet §6.9). `operatorId` 0 is a session waiting in the queue.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Session = Schema.Struct({
  id: Schema.Int.pipe(Schema.positive()),
  chatId: Schema.Int.pipe(Schema.positive()),
  operatorId: Schema.Int.pipe(Schema.nonNegative()),
  status: Schema.optionalWith(Schema.Int, { default: () => 20 }),
  pinned: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  voteHead: Schema.optionalWith(Schema.Int.pipe(Schema.between(0, 5)), { default: () => 0 }),
  commentHead: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null })
})

/**
 * A message already in a chat, in the session it belongs to (`sessionId`; absent for chats without sessions).
 * `authorId` 0 is the system; `system` marks the portal's own notices.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Message = Schema.Struct({
  id: Schema.Int.pipe(Schema.positive()),
  chatId: Schema.Int.pipe(Schema.positive()),
  authorId: Schema.Int.pipe(Schema.nonNegative()),
  text: Schema.String,
  system: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  sessionId: Schema.optional(Schema.Int.pipe(Schema.positive()))
})

/**
 * A connector an application registered (`imconnector.register`, docs/bitrix24-events.md §5.2), active on
 * `activeLines`. The default fixture has one, so the connector methods' examples run on a fresh portal.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Connector = Schema.Struct({
  id: Schema.String.pipe(Schema.pattern(/^[a-z0-9_]{1,64}$/)),
  clientId: Schema.String,
  name: Schema.String,
  placementHandler: Schema.optionalWith(Schema.String, { default: () => "https://connector.example.com/settings" }),
  activeLines: Schema.optionalWith(Schema.Array(Schema.Int.pipe(Schema.positive())), { default: () => [] }),
  /**
   * Outside chats already mapped: the outside chat and user IDs, the line, and the open-line chat of the fixture
   * (whose only member is the portal user made for the outside user).
   */
  chats: Schema.optionalWith(
    Schema.Array(Schema.Struct({
      chatId: Schema.String,
      outsideUserId: Schema.String,
      line: Schema.Int.pipe(Schema.positive()),
      portalChatId: Schema.Int.pipe(Schema.positive())
    })),
    { default: () => [] }
  )
})

/**
 * An inbound webhook: the user it acts as, its secret code and its scopes. A missing code is generated at start.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Webhook = Schema.Struct({
  userId: UserId,
  code: Schema.optional(Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9_-]{4,64}$/))),
  scopes: Schema.optionalWith(Schema.Array(Schema.String), { default: () => ["imopenlines", "im"] })
})

/**
 * A whole portal.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Fixture = Schema.Struct({
  domain: Schema.optionalWith(Schema.String, { default: () => "emulator.bitrix24.local" }),
  users: Schema.Array(User),
  lines: Schema.optionalWith(Schema.Array(Line), { default: () => [] }),
  chats: Schema.optionalWith(Schema.Array(Chat), { default: () => [] }),
  sessions: Schema.optionalWith(Schema.Array(Session), { default: () => [] }),
  messages: Schema.optionalWith(Schema.Array(Message), { default: () => [] }),
  webhooks: Schema.optionalWith(Schema.Array(Webhook), { default: () => [] }),
  /** OAuth applications (wire sheet §4); one default local app when absent (see `Credentials.Application`). */
  applications: Schema.optionalWith(Schema.Array(Credentials.Application), {
    default: () => [Credentials.defaultApplication]
  }),
  /** Registered connectors (docs/bitrix24-events.md §5); none when absent. */
  connectors: Schema.optionalWith(Schema.Array(Connector), { default: () => [] })
})

/**
 * @since 0.1.0
 * @category models
 */
export type Fixture = typeof Fixture.Type

/**
 * The default portal, built around the example IDs of the seed pages and of the open-lines documentation pages:
 * - user 1 (admin, owner of the first inbound webhook) is the operator of the sessions in open-line chats 2043
 *   (session 321, bound to lead 1205), 2024 (322), 494 (323, closed) and 1763 (343, line 22), and a member of group
 *   chat 1489;
 * - user 2 is a second operator (open-line chat 2050, session 324, is his; he also ran the closed session 1743 of
 *   chat 1373), user 3 has no open-lines rights, user 4 supervises line 1 (join, supervisor vote, history view),
 *   user 11 is an extranet user, user 12 is deactivated, user 14 may open lead 1205 in the CRM (and so chat 2043)
 *   without any line permission, user 15 is a third operator (queues of lines 1 and 2);
 * - open-line chat 2060 waits in the queue (session 325, no operator yet);
 * - the clients (connector users) are 5-9, 211 and 587; the USER_CODEs are `livechat|<line>|<chat>|<client>`, e.g.
 *   `livechat|1|2043|5` and the documentation's `livechat|22|1761|587` (chat 1763) and `livechat|1|1373|211`;
 * - lines: 1 "Website chat" (queue 1, 2, 15), 2 "Telegram support" (queue 15, 2), 22 "Bitrix24 Documentation";
 * - project chat 1500 belongs to project (sg) 7; private chat 1600 is user 1's dialog with user 2;
 * - every session has messages; message 18971 (chat 2043) is the documentation's example for
 *   `imopenlines.message.session.start`.
 *
 * @since 0.1.0
 * @category fixtures
 */
export const defaultFixture: typeof Fixture.Encoded = {
  domain: "emulator.bitrix24.local",
  users: [
    { id: 1, name: "Portal Admin", admin: true },
    { id: 2, name: "Second Operator" },
    { id: 3, name: "Employee Without Open-Lines Rights" },
    { id: 4, name: "Line Supervisor" },
    { id: 5, name: "Guest #5", connector: true },
    { id: 6, name: "Guest #6", connector: true },
    { id: 7, name: "Guest #7", connector: true },
    { id: 8, name: "Guest #8", connector: true },
    { id: 9, name: "Guest #9", connector: true },
    { id: 11, name: "Extranet Partner", extranet: true },
    { id: 12, name: "Former Operator", active: false },
    { id: 14, name: "Sales Manager", crmAccess: ["LEAD|1205"] },
    { id: 15, name: "Third Operator" },
    { id: 211, name: "Guest #211", connector: true },
    { id: 587, name: "John", connector: true },
    { id: 16, name: "Ann", connector: true }
  ],
  lines: [
    { id: 1, name: "Website chat", queue: [1, 2, 15], join: [1, 2, 4, 15], voteHead: [4], historyView: [4] },
    { id: 2, name: "Telegram support", queue: [15, 2], join: [2, 15] },
    { id: 22, name: "Bitrix24 Documentation", queue: [1], join: [1] }
  ],
  chats: [
    {
      id: 2043,
      type: "L",
      title: "Website chat: client 5",
      entityType: "LINES",
      entityId: "livechat|1|2043|5",
      lineId: 1,
      members: [1, 5],
      crm: { entityType: "LEAD", entityId: 1205 }
    },
    {
      id: 2024,
      type: "L",
      title: "Website chat: client 6",
      entityType: "LINES",
      entityId: "livechat|1|2024|6",
      lineId: 1,
      members: [1, 6]
    },
    {
      id: 494,
      type: "L",
      title: "Website chat: client 7",
      entityType: "LINES",
      entityId: "livechat|1|494|7",
      lineId: 1,
      members: [1, 7]
    },
    {
      id: 2050,
      type: "L",
      title: "Website chat: client 8",
      entityType: "LINES",
      entityId: "livechat|1|2050|8",
      lineId: 1,
      members: [2, 8]
    },
    {
      id: 2060,
      type: "L",
      title: "Website chat: client 9",
      entityType: "LINES",
      entityId: "livechat|1|2060|9",
      lineId: 1,
      members: [9]
    },
    {
      id: 1373,
      type: "L",
      title: "Guest #211 - Website chat",
      entityType: "LINES",
      entityId: "livechat|1|1373|211",
      lineId: 1,
      members: [211]
    },
    {
      id: 1763,
      type: "L",
      title: "John - Bitrix24 Documentation",
      entityType: "LINES",
      entityId: "livechat|22|1761|587",
      lineId: 22,
      members: [1, 587]
    },
    {
      id: 2100,
      type: "L",
      title: "Ann - Website chat",
      entityType: "LINES",
      entityId: "demo_connector|1|chat-1|16",
      lineId: 1,
      members: [16]
    },
    { id: 1489, type: "C", title: "Support team", members: [1, 2, 3] },
    {
      id: 1500,
      type: "C",
      title: "Project: Website relaunch",
      entityType: "SONET_GROUP",
      entityId: "7",
      members: [1, 2]
    },
    { id: 1600, type: "P", title: "", members: [1, 2] }
  ],
  sessions: [
    { id: 321, chatId: 2043, operatorId: 1, status: 20 },
    { id: 322, chatId: 2024, operatorId: 1, status: 20 },
    { id: 323, chatId: 494, operatorId: 1, status: 60 },
    { id: 324, chatId: 2050, operatorId: 2, status: 20 },
    { id: 325, chatId: 2060, operatorId: 0, status: 0 },
    { id: 343, chatId: 1763, operatorId: 1, status: 40 },
    { id: 1743, chatId: 1373, operatorId: 2, status: 60 }
  ],
  messages: [
    { id: 18960, chatId: 2043, authorId: 0, system: true, sessionId: 321, text: "[b]A new lead has been created[/b]" },
    { id: 18971, chatId: 2043, authorId: 5, sessionId: 321, text: "Hello! How do I add observers to a task?" },
    { id: 18972, chatId: 2043, authorId: 1, sessionId: 321, text: "Open the task card and click Observers" },
    { id: 18980, chatId: 2024, authorId: 6, sessionId: 322, text: "Hi, has my order shipped yet?" },
    { id: 18990, chatId: 494, authorId: 7, sessionId: 323, text: "Thanks, that is all." },
    { id: 18991, chatId: 494, authorId: 1, sessionId: 323, text: "You are welcome!" },
    { id: 19000, chatId: 2050, authorId: 8, sessionId: 324, text: "Hello? Is anybody there?" },
    { id: 19010, chatId: 2060, authorId: 9, sessionId: 325, text: "Can someone help me with a refund?" },
    { id: 17001, chatId: 1373, authorId: 211, sessionId: 1743, text: "Is the store open on Sunday?" },
    { id: 17002, chatId: 1373, authorId: 2, sessionId: 1743, text: "Yes, from 10 to 16." },
    { id: 86300, chatId: 1763, authorId: 587, sessionId: 343, text: "Hello, I cannot find the Observers button" },
    { id: 86313, chatId: 1763, authorId: 1, sessionId: 343, text: "It is in the task card, under the deadline" }
  ],
  webhooks: [
    { userId: 1, scopes: ["imopenlines", "im"] },
    { userId: 2, scopes: ["imopenlines", "im"] },
    { userId: 3, scopes: ["imopenlines", "im"] },
    { userId: 4, scopes: ["imopenlines", "im"] },
    { userId: 11, scopes: ["imopenlines", "im"] },
    { userId: 14, scopes: ["imopenlines", "im"] },
    { userId: 15, scopes: ["imopenlines", "im"] }
  ],
  // The examples of the imconnector.* declarations use this connector of the default application, active on line 1.
  connectors: [
    {
      id: "demo_connector",
      clientId: "local.b24emulator.000001",
      name: "Demo connector",
      activeLines: [1],
      chats: [{ chatId: "chat-1", outsideUserId: "customer-1", line: 1, portalChatId: 2100 }]
    }
  ]
}
