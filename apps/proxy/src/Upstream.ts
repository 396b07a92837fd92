/**
 * The portal the proxy forwards to, with the proxy's own credentials: the inbound webhook in `B24_WEBHOOK_URL`, or,
 * when none is configured, an embedded emulator (announced loudly, since nothing then reaches a real portal). The
 * transport requires its policies ({@link layerPolicies}); `main.ts` provides them.
 */
import type { Bitrix24Client } from "@bitrix24-effect/core"
import { Emulator } from "@bitrix24-effect/emulator"
import { Bitrix24Http, PortalLimits, RetryPolicy } from "@bitrix24-effect/http"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"

/** What the proxy forwards to, for its start-up banner (never containing credentials). */
export class UpstreamInfo extends Context.Tag("@bitrix24-effect/proxy/UpstreamInfo")<UpstreamInfo, {
  readonly kind: "webhook" | "emulator"
  /** The portal origin, or the emulator's URL. */
  readonly portal: string
}>() {}

/**
 * How upstream calls travel: the retry policy, the client-side leaky bucket and operating-time budget (one bucket per
 * portal for all of the proxy's clients, in this process's memory, so they wait instead of meeting 503), each
 * configured from the environment (see the README's configuration table).
 */
export const layerPolicies: Layer.Layer<Bitrix24Http.Policies, ConfigError.ConfigError> = Layer.mergeAll(
  RetryPolicy.layerConfig(),
  PortalLimits.layerConfig(),
  PortalLimits.layerMemory
)

/** Automatic batching: calls arriving together from different clients travel in one `batch` request. */
const transportOptions: Bitrix24Http.Options = { batching: true }

/** The embedded emulator as upstream. */
export const layerEmulator: Layer.Layer<
  Bitrix24Client.Bitrix24Client | UpstreamInfo,
  HttpServerError.ServeError | Bitrix24Http.InvalidWebhookUrl,
  HttpClient.HttpClient | Bitrix24Http.Policies
> = Layer.unwrapScoped(
  Effect.map(Emulator.make(), (emulator) =>
    Layer.merge(
      Bitrix24Http.layerWebhook(emulator.webhookUrl, transportOptions),
      Layer.succeed(UpstreamInfo, { kind: "emulator", portal: emulator.url })
    ))
)

/** `B24_WEBHOOK_URL` when set, else the embedded emulator. */
export const layerConfig: Layer.Layer<
  Bitrix24Client.Bitrix24Client | UpstreamInfo,
  ConfigError.ConfigError | HttpServerError.ServeError | Bitrix24Http.InvalidWebhookUrl,
  HttpClient.HttpClient | Bitrix24Http.Policies
> = Layer.unwrapEffect(
  Effect.gen(function*() {
    const url = yield* Bitrix24Http.webhookUrlConfig
    if (Option.isNone(url)) return layerEmulator
    const webhook = yield* Bitrix24Http.parseWebhookUrl(url.value)
    return Layer.merge(
      Bitrix24Http.layer(Bitrix24Http.webhookEndpoint(webhook), transportOptions),
      Layer.succeed(UpstreamInfo, { kind: "webhook", portal: webhook.portal })
    )
  })
)
