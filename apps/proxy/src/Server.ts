/**
 * The proxy's listener: Node's HTTP server, or HTTPS when TLS is configured, on `HOST`:`PORT` (default
 * `127.0.0.1:8080`; port 0 picks a free one).
 *
 * - **REST calls** (`/rest/...`) are read on Node's request and answered by `Proxy.respond`, one fiber per request
 *   (the emulator's README explains why a hot route skips the platform's handler). The body is read up to
 *   `maxBodyBytes` (default 1 MiB): a larger `Content-Length`, or a body growing past it, is answered
 *   `413 ERROR_ARGUMENT` at once and the connection is closed without reading the rest. A client that goes away
 *   interrupts its request's fiber: a call still waiting in its portal's queue leaves it and never goes upstream.
 * - **Everything else** (`/healthz`, `/readyz`, `/metrics`, the admin API) goes to an `@effect/platform` HttpApp.
 * - **Slow clients**: the headers must arrive within `headersTimeout` (default 10 s) and the whole request within
 *   `requestTimeout` (default 30 s; Node answers 408 and closes the connection). Neither bounds the answer's wait.
 * - **Graceful drain** (the scope closes: SIGTERM or SIGINT): readiness turns false; the listener stops accepting
 *   connections and closes the idle keep-alive ones; a request arriving on an open connection meanwhile is answered
 *   `503 QUERY_LIMIT_EXCEEDED` (`Connection: close`); every request already received is answered with its real
 *   outcome, for up to `drain` (`B24_PROXY_DRAIN_SECONDS`, default 30). At the deadline the calls still waiting in a
 *   portal's queue are shed (`503 QUERY_LIMIT_EXCEEDED`, nothing ran) and the remaining connections closed.
 *
 * TLS comes from `B24_PROXY_TLS_CERT` and `B24_PROXY_TLS_KEY`, the paths of a PEM certificate (with its chain) and
 * its key; with the `--tls` flag and no files, a self-signed pair is made at start (the emulator's `Tls`, for
 * `localhost`, `127.0.0.1` and the listening host) and its certificate, never the key, is printed and saved to a
 * file clients can trust (`curl --cacert`, `NodeExtraCaCerts`). The official SDK only speaks HTTPS: with TLS it
 * talks to the proxy directly.
 *
 * @since 0.1.0
 */
import { WireRequest } from "@bitrix24-effect/core"
import { Tls } from "@bitrix24-effect/emulator"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as Option from "effect/Option"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import * as Fs from "node:fs"
import * as Http from "node:http"
import * as Https from "node:https"
import type * as Net from "node:net"
import type * as Clients from "./Clients.js"
import * as Health from "./Health.js"
import * as Portals from "./Portals.js"
import * as Proxy from "./Proxy.js"
import * as ProxyConfig from "./ProxyConfig.js"

/**
 * The certificate and key (PEM) the proxy serves HTTPS with; `selfSigned` when made at start.
 *
 * @since 0.1.0
 * @category models
 */
export interface Certificate {
  readonly cert: string
  readonly key: string
  readonly selfSigned: boolean
}

/**
 * Where to listen.
 *
 * @since 0.1.0
 * @category models
 */
export interface Listen {
  readonly port: number
  readonly host: string
}

/**
 * `PORT` (default 8080) and `HOST` (default `127.0.0.1`).
 *
 * @since 0.1.0
 * @category config
 */
export const listenConfig: Config.Config<Listen> = Config.all({
  port: Config.integer("PORT").pipe(Config.withDefault(8080)),
  host: Config.string("HOST").pipe(Config.withDefault("127.0.0.1"))
})

/**
 * What the listener accepts and how long it drains: the largest body in bytes, the time for a request's headers and
 * for the whole request, and the drain deadline.
 *
 * @since 0.1.0
 * @category models
 */
export interface Limits {
  readonly maxBodyBytes: number
  readonly headersTimeout: Duration.Duration
  readonly requestTimeout: Duration.Duration
  readonly drain: Duration.Duration
}

/**
 * The default limits: 1 MiB bodies, headers within 10 s, the whole request within 30 s, a 30 s drain.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultLimits: Limits = {
  maxBodyBytes: 1024 * 1024,
  headersTimeout: Duration.seconds(10),
  requestTimeout: Duration.seconds(30),
  drain: Duration.seconds(30)
}

const positiveNumber = (name: string, integer: boolean) =>
  Config.option(Config.string(name)).pipe(
    Effect.orElseSucceed(() => Option.none<string>()),
    Effect.flatMap((text) => {
      if (Option.isNone(text) || text.value.trim() === "") return Effect.succeed(Option.none<number>())
      const value = Number(text.value.trim())
      return Number.isFinite(value) && value > 0 && (!integer || Number.isInteger(value))
        ? Effect.succeed(Option.some(value))
        : Effect.fail(
          new ProxyConfig.InvalidConfig({
            key: name,
            reason: integer ? "expected a positive whole number" : "expected a positive number"
          })
        )
    })
  )

/**
 * The limits from the environment: `B24_PROXY_MAX_BODY_BYTES`, `B24_PROXY_HEADERS_TIMEOUT_SECONDS`,
 * `B24_PROXY_REQUEST_TIMEOUT_SECONDS` and `B24_PROXY_DRAIN_SECONDS` (each a positive number; the defaults of
 * {@link defaultLimits} when unset). A bad value fails with `InvalidConfig` naming the variable.
 *
 * @since 0.1.0
 * @category config
 */
export const limitsConfig: Effect.Effect<Limits, ProxyConfig.InvalidConfig> = Effect.gen(function*() {
  const body = yield* positiveNumber("B24_PROXY_MAX_BODY_BYTES", true)
  const headers = yield* positiveNumber("B24_PROXY_HEADERS_TIMEOUT_SECONDS", false)
  const request = yield* positiveNumber("B24_PROXY_REQUEST_TIMEOUT_SECONDS", false)
  const drain = yield* positiveNumber("B24_PROXY_DRAIN_SECONDS", false)
  const seconds = (value: Option.Option<number>, fallback: Duration.Duration) =>
    Option.match(value, { onNone: () => fallback, onSome: (s) => Duration.millis(Math.round(s * 1000)) })
  return {
    maxBodyBytes: Option.getOrElse(body, () => defaultLimits.maxBodyBytes),
    headersTimeout: seconds(headers, defaultLimits.headersTimeout),
    requestTimeout: seconds(request, defaultLimits.requestTimeout),
    drain: seconds(drain, defaultLimits.drain)
  }
})

const readPem = (variable: string, path: string) =>
  Effect.try({
    try: () => Fs.readFileSync(path, "utf8"),
    catch: (error) => {
      const code = (error as { code?: unknown }).code
      return new ProxyConfig.InvalidConfig({
        key: variable,
        reason: `cannot read ${path}${typeof code === "string" ? ` (${code})` : ""}`
      })
    }
  }).pipe(
    Effect.filterOrFail(
      (text) => text.includes("-----BEGIN "),
      () => new ProxyConfig.InvalidConfig({ key: variable, reason: `${path} is not a PEM file` })
    )
  )

/**
 * The TLS the proxy serves with: the PEM files of `B24_PROXY_TLS_CERT` and `B24_PROXY_TLS_KEY` (both or neither),
 * else, when `selfSigned` is asked for (`--tls`), a pair made now for `host`, else none (plain HTTP).
 *
 * @since 0.1.0
 * @category config
 */
export const certificate = (options: {
  readonly selfSigned: boolean
  readonly host: string
}): Effect.Effect<Certificate | undefined, ProxyConfig.InvalidConfig> =>
  Effect.gen(function*() {
    const variable = (name: string) =>
      Config.option(Config.string(name)).pipe(
        Effect.map(Option.filter((value) => value.trim().length > 0)),
        Effect.orElseSucceed(() => Option.none<string>())
      )
    const cert = yield* variable("B24_PROXY_TLS_CERT")
    const key = yield* variable("B24_PROXY_TLS_KEY")
    if (Option.isSome(cert) !== Option.isSome(key)) {
      const missing = Option.isSome(cert) ? "B24_PROXY_TLS_KEY" : "B24_PROXY_TLS_CERT"
      return yield* new ProxyConfig.InvalidConfig({
        key: missing,
        reason: "is not set: the certificate and its key go together"
      })
    }
    if (Option.isSome(cert) && Option.isSome(key)) {
      return {
        cert: yield* readPem("B24_PROXY_TLS_CERT", cert.value),
        key: yield* readPem("B24_PROXY_TLS_KEY", key.value),
        selfSigned: false
      }
    }
    if (!options.selfSigned) return undefined
    const pair = yield* Tls.selfSigned(options.host)
    return { cert: pair.cert, key: pair.key, selfSigned: true }
  })

/**
 * The running listener: its base URL (`http(s)://host:port`) and its port.
 *
 * @since 0.1.0
 * @category models
 */
export interface Running {
  readonly url: string
  readonly port: number
}

/** Why a listen failed, naming the setting. */
const listenError = (listen: Listen, error: unknown) => {
  const code = (error as { code?: unknown }).code
  const where = `${listen.host}:${listen.port}`
  switch (code) {
    case "EADDRINUSE":
      return new ProxyConfig.InvalidConfig({ key: "PORT", reason: `${where} is already in use (EADDRINUSE)` })
    case "EACCES":
      return new ProxyConfig.InvalidConfig({ key: "PORT", reason: `no permission to listen on ${where} (EACCES)` })
    case "EADDRNOTAVAIL":
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new ProxyConfig.InvalidConfig({ key: "HOST", reason: `cannot listen on ${where} (${code})` })
    default:
      return new ProxyConfig.InvalidConfig({
        key: "PORT",
        reason: `cannot listen on ${where}${typeof code === "string" ? ` (${code})` : ""}`
      })
  }
}

/**
 * Serves the proxy for the scope: REST calls through `Proxy.respond`, every other path through `operations` (see the
 * module docs). Closing the scope drains (see the module docs) before the portals' own finalizers run. Fails with
 * `InvalidConfig` naming `PORT` or `HOST` when the address cannot be listened on.
 *
 * @since 0.1.0
 * @category constructors
 */
export const serve = <E, R>(options: {
  readonly listen: Listen
  readonly tls: Certificate | undefined
  readonly limits: Limits
  readonly operations: HttpApp.Default<E, R>
}): Effect.Effect<
  Running,
  ProxyConfig.InvalidConfig,
  | Scope.Scope
  | Clients.Clients
  | Portals.Portals
  | Health.Readiness
  | Exclude<R, Scope.Scope | HttpServerRequest.HttpServerRequest>
> =>
  Effect.gen(function*() {
    const { limits, listen, tls } = options
    const runtime = yield* Effect.runtime<Clients.Clients | Portals.Portals>()
    const run = Runtime.runFork(runtime)
    const portals = yield* Portals.Portals
    const readiness = yield* Health.Readiness
    // The platform's request spans carry the URL: only the proxy's own span is recorded.
    const fallback = yield* NodeHttpServer.makeHandler(options.operations).pipe(
      Effect.locally(HttpMiddleware.currentTracerDisabledWhen, () => true)
    )
    const server: Http.Server = tls === undefined
      ? Http.createServer()
      : Https.createServer({ cert: tls.cert, key: tls.key }) as unknown as Http.Server
    server.headersTimeout = Duration.toMillis(limits.headersTimeout)
    server.requestTimeout = Duration.toMillis(limits.requestTimeout)

    let draining = false
    let pending = 0
    let settled: (() => void) | undefined
    const done = () => {
      pending--
      if (pending === 0) settled?.()
    }

    const rest = (request: Http.IncomingMessage, response: Http.ServerResponse) => {
      pending++
      let finished = false
      const finish = () => {
        if (finished) return
        finished = true
        done()
      }
      response.on("close", finish)
      const verb = request.method ?? "GET"
      const write = (reply: Proxy.Reply) => {
        if (response.destroyed || response.headersSent) return finish()
        const headers: Record<string, string | number> = { ...reply.headers }
        if (reply.body !== undefined) headers["content-length"] = Buffer.byteLength(reply.body)
        if (reply.close || draining) headers["connection"] = "close"
        response.writeHead(reply.status, headers)
        response.end(verb === "HEAD" ? undefined : reply.body)
        if (reply.close) response.once("finish", () => request.socket.destroySoon())
      }
      const answer = (body: Proxy.Incoming["body"], refused?: Proxy.Incoming["refused"]) => {
        const fiber = run(Proxy.respond({
          verb,
          url: request.url ?? "/",
          authorization: request.headers["authorization"],
          contentType: request.headers["content-type"],
          body,
          refused
        }))
        fiber.addObserver((exit) => {
          if (Exit.isSuccess(exit)) write(exit.value)
          else if (!response.destroyed) response.destroy()
          finish()
        })
        // The client went away before its answer: its call leaves the queue (or is cut) and is never answered.
        response.on("close", () => {
          if (!response.writableEnded) fiber.unsafeInterruptAsFork(FiberId.none)
        })
      }
      if (draining) {
        request.resume()
        return answer(Either.right(""), { reason: "draining" })
      }
      if (verb !== "POST") {
        request.resume()
        return answer(Either.right(""))
      }
      const tooLarge = () => answer(Either.right(""), { reason: "too_large", maxBodyBytes: limits.maxBodyBytes })
      const declared = Number(request.headers["content-length"])
      if (Number.isFinite(declared) && declared > limits.maxBodyBytes) {
        request.pause()
        return tooLarge()
      }
      const chunks: Array<Buffer> = []
      let size = 0
      const onData = (chunk: Buffer) => {
        size += chunk.length
        if (size > limits.maxBodyBytes) {
          request.off("data", onData)
          request.off("end", onEnd)
          request.pause()
          tooLarge()
        } else {
          chunks.push(chunk)
        }
      }
      const onEnd = () => {
        const text = chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8")
        answer(text.length > WireRequest.maxBodyBytes ? Either.left(WireRequest.bodyTooLarge) : Either.right(text))
      }
      request.on("data", onData)
      request.on("end", onEnd)
      request.on("error", () => response.destroy())
    }

    const onRequest = (request: Http.IncomingMessage, response: Http.ServerResponse) => {
      if ((request.url ?? "/").startsWith("/rest/")) return rest(request, response)
      if (draining) response.setHeader("connection", "close")
      fallback(request, response)
    }
    server.on("request", onRequest)
    yield* Effect.async<void, ProxyConfig.InvalidConfig>((resume) => {
      const onError = (error: Error) => resume(Effect.fail(listenError(listen, error)))
      server.once("error", onError)
      server.listen({ port: listen.port, host: listen.host }, () => {
        server.off("error", onError)
        resume(Effect.void)
      })
    })

    const drain = Effect.gen(function*() {
      draining = true
      readiness.drain()
      server.close()
      // Idle keep-alive connections close now, a request with `Upgrade` included (this listener has no `upgrade`
      // handler: such a request is answered as any other and its connection is an ordinary one).
      server.closeIdleConnections()
      const deadline = Duration.toMillis(limits.drain)
      const wait = (ms: number) =>
        Effect.async<void>((resume) => {
          if (pending === 0) return resume(Effect.void)
          const timer = setTimeout(() => resume(Effect.void), ms)
          settled = () => {
            clearTimeout(timer)
            resume(Effect.void)
          }
          return Effect.sync(() => clearTimeout(timer))
        })
      yield* wait(deadline)
      if (pending > 0) {
        // The deadline passed: the calls still queued never ran; shed them and give their answers a moment.
        for (const portal of portals.all) portal.lanes.shedWaiting()
        yield* wait(1000)
      }
      server.closeAllConnections()
    })
    yield* Effect.addFinalizer(() => Effect.uninterruptible(drain))

    const address = server.address() as Net.AddressInfo
    const host = address.address.includes(":") ? `[${address.address}]` : address.address
    return { url: `${tls === undefined ? "http" : "https"}://${host}:${address.port}`, port: address.port }
  })
