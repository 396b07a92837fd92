/**
 * Shared helpers for the typed method tests (Methods*.test.ts): a fresh emulator per test on loopback, the typed
 * transport for any fixture user's inbound webhook over the real undici client, and an assertion that a call fails
 * with a given typed portal error.
 */
import type { Bitrix24Client, PortalError } from "@bitrix24-effect/core"
import { Emulator } from "@bitrix24-effect/emulator"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assertInstanceOf, deepStrictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Bitrix24Http from "../src/Bitrix24Http.js"

/** A running emulator, and the typed transport of a fixture user's inbound webhook (user 1 by default). */
export interface Portal {
  readonly emulator: Emulator.Service
  readonly as: (userId?: number) => Layer.Layer<Bitrix24Client.Bitrix24Client>
  /** The transport of the default application's OAuth token for a fixture user (user 1 by default). */
  readonly asApplication: (
    userId?: number,
    clientId?: string
  ) => Layer.Layer<Bitrix24Client.Bitrix24Client | Bitrix24Client.ApplicationAuth>
}

/** Runs `f` against a fresh emulator started with `options` (the default fixture when none). */
export const withPortal = <A, E>(f: (portal: Portal) => Effect.Effect<A, E>, options?: Emulator.Options) =>
  Effect.flatMap(Emulator.Emulator, (emulator) =>
    f({
      emulator,
      as: (userId) =>
        Bitrix24Http.layerWebhook(userId === undefined ? emulator.webhookUrl : emulator.webhookUrlFor(userId)).pipe(
          Layer.provide(Bitrix24Http.layerDefaults),
          Layer.provide(NodeHttpClient.layerUndici),
          Layer.orDie
        ),
      asApplication: (userId, clientId) =>
        Bitrix24Http.layerOAuthToken({
          restUrl: `${emulator.url}/rest/`,
          accessToken: emulator.oauth.issue(userId ?? 1, clientId).accessToken
        }).pipe(Layer.provide(Bitrix24Http.layerDefaults), Layer.provide(NodeHttpClient.layerUndici))
    })).pipe(Effect.provide(Emulator.layer(options)))

/**
 * Asserts that `effect` fails with an instance of `Class` carrying the method, the code and the status of the class
 * (and, when given, the description), and answers the error.
 */
export const failsWith = <E, C extends PortalError.PortalErrorClass<any>>(
  effect: Effect.Effect<unknown, E>,
  Class: C,
  method: string,
  description?: string
): Effect.Effect<InstanceType<C>> =>
  Effect.gen(function*() {
    const error = yield* Effect.flip(effect)
    assertInstanceOf(error, Class)
    const typed = error as unknown as PortalError.PortalError
    deepStrictEqual(
      { tag: typed._tag, method: typed.method, code: typed.code, status: typed.status, description: typed.description },
      {
        tag: Class.name,
        method,
        code: Class.spec.code,
        status: Class.spec.status,
        description: description ?? Class.spec.description
      }
    )
    return error as InstanceType<C>
  }).pipe(Effect.orDie)
