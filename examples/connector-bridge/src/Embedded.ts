/**
 * The bridge on an emulated portal: serves it on loopback, installs the emulator's application with the bridge as its
 * install handler (so ONAPPINSTALL carries the tokens to the bridge, as a real portal would), and connects it. Used by
 * `pnpm start` and by the end-to-end test.
 */
import type { Emulator } from "@bitrix24-effect/emulator"
import type { TokenStore } from "@bitrix24-effect/http"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"
import * as Bridge from "./Bridge.js"

/**
 * Starts the bridge for the scope: its HTTP server on `127.0.0.1:port` (0: any free port), then install and connect.
 * `extra` routes are served beside the bridge's (the demo's operator).
 *
 * @since 0.1.0
 */
export const start = (
  emulator: Emulator.Service,
  options: {
    readonly port?: number | undefined
    readonly connector?: string | undefined
    readonly line?: number | undefined
    readonly extra?: HttpRouter.HttpRouter<never, never> | undefined
  } = {}
): Effect.Effect<
  { readonly url: string; readonly bridge: Bridge.Bridge },
  unknown,
  Scope.Scope | TokenStore.TokenStore | HttpClient.HttpClient
> =>
  Effect.gen(function*() {
    const server = yield* Layer.build(
      NodeHttpServer.layer(() => Http.createServer(), { port: options.port ?? 0, host: "127.0.0.1" })
    )
    const address = (yield* Effect.provide(HttpServer.HttpServer, server)).address
    const url = address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : "http://127.0.0.1"
    const bridge = yield* Bridge.make({
      connector: options.connector ?? "outside_chat",
      line: options.line ?? 1,
      publicUrl: url
    })
    const router = options.extra === undefined ? bridge.router : HttpRouter.concat(bridge.router, options.extra)
    yield* Effect.forkScoped(Effect.provide(HttpServer.serveEffect(router), server))
    emulator.install({ handler: `${url}/events` })
    yield* bridge.connect({
      clientId: emulator.oauth.clientId,
      clientSecret: emulator.oauth.clientSecret,
      tokenUrl: emulator.oauth.tokenUrl
    }).pipe(Effect.timeout("10 seconds"))
    return { url, bridge }
  })
