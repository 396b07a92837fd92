#!/usr/bin/env -S npx tsx
/**
 * `b24-proxy` (`pnpm start`): serves the proxy on 127.0.0.1:8080 (`PORT`, `HOST` override). Layers are composed here,
 * once: the client table, the upstream portal (or the embedded emulator) with its transport policies, undici for
 * upstream calls and Node's HTTP server.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as HttpServer from "@effect/platform/HttpServer"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Http from "node:http"
import * as Clients from "./Clients.js"
import * as Proxy from "./Proxy.js"
import * as Upstream from "./Upstream.js"

/** Prints where the proxy listens, what it forwards to and, when generated, the client URL to use. */
const Banner = Layer.effectDiscard(Effect.gen(function*() {
  const address = yield* HttpServer.HttpServer.pipe(Effect.map((server) => server.address))
  const base = address._tag === "TcpAddress" ? `http://${address.hostname}:${address.port}` : `unix:${address.path}`
  const upstream = yield* Upstream.UpstreamInfo
  const clients = yield* Clients.Clients
  const lines = [`b24-proxy listening on ${base}`]
  if (upstream.kind === "emulator") {
    lines.push(
      "",
      "  !!! NO UPSTREAM PORTAL CONFIGURED (B24_WEBHOOK_URL is unset) !!!",
      `  !!! Forwarding to the EMBEDDED EMULATOR at ${upstream.portal}: nothing reaches a real Bitrix24 portal. !!!`,
      ""
    )
  } else {
    lines.push(`  upstream portal: ${upstream.portal} (inbound webhook from B24_WEBHOOK_URL)`)
  }
  if (Option.isSome(clients.generated)) {
    const client = clients.generated.value
    lines.push(
      "  no clients configured (B24_PROXY_CLIENTS): generated one for this run; call the proxy at",
      `    ${base}/rest/${client.id}/${Redacted.value(client.secret)}/`,
      `  e.g. curl -X POST -H "Content-Type: application/json" -d '{"CHAT_ID":2043,"ACTIVATE":"Y"}' \\`,
      `         ${base}/rest/${client.id}/${Redacted.value(client.secret)}/imopenlines.session.mode.silent.json`
    )
  } else {
    lines.push("  clients: from B24_PROXY_CLIENTS")
  }
  yield* Console.log(lines.join("\n"))
}))

const ServerLive = NodeHttpServer.layerConfig(() => Http.createServer(), {
  port: Config.integer("PORT").pipe(Config.withDefault(8080)),
  host: Config.string("HOST").pipe(Config.withDefault("127.0.0.1"))
})

const MainLive = HttpServer.serve(Proxy.app).pipe(
  // The platform's request spans carry the URL, and the path holds the client secret: only the proxy's own span
  // (method name, no credentials) is recorded.
  HttpMiddleware.withTracerDisabledWhen(() => true),
  Layer.merge(Banner),
  Layer.provide(Layer.mergeAll(Upstream.layerConfig.pipe(Layer.provide(Upstream.layerPolicies)), Clients.layerConfig)),
  Layer.provide(Layer.merge(ServerLive, NodeHttpClient.layerUndici))
)

NodeRuntime.runMain(Layer.launch(MainLive))
