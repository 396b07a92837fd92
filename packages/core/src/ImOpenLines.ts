/**
 * The open-lines methods (scope `imopenlines`): the session family (`imopenlines.session.*`), the dialog and message
 * helpers (`imopenlines.dialog.get`, `imopenlines.message.session.start`, `imopenlines.crm.lead.create`) and the
 * operator actions (`imopenlines.operator.*`), with the result models of the methods that answer objects.
 *
 * Params, results, errors and semantics: seeds/000-002, 004 and docs/bitrix24-wire.md §6.0-§6.13, §7 and §8. Where
 * the old documentation pages (≤ 2025-08) and the new ones (2026-03) disagree, the new page is followed and the
 * declaration's docstring says so (wire sheet §8.7).
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as Method from "./Method.js"
import * as PortalError from "./PortalError.js"
import * as Wire from "./Wire.js"

const chatId = Wire.Id.annotations({
  description: "Identifier of the open-line chat (from imopenlines.session.open or imopenlines.dialog.get)"
})

/**
 * The four checks every open-lines method that takes a `CHAT_ID` runs first (`Operator::checkAccess`, wire sheet
 * §6.0): `CHAT_ID`, `CHAT_TYPE`, `ACCESS_DENIED` and `USER_ID`, all HTTP 400.
 *
 * @since 0.1.0
 * @category errors
 */
export const accessErrors = [
  PortalError.ChatIdInvalid,
  PortalError.ChatTypeInvalid,
  PortalError.AccessDenied,
  PortalError.UserIdInvalid
] as const

/**
 * `imopenlines.session.mode.silent`: switches silent ("whisper") mode of an open-line dialog on or off. While on,
 * operator messages are not forwarded to the client's connector (wire sheet §7.2).
 *
 * - Params: `CHAT_ID` (positive integer, required); `ACTIVATE` (boolean, wire `"Y"`/`"N"`, default `N`). Only the
 *   exact string `"Y"` switches it on; JSON `true` would switch it off, which is why the flag is always sent as a
 *   string (wire sheet §1.3).
 * - Result: `true`.
 * - Errors: `CHAT_ID`, `CHAT_TYPE`, `ACCESS_DENIED`, `USER_ID` (all 400).
 * - Idempotent: setting the same state twice leaves it as once (no second system message).
 * - Deprecated by the portal: "Development of the method has been halted, but it continues to function".
 *
 * Source: seeds/000 and seeds/001; wire sheet §6.1.
 *
 * @since 0.1.0
 * @category methods
 */
export const sessionModeSilent = Method.make({
  method: "imopenlines.session.mode.silent",
  scope: "imopenlines",
  summary: "Switch the dialog to silent mode, or back",
  description: "Enables or disables silent messaging mode in an open-line dialog. Only ACTIVATE=Y enables it; " +
    "anything else, or no ACTIVATE, disables it.",
  source: "seeds/000, seeds/001; docs/bitrix24-wire.md §6.1, §7.2",
  params: {
    CHAT_ID: chatId,
    ACTIVATE: Schema.optionalWith(
      Wire.YesNo.annotations({ description: "Y switches silent mode on, N off", default: false }),
      { exact: true }
    )
  },
  result: Schema.Boolean,
  errors: accessErrors,
  invalid: { CHAT_ID: { invalid: PortalError.ChatIdInvalid } },
  idempotent: true,
  example: { CHAT_ID: 2043, ACTIVATE: true },
  deprecated: "Development of the method has been halted, but it continues to function (seeds/001)."
})

/**
 * `imopenlines.session.mode.pin`: pins the dialog to its current operator (no auto-close or re-queue; auto-close
 * moves a week ahead) or unpins it (wire sheet §7.3).
 *
 * - Params: `CHAT_ID` (positive integer, required); `ACTIVATE` (boolean, wire `"Y"`/`"N"`, default `Y`). The old
 *   page (seeds/002) said default `N`; the new page and the server (`ACTIVATE !== 'N'` pins) say `Y`, which is
 *   followed here (wire sheet §6.2, §8.7).
 * - Result: `true`.
 * - Errors: `CHAT_ID_EMPTY`, `CHAT_ID`, `CHAT_TYPE`, `ACCESS_DENIED`, `USER_ID`, and `ERROR_USER_NOT_OPERATOR` when
 *   the caller is not the session's operator (seeds/002; the server may send that case with an empty code, which
 *   arrives as `UnknownPortalError`).
 * - Idempotent: pinning a pinned dialog is a no-op.
 *
 * Source: seeds/002; wire sheet §6.2, §7.3.
 *
 * @since 0.1.0
 * @category methods
 */
export const sessionModePin = Method.make({
  method: "imopenlines.session.mode.pin",
  scope: "imopenlines",
  summary: "Pin the dialog to the current operator, or unpin it",
  description: "Pins or unpins the dialog for the current operator. ACTIVATE=N unpins; anything else, or no " +
    "ACTIVATE, pins (the new page's default Y; the old page said N). Only the session's operator may pin.",
  source: "seeds/002; docs/bitrix24-wire.md §6.2, §7.3, §8.7",
  params: {
    CHAT_ID: chatId,
    ACTIVATE: Schema.optionalWith(
      Wire.YesNo.annotations({ description: "Y pins the dialog, N unpins it", default: true }),
      { exact: true }
    )
  },
  result: Schema.Boolean,
  errors: [PortalError.ChatIdEmpty, ...accessErrors, PortalError.UserNotOperator],
  invalid: { CHAT_ID: { missing: PortalError.ChatIdEmpty, invalid: PortalError.ChatIdInvalid } },
  idempotent: true,
  example: { CHAT_ID: 2024, ACTIVATE: true }
})

/**
 * `imopenlines.session.start`: starts a new session in the open-line chat with the caller as operator, or joins the
 * caller to the running one (wire sheet §6.4).
 *
 * - Params: `CHAT_ID` (positive integer, required).
 * - Result: `true`.
 * - Errors: `CHAT_ID`, `CHAT_TYPE`, `ACCESS_DENIED`, `USER_ID` (all 400).
 * - Not idempotent: it may create a session and post system messages, so an ambiguous failure is not replayed.
 *
 * Source: seeds/004; wire sheet §6.4.
 *
 * @since 0.1.0
 * @category methods
 */
export const sessionStart = Method.make({
  method: "imopenlines.session.start",
  scope: "imopenlines",
  summary: "Start a new dialog (session) in an open-line chat",
  description: "Starts a session in the open-line chat with the caller as its operator; when a session is already " +
    "running, the caller joins it.",
  source: "seeds/004; docs/bitrix24-wire.md §6.4",
  params: { CHAT_ID: chatId },
  result: Schema.Boolean,
  errors: accessErrors,
  invalid: { CHAT_ID: { invalid: PortalError.ChatIdInvalid } },
  idempotent: false,
  example: { CHAT_ID: 494 }
})

// ---------------------------------------------------------------------------------------------------------------
// Wire building blocks of the params and results below
// ---------------------------------------------------------------------------------------------------------------

/** The rest of an object the portal sends: kept as received, so keys a newer portal adds never fail decoding. */
const rest = Schema.Record({ key: Schema.String, value: Schema.Unknown })

const numeric = Wire.Numeric

/** A number the portal usually sends as a decimal string (database values). Encodes back as a string. */
const numericText = Schema.Union(Schema.NumberFromString, Schema.Number)

const phpMap = Wire.phpMap

/**
 * A USER_CODE: `<connector>|<LINE_ID>|<CONNECTOR_CHAT_ID>|<CONNECTOR_USER_ID>`, e.g. `livechat|1|2043|5` (wire
 * sheet §6.5, §7.1).
 */
const userCodePattern = /^[^|]+\|\d+\|[^|]*\|[^|]*$/

const userCode = Schema.String.pipe(
  Schema.pattern(userCodePattern, {
    message: () => "must be <connector>|<LINE_ID>|<CONNECTOR_CHAT_ID>|<CONNECTOR_USER_ID>"
  })
)

/** Free text that may arrive as a JSON number (PHP reads both); the typed side is a string. */
const text = Schema.Union(
  Schema.String,
  Schema.transform(Schema.Number, Schema.String, { strict: true, decode: (n) => String(n), encode: (s) => Number(s) })
).annotations({ [Wire.KindAnnotationId]: "text" })

// ---------------------------------------------------------------------------------------------------------------
// Result models
// ---------------------------------------------------------------------------------------------------------------

/**
 * The result of `imopenlines.session.open`: `{ "chatId": "1763" }`. The portal sends the ID as a string (its database
 * value; the new page's table says integer, its own example shows a string: wire sheet §6.5, §8.8); both forms decode
 * to a number, and the string form is what is encoded back.
 *
 * @since 0.1.0
 * @category models
 */
export const SessionOpenResult = Schema.Struct({
  chatId: numericText.pipe(Schema.compose(Schema.Int))
}, rest).annotations({ identifier: "SessionOpenResult" })

/**
 * @since 0.1.0
 * @category models
 */
export type SessionOpenResult = typeof SessionOpenResult.Type

/**
 * The result of `imopenlines.session.mode.pinAll` and `.unpinAll`: the IDs of the sessions that changed, e.g.
 * `[339, 337]`, or `[]` (wire sheet §6.3).
 *
 * @since 0.1.0
 * @category models
 */
export const SessionIds = Schema.Array(numeric).annotations({ identifier: "SessionIds" })

/**
 * One message of `imopenlines.session.history.get` (keys lowercased by the portal's `objectEncode`: `chatid`,
 * `senderid`). IDs arrive as decimal strings and decode to numbers; `recipientid` is `chat<ID>`; `date` is ISO 8601;
 * `params` are the message's service params (`{}` when it has none). Other keys are kept as received.
 *
 * @since 0.1.0
 * @category models
 */
export const SessionHistoryMessage = Schema.Struct({
  id: numericText,
  chatid: numericText,
  senderid: numericText,
  recipientid: Schema.String,
  date: Schema.String,
  text: Schema.String,
  textlegacy: Schema.optional(Schema.String),
  params: Schema.optional(phpMap(Schema.Unknown))
}, rest).annotations({ identifier: "SessionHistoryMessage" })

/**
 * @since 0.1.0
 * @category models
 */
export type SessionHistoryMessage = typeof SessionHistoryMessage.Type

/**
 * One participant in `imopenlines.session.history.get`: `id` and `name` typed, the rest (`firstName`, `avatar`,
 * `extranet`, `connector`, `status`, `departments`, ...) kept as received.
 *
 * @since 0.1.0
 * @category models
 */
export const SessionHistoryUser = Schema.Struct({
  id: numericText,
  name: Schema.String
}, rest).annotations({ identifier: "SessionHistoryUser" })

/**
 * @since 0.1.0
 * @category models
 */
export type SessionHistoryUser = typeof SessionHistoryUser.Type

/**
 * The chat in `imopenlines.session.history.get` (camelCase keys): its ID, name, `entityType` (`LINES`), `entityId`
 * (the USER_CODE) and `entityData1..3` (session, CRM and silent-mode fields, wire sheet §7.1), the rest as received.
 *
 * @since 0.1.0
 * @category models
 */
export const SessionHistoryChat = Schema.Struct({
  id: numericText,
  name: Schema.String,
  entityType: Schema.optional(Schema.String),
  entityId: Schema.optional(Schema.String),
  entityData1: Schema.optional(Schema.String),
  entityData2: Schema.optional(Schema.String),
  entityData3: Schema.optional(Schema.String)
}, rest).annotations({ identifier: "SessionHistoryChat" })

/**
 * @since 0.1.0
 * @category models
 */
export type SessionHistoryChat = typeof SessionHistoryChat.Type

/**
 * The result of `imopenlines.session.history.get` (new page; wire sheet §6.8). Every key has passed the portal's
 * `objectEncode` (lowercased, camelized on `_`), which is why `openlines` holds `canvoteashead`.
 *
 * - `chatId`, `sessionId`: numbers; `userId`: `chat<ID>`.
 * - `canJoin`, `canVoteHead`: `Y`/`N` on the wire, booleans here.
 * - `sessionVoteHead`: the supervisor's rating (0 when none); `sessionCommentHead`: the supervisor's comment or `null`.
 * - `message`: messages by ID; `usersMessage`: `{ "chat<ID>": [message IDs] }`; `users`: participants by ID;
 *   `chat`: the chat by ID; `userInChat`: `{ "<chatId>": [user IDs] }`; `userBlockChat`: `{ "<chatId>": { "<userId>":
 *   blocked } }`; `openlines`: `{ canvoteashead: { "<CONFIG_ID>": boolean } }`; `userInGroup`: departments by ID;
 *   `files`: files by ID. Each of these maps may arrive as `[]` when empty (PHP) and decodes to `{}`.
 * - `woUserInGroup` and any other key: kept as received.
 *
 * @since 0.1.0
 * @category models
 */
export const SessionHistory = Schema.Struct({
  chatId: numeric,
  canJoin: Wire.YesNo,
  canVoteHead: Wire.YesNo,
  sessionId: numeric,
  sessionVoteHead: numeric,
  sessionCommentHead: Schema.NullOr(Schema.String),
  userId: Schema.String,
  message: phpMap(SessionHistoryMessage),
  usersMessage: phpMap(Schema.Array(numericText)),
  users: phpMap(SessionHistoryUser),
  openlines: phpMap(phpMap(Schema.Boolean)),
  userInGroup: phpMap(Schema.Struct({ id: numeric, users: Schema.Array(numericText) }, rest)),
  woUserInGroup: Schema.Unknown,
  chat: phpMap(SessionHistoryChat),
  userBlockChat: phpMap(phpMap(Schema.Boolean)),
  userInChat: phpMap(Schema.Array(numeric)),
  files: phpMap(Schema.Struct({ id: numeric }, rest))
}, rest).annotations({ identifier: "SessionHistory" })

/**
 * @since 0.1.0
 * @category models
 */
export type SessionHistory = typeof SessionHistory.Type

/**
 * The result of `imopenlines.dialog.get`: the messenger's chat object in snake_case plus `dialog_id` (new page;
 * wire sheet §6.12). Typed: the identity (`id`, `name`, `type` = `lines`, `entity_type` = `LINES`, `entity_id` = the
 * USER_CODE, `entity_data_1..3`, `dialog_id` = `chat<ID>`), the counters, `owner`, `message_type` (`L`), `role`,
 * `restrictions` and `permissions` (maps), `mute_list` (a map of user ID to muted, or a list of user IDs), `manager_list`
 * and `readed_list`. Every other key (`last_message_views`, `entity_link`, ...) is kept as received. Fields a portal
 * may leave out are optional.
 *
 * @since 0.1.0
 * @category models
 */
export const Dialog = Schema.Struct({
  id: numeric,
  name: Schema.String,
  type: Schema.String,
  entity_type: Schema.String,
  entity_id: Schema.String,
  entity_data_1: Schema.optional(Schema.String),
  entity_data_2: Schema.optional(Schema.String),
  entity_data_3: Schema.optional(Schema.String),
  dialog_id: Schema.String,
  parent_chat_id: Schema.optional(numeric),
  parent_message_id: Schema.optional(numeric),
  description: Schema.optional(Schema.NullOr(Schema.String)),
  owner: Schema.optional(numeric),
  extranet: Schema.optional(Schema.Boolean),
  avatar: Schema.optional(Schema.String),
  color: Schema.optional(Schema.String),
  counter: Schema.optional(numeric),
  user_counter: Schema.optional(numeric),
  message_count: Schema.optional(numeric),
  unread_id: Schema.optional(numeric),
  last_message_id: Schema.optional(numeric),
  last_id: Schema.optional(numeric),
  marked_id: Schema.optional(numeric),
  disk_folder_id: Schema.optional(numeric),
  restrictions: Schema.optional(phpMap(Schema.Boolean)),
  mute_list: Schema.optional(Schema.Union(phpMap(Schema.Boolean), Schema.Array(numeric))),
  date_create: Schema.optional(Schema.NullOr(Schema.String)),
  message_type: Schema.optional(Schema.String),
  public: Schema.optional(Schema.String),
  role: Schema.optional(Schema.String),
  text_field_enabled: Schema.optional(Schema.Boolean),
  permissions: Schema.optional(phpMap(Schema.String)),
  is_new: Schema.optional(Schema.Boolean),
  readed_list: Schema.optional(Schema.Array(Schema.Struct({
    user_id: numeric,
    user_name: Schema.optional(Schema.String),
    message_id: Schema.optional(numeric),
    date: Schema.optional(Schema.NullOr(Schema.String))
  }, rest))),
  manager_list: Schema.optional(Schema.Array(numeric))
}, rest).annotations({ identifier: "Dialog" })

/**
 * @since 0.1.0
 * @category models
 */
export type Dialog = typeof Dialog.Type

// ---------------------------------------------------------------------------------------------------------------
// The rest of the session family (wire sheet §6.2, §6.3, §6.5-§6.9)
// ---------------------------------------------------------------------------------------------------------------

/**
 * `imopenlines.session.mode.unpin`: unpins the dialog from its operator, like `imopenlines.session.mode.pin` with
 * `ACTIVATE=N`. **Undocumented**: registered on the server (`Rest::sessionUnpin`) but absent from both documentation
 * sites; its behaviour is read from the published source (wire sheet §6.2 "Undocumented sibling").
 *
 * - Params: `CHAT_ID` (positive integer, required; the portal reads the exact key `CHAT_ID`).
 * - Result: `true`, also when the dialog was not pinned.
 * - Errors: as pin: `CHAT_ID_EMPTY`, `CHAT_ID`, `CHAT_TYPE`, `ACCESS_DENIED`, `USER_ID`, `ERROR_USER_NOT_OPERATOR`
 *   (the source may send that last case with an empty code, which arrives as `UnknownPortalError`).
 * - Idempotent: unpinning sets a state.
 *
 * Source: wire sheet §6.2, §7.3.
 *
 * @since 0.1.0
 * @category methods
 */
export const sessionModeUnpin = Method.make({
  method: "imopenlines.session.mode.unpin",
  scope: "imopenlines",
  summary: "Unpin the dialog from the current operator (undocumented)",
  description: "Unpins the dialog from its operator, as imopenlines.session.mode.pin with ACTIVATE=N does. " +
    "Undocumented: the method is registered on the server but has no documentation page; its behaviour comes from " +
    "the published server source.",
  source: "docs/bitrix24-wire.md §6.2 (undocumented sibling), §7.3",
  params: { CHAT_ID: chatId },
  result: Schema.Boolean,
  errors: [PortalError.ChatIdEmpty, ...accessErrors, PortalError.UserNotOperator],
  invalid: { CHAT_ID: { missing: PortalError.ChatIdEmpty, invalid: PortalError.ChatIdInvalid } },
  idempotent: true,
  example: { CHAT_ID: 2024 }
})

/**
 * `imopenlines.session.mode.pinAll`: pins every active dialog of the caller (sessions where the caller is the
 * operator, not pinned, with a status from 10 ANSWER up to but excluding 50 WAIT_CLIENT; wire sheet §6.3, §7.1).
 *
 * - Params: none.
 * - Result: the IDs of the sessions pinned, e.g. `[339, 337]`; `[]` when there were none. Sessions whose pin failed
 *   are left out.
 * - Errors: only the system ones.
 * - Idempotent: a repeat finds nothing left to pin (it answers `[]`) and leaves the state as one call did.
 *
 * Source: wire sheet §6.3 (the new page; the old one showed no params section).
 *
 * @since 0.1.0
 * @category methods
 */
export const sessionModePinAll = Method.make({
  method: "imopenlines.session.mode.pinAll",
  scope: "imopenlines",
  summary: "Pin all active dialogs to the current operator",
  description: "Pins every active dialog (status 10 to 49) of which the caller is the operator and answers the IDs " +
    "of the sessions pinned ([] when none).",
  source: "docs/bitrix24-wire.md §6.3, §7.3",
  params: {},
  result: SessionIds,
  errors: [],
  idempotent: true,
  example: {}
})

/**
 * `imopenlines.session.mode.unpinAll`: unpins every pinned active dialog of the caller (the same selection as
 * {@link sessionModePinAll}, pinned ones; wire sheet §6.3).
 *
 * - Params: none.
 * - Result: the IDs of the sessions unpinned; `[]` when there were none.
 * - Errors: only the system ones.
 * - Idempotent: a repeat finds nothing left to unpin.
 *
 * Source: wire sheet §6.3.
 *
 * @since 0.1.0
 * @category methods
 */
export const sessionModeUnpinAll = Method.make({
  method: "imopenlines.session.mode.unpinAll",
  scope: "imopenlines",
  summary: "Unpin all dialogs of the current operator",
  description: "Unpins every pinned active dialog (status 10 to 49) of which the caller is the operator and " +
    "answers the IDs of the sessions unpinned ([] when none).",
  source: "docs/bitrix24-wire.md §6.3, §7.3",
  params: {},
  result: SessionIds,
  errors: [],
  idempotent: true,
  example: {}
})

/**
 * `imopenlines.session.open`: finds the open-line chat of a USER_CODE and answers its ID (the old page's title was
 * "Get chat by symbolic code"; wire sheet §6.5).
 *
 * - Params: `USER_CODE` (string `<connector>|<LINE_ID>|<CONNECTOR_CHAT_ID>|<CONNECTOR_USER_ID>`, required; the
 *   portal reads the exact key and, unlike `imopenlines.dialog.get`, does not strip an `imol|` prefix).
 * - Result: {@link SessionOpenResult}, `{ chatId }`; the portal sends the ID as a string, decoded to a number here.
 * - Errors: `ACCESS_DENIED` (400) for an unknown code, or when the caller is not the chat's current operator and may
 *   not join the line (line permission or access to the bound CRM entity). Extranet users are refused with an
 *   empty code per the source, which arrives as `UnknownPortalError`.
 * - Idempotent: a read.
 *
 * Source: wire sheet §6.5, §7.4, §8.8.
 *
 * @since 0.1.0
 * @category methods
 */
export const sessionOpen = Method.make({
  method: "imopenlines.session.open",
  scope: "imopenlines",
  summary: "Get the open-line chat of a user code",
  description: "Answers { chatId } of the open-line chat that a USER_CODE (connector|LINE_ID|CONNECTOR_CHAT_ID|" +
    "CONNECTOR_USER_ID) belongs to. The portal sends chatId as a string; it is decoded to a number.",
  source: "docs/bitrix24-wire.md §6.5, §7.4, §8.8",
  params: {
    USER_CODE: userCode.annotations({
      description: "User code of the external channel: <connector>|<LINE_ID>|<CONNECTOR_CHAT_ID>|<CONNECTOR_USER_ID>"
    })
  },
  result: SessionOpenResult,
  errors: [PortalError.AccessDenied],
  invalid: { USER_CODE: { invalid: PortalError.AccessDenied } },
  idempotent: true,
  example: { USER_CODE: "livechat|1|2043|5" }
})

/**
 * `imopenlines.session.join`: adds the caller to an open-line dialog (the messenger posts its "joined" message;
 * wire sheet §6.6).
 *
 * - Params: `CHAT_ID` (positive integer, required; exact key).
 * - Result: `true`, also when the caller already was a member.
 * - Errors: `CHAT_ID`, `CHAT_TYPE`, `ACCESS_DENIED`, `USER_ID` (all 400; the new page adds `USER_ID`).
 * - Idempotent: membership is a state; a repeat adds nobody and posts nothing.
 *
 * Source: wire sheet §6.6, §8.7.
 *
 * @since 0.1.0
 * @category methods
 */
export const sessionJoin = Method.make({
  method: "imopenlines.session.join",
  scope: "imopenlines",
  summary: "Join an open-line dialog",
  description: "Adds the caller to the open-line chat. A member who passes the access check is simply confirmed.",
  source: "docs/bitrix24-wire.md §6.6, §8.7",
  params: { CHAT_ID: chatId },
  result: Schema.Boolean,
  errors: accessErrors,
  invalid: { CHAT_ID: { invalid: PortalError.ChatIdInvalid } },
  idempotent: true,
  example: { CHAT_ID: 2050 }
})

/**
 * `imopenlines.session.intercept`: the caller takes the dialog over from its current operator, who leaves the chat;
 * the portal posts "<new> took conversation from <old>" (wire sheet §6.7).
 *
 * - Params: `CHAT_ID` (positive integer, required; exact key).
 * - Result: `true`.
 * - Errors: `CHAT_ID_EMPTY` when `CHAT_ID` is not a positive integer; `OPERATOR_WRONG` for every other failure,
 *   including no access, a chat that is not an open line, a dialog without a current operator, or one the caller
 *   already has. These two are what the new page documents (the old page listed none).
 * - Not idempotent: it moves the dialog between operators, so a replay after an ambiguous failure could take it from
 *   an operator who got it in between.
 *
 * Source: wire sheet §6.7, §8.7.
 *
 * @since 0.1.0
 * @category methods
 */
export const sessionIntercept = Method.make({
  method: "imopenlines.session.intercept",
  scope: "imopenlines",
  summary: "Take the dialog over from its current operator",
  description: "The caller becomes the dialog's operator in place of the current one. Any failure after the " +
    "CHAT_ID check answers OPERATOR_WRONG.",
  source: "docs/bitrix24-wire.md §6.7, §8.7",
  params: { CHAT_ID: chatId },
  result: Schema.Boolean,
  errors: [PortalError.ChatIdEmpty, PortalError.OperatorWrong],
  invalid: { CHAT_ID: { invalid: PortalError.ChatIdEmpty } },
  idempotent: false,
  example: { CHAT_ID: 2050 }
})

/**
 * `imopenlines.session.history.get`: the messages of one session with the participants and the chat (wire sheet
 * §6.8).
 *
 * - Params: `SESSION_ID` or `CHAT_ID` (positive integers, exact keys): one of them is required. With only `CHAT_ID`
 *   the newest session of the chat is used. The old page marked both required; the new page and the server accept
 *   either, which is followed here.
 * - Result: {@link SessionHistory}.
 * - Errors: `MISSING_REQUIRED_PARAM` (neither given), `INVALID_SESSION_ID` (no session found from them),
 *   `ACCESS_DENIED` (no such session, no messages, or the caller is neither its operator nor allowed to view other
 *   operators' history or the bound CRM activity); all 400.
 * - Bad input before any I/O: the proxy answers a missing pair with `MISSING_REQUIRED_PARAM`, a malformed
 *   `SESSION_ID` with `INVALID_SESSION_ID` and a malformed `CHAT_ID` with `MISSING_REQUIRED_PARAM` (the portal, given
 *   `SESSION_ID=0`, falls back to `CHAT_ID` and may answer `MISSING_REQUIRED_PARAM` instead).
 * - Idempotent: a read.
 *
 * Source: wire sheet §6.8, §7.4, §8.7.
 *
 * @since 0.1.0
 * @category methods
 */
export const sessionHistoryGet = Method.make({
  method: "imopenlines.session.history.get",
  scope: "imopenlines",
  summary: "Get the message history of a session",
  description: "Answers the messages of a session with its participants and chat. Pass SESSION_ID, or CHAT_ID for " +
    "the chat's newest session (the new page accepts either; the old one required both).",
  source: "docs/bitrix24-wire.md §6.8, §7.4, §8.7",
  params: {
    SESSION_ID: Schema.optionalWith(
      Wire.Id.annotations({
        description: "Identifier of the session (field 6 of entity_data_1 in imopenlines.dialog.get)"
      }),
      { exact: true }
    ),
    CHAT_ID: Schema.optionalWith(
      Wire.Id.annotations({ description: "Identifier of the open-line chat, without the chat prefix" }),
      { exact: true }
    )
  },
  check: (params) =>
    params.SESSION_ID === undefined && params.CHAT_ID === undefined
      ? { field: "CHAT_ID", message: "one of SESSION_ID or CHAT_ID is required" }
      : undefined,
  result: SessionHistory,
  errors: [PortalError.MissingRequiredParam, PortalError.InvalidSessionId, PortalError.AccessDenied],
  invalid: {
    SESSION_ID: { invalid: PortalError.InvalidSessionId },
    CHAT_ID: { invalid: PortalError.MissingRequiredParam }
  },
  idempotent: true,
  example: { SESSION_ID: 321 }
})

const rating = Wire.Id.pipe(Schema.lessThanOrEqualTo(5, { message: () => "must be an integer from 1 to 5" }))
  .annotations({
    [Wire.KindAnnotationId]: "integer",
    description: "The supervisor's rating, 1 to 5"
  })

/**
 * `imopenlines.session.head.vote`: a supervisor rates a session and/or comments on it (wire sheet §6.9).
 *
 * - Params: `SESSION_ID` (positive integer, required); `RATING` (integer 1-5); `COMMENT` (string; the portal cuts it
 *   at 10 000 characters and appends "..."). At least one of `RATING` and `COMMENT` is required. Exact keys.
 * - Result: `true`.
 * - Who: a supervisor with the line's vote permission, on a plan that has the feature.
 * - Errors: `EMPTY_SESSION_ID`, `EMPTY_VOTE_PARAMS`, `ACCESS_DENIED` (all 400; the old page listed `WRONG_PARAMETER`,
 *   `CHAT_TYPE`, `CHAT_ID`, which the server never sends for this method: the new page is followed).
 * - Bad input before any I/O: `RATING` outside 1-5 is refused (the portal would store 0 for a rating above 5).
 * - Idempotent: it sets the rating and comment to the values given.
 *
 * Source: wire sheet §6.9, §7.4, §8.7.
 *
 * @since 0.1.0
 * @category methods
 */
export const sessionHeadVote = Method.make({
  method: "imopenlines.session.head.vote",
  scope: "imopenlines",
  summary: "Rate an operator's dialog as a supervisor",
  description: "Saves a supervisor's rating (1-5) and/or comment for a session; at least one of RATING and COMMENT " +
    "is required. Needs the line's supervisor-vote permission.",
  source: "docs/bitrix24-wire.md §6.9, §7.4, §8.7",
  params: {
    SESSION_ID: Wire.Id.annotations({
      description: "Identifier of the session (sessionId of imopenlines.session.history.get)"
    }),
    RATING: Schema.optionalWith(rating, { exact: true }),
    COMMENT: Schema.optionalWith(
      text.annotations({ description: "The supervisor's comment on the rating" }),
      { exact: true }
    )
  },
  check: (params) =>
    params.RATING === undefined && (params.COMMENT === undefined || params.COMMENT.trim() === "")
      ? { field: "COMMENT", message: "one of RATING or COMMENT is required" }
      : undefined,
  result: Schema.Boolean,
  errors: [PortalError.EmptySessionId, PortalError.EmptyVoteParams, PortalError.AccessDenied],
  invalid: {
    SESSION_ID: { invalid: PortalError.EmptySessionId },
    COMMENT: { invalid: PortalError.EmptyVoteParams }
  },
  idempotent: true,
  example: { SESSION_ID: 1743, RATING: 5, COMMENT: "Excellent handling" }
})

// ---------------------------------------------------------------------------------------------------------------
// Dialog, message and CRM helpers (wire sheet §6.10-§6.12)
// ---------------------------------------------------------------------------------------------------------------

/**
 * `imopenlines.message.session.start`: closes the dialog's current session and starts a new one from a message of
 * the chat, with the caller as operator; the message is re-posted into the new session (wire sheet §6.10).
 *
 * - Params: `CHAT_ID` (positive integer, required), `MESSAGE_ID` (positive integer, required; a message of that
 *   chat). Exact keys.
 * - Result: `true` whenever the access check passes; the portal ignores internal failures (a message of another chat,
 *   a busy lock) and answers `true` without a new session.
 * - Errors: `CHAT_ID`, `CHAT_TYPE`, `ACCESS_DENIED`, `USER_ID` (all 400; the new page adds `USER_ID`).
 * - Not idempotent: each call closes a session, opens another and posts messages.
 *
 * Source: wire sheet §6.10, §8.7.
 *
 * @since 0.1.0
 * @category methods
 */
export const messageSessionStart = Method.make({
  method: "imopenlines.message.session.start",
  scope: "imopenlines",
  summary: "Start a new dialog from a message",
  description: "Closes the current session of the open-line chat and starts a new one with the caller as operator, " +
    "re-posting the given message of the chat into it.",
  source: "docs/bitrix24-wire.md §6.10, §8.7",
  params: {
    CHAT_ID: chatId,
    MESSAGE_ID: Wire.Id.annotations({
      description: "Identifier of a message of the chat (keys of message in imopenlines.session.history.get)"
    })
  },
  result: Schema.Boolean,
  errors: accessErrors,
  invalid: { CHAT_ID: { invalid: PortalError.ChatIdInvalid } },
  idempotent: false,
  example: { CHAT_ID: 2043, MESSAGE_ID: 18971 }
})

/**
 * `imopenlines.crm.lead.create`: creates a CRM lead from the dialog and binds the session to it (wire sheet §6.11).
 *
 * - Params: `CHAT_ID` (positive integer, required; exact key).
 * - Result: `true`; also `true`, without a new lead, when the session is already bound to a CRM entity.
 * - Who: only the session's current operator.
 * - Errors: `CHAT_ID`, `CHAT_TYPE`, `ACCESS_DENIED`, `USER_ID`, `ERROR_USER_NOT_OPERATOR` (the five of the new page)
 *   and, from the server source, `IMOL_CHAT_ERROR_NOT_LOAD_CRM`, `IMOL_CHAT_ERROR_NOT_LOAD_DATA`,
 *   `IMOL_CHAT_ERROR_ANSWER_NOT_LOAD_SESSION`, `IMOL_CHAT_ERROR_NOT_LOAD_CHAT`; all 400. CRM registration errors
 *   arrive with their own codes as `UnknownPortalError`.
 * - Not idempotent: it creates a lead. The portal skips an already bound session, but a replay racing a first call
 *   that is still running could create a second lead.
 *
 * Source: wire sheet §6.11, §8.7.
 *
 * @since 0.1.0
 * @category methods
 */
export const crmLeadCreate = Method.make({
  method: "imopenlines.crm.lead.create",
  scope: "imopenlines",
  summary: "Create a CRM lead from the dialog",
  description: "Creates a lead from the open-line dialog and binds the session to it; a session already bound to a " +
    "CRM entity is left as it is. Only the session's operator may do it.",
  source: "docs/bitrix24-wire.md §6.11, §8.7",
  params: { CHAT_ID: chatId },
  result: Schema.Boolean,
  errors: [
    ...accessErrors,
    PortalError.UserNotOperator,
    PortalError.ImolChatErrorNotLoadCrm,
    PortalError.ImolChatErrorNotLoadData,
    PortalError.ImolChatErrorAnswerNotLoadSession,
    PortalError.ImolChatErrorNotLoadChat
  ],
  invalid: { CHAT_ID: { invalid: PortalError.ChatIdInvalid } },
  idempotent: false,
  example: { CHAT_ID: 2024 }
})

/**
 * `imopenlines.dialog.get`: the open-line chat as the messenger describes it (wire sheet §6.12).
 *
 * - Params: one of `CHAT_ID` (positive integer), `DIALOG_ID` (`chat<ID>`), `SESSION_ID` (positive integer),
 *   `USER_CODE` (an `imol|` prefix is stripped), used in that priority. The portal uppercases the keys.
 * - Result: {@link Dialog}.
 * - Access: open-line chats only; line permission, access to the bound CRM entity, or ordinary chat access.
 * - Errors: `IM_NOT_INSTALLED` and `ACCESS_ERROR` (no identifier, no such chat, no access); both 400. The old page
 *   listed `DIALOG_ID_EMPTY`, which the server never sends for this method: the new page is followed. `ACCESS_ERROR`
 *   arrives as {@link PortalError.DialogAccessError}, not as the mute denial `AccessError` (403).
 * - Idempotent: a read.
 *
 * Source: wire sheet §6.12, §7.1, §8.7.
 *
 * @since 0.1.0
 * @category methods
 */
export const dialogGet = Method.make({
  method: "imopenlines.dialog.get",
  scope: "imopenlines",
  summary: "Get the data of an open-line dialog",
  description: "Answers the open-line chat's data. Pass one of CHAT_ID, DIALOG_ID (chat<ID>), SESSION_ID or " +
    "USER_CODE; when several are given, the first in that order wins.",
  source: "docs/bitrix24-wire.md §6.12, §7.1, §8.7",
  params: {
    CHAT_ID: Schema.optionalWith(
      Wire.Id.annotations({ description: "Identifier of the open-line chat" }),
      { exact: true }
    ),
    DIALOG_ID: Schema.optionalWith(
      Schema.String.pipe(Schema.pattern(/^chat[1-9]\d*$/, { message: () => "must be chat<ID>" })).annotations({
        [Wire.KindAnnotationId]: "text",
        description: "Identifier of the dialog: chat<ID>"
      }),
      { exact: true }
    ),
    SESSION_ID: Schema.optionalWith(
      Wire.Id.annotations({ description: "Identifier of a session of the chat" }),
      { exact: true }
    ),
    USER_CODE: Schema.optionalWith(
      Schema.String.pipe(
        Schema.pattern(/^(imol\|)?[^|]+\|\d+\|[^|]*\|[^|]*$/, {
          message: () => "must be [imol|]<connector>|<LINE_ID>|<CONNECTOR_CHAT_ID>|<CONNECTOR_USER_ID>"
        })
      ).annotations({
        description: "User code of the external channel: <connector>|<LINE_ID>|<CONNECTOR_CHAT_ID>|<CONNECTOR_USER_ID>"
      }),
      { exact: true }
    )
  },
  check: (params) =>
    params.CHAT_ID === undefined && params.DIALOG_ID === undefined && params.SESSION_ID === undefined &&
      params.USER_CODE === undefined
      ? { field: "CHAT_ID", message: "one of CHAT_ID, DIALOG_ID, SESSION_ID or USER_CODE is required" }
      : undefined,
  result: Dialog,
  errors: [PortalError.ImNotInstalled, PortalError.DialogAccessError],
  invalid: {
    CHAT_ID: { invalid: PortalError.DialogAccessError },
    DIALOG_ID: { invalid: PortalError.DialogAccessError },
    SESSION_ID: { invalid: PortalError.DialogAccessError },
    USER_CODE: { invalid: PortalError.DialogAccessError }
  },
  idempotent: true,
  example: { CHAT_ID: 2043 }
})

// ---------------------------------------------------------------------------------------------------------------
// Operators (`imopenlines.operator.*`, wire sheet §6.13)
// ---------------------------------------------------------------------------------------------------------------

/**
 * `imopenlines.operator.answer`: the caller takes the dialog ("picked conversation"): becomes its operator, other
 * operators leave the chat (wire sheet §6.13).
 *
 * - Params: `CHAT_ID` (positive integer, required). The portal uppercases the keys.
 * - Result: `true`.
 * - Errors: `CHAT_ID`, `CHAT_TYPE`, `ACCESS_DENIED`, `USER_ID` (all 400; the old pages listed none). When the
 *   answer itself fails (the caller already has the dialog, a concurrent answer, no session), the portal sends an
 *   empty code per the source, which arrives as `UnknownPortalError`.
 * - Not idempotent: a replay could take the dialog from an operator who answered it in between.
 *
 * Source: wire sheet §6.13, §1.5 (empty codes).
 *
 * @since 0.1.0
 * @category methods
 */
export const operatorAnswer = Method.make({
  method: "imopenlines.operator.answer",
  scope: "imopenlines",
  summary: "Take the dialog for yourself",
  description: "Assigns the open-line dialog to the caller, who answers it. A failure after the access check " +
    "(the caller already has the dialog) comes with an empty error code.",
  source: "docs/bitrix24-wire.md §6.13",
  params: { CHAT_ID: chatId },
  result: Schema.Boolean,
  errors: accessErrors,
  invalid: { CHAT_ID: { invalid: PortalError.ChatIdInvalid } },
  idempotent: false,
  example: { CHAT_ID: 2060 }
})

/**
 * `imopenlines.operator.skip`: the caller passes the dialog to the next operator of the line's queue and leaves the
 * chat (wire sheet §6.13).
 *
 * - Params: `CHAT_ID` (positive integer, required). The portal uppercases the keys.
 * - Result: `true`.
 * - Errors: `CHAT_ID`, `CHAT_TYPE`, `ACCESS_DENIED`, `USER_ID`, and `ACCESS_DENIED_KICK` when the dialog cannot be
 *   passed on (it is closed); all 400.
 * - Not idempotent: each call moves the dialog along the queue.
 *
 * Source: wire sheet §6.13, §1.5 (application-exception override).
 *
 * @since 0.1.0
 * @category methods
 */
export const operatorSkip = Method.make({
  method: "imopenlines.operator.skip",
  scope: "imopenlines",
  summary: "Skip the dialog (pass it to the next operator in the queue)",
  description: "Passes the open-line dialog to the next operator of the line's queue; the caller leaves the chat.",
  source: "docs/bitrix24-wire.md §6.13",
  params: { CHAT_ID: chatId },
  result: Schema.Boolean,
  errors: [...accessErrors, PortalError.AccessDeniedKick],
  invalid: { CHAT_ID: { invalid: PortalError.ChatIdInvalid } },
  idempotent: false,
  example: { CHAT_ID: 2043 }
})

/**
 * `imopenlines.operator.spam`: marks the dialog's session as spam (status 65) and finishes it (wire sheet §6.13,
 * §7.1).
 *
 * - Params: `CHAT_ID` (positive integer, required). The portal uppercases the keys.
 * - Result: `true` once the access check passes (also for a dialog without a running session, where nothing
 *   changes).
 * - Errors: `CHAT_ID`, `CHAT_TYPE`, `ACCESS_DENIED`, `USER_ID` (all 400).
 * - Not idempotent: it ends the chat's *current* session, so a replay could end a session the client opened in
 *   between.
 *
 * Source: wire sheet §6.13.
 *
 * @since 0.1.0
 * @category methods
 */
export const operatorSpam = Method.make({
  method: "imopenlines.operator.spam",
  scope: "imopenlines",
  summary: "Mark the dialog as spam and finish it",
  description: "Marks the current session of the open-line chat as spam and closes it.",
  source: "docs/bitrix24-wire.md §6.13",
  params: { CHAT_ID: chatId },
  result: Schema.Boolean,
  errors: accessErrors,
  invalid: { CHAT_ID: { invalid: PortalError.ChatIdInvalid } },
  idempotent: false,
  example: { CHAT_ID: 2024 }
})

/**
 * `imopenlines.operator.finish`: the session's own operator closes the dialog (wire sheet §6.13).
 *
 * - Params: `CHAT_ID` (positive integer, required). The portal uppercases the keys.
 * - Result: `true`.
 * - Errors: `CHAT_ID`, `CHAT_TYPE`, `ACCESS_DENIED`, `USER_ID` (the new page), and from the server source
 *   `ERROR_USER_NOT_OPERATOR` (the caller is not the session's operator), `IMOL_CHAT_ERROR_NOT_LOAD_DATA` and
 *   `NOT_LOAD_SESSION_OR_CHAT` (no running session: already closed); all 400.
 * - Not idempotent: it ends the chat's current session; a replay either fails (`NOT_LOAD_SESSION_OR_CHAT`) or ends
 *   a session opened in between.
 *
 * Source: wire sheet §6.13.
 *
 * @since 0.1.0
 * @category methods
 */
export const operatorFinish = Method.make({
  method: "imopenlines.operator.finish",
  scope: "imopenlines",
  summary: "Finish your own dialog",
  description: "Closes the current session of the open-line chat. Only the session's operator may do it " +
    "(ERROR_USER_NOT_OPERATOR otherwise); a closed dialog answers NOT_LOAD_SESSION_OR_CHAT.",
  source: "docs/bitrix24-wire.md §6.13",
  params: { CHAT_ID: chatId },
  result: Schema.Boolean,
  errors: [
    ...accessErrors,
    PortalError.UserNotOperator,
    PortalError.ImolChatErrorNotLoadData,
    PortalError.NotLoadSessionOrChat
  ],
  invalid: { CHAT_ID: { invalid: PortalError.ChatIdInvalid } },
  idempotent: false,
  example: { CHAT_ID: 2043 }
})

/**
 * `imopenlines.operator.another.finish`: closes a dialog even when another operator has it, posting a "closed by"
 * message; a dialog nobody answered is answered by the caller first (wire sheet §6.13).
 *
 * - Params: `CHAT_ID` (positive integer, required). Unlike `operator.finish`, the portal reads the exact key
 *   `CHAT_ID` only.
 * - Result: `true`.
 * - Errors: `CHAT_ID`, `CHAT_TYPE`, `ACCESS_DENIED`, `USER_ID`, `IMOL_CHAT_ERROR_NOT_LOAD_DATA`,
 *   `NOT_LOAD_SESSION_OR_CHAT`; all 400. (The old page listed three codes without statuses; the new page adds
 *   `USER_ID` and statuses; the last two come from the server source.)
 * - Not idempotent: as `operator.finish`.
 *
 * Source: wire sheet §6.13, §8.7.
 *
 * @since 0.1.0
 * @category methods
 */
export const operatorAnotherFinish = Method.make({
  method: "imopenlines.operator.another.finish",
  scope: "imopenlines",
  summary: "Finish another operator's dialog",
  description: "Closes the current session of the open-line chat whoever its operator is, posting who closed it.",
  source: "docs/bitrix24-wire.md §6.13, §8.7",
  params: { CHAT_ID: chatId },
  result: Schema.Boolean,
  errors: [...accessErrors, PortalError.ImolChatErrorNotLoadData, PortalError.NotLoadSessionOrChat],
  invalid: { CHAT_ID: { invalid: PortalError.ChatIdInvalid } },
  idempotent: false,
  example: { CHAT_ID: 2050 }
})

const transferId = Schema.Union(
  Schema.String,
  Schema.transform(Schema.Int, Schema.String, { strict: true, decode: (n) => String(n), encode: (s) => Number(s) })
).pipe(
  Schema.compose(
    Schema.String.pipe(
      Schema.pattern(/^(queue[1-9]\d*|[1-9]\d*)$/, { message: () => "must be a user ID or queue<QUEUE_ID>" })
    )
  )
).annotations({
  identifier: "TransferId",
  [Wire.KindAnnotationId]: "text",
  description: "Where to transfer: an operator's user ID, or queue<QUEUE_ID> for an open line"
})

/**
 * `imopenlines.operator.transfer`: the caller hands the dialog to another operator or to another open line's queue
 * (wire sheet §6.13).
 *
 * - Params: `CHAT_ID` (positive integer, required) and one of `TRANSFER_ID` (a user ID or `queue<QUEUE_ID>`, as a
 *   string here), `USER_ID`, `QUEUE_ID` (positive integers). Exact keys. The portal maps `TRANSFER_ID` first (a
 *   `queue...` value to `QUEUE_ID`, anything else to `USER_ID`), then looks at `USER_ID` before `QUEUE_ID`; pass only
 *   one, as the new page recommends.
 * - Result: `true`.
 * - Errors: `CHAT_ID_EMPTY`, `USER_ID_EMPTY`, `QUEUE_ID_EMPTY`, `TRANSFER_ID_EMPTY`, and `OPERATOR_WRONG` for every
 *   other failure (no access, a transfer to oneself, an inactive user, an unknown line); all 400.
 * - Bad input before any I/O: a malformed `TRANSFER_ID` is answered with `TRANSFER_ID_EMPTY` (the portal would say
 *   `USER_ID_EMPTY` or `QUEUE_ID_EMPTY`, depending on its form).
 * - Not idempotent: it moves the dialog.
 *
 * Source: wire sheet §6.13.
 *
 * @since 0.1.0
 * @category methods
 */
export const operatorTransfer = Method.make({
  method: "imopenlines.operator.transfer",
  scope: "imopenlines",
  summary: "Transfer the dialog to another operator or open line",
  description: "Hands the open-line dialog to another operator (TRANSFER_ID=<user ID> or USER_ID) or to the queue " +
    "of an open line (TRANSFER_ID=queue<ID> or QUEUE_ID). Any failure after the parameter checks answers " +
    "OPERATOR_WRONG.",
  source: "docs/bitrix24-wire.md §6.13",
  params: {
    CHAT_ID: chatId,
    TRANSFER_ID: Schema.optionalWith(transferId, { exact: true }),
    USER_ID: Schema.optionalWith(
      Wire.Id.annotations({ description: "The operator to transfer the dialog to" }),
      { exact: true }
    ),
    QUEUE_ID: Schema.optionalWith(
      Wire.Id.annotations({ description: "The open line (CONFIG_ID) whose queue gets the dialog" }),
      { exact: true }
    )
  },
  check: (params) =>
    params.TRANSFER_ID === undefined && params.USER_ID === undefined && params.QUEUE_ID === undefined
      ? { field: "TRANSFER_ID", message: "one of TRANSFER_ID, USER_ID or QUEUE_ID is required" }
      : undefined,
  result: Schema.Boolean,
  errors: [
    PortalError.ChatIdEmpty,
    PortalError.UserIdEmpty,
    PortalError.QueueIdEmpty,
    PortalError.TransferIdEmpty,
    PortalError.OperatorWrong
  ],
  invalid: {
    CHAT_ID: { invalid: PortalError.ChatIdEmpty },
    TRANSFER_ID: { invalid: PortalError.TransferIdEmpty },
    USER_ID: { invalid: PortalError.UserIdEmpty },
    QUEUE_ID: { invalid: PortalError.QueueIdEmpty }
  },
  idempotent: false,
  example: { CHAT_ID: 2043, USER_ID: 15 }
})
