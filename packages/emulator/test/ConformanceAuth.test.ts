/**
 * Conformance, wire sheet §4: inbound webhooks with scope sets, OAuth access tokens expiring on the emulator's clock,
 * and the OAuth token endpoint (refresh by POST form or GET query, client checks, rotation, every documented field).
 */
import { describe, it } from "@effect/vitest"
import { assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Fixture from "../src/Fixture.js"
import { call, callOAuth, withPortal } from "./conformance.js"
import { assertError, assertSuccess, postForm, request } from "./helpers.js"

const hour = 3600 * 1000

const refreshForm = (clientId: string, clientSecret: string, refreshToken: string) =>
  new URLSearchParams({
    grant_type: "refresh_token",
    client_id: clientId,
    client_secret: clientSecret,
    refresh_token: refreshToken
  }).toString()

describe("§4 inbound webhooks and scopes", () => {
  it.effect("a webhook without the method's scope: 403 insufficient_scope (webhook text), nothing runs", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        assertError(
          yield* call(emulator, "imopenlines.session.mode.silent", { CHAT_ID: 2043, ACTIVATE: "Y" }),
          403,
          "insufficient_scope",
          "The request requires higher privileges than provided by the webhook token"
        )
        strictEqual(emulator.portal.chats.get(2043)!.silent, false)
        assertSuccess(yield* call(emulator, "im.chat.mute", { CHAT_ID: 1489 }))
        deepStrictEqual(emulator.journal.map((entry) => entry.executed), [false, true])
      }), { fixture: { ...Fixture.defaultFixture, webhooks: [{ userId: 1, scopes: ["im"] }] } }))

  it.effect("an OAuth token without the scope: 403 insufficient_scope (access-token text)", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        assertError(
          yield* callOAuth(emulator, emulator.accessToken, "im.chat.mute", { CHAT_ID: 1489 }),
          403,
          "insufficient_scope",
          "The request requires higher privileges than provided by the access token"
        )
      }), { applications: [{ clientId: "local.only.openlines", scopes: ["imopenlines"] }] }))

  it.effect("no credentials at all: 401 NO_AUTH_FOUND", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        assertError(
          yield* request(`${emulator.url}/rest/im.chat.mute?CHAT_ID=1489`),
          401,
          "NO_AUTH_FOUND",
          "Wrong authorization data"
        )
      })
    ))
})

describe("§4 OAuth access tokens on the emulator's clock", () => {
  it.effect("a token works for one hour and then answers 401 expired_token", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const token = emulator.accessToken
        assertSuccess(yield* callOAuth(emulator, token, "im.chat.mute", { CHAT_ID: 1489 }))
        emulator.clock.advance(hour - 1)
        assertSuccess(yield* callOAuth(emulator, token, "im.chat.mute", { CHAT_ID: 1489 }))
        emulator.clock.advance(1)
        assertError(
          yield* callOAuth(emulator, token, "im.chat.mute", { CHAT_ID: 1489 }),
          401,
          "expired_token",
          "The access token provided has expired"
        )
        deepStrictEqual(emulator.journal.map((entry) => entry.executed), [true, true, false])
      })
    ))

  it.effect("an unknown token answers 401 invalid_token", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        assertError(
          yield* callOAuth(emulator, "no-such-token", "im.chat.mute", { CHAT_ID: 1489 }),
          401,
          "invalid_token",
          "The access token provided is invalid"
        )
      })
    ))

  it.effect("oauth.issue gives a pair for any user, expiring an hour from the clock's now", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const issued = emulator.oauth.issue(2)
        strictEqual(issued.expiresAt, emulator.clock.now() + hour)
        const answer = yield* callOAuth(emulator, issued.accessToken, "im.chat.mute", { CHAT_ID: 1489 })
        assertSuccess(answer)
        strictEqual(emulator.journal[0]?.auth, "oauth:2")
        strictEqual(emulator.journal[0]?.entity, `app:${emulator.oauth.clientId}`)
        assertTrue(!String(issued.accessToken).includes(Redacted.value(issued.accessToken)))
      })
    ))
})

describe("§4 the OAuth token endpoint (/oauth/token/)", () => {
  it.effect("refresh by POST form: every documented field, and the new access token works", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const { refreshToken } = emulator.oauth.issue(1)
        emulator.clock.advance(2 * hour)
        const answer = yield* postForm(
          emulator.oauth.tokenUrl,
          refreshForm(
            emulator.oauth.clientId,
            Redacted.value(emulator.oauth.clientSecret),
            Redacted.value(refreshToken)
          )
        )
        strictEqual(answer.status, 200, answer.text)
        const body = answer.body
        deepStrictEqual(Object.keys(body).sort(), [
          "access_token",
          "client_endpoint",
          "domain",
          "expires",
          "expires_in",
          "member_id",
          "refresh_token",
          "scope",
          "server_endpoint",
          "status",
          "user_id"
        ])
        strictEqual(body.expires_in, 3600)
        strictEqual(body.expires, Math.floor(emulator.clock.now() / 1000) + 3600)
        strictEqual(body.client_endpoint, `${emulator.url}/rest/`)
        strictEqual(body.domain, new URL(emulator.url).host)
        assertTrue(/^[0-9a-f]{32}$/.test(body.member_id), body.member_id)
        strictEqual(body.scope, "imopenlines,imconnector,im")
        strictEqual(body.status, "L")
        strictEqual(body.user_id, 1)
        assertTrue(body.refresh_token !== Redacted.value(refreshToken))
        assertSuccess(yield* callOAuth(emulator, body.access_token, "im.chat.mute", { CHAT_ID: 1489 }))
        strictEqual(emulator.oauth.refreshes(), 1)
      })
    ))

  it.effect("refresh by GET query; the used refresh token is dead afterwards (invalid_grant), the new one works", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const { refreshToken } = emulator.oauth.issue(1)
        const secret = Redacted.value(emulator.oauth.clientSecret)
        const query = (token: string) =>
          request(`${emulator.oauth.tokenUrl}?${refreshForm(emulator.oauth.clientId, secret, token)}`)
        const first = yield* query(Redacted.value(refreshToken))
        strictEqual(first.status, 200, first.text)
        const reused = yield* query(Redacted.value(refreshToken))
        strictEqual(reused.status, 400)
        strictEqual(reused.body.error, "invalid_grant")
        const second = yield* query(first.body.refresh_token)
        strictEqual(second.status, 200, second.text)
        strictEqual(emulator.oauth.refreshes(), 2)
      })
    ))

  it.effect("a wrong client_secret or an unknown client_id: 401 invalid_client, and the token stays usable", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const { refreshToken } = emulator.oauth.issue(1)
        const token = Redacted.value(refreshToken)
        const wrongSecret = yield* postForm(
          emulator.oauth.tokenUrl,
          refreshForm(emulator.oauth.clientId, "wrong-secret", token)
        )
        strictEqual(wrongSecret.status, 401)
        strictEqual(wrongSecret.body.error, "invalid_client")
        const unknown = yield* postForm(
          emulator.oauth.tokenUrl,
          refreshForm("app.unknown", Redacted.value(emulator.oauth.clientSecret), token)
        )
        strictEqual(unknown.status, 401)
        strictEqual(unknown.body.error, "invalid_client")
        const ok = yield* postForm(
          emulator.oauth.tokenUrl,
          refreshForm(emulator.oauth.clientId, Redacted.value(emulator.oauth.clientSecret), token)
        )
        strictEqual(ok.status, 200)
      })
    ))

  it.effect("missing params or another grant type: 400 invalid_request", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const missing = yield* postForm(emulator.oauth.tokenUrl, "grant_type=refresh_token")
        strictEqual(missing.status, 400)
        strictEqual(missing.body.error, "invalid_request")
        const other = yield* request(
          `${emulator.oauth.tokenUrl}?grant_type=password&client_id=${emulator.oauth.clientId}&client_secret=x`
        )
        strictEqual(other.status, 400)
        strictEqual(other.body.error, "invalid_request")
      })
    ))

  it.effect("another application's refresh token, or one older than 180 days: 400 invalid_grant", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const other = emulator.oauth.issue(1, "app.second")
        const secret = Redacted.value(emulator.oauth.clientSecret)
        const crossed = yield* postForm(
          emulator.oauth.tokenUrl,
          refreshForm(emulator.oauth.clientId, secret, Redacted.value(other.refreshToken))
        )
        strictEqual(crossed.body.error, "invalid_grant")
        const { refreshToken } = emulator.oauth.issue(1)
        emulator.clock.advance(181 * 24 * hour)
        const old = yield* postForm(
          emulator.oauth.tokenUrl,
          refreshForm(emulator.oauth.clientId, secret, Redacted.value(refreshToken))
        )
        strictEqual(old.status, 400)
        strictEqual(old.body.error, "invalid_grant")
      }), {
      applications: [
        { clientId: "local.first.app", clientSecret: "first-secret-123", scopes: ["imopenlines", "im"] },
        { clientId: "app.second", clientSecret: "second-secret-456", scopes: ["im"], status: "P" }
      ]
    }))

  it.effect("fixture applications: their client_id, secret, scopes and status are used", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        strictEqual(emulator.oauth.clientId, "local.first.app")
        strictEqual(Redacted.value(emulator.oauth.clientSecret), "first-secret-123")
        const { refreshToken } = emulator.oauth.issue(1)
        const answer = yield* postForm(
          emulator.oauth.tokenUrl,
          refreshForm("local.first.app", "first-secret-123", Redacted.value(refreshToken))
        )
        strictEqual(answer.body.scope, "im")
        strictEqual(answer.body.status, "P")
      }), {
      fixture: {
        ...Fixture.defaultFixture,
        applications: [{ clientId: "local.first.app", clientSecret: "first-secret-123", scopes: ["im"], status: "P" }]
      }
    }))

  it.effect("token requests count as HTTP requests but are not REST calls in the journal", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        yield* postForm(emulator.oauth.tokenUrl, "grant_type=refresh_token")
        strictEqual(emulator.httpRequests(), 1)
        strictEqual(emulator.journal.length, 0)
      })
    ))
})

describe("§4 the authorize step (/oauth/authorize/) and the authorization_code grant", () => {
  const authorize = (emulator: { readonly url: string }, query: Record<string, string>) =>
    request(`${emulator.url}/oauth/authorize/?${new URLSearchParams(query)}`, { redirect: "manual" })
  const codeForm = (clientId: string, clientSecret: string, code: string) =>
    new URLSearchParams({ grant_type: "authorization_code", client_id: clientId, client_secret: clientSecret, code })
      .toString()

  it.effect("redirects with code, state, domain, member_id, scope and server_domain; the code buys a token pair once", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const answer = yield* authorize(emulator, {
          client_id: emulator.oauth.clientId,
          state: "s-123",
          redirect_uri: "http://127.0.0.1:9/callback?keep=1"
        })
        strictEqual(answer.status, 302)
        const location = new URL(answer.headers.get("location")!)
        strictEqual(`${location.origin}${location.pathname}`, "http://127.0.0.1:9/callback")
        const query = Object.fromEntries(location.searchParams)
        deepStrictEqual(Object.keys(query).sort(), [
          "code",
          "domain",
          "keep",
          "member_id",
          "scope",
          "server_domain",
          "state"
        ])
        strictEqual(query.state, "s-123")
        strictEqual(query.domain, new URL(emulator.url).host)
        strictEqual(query.scope, "imopenlines,imconnector,im")
        const secret = Redacted.value(emulator.oauth.clientSecret)
        const tokens = yield* postForm(emulator.oauth.tokenUrl, codeForm(emulator.oauth.clientId, secret, query.code!))
        strictEqual(tokens.status, 200, tokens.text)
        strictEqual(tokens.body.user_id, 1)
        strictEqual(tokens.body.client_endpoint, `${emulator.url}/rest/`)
        strictEqual(tokens.body.member_id, query.member_id)
        assertSuccess(yield* callOAuth(emulator, tokens.body.access_token, "im.chat.mute", { CHAT_ID: 1489 }))
        const again = yield* postForm(emulator.oauth.tokenUrl, codeForm(emulator.oauth.clientId, secret, query.code!))
        strictEqual(again.status, 400)
        strictEqual(again.body.error, "invalid_grant")
      })
    ))

  it.effect("a code lives 30 seconds and belongs to its application", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const codeOf = (clientId: string) =>
          Effect.map(
            authorize(emulator, { client_id: clientId, redirect_uri: "http://127.0.0.1:9/" }),
            (answer) => new URL(answer.headers.get("location")!).searchParams.get("code")!
          )
        const late = yield* codeOf("local.first.app")
        emulator.clock.advance(30_001)
        const expired = yield* postForm(emulator.oauth.tokenUrl, codeForm("local.first.app", "first-secret-123", late))
        strictEqual(expired.body.error, "invalid_grant")
        const other = yield* codeOf("local.first.app")
        const stolen = yield* postForm(emulator.oauth.tokenUrl, codeForm("app.second", "second-secret-456", other))
        strictEqual(stolen.status, 400)
        strictEqual(stolen.body.error, "invalid_grant")
      }), {
      applications: [
        { clientId: "local.first.app", clientSecret: "first-secret-123" },
        { clientId: "app.second", clientSecret: "second-secret-456" }
      ]
    }))

  it.effect("the registered handler URL is used without redirect_uri; refusals are JSON errors", () =>
    withPortal((emulator) =>
      Effect.gen(function*() {
        const registered = yield* authorize(emulator, { client_id: "local.app" })
        strictEqual(registered.status, 302)
        assertTrue(registered.headers.get("location")!.startsWith("https://app.example.com/handler?"))
        const unknown = yield* authorize(emulator, { client_id: "nobody", redirect_uri: "http://127.0.0.1:9/" })
        strictEqual(unknown.status, 401)
        strictEqual(unknown.body.error, "invalid_client")
        const missing = yield* authorize(emulator, {})
        strictEqual(missing.status, 400)
        strictEqual(missing.body.error, "invalid_request")
        const nowhere = yield* authorize(emulator, { client_id: "app.bare", redirect_uri: "javascript:alert(1)" })
        strictEqual(nowhere.status, 400)
        strictEqual(nowhere.body.error, "invalid_request")
        strictEqual(emulator.journal.length, 0)
      }), {
      applications: [
        { clientId: "local.app", redirectUri: "https://app.example.com/handler" },
        { clientId: "app.bare" }
      ]
    }))
})
