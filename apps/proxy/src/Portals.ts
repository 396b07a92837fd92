/**
 * The upstream portals: for each configured portal, a transport built from the http package's layers
 * (`Bitrix24Http.layerWebhook`, or `Bitrix24Http.layerOAuth` with `OAuth.layer`, refreshing its tokens as the
 * library does), with the portal's own `PortalLimits`, and the portal's {@link Lanes}. The services every portal
 * shares come from the context, so a deployment can swap them with layers: the `RetryPolicy`, the `RateLimiter` the
 * leaky buckets run on and the `OperatingBudgetStore` of the operating time (in memory by default;
 * `SharedState.layerRedis` shares both between replicas), the `TokenStore` of the
 * OAuth portals (the file store by default, each portal's tokens under its name) and the `HttpClient`.
 *
 * A portal configured as `emulator` (and the one-portal shortcut with no portal configured) is an embedded emulator
 * on an ephemeral port, reached through its inbound webhook.
 */
import { Bitrix24Client } from "@bitrix24-effect/core"
import { Emulator } from "@bitrix24-effect/emulator"
import {
  Bitrix24Http,
  OAuth,
  type OperatingBudget,
  PortalLimits,
  type RetryPolicy,
  TokenStore
} from "@bitrix24-effect/http"
import type * as RateLimiter from "@effect/experimental/RateLimiter"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as SubscriptionRef from "effect/SubscriptionRef"
import * as Clients from "./Clients.js"
import * as Lanes from "./Lanes.js"
import * as ProxyConfig from "./ProxyConfig.js"

/** One upstream portal, running. */
export interface Portal {
  readonly name: string
  /** The setting it comes from, for errors: `portals.{name}`, or the environment variable of the shortcut. */
  readonly key: string
  readonly kind: "webhook" | "oauth" | "emulator"
  /** The portal's origin (or the embedded emulator's URL): safe to print, no credentials. */
  readonly origin: string
  /** The transport, with the proxy's credentials for this portal. */
  readonly client: Bitrix24Client.Service
  readonly lanes: Lanes.Lanes
}

/** The running portals. */
export interface Service {
  readonly all: ReadonlyArray<Portal>
  /** The portal of a name; the configuration guarantees every client's portal exists. */
  readonly get: (name: string) => Portal
}

/** The proxy's upstream portals. */
export class Portals extends Context.Tag("@bitrix24-effect/proxy/Portals")<Portals, Service>() {}

/** The services the portals share, provided from outside (see the module docs). */
export type Shared =
  | HttpClient.HttpClient
  | RateLimiter.RateLimiter
  | OperatingBudget.OperatingBudgetStore
  | RetryPolicy.RetryPolicy
  | TokenStore.TokenStore

/** Seeds the token store for an OAuth portal's first start: an expired access token and the configured refresh token. */
const bootstrap = (key: string, seed: { readonly restUrl: string; readonly refreshToken: Redacted.Redacted<string> }) =>
  Effect.gen(function*() {
    const store = yield* TokenStore.TokenStore
    if (Option.isSome(yield* store.get(key))) return
    yield* store.set(key, {
      accessToken: Redacted.make(""),
      refreshToken: seed.refreshToken,
      expiresAt: 0,
      restUrl: seed.restUrl
    })
  })

/** A portal's transport, as a Layer over the shared services. */
type Transport = Layer.Layer<
  Bitrix24Client.Bitrix24Client | Bitrix24Http.PortalAddress,
  Bitrix24Http.InvalidWebhookUrl | OAuth.OAuthError,
  Shared
>

/** The transport layer of a portal, and what it is. */
const transport = (portal: ProxyConfig.Portal): Effect.Effect<
  { readonly kind: Portal["kind"]; readonly layer: Transport },
  TokenStore.TokenStoreError | HttpServerError.ServeError,
  TokenStore.TokenStore | Scope.Scope
> =>
  Effect.gen(function*() {
    const options: Bitrix24Http.Options = { batching: portal.batching, timeout: portal.timeout }
    const limits = PortalLimits.layer(portal.limits)
    switch (portal.upstream._tag) {
      case "Webhook":
        return {
          kind: "webhook" as const,
          layer: Bitrix24Http.layerWebhook(portal.upstream.url, options).pipe(Layer.provide(limits))
        }
      case "OAuth": {
        const upstream = portal.upstream
        if (upstream.bootstrap !== undefined) yield* bootstrap(portal.name, upstream.bootstrap)
        return {
          kind: "oauth" as const,
          layer: Bitrix24Http.layerOAuth({ key: portal.name, ...options }).pipe(
            Layer.provide(OAuth.layer({
              clientId: upstream.clientId,
              clientSecret: upstream.clientSecret,
              tokenUrl: upstream.tokenUrl
            })),
            Layer.provide(limits)
          )
        }
      }
      case "Emulator": {
        const emulator = yield* Emulator.make()
        return {
          kind: "emulator" as const,
          layer: Bitrix24Http.layerWebhook(emulator.webhookUrl, options).pipe(Layer.provide(limits))
        }
      }
    }
  })

/** Starts one portal: its transport and its lanes. Fails with the portal's key and the reason. */
/** The setting a portal comes from (see {@link Portal}'s `key`). */
const keyOf = (portal: ProxyConfig.Portal, source: string) => {
  if (source !== "environment") return `portals.${portal.name}`
  switch (portal.upstream._tag) {
    case "Webhook":
      return "B24_WEBHOOK_URL"
    case "OAuth":
      return "B24_CLIENT_ID"
    case "Emulator":
      return "B24_WEBHOOK_URL"
  }
}

const start = (portal: ProxyConfig.Portal, clients: ReadonlyArray<Clients.Client>, source: string) =>
  Effect.gen(function*() {
    const { kind, layer } = yield* transport(portal)
    // The transport's own fibers (a batch's requests) are forked while it is built: they carry the portal's tag.
    const context = yield* Layer.build(layer).pipe(Effect.tagMetrics("portal", portal.name))
    const origin = yield* SubscriptionRef.get(Context.get(context, Bitrix24Http.PortalAddress))
    const lanes = yield* Lanes.make({ portal: portal.name, inflight: portal.inflight, bounds: portal.queue, clients })
    return {
      name: portal.name,
      key: keyOf(portal, source),
      kind,
      origin,
      client: Context.get(context, Bitrix24Client.Bitrix24Client),
      lanes
    }
  }).pipe(
    Effect.mapError((error) =>
      new ProxyConfig.InvalidConfig({
        key: keyOf(portal, source),
        reason: error._tag === "ServeError" ? "the embedded emulator could not start" : error.message
      })
    )
  )

/** The portals of the configuration, with the clients bound to each. */
export const layer: Layer.Layer<
  Portals,
  ProxyConfig.InvalidConfig,
  ProxyConfig.ProxyConfig | Clients.Clients | Shared
> = Layer.scoped(
  Portals,
  Effect.gen(function*() {
    const config = yield* ProxyConfig.ProxyConfig
    const clients = yield* Clients.Clients
    const all: Array<Portal> = []
    for (const portal of config.portals) all.push(yield* start(portal, clients.all, config.source))
    const byName = new Map(all.map((portal) => [portal.name, portal]))
    return { all, get: (name) => byName.get(name)! }
  })
)
