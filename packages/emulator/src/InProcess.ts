/**
 * The emulator without a socket: an `@effect/platform` HttpClient whose requests are answered by an emulator's
 * HttpApp in the same process, through the same wire code as over the network (wire sheet §1). For commands that
 * want a portal for one run and nothing listening (`b24 --emulator`), and for tests that need no port.
 *
 * The client is `FetchHttpClient` with its `fetch` replaced by the app's web handler, so everything an HttpClient
 * user does (JSON bodies, forms, redirects, status codes) behaves as on a real connection. Faults that drop the
 * connection (`drop-before`, `drop-after`) need a socket and surface as transport errors here.
 *
 * @since 0.1.0
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpApp from "@effect/platform/HttpApp"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Emulator from "./Emulator.js"

/**
 * A `fetch` answered by an HttpApp in process: the request never leaves the process, whatever its URL's host.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fetch = (app: HttpApp.Default): typeof globalThis.fetch => {
  const handler = HttpApp.toWebHandler(app)
  return (input, init) => handler(new Request(input, init))
}

/**
 * An HttpClient answered by an HttpApp in process (see {@link fetch}).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerHttpClient = (app: HttpApp.Default): Layer.Layer<HttpClient.HttpClient> =>
  FetchHttpClient.layer.pipe(Layer.provide(Layer.succeed(FetchHttpClient.Fetch, fetch(app))))

/**
 * An emulator that opens no socket (`listen: false`), with the HttpClient that reaches it: calls to its
 * `webhookUrl` (under `Emulator.inProcessUrl`) go through the HttpClient of this layer. Each build starts from the
 * fixture; the state lives as long as the layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Omit<Emulator.Options, "listen" | "port" | "host" | "tls" | "latency"> = {}
): Layer.Layer<Emulator.Emulator | HttpClient.HttpClient> =>
  Layer.unwrapScoped(
    Effect.map(
      // Without a socket there is nothing that can fail to start.
      Effect.orDie(Emulator.make({ ...options, listen: false })),
      (emulator) => Layer.merge(Layer.succeed(Emulator.Emulator, emulator), layerHttpClient(emulator.app))
    )
  )
