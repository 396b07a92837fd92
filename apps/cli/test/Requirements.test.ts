/**
 * The CLI's transport names its policies in its requirements: `Portal.layer` builds the layer a command runs on as a
 * `Portal.Transport`, which may require nothing but an HttpClient, files and the profiles, so the webhook transport
 * must get `Portal.policies` there, and leaving them (or any one of them) out does not compile. Checked by `tsc -b`:
 * each `@ts-expect-error` line compiles only while the requirement it names is there, and the complete composition
 * beside them must compile. The layers are never built.
 */
import { Bitrix24Http, PortalLimits, RetryPolicy } from "@bitrix24-effect/http"
import { describe, expect, it } from "@effect/vitest"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Portal from "../src/Portal.js"

const url = Redacted.make("https://example.bitrix24.com/rest/1/code/")

describe("the CLI cannot be composed without its transport policies", () => {
  it("a Portal.Transport is the webhook transport with Portal.policies, each of its parts", () => {
    const complete: Portal.Transport = Bitrix24Http.layerWebhook(url).pipe(Layer.provide(Portal.policies))
    // @ts-expect-error Portal.ts without Layer.provide(policies)
    const none: Portal.Transport = Bitrix24Http.layerWebhook(url)
    // @ts-expect-error without the retry policy
    const noRetry: Portal.Transport = Bitrix24Http.layerWebhook(url).pipe(
      Layer.provide(Layer.merge(PortalLimits.layerConfig(), PortalLimits.layerRateLimiterMemory))
    )
    // @ts-expect-error without the portal limits
    const noLimits: Portal.Transport = Bitrix24Http.layerWebhook(url).pipe(
      Layer.provide(Layer.merge(RetryPolicy.layerConfig(), PortalLimits.layerRateLimiterMemory))
    )
    // @ts-expect-error without the rate limiter of the leaky bucket
    const noRateLimiter: Portal.Transport = Bitrix24Http.layerWebhook(url).pipe(
      Layer.provide(Layer.merge(RetryPolicy.layerConfig(), PortalLimits.layerConfig()))
    )
    expect([complete, none, noRetry, noLimits, noRateLimiter].every(Layer.isLayer)).toBe(true)
  })
})
