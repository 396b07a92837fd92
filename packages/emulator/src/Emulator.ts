/**
 * The emulator as a service: an in-memory portal served over HTTP on loopback, with the credentials a client needs.
 * `layer` starts it (an ephemeral port by default) for tests and for the apps' embedded default.
 *
 * @since 0.1.0
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as HttpServer from "@effect/platform/HttpServer"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"
import * as Credentials from "./Credentials.js"
import * as Fixture from "./Fixture.js"
import type * as Journal from "./Journal.js"
import * as Portal from "./Portal.js"
import * as Server from "./Server.js"

/**
 * A running emulator.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** The base URL, e.g. `http://127.0.0.1:8090`. */
  readonly url: string
  /** The inbound webhook URL of the first fixture webhook (user 1 by default), ending in `/`. */
  readonly webhookUrl: Redacted.Redacted<string>
  /** The inbound webhook URL of another user's webhook. Dies when the fixture has none for that user. */
  readonly webhookUrlFor: (userId: number) => Redacted.Redacted<string>
  /** An OAuth access token for the first webhook's user, valid for one hour; use at `{url}/rest/`. */
  readonly accessToken: Redacted.Redacted<string>
  /** The open-lines state (users, lines, chats, sessions, messages), for assertions. */
  readonly portal: Portal.Portal
  /** The inbound webhooks and OAuth tokens. */
  readonly credentials: Credentials.Credentials
  /** Every call received, in order. */
  readonly journal: Journal.Journal
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Emulator extends Context.Tag("@bitrix24-effect/emulator/Emulator")<Emulator, Service>() {}

/**
 * Where to listen and what portal to serve. `port` 0 (the default) picks a free port; `host` defaults to
 * `127.0.0.1`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly port?: number | undefined
  readonly host?: string | undefined
  /** A fixture in its JSON form; the default fixture when absent. */
  readonly fixture?: typeof Fixture.Fixture.Encoded | undefined
  readonly settings?: Partial<Portal.Settings> | undefined
}

/**
 * Starts an emulator for the lifetime of the scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<Service, HttpServerError.ServeError, Scope.Scope> =>
  Effect.gen(function*() {
    const fixture = Schema.decodeUnknownSync(Fixture.Fixture)(options.fixture ?? Fixture.defaultFixture)
    const portal = Portal.make(fixture, { settings: options.settings })
    const credentials = Credentials.make(fixture, portal.now())
    const journal: Journal.Journal = []
    const server = yield* NodeHttpServer.make(() => Http.createServer(), {
      port: options.port ?? 0,
      host: options.host ?? "127.0.0.1"
    })
    yield* HttpServer.serveEffect(Server.app({ portal, credentials, journal })).pipe(
      Effect.provideService(HttpServer.HttpServer, server)
    )
    const address = server.address
    const url = address._tag === "TcpAddress"
      ? `http://${address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname}:${address.port}`
      : `http://unix:${address.path}`
    const webhookUrlFor = (userId: number) => {
      const webhook = credentials.webhooks.find((w) => w.userId === userId)
      if (webhook === undefined) throw new Error(`the fixture has no inbound webhook for user ${userId}`)
      return Redacted.make(`${url}/rest/${webhook.userId}/${webhook.code}/`)
    }
    const first = credentials.webhooks[0]
    const token = [...credentials.tokens.values()][0]
    return {
      url,
      webhookUrl: first === undefined ? Redacted.make("") : webhookUrlFor(first.userId),
      webhookUrlFor,
      accessToken: Redacted.make(token?.token ?? ""),
      portal,
      credentials,
      journal
    }
  })

/**
 * The emulator as a Layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<Emulator, HttpServerError.ServeError> =>
  Layer.scoped(Emulator, make(options))
