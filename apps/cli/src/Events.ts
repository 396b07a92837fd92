/**
 * `b24 events listen`: an event receiver (`@bitrix24-effect/events` `Receiver`, docs/bitrix24-events.md §2) on a
 * loopback port, for watching what a portal sends an application. Each verified event is printed on standard output
 * as one JSON line (`Events.toJson`: the event's code as `_tag`, tokens as `<redacted>`), in the order the handlers
 * run; the address goes to standard error, with the receiver's own log lines (refused deliveries, failures), so that
 * standard output is NDJSON only. A forged or unknown `auth[application_token]` is answered 401 and prints nothing.
 *
 * The application token is learned from ONAPPINSTALL and kept, with the tokens that came with it, in a token file
 * (the http package's file `TokenStore`, mode 0600), so that a restarted listener still verifies the portal. The
 * listener runs until interrupted (Ctrl-C: exit 130). Loaded on demand by `Cli`: nothing else needs a server.
 *
 * @since 0.1.0
 */
import { Events } from "@bitrix24-effect/core"
import { Receiver } from "@bitrix24-effect/events"
import { TokenStore } from "@bitrix24-effect/http"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as Schema from "effect/Schema"
import * as Http from "node:http"
import * as Stdio from "./Stdio.js"

/**
 * The receiver could not listen on the address (the port is taken, the address is not this machine's, ...).
 *
 * @since 0.1.0
 * @category errors
 */
export class ListenError extends Schema.TaggedError<ListenError>("b24/ListenError")("ListenError", {
  address: Schema.String,
  description: Schema.String
}) {
  override get message(): string {
    return `cannot listen on ${this.address}: ${this.description}`
  }
}

/**
 * Where and how to listen: the port (0 for any free one), the address, and the token file.
 *
 * @since 0.1.0
 * @category models
 */
export interface Settings {
  readonly port: number
  readonly host: string
  readonly tokenFile: string
}

const causeText = (cause: unknown): string =>
  cause instanceof Error ? cause.message : typeof cause === "string" ? cause : "the server did not start"

const hostPort = (host: string, port: number) => `${host.includes(":") ? `[${host}]` : host}:${port}`

/**
 * Receives events until interrupted (see the module's description).
 *
 * @since 0.1.0
 * @category running
 */
export const listen = (settings: Settings): Effect.Effect<never, ListenError, FileSystem.FileSystem | Stdio.Stdio> =>
  Effect.gen(function*() {
    const stdio = yield* Stdio.Stdio
    const print = (event: Events.Event) => stdio.out(`${JSON.stringify(Events.toJson(event))}\n`)
    const handlers = Object.fromEntries([...Events.codes, "UnknownEvent"].map((code) => [code, print]))
    const receiver = yield* Receiver.make(handlers)
    const node = Http.createServer()
    const server = yield* NodeHttpServer.make(() => node, { port: settings.port, host: settings.host }).pipe(
      Effect.mapError((error) =>
        new ListenError({ address: hostPort(settings.host, settings.port), description: causeText(error.cause) })
      )
    )
    // Runs before the server's own close: a portal's idle keep-alive connection must not hold up the exit.
    yield* Effect.addFinalizer(() => Effect.sync(() => node.closeAllConnections()))
    yield* server.serve(receiver.app)
    const address = server.address
    const where = address._tag === "TcpAddress"
      ? `http://${hostPort(address.hostname, address.port)}/`
      : `unix:${address.path}`
    yield* Stdio.errorLine(`b24: listening for events on ${where} (tokens in ${settings.tokenFile})`)
    return yield* Effect.never
  }).pipe(
    Effect.scoped,
    Effect.provide(TokenStore.layerFile(settings.tokenFile)),
    // Standard output carries the events only: the receiver's log lines go to standard error.
    (effect) =>
      Effect.flatMap(Stdio.Stdio, (stdio) =>
        Effect.provide(
          effect,
          Logger.replace(
            Logger.defaultLogger,
            Logger.map(Logger.logfmtLogger, (line) => void Effect.runFork(stdio.err(`${line}\n`)))
          )
        ))
  )
