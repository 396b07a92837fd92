/**
 * The emulator's fixture format: the portal's users, open lines, chats, sessions and credentials, as JSON.
 * `defaultFixture` uses the example IDs of the seed pages so their requests work verbatim.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

const UserId = Schema.Int.pipe(Schema.positive())

/**
 * A portal user. `admin` users pass every open-line permission check; `extranet` and inactive users are refused
 * where the portal refuses them.
 *
 * @since 0.1.0
 * @category schemas
 */
export const User = Schema.Struct({
  id: UserId,
  name: Schema.String,
  admin: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  active: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  extranet: Schema.optionalWith(Schema.Boolean, { default: () => false })
})

/**
 * An open line (a queue configuration) with its per-line rights: who may join its dialogs (`join`), vote as a
 * supervisor (`voteHead`) and view other operators' history (`historyView`), as user ID lists (wire sheet §7.4).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Line = Schema.Struct({
  id: Schema.Int.pipe(Schema.positive()),
  name: Schema.String,
  join: Schema.optionalWith(Schema.Array(UserId), { default: () => [] }),
  voteHead: Schema.optionalWith(Schema.Array(UserId), { default: () => [] }),
  historyView: Schema.optionalWith(Schema.Array(UserId), { default: () => [] })
})

/**
 * A chat. `type` is the messenger's chat type: `L` open-line (operator side), `C` closed group, `O` open group,
 * `P` private dialog. Open-line chats carry `entityType: "LINES"`, the USER_CODE as `entityId` and their `lineId`;
 * project chats carry `entityType: "SONET_GROUP"` and the group ID as `entityId` (wire sheet §7.1).
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
  silent: Schema.optionalWith(Schema.Boolean, { default: () => false })
})

/**
 * An open-line session. Status codes as the portal's (wire sheet §7.1): 0 NEW, 5 SKIP, 10 ANSWER, 20 CLIENT,
 * 25 CLIENT_AFTER_OPERATOR, 40 OPERATOR, 50 WAIT_CLIENT, 60 CLOSE, 65 SPAM, 69 DUPLICATE, 75 SILENTLY_CLOSE.
 * `pinned` is the PAUSE flag of wire sheet §7.3.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Session = Schema.Struct({
  id: Schema.Int.pipe(Schema.positive()),
  chatId: Schema.Int.pipe(Schema.positive()),
  operatorId: Schema.Int.pipe(Schema.nonNegative()),
  status: Schema.optionalWith(Schema.Int, { default: () => 20 }),
  pinned: Schema.optionalWith(Schema.Boolean, { default: () => false })
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
  webhooks: Schema.optionalWith(Schema.Array(Webhook), { default: () => [] })
})

/**
 * @since 0.1.0
 * @category models
 */
export type Fixture = typeof Fixture.Type

/**
 * The default portal, built around the seed pages' example IDs:
 * - user 1 (admin, owner of the first inbound webhook) is the operator of the sessions in open-line chats 2043,
 *   2024 and 494, and a member of group chat 1489;
 * - user 2 is a second operator (open-line chat 2050 is his), user 3 has no open-lines rights;
 * - project chat 1500 belongs to project (sg) 7; private chat 1600 is user 1's dialog with user 2.
 *
 * @since 0.1.0
 * @category fixtures
 */
export const defaultFixture: typeof Fixture.Encoded = {
  domain: "emulator.bitrix24.local",
  users: [
    { id: 1, name: "Portal Admin", admin: true },
    { id: 2, name: "Second Operator" },
    { id: 3, name: "Employee Without Open-Lines Rights" }
  ],
  lines: [{ id: 1, name: "Website chat", join: [1, 2], voteHead: [1], historyView: [1] }],
  chats: [
    {
      id: 2043,
      type: "L",
      title: "Website chat: client 5",
      entityType: "LINES",
      entityId: "livechat|1|2043|5",
      lineId: 1,
      members: [1]
    },
    {
      id: 2024,
      type: "L",
      title: "Website chat: client 6",
      entityType: "LINES",
      entityId: "livechat|1|2024|6",
      lineId: 1,
      members: [1]
    },
    {
      id: 494,
      type: "L",
      title: "Website chat: client 7",
      entityType: "LINES",
      entityId: "livechat|1|494|7",
      lineId: 1,
      members: [1]
    },
    {
      id: 2050,
      type: "L",
      title: "Website chat: client 8",
      entityType: "LINES",
      entityId: "livechat|1|2050|8",
      lineId: 1,
      members: [2]
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
    { id: 324, chatId: 2050, operatorId: 2, status: 20 }
  ],
  webhooks: [
    { userId: 1, scopes: ["imopenlines", "im"] },
    { userId: 2, scopes: ["imopenlines", "im"] },
    { userId: 3, scopes: ["imopenlines", "im"] }
  ]
}
