/**
 * The proxy's listener: Node's HTTP server, or HTTPS when TLS is configured, on `HOST`:`PORT` (default
 * `127.0.0.1:8080`; port 0 picks a free one).
 *
 * TLS comes from `B24_PROXY_TLS_CERT` and `B24_PROXY_TLS_KEY`, the paths of a PEM certificate (with its chain) and
 * its key; with the `--tls` flag and no files, a self-signed pair is made at start (the emulator's `Tls`, for
 * `localhost`, `127.0.0.1` and the listening host) and its certificate, never the key, is printed and saved to a
 * file clients can trust (`curl --cacert`, `NODE_EXTRA_CA_CERTS`). The official SDK only speaks HTTPS: with TLS it
 * talks to the proxy directly.
 */
import { Tls } from "@bitrix24-effect/emulator"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import type * as HttpServer from "@effect/platform/HttpServer"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Fs from "node:fs"
import * as Http from "node:http"
import * as Https from "node:https"
import * as ProxyConfig from "./ProxyConfig.js"

/** The certificate and key (PEM) the proxy serves HTTPS with; `selfSigned` when made at start. */
export interface Certificate {
  readonly cert: string
  readonly key: string
  readonly selfSigned: boolean
}

/** Where to listen. */
export interface Listen {
  readonly port: number
  readonly host: string
}

/** `PORT` (default 8080) and `HOST` (default `127.0.0.1`). */
export const listenConfig: Config.Config<Listen> = Config.all({
  port: Config.integer("PORT").pipe(Config.withDefault(8080)),
  host: Config.string("HOST").pipe(Config.withDefault("127.0.0.1"))
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

/** The HTTP server, HTTPS with a certificate. */
export const layer = (
  listen: Listen,
  tls: Certificate | undefined
): Layer.Layer<HttpServer.HttpServer, HttpServerError.ServeError> =>
  NodeHttpServer.layer(
    () =>
      tls === undefined
        ? Http.createServer()
        : Https.createServer({ cert: tls.cert, key: tls.key }) as unknown as Http.Server,
    listen
  )
