/**
 * The emulator as a service: an in-memory Bitrix24 portal served over HTTP (or HTTPS) on loopback, with the
 * credentials a client needs, a controllable clock, the portal's limits, fault switches and a control API.
 * `layer` starts it (an ephemeral port by default) for tests and for the apps' embedded default; with
 * `listen: false` it opens no socket and is reached in process through its `app` (see `InProcess`).
 *
 * @since 0.1.0
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Crypto from "node:crypto"
import * as Http from "node:http"
import * as Https from "node:https"
import * as Connectors from "./Connectors.js"
import type * as ControlApi from "./ControlApi.js"
import * as ControlServer from "./ControlServer.js"
import * as Credentials from "./Credentials.js"
import * as EventBus from "./EventBus.js"
import * as Faults from "./Faults.js"
import * as Fixture from "./Fixture.js"
import type * as Handlers from "./Handlers.js"
import * as Delivery from "./internal/delivery.js"
import type { Instance } from "./internal/instance.js"
import * as SessionEvents from "./internal/sessionEvents.js"
import * as Journal from "./Journal.js"
import * as Limits from "./Limits.js"
import * as OAuthServer from "./OAuthServer.js"
import * as Portal from "./Portal.js"
import * as PortalClock from "./PortalClock.js"
import * as Server from "./Server.js"
import type * as StatusProfile from "./StatusProfile.js"
import * as Tls from "./Tls.js"

/**
 * An access token and its refresh token, issued through an OAuth application; `expiresAt` is the access token's
 * expiry in epoch milliseconds on the emulator's clock.
 *
 * @since 0.1.0
 * @category models
 */
export interface IssuedTokens {
  readonly accessToken: Redacted.Redacted<string>
  readonly refreshToken: Redacted.Redacted<string>
  readonly expiresAt: number
}

/**
 * The OAuth side of the emulator (wire sheet §4): the first application's credentials, the token endpoint and a
 * way to issue tokens directly.
 *
 * @since 0.1.0
 * @category models
 */
export interface OAuth {
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  /** `{url}/oauth/token/`: takes `grant_type=refresh_token` by GET query or POST form. */
  readonly tokenUrl: string
  /** Issues a token pair for a user through the first application (or the one named). Dies for an unknown app. */
  readonly issue: (userId: number, clientId?: string) => IssuedTokens
  /** Successful refresh-token exchanges so far. */
  readonly refreshes: () => number
}

/**
 * A running emulator.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** The base URL, e.g. `http://127.0.0.1:8090` (`https://` with `tls`); {@link inProcessUrl} without a socket. */
  readonly url: string
  /**
   * The whole emulator (REST, OAuth, control API) as an `@effect/platform` HttpApp, to serve elsewhere or to call in
   * process (`InProcess.httpClient`). Faults that drop the connection need a real socket.
   */
  readonly app: HttpApp.Default
  /** The inbound webhook URL of the first fixture webhook (user 1 by default), ending in `/`. */
  readonly webhookUrl: Redacted.Redacted<string>
  /** The inbound webhook URL of another user's webhook. Dies when the fixture has none for that user. */
  readonly webhookUrlFor: (userId: number) => Redacted.Redacted<string>
  /** An OAuth access token for the first webhook's user, valid for one hour; use at `{url}/rest/`. */
  readonly accessToken: Redacted.Redacted<string>
  /** The open-lines state (users, lines, chats, sessions, messages), for assertions. */
  readonly portal: Portal.Portal
  /** The inbound webhooks, OAuth applications and tokens. */
  readonly credentials: Credentials.Credentials
  /** Every call received, in order. */
  readonly journal: Journal.Journal
  /** HTTP requests received so far (REST and OAuth token endpoint; the control API is not counted). */
  readonly httpRequests: () => number
  /** The portal's clock (epoch milliseconds); with `clock: "manual"` time moves only through `advance`. */
  readonly clock: PortalClock.PortalClock
  readonly oauth: OAuth
  /** The limit settings in force. */
  readonly limits: () => ReturnType<Limits.Limiter["settings"]>
  /** Merges limit settings over the current ones (see `Limits.Limits`). */
  readonly setLimits: (limits: Limits.Limits) => void
  /** The fault switches with their remaining counts. */
  readonly faults: () => ReadonlyArray<Faults.Armed>
  /** Replaces the fault switches (and restarts the seeded share generator). */
  readonly setFaults: (faults: ReadonlyArray<Faults.Fault>) => void
  /** The server certificate (PEM) when serving HTTPS, for clients to trust. */
  readonly certificate: string | undefined
  readonly profile: StatusProfile.Profile
  /** `{url}/_emulator`, the control API's base. */
  readonly controlUrl: string
  /**
   * Puts the portal back to its fixture and clears the journal, the counters, the limit state and settings and the
   * fault switches (back to the start options). Credentials and the clock are kept.
   */
  readonly reset: () => void
  /** Loads another fixture (JSON form): portal and credentials rebuilt, journal and limit state cleared. */
  readonly loadFixture: (fixture: unknown) => Effect.Effect<void, ParseResult.ParseError>
  /**
   * The events (docs/bitrix24-events.md §1-§3): bindings, the offline queue, every online delivery with its outcome,
   * handler modes (`up`, `down`, `slow`) and the settings of the open points of §7 (`EventBus.Settings`).
   */
  readonly events: EventBus.Bus
  /** Connectors, their state per line, outside chats and the statuses of their messages (§5). */
  readonly connectors: Connectors.State
  /**
   * Installs an application on the portal (§2.7): ONAPPINSTALL, with its tokens and `application_token`, is POSTed to
   * `handler` (as the install handler of the application's card would be). Throws for an unknown application or user.
   */
  readonly install: (options: {
    readonly handler: string
    readonly clientId?: string | undefined
    readonly userId?: number | undefined
  }) => void
  /**
   * Removes an application (§2.7): ONAPPUNINSTALL to its bound handlers, then its bindings, queue and connectors go.
   */
  readonly uninstall: (clientId?: string) => void
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Emulator extends Context.Tag("@bitrix24-effect/emulator/Emulator")<Emulator, Service>() {}

/**
 * Where to listen and what portal to serve.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * Whether to listen on a socket (default `true`). With `false` nothing is opened: `url` is {@link inProcessUrl}
   * and the emulator is reached through `app` (see `InProcess`); `port`, `host`, `tls` and `latency` do not apply.
   */
  readonly listen?: boolean | undefined
  /** The port; 0 (the default) picks a free one. */
  readonly port?: number | undefined
  /** The address to listen on; default `127.0.0.1`. */
  readonly host?: string | undefined
  /** A fixture in its JSON form; the default fixture when absent. */
  readonly fixture?: typeof Fixture.Fixture.Encoded | undefined
  readonly settings?: Partial<Portal.Settings> | undefined
  /** `system` (the default) or `manual` (time moves only through `clock.advance`). */
  readonly clock?: PortalClock.Mode | undefined
  /** The manual clock's start, epoch milliseconds (default: now). */
  readonly clockStart?: number | undefined
  /** OAuth applications, replacing the fixture's (wire sheet §4). */
  readonly applications?: ReadonlyArray<typeof Credentials.Application.Encoded> | undefined
  /** The limits (wire sheet §3); by default the `standard` leaky bucket and 480 s of operating time (cloud). */
  readonly limits?: Limits.Limits | undefined
  /** Fault switches active from the start. */
  readonly faults?: ReadonlyArray<Faults.Fault> | undefined
  /** The seed of the generator behind fault `share`s (default 1): the same seed gives the same sequence. */
  readonly seed?: number | undefined
  /** `cloud` (the default) or `self-hosted` statuses and headers (see `StatusProfile`). */
  readonly profile?: StatusProfile.Profile | undefined
  /** Serve HTTPS: `true` for a self-signed pair made at start, or a PEM certificate and key. */
  readonly tls?: true | { readonly cert: string; readonly key: string } | undefined
  /**
   * Network latency to simulate (a cloud portal seen from elsewhere): every REST and token request is answered after
   * `ms` milliseconds of real time, plus or minus up to `jitterMs` (uniform, from the generator seeded with `seed`).
   * The control API is never delayed. Default: none (loopback speed).
   */
  readonly latency?: Latency | undefined
  /** Keep about this many journal entries at most (default: all); for long benchmarks. */
  readonly journalLimit?: number | undefined
  /**
   * Methods to serve besides the handler registry, keyed by name (case-insensitive): stubs for methods the catalog
   * does not declare, or replacements. They go through the same auth, limits, batch and envelope as every method.
   */
  readonly methods?: Readonly<Record<string, Handlers.Entry>> | undefined
  /** Event settings: the choices where docs/bitrix24-events.md §7 leaves a point open (see `EventBus.Settings`). */
  readonly events?: Partial<EventBus.Settings> | undefined
}

/**
 * Simulated network latency per request (see `Options.latency`), in milliseconds of real time.
 *
 * @since 0.1.0
 * @category models
 */
export interface Latency {
  readonly ms: number
  readonly jitterMs?: number | undefined
}

/**
 * The base URL of an emulator that does not listen (`listen: false`): the reserved `.invalid` domain, which never
 * resolves, so a request that escapes the in-process client fails at once instead of reaching a real host.
 *
 * @since 0.1.0
 * @category constants
 */
export const inProcessUrl = "http://emulator.invalid"

const decodeFixture = Schema.decodeUnknownEither(Fixture.Fixture)

/**
 * Wraps a request listener so that REST and token requests are handled after the simulated latency; control API
 * requests go straight through.
 */
const delayed = (
  latency: Latency,
  seed: number,
  handle: (request: Http.IncomingMessage, response: Http.ServerResponse) => void
) => {
  const random = Faults.seeded(seed)
  const jitter = Math.max(0, latency.jitterMs ?? 0)
  return (request: Http.IncomingMessage, response: Http.ServerResponse): void => {
    if ((request.url ?? "").startsWith("/_emulator")) return handle(request, response)
    const ms = Math.max(0, latency.ms + (random() * 2 - 1) * jitter)
    const timer = setTimeout(() => handle(request, response), ms)
    response.once("close", () => clearTimeout(timer))
  }
}

/** A JSON view of portal state: Maps and Sets as arrays, secrets and functions left out. */
const toJson = (value: unknown): unknown => {
  if (value === null || typeof value !== "object") return typeof value === "function" ? undefined : value
  if (Redacted.isRedacted(value)) return "<redacted>"
  if (value instanceof Map) return [...value.values()].map(toJson)
  if (value instanceof Set) return [...value].map(toJson)
  if (Array.isArray(value)) return value.map(toJson)
  const out: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== "function") out[key] = toJson(item)
  }
  return out
}

/** Listens on a Node server (HTTP, or HTTPS with `tls`) answering with `app`; answers the URL and certificate. */
const serve = (
  options: Options,
  instance: Instance,
  app: HttpApp.Default
): Effect.Effect<
  { readonly certificate: string | undefined; readonly url: string },
  HttpServerError.ServeError,
  Scope.Scope
> =>
  Effect.gen(function*() {
    const host = options.host ?? "127.0.0.1"
    const tls = options.tls === true ? yield* Tls.selfSigned(host) : options.tls
    const nodeServer = tls === undefined
      ? Http.createServer()
      : Https.createServer({ cert: tls.cert, key: tls.key })
    const server = yield* NodeHttpServer.make(() => nodeServer as unknown as Http.Server, {
      port: options.port ?? 0,
      host
    })
    // Runs before the server's own close: calls held open by a latency fault must not delay the shutdown.
    yield* Effect.addFinalizer(() => Effect.sync(() => nodeServer.closeAllConnections()))
    const address = server.address
    const scheme = tls === undefined ? "http" : "https"
    const url = address._tag === "TcpAddress"
      ? `${scheme}://${address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname}:${address.port}`
      : `${scheme}://unix:${address.path}`
    // No span per REST call, and the plain calls answered by Server.listener without a fiber: the emulator must not
    // be a benchmark's bottleneck. Everything else runs through the Effect handler of Server.app.
    const fallback = yield* NodeHttpServer.makeHandler(app).pipe(
      Effect.locally(HttpMiddleware.currentTracerDisabledWhen, () => true)
    )
    const direct = Server.listener(instance, fallback)
    const onRequest = options.latency === undefined || options.latency.ms <= 0
      ? direct
      : delayed(options.latency, options.seed ?? 1, direct)
    nodeServer.on("request", onRequest)
    yield* Effect.addFinalizer(() => Effect.sync(() => nodeServer.off("request", onRequest)))
    return { certificate: tls?.cert, url }
  })

/**
 * Starts an emulator for the lifetime of the scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<Service, HttpServerError.ServeError, Scope.Scope> =>
  Effect.gen(function*() {
    const profile = options.profile ?? "cloud"
    const clock = PortalClock.make(options.clock ?? "system", options.clockStart)
    let fixture = Schema.decodeUnknownSync(Fixture.Fixture)(options.fixture ?? Fixture.defaultFixture)
    const applications = options.applications === undefined
      ? undefined
      : Schema.decodeUnknownSync(Schema.Array(Credentials.Application))(options.applications)
    const credentialSource = (f: Fixture.Fixture): Credentials.Source => ({
      webhooks: f.webhooks,
      applications: applications ?? f.applications
    })
    const portal = Portal.make(fixture, { now: clock.now, settings: options.settings })
    const credentials = Credentials.make(credentialSource(fixture), clock.now())
    const limits = Limits.make(options.limits ?? {}, {
      bucket: profile === "cloud" ? "standard" : "off",
      operatingActive: profile === "cloud"
    })
    const faults = Faults.make(options.faults ?? [], options.seed ?? 1)
    const events = EventBus.make({
      credentials,
      clock,
      domain: () => portal.domain,
      memberId: () => instance.memberId,
      baseUrl: () => instance.baseUrl
    }, options.events)
    const connectors = Connectors.make(fixture)
    const instance: Instance = {
      portal,
      credentials,
      events,
      connectors,
      sessions: { seen: new Map(), watching: false },
      journal: [],
      clock,
      limits,
      faults,
      profile,
      journalLimit: options.journalLimit,
      counters: { requests: 0, seq: 0, refreshes: 0 },
      methods: new Map(Object.entries(options.methods ?? {}).map(([name, method]) => [name.toLowerCase(), method])),
      baseUrl: "",
      memberId: Crypto.createHash("md5").update(fixture.domain).digest("hex"),
      control: undefined
    }
    SessionEvents.remember(instance)
    let initialToken = [...credentials.tokens.values()][0]?.token ?? ""

    const app = Server.app(instance)
    const { certificate, url } = options.listen === false
      ? { certificate: undefined, url: inProcessUrl }
      : yield* serve(options, instance, app)
    instance.baseUrl = url

    const webhookUrlFor = (userId: number) => {
      const webhook = credentials.webhooks.find((w) => w.userId === userId)
      if (webhook === undefined) throw new Error(`the fixture has no inbound webhook for user ${userId}`)
      return Redacted.make(`${url}/rest/${webhook.userId}/${webhook.code}/`)
    }
    const application = (clientId?: string) => {
      const app = clientId === undefined
        ? credentials.applications[0]
        : Credentials.application(credentials, clientId)
      if (app === undefined) throw new Error(`no OAuth application ${clientId ?? ""}`)
      return app
    }
    const issue = (userId: number, clientId?: string) => {
      const pair = Credentials.issuePair(credentials, clock.now(), application(clientId), userId)
      return {
        accessToken: Redacted.make(pair.access.token),
        refreshToken: Redacted.make(pair.refresh.token),
        expiresAt: pair.access.expiresAt
      }
    }
    const clearRuns = () => {
      instance.journal.length = 0
      instance.counters.requests = 0
      instance.counters.seq = 0
      instance.counters.refreshes = 0
      limits.reset()
    }
    const resetEvents = () => {
      EventBus.clear(events)
      Connectors.reset(connectors, fixture)
      SessionEvents.remember(instance)
    }
    const reset = () => {
      Object.assign(portal, Portal.make(fixture, { now: clock.now, settings: options.settings }))
      resetEvents()
      clearRuns()
      faults.set(options.faults ?? [])
    }
    const applyFixture = (decoded: Fixture.Fixture) => {
      fixture = decoded
      Object.assign(portal, Portal.make(fixture, { now: clock.now, settings: options.settings }))
      resetEvents()
      Credentials.fill(credentials, credentialSource(fixture), clock.now())
      initialToken = [...credentials.tokens.values()][0]?.token ?? ""
      instance.memberId = Crypto.createHash("md5").update(fixture.domain).digest("hex")
      clearRuns()
    }
    const loadFixture = (input: unknown) =>
      Either.match(decodeFixture(input), {
        onLeft: (error) => Effect.fail(error),
        onRight: (decoded) => Effect.sync(() => applyFixture(decoded))
      })

    const install = (options: {
      readonly handler: string
      readonly clientId?: string | undefined
      readonly userId?: number | undefined
    }): string | undefined => {
      const app = options.clientId === undefined
        ? credentials.applications[0]
        : Credentials.application(credentials, options.clientId)
      if (app === undefined) return `no OAuth application ${options.clientId ?? ""}`
      const userId = options.userId ?? credentials.webhooks[0]?.userId ?? 1
      if (!portal.users.has(userId)) return `no user ${userId}`
      EventBus.deliver(
        events,
        { clientId: app.clientId, handler: options.handler, handlerId: undefined },
        "ONAPPINSTALL",
        {
          VERSION: "1",
          ACTIVE: "Y",
          INSTALLED: "Y",
          LANGUAGE_ID: "en"
        },
        userId
      )
      return undefined
    }
    const uninstall = (clientId?: string): string | undefined => {
      const app = clientId === undefined ? credentials.applications[0] : Credentials.application(credentials, clientId)
      if (app === undefined) return `no OAuth application ${clientId ?? ""}`
      EventBus.emit(events, "ONAPPUNINSTALL", { LANGUAGE_ID: "en", CLEAN: "0" }, { userId: 0, only: [app.clientId] })
      const keep = events.bindings.filter((binding) => binding.clientId !== app.clientId)
      events.bindings.splice(0, events.bindings.length, ...keep)
      const rows = events.offline.filter((row) => row.clientId !== app.clientId)
      events.offline.splice(0, events.offline.length, ...rows)
      for (const connector of [...connectors.connectors.values()]) {
        if (connector.clientId === app.clientId) connectors.connectors.delete(connector.id)
      }
      events.applicationTokens.delete(app.clientId)
      return undefined
    }
    const orDie = (failure: string | undefined) => {
      if (failure !== undefined) throw new Error(failure)
    }

    const service: Service = {
      url,
      app,
      get webhookUrl() {
        const first = credentials.webhooks[0]
        return first === undefined ? Redacted.make("") : webhookUrlFor(first.userId)
      },
      webhookUrlFor,
      get accessToken() {
        return Redacted.make(initialToken)
      },
      portal,
      credentials,
      journal: instance.journal,
      httpRequests: () => instance.counters.requests,
      clock,
      oauth: {
        get clientId() {
          return application().clientId
        },
        get clientSecret() {
          return application().clientSecret
        },
        tokenUrl: `${url}/oauth/token/`,
        issue,
        refreshes: () => instance.counters.refreshes
      },
      limits: limits.settings,
      setLimits: limits.set,
      faults: faults.list,
      setFaults: faults.set,
      certificate,
      profile,
      controlUrl: `${url}/_emulator`,
      reset,
      loadFixture,
      events,
      connectors,
      install: (options) => orDie(install(options)),
      uninstall: (clientId) => orDie(uninstall(clientId))
    }

    const operations: ControlServer.Operations = {
      state: () => ({
        portal: toJson(portal),
        credentials: {
          webhooks: credentials.webhooks.map((w) => ({ userId: w.userId, scopes: [...w.scopes] })),
          applications: credentials.applications.map((a) => ({
            clientId: a.clientId,
            scopes: [...a.scopes],
            status: a.status
          })),
          accessTokens: credentials.tokens.size,
          refreshTokens: credentials.refreshTokens.size
        },
        profile,
        clock: { mode: clock.mode, now: clock.now() },
        limits: limitsState(),
        faults: faults.list().map((slot) => toJson(slot)),
        httpRequests: instance.counters.requests,
        connectors: toJson(connectors),
        events: {
          bindings: toJson(events.bindings),
          settings: { ...events.settings },
          offline: events.offline.length,
          deliveries: events.deliveries.length
        }
      }),
      reset,
      loadFixture: (input) =>
        Either.match(decodeFixture(input), {
          onLeft: (error) => ParseResult.TreeFormatter.formatErrorSync(error),
          onRight: (decoded) => {
            applyFixture(decoded)
            return undefined
          }
        }),
      journal: (since) => instance.journal.filter((entry) => entry.seq > since).map(Journal.redact),
      stats: () => ({
        httpRequests: instance.counters.requests,
        journalEntries: instance.journal.length,
        refreshes: instance.counters.refreshes,
        now: clock.now()
      }),
      clock,
      limits: () => limitsState(),
      setLimits: limits.set,
      faults: faults.list,
      setFaults: faults.set,
      issue: (userId, clientId) => {
        if (!portal.users.has(userId)) return `no user ${userId}`
        const app = clientId === undefined
          ? credentials.applications[0]
          : Credentials.application(credentials, clientId)
        if (app === undefined) return `no OAuth application ${clientId ?? ""}`
        const pair = Credentials.issuePair(credentials, clock.now(), app, userId)
        return OAuthServer.tokenResponse(pair, app, { baseUrl: url, memberId: instance.memberId })
      },
      events,
      install,
      uninstall
    }
    const limitsState = (): typeof ControlApi.LimitsState.Type => {
      const now = clock.now()
      return { ...limits.settings(), bucketLevel: limits.level(now), operating: limits.snapshot(now) }
    }
    instance.control = yield* ControlServer.make(operations)
    yield* Delivery.start(events)
    return service
  })

/**
 * The emulator as a Layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<Emulator, HttpServerError.ServeError> =>
  Layer.scoped(Emulator, make(options))
