/**
 * The Bitrix24 transport over `@effect/platform` HttpClient: provides the core `Bitrix24Client` for an inbound
 * webhook or an OAuth access token.
 *
 * Each call is a JSON `POST` to `{base}/{method}.json` (wire sheet §1.1, §1.2); the body is the wire params, plus
 * `auth` for OAuth. The envelope is decoded into a result or a `WireFailure` carrying code, description and status
 * (§1.4, §1.5). Non-JSON bodies (HTML error pages, truncated JSON) and network failures become `TransportError`.
 * Secrets stay `Redacted` until the request is built: HttpClient's own spans (which carry the full URL) are turned
 * off for portal calls, and no error or log line contains the URL.
 *
 * @since 0.1.0
 */
import { Bitrix24Client, PortalError, Wire } from "@bitrix24-effect/core"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as RetryPolicy from "./RetryPolicy.js"

/**
 * Where calls go and how they authenticate.
 * - `portal`: the portal's origin, safe to log (`https://example.bitrix24.com`).
 * - `base`: the REST base URL ending in `/`; for a webhook it contains the secret code, hence `Redacted`.
 * - `auth`: extra body params per call (`{}` for a webhook, `{ auth: token }` for OAuth), read fresh each attempt.
 *
 * @since 0.1.0
 * @category models
 */
export interface Endpoint {
  readonly portal: string
  readonly base: Redacted.Redacted<string>
  readonly auth: Effect.Effect<Readonly<Record<string, string>>>
}

/**
 * A parsed inbound webhook URL: `https://{portal}/rest/{user_id}/{code}/` (wire sheet §1.1).
 *
 * @since 0.1.0
 * @category models
 */
export interface WebhookUrl {
  readonly portal: string
  readonly userId: string
  readonly code: Redacted.Redacted<string>
}

/**
 * The webhook URL could not be read. The message names the expected form but never echoes the URL.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidWebhookUrl extends Schema.TaggedError<InvalidWebhookUrl>(
  "@bitrix24-effect/http/InvalidWebhookUrl"
)("InvalidWebhookUrl", { reason: Schema.String }) {
  override get message(): string {
    return `invalid inbound webhook URL (${this.reason}); expected https://<portal>/rest/<user_id>/<code>/`
  }
}

const webhookPattern = /^(https?:\/\/[^/?#]+)((?:\/[^/?#]+)*?)\/rest\/([^/?#]+)\/([^/?#]+)\/?(?:[^/?#]+\.json)?$/

/**
 * Parses an inbound webhook URL. A trailing method (`.../crm.deal.add.json`) is tolerated and dropped.
 *
 * @since 0.1.0
 * @category constructors
 */
export const parseWebhookUrl = (url: Redacted.Redacted<string>): Either.Either<WebhookUrl, InvalidWebhookUrl> => {
  const value = Redacted.value(url).trim()
  if (value.length === 0) return Either.left(new InvalidWebhookUrl({ reason: "empty" }))
  const match = webhookPattern.exec(value)
  if (match === null) return Either.left(new InvalidWebhookUrl({ reason: "not of the inbound webhook form" }))
  return Either.right({ portal: match[1]! + match[2]!, userId: match[3]!, code: Redacted.make(match[4]!) })
}

/**
 * The endpoint of an inbound webhook.
 *
 * @since 0.1.0
 * @category constructors
 */
export const webhookEndpoint = (webhook: WebhookUrl): Endpoint => ({
  portal: webhook.portal,
  base: Redacted.make(`${webhook.portal}/rest/${webhook.userId}/${Redacted.value(webhook.code)}/`),
  auth: Effect.succeed({})
})

/**
 * The endpoint of an OAuth application with a fixed access token. `restUrl` is the token response's
 * `client_endpoint` (`https://{portal}/rest/`). Token refresh is a separate layer.
 *
 * @since 0.1.0
 * @category constructors
 */
export const oauthTokenEndpoint = (options: {
  readonly restUrl: string
  readonly accessToken: Redacted.Redacted<string>
}): Endpoint => {
  const base = options.restUrl.endsWith("/") ? options.restUrl : `${options.restUrl}/`
  return {
    portal: new URL(base).origin,
    base: Redacted.make(base),
    auth: Effect.sync(() => ({ auth: Redacted.value(options.accessToken) }))
  }
}

/**
 * Transport settings: the per-call timeout (default 55 s, inside the cloud's 60 s request limit, wire sheet §3.1).
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly timeout?: Duration.DurationInput | undefined
}

const decodeEnvelope = Schema.decodeUnknownEither(Wire.Envelope)

const networkReason = (cause: unknown): string => {
  const code = typeof cause === "object" && cause !== null && "code" in cause ? String(cause.code) : undefined
  return code === undefined ? "the request failed before a response arrived" : `the request failed (${code})`
}

/**
 * Makes the transport for an endpoint over the HttpClient in context.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  endpoint: Endpoint,
  options: Options = {}
): Effect.Effect<Bitrix24Client.Service, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const client = HttpClient.withTracerDisabledWhen(yield* HttpClient.HttpClient, () => true)
    const timeout = options.timeout ?? "55 seconds"
    const policy = Option.getOrElse(
      yield* Effect.serviceOption(RetryPolicy.RetryPolicy),
      () => RetryPolicy.defaultPolicy
    )

    const attempt = (request: Bitrix24Client.CallRequest) =>
      Effect.gen(function*() {
        const auth = yield* endpoint.auth
        const httpRequest = HttpClientRequest.post(`${Redacted.value(endpoint.base)}${request.method}.json`).pipe(
          HttpClientRequest.acceptJson,
          HttpClientRequest.bodyUnsafeJson({ ...request.params, ...auth })
        )
        const response = yield* client.execute(httpRequest).pipe(
          Effect.catchTags({
            RequestError: (error) =>
              Effect.fail(
                new PortalError.TransportError({
                  method: request.method,
                  reason: "Network",
                  description: networkReason(error.cause)
                })
              ),
            ResponseError: (error) =>
              Effect.fail(
                new PortalError.TransportError({
                  method: request.method,
                  reason: "InvalidBody",
                  description: `the response could not be read (${error.reason})`,
                  status: error.response.status
                })
              )
          })
        )
        const invalidBody = (description: string) =>
          new PortalError.TransportError({
            method: request.method,
            reason: "InvalidBody",
            description,
            status: response.status
          })
        const text = yield* response.text.pipe(
          Effect.mapError(() => invalidBody("the response body could not be read"))
        )
        let json: unknown
        try {
          json = JSON.parse(text)
        } catch {
          return yield* Effect.fail(invalidBody(`not a JSON envelope (${text.length} bytes)`))
        }
        const envelope = decodeEnvelope(json)
        if (Either.isLeft(envelope)) return yield* Effect.fail(invalidBody("not a Bitrix24 envelope"))
        const value = envelope.right
        if ("error" in value) {
          return yield* Effect.fail(
            new Bitrix24Client.WireFailure({
              code: value.error,
              description: value.error_description,
              status: response.status
            })
          )
        }
        return {
          result: value.result,
          time: Option.fromNullable(value.time),
          next: Option.fromNullable(value.next),
          total: Option.fromNullable(value.total)
        }
      }).pipe(
        // The whole attempt, headers and body, must finish in time.
        Effect.timeoutFail({
          duration: timeout,
          onTimeout: () =>
            new PortalError.TransportError({
              method: request.method,
              reason: "Timeout",
              description: `no response within ${Duration.format(Duration.decode(timeout))}`
            })
        })
      )

    return {
      call: (request) =>
        policy.apply(request, attempt(request)).pipe(
          Effect.withSpan("Bitrix24.http", {
            kind: "client",
            attributes: { "bitrix24.method": request.method, "bitrix24.portal": endpoint.portal }
          })
        )
    }
  })

/**
 * The transport for an endpoint as a Layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  endpoint: Endpoint,
  options?: Options
): Layer.Layer<Bitrix24Client.Bitrix24Client, never, HttpClient.HttpClient> =>
  Layer.effect(Bitrix24Client.Bitrix24Client, make(endpoint, options))

/**
 * The transport for an inbound webhook URL.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWebhook = (
  url: Redacted.Redacted<string>,
  options?: Options
): Layer.Layer<Bitrix24Client.Bitrix24Client, InvalidWebhookUrl, HttpClient.HttpClient> =>
  Layer.unwrapEffect(
    Effect.map(parseWebhookUrl(url), (webhook) => layer(webhookEndpoint(webhook), options))
  )

/**
 * The configured inbound webhook URL: `B24_WEBHOOK_URL`, kept `Redacted`; unset or blank is `None`.
 *
 * @since 0.1.0
 * @category config
 */
export const webhookUrlConfig: Config.Config<Option.Option<Redacted.Redacted<string>>> = Config.option(
  Config.redacted("B24_WEBHOOK_URL")
).pipe(Config.map(Option.filter((url) => Redacted.value(url).trim().length > 0)))

/**
 * The transport for the inbound webhook in `B24_WEBHOOK_URL` (kept `Redacted`), or another config.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWebhookConfig = (
  config: Config.Config<Redacted.Redacted<string>> = Config.redacted("B24_WEBHOOK_URL"),
  options?: Options
): Layer.Layer<
  Bitrix24Client.Bitrix24Client,
  ConfigError.ConfigError | InvalidWebhookUrl,
  HttpClient.HttpClient
> => Layer.unwrapEffect(Effect.map(config, (url) => layerWebhook(url, options)))

/**
 * The transport for an OAuth access token at a portal's REST URL (`client_endpoint`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerOAuthToken = (
  options: { readonly restUrl: string; readonly accessToken: Redacted.Redacted<string> } & Options
): Layer.Layer<Bitrix24Client.Bitrix24Client, never, HttpClient.HttpClient> =>
  layer(oauthTokenEndpoint(options), options)
