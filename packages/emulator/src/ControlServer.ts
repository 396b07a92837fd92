/**
 * Serves the control API (`ControlApi`) with HttpApiBuilder, over the operations of one running emulator. The
 * result is an HttpApp that `Server` mounts under `/_emulator/`, apart from the REST hot path.
 *
 * @since 0.1.0
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import type * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as ControlApi from "./ControlApi.js"
import type * as EventBus from "./EventBus.js"
import type * as Faults from "./Faults.js"
import type * as Journal from "./Journal.js"
import type * as Limits from "./Limits.js"
import type * as OAuthServer from "./OAuthServer.js"
import type * as PortalClock from "./PortalClock.js"

/**
 * What the control API does, implemented by `Emulator`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Operations {
  /** A JSON snapshot of the portal and settings, secrets left out. */
  readonly state: () => unknown
  readonly reset: () => void
  /** Loads a fixture in its JSON form; answers the decode failure's text, or `undefined` when loaded. */
  readonly loadFixture: (fixture: unknown) => string | undefined
  /** The journal entries after `since` (a `seq`), redacted. */
  readonly journal: (since: number) => ReadonlyArray<Journal.Entry>
  readonly stats: () => typeof ControlApi.Stats.Type
  readonly clock: PortalClock.PortalClock
  readonly limits: () => typeof ControlApi.LimitsState.Type
  readonly setLimits: (limits: Limits.Limits) => void
  readonly faults: () => ReadonlyArray<Faults.Armed>
  readonly setFaults: (faults: ReadonlyArray<Faults.Fault>) => void
  /** Issues a token pair, or answers why not (unknown application or user). */
  readonly issue: (userId: number, clientId: string | undefined) => OAuthServer.TokenResponse | string
  /** The event bus: deliveries, handler modes, settings, the offline queue. */
  readonly events: EventBus.Bus
  /** Installs an application (ONAPPINSTALL to `handler`), or answers why not. */
  readonly install: (options: {
    readonly handler: string
    readonly clientId?: string | undefined
    readonly userId?: number | undefined
  }) => string | undefined
  /** Uninstalls an application (ONAPPUNINSTALL), or answers why not. */
  readonly uninstall: (clientId: string | undefined) => string | undefined
}

const armed = (operations: Operations) =>
  operations.faults().map((slot) =>
    slot.remaining === undefined ? { fault: slot.fault } : { fault: slot.fault, remaining: slot.remaining }
  )

const clockState = (clock: PortalClock.PortalClock) => ({ mode: clock.mode, now: clock.now() })

/**
 * The handlers of every group, as one Layer providing the API.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (operations: Operations) => {
  const portal = HttpApiBuilder.group(ControlApi.ControlApi, "portal", (handlers) =>
    handlers
      .handle("state", () => Effect.sync(operations.state))
      .handle("reset", () => Effect.sync(operations.reset))
      .handle("loadFixture", ({ payload }) =>
        Effect.suspend(() => {
          const failure = operations.loadFixture(payload)
          return failure === undefined ? Effect.void : Effect.fail(new ControlApi.InvalidFixture({ reason: failure }))
        }))
      .handle("journal", ({ urlParams }) => Effect.sync(() => operations.journal(urlParams.since ?? 0)))
      .handle("stats", () => Effect.sync(operations.stats)))
  const clock = HttpApiBuilder.group(ControlApi.ControlApi, "clock", (handlers) =>
    handlers
      .handle("get", () => Effect.sync(() => clockState(operations.clock)))
      .handle("advance", ({ payload }) =>
        Effect.sync(() => {
          operations.clock.advance(payload.ms)
          return clockState(operations.clock)
        })))
  const limits = HttpApiBuilder.group(ControlApi.ControlApi, "limits", (handlers) =>
    handlers
      .handle("get", () => Effect.sync(operations.limits))
      .handle("set", ({ payload }) =>
        Effect.sync(() => {
          operations.setLimits(payload)
          return operations.limits()
        })))
  const faults = HttpApiBuilder.group(ControlApi.ControlApi, "faults", (handlers) =>
    handlers
      .handle("get", () => Effect.sync(() => armed(operations)))
      .handle("set", ({ payload }) =>
        Effect.sync(() => {
          operations.setFaults(payload.faults)
          return armed(operations)
        })))
  const oauth = HttpApiBuilder.group(
    ControlApi.ControlApi,
    "oauth",
    (handlers) =>
      handlers.handle("issue", ({ payload }) =>
        Effect.suspend(() => {
          const issued = operations.issue(payload.userId, payload.clientId)
          if (typeof issued === "string") return Effect.fail(new ControlApi.UnknownSubject({ reason: issued }))
          return Effect.succeed({
            ...issued,
            access_token: Redacted.make(issued.access_token),
            refresh_token: Redacted.make(issued.refresh_token)
          })
        }))
  )
  const unknown = (failure: string | undefined) =>
    failure === undefined ? Effect.void : Effect.fail(new ControlApi.UnknownSubject({ reason: failure }))
  const events = HttpApiBuilder.group(ControlApi.ControlApi, "events", (handlers) =>
    handlers
      .handle("deliveries", ({ urlParams }) =>
        Effect.sync(() =>
          operations.events.deliveries.filter((d) =>
            d.seq > (urlParams.since ?? 0)
          ).map((d) => ({
            ...d,
            status: d.status,
            description: d.description
          }))
        ))
      .handle("handler", ({ payload }) =>
        Effect.sync(() =>
          void operations.events.modes.set(payload.handler, payload.mode)
        ))
      .handle("settings", () => Effect.sync(() => ({ ...operations.events.settings })))
      .handle("setSettings", ({ payload }) =>
        Effect.sync(() => {
          Object.assign(operations.events.settings, payload)
          return { ...operations.events.settings }
        }))
      .handle("install", ({ payload }) => Effect.suspend(() => unknown(operations.install(payload))))
      .handle("uninstall", ({ payload }) => Effect.suspend(() => unknown(operations.uninstall(payload.clientId))))
      .handle("queue", () => Effect.sync(() => operations.events.offline.map((row) => ({ ...row })))))
  return HttpApiBuilder.api(ControlApi.ControlApi).pipe(
    Layer.provide([portal, clock, limits, faults, oauth, events])
  )
}

/**
 * Builds the control API as an HttpApp for the lifetime of the scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  operations: Operations
): Effect.Effect<
  Effect.Effect<HttpServerResponse.HttpServerResponse, unknown, HttpServerRequest.HttpServerRequest>,
  never,
  Scope.Scope
> =>
  Effect.gen(function*() {
    const context = yield* Layer.build(Layer.mergeAll(
      layer(operations),
      HttpApiBuilder.Router.Live,
      HttpApiBuilder.Middleware.layer,
      NodeHttpServer.layerContext
    ))
    const app = yield* Effect.provide(HttpApiBuilder.httpApp, context)
    return Effect.provide(app, context)
  })
