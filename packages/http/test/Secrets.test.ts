/**
 * Secrets stay secret: a run through everything the transport does (webhook and OAuth calls, method and auth errors,
 * every fault kind, a portal rename, timeouts, automatic and explicit batches, token refreshes ahead of expiry and
 * after expired_token, invalid_grant, a wrong client secret, an unreachable OAuth server and portal) with a capturing
 * Logger (all levels) and Tracer, then a scan of everything logged, traced and raised for the webhook codes, every
 * access and refresh token the run saw, and the client secret. A control shows the scan does catch a leak.
 */
import { ImChat, ImOpenLines } from "@bitrix24-effect/core"
import type { Emulator } from "@bitrix24-effect/emulator"
import * as HttpClient from "@effect/platform/HttpClient"
import { describe, it } from "@effect/vitest"
import { assertFalse, assertTrue, strictEqual } from "@effect/vitest/utils"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Batch from "../src/Batch.js"
import * as Bitrix24Http from "../src/Bitrix24Http.js"
import * as OAuth from "../src/OAuth.js"
import * as PortalLimits from "../src/PortalLimits.js"
import * as RetryPolicy from "../src/RetryPolicy.js"
import * as TokenStore from "../src/TokenStore.js"
import * as Capture from "./capture.js"
import { drive } from "./emulated.js"
import { withEmulator } from "./helpers.js"

/** Every way an error can be printed. */
const renderings = (error: unknown): ReadonlyArray<string> => [
  String((error as Error)?.message),
  String(error),
  JSON.stringify(error),
  Cause.pretty(Cause.fail(error), { renderErrorCause: true })
]

/** A token store that remembers every token that passes through it, to scan for them afterwards. */
const recordingStore = (seen: Set<string>, initial: Record<string, TokenStore.Tokens>): TokenStore.Service => {
  const memory = TokenStore.makeMemory(initial)
  const note = (tokens: TokenStore.Tokens) => {
    seen.add(Redacted.value(tokens.accessToken))
    seen.add(Redacted.value(tokens.refreshToken))
  }
  Object.values(initial).forEach(note)
  return TokenStore.make({
    get: (key) => Effect.tap(memory.get(key), Option.match({ onNone: () => {}, onSome: note })),
    set: (key, tokens) => Effect.zipRight(Effect.sync(() => note(tokens)), memory.set(key, tokens)),
    remove: memory.remove
  })
}

/** Runs the whole tour against one emulator; answers the errors raised and the secrets in play. */
const tour = (emulator: Emulator.Service) =>
  Effect.gen(function*() {
    const errors: Array<unknown> = []
    const secrets = new Set<string>()
    for (const webhook of emulator.credentials.webhooks) secrets.add(webhook.code)
    secrets.add(Redacted.value(emulator.oauth.clientSecret))
    const wrongCode = "wrongcode0123456789"
    secrets.add(wrongCode)
    const collect = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      Effect.tap(Effect.either(effect), (result) => {
        if (result._tag === "Left") errors.push(result.left)
      })

    const safe = RetryPolicy.layer({ retries: 2 })
    const webhook = Bitrix24Http.layerWebhook(emulator.webhookUrl, { timeout: "2 seconds", batching: true }).pipe(
      Layer.provide(safe),
      Layer.provide(Bitrix24Http.layerDefaults)
    )

    // Webhook calls: success, method errors, a batch, an explicit batch, unknown method.
    yield* collect(
      Effect.all([
        ImChat.mute({ CHAT_ID: 1489 }),
        ImChat.mute({ CHAT_ID: 2043 }),
        ImOpenLines.sessionModeSilent({ CHAT_ID: 999999, ACTIVATE: true })
      ], { batching: true, mode: "either" }).pipe(Effect.provide(webhook))
    )
    yield* collect(
      Batch.run({ a: Batch.command(ImChat.mute, { CHAT_ID: 2043 }), b: Batch.raw("no.such.method") }, { halt: true })
        .pipe(Effect.provide(webhook))
    )
    // A wrong webhook code.
    yield* collect(
      ImChat.mute({ CHAT_ID: 1489 }).pipe(
        Effect.provide(
          Bitrix24Http.layerWebhook(Redacted.make(`${emulator.url}/rest/1/${wrongCode}/`)).pipe(
            Layer.provide(Bitrix24Http.layerDefaults)
          )
        )
      )
    )
    // Every fault kind, for an idempotent and a non-idempotent method; a timeout; a rename.
    for (const kind of ["internal-error", "html-502", "drop-before", "drop-after", "truncated-json"] as const) {
      emulator.setFaults([{ kind, times: 3 }])
      yield* collect(ImOpenLines.sessionStart({ CHAT_ID: 494 }).pipe(Effect.provide(webhook)))
      yield* collect(ImChat.mute({ CHAT_ID: 1489 }).pipe(Effect.provide(webhook)))
    }
    emulator.setFaults([{ kind: "latency", ms: 300, times: 1 }])
    yield* collect(ImOpenLines.sessionStart({ CHAT_ID: 494 }).pipe(Effect.provide(webhook)))
    emulator.setFaults([{ kind: "redirect", times: 1, location: emulator.url.replace("127.0.0.1", "localhost") }])
    yield* collect(ImChat.mute({ CHAT_ID: 1489 }).pipe(Effect.provide(webhook)))
    emulator.setFaults([])

    // OAuth: refresh ahead of expiry, then expired_token and a refresh with replay.
    const app = {
      clientId: emulator.oauth.clientId,
      clientSecret: emulator.oauth.clientSecret,
      tokenUrl: emulator.oauth.tokenUrl
    }
    const issued = emulator.oauth.issue(1)
    const store = recordingStore(secrets, {
      default: { ...issued, expiresAt: 10_000, restUrl: `${emulator.url}/rest/` }
    })
    const oauth = (application: OAuth.Application, tokens: TokenStore.Service) =>
      Bitrix24Http.layerOAuth({ timeout: "2 seconds" }).pipe(
        Layer.provide(
          Layer.merge(Layer.succeed(OAuth.OAuthApplication, application), Layer.succeed(TokenStore.TokenStore, tokens))
        ),
        Layer.provide(safe),
        Layer.provide(Bitrix24Http.layerDefaults)
      )
    yield* collect(ImChat.mute({ CHAT_ID: 1489 }).pipe(Effect.provide(oauth(app, store))))
    emulator.clock.advance(3_601_000)
    yield* collect(
      Effect.all([ImChat.mute({ CHAT_ID: 1489 }), ImChat.mute({ CHAT_ID: 1500 })], { concurrency: 2 }).pipe(
        Effect.provide(oauth(app, store))
      )
    )
    // invalid_grant: a refresh token the server never issued.
    const dead = emulator.oauth.issue(1)
    const deadStore = recordingStore(secrets, {
      default: {
        ...dead,
        refreshToken: Redacted.make("never-issued-refresh-token-42"),
        expiresAt: 10_000,
        restUrl: `${emulator.url}/rest/`
      }
    })
    yield* collect(ImChat.mute({ CHAT_ID: 1489 }).pipe(Effect.provide(oauth(app, deadStore))))
    // invalid_client: a wrong client secret.
    const wrongSecret = "the-wrong-client-secret-7"
    secrets.add(wrongSecret)
    const other = emulator.oauth.issue(1)
    yield* collect(
      ImChat.mute({ CHAT_ID: 1489 }).pipe(
        Effect.provide(
          oauth(
            { ...app, clientSecret: Redacted.make(wrongSecret) },
            recordingStore(secrets, { default: { ...other, expiresAt: 10_000, restUrl: `${emulator.url}/rest/` } })
          )
        )
      )
    )
    // An unreachable OAuth server and an unreachable portal.
    // Port 9 (discard) is closed on loopback: connection refused.
    const closed = "http://127.0.0.1:9"
    const unreachable = emulator.oauth.issue(1)
    yield* collect(
      ImChat.mute({ CHAT_ID: 1489 }).pipe(
        Effect.provide(
          oauth(
            { ...app, tokenUrl: `${closed}/oauth/token/` },
            recordingStore(secrets, {
              default: { ...unreachable, expiresAt: 10_000, restUrl: `${emulator.url}/rest/` }
            })
          )
        )
      )
    )
    yield* collect(
      ImChat.mute({ CHAT_ID: 1489 }).pipe(
        Effect.provide(
          Bitrix24Http.layerWebhook(Redacted.make(`${closed}/rest/1/${emulator.credentials.webhooks[0]!.code}/`)).pipe(
            Layer.provide(Layer.merge(RetryPolicy.layer({ retries: 1 }), PortalLimits.layer({ bucket: "off" }))),
            Layer.provide(Bitrix24Http.layerDefaults)
          )
        )
      )
    )
    for (const token of emulator.credentials.tokens.keys()) secrets.add(token)
    for (const token of emulator.credentials.refreshTokens.keys()) secrets.add(token)
    return { errors, secrets }
  })

describe("no secret in anything logged, traced or raised", () => {
  it.effect("a tour of every path of the transport", () =>
    Effect.gen(function*() {
      const captured = Capture.make()
      const { errors, secrets } = yield* withEmulator(
        (emulator) =>
          Effect.gen(function*() {
            const fiber = yield* Effect.fork(tour(emulator))
            return yield* drive(fiber, { emulator, step: "100 millis", max: "30 minutes" })
          }),
        { clock: "manual" }
      ).pipe(Effect.provide(captured.layer))
      // The tour did what it claims: errors of several kinds, refreshes, spans and log lines to scan.
      assertTrue(errors.length >= 10, `${errors.length} errors raised`)
      assertTrue(secrets.size >= 10, `${secrets.size} secrets in play`)
      assertTrue(captured.spans.some((span) => span.name === "Bitrix24.oauth.refresh"))
      assertTrue(captured.logs.some((log) => log.message.includes("portal moved")))
      assertTrue(errors.some((error) => RetryPolicy.isOutcomeUnknown(error)))
      const texts = [...Capture.renderAll(captured), ...errors.flatMap(renderings)]
      for (const secret of secrets) {
        assertTrue(secret.length >= 8, "every secret is long enough for a meaningful scan")
        for (const text of texts) assertFalse(text.includes(secret), `a secret leaked in: ${text.slice(0, 300)}`)
      }
    }))

  it.effect("control: the scan catches a URL with the webhook code in a span of HttpClient's own tracing", () =>
    Effect.gen(function*() {
      const captured = Capture.make()
      const code = yield* withEmulator((emulator) =>
        Effect.gen(function*() {
          const client = yield* HttpClient.HttpClient
          yield* Effect.ignore(client.post(`${Redacted.value(emulator.webhookUrl)}im.chat.mute.json`))
          return emulator.credentials.webhooks[0]!.code
        })
      ).pipe(Effect.provide(captured.layer))
      const texts = Capture.renderAll(captured)
      strictEqual(texts.some((text) => text.includes(code)), true)
    }))
})
