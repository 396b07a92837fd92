/**
 * The typed library over real HTTP on loopback against a fresh emulator: each method's success, each documented
 * error reachable over the wire as its typed class, the Y/N wire encoding, validation before I/O, both auth forms,
 * transport failures, and secrecy of the webhook code.
 */
import { Bitrix24Client, ImChat, ImOpenLines, PortalError } from "@bitrix24-effect/core"
import { Emulator, Fixture } from "@bitrix24-effect/emulator"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, it } from "@effect/vitest"
import { assertFalse, assertInstanceOf, assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import type { ServerResponse } from "node:http"
import * as Bitrix24Http from "../src/Bitrix24Http.js"
import { oauthClient, webhookClient, webhookCode, withDefaults, withEmulator, withServer } from "./helpers.js"

/** The error's fields that identify a portal error. */
const wireOf = (error: PortalError.PortalError) => ({
  tag: error._tag,
  method: error.method,
  code: error.code,
  status: error.status
})

describe("imopenlines.session.mode.silent through the typed library (seeds/001)", () => {
  it.effect("ACTIVATE true arrives as \"Y\" and switches silent mode on; false arrives as \"N\"", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const client = webhookClient(emulator)
        strictEqual(
          yield* ImOpenLines.sessionModeSilent({ CHAT_ID: 2043, ACTIVATE: true }).pipe(Effect.provide(client)),
          true
        )
        strictEqual(emulator.portal.chats.get(2043)!.silent, true)
        strictEqual(
          yield* ImOpenLines.sessionModeSilent({ CHAT_ID: 2043, ACTIVATE: false }).pipe(Effect.provide(client)),
          true
        )
        strictEqual(emulator.portal.chats.get(2043)!.silent, false)
        deepStrictEqual(emulator.journal.map((entry) => [entry.method, entry.params, entry.auth]), [
          ["imopenlines.session.mode.silent", { CHAT_ID: 2043, ACTIVATE: "Y" }, "webhook:1"],
          ["imopenlines.session.mode.silent", { CHAT_ID: 2043, ACTIVATE: "N" }, "webhook:1"]
        ])
      })
    ))

  it.effect("CHAT_ID (400) for a chat that does not exist -> ChatIdInvalid", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(
          ImOpenLines.sessionModeSilent({ CHAT_ID: 999999, ACTIVATE: true }).pipe(
            Effect.provide(webhookClient(emulator))
          )
        )
        assertInstanceOf(error, PortalError.ChatIdInvalid)
        deepStrictEqual(wireOf(error), {
          tag: "ChatIdInvalid",
          method: "imopenlines.session.mode.silent",
          code: "CHAT_ID",
          status: 400
        })
        strictEqual(error.description, "Chat ID is incorrect")
      })
    ))

  it.effect("CHAT_TYPE (400) for group chat 1489 -> ChatTypeInvalid", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(
          ImOpenLines.sessionModeSilent({ CHAT_ID: 1489, ACTIVATE: true }).pipe(Effect.provide(webhookClient(emulator)))
        )
        assertInstanceOf(error, PortalError.ChatTypeInvalid)
        deepStrictEqual(wireOf(error), {
          tag: "ChatTypeInvalid",
          method: "imopenlines.session.mode.silent",
          code: "CHAT_TYPE",
          status: 400
        })
      })
    ))

  it.effect("ACCESS_DENIED (400) for user 3 -> AccessDenied, not the plan denial", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(
          ImOpenLines.sessionModeSilent({ CHAT_ID: 2043, ACTIVATE: true }).pipe(
            Effect.provide(webhookClient(emulator, 3))
          )
        )
        assertInstanceOf(error, PortalError.AccessDenied)
        deepStrictEqual(wireOf(error), {
          tag: "AccessDenied",
          method: "imopenlines.session.mode.silent",
          code: "ACCESS_DENIED",
          status: 400
        })
        strictEqual(error.description, "You do not have permission to access this chat.")
      })
    ))
})

describe("imopenlines.session.mode.pin through the typed library (seeds/002)", () => {
  it.effect("pins by default (no ACTIVATE sent) and unpins with ACTIVATE false, sent as \"N\"", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const client = webhookClient(emulator)
        strictEqual(yield* ImOpenLines.sessionModePin({ CHAT_ID: 2024 }).pipe(Effect.provide(client)), true)
        strictEqual(emulator.portal.sessions.get(322)!.pinned, true)
        strictEqual(
          yield* ImOpenLines.sessionModePin({ CHAT_ID: 2024, ACTIVATE: false }).pipe(Effect.provide(client)),
          true
        )
        strictEqual(emulator.portal.sessions.get(322)!.pinned, false)
        deepStrictEqual(emulator.journal.map((entry) => entry.params), [
          { CHAT_ID: 2024 },
          { CHAT_ID: 2024, ACTIVATE: "N" }
        ])
      })
    ))

  it.effect("ERROR_USER_NOT_OPERATOR (400) when user 1 pins user 2's chat 2050 -> UserNotOperator", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(
          ImOpenLines.sessionModePin({ CHAT_ID: 2050 }).pipe(Effect.provide(webhookClient(emulator)))
        )
        assertInstanceOf(error, PortalError.UserNotOperator)
        deepStrictEqual(wireOf(error), {
          tag: "UserNotOperator",
          method: "imopenlines.session.mode.pin",
          code: "ERROR_USER_NOT_OPERATOR",
          status: 400
        })
      })
    ))

  it.effect("CHAT_ID (400) -> ChatIdInvalid; ACCESS_DENIED (400) for user 3 -> AccessDenied", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const missing = yield* Effect.flip(
          ImOpenLines.sessionModePin({ CHAT_ID: 999999 }).pipe(Effect.provide(webhookClient(emulator)))
        )
        assertInstanceOf(missing, PortalError.ChatIdInvalid)
        const denied = yield* Effect.flip(
          ImOpenLines.sessionModePin({ CHAT_ID: 2024 }).pipe(Effect.provide(webhookClient(emulator, 3)))
        )
        assertInstanceOf(denied, PortalError.AccessDenied)
        strictEqual(denied.method, "imopenlines.session.mode.pin")
      })
    ))

  it.effect("the unknown-code fallback: with settings.emptyCodes -> UnknownPortalError code \"\" status 400", () =>
    withEmulator(
      (emulator) =>
        Effect.gen(function*() {
          const error = yield* Effect.flip(
            ImOpenLines.sessionModePin({ CHAT_ID: 2050 }).pipe(Effect.provide(webhookClient(emulator)))
          )
          assertInstanceOf(error, PortalError.UnknownPortalError)
          deepStrictEqual(
            { method: error.method, code: error.code, description: error.description, status: error.status },
            { method: "imopenlines.session.mode.pin", code: "", description: "", status: 400 }
          )
        }),
      { settings: { emptyCodes: true } }
    ))

  it.effect("a chat without a running session (494) also answers the empty code (wire sheet §6.2)", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(
          ImOpenLines.sessionModePin({ CHAT_ID: 494 }).pipe(Effect.provide(webhookClient(emulator)))
        )
        assertInstanceOf(error, PortalError.UnknownPortalError)
        strictEqual(error.code, "")
        strictEqual(error.status, 400)
      })
    ))
})

describe("imopenlines.session.start through the typed library (seeds/004)", () => {
  it.effect("starts a session in chat 494", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const before = emulator.portal.sessions.size
        strictEqual(
          yield* ImOpenLines.sessionStart({ CHAT_ID: 494 }).pipe(Effect.provide(webhookClient(emulator))),
          true
        )
        strictEqual(emulator.portal.sessions.size, before + 1)
      })
    ))

  it.effect("CHAT_TYPE (400) for project chat 1500; ACCESS_DENIED (400) for user 3", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const chatType = yield* Effect.flip(
          ImOpenLines.sessionStart({ CHAT_ID: 1500 }).pipe(Effect.provide(webhookClient(emulator)))
        )
        assertInstanceOf(chatType, PortalError.ChatTypeInvalid)
        deepStrictEqual(wireOf(chatType), {
          tag: "ChatTypeInvalid",
          method: "imopenlines.session.start",
          code: "CHAT_TYPE",
          status: 400
        })
        const denied = yield* Effect.flip(
          ImOpenLines.sessionStart({ CHAT_ID: 494 }).pipe(Effect.provide(webhookClient(emulator, 3)))
        )
        assertInstanceOf(denied, PortalError.AccessDenied)
        strictEqual(denied.status, 400)
      })
    ))
})

describe("im.chat.mute through the typed library (seeds/003)", () => {
  it.effect("MUTE true arrives as \"Y\", false as \"N\"; DIALOG_ID travels as given", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const client = webhookClient(emulator)
        strictEqual(yield* ImChat.mute({ CHAT_ID: 1489, MUTE: true }).pipe(Effect.provide(client)), true)
        strictEqual(emulator.portal.chats.get(1489)!.muted.has(1), true)
        strictEqual(yield* ImChat.mute({ DIALOG_ID: "chat1489", MUTE: false }).pipe(Effect.provide(client)), true)
        strictEqual(emulator.portal.chats.get(1489)!.muted.has(1), false)
        strictEqual(yield* ImChat.mute({ DIALOG_ID: "sg7" }).pipe(Effect.provide(client)), true)
        strictEqual(emulator.portal.chats.get(1500)!.muted.has(1), true)
        deepStrictEqual(emulator.journal.map((entry) => entry.params), [
          { CHAT_ID: 1489, MUTE: "Y" },
          { DIALOG_ID: "chat1489", MUTE: "N" },
          { DIALOG_ID: "sg7" }
        ])
      })
    ))

  it.effect("ACCESS_ERROR (403) for open-line chat 2043 and for a chat that does not exist -> AccessError", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        for (const params of [{ CHAT_ID: 2043 }, { CHAT_ID: 999999 }, { DIALOG_ID: "sg99" }]) {
          const error = yield* Effect.flip(ImChat.mute(params).pipe(Effect.provide(webhookClient(emulator))))
          assertInstanceOf(error, PortalError.AccessError)
          deepStrictEqual(wireOf(error), {
            tag: "AccessError",
            method: "im.chat.mute",
            code: "ACCESS_ERROR",
            status: 403
          })
          strictEqual(error.description, "This chat cannot be muted")
        }
      })
    ))

  it.effect("fromWire takes CLI/proxy strings and sends the canonical wire form", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const response = yield* ImChat.mute.fromWire({ CHAT_ID: "1489", MUTE: "Y" }).pipe(
          Effect.provide(webhookClient(emulator))
        )
        strictEqual(response.result, true)
        deepStrictEqual(emulator.journal[0]?.params, { CHAT_ID: 1489, MUTE: "Y" })
      })
    ))
})

describe("validation fails before any I/O", () => {
  it.effect("InvalidParams, and the emulator journal stays empty", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const client = webhookClient(emulator)
        const silent = yield* Effect.flip(ImOpenLines.sessionModeSilent({ CHAT_ID: 0 }).pipe(Effect.provide(client)))
        assertInstanceOf(silent, PortalError.InvalidParams)
        deepStrictEqual([silent.method, silent.field, silent.missing], [
          "imopenlines.session.mode.silent",
          "CHAT_ID",
          false
        ])
        const mute = yield* Effect.flip(ImChat.mute({}).pipe(Effect.provide(client)))
        assertInstanceOf(mute, PortalError.InvalidParams)
        strictEqual(mute.field, "CHAT_ID")
        const dialog = yield* Effect.flip(ImChat.mute({ DIALOG_ID: "bad" }).pipe(Effect.provide(client)))
        assertInstanceOf(dialog, PortalError.InvalidParams)
        strictEqual(dialog.field, "DIALOG_ID")
        const fromWire = yield* Effect.flip(
          ImOpenLines.sessionModeSilent.fromWire({ CHAT_ID: 2043, ACTIVATE: true }).pipe(Effect.provide(client))
        )
        assertInstanceOf(fromWire, PortalError.InvalidParams)
        strictEqual(fromWire.field, "ACTIVATE")
        deepStrictEqual(emulator.journal, [])
      })
    ))
})

describe("the time block (wire sheet §1.4)", () => {
  it.effect("withResponse exposes it, with operating_reset_at", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const response = yield* ImOpenLines.sessionModeSilent.withResponse({ CHAT_ID: 2043, ACTIVATE: true }).pipe(
          Effect.provide(webhookClient(emulator))
        )
        strictEqual(response.result, true)
        assertTrue(Option.isSome(response.time))
        const time = response.time.value
        assertTrue(Number.isInteger(time.start))
        assertTrue(Number.isInteger(time.processing))
        assertTrue(time.operating_reset_at !== undefined && time.operating_reset_at > time.start)
        strictEqual(time.operating, 0)
        assertTrue(Option.isNone(response.next))
        assertTrue(Option.isNone(response.total))
      })
    ))
})

describe("OAuth access token (wire sheet §1.1, §4)", () => {
  it.effect("layerOAuthToken calls {url}/rest/ with auth in the body", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        strictEqual(
          yield* ImOpenLines.sessionModeSilent({ CHAT_ID: 2043, ACTIVATE: true }).pipe(
            Effect.provide(oauthClient(emulator))
          ),
          true
        )
        strictEqual(emulator.portal.chats.get(2043)!.silent, true)
        deepStrictEqual(
          emulator.journal.map((entry) => [entry.auth, entry.params]),
          [["oauth:1", { CHAT_ID: 2043, ACTIVATE: "Y" }]]
        )
      })
    ))

  it.effect("auth travels in the body also when the call has no params, and in a batch", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const empty = yield* Effect.flip(
          Bitrix24Client.callRaw("no.such.method", {}).pipe(Effect.provide(oauthClient(emulator)))
        )
        // Authenticated, then not found: the token was read from the otherwise empty body.
        assertInstanceOf(empty, PortalError.MethodNotFound)
        const batched = withDefaults(
          Bitrix24Http.layerOAuthToken({
            restUrl: `${emulator.url}/rest/`,
            accessToken: emulator.accessToken,
            batching: true
          })
        )
        deepStrictEqual(
          yield* Effect.all([ImChat.mute({ CHAT_ID: 1489 }), ImChat.mute({ CHAT_ID: 1500 })], { batching: true }).pipe(
            Effect.provide(batched)
          ),
          [true, true]
        )
        deepStrictEqual(
          emulator.journal.map((entry) => [entry.method, entry.via, entry.auth]),
          [
            ["no.such.method", "direct", "oauth:1"],
            ["batch", "direct", "oauth:1"],
            ["im.chat.mute", "batch", "oauth:1"],
            ["im.chat.mute", "batch", "oauth:1"]
          ]
        )
      })
    ))

  it.effect("a restUrl without the trailing slash works too", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const layer = withDefaults(Bitrix24Http.layerOAuthToken({
          restUrl: `${emulator.url}/rest`,
          accessToken: emulator.accessToken
        }))
        strictEqual(yield* ImChat.mute({ CHAT_ID: 1489 }).pipe(Effect.provide(layer)), true)
      })
    ))

  it.effect("a wrong token -> InvalidToken 401", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const layer = withDefaults(Bitrix24Http.layerOAuthToken({
          restUrl: `${emulator.url}/rest/`,
          accessToken: Redacted.make("not-a-token")
        }))
        const error = yield* Effect.flip(ImChat.mute({ CHAT_ID: 1489 }).pipe(Effect.provide(layer)))
        assertInstanceOf(error, PortalError.InvalidToken)
        deepStrictEqual(wireOf(error), {
          tag: "InvalidToken",
          method: "im.chat.mute",
          code: "invalid_token",
          status: 401
        })
      })
    ))

  it.effect("an expired token -> ExpiredToken 401", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        emulator.credentials.tokens.set("expiredtoken", {
          token: "expiredtoken",
          userId: 1,
          scopes: new Set(["imopenlines", "im"]),
          expiresAt: emulator.portal.now() - 1
        })
        const layer = withDefaults(Bitrix24Http.layerOAuthToken({
          restUrl: `${emulator.url}/rest/`,
          accessToken: Redacted.make("expiredtoken")
        }))
        const error = yield* Effect.flip(ImChat.mute({ CHAT_ID: 1489 }).pipe(Effect.provide(layer)))
        assertInstanceOf(error, PortalError.ExpiredToken)
        strictEqual(error.status, 401)
      })
    ))
})

describe("system errors over the wire", () => {
  it.effect("a wrong webhook code -> NoAuthFound 401", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const layer = withDefaults(Bitrix24Http.layerWebhook(Redacted.make(`${emulator.url}/rest/1/wrongcode123/`)))
        const error = yield* Effect.flip(
          ImOpenLines.sessionModeSilent({ CHAT_ID: 2043, ACTIVATE: true }).pipe(Effect.provide(layer))
        )
        assertInstanceOf(error, PortalError.NoAuthFound)
        deepStrictEqual(wireOf(error), {
          tag: "NoAuthFound",
          method: "imopenlines.session.mode.silent",
          code: "NO_AUTH_FOUND",
          status: 401
        })
        strictEqual(emulator.portal.chats.get(2043)!.silent, false)
      })
    ))

  it.effect("a webhook without the scope -> InsufficientScope 403", () =>
    withEmulator(
      (emulator) =>
        Effect.gen(function*() {
          const error = yield* Effect.flip(
            ImOpenLines.sessionStart({ CHAT_ID: 494 }).pipe(Effect.provide(webhookClient(emulator)))
          )
          assertInstanceOf(error, PortalError.InsufficientScope)
          strictEqual(error.status, 403)
        }),
      { fixture: { ...Fixture.defaultFixture, webhooks: [{ userId: 1, scopes: ["im"] }] } }
    ))

  it.effect("callRaw of an unknown method -> MethodNotFound 404", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(
          Bitrix24Client.callRaw("crm.deal.add", { fields: { TITLE: "x" } }).pipe(
            Effect.provide(webhookClient(emulator))
          )
        )
        assertInstanceOf(error, PortalError.MethodNotFound)
        deepStrictEqual(wireOf(error), {
          tag: "MethodNotFound",
          method: "crm.deal.add",
          code: "ERROR_METHOD_NOT_FOUND",
          status: 404
        })
        deepStrictEqual(emulator.journal[0]?.params, { fields: { TITLE: "x" } })
      })
    ))
})

describe("transport failures", () => {
  it.effect("a closed port -> TransportError Network", () =>
    Effect.gen(function*() {
      const closed = yield* Effect.scoped(Effect.map(Emulator.make(), (emulator) => emulator.webhookUrl))
      const error = yield* Effect.flip(
        ImChat.mute({ CHAT_ID: 1489 }).pipe(Effect.provide(withDefaults(Bitrix24Http.layerWebhook(closed))))
      )
      assertInstanceOf(error, PortalError.TransportError)
      strictEqual(error.reason, "Network")
      strictEqual(error.method, "im.chat.mute")
      strictEqual(error.status, undefined)
    }).pipe(Effect.provide(NodeHttpClient.layerUndici)))

  it.effect("a base URL answering a non-JSON 404 page -> TransportError InvalidBody", () =>
    withEmulator((emulator) =>
      Effect.gen(function*() {
        const layer = withDefaults(Bitrix24Http.layerOAuthToken({
          restUrl: `${emulator.url}/not-rest/`,
          accessToken: emulator.accessToken
        }))
        const error = yield* Effect.flip(ImChat.mute({ CHAT_ID: 1489 }).pipe(Effect.provide(layer)))
        assertInstanceOf(error, PortalError.TransportError)
        strictEqual(error.reason, "InvalidBody")
        strictEqual(error.status, 404)
        strictEqual(error.method, "im.chat.mute")
      })
    ))
})

describe("parseWebhookUrl (wire sheet §1.1: https://{portal}/rest/{user_id}/{code}/)", () => {
  const parse = (url: string) => Bitrix24Http.parseWebhookUrl(Redacted.make(url))
  const read = (url: string) =>
    Either.map(parse(url), (webhook) => ({ ...webhook, code: Redacted.value(webhook.code) }))

  it("accepts the inbound webhook form, with or without the trailing slash", () => {
    for (const url of ["https://x.bitrix24.com/rest/1/abc/", "https://x.bitrix24.com/rest/1/abc"]) {
      deepStrictEqual(read(url), Either.right({ portal: "https://x.bitrix24.com", userId: "1", code: "abc" }))
    }
  })

  it("tolerates a trailing method and a path prefix, and trims whitespace", () => {
    deepStrictEqual(
      read("https://x.bitrix24.com/rest/1/abc/crm.deal.add.json"),
      Either.right({ portal: "https://x.bitrix24.com", userId: "1", code: "abc" })
    )
    deepStrictEqual(
      read("  https://example.com/b24/rest/7/k3y/\n"),
      Either.right({ portal: "https://example.com/b24", userId: "7", code: "k3y" })
    )
  })

  it("rejects junk without echoing it in the message", () => {
    const junk = [
      "",
      "   ",
      "not a url s3cr3tjunk",
      "https://x.bitrix24.com/rest/1/",
      "https://x.bitrix24.com/rest/",
      "ftp://x.bitrix24.com/rest/1/s3cr3tjunk/",
      "https://x.bitrix24.com/rest/1/s3cr3tjunk/extra/more",
      "http://[::1/rest/1/s3cr3tjunk/",
      "https://x.bitrix24.com:99999/rest/1/s3cr3tjunk/"
    ]
    for (const url of junk) {
      const result = parse(url)
      assertTrue(Either.isLeft(result), url)
      assertInstanceOf(result.left, Bitrix24Http.InvalidWebhookUrl)
      assertTrue(result.left.message.includes("expected https://<portal>/rest/<user_id>/<code>/"))
      if (url.trim().length > 0) {
        assertFalse(result.left.message.includes(url.trim()), url)
        assertFalse(JSON.stringify(result.left).includes("s3cr3tjunk"), url)
      }
    }
    const empty = parse("")
    assertTrue(Either.isLeft(empty) && empty.left.reason === "empty")
  })

  it.effect("layerWebhook fails with InvalidWebhookUrl for junk", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        ImChat.mute({ CHAT_ID: 1489 }).pipe(
          Effect.provide(withDefaults(Bitrix24Http.layerWebhook(Redacted.make("https://x.bitrix24.com/s3cr3tjunk"))))
        )
      )
      assertInstanceOf(error, Bitrix24Http.InvalidWebhookUrl)
      assertFalse(error.message.includes("s3cr3tjunk"))
    }).pipe(Effect.provide(NodeHttpClient.layerUndici)))

  it("the endpoints put the code only in the redacted base", () => {
    const webhook = Either.getOrThrow(parse("https://x.bitrix24.com/rest/1/abc/"))
    const endpoint = Bitrix24Http.webhookEndpoint(webhook)
    strictEqual(endpoint.portal, "https://x.bitrix24.com")
    strictEqual(Redacted.value(endpoint.base), "https://x.bitrix24.com/rest/1/abc/")
    assertFalse(String(endpoint.base).includes("abc"))
    const oauth = Bitrix24Http.oauthTokenEndpoint({
      restUrl: "https://x.bitrix24.com/rest",
      accessToken: Redacted.make("t")
    })
    strictEqual(oauth.portal, "https://x.bitrix24.com")
    strictEqual(Redacted.value(oauth.base), "https://x.bitrix24.com/rest/")
  })
})

describe("no error ever contains the webhook code", () => {
  const renderings = (error: unknown): ReadonlyArray<string> => [
    String((error as Error).message),
    String(error),
    JSON.stringify(error),
    Cause.pretty(Cause.fail(error))
  ]

  it.effect("method, auth, network and body errors", () =>
    Effect.gen(function*() {
      const secrets: Array<string> = []
      const errors: Array<unknown> = []
      yield* withEmulator((emulator) =>
        Effect.gen(function*() {
          const code = webhookCode(emulator)
          secrets.push(code, "wrongcode123abc")
          errors.push(
            yield* Effect.flip(ImChat.mute({ CHAT_ID: 2043 }).pipe(Effect.provide(webhookClient(emulator)))),
            yield* Effect.flip(
              ImChat.mute({ CHAT_ID: 1489 }).pipe(
                Effect.provide(
                  withDefaults(Bitrix24Http.layerWebhook(Redacted.make(`${emulator.url}/rest/1/wrongcode123abc/`)))
                )
              )
            ),
            yield* Effect.flip(
              ImChat.mute({ CHAT_ID: 1489 }).pipe(
                Effect.provide(
                  withDefaults(Bitrix24Http.layerWebhook(Redacted.make(`${emulator.url}/portal/rest/1/${code}/`)))
                )
              )
            ),
            yield* Effect.flip(
              Bitrix24Client.callRaw("no.such.method", {}).pipe(Effect.provide(webhookClient(emulator)))
            )
          )
        })
      )
      const closed = yield* Effect.scoped(Effect.map(Emulator.make(), (emulator) => emulator))
      secrets.push(webhookCode(closed))
      errors.push(
        yield* Effect.flip(ImChat.mute({ CHAT_ID: 1489 }).pipe(Effect.provide(webhookClient(closed))))
      )
      deepStrictEqual(
        errors.map((error) => (error as { _tag: string })._tag),
        ["AccessError", "NoAuthFound", "TransportError", "MethodNotFound", "TransportError"]
      )
      for (const error of errors) {
        for (const text of renderings(error)) {
          for (const secret of secrets) assertFalse(text.includes(secret), `${secret} leaked in: ${text}`)
        }
      }
    }).pipe(Effect.provide(NodeHttpClient.layerUndici)))
})

describe("responses that are not a Bitrix24 envelope (TransportError InvalidBody)", () => {
  const answering = (status: number, contentType: string, body: string) => (_: unknown, response: ServerResponse) => {
    response.writeHead(status, { "content-type": contentType })
    response.end(body)
  }

  it.effect("an HTML page with status 200", () =>
    withServer(
      answering(200, "text/html", "<html><body>Portal is being updated</body></html>"),
      (url) =>
        Effect.gen(function*() {
          const error = yield* Effect.flip(
            ImChat.mute({ CHAT_ID: 1489 }).pipe(
              Effect.provide(withDefaults(Bitrix24Http.layerWebhook(Redacted.make(`${url}/rest/1/abc/`))))
            )
          )
          assertInstanceOf(error, PortalError.TransportError)
          strictEqual(error.reason, "InvalidBody")
          strictEqual(error.status, 200)
        })
    ).pipe(Effect.provide(NodeHttpClient.layerUndici)))

  it.effect("truncated JSON", () =>
    withServer(answering(200, "application/json", "{\"result\":tr"), (url) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(
          ImChat.mute({ CHAT_ID: 1489 }).pipe(
            Effect.provide(withDefaults(Bitrix24Http.layerWebhook(Redacted.make(`${url}/rest/1/abc/`))))
          )
        )
        assertInstanceOf(error, PortalError.TransportError)
        strictEqual(error.reason, "InvalidBody")
      })).pipe(Effect.provide(NodeHttpClient.layerUndici)))

  it.effect("a gateway's JSON error without result or error keys (wrong shape)", () =>
    withServer(answering(502, "application/json", "{\"message\":\"Bad Gateway\"}"), (url) =>
      Effect.gen(function*() {
        const layer = withDefaults(Bitrix24Http.layerWebhook(Redacted.make(`${url}/rest/1/abc/`)))
        const raw = yield* Effect.either(Bitrix24Client.callRaw("im.chat.mute", { CHAT_ID: 1489 })).pipe(
          Effect.provide(layer)
        )
        assertTrue(Either.isLeft(raw), "a 502 without a result must not be a success")
        assertInstanceOf(raw.left, PortalError.TransportError)
        strictEqual(raw.left.reason, "InvalidBody")
        strictEqual(raw.left.status, 502)
        const typed = yield* Effect.flip(ImChat.mute({ CHAT_ID: 1489 }).pipe(Effect.provide(layer)))
        assertInstanceOf(typed, PortalError.TransportError)
        strictEqual(typed.reason, "InvalidBody")
      })).pipe(Effect.provide(NodeHttpClient.layerUndici)))
})

describe("the per-call timeout (default 55 s, wire sheet §3.1)", () => {
  /** Moves the TestClock in 5-second steps (bounded) until the fiber is done; answers its exit, if any. */
  const driveClock = <A, E>(fiber: Fiber.RuntimeFiber<A, E>, maxSeconds: number) =>
    Effect.gen(function*() {
      for (let seconds = 0; seconds < maxSeconds && Option.isNone(yield* Fiber.poll(fiber)); seconds += 5) {
        yield* TestClock.adjust("5 seconds")
      }
      const exit = yield* Fiber.poll(fiber)
      if (Option.isNone(exit)) yield* Fiber.interrupt(fiber)
      return exit
    })

  it.effect("no response at all -> TransportError Timeout after the timeout", () =>
    withServer(() => {}, (url) =>
      Effect.gen(function*() {
        const fiber = yield* ImChat.mute({ CHAT_ID: 1489 }).pipe(
          Effect.provide(withDefaults(Bitrix24Http.layerWebhook(Redacted.make(`${url}/rest/1/abc/`)))),
          Effect.fork
        )
        yield* TestClock.adjust("50 seconds")
        assertTrue(Option.isNone(yield* Fiber.poll(fiber)), "still waiting before 55 s")
        const exit = yield* driveClock(fiber, 120)
        assertTrue(Option.isSome(exit), "the call ended")
        const error = yield* Effect.flip(exit.value)
        assertInstanceOf(error, PortalError.TransportError)
        strictEqual(error.reason, "Timeout")
        strictEqual(error.description, "no response within 55s")
      })).pipe(Effect.provide(NodeHttpClient.layerUndici)))

  it.effect("headers and then a stalled body -> TransportError Timeout within the same budget", () =>
    withServer((_, response) => {
      response.writeHead(200, { "content-type": "application/json" })
      response.write("{\"result\":")
    }, (url) =>
      Effect.gen(function*() {
        const fiber = yield* ImChat.mute({ CHAT_ID: 1489 }).pipe(
          Effect.provide(withDefaults(Bitrix24Http.layerWebhook(Redacted.make(`${url}/rest/1/abc/`)))),
          Effect.fork
        )
        const exit = yield* driveClock(fiber, 120)
        assertTrue(Option.isSome(exit), "the call is still reading the body long after the 55 s timeout")
        const error = yield* Effect.flip(exit.value)
        assertInstanceOf(error, PortalError.TransportError)
        strictEqual(error.reason, "Timeout")
      })).pipe(Effect.provide(NodeHttpClient.layerUndici)))
})
