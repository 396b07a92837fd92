/**
 * Requirements in the types: every transport layer names the services it uses (an HttpClient, the retry policy, the
 * portal limits, the rate limiter of the leaky bucket and the operating budget's store), so an app that leaves one
 * out does not compile. These are compile-time checks, run by `tsc -b` (`pnpm test` typechecks the tests): each
 * `@ts-expect-error` line compiles only while the requirement it names is there (were the requirement gone, the
 * directive would be unused, itself an error), and each is paired with the same line given everything, which must
 * compile. The layers are never built.
 */
import type * as RateLimiter from "@effect/experimental/RateLimiter"
import type * as HttpClient from "@effect/platform/HttpClient"
import { describe, it } from "@effect/vitest"
import { assertTrue } from "@effect/vitest/utils"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Bitrix24Http from "../src/Bitrix24Http.js"
import type * as OAuth from "../src/OAuth.js"
import * as OperatingBudget from "../src/OperatingBudget.js"
import * as PortalLimits from "../src/PortalLimits.js"
import * as RetryPolicy from "../src/RetryPolicy.js"
import type * as TokenStore from "../src/TokenStore.js"

/** Accepts a layer only if it requires no more than `R`. */
const requiresAtMost = <R>() => <A, E>(layer: Layer.Layer<A, E, R>): Layer.Layer<A, E, R> => layer

const url = Redacted.make("https://example.bitrix24.com/rest/1/code/")
const endpoint = Bitrix24Http.webhookEndpoint({
  portal: "https://example.bitrix24.com",
  userId: "1",
  code: Redacted.make("code")
})

type Http = HttpClient.HttpClient
type Budget = OperatingBudget.OperatingBudgetStore
type OAuthInputs = OAuth.OAuthApplication | TokenStore.TokenStore

describe("transport layers name their policies in their requirements", () => {
  it("Bitrix24Http.Policies is the retry policy, the portal limits, the rate limiter and the budget store", () => {
    const policies: ReadonlyArray<Layer.Layer<Bitrix24Http.Policies>> = [
      Bitrix24Http.layerDefaults,
      Layer.mergeAll(RetryPolicy.layer(), PortalLimits.layer(), PortalLimits.layerMemory),
      Layer.mergeAll(
        RetryPolicy.layer(),
        PortalLimits.layer(),
        PortalLimits.layerRateLimiterMemory,
        OperatingBudget.layerStoreMemory
      )
    ]
    // @ts-expect-error without the rate limiter, the policies are incomplete
    const incomplete: Layer.Layer<Bitrix24Http.Policies> = Layer.merge(RetryPolicy.layerDefault, PortalLimits.layer())
    // @ts-expect-error without the operating budget's store, the policies are incomplete
    const noBudget: Layer.Layer<Bitrix24Http.Policies> = Layer.mergeAll(
      RetryPolicy.layerDefault,
      PortalLimits.layer(),
      PortalLimits.layerRateLimiterMemory
    )
    assertTrue([...policies, incomplete, noBudget].every(Layer.isLayer))
  })

  it("layerWebhook requires each policy", () => {
    const transport = Bitrix24Http.layerWebhook(url)
    const checked = [
      requiresAtMost<Http | Bitrix24Http.Policies>()(transport),
      // @ts-expect-error the retry policy is required
      requiresAtMost<Http | PortalLimits.PortalLimits | RateLimiter.RateLimiter | Budget>()(transport),
      // @ts-expect-error the portal limits are required
      requiresAtMost<Http | RetryPolicy.RetryPolicy | RateLimiter.RateLimiter | Budget>()(transport),
      // @ts-expect-error the rate limiter is required
      requiresAtMost<Http | RetryPolicy.RetryPolicy | PortalLimits.PortalLimits | Budget>()(transport),
      // @ts-expect-error the operating budget's store is required
      requiresAtMost<Http | RetryPolicy.RetryPolicy | PortalLimits.PortalLimits | RateLimiter.RateLimiter>()(transport),
      // @ts-expect-error the HttpClient is required
      requiresAtMost<Bitrix24Http.Policies>()(transport),
      requiresAtMost<Http>()(transport.pipe(Layer.provide(Bitrix24Http.layerDefaults)))
    ]
    assertTrue(checked.every(Layer.isLayer))
  })

  it("layer, layerWebhookConfig and layerOAuthToken require the policies", () => {
    const transports = [
      Bitrix24Http.layer(endpoint),
      Bitrix24Http.layerWebhookConfig(),
      Bitrix24Http.layerOAuthToken({ restUrl: "https://example.bitrix24.com/rest/", accessToken: url })
    ] as const
    const checked = [
      ...transports.map((transport) => requiresAtMost<Http | Bitrix24Http.Policies>()(transport)),
      // @ts-expect-error layer: the policies are required
      requiresAtMost<Http>()(transports[0]),
      // @ts-expect-error layerWebhookConfig: the policies are required
      requiresAtMost<Http>()(transports[1]),
      // @ts-expect-error layerOAuthToken: the policies are required
      requiresAtMost<Http>()(transports[2]),
      ...transports.map((transport) =>
        requiresAtMost<Http>()(transport.pipe(Layer.provide(Bitrix24Http.layerDefaults)))
      )
    ]
    assertTrue(checked.every(Layer.isLayer))
  })

  it("layerOAuth and layerOAuthConfig require the policies besides the application and the token store", () => {
    const oauth = Bitrix24Http.layerOAuth()
    const configured = Bitrix24Http.layerOAuthConfig()
    const checked = [
      requiresAtMost<Http | OAuthInputs | Bitrix24Http.Policies>()(oauth),
      requiresAtMost<Http | TokenStore.TokenStore | Bitrix24Http.Policies>()(configured),
      // @ts-expect-error layerOAuth: the policies are required
      requiresAtMost<Http | OAuthInputs>()(oauth),
      // @ts-expect-error layerOAuthConfig: the policies are required
      requiresAtMost<Http | TokenStore.TokenStore>()(configured),
      requiresAtMost<Http | OAuthInputs>()(oauth.pipe(Layer.provide(Bitrix24Http.layerDefaults))),
      requiresAtMost<Http | TokenStore.TokenStore>()(configured.pipe(Layer.provide(Bitrix24Http.layerDefaults)))
    ]
    assertTrue(checked.every(Layer.isLayer))
  })
})
