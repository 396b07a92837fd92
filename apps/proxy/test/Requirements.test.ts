/**
 * The proxy's transport names its policies in its requirements: `main.ts` launches `Upstream.layerConfig` with
 * `Upstream.layerPolicies` provided, and without them (or without any one of them) the upstream layer still requires
 * a policy, so `NodeRuntime.runMain(Layer.launch(...))`, which accepts no requirements, does not compile. Checked by
 * `tsc -b`: each `@ts-expect-error` line compiles only while the requirement it names is there, and the complete
 * composition beside them must compile. The layers are never built.
 */
import type { Bitrix24Client } from "@bitrix24-effect/core"
import { PortalLimits, RetryPolicy } from "@bitrix24-effect/http"
import type * as HttpClient from "@effect/platform/HttpClient"
import { describe, expect, it } from "@effect/vitest"
import * as Layer from "effect/Layer"
import * as Upstream from "../src/Upstream.js"

/** What `main.ts` needs of the upstream: its services, given nothing but an HttpClient. */
type Launchable = Layer.Layer<Bitrix24Client.Bitrix24Client | Upstream.UpstreamInfo, unknown, HttpClient.HttpClient>

describe("the proxy cannot be composed without its transport policies", () => {
  it("Upstream.layerConfig needs Upstream.layerPolicies, each of its parts", () => {
    const complete: Launchable = Upstream.layerConfig.pipe(Layer.provide(Upstream.layerPolicies))
    // @ts-expect-error main.ts without Layer.provide(Upstream.layerPolicies)
    const none: Launchable = Upstream.layerConfig
    // @ts-expect-error without the retry policy
    const noRetry: Launchable = Upstream.layerConfig.pipe(
      Layer.provide(Layer.merge(PortalLimits.layerConfig(), PortalLimits.layerRateLimiterMemory))
    )
    // @ts-expect-error without the portal limits
    const noLimits: Launchable = Upstream.layerConfig.pipe(
      Layer.provide(Layer.merge(RetryPolicy.layerConfig(), PortalLimits.layerRateLimiterMemory))
    )
    // @ts-expect-error without the rate limiter of the leaky bucket
    const noRateLimiter: Launchable = Upstream.layerConfig.pipe(
      Layer.provide(Layer.merge(RetryPolicy.layerConfig(), PortalLimits.layerConfig()))
    )
    // The embedded emulator's transport needs them as well.
    // @ts-expect-error Upstream.layerEmulator without the policies
    const emulator: Launchable = Upstream.layerEmulator
    const layers = [complete, none, noRetry, noLimits, noRateLimiter, emulator]
    expect(layers.every(Layer.isLayer)).toBe(true)
  })
})
