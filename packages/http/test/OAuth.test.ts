/**
 * OAuth applications (wire sheet §4) over real HTTP on loopback against the emulator's portal and OAuth server, with
 * the emulator's manual clock for token expiry: refresh ahead of expiry, refresh and one replay on expired_token,
 * single-flight under concurrency, rotated tokens persisted before use, invalid_grant as a terminal error, the
 * refresh as a POST form body.
 */
import { ImChat, PortalError } from "@bitrix24-effect/core"
import type { Emulator } from "@bitrix24-effect/emulator"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, it } from "@effect/vitest"
import { assertFalse, assertInstanceOf, assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Bitrix24Http from "../src/Bitrix24Http.js"
import * as OAuth from "../src/OAuth.js"
import * as TokenStore from "../src/TokenStore.js"
import { drive } from "./emulated.js"
import { withEmulator, withServer } from "./helpers.js"

const oauthPortal = { clock: "manual" } as const

/** Tokens issued by the emulator for user 1, stored with a local expiry `expiresIn` ms from the TestClock's now. */
const seed = (emulator: Emulator.Service, expiresIn: number) =>
  Effect.map(TestClock.currentTimeMillis, (now): TokenStore.Tokens => {
    const issued = emulator.oauth.issue(1)
    return {
      accessToken: issued.accessToken,
      refreshToken: issued.refreshToken,
      expiresAt: now + expiresIn,
      restUrl: `${emulator.url}/rest/`
    }
  })

const application = (emulator: Emulator.Service) =>
  OAuth.layer({
    clientId: emulator.oauth.clientId,
    clientSecret: emulator.oauth.clientSecret,
    tokenUrl: emulator.oauth.tokenUrl
  })

/** The OAuth transport over a store, with the emulator's application. */
const transport = (emulator: Emulator.Service, store: TokenStore.Service) =>
  Bitrix24Http.layerOAuth().pipe(
    Layer.provide(Layer.merge(application(emulator), Layer.succeed(TokenStore.TokenStore, store))),
    Layer.provide(Bitrix24Http.layerDefaults)
  )

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

describe("Bitrix24Http.layerOAuth: tokens that refresh themselves (wire sheet §4)", () => {
  it.effect("20 concurrent calls with an expired token make exactly one refresh, then each is replayed once", () =>
    withEmulator(
      (emulator) =>
        Effect.gen(function*() {
          const store = TokenStore.makeMemory({ default: yield* seed(emulator, 3_600_000) })
          const before = yield* store.get("default")
          // The portal's clock passes the hour; the client's does not know it yet.
          emulator.clock.advance(3_601_000)
          const fiber = yield* Effect.forEach(range(20), () => ImChat.mute({ CHAT_ID: 1489 }), {
            concurrency: "unbounded"
          }).pipe(Effect.provide(transport(emulator, store)), Effect.fork)
          const results = yield* drive(fiber, { emulator })
          deepStrictEqual(results, range(20).map(() => true))
          strictEqual(emulator.oauth.refreshes(), 1)
          const calls = emulator.journal.filter((entry) => entry.method === "im.chat.mute")
          strictEqual(calls.filter((entry) => entry.error === "expired_token").length, 20)
          strictEqual(calls.filter((entry) => entry.status === 200).length, 20)
          // 20 refused, 1 refresh, 20 replays: the refresh token went to the OAuth server once.
          strictEqual(emulator.httpRequests(), 41)
          const after = Option.getOrThrow(yield* store.get("default"))
          assertFalse(Redacted.value(after.refreshToken) === Redacted.value(Option.getOrThrow(before).refreshToken))
        }),
      oauthPortal
    ))

  it.effect("a used refresh token is dead afterwards, so it must never be replayed", () =>
    withEmulator(
      (emulator) =>
        Effect.gen(function*() {
          const tokens = yield* seed(emulator, 3_600_000)
          const app = {
            clientId: emulator.oauth.clientId,
            clientSecret: emulator.oauth.clientSecret,
            tokenUrl: emulator.oauth.tokenUrl
          }
          const fresh = yield* OAuth.refresh(app, tokens.refreshToken)
          strictEqual(fresh.restUrl, `${emulator.url}/rest/`)
          const again = yield* Effect.flip(OAuth.refresh(app, tokens.refreshToken))
          assertInstanceOf(again, OAuth.ReauthorizationRequired)
          strictEqual(again.code, "invalid_grant")
          assertFalse(again.message.includes(Redacted.value(tokens.refreshToken)))
        }),
      oauthPortal
    ))

  it.effect("tokens that expire within the skew are refreshed before the call: no expired_token on the wire", () =>
    withEmulator(
      (emulator) =>
        Effect.gen(function*() {
          const store = TokenStore.makeMemory({ default: yield* seed(emulator, 30_000) })
          const fiber = yield* ImChat.mute({ CHAT_ID: 1489 }).pipe(
            Effect.provide(transport(emulator, store)),
            Effect.fork
          )
          strictEqual(yield* drive(fiber, { emulator }), true)
          strictEqual(emulator.oauth.refreshes(), 1)
          deepStrictEqual(emulator.journal.map((entry) => [entry.method, entry.status]), [["im.chat.mute", 200]])
          const stored = Option.getOrThrow(yield* store.get("default"))
          assertTrue(stored.expiresAt >= 3_600_000, "the new expiry counts from the local clock")
        }),
      oauthPortal
    ))

  it.effect("rotated tokens are written to the store before any call uses them", () =>
    withEmulator(
      (emulator) =>
        Effect.gen(function*() {
          const memory = TokenStore.makeMemory({ default: yield* seed(emulator, 3_600_000) })
          const writes: Array<{ readonly requestsSoFar: number; readonly accessToken: string }> = []
          const recording = TokenStore.make({
            get: memory.get,
            remove: memory.remove,
            set: (key, tokens) =>
              Effect.zipRight(
                Effect.sync(() =>
                  writes.push({
                    requestsSoFar: emulator.httpRequests(),
                    accessToken: Redacted.value(tokens.accessToken)
                  })
                ),
                memory.set(key, tokens)
              )
          })
          emulator.clock.advance(3_601_000)
          const fiber = yield* ImChat.mute({ CHAT_ID: 1489 }).pipe(
            Effect.provide(transport(emulator, recording)),
            Effect.fork
          )
          yield* drive(fiber, { emulator })
          strictEqual(writes.length, 1)
          // Written after the refused call (1) and the refresh (2), before the replay (3) that uses it.
          strictEqual(writes[0]!.requestsSoFar, 2)
          const replay = emulator.journal.find((entry) => entry.status === 200)!
          strictEqual(replay.request, 3)
          strictEqual(replay.auth, "oauth:1")
        }),
      oauthPortal
    ))

  it.scoped("the file store keeps the rotated pair across restarts, with mode 0600", () =>
    withEmulator(
      (emulator) =>
        Effect.gen(function*() {
          const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "b24-oauth-"))
          yield* Effect.addFinalizer(() => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true })))
          const path = Path.join(dir, "tokens.json")
          const first = yield* TokenStore.makeFile(path)
          yield* first.set("default", yield* seed(emulator, 3_600_000))
          emulator.clock.advance(3_601_000)
          const layer = Bitrix24Http.layerOAuth().pipe(
            Layer.provide(Layer.merge(application(emulator), TokenStore.layerFile(path))),
            Layer.provide(Layer.merge(NodeFileSystem.layer, Bitrix24Http.layerDefaults))
          )
          const fiber = yield* ImChat.mute({ CHAT_ID: 1489 }).pipe(Effect.provide(layer), Effect.fork)
          strictEqual(yield* drive(fiber, { emulator }), true)
          strictEqual(Fs.statSync(path).mode & 0o777, 0o600)
          // A new process reads the rotated pair and calls without refreshing again.
          const second = yield* ImChat.mute({ CHAT_ID: 1489 }).pipe(Effect.provide(layer), Effect.fork)
          strictEqual(yield* drive(second, { emulator }), true)
          strictEqual(emulator.oauth.refreshes(), 1)
        }).pipe(Effect.provide(NodeFileSystem.layer)),
      oauthPortal
    ))

  it.effect("invalid_grant is terminal: the call fails as InvalidGrant, saying re-authorization is needed, and is not retried", () =>
    withEmulator(
      (emulator) =>
        Effect.gen(function*() {
          const tokens = yield* seed(emulator, 3_600_000)
          const store = TokenStore.makeMemory({
            default: { ...tokens, refreshToken: Redacted.make("a-refresh-token-the-server-never-issued") }
          })
          emulator.clock.advance(3_601_000)
          const fiber = yield* ImChat.mute({ CHAT_ID: 1489 }).pipe(
            Effect.provide(transport(emulator, store)),
            Effect.flip,
            Effect.fork
          )
          const error = yield* drive(fiber, { emulator })
          assertInstanceOf(error, PortalError.InvalidGrant)
          strictEqual(error.code, "invalid_grant")
          strictEqual(error.method, "im.chat.mute")
          assertTrue(error.message.includes("authorized on the portal again"))
          strictEqual(emulator.oauth.refreshes(), 0)
          strictEqual(emulator.httpRequests(), 2)
        }),
      oauthPortal
    ))

  it.effect("no stored tokens: the layer fails with ReauthorizationRequired", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(
          ImChat.mute({ CHAT_ID: 1489 }).pipe(Effect.provide(transport(emulator, TokenStore.makeMemory())))
        )
        assertInstanceOf(error, OAuth.ReauthorizationRequired)
        strictEqual(error.code, "no_tokens")
        strictEqual(emulator.httpRequests(), 0)
      })
    ))

  it.effect("the refresh is a POST with a form body; nothing secret is in the URL", () =>
    Effect.gen(function*() {
      const seen: Array<{ method: string; url: string; contentType: string; body: string }> = []
      const answer = {
        access_token: "new-access",
        refresh_token: "new-refresh",
        expires_in: 3600,
        client_endpoint: "https://portal.example/rest/",
        member_id: "m1",
        user_id: 1
      }
      yield* withServer((request, response) => {
        let body = ""
        request.on("data", (chunk) => body += chunk)
        request.on("end", () => {
          seen.push({
            method: request.method ?? "",
            url: request.url ?? "",
            contentType: request.headers["content-type"] ?? "",
            body
          })
          response.writeHead(200, { "content-type": "application/json" })
          response.end(JSON.stringify(answer))
        })
      }, (url) =>
        Effect.gen(function*() {
          const tokens = yield* OAuth.refresh(
            { clientId: "app.1", clientSecret: Redacted.make("the-client-secret"), tokenUrl: `${url}/oauth/token/` },
            Redacted.make("the-refresh-token")
          )
          strictEqual(Redacted.value(tokens.accessToken), "new-access")
          strictEqual(tokens.memberId, "m1")
        }))
      strictEqual(seen.length, 1)
      strictEqual(seen[0]!.method, "POST")
      strictEqual(seen[0]!.url, "/oauth/token/")
      assertTrue(seen[0]!.contentType.startsWith("application/x-www-form-urlencoded"))
      deepStrictEqual(Object.fromEntries(new URLSearchParams(seen[0]!.body)), {
        grant_type: "refresh_token",
        client_id: "app.1",
        client_secret: "the-client-secret",
        refresh_token: "the-refresh-token"
      })
    }).pipe(Effect.provide(NodeHttpClient.layerUndici)))

  it.effect("OAuth.layerConfig reads B24_CLIENT_ID, B24_CLIENT_SECRET (redacted) and B24_OAUTH_URL with its default", () =>
    Effect.gen(function*() {
      const read = (entries: ReadonlyArray<readonly [string, string]>) =>
        Effect.provide(
          OAuth.OAuthApplication,
          OAuth.layerConfig().pipe(Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(entries)))))
        )
      const app = yield* read([["B24_CLIENT_ID", "local.1"], ["B24_CLIENT_SECRET", "s3cret"]])
      strictEqual(app.clientId, "local.1")
      assertTrue(Redacted.isRedacted(app.clientSecret))
      strictEqual(Redacted.value(app.clientSecret), "s3cret")
      assertFalse(String(app.clientSecret).includes("s3cret"))
      strictEqual(app.tokenUrl, "https://oauth.bitrix.info/oauth/token/")
      const custom = yield* read([
        ["B24_CLIENT_ID", "local.1"],
        ["B24_CLIENT_SECRET", "s3cret"],
        ["B24_OAUTH_URL", "https://oauth.example/oauth/token/"]
      ])
      strictEqual(custom.tokenUrl, "https://oauth.example/oauth/token/")
      assertTrue(Option.isSome(Option.some(yield* Effect.flip(read([["B24_CLIENT_ID", "x"]])))))
    }))
})
