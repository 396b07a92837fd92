/**
 * Shared helpers for the HTTP transport tests: a fresh emulator per test on loopback, the real undici client, and
 * the transport layers pointed at it.
 */
import type { Bitrix24Client } from "@bitrix24-effect/core"
import { Emulator } from "@bitrix24-effect/emulator"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Http from "node:http"
import type * as Net from "node:net"
import * as Bitrix24Http from "../src/Bitrix24Http.js"

/** Runs `f` against a fresh emulator, with the undici HttpClient in context. */
export const withEmulator = <A, E, R>(
  f: (emulator: Emulator.Service) => Effect.Effect<A, E, R>,
  options?: Emulator.Options
) =>
  Effect.flatMap(Emulator.Emulator, f).pipe(
    Effect.provide(Emulator.layer(options)),
    Effect.provide(NodeHttpClient.layerUndici)
  )

/** A transport layer with the default policies (`Bitrix24Http.layerDefaults`) for what it still requires. */
export const withDefaults = <A, E, R>(
  layer: Layer.Layer<A, E, R>
): Layer.Layer<A, E, Exclude<R, Bitrix24Http.Policies>> => layer.pipe(Layer.provide(Bitrix24Http.layerDefaults))

/** The webhook transport for user 1 of the emulator, or another fixture user, with the default policies. */
export const webhookClient = (
  emulator: Emulator.Service,
  userId?: number
): Layer.Layer<Bitrix24Client.Bitrix24Client, Bitrix24Http.InvalidWebhookUrl, HttpClient.HttpClient> =>
  withDefaults(Bitrix24Http.layerWebhook(userId === undefined ? emulator.webhookUrl : emulator.webhookUrlFor(userId)))

/** The OAuth transport with the emulator's access token at `{url}/rest/`, with the default policies. */
export const oauthClient = (
  emulator: Emulator.Service
): Layer.Layer<Bitrix24Client.Bitrix24Client, never, HttpClient.HttpClient> =>
  withDefaults(Bitrix24Http.layerOAuthToken({ restUrl: `${emulator.url}/rest/`, accessToken: emulator.accessToken }))

/** The secret part of the emulator's first inbound webhook. */
export const webhookCode = (emulator: Emulator.Service): string => emulator.credentials.webhooks[0]!.code

/**
 * Runs `f` against a bare HTTP server on 127.0.0.1 whose handler answers whatever a test needs (a gateway's page,
 * a stalled body), torn down afterwards with its open connections.
 */
export const withServer = <A, E, R>(
  handler: (request: Http.IncomingMessage, response: Http.ServerResponse) => void,
  f: (url: string) => Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> =>
  Effect.acquireUseRelease(
    Effect.async<Http.Server>((resume) => {
      const server = Http.createServer(handler)
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
    }),
    (server) => f(`http://127.0.0.1:${(server.address() as Net.AddressInfo).port}`),
    (server) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  )
