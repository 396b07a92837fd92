/**
 * The emulator's control API, under `/_emulator/`: reset the portal, load a fixture, read its state and journal
 * (secrets redacted), move the clock, set the limits and the fault switches, issue OAuth tokens. Declared once as
 * an `@effect/platform` HttpApi: `ControlServer` serves it with HttpApiBuilder and `ControlClient` derives the typed
 * client from it.
 *
 * | Method and path | What it does |
 * | --- | --- |
 * | `GET /_emulator/state` | the portal (users, lines, chats, sessions, messages), credentials without secrets, clock, limits, faults |
 * | `POST /_emulator/reset` | the portal back to its fixture; journal, counters, limit state and faults cleared |
 * | `PUT /_emulator/fixture` | loads another fixture (JSON body in the `Fixture` format); 400 `InvalidFixture` |
 * | `GET /_emulator/journal?since=N` | the journal entries with `seq > N`, params redacted |
 * | `GET /_emulator/stats` | HTTP requests received, journal length, refresh-token exchanges, clock |
 * | `GET /_emulator/clock` / `POST /_emulator/clock/advance` `{ms}` | read / move the portal clock |
 * | `GET /_emulator/limits` / `PUT /_emulator/limits` | read / merge the limits (`Limits.Limits`) |
 * | `GET /_emulator/faults` / `PUT /_emulator/faults` `{faults}` | read / replace the fault switches |
 * | `POST /_emulator/oauth/issue` `{userId, clientId?}` | issues an access and refresh token |
 * | `GET /_emulator/events/deliveries?since=N` | the online deliveries with `seq > N`: event, handler, outcome, status |
 * | `PUT /_emulator/events/handler` `{handler, mode}` | makes a handler URL `up`, `down` or `slow` (`delayMs`) |
 * | `GET /_emulator/events/settings` / `PUT` | read / merge the event settings (`EventBus.Settings`, §7 choices) |
 * | `POST /_emulator/events/install` `{handler, clientId?, userId?}` | installs the application: ONAPPINSTALL to `handler` |
 * | `POST /_emulator/events/uninstall` `{clientId?}` | removes it: ONAPPUNINSTALL, bindings and connectors gone |
 * | `GET /_emulator/events/queue` | the offline queue rows of every application |
 *
 * @since 0.1.0
 */
import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as Schema from "effect/Schema"
import * as Faults from "./Faults.js"
import * as Limits from "./Limits.js"

/**
 * A journal entry on the wire (see `Journal.Entry`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const JournalEntry = Schema.Struct({
  seq: Schema.Number,
  request: Schema.Number,
  via: Schema.Literal("direct", "batch"),
  key: Schema.optional(Schema.String),
  at: Schema.Number,
  method: Schema.String,
  params: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  auth: Schema.String,
  entity: Schema.optional(Schema.String),
  status: Schema.Number,
  error: Schema.optional(Schema.String),
  executed: Schema.Boolean,
  fault: Schema.optional(Faults.Kind)
})

/**
 * The clock: its mode and the current time (epoch milliseconds).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ClockState = Schema.Struct({
  mode: Schema.Literal("system", "manual"),
  now: Schema.Number
})

/**
 * The limits in force and their running state: the bucket's level (requests) and the operating seconds recorded
 * per `entity method` in the current window.
 *
 * @since 0.1.0
 * @category schemas
 */
export const LimitsState = Schema.Struct({
  bucket: Limits.Bucket,
  operatingLimitSeconds: Schema.Number,
  operatingActive: Schema.Boolean,
  executionSeconds: Schema.Record({ key: Schema.String, value: Schema.Number }),
  holds: Schema.Array(Schema.String),
  bucketLevel: Schema.Number,
  operating: Schema.Record({ key: Schema.String, value: Schema.Number })
})

/**
 * A fault switch with its remaining count (absent without `times`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ArmedFault = Schema.Struct({
  fault: Faults.Fault,
  remaining: Schema.optional(Schema.Number)
})

/**
 * Counters.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Stats = Schema.Struct({
  /** HTTP requests received, control API excluded. */
  httpRequests: Schema.Number,
  journalEntries: Schema.Number,
  /** Successful refresh-token exchanges at `/oauth/token/`. */
  refreshes: Schema.Number,
  now: Schema.Number
})

/**
 * An issued token pair, as the OAuth server's token response (wire sheet §4), with the tokens `Redacted` on the
 * typed side.
 *
 * @since 0.1.0
 * @category schemas
 */
export const IssuedToken = Schema.Struct({
  access_token: Schema.Redacted(Schema.String),
  refresh_token: Schema.Redacted(Schema.String),
  expires: Schema.Number,
  expires_in: Schema.Number,
  client_endpoint: Schema.String,
  server_endpoint: Schema.String,
  domain: Schema.String,
  member_id: Schema.String,
  scope: Schema.String,
  status: Schema.String,
  user_id: Schema.Number
})

/**
 * A fixture that does not decode, with the reason.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidFixture extends Schema.TaggedError<InvalidFixture>("@bitrix24-effect/emulator/InvalidFixture")(
  "InvalidFixture",
  { reason: Schema.String },
  HttpApiSchema.annotations({ status: 400 })
) {}

/**
 * An OAuth token asked for an unknown application or user.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnknownSubject extends Schema.TaggedError<UnknownSubject>("@bitrix24-effect/emulator/UnknownSubject")(
  "UnknownSubject",
  { reason: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {}

/**
 * The portal group: state, reset, fixture, journal, stats.
 *
 * @since 0.1.0
 * @category api
 */
export const PortalGroup = HttpApiGroup.make("portal")
  .add(HttpApiEndpoint.get("state", "/state").addSuccess(Schema.Unknown))
  .add(HttpApiEndpoint.post("reset", "/reset"))
  .add(HttpApiEndpoint.put("loadFixture", "/fixture").setPayload(Schema.Unknown).addError(InvalidFixture))
  .add(
    HttpApiEndpoint.get("journal", "/journal")
      .setUrlParams(Schema.Struct({ since: Schema.optional(Schema.NumberFromString) }))
      .addSuccess(Schema.Array(JournalEntry))
  )
  .add(HttpApiEndpoint.get("stats", "/stats").addSuccess(Stats))

/**
 * The clock group.
 *
 * @since 0.1.0
 * @category api
 */
export const ClockGroup = HttpApiGroup.make("clock")
  .add(HttpApiEndpoint.get("get", "/clock").addSuccess(ClockState))
  .add(
    HttpApiEndpoint.post("advance", "/clock/advance")
      .setPayload(Schema.Struct({ ms: Schema.Number.pipe(Schema.nonNegative()) }))
      .addSuccess(ClockState)
  )

/**
 * The limits group.
 *
 * @since 0.1.0
 * @category api
 */
export const LimitsGroup = HttpApiGroup.make("limits")
  .add(HttpApiEndpoint.get("get", "/limits").addSuccess(LimitsState))
  .add(HttpApiEndpoint.put("set", "/limits").setPayload(Limits.Limits).addSuccess(LimitsState))

/**
 * The faults group.
 *
 * @since 0.1.0
 * @category api
 */
export const FaultsGroup = HttpApiGroup.make("faults")
  .add(HttpApiEndpoint.get("get", "/faults").addSuccess(Schema.Array(ArmedFault)))
  .add(
    HttpApiEndpoint.put("set", "/faults")
      .setPayload(Schema.Struct({ faults: Schema.Array(Faults.Fault) }))
      .addSuccess(Schema.Array(ArmedFault))
  )

/**
 * The OAuth group.
 *
 * @since 0.1.0
 * @category api
 */
export const OAuthGroup = HttpApiGroup.make("oauth")
  .add(
    HttpApiEndpoint.post("issue", "/oauth/issue")
      .setPayload(
        Schema.Struct({ userId: Schema.Int.pipe(Schema.positive()), clientId: Schema.optional(Schema.String) })
      )
      .addSuccess(IssuedToken)
      .addError(UnknownSubject)
  )

/**
 * One online delivery as the control API shows it (see `EventBus.Delivery`). Never a token.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Delivery = Schema.Struct({
  seq: Schema.Number,
  at: Schema.Number,
  event: Schema.String,
  handlerId: Schema.Number,
  clientId: Schema.String,
  handler: Schema.String,
  data: Schema.Unknown,
  outcome: Schema.Literal("pending", "delivered", "failed", "timeout", "down", "refused"),
  status: Schema.optional(Schema.Number),
  ms: Schema.Number,
  description: Schema.optional(Schema.String)
})

/**
 * A handler URL's mode (see `EventBus.HandlerMode`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const HandlerMode = Schema.Union(
  Schema.Struct({ kind: Schema.Literal("up") }),
  Schema.Struct({ kind: Schema.Literal("down") }),
  Schema.Struct({ kind: Schema.Literal("slow"), delayMs: Schema.Number.pipe(Schema.nonNegative()) })
)

/**
 * The event settings (see `EventBus.Settings`): the choices made where public material is silent.
 *
 * @since 0.1.0
 * @category schemas
 */
export const EventSettings = Schema.Struct({
  deliveryTimeoutMs: Schema.Number.pipe(Schema.positive()),
  duplicateDeliveries: Schema.Boolean,
  statusDeleteToCaller: Schema.Boolean,
  setErrorFiresStatusDelete: Schema.Boolean,
  checkConnectorOwner: Schema.Boolean,
  deliverTo: Schema.Literal("loopback", "any")
})

/**
 * The events group: deliveries, handler modes, settings, application install and uninstall, the offline queue.
 *
 * @since 0.1.0
 * @category api
 */
export const EventsGroup = HttpApiGroup.make("events")
  .add(
    HttpApiEndpoint.get("deliveries", "/events/deliveries")
      .setUrlParams(Schema.Struct({ since: Schema.optional(Schema.NumberFromString) }))
      .addSuccess(Schema.Array(Delivery))
  )
  .add(
    HttpApiEndpoint.put("handler", "/events/handler")
      .setPayload(Schema.Struct({ handler: Schema.String, mode: HandlerMode }))
  )
  .add(HttpApiEndpoint.get("settings", "/events/settings").addSuccess(EventSettings))
  .add(
    HttpApiEndpoint.put("setSettings", "/events/settings")
      .setPayload(Schema.partial(EventSettings))
      .addSuccess(EventSettings)
  )
  .add(
    HttpApiEndpoint.post("install", "/events/install")
      .setPayload(Schema.Struct({
        handler: Schema.String,
        clientId: Schema.optional(Schema.String),
        userId: Schema.optional(Schema.Int.pipe(Schema.positive()))
      }))
      .addError(UnknownSubject)
  )
  .add(
    HttpApiEndpoint.post("uninstall", "/events/uninstall")
      .setPayload(Schema.Struct({ clientId: Schema.optional(Schema.String) }))
      .addError(UnknownSubject)
  )
  .add(HttpApiEndpoint.get("queue", "/events/queue").addSuccess(Schema.Array(Schema.Unknown)))

/**
 * The whole control API, prefixed with `/_emulator`.
 *
 * @since 0.1.0
 * @category api
 */
export const ControlApi = HttpApi.make("emulator-control")
  .add(PortalGroup)
  .add(ClockGroup)
  .add(LimitsGroup)
  .add(FaultsGroup)
  .add(OAuthGroup)
  .add(EventsGroup)
  .prefix("/_emulator")
