/**
 * Test support: an emulator, a receiver served over real HTTP on an ephemeral loopback port, the application's OAuth
 * transport, and waiting for the emulator's background deliveries to settle.
 */
import type { Bitrix24Client } from "@bitrix24-effect/core"
import { Emulator } from "@bitrix24-effect/emulator"
import { Bitrix24Http, TokenStore } from "@bitrix24-effect/http"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as HttpServer from "@effect/platform/HttpServer"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"
import type * as Receiver from "../src/Receiver.js"

/** The application's OAuth transport for a fixture user (user 1, the admin, by default). */
export const application = (
  emulator: Emulator.Service,
  userId = 1
): Layer.Layer<Bitrix24Client.Bitrix24Client | Bitrix24Client.ApplicationAuth> =>
  Bitrix24Http.layerOAuthToken({
    restUrl: `${emulator.url}/rest/`,
    accessToken: emulator.oauth.issue(userId).accessToken
  }).pipe(Layer.provide(Bitrix24Http.layerDefaults), Layer.provide(NodeHttpClient.layerUndici))

/** Serves a receiver on 127.0.0.1 (an ephemeral port) for the scope; answers its URL (host with dots, §1.1). */
export const serveReceiver = (receiver: Receiver.Service): Effect.Effect<string, never, Scope.Scope> =>
  Effect.gen(function*() {
    const context = yield* Layer.build(
      NodeHttpServer.layer(() => Http.createServer(), { port: 0, host: "127.0.0.1" }).pipe(Layer.orDie)
    )
    const server = yield* Effect.provide(HttpServer.HttpServer, context)
    yield* Effect.forkScoped(Effect.provide(server.serve(receiver.app), context))
    const address = server.address
    return address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}/events` : ""
  })

/** Waits (real time, at most `ms`) until every delivery of the emulator has an outcome; answers them. */
export const settled = (emulator: Emulator.Service, ms = 5000) =>
  Effect.gen(function*() {
    const deadline = Date.now() + ms
    while (emulator.events.deliveries.some((d) => d.outcome === "pending") && Date.now() < deadline) {
      yield* Effect.sleep("10 millis")
    }
    return [...emulator.events.deliveries]
  })

/** Waits (real time, at most `ms`) until `check` holds. */
export const eventually = (check: () => boolean, ms = 5000) =>
  Effect.gen(function*() {
    const deadline = Date.now() + ms
    while (!check() && Date.now() < deadline) yield* Effect.sleep("10 millis")
    return check()
  })

/** An emulator and an in-memory token store. */
export const portal = (options?: Emulator.Options) =>
  Layer.merge(Emulator.layer(options).pipe(Layer.orDie), TokenStore.layerMemory())
