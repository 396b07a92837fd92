/**
 * One emulated portal's state as the server works on it: the open-lines domain, credentials, journal, clock, limits,
 * fault switches, status profile and counters, with the fields set once the server listens.
 *
 * @internal
 */
import { Envelope, type PortalError } from "@bitrix24-effect/core"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import type * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import type * as Effect from "effect/Effect"
import type * as Connectors from "../Connectors.js"
import type * as Credentials from "../Credentials.js"
import type * as EventBus from "../EventBus.js"
import type * as Faults from "../Faults.js"
import type * as Handlers from "../Handlers.js"
import type * as Journal from "../Journal.js"
import type * as Limits from "../Limits.js"
import type * as Portal from "../Portal.js"
import type * as PortalClock from "../PortalClock.js"
import * as StatusProfile from "../StatusProfile.js"

/**
 * Running counters: HTTP requests received (every request but the control API's), journal sequence numbers and
 * refresh-token exchanges.
 *
 * @internal
 */
export interface Counters {
  requests: number
  seq: number
  refreshes: number
}

/**
 * Everything one emulated portal holds. `Emulator.make` builds it; the server's pipeline reads and changes it.
 *
 * @internal
 */
export interface Instance {
  readonly portal: Portal.Portal
  readonly credentials: Credentials.Credentials
  /** Event bindings, the offline queue and the deliveries (docs/bitrix24-events.md §1-§3). */
  readonly events: EventBus.Bus
  /** Connectors, their lines, outside chats and message links (docs/bitrix24-events.md §5). */
  readonly connectors: Connectors.State
  /**
   * The sessions seen so far and whether each was closed, to fire ONSESSIONSTART / ONSESSIONFINISH; `watching` while
   * an application binds those events.
   */
  readonly sessions: { readonly seen: Map<number, boolean>; watching: boolean }
  readonly journal: Journal.Journal
  readonly clock: PortalClock.PortalClock
  readonly limits: Limits.Limiter
  readonly faults: Faults.Injector
  readonly profile: StatusProfile.Profile
  /** See `Journal.append`. */
  readonly journalLimit: number | undefined
  readonly counters: Counters
  /** Methods served besides the handler registry (they win over it), keyed by lowercased name. */
  readonly methods: ReadonlyMap<string, Handlers.Entry>
  /** The base URL the server answers on (set once listening). */
  baseUrl: string
  /** The portal's `member_id` (wire sheet §4). */
  memberId: string
  /** The control API, served under `/_emulator/`. */
  control:
    | Effect.Effect<HttpServerResponse.HttpServerResponse, unknown, HttpServerRequest.HttpServerRequest>
    | undefined
}

/**
 * A wire error with the HTTP status it is answered with.
 *
 * @internal
 */
export interface WireError {
  readonly code: string
  readonly description: string
  readonly status: number
}

/**
 * The wire error of a system class, with the status the instance's profile gives its code.
 *
 * @internal
 */
export const systemError = (
  instance: Instance,
  Class: PortalError.PortalErrorClass<any>,
  description?: string
): WireError =>
  Envelope.wireError(Class, {
    description,
    status: StatusProfile.status(instance.profile, Class.spec.code, Class.spec.status)
  })
