/**
 * Subscribing to events (`event.bind`, `event.unbind`, `event.get`, `events`, `event.test`) and the offline queue
 * (`event.offline.get`, `.clear`, `.error`, `.list`). Facts: docs/bitrix24-events.md §1 and §3; the events themselves
 * are schemas in `Events`.
 *
 * All of them need an OAuth application's context (`auth: "application"`: the portal refuses webhooks with
 * `WRONG_AUTH_TYPE`, §1), so the typed calls require `Bitrix24Client.ApplicationAuth` and a webhook transport cannot
 * call them (a compile error). The status of `WRONG_AUTH_TYPE` here is undocumented (§7.7); 403 is assumed. Offline
 * events, and every `event.offline.*` method, also need an administrator (403 `ACCESS_DENIED`, typed
 * `EventAccessDenied`). Keys are case-insensitive on the portal; the library sends them in the documented lower case.
 * Scope: none beyond the application's (`_global`, §1).
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as Method from "./Method.js"
import * as PortalError from "./PortalError.js"
import * as Wire from "./Wire.js"

/** What every `event.*` method shares: the scope the portal files them under (`_global`: every application has it) and
 * the application-only rule (§1). */
const application = { scope: "_global", auth: "application" } as const

const rest = Schema.Record({ key: Schema.String, value: Schema.Unknown })

/**
 * An event code: letters, digits and `_`; the portal upper-cases it (§1.1). Typed as given.
 *
 * @since 0.1.0
 * @category schemas
 */
export const EventCode = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z][A-Za-z0-9_]*$/, { message: () => "must be an event code such as ONIMCONNECTORMESSAGEADD" })
).annotations({ identifier: "EventCode", description: "The event code (any case; stored upper-case)" })

/**
 * A handler URL: `http`/`https` with a host containing a dot (§1.1, `handlerhelper.php`). `http://127.0.0.1:8080/x`
 * passes; `http://localhost/x` does not, on the portal as here.
 *
 * @since 0.1.0
 * @category schemas
 */
export const HandlerUrl = Schema.String.pipe(
  Schema.filter((url) => {
    try {
      const parsed = new URL(url)
      return (parsed.protocol === "http:" || parsed.protocol === "https:") && parsed.hostname.includes(".")
    } catch {
      return false
    }
  }, { message: () => "must be an http(s) URL whose host contains a dot" })
).annotations({ identifier: "HandlerUrl", description: "The URL the portal POSTs the event to" })

const eventType = Schema.Literal("online", "offline").annotations({
  description: "online (POSTed to the handler, the default) or offline (queued for event.offline.get)"
})

const bindErrors = [
  PortalError.EventNotFound,
  PortalError.EventAccessDenied,
  PortalError.ErrorCore,
  PortalError.ErrorArgument,
  PortalError.WrongHandlerUrl,
  PortalError.WrongAuthType
] as const

/**
 * `event.bind`: subscribes the application to an event: online (the portal POSTs it to `handler`) or offline (queued
 * for `event.offline.get`; admin only, no handler).
 *
 * - `auth_type`: the user whose token the handler receives (0, the default: whoever caused the event); another
 *   user's ID needs an administrator.
 * - `options`: per-event options the portal keeps (`ONOFFLINEEVENT`: `minTimeout`, seconds, default 1).
 * - Errors: `ERROR_EVENT_NOT_FOUND` (unknown, or outside the application's scopes), `ACCESS_DENIED` 403, `ERROR_CORE`
 *   (already bound), `ERROR_WRONG_HANDLER_URL`.
 * - The library requires `handler` for online events and refuses it for offline ones, before I/O.
 * - Not idempotent: a second identical bind fails with `ERROR_CORE`.
 *
 * Source: docs/bitrix24-events.md §1.1, §3.1, §3.6.
 *
 * @since 0.1.0
 * @category methods
 */
export const bind = Method.make({
  method: "event.bind",
  ...application,
  summary: "Subscribe the application to an event",
  description: "Online events are POSTed to handler; offline ones (admin only) are queued for event.offline.get.",
  source: "docs/bitrix24-events.md §1.1, §3.1, §3.6",
  params: {
    event: EventCode,
    handler: Schema.optionalWith(HandlerUrl, { exact: true }),
    auth_type: Schema.optionalWith(
      Wire.Count.annotations({ description: "User whose token the handler gets; 0: any" }),
      { exact: true }
    ),
    event_type: Schema.optionalWith(eventType, { exact: true }),
    auth_connector: Schema.optionalWith(Schema.String, { exact: true }),
    options: Schema.optionalWith(rest.annotations({ description: "Per-event options (ONOFFLINEEVENT: minTimeout)" }), {
      exact: true
    })
  },
  check: (params) =>
    params.event_type === "offline"
      ? (params.handler === undefined ? undefined : { field: "handler", message: "offline events take no handler" })
      : (params.handler === undefined ? { field: "handler", message: "online events need a handler" } : undefined),
  result: Schema.Boolean,
  errors: bindErrors,
  idempotent: false,
  example: { event: "ONAPPTEST", handler: "http://127.0.0.1:9/handler" }
})

/**
 * The result of `event.unbind`: how many handlers were removed (§1.2).
 *
 * @since 0.1.0
 * @category models
 */
export const UnbindResult = Schema.Struct({ count: Wire.Numeric }, rest).annotations({ identifier: "UnbindResult" })

/**
 * `event.unbind`: removes every handler of the application matching the event and handler URL (and `auth_type`:
 * 0 or absent removes only handlers bound without a user), or the offline binding. Idempotent: a second call removes
 * nothing (`count: 0`).
 *
 * Source: docs/bitrix24-events.md §1.2.
 *
 * @since 0.1.0
 * @category methods
 */
export const unbind = Method.make({
  method: "event.unbind",
  ...application,
  summary: "Unsubscribe the application from an event",
  description: "Removes the matching handlers and answers { count }.",
  source: "docs/bitrix24-events.md §1.2",
  params: {
    event: EventCode,
    handler: Schema.optionalWith(HandlerUrl, { exact: true }),
    auth_type: Schema.optionalWith(Wire.Count, { exact: true }),
    event_type: Schema.optionalWith(eventType, { exact: true }),
    auth_connector: Schema.optionalWith(Schema.String, { exact: true })
  },
  result: UnbindResult,
  errors: [PortalError.EventAccessDenied, PortalError.ErrorArgument, PortalError.WrongAuthType],
  idempotent: true,
  example: { event: "ONAPPTEST", handler: "http://127.0.0.1:9/handler" }
})

/**
 * A binding as `event.get` lists it (§1.3): online ones carry `handler` and `auth_type`, offline ones `connector_id`.
 *
 * @since 0.1.0
 * @category models
 */
export const Binding = Schema.Struct({
  event: Schema.String,
  handler: Schema.optional(Schema.String),
  auth_type: Schema.optional(Schema.String),
  connector_id: Schema.optional(Schema.String),
  offline: Wire.Numeric
}, rest).annotations({ identifier: "Binding" })

/**
 * `event.get`: the application's bindings, by binding ID (non-admins see only their own).
 *
 * @since 0.1.0
 * @category methods
 */
export const get = Method.make({
  method: "event.get",
  ...application,
  summary: "List the application's event bindings",
  description:
    "Online bindings { event, handler, auth_type, offline: 0 }; offline { event, connector_id, offline: 1 }.",
  source: "docs/bitrix24-events.md §1.3",
  params: {},
  result: Schema.Array(Binding),
  errors: [PortalError.WrongAuthType],
  idempotent: true,
  example: {}
})

/**
 * `events`: the event codes the application may bind (its scopes' and the global ones), upper-case; `SCOPE` narrows
 * to one scope, `FULL` lists all (§1.4).
 *
 * @since 0.1.0
 * @category methods
 */
export const events = Method.make({
  method: "events",
  ...application,
  summary: "List the event codes the application may bind",
  description: "SCOPE narrows to one scope; FULL lists every event. Codes are upper-case.",
  source: "docs/bitrix24-events.md §1.4",
  params: {
    SCOPE: Schema.optionalWith(Schema.String.annotations({ description: "One scope's events" }), { exact: true }),
    FULL: Schema.optionalWith(Schema.Boolean.annotations({ description: "Every event" }), { exact: true })
  },
  result: Schema.Array(Schema.String),
  errors: [PortalError.WrongAuthType],
  idempotent: true,
  example: {}
})

/**
 * `event.test`: fires `ONAPPTEST` to the application's handlers for it, with `data.QUERY` = the params sent (§1.5).
 * Answers `1`. Not idempotent (each call fires an event).
 *
 * @since 0.1.0
 * @category methods
 */
export const test = Method.make({
  method: "event.test",
  ...application,
  summary: "Fire ONAPPTEST to the application's handlers",
  description: "Any params; they arrive as data.QUERY. Answers 1.",
  source: "docs/bitrix24-events.md §1.5",
  params: { QUERY: Schema.optionalWith(rest, { exact: true }) },
  result: Wire.Numeric,
  errors: [PortalError.WrongAuthType],
  idempotent: false,
  example: {}
})

// ---------------------------------------------------------------------------------------------------------------
// The offline queue (§3)
// ---------------------------------------------------------------------------------------------------------------

const offlineErrors = [PortalError.EventAccessDenied, PortalError.ErrorArgument, PortalError.WrongAuthType] as const

/**
 * A process ID: the 32 characters `event.offline.get` stamps reserved rows with (§3.2).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ProcessId = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z0-9]{32}$/, { message: () => "must be the 32-character process_id of event.offline.get" })
).annotations({ identifier: "ProcessId", description: "The process_id of event.offline.get" })

/**
 * A `MESSAGE_ID`: `md5(EVENT_NAME + "|" + JSON(EVENT_DATA))`, 32 hex characters; repeats of the same event and data
 * coalesce into one row (§3.1).
 *
 * @since 0.1.0
 * @category schemas
 */
export const MessageId = Schema.String.pipe(
  Schema.pattern(/^[0-9a-f]{32}$/, { message: () => "must be a 32-character MESSAGE_ID" })
).annotations({ identifier: "MessageId" })

/**
 * One queued event (§3.2): `EVENT_NAME`, `EVENT_DATA` (the event's `data`), `EVENT_ADDITIONAL` (`{ user_id }`) and its
 * `MESSAGE_ID`. `event.offline.list` adds `PROCESS_ID` and `ERROR`.
 *
 * @since 0.1.0
 * @category models
 */
export const OfflineEvent = Schema.Struct({
  ID: Wire.Numeric,
  TIMESTAMP_X: Schema.String,
  EVENT_NAME: Schema.String,
  EVENT_DATA: Schema.Unknown,
  EVENT_ADDITIONAL: Schema.optional(Schema.Unknown),
  MESSAGE_ID: Schema.String,
  PROCESS_ID: Schema.optional(Schema.NullOr(Schema.String)),
  ERROR: Schema.optional(Wire.Numeric)
}, rest).annotations({ identifier: "OfflineEvent" })

/**
 * The result of `event.offline.get`: the reservation's `process_id` (null with `clear: 1` and no `process_id`) and
 * the events (§3.2).
 *
 * @since 0.1.0
 * @category models
 */
export const OfflineBatch = Schema.Struct({
  process_id: Schema.NullOr(Schema.String),
  events: Schema.Array(OfflineEvent)
}, rest).annotations({ identifier: "OfflineBatch" })

const filter = Schema.Record({ key: Schema.String, value: Schema.Union(Schema.String, Schema.Number) })

/**
 * `event.offline.get`: takes up to `limit` (default 50) queued events. With `clear: 0` they are reserved under a
 * `process_id` and stay hidden until `event.offline.clear` (at-least-once: after a crash, call again with the same
 * `process_id` to read them again); with `clear: 1` (the portal's default) they are deleted at once (at-most-once).
 * `error: 1` reads the rows flagged by `event.offline.error`. Admin only. Reservation needs the
 * `rest_offline_extended` feature on a real portal.
 *
 * Not idempotent: each call without `process_id` reserves new rows.
 *
 * Source: docs/bitrix24-events.md §3.1, §3.2.
 *
 * @since 0.1.0
 * @category methods
 */
export const offlineGet = Method.make({
  method: "event.offline.get",
  ...application,
  summary: "Take queued offline events",
  description: "clear 0 reserves them under process_id until event.offline.clear; clear 1 (the default) deletes " +
    "them at once. process_id re-reads a reservation. Admin only.",
  source: "docs/bitrix24-events.md §3.1, §3.2",
  params: {
    filter: Schema.optionalWith(filter, { exact: true }),
    order: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Schema.Literal("ASC", "DESC") }), {
      exact: true
    }),
    limit: Schema.optionalWith(Wire.Id.annotations({ description: "Events per call", default: 50 }), { exact: true }),
    clear: Schema.optionalWith(Wire.OneZero.annotations({ description: "Delete the rows now (default 1)" }), {
      exact: true
    }),
    process_id: Schema.optionalWith(ProcessId, { exact: true }),
    error: Schema.optionalWith(Wire.OneZero.annotations({ description: "Read the rows flagged as errors" }), {
      exact: true
    }),
    auth_connector: Schema.optionalWith(Schema.String, { exact: true })
  },
  result: OfflineBatch,
  errors: offlineErrors,
  idempotent: false,
  batchable: false,
  example: { clear: false, limit: 10 }
})

/**
 * `event.offline.clear`: deletes rows of a reservation (`id` or `message_id` lists; all of the process's rows when
 * neither is given). Answers `true`. Idempotent.
 *
 * Source: docs/bitrix24-events.md §3.3.
 *
 * @since 0.1.0
 * @category methods
 */
export const offlineClear = Method.make({
  method: "event.offline.clear",
  ...application,
  summary: "Delete reserved offline events",
  description: "process_id, and id[] or message_id[] (else the whole reservation). Admin only.",
  source: "docs/bitrix24-events.md §3.3",
  params: {
    process_id: ProcessId,
    id: Schema.optionalWith(Schema.Array(Wire.Id), { exact: true }),
    message_id: Schema.optionalWith(Schema.Array(MessageId), { exact: true }),
    auth_connector: Schema.optionalWith(Schema.String, { exact: true })
  },
  result: Schema.Boolean,
  errors: offlineErrors,
  idempotent: true,
  example: { process_id: "0123456789abcdef0123456789abcdef" }
})

/**
 * `event.offline.error`: flags rows of a reservation as failed (`ERROR=1`) and releases them; read them later with
 * `event.offline.get` `error: 1`. Answers `true`. Idempotent.
 *
 * Source: docs/bitrix24-events.md §3.4.
 *
 * @since 0.1.0
 * @category methods
 */
export const offlineError = Method.make({
  method: "event.offline.error",
  ...application,
  summary: "Flag reserved offline events as failed",
  description: "process_id and message_id[]: the rows get ERROR=1 and are released. Admin only.",
  source: "docs/bitrix24-events.md §3.4",
  params: {
    process_id: ProcessId,
    message_id: Schema.Array(MessageId),
    auth_connector: Schema.optionalWith(Schema.String, { exact: true })
  },
  result: Schema.Boolean,
  errors: offlineErrors,
  idempotent: true,
  example: { process_id: "0123456789abcdef0123456789abcdef", message_id: ["0123456789abcdef0123456789abcdef"] }
})

/**
 * `event.offline.list`: reads the queue without reserving anything: pages of 50 (`start`), rows with `PROCESS_ID`
 * and `ERROR`, and the envelope's `total` (§3.5).
 *
 * @since 0.1.0
 * @category methods
 */
export const offlineList = Method.make({
  method: "event.offline.list",
  ...application,
  summary: "Read the offline queue without reserving",
  description: "filter (also PROCESS_ID, ERROR), order (default ID ASC), start (pages of 50). Admin only.",
  source: "docs/bitrix24-events.md §3.5",
  params: {
    filter: Schema.optionalWith(filter, { exact: true }),
    order: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Schema.Literal("ASC", "DESC") }), {
      exact: true
    }),
    start: Schema.optionalWith(Wire.Count.annotations({ description: "Offset (pages of 50)" }), { exact: true }),
    auth_connector: Schema.optionalWith(Schema.String, { exact: true })
  },
  result: Schema.Array(OfflineEvent),
  errors: offlineErrors,
  idempotent: true,
  example: {}
})
