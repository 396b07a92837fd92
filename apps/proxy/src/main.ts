#!/usr/bin/env -S npx tsx
/**
 * `b24-proxy` (`pnpm start`): reads its configuration (`B24_PROXY_CONFIG`, or the environment's one-portal shortcut),
 * starts the upstream portals and serves the proxy on `HOST`:`PORT` (default `127.0.0.1:8080`), over HTTPS with
 * `B24_PROXY_TLS_CERT` / `B24_PROXY_TLS_KEY` or `--tls`. Layers are composed here, once: the logger
 * (`B24_PROXY_LOG_*`), the metrics export and OTLP traces (`Telemetry`), the configuration, the clients, the portals
 * with the services they share (undici; the buckets, the operating budget and the OAuth tokens in Redis with
 * `B24_REDIS_URL`, else in memory and the token file; the retry policy from `B24_RETRY_*`), readiness, and the
 * listener (`Server`: limits from `B24_PROXY_*`, drain on SIGTERM or SIGINT). Every portal must pass its readiness
 * check at start. A start error is one line naming the setting and the cause, and exit code 1.
 */
import { RetryPolicy, SharedState, TokenStore } from "@bitrix24-effect/http"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Admin from "./Admin.js"
import * as Clients from "./Clients.js"
import * as Health from "./Health.js"
import * as Logging from "./Logging.js"
import * as Operations from "./Operations.js"
import * as Portals from "./Portals.js"
import * as ProxyConfig from "./ProxyConfig.js"
import * as Server from "./Server.js"
import * as Telemetry from "./Telemetry.js"

const kinds = { webhook: "inbound webhook", oauth: "OAuth application", emulator: "EMBEDDED EMULATOR" } as const

/** Prints where the proxy listens, its portals and, for a generated client, the URL to call. */
const banner = (config: ProxyConfig.Resolved, tls: Server.Certificate | undefined, running: Server.Running) =>
  Effect.gen(function*() {
    const base = running.url
    const portals = yield* Portals.Portals
    const lines = [`b24-proxy listening on ${base}`]
    for (const portal of portals.all) {
      lines.push(`  portal "${portal.name}": ${kinds[portal.kind]} at ${portal.origin}`)
      if (portal.kind === "emulator") {
        lines.push(
          "",
          "  !!! NO UPSTREAM PORTAL CONFIGURED: nothing reaches a real Bitrix24 portal !!!",
          `  !!! Forwarding to the EMBEDDED EMULATOR at ${portal.origin} (set B24_WEBHOOK_URL or B24_PROXY_CONFIG) !!!`,
          ""
        )
      }
    }
    const shared = yield* SharedState.SharedState
    lines.push(
      shared.backend === "redis"
        ? "  limits and OAuth tokens: shared with every replica through Redis (B24_REDIS_URL)"
        : shared.backend === "local"
        ? "  limits and OAuth tokens: this process's own (Redis out of reach, B24_REDIS_FALLBACK=local)"
        : "  limits and OAuth tokens: this process's own (set B24_REDIS_URL to share them between replicas)"
    )
    if (tls?.selfSigned === true) {
      const file = Path.join(Os.tmpdir(), `b24-proxy-${process.pid}.pem`)
      Fs.writeFileSync(file, tls.cert)
      lines.push(
        `  self-signed certificate for this run, saved to ${file}`,
        "  (trust it with curl --cacert FILE, or NODE_EXTRA_CA_CERTS=FILE for Node clients):",
        tls.cert.trimEnd()
      )
    }
    const generated = config.generated
    if (generated !== undefined) {
      const url = `${base}/rest/${generated.id}/${Redacted.value(generated.secret)}/`
      lines.push(
        `  no clients configured: generated client ${generated.id} for this run; call the proxy at`,
        `    ${url}`,
        `  e.g. curl -X POST -H "Content-Type: application/json" -d '{"CHAT_ID":2043,"ACTIVATE":"Y"}' \\`,
        `         ${url}imopenlines.session.mode.silent.json`
      )
    } else {
      lines.push(`  clients: ${config.clients.length} (${config.source})`)
    }
    yield* Console.log(lines.join("\n"))
  })

/**
 * The services every portal shares: Redis when `B24_REDIS_URL` is set (`SharedState.layerRedis`: the leaky buckets,
 * the clients' buckets, the operating budget and the OAuth tokens, shared by every replica), else this process's
 * memory with the OAuth tokens in the token file.
 */
const sharedState = (tokenFile: string) =>
  Layer.unwrapEffect(Effect.map(
    Effect.mapError(
      SharedState.config,
      (error) => new ProxyConfig.InvalidConfig({ key: "B24_REDIS_URL", reason: String(error).split("\n")[0]! })
    ),
    Option.match({
      onNone: () =>
        Layer.merge(
          SharedState.layerMemory,
          TokenStore.layerFile(tokenFile).pipe(Layer.provide(NodeFileSystem.layer))
        ),
      onSome: (options) =>
        SharedState.layerRedis(options).pipe(
          Layer.mapError((error) =>
            new ProxyConfig.InvalidConfig({
              key: error._tag === "InvalidEncryptionKey" ? "B24_REDIS_ENCRYPTION_KEY" : "B24_REDIS_URL",
              reason: error.message
            })
          )
        )
    })
  ))

/** Readiness: the portals, and Redis when the state is shared there. */
const readiness = Health.layer({
  extra: Effect.map(
    SharedState.SharedState,
    (state) => state.backend === "redis" ? [Health.sharedStateCheck(state)] : []
  )
})

/** Every portal must pass its check at start: else one line naming the portal's setting and why, exit 1. */
const checkedAtStart = Effect.gen(function*() {
  const status = (yield* Health.Readiness).status()
  const failed = status.checks.find((check) => !check.ok)
  if (failed !== undefined) {
    return yield* new ProxyConfig.InvalidConfig({ key: failed.key, reason: failed.reason ?? "failed its check" })
  }
})

/** Serves the proxy until interrupted, then drains (`Server`). */
const serve = (selfSigned: boolean) =>
  Effect.gen(function*() {
    const config = yield* ProxyConfig.read
    const listen = yield* Server.listenConfig
    const limits = yield* Server.limitsConfig
    const operations = yield* Operations.settingsConfig
    const logging = yield* Logging.settings
    const tls = yield* Server.certificate({ selfSigned, host: listen.host })
    const Shared = Layer.mergeAll(
      NodeHttpClient.layerUndici,
      sharedState(config.tokenFile),
      RetryPolicy.layerConfig(ProxyConfig.retryDefaults)
    )
    const Listener = Layer.scopedDiscard(Effect.gen(function*() {
      yield* checkedAtStart
      const state = yield* SharedState.SharedState
      const admin = yield* Effect.transposeMapOption(
        operations.adminToken,
        (token) => Admin.make(token, { sharedState: state.backend, limits })
      )
      const running = yield* Server.serve({ listen, tls, limits, operations: Operations.router(operations, admin) })
      yield* banner(config, tls, running)
    }))
    const App = Listener.pipe(
      Layer.provideMerge(readiness),
      Layer.provideMerge(Portals.layer),
      Layer.provideMerge(Clients.layer),
      Layer.provide(Layer.mergeAll(ProxyConfig.layer(config), Shared, Telemetry.layerPrometheus)),
      Layer.provide(Telemetry.layerTracingConfig.pipe(Layer.provide(NodeHttpClient.layerUndici))),
      Layer.provide(Logging.layer(logging))
    )
    return yield* Layer.launch(App)
  })

const command = Command.make("b24-proxy", {
  tls: Options.boolean("tls").pipe(
    Options.withDescription(
      "serve HTTPS: with B24_PROXY_TLS_CERT and B24_PROXY_TLS_KEY, or else with a self-signed certificate made at " +
        "start (printed, and saved to a file)"
    )
  )
}, ({ tls }) => serve(tls))

const cli = Command.run(command, { name: "b24-proxy", version: "0.1.0" })

/** One line for a configuration error; the cause otherwise. */
const report = (cause: Cause.Cause<unknown>) => {
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure) && failure.value instanceof ProxyConfig.InvalidConfig) {
    return Console.error(`b24-proxy: ${failure.value.message}`)
  }
  return Cause.isInterruptedOnly(cause) ? Effect.void : Console.error(Cause.pretty(cause))
}

// `pnpm start` runs this in the package's directory; relative paths (B24_PROXY_CONFIG, the TLS files, the token
// file) are the caller's, from where pnpm was started (INIT_CWD).
if (process.env.INIT_CWD !== undefined && process.env.INIT_CWD !== process.cwd()) process.chdir(process.env.INIT_CWD)

cli(process.argv).pipe(
  Effect.tapErrorCause(report),
  Effect.provide(NodeContext.layer),
  (effect) => NodeRuntime.runMain(effect, { disableErrorReporting: true, disablePrettyLogger: true })
)
