/**
 * Which portal a command talks to, and the transport for it: the CLI's one place where layers are chosen.
 *
 * The portal is, in this order: `--emulator` (an emulated portal in this process, fresh from the fixture, reached
 * without a socket); `--webhook URL`; `--profile NAME`; `B24_PROFILE`; `B24_WEBHOOK_URL`; the default profile. With
 * none of them the command fails with {@link NotConfigured}, which says how to configure one: `b24` never picks a
 * portal silently.
 *
 * @since 0.1.0
 */
import type { Bitrix24Client } from "@bitrix24-effect/core"
import { Bitrix24Http, OAuth, PortalLimits, RetryPolicy, SharedState, TokenStore } from "@bitrix24-effect/http"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { UsageError } from "./Failure.js"
import * as Profiles from "./Profiles.js"

/**
 * The portal of a command.
 * - `Webhook`: an inbound webhook URL; `source` says where it came from (`--webhook`, `B24_WEBHOOK_URL`,
 *   `profile work`).
 * - `OAuth`: an application profile, whose tokens are in the profiles' token file under its name.
 * - `Emulator`: an emulated portal in this process.
 *
 * @since 0.1.0
 * @category models
 */
export type Target =
  | { readonly _tag: "Webhook"; readonly url: Redacted.Redacted<string>; readonly source: string }
  | { readonly _tag: "OAuth"; readonly name: string; readonly profile: typeof Profiles.OAuthProfile.Type }
  | { readonly _tag: "Emulator" }

/**
 * No portal is configured; the message says how to configure one.
 *
 * @since 0.1.0
 * @category errors
 */
export class NotConfigured extends Schema.TaggedError<NotConfigured>("b24/NotConfigured")("NotConfigured", {}) {
  override get message(): string {
    return "no portal configured. Add one with `b24 profile add NAME --webhook URL` (an inbound webhook) or " +
      "`b24 login NAME --portal URL --client-id ID --client-secret -` (an OAuth application), or pass " +
      "--profile NAME or --webhook URL, or set B24_PROFILE or B24_WEBHOOK_URL; --emulator runs against an " +
      "emulated portal in this process"
  }
}

/**
 * The global options that choose the portal.
 *
 * @since 0.1.0
 * @category models
 */
export interface Choice {
  readonly profile: Option.Option<string>
  readonly webhook: Option.Option<Redacted.Redacted<string>>
  readonly emulator: boolean
}

const optional = (name: string) =>
  Config.string(name).pipe(
    Config.option,
    Config.map(Option.filter((value) => value.trim().length > 0)),
    Effect.orElseSucceed(() => Option.none<string>())
  )

const fromProfile = (name: string, profile: Profiles.Profile): Target =>
  profile._tag === "webhook"
    ? { _tag: "Webhook", url: profile.webhook, source: `profile ${name}` }
    : { _tag: "OAuth", name, profile }

/**
 * Chooses the portal (see the module's description).
 *
 * @since 0.1.0
 * @category choosing
 */
export const choose = (
  choice: Choice
): Effect.Effect<
  Target,
  NotConfigured | UsageError | Profiles.ProfileNotFound | Profiles.ProfileStoreError,
  Profiles.Profiles
> =>
  Effect.gen(function*() {
    const given = [choice.emulator, Option.isSome(choice.webhook), Option.isSome(choice.profile)].filter(Boolean)
    if (given.length > 1) {
      return yield* new UsageError({
        description: "choose one portal: --emulator, --webhook or --profile",
        command: "b24",
        suggestions: []
      })
    }
    if (choice.emulator) return { _tag: "Emulator" } as const
    if (Option.isSome(choice.webhook)) {
      return { _tag: "Webhook", url: choice.webhook.value, source: "--webhook" } as const
    }
    const profiles = yield* Profiles.Profiles
    const named = Option.orElse(choice.profile, () => Option.none<string>())
    const name = Option.isSome(named) ? named : yield* optional("B24_PROFILE")
    if (Option.isSome(name)) return fromProfile(name.value, yield* profiles.get(name.value))
    const webhook = yield* optional("B24_WEBHOOK_URL")
    if (Option.isSome(webhook)) {
      return { _tag: "Webhook", url: Redacted.make(webhook.value), source: "B24_WEBHOOK_URL" } as const
    }
    const current = yield* profiles.current
    if (Option.isSome(current)) return fromProfile(current.value.name, current.value.profile)
    return yield* new NotConfigured()
  })

/**
 * The transport's {@link Bitrix24Http.Policies}, the one place the CLI composes them: retries (proven refusals
 * always; idempotent methods also after ambiguous failures) and the portal's limits, from the environment
 * (`B24_RETRY_*`, `B24_BUCKET`, `B24_OPERATING_LIMIT`), with the leaky bucket and the operating budget in this
 * process's memory, or in Redis, shared with every other process of the portal, when `B24_REDIS_URL` is set
 * (`SharedState.layerConfig`; Redis out of reach fails with `RedisUnavailable` unless `B24_REDIS_FALLBACK=local`).
 * A person is waiting: by default at most 2 retries, none starting after 10 seconds.
 *
 * @since 0.1.0
 * @category layers
 */
export const policies: Layer.Layer<
  Bitrix24Http.Policies,
  ConfigError.ConfigError | SharedState.RedisUnavailable | SharedState.InvalidEncryptionKey
> = Layer.mergeAll(
  RetryPolicy.layerConfig({ base: "250 millis", cap: "2 seconds", retries: 2, deadline: "10 seconds" }),
  PortalLimits.layerConfig(),
  SharedState.layerConfig()
)

/**
 * What a transport built here may still require once {@link policies} are provided: an HttpClient, files (an
 * application profile's token file) and the profiles. A transport that still needs one of the policies does not fit.
 *
 * @since 0.1.0
 * @category models
 */
export type Transport = Layer.Layer<
  Bitrix24Client.Bitrix24Client,
  | Bitrix24Http.InvalidWebhookUrl
  | OAuth.OAuthError
  | ConfigError.ConfigError
  | SharedState.RedisUnavailable
  | SharedState.InvalidEncryptionKey,
  HttpClient.HttpClient | FileSystem.FileSystem | Profiles.Profiles
>

/**
 * The transport for a portal, with the CLI's {@link policies}. `batching` turns automatic batching on (bulk runs).
 * `application` says the method needs an OAuth application's token (`auth: "application"`): with `--emulator` the
 * call then goes out with a token of the emulated portal's application instead of its inbound webhook (an inbound
 * webhook target is refused before this, see `Cli`). The emulated portal brings its own in-process HttpClient; the
 * others use the one in context.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  target: Target,
  options: { readonly batching: boolean; readonly application: boolean }
): Transport => {
  const transport: Layer.Layer<
    Bitrix24Client.Bitrix24Client,
    Bitrix24Http.InvalidWebhookUrl | OAuth.OAuthError,
    HttpClient.HttpClient | FileSystem.FileSystem | Profiles.Profiles | Bitrix24Http.Policies
  > = (() => {
    const settings = { batching: options.batching }
    switch (target._tag) {
      case "Webhook":
        return Bitrix24Http.layerWebhook(target.url, settings)
      case "OAuth":
        return Layer.unwrapEffect(
          Effect.map(Profiles.Profiles, (profiles) =>
            Bitrix24Http.layerOAuth({ key: target.name, ...settings }).pipe(
              Layer.provide(Layer.merge(
                OAuth.layer({
                  clientId: target.profile.clientId,
                  clientSecret: target.profile.clientSecret,
                  tokenUrl: target.profile.tokenUrl
                }),
                TokenStore.layerFile(profiles.tokensFile)
              ))
            ))
        )
      case "Emulator":
        // Loaded on demand: the emulator is not needed to start b24 for anything else.
        return Layer.unwrapEffect(
          Effect.promise(() => import("@bitrix24-effect/emulator")).pipe(
            Effect.map(({ Emulator, InProcess }) =>
              Layer.unwrapEffect(
                Effect.map(Emulator.Emulator, (emulator) =>
                  options.application
                    ? Bitrix24Http.layerOAuthToken({
                      restUrl: `${emulator.url}/rest/`,
                      accessToken: emulator.oauth.issue(1).accessToken,
                      ...settings
                    })
                    : Bitrix24Http.layerWebhook(emulator.webhookUrl, settings))
              ).pipe(Layer.provide(InProcess.layer()))
            )
          )
        )
    }
  })()
  return transport.pipe(Layer.provide(policies))
}
