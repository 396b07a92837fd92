/**
 * The typed Effect client of the control API, derived from `ControlApi` with HttpApiClient. Works against an
 * in-process emulator (`emulator.url`) or a `pnpm emulator` process; needs an `HttpClient` (for an HTTPS emulator
 * with a self-signed certificate, one that trusts `emulator.certificate`).
 *
 * ```ts
 * const control = yield* ControlClient.make(emulator.url)
 * yield* control.clock.advance({ payload: { ms: 3_600_000 } })
 * const journal = yield* control.portal.journal({ urlParams: {} })
 * ```
 *
 * @since 0.1.0
 */
import * as HttpApiClient from "@effect/platform/HttpApiClient"
import type * as HttpApiError from "@effect/platform/HttpApiError"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ControlApi from "./ControlApi.js"

/**
 * The client: one method per endpoint, grouped as `portal`, `clock`, `limits`, `faults` and `oauth`.
 *
 * @since 0.1.0
 * @category models
 */
export type Client = HttpApiClient.Client<
  | typeof ControlApi.PortalGroup
  | typeof ControlApi.ClockGroup
  | typeof ControlApi.LimitsGroup
  | typeof ControlApi.FaultsGroup
  | typeof ControlApi.OAuthGroup,
  HttpApiError.HttpApiDecodeError,
  never
>

/**
 * @since 0.1.0
 * @category tags
 */
export class ControlClient extends Context.Tag("@bitrix24-effect/emulator/ControlClient")<ControlClient, Client>() {}

/**
 * Makes the client for an emulator at `url` (its base URL, e.g. `http://127.0.0.1:8090`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (url: string): Effect.Effect<Client, never, HttpClient.HttpClient> =>
  HttpApiClient.make(ControlApi.ControlApi, { baseUrl: url })

/**
 * The client as a Layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (url: string): Layer.Layer<ControlClient, never, HttpClient.HttpClient> =>
  Layer.effect(ControlClient, make(url))
