/**
 * `b24 events`: receiving and subscribing to events (docs/bitrix24-events.md §1, §2).
 *
 * - `b24 events listen --port N [--host H]`: an event receiver (`@bitrix24-effect/events` `Receiver`) on `H:N`
 *   (default `127.0.0.1`); every verified event is printed to stdout as one JSON line (tokens as `<redacted>`), the
 *   address to stderr. Tokens learned from ONAPPINSTALL are kept in `$B24_TOKEN_FILE` when set (else in memory), so
 *   a restarted listener still verifies the portal. Forged deliveries get 401 and print nothing.
 * - `b24 events bind --event E [--handler URL] [--offline]`, `b24 events unbind ...`, `b24 events list`: `event.bind`,
 *   `event.unbind`, `event.get`; `b24 events codes [--scope S]` is the REST method `events`.
 *
 * The subscription commands need an OAuth application (the portal refuses webhooks, §1): the tokens stored in
 * `$B24_TOKEN_FILE` under `$B24_MEMBER_ID` (default key `default`) with `$B24_CLIENT_ID` / `$B24_CLIENT_SECRET`, or,
 * with `--emulator` or nothing configured, the embedded emulator's application.
 */
import { type Bitrix24Client, Event, Events } from "@bitrix24-effect/core"
import { Emulator } from "@bitrix24-effect/emulator"
import { Receiver } from "@bitrix24-effect/events"
import { Bitrix24Http, TokenStore } from "@bitrix24-effect/http"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpServer from "@effect/platform/HttpServer"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Http from "node:http"

/** What `b24 events` needs of the root command: its `--emulator` flag, and printing a failure with its exit code. */
export interface Root {
  readonly emulator: Effect.Effect<boolean, never, any>
  readonly report: (error: unknown) => Effect.Effect<never, unknown, any>
}

/** `$B24_TOKEN_FILE` when set, else an in-memory store. */
const tokenStore: Layer.Layer<TokenStore.TokenStore, never, FileSystem.FileSystem> = Layer.unwrapEffect(
  Effect.map(
    Effect.orElseSucceed(Config.option(Config.string("B24_TOKEN_FILE")), () => Option.none()),
    Option.match({ onNone: () => TokenStore.layerMemory(), onSome: TokenStore.layerFile })
  )
)

/**
 * The application transport: the embedded emulator's application (with `--emulator`, or when no token file is
 * configured), else `Bitrix24Http.layerOAuthConfig` over `$B24_TOKEN_FILE`. The one place these layers are chosen.
 */
const application = (emulator: boolean): Effect.Effect<
  Layer.Layer<
    Bitrix24Client.Bitrix24Client | Bitrix24Client.ApplicationAuth,
    unknown,
    HttpClient.HttpClient | FileSystem.FileSystem
  >
> =>
  Effect.gen(function*() {
    const file = yield* Effect.orElseSucceed(Config.option(Config.string("B24_TOKEN_FILE")), () => Option.none())
    if (!emulator && Option.isSome(file)) {
      const key = yield* Effect.orElseSucceed(Config.string("B24_MEMBER_ID"), () => "default")
      return Bitrix24Http.layerOAuthConfig({ key }).pipe(
        Layer.provide(TokenStore.layerFile(file.value)),
        Layer.provide(Bitrix24Http.layerDefaults)
      )
    }
    if (!emulator) yield* Console.error("b24: no application configured (B24_TOKEN_FILE): using the embedded emulator")
    return Layer.unwrapScoped(Effect.map(Emulator.make(), (running) =>
      Bitrix24Http.layerOAuthToken({
        restUrl: `${running.url}/rest/`,
        accessToken: running.oauth.issue(1).accessToken
      }).pipe(Layer.provide(Bitrix24Http.layerDefaults))))
  })

const event = Options.text("event").pipe(Options.withDescription("The event code, e.g. ONIMCONNECTORMESSAGEADD"))
const handler = Options.text("handler").pipe(
  Options.withDescription("The handler URL (online events; its host must contain a dot)"),
  Options.optional
)
const offline = Options.boolean("offline").pipe(Options.withDescription("An offline event (admin only, no handler)"))

/**
 * The `b24 events` command group over the root command's globals.
 *
 * @since 0.1.0
 */
export const make = (root: Root) => {
  const call = <A>(
    effect: Effect.Effect<A, unknown, Bitrix24Client.Bitrix24Client | Bitrix24Client.ApplicationAuth>
  ) =>
    Effect.gen(function*() {
      const layer = yield* application(yield* root.emulator)
      const result = yield* effect.pipe(Effect.provide(layer), Effect.catchAll(root.report), Effect.scoped)
      yield* Console.log(JSON.stringify(result))
    })

  const subscription = (
    name: "bind" | "unbind",
    method: (params: typeof Event.unbind.paramsSchema.Type) => Effect.Effect<
      unknown,
      unknown,
      Bitrix24Client.Bitrix24Client | Bitrix24Client.ApplicationAuth
    >,
    text: string
  ) =>
    Command.make(name, { event, handler, offline }, (options) =>
      call(method({
        event: options.event,
        ...(Option.isSome(options.handler) ? { handler: options.handler.value } : {}),
        ...(options.offline ? { event_type: "offline" as const } : {})
      }))).pipe(Command.withDescription(text))
  const bind = subscription("bind", Event.bind, "event.bind: subscribe the application to an event")
  const unbind = subscription("unbind", Event.unbind, "event.unbind: unsubscribe (answers the number removed)")

  const list = Command.make("list", {}, () => call(Event.get({}))).pipe(
    Command.withDescription("event.get: the application's bindings")
  )

  const codes = Command.make(
    "codes",
    { scope: Options.text("scope").pipe(Options.withDescription("Only this scope's events"), Options.optional) },
    (options) => call(Event.events(Option.isSome(options.scope) ? { SCOPE: options.scope.value } : {}))
  ).pipe(Command.withDescription("events: the event codes the application may bind"))

  const listen = Command.make(
    "listen",
    {
      port: Options.integer("port").pipe(Options.withDescription("Port to listen on (0: any free port)")),
      host: Options.text("host").pipe(Options.withDescription("Address to listen on"), Options.withDefault("127.0.0.1"))
    },
    (options) =>
      Effect.gen(function*() {
        const print = (received: Events.Event) => Console.log(JSON.stringify(Events.toJson(received)))
        const handlers = Object.fromEntries([...Events.codes, "UnknownEvent"].map((code) => [code, print]))
        const receiver = yield* Receiver.make(handlers)
        const server = yield* Layer.build(
          NodeHttpServer.layer(() => Http.createServer(), { port: options.port, host: options.host })
        )
        const http = yield* Effect.provide(HttpServer.HttpServer, server)
        yield* Effect.forkScoped(http.serve(receiver.app))
        const address = http.address
        const where = address._tag === "TcpAddress" ? `http://${address.hostname}:${address.port}/` : "(unix socket)"
        yield* Console.error(`b24: listening for events on ${where}`)
        return yield* Effect.never
      }).pipe(
        Effect.scoped,
        Effect.provide(tokenStore),
        // stdout carries only the events; the receiver's log lines (refused deliveries, failures) go to stderr
        Effect.provide(Logger.replace(Logger.defaultLogger, Logger.withConsoleError(Logger.logfmtLogger))),
        Effect.orDie
      )
  ).pipe(Command.withDescription("Receive events: verified, typed, one JSON line each on stdout"))

  return Command.make("events").pipe(
    Command.withDescription("Events: listen, bind, unbind, list, codes"),
    Command.withSubcommands([listen, bind, unbind, list, codes])
  )
}

/**
 * What the group needs from the platform besides the CLI's own: an HttpClient for portal calls, a FileSystem for the
 * token file.
 *
 * @since 0.1.0
 */
export type Requirements = HttpClient.HttpClient | FileSystem.FileSystem
