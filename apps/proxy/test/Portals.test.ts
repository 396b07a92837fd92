/**
 * Several upstream portals, over real HTTP: one inbound webhook and one OAuth application (two emulators), each
 * serving its own clients. The OAuth portal's access token expires on the portal: it is refreshed once, for all the
 * calls that met it, and no client ever sees `expired_token`. A first start seeds the token store from the
 * configuration's refresh token.
 */
import { Emulator } from "@bitrix24-effect/emulator"
import { TokenStore } from "@bitrix24-effect/http"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { client, config, portal, post, serve, webhookOf } from "./helpers.js"

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

const oauthUpstream = (
  emulator: Emulator.Service,
  bootstrap?: { restUrl: string; refreshToken: Redacted.Redacted<string> }
) => ({
  _tag: "OAuth" as const,
  clientId: emulator.oauth.clientId,
  clientSecret: emulator.oauth.clientSecret,
  tokenUrl: emulator.oauth.tokenUrl,
  bootstrap
})

describe("two portals: an inbound webhook and an OAuth application", () => {
  it.scopedLive(
    "each serves its own clients; an expired upstream token is refreshed once, unseen by the clients",
    () =>
      Effect.gen(function*() {
        const sales = yield* Emulator.make()
        const support = yield* Emulator.make({ clock: "manual" })
        const issued = support.oauth.issue(1)
        const store = TokenStore.makeMemory({
          support: {
            accessToken: issued.accessToken,
            refreshToken: issued.refreshToken,
            expiresAt: Date.now() + 3_600_000,
            restUrl: `${support.url}/rest/`
          }
        })
        const base = yield* serve(
          config(
            [portal("sales", webhookOf(sales)), portal("support", oauthUpstream(support))],
            [client("21", "sales-client-secret", "sales"), client("22", "support-client-secret", "support")]
          ),
          { tokens: Layer.succeed(TokenStore.TokenStore, store) }
        )
        // Two hours later on the portal: the access token the proxy holds has expired there.
        support.clock.advance(2 * 3_600_000)
        const supportAnswers = yield* Effect.forEach(
          range(10),
          () => post(`${base}/rest/22/support-client-secret/im.chat.mute`, { CHAT_ID: 1489 }),
          { concurrency: "unbounded" }
        )
        expect(supportAnswers.map((answer) => [answer.status, answer.json.result])).toEqual(
          range(10).map(() => [200, true])
        )
        expect(support.oauth.refreshes()).toBe(1)
        // The rotated pair is in the store.
        const stored = yield* store.get("support")
        expect(
          Option.isSome(stored) && Redacted.value(stored.value.refreshToken) !== Redacted.value(issued.refreshToken)
        )
          .toBe(true)
        const salesAnswer = yield* post(`${base}/rest/21/sales-client-secret/imopenlines.session.mode.silent`, {
          CHAT_ID: 2043,
          ACTIVATE: "Y"
        })
        expect([salesAnswer.status, salesAnswer.json.result]).toEqual([200, true])
        // Each portal saw only its own clients' calls, under the proxy's credentials for it.
        expect(sales.journal.map((entry) => [entry.method, entry.auth])).toEqual([
          ["imopenlines.session.mode.silent", "webhook:1"]
        ])
        expect(support.journal.filter((entry) => entry.executed).every((entry) => entry.auth === "oauth:1")).toBe(true)
        expect(support.journal.some((entry) => entry.error === "expired_token")).toBe(true)
        expect(support.portal.chats.get(2043)!.silent).toBe(false)
        // A client cannot reach the other portal: its secret belongs to its own.
        const crossed = yield* post(`${base}/rest/21/support-client-secret/im.chat.mute`, { CHAT_ID: 1489 })
        expect(crossed.status).toBe(401)
      }),
    60_000
  )

  it.scopedLive("a first start seeds the token store from the configured refresh token", () =>
    Effect.gen(function*() {
      const support = yield* Emulator.make()
      const issued = support.oauth.issue(1)
      const store = TokenStore.makeMemory()
      const base = yield* serve(
        config(
          [portal(
            "support",
            oauthUpstream(support, { restUrl: `${support.url}/rest/`, refreshToken: issued.refreshToken })
          )],
          [client("5", "support-client-secret", "support")]
        ),
        { tokens: Layer.succeed(TokenStore.TokenStore, store) }
      )
      const answer = yield* post(`${base}/rest/5/support-client-secret/im.chat.mute`, { CHAT_ID: 1489 })
      expect([answer.status, answer.json.result]).toEqual([200, true])
      expect(support.oauth.refreshes()).toBe(1)
      expect(Option.isSome(yield* store.get("support"))).toBe(true)
    }), 60_000)
})
