/**
 * Test support: the proxy served in process on an ephemeral loopback port (HTTP, or HTTPS with a certificate) for a
 * configuration built in the test, over emulated portals, with the services a deployment shares.
 */
import { Emulator } from "@bitrix24-effect/emulator"
import { PortalLimits, RetryPolicy, TokenStore } from "@bitrix24-effect/http"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Admin from "../src/Admin.js"
import * as Clients from "../src/Clients.js"
import * as Health from "../src/Health.js"
import * as MethodScope from "../src/MethodScope.js"
import * as Operations from "../src/Operations.js"
import * as Portals from "../src/Portals.js"
import * as ProxyConfig from "../src/ProxyConfig.js"
import * as Server from "../src/Server.js"
import * as Telemetry from "../src/Telemetry.js"

/** A portal of the configuration: the emulator's inbound webhook (user 1) unless given another upstream. */
export const portal = (
  name: string,
  upstream: ProxyConfig.Upstream,
  overrides: Partial<ProxyConfig.Portal> = {}
): ProxyConfig.Portal => ({
  name,
  upstream,
  limits: { bucket: "off" },
  batching: true,
  timeout: Duration.seconds(5),
  inflight: 100,
  queue: ProxyConfig.portalDefaults.queue,
  ...overrides
})

/** The webhook upstream of an emulator. */
export const webhookOf = (emulator: Emulator.Service, userId?: number): ProxyConfig.Upstream => ({
  _tag: "Webhook",
  url: userId === undefined ? emulator.webhookUrl : emulator.webhookUrlFor(userId)
})

/** A client of the configuration, with the declared methods and no bucket unless given. */
export const client = (
  id: string,
  secret: string,
  portalName: string,
  overrides: Partial<ProxyConfig.Client> = {}
): ProxyConfig.Client => ({
  id,
  secret: Redacted.make(secret),
  portal: portalName,
  methods: MethodScope.declared,
  limit: "off",
  weight: 1,
  ...overrides
})

/** A configuration of these portals and clients. */
export const config = (
  portals: ReadonlyArray<ProxyConfig.Portal>,
  clients: ReadonlyArray<ProxyConfig.Client>
): ProxyConfig.Resolved => ({ portals, clients, generated: undefined, tokenFile: "unused.json", source: "test" })

/** The retry policy of the tests: the proxy's, with short delays. */
export const testRetry = RetryPolicy.layer({ ...ProxyConfig.retryDefaults, base: "20 millis", cap: "50 millis" })

/**
 * Serves the proxy for a configuration on 127.0.0.1 with an ephemeral port, for the scope, and answers its base URL
 * and its running portals (whose lanes a test may watch). `tokens` is the OAuth portals' store (in memory unless
 * given).
 */
export const start = (
  resolved: ProxyConfig.Resolved,
  options: {
    readonly tls?: { readonly cert: string; readonly key: string } | undefined
    readonly tokens?: Layer.Layer<TokenStore.TokenStore> | undefined
    readonly limits?: Partial<Server.Limits> | undefined
    /** Readiness checks the portals (each check is a call in the emulator's journal); none unless given. */
    readonly schedules?: Health.Schedules | undefined
    readonly metricsToken?: string | undefined
    readonly adminToken?: string | undefined
  } = {}
) =>
  Effect.gen(function*() {
    const tls = options.tls
    const shared = Layer.mergeAll(
      NodeHttpClient.layerUndici,
      PortalLimits.layerMemory,
      testRetry,
      options.tokens ?? TokenStore.layerMemory()
    )
    const context = yield* Layer.build(
      (options.schedules === undefined
        ? Layer.scoped(Health.Readiness, Health.make([]))
        : Health.layer({ schedules: options.schedules })).pipe(
          Layer.provideMerge(Portals.layer),
          Layer.provideMerge(Clients.layer),
          Layer.provideMerge(ProxyConfig.layer(resolved)),
          Layer.provide(shared),
          Layer.merge(Telemetry.layerPrometheus)
        )
    )
    // The process's log lines (the access log among them), as the JSON logger writes them, instead of the console.
    const logs: Array<string> = []
    const capture = Logger.replace(Logger.defaultLogger, Logger.map(Logger.jsonLogger, (line) => void logs.push(line)))
    const limits = { ...Server.defaultLimits, ...options.limits }
    const settings: Operations.Settings = {
      metricsToken: Option.map(Option.fromNullable(options.metricsToken), Redacted.make),
      adminToken: Option.map(Option.fromNullable(options.adminToken), Redacted.make)
    }
    const admin = yield* Effect.transposeMapOption(
      settings.adminToken,
      (token) => Admin.make(token, { sharedState: "memory", limits })
    ).pipe(Effect.provide(context))
    const running = yield* Server.serve({
      listen: { port: 0, host: "127.0.0.1" },
      tls: tls === undefined ? undefined : { ...tls, selfSigned: false },
      limits,
      operations: Operations.router(settings, admin)
    }).pipe(Effect.provide(context), Effect.provide(capture))
    return {
      logs,
      base: `${tls === undefined ? "http" : "https"}://127.0.0.1:${running.port}`,
      portals: Context.get(context, Portals.Portals),
      readiness: Context.get(context, Health.Readiness)
    }
  })

/** {@link start}, answering the base URL only. */
export const serve = (resolved: ProxyConfig.Resolved, options?: Parameters<typeof start>[1]) =>
  Effect.map(start(resolved, options), (started) => started.base)

/**
 * The proxy for one client of the emulator in context (its inbound webhook upstream): answers the proxy's base URL
 * and the client's webhook-form base URL (`{base}/rest/{id}/{secret}/`).
 */
export const serveClient = (id: string, secret: string, methods?: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const base = yield* serve(config(
      [portal("main", webhookOf(emulator))],
      [client(id, secret, "main", methods === undefined ? {} : { methods })]
    ))
    return { base, client: `${base}/rest/${id}/${secret}/` }
  })

/** An answer as a test reads it. */
export interface Answer {
  readonly status: number
  readonly text: string
  readonly json: any
  readonly headers: Headers
}

/** Sends a request with fetch and reads the answer (JSON when it parses). */
export const request = (url: string, init: RequestInit = {}): Effect.Effect<Answer> =>
  Effect.promise(async () => {
    const response = await fetch(url, init)
    const text = await response.text()
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      json = undefined
    }
    return { status: response.status, text, json, headers: response.headers }
  })

/** POSTs a JSON (or any string) body. */
export const post = (
  url: string,
  body: unknown,
  contentType = "application/json",
  headers: Record<string, string> = {}
) =>
  request(url, {
    method: "POST",
    headers: { "content-type": contentType, accept: "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body)
  })

/** Polls `ready` every 5 ms until it holds; fails naming `what` after 60 seconds. */
export const waitFor = (what: string, ready: () => boolean) =>
  Effect.gen(function*() {
    while (!ready()) yield* Effect.sleep("5 millis")
  }).pipe(Effect.timeoutFail({ duration: "60 seconds", onTimeout: () => new Error(`never reached: ${what}`) }))
