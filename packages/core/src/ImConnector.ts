/**
 * The open-lines connector API (`imconnector.*`): an application registers a connector (an outside channel), activates
 * it on an open line, and carries messages both ways: the customers' messages in with `send.messages`, the operators'
 * replies out through the `ONIMCONNECTORMESSAGEADD` event (see `Events`), acknowledged with `send.status.delivery`.
 * Facts, flow and disagreements: docs/bitrix24-events.md §5 (and §6, §7 where sources disagree).
 *
 * Every method here needs an OAuth application's context (`auth: "application"`): the portal refuses inbound webhooks
 * with 403 `WRONG_AUTH_TYPE` (§5.1), so the typed calls require `Bitrix24Client.ApplicationAuth`, which only the OAuth
 * transports provide. Calling them through a webhook layer is a compile error rather than a failure in production;
 * `WrongAuthType` stays in each error union for the case a type cannot see (an OAuth token that is not an
 * application's). The portal files all of them under scope `imopenlines` (§5.1, §6 #9).
 *
 * Key case: `register` upper-cases keys, the messages methods lower-case the keys inside `MESSAGES` (§5.1); the
 * library sends each in the case the portal reads.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as Method from "./Method.js"
import * as PortalError from "./PortalError.js"
import * as Wire from "./Wire.js"

/** What every connector method shares: the portal's scope for them (§5.1, §6 #9) and the application-only rule. */
const application = { scope: "imopenlines", auth: "application" } as const

/** The rest of an object the portal sends: kept as received. */
const rest = Schema.Record({ key: Schema.String, value: Schema.Unknown })

/**
 * A connector ID: lower-case letters, digits and `_` (the portal lower-cases IDs and refuses a dot with
 * `APPLICATION_REGISTRATION_ERROR_POINT`, §5.2). Stricter than the portal: upper-case letters are refused before I/O
 * rather than silently lower-cased, so the ID you keep is the one the portal keeps.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ConnectorId = Schema.String.pipe(
  Schema.pattern(/^[a-z0-9_]{1,64}$/, { message: () => "must be 1-64 lower-case letters, digits or _" })
).annotations({ identifier: "ConnectorId", description: "The connector ID (lower-case letters, digits, _)" })

const line = Wire.Id.annotations({ description: "The open line (CONFIG_ID)" })
const connector = ConnectorId.annotations({ description: "The connector ID given to imconnector.register" })

/** The params naming a connector on a line, and the example line of the default fixture. */
const onLine = { CONNECTOR: connector, LINE: line }
const demoLine = { CONNECTOR: "demo_connector", LINE: 1 }

const embeddedFailure = (result: unknown) => {
  if (result === null || typeof result !== "object" || Array.isArray(result)) return undefined
  const record = result as Record<string, unknown>
  if (record.result === true) return undefined
  return {
    code: typeof record.error === "string" ? record.error : "",
    description: typeof record.error_description === "string" ? record.error_description : ""
  }
}

/**
 * The result of `register` / `unregister` when they succeed: `{"result": true}` nested in the envelope's `result`
 * (§5.1, §6 #13). Failures inside HTTP 200 never reach this schema: the declaration's `embeddedError` turns them into
 * typed errors.
 *
 * @since 0.1.0
 * @category models
 */
export const RegistrationResult = Schema.Struct({ result: Schema.Literal(true) }, rest).annotations({
  identifier: "RegistrationResult"
})

/**
 * An icon of `imconnector.register`: an SVG data URL and optional colour, size and position (§5.2).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Icon = Schema.Struct({
  DATA_IMAGE: Schema.String.pipe(
    Schema.startsWith("data:image/", { message: () => "must be a data:image/... URL" })
  ),
  COLOR: Schema.optionalWith(Schema.String, { exact: true }),
  SIZE: Schema.optionalWith(Schema.String, { exact: true }),
  POSITION: Schema.optionalWith(Schema.String, { exact: true })
}).annotations({ identifier: "Icon" })

const flag = (description: string) => Schema.optionalWith(Wire.YesNo.annotations({ description }), { exact: true })

const url = Schema.String.pipe(
  Schema.pattern(/^https?:\/\/[^\s/?#]+/, { message: () => "must be an http(s) URL" })
)

/**
 * `imconnector.register`: registers (or, with the same ID, updates) the application's connector: its ID, name, icon
 * and settings page (`PLACEMENT_HANDLER`, opened in the Contact Center when a user connects a line, §5.4).
 *
 * - Result: `{ result: true }`. The portal reports failures inside HTTP 200
 *   (`{"result":{"result":false,"error":…}}`, §5.1); they arrive as typed errors (`ConnectorIdRequired`,
 *   `RegistrationErrorPoint`, `ApplicationRegistrationError`, ...), never as a successful result.
 * - Y/N flags (`DEL_EXTERNAL_MESSAGES`, `EDIT_INTERNAL_MESSAGES`, `DEL_INTERNAL_MESSAGES`, `NEWSLETTER`,
 *   `NEED_SYSTEM_MESSAGES`, `NEED_SIGNATURE`: portal default `Y`; `CHAT_GROUP`: default `N`).
 * - Application OAuth only (403 `WRONG_AUTH_TYPE` otherwise).
 * - Idempotent: registering the same ID again updates it.
 *
 * Source: docs/bitrix24-events.md §5.1, §5.2, §6 #13.
 *
 * @since 0.1.0
 * @category methods
 */
export const register = Method.make({
  method: "imconnector.register",
  ...application,
  summary: "Register the application's connector (an outside channel)",
  description: "Registers or updates a connector: ID (lower-case, no dot), NAME, ICON and the settings page " +
    "PLACEMENT_HANDLER. Failures the portal reports inside HTTP 200 are typed errors. Application OAuth only.",
  source: "docs/bitrix24-events.md §5.1, §5.2, §6 #13",
  params: {
    ID: ConnectorId,
    NAME: Schema.String.pipe(Schema.minLength(1)).annotations({ description: "The name shown in the Contact Center" }),
    ICON: Icon.annotations({ description: "The icon: DATA_IMAGE (data:image/svg+xml,...), COLOR, SIZE, POSITION" }),
    ICON_DISABLED: Schema.optionalWith(Icon, { exact: true }),
    PLACEMENT_HANDLER: url.annotations({ description: "The URL of the connector's settings page" }),
    DEL_EXTERNAL_MESSAGES: flag("The outside channel's messages may be deleted"),
    EDIT_INTERNAL_MESSAGES: flag("Operators may edit their messages"),
    DEL_INTERNAL_MESSAGES: flag("Operators may delete their messages"),
    NEWSLETTER: flag("The connector takes mailings"),
    NEED_SYSTEM_MESSAGES: flag("System messages are sent to the connector"),
    NEED_SIGNATURE: flag("The operator's name prefixes replies"),
    CHAT_GROUP: flag("Group dialogs by chat.id (disables the CRM tracker)"),
    COMMENT: Schema.optionalWith(Schema.String, { exact: true })
  },
  result: RegistrationResult,
  embeddedError: embeddedFailure,
  errors: [
    PortalError.RegistrationErrorPoint,
    PortalError.ConnectorIdRequired,
    PortalError.NameRequired,
    PortalError.IconRequired,
    PortalError.NoApplicationId,
    PortalError.NoPlacementHandler,
    PortalError.ApplicationRegistrationError,
    PortalError.GeneralConnectorRegistrationError,
    PortalError.WrongAuthType
  ],
  idempotent: true,
  example: {
    ID: "bridge_demo",
    NAME: "Bridge demo",
    ICON: { DATA_IMAGE: "data:image/svg+xml;charset=US-ASCII,%3Csvg%3E%3C/svg%3E" },
    PLACEMENT_HANDLER: "https://bridge.example.com/settings"
  }
})

/**
 * `imconnector.unregister`: removes the application's connector.
 *
 * - Result: `{ result: true }`; an unknown ID fails inside HTTP 200 with `APPLICATION_UNREGISTRATION_ERROR`, typed as
 *   `ApplicationUnregistrationError`.
 * - Application OAuth only. Idempotent in effect (the second call fails typed, the state is the same).
 *
 * Source: docs/bitrix24-events.md §5.1, §5.2.
 *
 * @since 0.1.0
 * @category methods
 */
export const unregister = Method.make({
  method: "imconnector.unregister",
  ...application,
  summary: "Unregister the application's connector",
  description: "Removes the connector with this ID. Failures the portal reports inside HTTP 200 are typed errors.",
  source: "docs/bitrix24-events.md §5.1, §5.2",
  params: { ID: ConnectorId },
  result: RegistrationResult,
  embeddedError: embeddedFailure,
  errors: [PortalError.ApplicationUnregistrationError, PortalError.NoApplicationId, PortalError.WrongAuthType],
  idempotent: true,
  example: { ID: "demo_connector" }
})

/**
 * `imconnector.list`: every connector of the portal, built-in ones included, as `{ connectorId: name }` (§5.2).
 * Needs the open-lines "connectors: modify" right (`ACCESS_DENIED` 400 otherwise).
 *
 * @since 0.1.0
 * @category methods
 */
export const list = Method.make({
  method: "imconnector.list",
  ...application,
  summary: "List the portal's connectors",
  description: "Answers { connectorId: name } for every connector, built-in ones included.",
  source: "docs/bitrix24-events.md §5.2",
  params: {},
  result: Wire.phpMap(Schema.String),
  errors: [PortalError.AccessDenied, PortalError.WrongAuthType],
  idempotent: true,
  example: {}
})

/**
 * `imconnector.activate`: switches the connector on (`ACTIVE: true`) or off on a line.
 *
 * `ACTIVE` is a boolean sent as `1`/`0` (`Wire.OneZero`): the portal tests it with PHP `empty()`, so `"N"` and
 * `"false"` would switch the connector *on* (§6 #10). Activation also raises the connection and registration flags and
 * clears the error flag (§6 #12). Switching off fires `ONIMCONNECTORSTATUSDELETE` (whether to the caller itself is
 * open, §7.11: the emulator's `statusDeleteToCaller` setting). Idempotent.
 *
 * Source: docs/bitrix24-events.md §5.2, §6 #10, #12.
 *
 * @since 0.1.0
 * @category methods
 */
export const activate = Method.make({
  method: "imconnector.activate",
  ...application,
  summary: "Switch a connector on or off on an open line",
  description: "ACTIVE is a boolean sent as 1/0 (the portal reads any non-empty value, \"N\" included, as on).",
  source: "docs/bitrix24-events.md §5.2, §6 #10, #12",
  params: {
    ...onLine,
    ACTIVE: Wire.OneZero.annotations({ description: "true switches the connector on (sent as 1), false off (0)" })
  },
  result: Schema.Boolean,
  errors: [PortalError.ErrorArgument, PortalError.WrongAuthType],
  idempotent: true,
  example: { ...demoLine, ACTIVE: true }
})

/**
 * The result of `imconnector.status` (§5.2): the line, the connector and its flags.
 *
 * @since 0.1.0
 * @category models
 */
export const Status = Schema.Struct({
  LINE: Wire.Numeric,
  CONNECTOR: Schema.String,
  ERROR: Schema.Boolean,
  CONFIGURED: Schema.Boolean,
  STATUS: Schema.Boolean
}, rest).annotations({ identifier: "Status" })

/**
 * `imconnector.status`: the connector's state on a line (`STATUS` true when active and working). Without `LINE` the
 * portal reads line 0 and always answers "not configured" (§5.2), so the library requires it.
 *
 * @since 0.1.0
 * @category methods
 */
export const status = Method.make({
  method: "imconnector.status",
  ...application,
  summary: "Read a connector's state on an open line",
  description: "Answers { LINE, CONNECTOR, ERROR, CONFIGURED, STATUS }. LINE is required here (line 0 is never " +
    "configured).",
  source: "docs/bitrix24-events.md §5.2",
  params: onLine,
  result: Status,
  errors: [PortalError.ErrorArgument, PortalError.WrongAuthType],
  idempotent: true,
  example: demoLine
})

/**
 * `imconnector.connector.data.set`: the outside channel's ID, links and name for this line. The portal merges the
 * fields into what it stores and ignores empty ones (§6 #11).
 *
 * @since 0.1.0
 * @category methods
 */
export const connectorDataSet = Method.make({
  method: "imconnector.connector.data.set",
  ...application,
  summary: "Set the outside channel's data for a line",
  description: "DATA { ID, URL, URL_IM, NAME } is merged into the stored data; empty fields are ignored.",
  source: "docs/bitrix24-events.md §5.2, §6 #11",
  params: {
    ...onLine,
    DATA: Schema.Struct({
      ID: Schema.optionalWith(Schema.String, { exact: true }),
      URL: Schema.optionalWith(Schema.String, { exact: true }),
      URL_IM: Schema.optionalWith(Schema.String, { exact: true }),
      NAME: Schema.optionalWith(Schema.String, { exact: true })
    }).annotations({ description: "ID, URL, URL_IM, NAME of the outside channel" })
  },
  result: Schema.Boolean,
  errors: [PortalError.ErrorArgument, PortalError.WrongAuthType],
  idempotent: true,
  example: { ...demoLine, DATA: { ID: "demo-channel", NAME: "Demo channel" } }
})

// ---------------------------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------------------------

/**
 * The outside user of a message (§5.3): `id` (required) and what the operator sees of them.
 *
 * @since 0.1.0
 * @category schemas
 */
export const OutsideUser = Schema.Struct({
  id: Schema.String.pipe(Schema.minLength(1)),
  name: Schema.optionalWith(Schema.String, { exact: true }),
  last_name: Schema.optionalWith(Schema.String, { exact: true }),
  picture: Schema.optionalWith(Schema.Struct({ url: Schema.String }), { exact: true }),
  url: Schema.optionalWith(Schema.String, { exact: true }),
  gender: Schema.optionalWith(Schema.Literal("male", "female"), { exact: true }),
  email: Schema.optionalWith(Schema.String, { exact: true }),
  phone: Schema.optionalWith(Schema.String, { exact: true }),
  skip_phone_validate: Schema.optionalWith(Schema.Literal("Y"), { exact: true })
}).annotations({ identifier: "OutsideUser" })

/**
 * A file of a message: a URL the portal can reach, and a name (§5.3).
 *
 * @since 0.1.0
 * @category schemas
 */
export const OutsideFile = Schema.Struct({
  url: Schema.String,
  name: Schema.optionalWith(Schema.String, { exact: true })
}).annotations({ identifier: "OutsideFile" })

/**
 * An outside chat: `id` (required; the ID given to `connector.data.set` or the channel's own), name and URL (§5.3).
 *
 * @since 0.1.0
 * @category schemas
 */
export const OutsideChat = Schema.Struct({
  id: Schema.String.pipe(Schema.minLength(1)),
  name: Schema.optionalWith(Schema.String, { exact: true }),
  url: Schema.optionalWith(Schema.String, { exact: true })
}).annotations({ identifier: "OutsideChat" })

/**
 * One message of `imconnector.send.messages` / `update.messages` (§5.3): the outside user, the message (its outside
 * `id`, needed for later updates, deletes and statuses; BB-code `text` or `files`, at least one of them) and the
 * outside chat. Sent with lower-case keys, as the portal reads them.
 *
 * @since 0.1.0
 * @category schemas
 */
export const OutsideMessage = Schema.Struct({
  user: OutsideUser,
  message: Schema.Struct({
    id: Schema.optionalWith(Schema.String, { exact: true }),
    date: Schema.optionalWith(Wire.Count, { exact: true }),
    text: Schema.optionalWith(Schema.String, { exact: true }),
    files: Schema.optionalWith(Schema.Array(OutsideFile), { exact: true }),
    disable_crm: Schema.optionalWith(Schema.Literal("Y"), { exact: true }),
    user_id: Schema.optionalWith(Wire.Id, { exact: true })
  }).pipe(
    Schema.filter((message) =>
      (message.text !== undefined && message.text.length > 0) || (message.files?.length ?? 0) > 0 ||
      "needs text or files"
    )
  ),
  chat: OutsideChat
}).annotations({ identifier: "OutsideMessage" })

/**
 * A message to delete (§5.2): the outside user, the message's outside `id`, the outside chat.
 *
 * @since 0.1.0
 * @category schemas
 */
export const OutsideMessageRef = Schema.Struct({
  user: Schema.Struct({ id: Schema.String.pipe(Schema.minLength(1)) }),
  message: Schema.Struct({ id: Schema.String.pipe(Schema.minLength(1)) }),
  chat: Schema.Struct({ id: Schema.String.pipe(Schema.minLength(1)) })
}).annotations({ identifier: "OutsideMessageRef" })

const messages = <A, I>(item: Schema.Schema<A, I>) =>
  Schema.Array(item).pipe(Schema.minItems(1, { message: () => "must be a non-empty array of messages" }))
    .annotations({ description: "The messages (see the reference for their keys)" })

/**
 * One item of a messages method's result (§5.3): `SUCCESS`, `ERRORS` when it failed, and for an accepted inbound
 * message the `session` (`CHAT_ID` is the Bitrix24 open-line chat, `ID` the session). Other keys (the echoed `user`,
 * `message`, `chat`) are kept as received.
 *
 * @since 0.1.0
 * @category models
 */
export const MessageResult = Schema.Struct({
  SUCCESS: Schema.Boolean,
  ERRORS: Schema.optional(Schema.Array(Schema.String)),
  session: Schema.optional(Schema.Struct({ ID: Wire.Numeric, CHAT_ID: Wire.Numeric }, rest))
}, rest).annotations({ identifier: "MessageResult" })

/**
 * The result of `send/update/delete.messages`: `{ SUCCESS, DATA: { RESULT: [one item per message] } }`. A message
 * can fail alone: its item has `SUCCESS: false` and `ERRORS` (§5.2).
 *
 * @since 0.1.0
 * @category models
 */
export const MessagesResult = Schema.Struct({
  SUCCESS: Schema.Boolean,
  DATA: Schema.Struct({ RESULT: Schema.Array(MessageResult) }, rest)
}, rest).annotations({ identifier: "MessagesResult" })

/**
 * The result of the status methods and `set.error`: `{ SUCCESS, DATA }` with `DATA` usually `[]` (§5.2).
 *
 * @since 0.1.0
 * @category models
 */
export const Ack = Schema.Struct({ SUCCESS: Schema.Boolean, DATA: Schema.optional(Schema.Unknown) }, rest)
  .annotations({ identifier: "Ack" })

const messageErrors = [
  PortalError.ErrorArgument,
  PortalError.NotActiveLine,
  PortalError.NoCorrectProvider,
  PortalError.NotSpecifiedCorrectCommand,
  PortalError.WrongAuthType
] as const

const exampleMessage = {
  user: { id: "customer-1", name: "Ann" },
  message: { id: "m-1", text: "Hello from outside" },
  chat: { id: "chat-1" }
}

/**
 * `imconnector.send.messages`: outside customers' messages into the line. The portal maps each outside user and chat
 * to a Bitrix24 user and an open-line chat (starting a session when none runs) and answers one item per message;
 * keep `session.CHAT_ID` (§5.6 step 6).
 *
 * - Errors: `NOT_ACTIVE_LINE` when the connector is not active on the line; `IMCONNECTOR_NO_CORRECT_PROVIDER` for an
 *   unknown connector; `ERROR_ARGUMENT` for a malformed `MESSAGES` (refused here before I/O).
 * - Not idempotent: a replay would post the messages twice.
 *
 * Source: docs/bitrix24-events.md §5.2, §5.3, §5.6.
 *
 * @since 0.1.0
 * @category methods
 */
export const sendMessages = Method.make({
  method: "imconnector.send.messages",
  ...application,
  summary: "Send outside customers' messages into an open line",
  description: "MESSAGES[] { user, message, chat } (lower-case keys). Each item of the result says SUCCESS, and for " +
    "an accepted message the session (CHAT_ID: the open-line chat).",
  source: "docs/bitrix24-events.md §5.2, §5.3, §5.6",
  params: { ...onLine, MESSAGES: messages(OutsideMessage) },
  result: MessagesResult,
  errors: messageErrors,
  idempotent: false,
  example: { ...demoLine, MESSAGES: [exampleMessage] }
})

/**
 * `imconnector.update.messages`: edits outside messages already sent, by the same `message.id` and `chat.id`
 * (§5.2). Idempotent: the same edit twice leaves the same text.
 *
 * @since 0.1.0
 * @category methods
 */
export const updateMessages = Method.make({
  method: "imconnector.update.messages",
  ...application,
  summary: "Edit outside customers' messages already sent",
  description: "Same MESSAGES shape as send.messages, with the message.id and chat.id originally sent.",
  source: "docs/bitrix24-events.md §5.2",
  params: { ...onLine, MESSAGES: messages(OutsideMessage) },
  result: MessagesResult,
  errors: messageErrors,
  idempotent: true,
  example: {
    ...demoLine,
    MESSAGES: [{ ...exampleMessage, message: { id: "m-0", text: "Edited" } }]
  }
})

/**
 * `imconnector.delete.messages`: deletes outside messages already sent (§5.2). Idempotent.
 *
 * @since 0.1.0
 * @category methods
 */
export const deleteMessages = Method.make({
  method: "imconnector.delete.messages",
  ...application,
  summary: "Delete outside customers' messages already sent",
  description: "MESSAGES[] { user { id }, message { id }, chat { id } }.",
  source: "docs/bitrix24-events.md §5.2",
  params: { ...onLine, MESSAGES: messages(OutsideMessageRef) },
  result: MessagesResult,
  errors: messageErrors,
  idempotent: true,
  example: {
    ...demoLine,
    MESSAGES: [{ user: { id: "customer-1" }, message: { id: "m-0" }, chat: { id: "chat-1" } }]
  }
})

/**
 * One acknowledgement of `send.status.delivery` / `send.status.reading` (§5.2): the Bitrix24 message from the event
 * (`im.chat_id`, `im.message_id`), the outside IDs it got (`message.id`, a list) and the outside chat.
 *
 * @since 0.1.0
 * @category schemas
 */
export const StatusItem = Schema.Struct({
  im: Schema.Struct({ chat_id: Wire.Id, message_id: Wire.Id }),
  message: Schema.Struct({
    id: Schema.Array(Schema.String),
    date: Schema.optionalWith(Wire.Count, { exact: true })
  }),
  chat: Schema.Struct({ id: Schema.String.pipe(Schema.minLength(1)) })
}).annotations({ identifier: "StatusItem" })

const statusErrors = [PortalError.ErrorArgument, PortalError.NoCorrectProvider, PortalError.WrongAuthType] as const

const exampleStatus = { im: { chat_id: 2043, message_id: 18971 }, message: { id: ["out-1"] }, chat: { id: "chat-1" } }

/**
 * `imconnector.send.status.delivery`: tells the portal the operator's messages reached the outside channel. Without
 * it the operator sees every reply as undelivered (§5.6 step 8); it also marks them read. Idempotent.
 *
 * @since 0.1.0
 * @category methods
 */
export const sendStatusDelivery = Method.make({
  method: "imconnector.send.status.delivery",
  ...application,
  summary: "Mark operator messages as delivered to the outside channel",
  description: "MESSAGES[] { im { chat_id, message_id } (from the event), message { id: [outside IDs], date }, " +
    "chat { id } }. Without it operators see replies as undelivered.",
  source: "docs/bitrix24-events.md §5.2, §5.6",
  params: { ...onLine, MESSAGES: messages(StatusItem) },
  result: Ack,
  errors: statusErrors,
  idempotent: true,
  example: { ...demoLine, MESSAGES: [exampleStatus] }
})

/**
 * `imconnector.send.status.reading`: tells the portal the outside customer read the operator's messages. Its server
 * handler is a stub on current portals (§6 #16); the emulator records it (idempotent).
 *
 * @since 0.1.0
 * @category methods
 */
export const sendStatusReading = Method.make({
  method: "imconnector.send.status.reading",
  ...application,
  summary: "Mark operator messages as read by the outside customer",
  description: "Same MESSAGES as send.status.delivery, without date. A no-op on current portals.",
  source: "docs/bitrix24-events.md §5.2, §6 #16",
  params: { ...onLine, MESSAGES: messages(StatusItem) },
  result: Ack,
  errors: statusErrors,
  idempotent: true,
  example: { ...demoLine, MESSAGES: [exampleStatus] }
})

/**
 * `imconnector.set.error`: puts the connector on the line into the error state (deactivated, `STATUS` false). Not in
 * the method reference; from the server source (§5.2, §7.10). Idempotent.
 *
 * @since 0.1.0
 * @category methods
 */
export const setError = Method.make({
  method: "imconnector.set.error",
  ...application,
  summary: "Put a connector on a line into the error state",
  description: "Deactivates the connector on the line and raises its error flag (undocumented; server source).",
  source: "docs/bitrix24-events.md §5.2, §7.10",
  params: onLine,
  result: Ack,
  errors: [PortalError.ErrorArgument, PortalError.WrongAuthType],
  idempotent: true,
  example: demoLine
})

/**
 * `imconnector.chat.name.set`: renames the open-line chat of an outside chat. `USER_ID` (the outside user) is
 * required unless the connector groups by chat (`CHAT_GROUP`); the library leaves that check to the portal.
 * Idempotent.
 *
 * @since 0.1.0
 * @category methods
 */
export const chatNameSet = Method.make({
  method: "imconnector.chat.name.set",
  ...application,
  summary: "Rename the open-line chat of an outside chat",
  description: "CHAT_ID is the outside chat's ID; USER_ID the outside user's (needed unless CHAT_GROUP).",
  source: "docs/bitrix24-events.md §5.2",
  params: {
    ...onLine,
    CHAT_ID: Schema.String.pipe(Schema.minLength(1)).annotations({ description: "The outside chat's ID" }),
    NAME: Schema.String.pipe(Schema.minLength(1)).annotations({ description: "The new name" }),
    USER_ID: Schema.optionalWith(Schema.String.annotations({ description: "The outside user's ID" }), { exact: true })
  },
  result: Ack,
  errors: [
    PortalError.NotActiveLine,
    PortalError.NoCorrectProvider,
    PortalError.ErrorArgument,
    PortalError.ChatRenamingFailed,
    PortalError.WrongAuthType
  ],
  idempotent: true,
  example: { ...demoLine, CHAT_ID: "chat-1", NAME: "Ann (outside)", USER_ID: "customer-1" }
})
