/**
 * The proxy's portals name the services they share in their requirements, so a deployment swaps them with layers
 * (a Redis-backed RateLimiter store, another TokenStore): `main.ts` provides each, and leaving one out does not
 * compile. Checked by `tsc -b`: each `@ts-expect-error` line compiles only while the requirement it names is there.
 * The layers are never built.
 */
import { PortalLimits, RetryPolicy, TokenStore } from "@bitrix24-effect/http"
import type * as HttpClient from "@effect/platform/HttpClient"
import { describe, expect, it } from "@effect/vitest"
import * as Layer from "effect/Layer"
import * as Clients from "../src/Clients.js"
import * as Portals from "../src/Portals.js"
import * as ProxyConfig from "../src/ProxyConfig.js"

/** What `main.ts` needs of the portals: their service, given the configuration and an HttpClient. */
type Launchable = Layer.Layer<Portals.Portals, unknown, HttpClient.HttpClient>

const base = Portals.layer.pipe(
  Layer.provide(Clients.layer),
  Layer.provide(ProxyConfig.layer({ portals: [], clients: [], generated: undefined, tokenFile: "x", source: "test" }))
)

describe("the portals cannot be composed without the services they share", () => {
  it("Portals.layer needs the RateLimiter, the OperatingBudgetStore, the RetryPolicy and the TokenStore", () => {
    const complete: Launchable = base.pipe(
      Layer.provide(Layer.mergeAll(PortalLimits.layerMemory, RetryPolicy.layer(), TokenStore.layerMemory()))
    )
    // @ts-expect-error without the RateLimiter of the leaky buckets
    const noRateLimiter: Launchable = base.pipe(
      Layer.provide(Layer.merge(RetryPolicy.layer(), TokenStore.layerMemory()))
    )
    // @ts-expect-error without the retry policy
    const noRetry: Launchable = base.pipe(
      Layer.provide(Layer.merge(PortalLimits.layerMemory, TokenStore.layerMemory()))
    )
    // @ts-expect-error without the token store of the OAuth portals
    const noTokens: Launchable = base.pipe(
      Layer.provide(Layer.merge(PortalLimits.layerMemory, RetryPolicy.layer()))
    )
    expect([complete, noRateLimiter, noRetry, noTokens].every(Layer.isLayer)).toBe(true)
  })
})
