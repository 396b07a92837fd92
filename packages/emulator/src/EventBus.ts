/**
 * The emulated portal as a source of events (docs/bitrix24-events.md §1-§3): the applications' bindings, online
 * delivery to handler URLs, the offline queue, and the record of every delivery.
 *
 * - **Online** (§2): each matching binding gets a `POST` with a PHP bracket form body (`Wire.encodeQuery`, as
 *   `http_build_query` writes it, §2.2): `event`, `event_handler_id`, `data`, `ts` (Unix seconds) and `auth`
 *   (`member_id`, `domain`, the application's `application_token`, endpoints, `status`, and an access token for the
 *   user who caused the event; `refresh_token` too for ONAPPINSTALL and ONOFFLINEEVENT, §2.4). Deliveries leave from a
 *   background fiber after the call that caused them has answered, one handler URL at a time in order, and are
 *   **never retried** (§2.6): a timeout, a refused connection or a non-2xx answer is recorded in {@link Bus.deliveries}
 *   and the event is gone.
 * - **Offline** (§3): rows per application, coalesced by `MESSAGE_ID = md5(EVENT_NAME|JSON(data))` while unreserved,
 *   reserved by `event.offline.get` under a 32-character `process_id`, cleared, or flagged as errors and released.
 *   New rows notify the application's ONOFFLINEEVENT handlers, at most once per `minTimeout` seconds per binding.
 *
 * The open points of §7 are settings ({@link Settings}), each with the choice this emulator makes by default.
 * Deliveries go only to loopback addresses unless `deliverTo` is `"any"`: an emulator is a test bed.
 *
 * @since 0.1.0
 */
import { Wire } from "@bitrix24-effect/core"
import * as Crypto from "node:crypto"
import * as Credentials from "./Credentials.js"
import type * as PortalClock from "./PortalClock.js"

/**
 * What public material leaves open (§7), as switches; the defaults are this emulator's choices.
 *
 * - `deliveryTimeoutMs` (§7.1, unpublished): how long the queue server waits for a handler's answer; default 5000.
 *   Any 2xx answer counts as delivered; anything else, or no answer in time, is a failure.
 * - `duplicateDeliveries` (§7.2: cross-hit duplicates unknown): deliver every online event twice; default off.
 * - `statusDeleteToCaller` (§7.11): switching a connector off with `imconnector.activate` fires
 *   ONIMCONNECTORSTATUSDELETE to the application that did it; default on.
 * - `setErrorFiresStatusDelete` (§7.10): `imconnector.set.error` fires ONIMCONNECTORSTATUSDELETE; default off.
 * - `checkConnectorOwner` (§7.9): `activate`, `status`, `set.error` and `connector.data.set` refuse another
 *   application's connector with `IMCONNECTOR_NO_CORRECT_PROVIDER`; default on.
 * - `deliverTo`: `"loopback"` (default: other hosts are recorded as refused, never contacted) or `"any"`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Settings {
  deliveryTimeoutMs: number
  duplicateDeliveries: boolean
  statusDeleteToCaller: boolean
  setErrorFiresStatusDelete: boolean
  checkConnectorOwner: boolean
  deliverTo: "loopback" | "any"
}

/**
 * The default {@link Settings}.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultSettings: Settings = {
  deliveryTimeoutMs: 5000,
  duplicateDeliveries: false,
  statusDeleteToCaller: true,
  setErrorFiresStatusDelete: false,
  checkConnectorOwner: true,
  deliverTo: "loopback"
}

/**
 * How the queue server treats a handler URL (set through the control API): `up` (the default), `down` (every
 * delivery fails as if the handler did not answer, nothing is sent) or `slow` (each delivery leaves `delayMs` late,
 * as the queue server lowers a slow handler's priority, §2.6).
 *
 * @since 0.1.0
 * @category models
 */
export type HandlerMode =
  | { readonly kind: "up" }
  | { readonly kind: "down" }
  | { readonly kind: "slow"; readonly delayMs: number }

/**
 * An event binding (`event.bind`, §1.1): the application, the upper-case event code, the handler URL (online) or the
 * offline queue's `auth_connector`, the `auth_type` user (0: whoever caused the event) and the kept options.
 *
 * @since 0.1.0
 * @category models
 */
export interface Binding {
  readonly id: number
  readonly clientId: string
  readonly event: string
  readonly handler: string | undefined
  readonly authType: number
  readonly offline: boolean
  readonly authConnector: string
  readonly options: Readonly<Record<string, unknown>>
}

/**
 * A row of the offline queue (`b_rest_event_offline`, §3.1). `processId` is `""` while unreserved.
 *
 * @since 0.1.0
 * @category models
 */
export interface OfflineRow {
  readonly id: number
  timestamp: number
  readonly messageId: string
  readonly clientId: string
  readonly event: string
  readonly data: unknown
  readonly userId: number
  processId: string
  readonly connectorId: string
  error: boolean
}

/**
 * One online delivery as the queue server recorded it: what went where and how it ended. No token is kept.
 *
 * - `outcome`: `delivered` (2xx), `failed` (another status, or the connection failed), `timeout`, `down` (the handler
 *   is switched down, nothing sent) or `refused` (not a loopback address, nothing sent).
 * - `at` is epoch milliseconds on the portal clock; `ms` the real time the attempt took.
 *
 * @since 0.1.0
 * @category models
 */
export interface Delivery {
  readonly seq: number
  readonly at: number
  readonly event: string
  readonly handlerId: number
  readonly clientId: string
  readonly handler: string
  readonly data: unknown
  outcome: "pending" | "delivered" | "failed" | "timeout" | "down" | "refused"
  status: number | undefined
  ms: number
  description: string | undefined
}

/**
 * A delivery waiting for the background fiber: the record and the form body (which carries tokens; never kept).
 *
 * @since 0.1.0
 * @category models
 */
export interface Pending {
  readonly record: Delivery
  readonly body: string
}

/**
 * What the bus needs of the portal it belongs to.
 *
 * @since 0.1.0
 * @category models
 */
export interface Host {
  readonly credentials: Credentials.Credentials
  readonly clock: PortalClock.PortalClock
  readonly domain: () => string
  readonly memberId: () => string
  readonly baseUrl: () => string
}

/**
 * The event state of one portal.
 *
 * @since 0.1.0
 * @category models
 */
export interface Bus {
  readonly settings: Settings
  readonly bindings: Array<Binding>
  readonly offline: Array<OfflineRow>
  readonly deliveries: Array<Delivery>
  readonly modes: Map<string, HandlerMode>
  /** The `application_token` of each application on this portal (§2.5), made at install. */
  readonly applicationTokens: Map<string, string>
  /** When each ONOFFLINEEVENT binding was last notified (portal clock, ms). */
  readonly notified: Map<number, number>
  counters: { bindings: number; offline: number; deliveries: number }
  /** Where pending deliveries go; the emulator's background fiber sets it. */
  sink: (pending: Pending) => void
  readonly host: Host
}

/**
 * A fresh bus with these settings.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (host: Host, settings?: Partial<Settings>): Bus => ({
  settings: { ...defaultSettings, ...settings },
  bindings: [],
  offline: [],
  deliveries: [],
  modes: new Map(),
  applicationTokens: new Map(),
  notified: new Map(),
  counters: { bindings: 0, offline: 0, deliveries: 0 },
  sink: () => undefined,
  host
})

/**
 * Clears bindings, queue, deliveries, handler modes and application tokens (a portal reset).
 *
 * @since 0.1.0
 * @category constructors
 */
export const clear = (bus: Bus): void => {
  bus.bindings.length = 0
  bus.offline.length = 0
  bus.deliveries.length = 0
  bus.modes.clear()
  bus.applicationTokens.clear()
  bus.notified.clear()
  bus.counters = { bindings: 0, offline: 0, deliveries: 0 }
}

/**
 * The application's `application_token` on this portal, made on first use (at install, §2.7).
 *
 * @since 0.1.0
 * @category applications
 */
export const applicationToken = (bus: Bus, clientId: string): string => {
  let token = bus.applicationTokens.get(clientId)
  if (token === undefined) {
    token = Credentials.randomCode(32)
    bus.applicationTokens.set(clientId, token)
  }
  return token
}

/**
 * `MESSAGE_ID` of an offline row: `md5(EVENT_NAME + "|" + JSON(EVENT_DATA))` (§3.1).
 *
 * @since 0.1.0
 * @category offline
 */
export const messageId = (event: string, data: unknown): string =>
  Crypto.createHash("md5").update(`${event}|${JSON.stringify(data ?? null)}`).digest("hex")

/** Events whose delivery carries the refresh token (`sendRefreshToken`, §2.4). */
const withRefreshToken: ReadonlySet<string> = new Set(["ONAPPINSTALL", "ONOFFLINEEVENT"])

/**
 * The `auth` block of a delivery (§2.4): tokens of `userId` through the application when a user caused the event
 * (none for user 0 and for ONAPPUNINSTALL), the portal's identity and the application token always.
 *
 * @since 0.1.0
 * @category online
 */
export const authBlock = (
  bus: Bus,
  clientId: string,
  event: string,
  userId: number
): Record<string, unknown> => {
  const { clock, credentials } = bus.host
  const application = Credentials.application(credentials, clientId)
  const base = bus.host.baseUrl()
  const identity = {
    domain: bus.host.domain(),
    client_endpoint: `${base}/rest/`,
    server_endpoint: `${base}/oauth/rest/`,
    member_id: bus.host.memberId(),
    application_token: applicationToken(bus, clientId)
  }
  if (application === undefined || userId <= 0 || event === "ONAPPUNINSTALL") return identity
  const pair = Credentials.issuePair(credentials, clock.now(), application, userId)
  return {
    access_token: pair.access.token,
    expires: Math.floor(pair.access.expiresAt / 1000),
    expires_in: 3600,
    scope: [...application.scopes].join(","),
    ...identity,
    status: application.status,
    user_id: userId,
    ...(withRefreshToken.has(event) ? { refresh_token: pair.refresh.token } : {})
  }
}

const isLoopback = (url: string): boolean => {
  try {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, "")
    return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host)
  } catch {
    return false
  }
}

/**
 * Queues one online delivery of an event to a handler URL (and a second one with `duplicateDeliveries`).
 *
 * @since 0.1.0
 * @category online
 */
export const deliver = (
  bus: Bus,
  target: { readonly clientId: string; readonly handler: string; readonly handlerId: number | undefined },
  event: string,
  data: unknown,
  userId: number
): void => {
  const times = bus.settings.duplicateDeliveries ? 2 : 1
  const body = Wire.encodeQuery({
    event,
    ...(target.handlerId === undefined ? {} : { event_handler_id: target.handlerId }),
    ...(data === undefined ? {} : { data }),
    ts: Math.floor(bus.host.clock.now() / 1000),
    auth: authBlock(bus, target.clientId, event, userId)
  })
  for (let i = 0; i < times; i++) {
    const record: Delivery = {
      seq: ++bus.counters.deliveries,
      at: bus.host.clock.now(),
      event,
      handlerId: target.handlerId ?? 0,
      clientId: target.clientId,
      handler: target.handler,
      data,
      outcome: "pending",
      status: undefined,
      ms: 0,
      description: undefined
    }
    bus.deliveries.push(record)
    if (bus.settings.deliverTo === "loopback" && !isLoopback(target.handler)) {
      record.outcome = "refused"
      record.description = "not a loopback address: the emulator delivers only to this machine"
      continue
    }
    bus.sink({ record, body })
  }
}

/**
 * Fires an event: each binding of `event` (of the applications in `only`, when given) gets it online, or as an
 * offline row. `userId` is the user who caused it (0: none, e.g. a robot).
 *
 * @since 0.1.0
 * @category events
 */
export const emit = (
  bus: Bus,
  event: string,
  data: unknown,
  options: { readonly userId: number; readonly only?: ReadonlyArray<string> | undefined }
): void => {
  const only = options.only
  const notify = new Set<string>()
  for (const binding of [...bus.bindings]) {
    if (binding.event !== event) continue
    if (only !== undefined && !only.includes(binding.clientId)) continue
    if (!binding.offline) {
      deliver(
        bus,
        { clientId: binding.clientId, handler: binding.handler!, handlerId: binding.id },
        event,
        data,
        binding.authType > 0 ? binding.authType : options.userId
      )
      continue
    }
    enqueueOffline(bus, binding, event, data, options.userId)
    notify.add(binding.clientId)
  }
  for (const clientId of notify) notifyOffline(bus, clientId, options.userId)
}

/** Adds or coalesces an offline row (§3.1). */
const enqueueOffline = (bus: Bus, binding: Binding, event: string, data: unknown, userId: number): void => {
  const id = messageId(event, data)
  const now = bus.host.clock.now()
  const existing = bus.offline.find((row) =>
    row.messageId === id && row.clientId === binding.clientId && row.connectorId === binding.authConnector &&
    row.processId === "" && !row.error
  )
  if (existing !== undefined) {
    existing.timestamp = now
    return
  }
  bus.offline.push({
    id: ++bus.counters.offline,
    timestamp: now,
    messageId: id,
    clientId: binding.clientId,
    event,
    data,
    userId,
    processId: "",
    connectorId: binding.authConnector,
    error: false
  })
}

/** Notifies the application's ONOFFLINEEVENT handlers, each at most once per its `minTimeout` seconds (§3.6). */
const notifyOffline = (bus: Bus, clientId: string, userId: number): void => {
  const now = bus.host.clock.now()
  for (const binding of bus.bindings) {
    if (binding.event !== "ONOFFLINEEVENT" || binding.offline || binding.clientId !== clientId) continue
    const minTimeout = Number(binding.options.minTimeout ?? 1)
    const last = bus.notified.get(binding.id)
    if (last !== undefined && now - last < Math.max(0, minTimeout) * 1000) continue
    bus.notified.set(binding.id, now)
    deliver(bus, { clientId, handler: binding.handler!, handlerId: binding.id }, "ONOFFLINEEVENT", undefined, userId)
  }
}

/**
 * Does any application bind this event (online or offline)?
 *
 * @since 0.1.0
 * @category events
 */
export const isBound = (bus: Bus, event: string): boolean => bus.bindings.some((binding) => binding.event === event)

/**
 * A new 32-character `process_id` (§3.2).
 *
 * @since 0.1.0
 * @category offline
 */
export const newProcessId = (): string => Crypto.randomBytes(16).toString("hex")

/**
 * An offline row as `event.offline.get` / `.list` answer it (§3.2, §3.5).
 *
 * @since 0.1.0
 * @category offline
 */
export const offlineRowJson = (row: OfflineRow, withProcess: boolean): Record<string, unknown> => ({
  ID: String(row.id),
  TIMESTAMP_X: new Date(row.timestamp).toISOString().replace(/\.\d{3}Z$/, "+00:00"),
  EVENT_NAME: row.event,
  EVENT_DATA: row.data ?? false,
  EVENT_ADDITIONAL: row.userId > 0 ? { user_id: String(row.userId) } : [],
  MESSAGE_ID: row.messageId,
  ...(withProcess ? { PROCESS_ID: row.processId, ERROR: row.error ? "1" : "0" } : {})
})

/**
 * The deliveries as the control API shows them (no token ever kept).
 *
 * @since 0.1.0
 * @category online
 */
export const deliveriesSince = (bus: Bus, since: number): ReadonlyArray<Delivery> =>
  bus.deliveries.filter((delivery) => delivery.seq > since)
