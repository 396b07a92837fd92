/**
 * The connector and event methods through the typed library over real HTTP on the emulator: they need an
 * application's OAuth (a webhook transport does not compile for them), `register`'s failure inside HTTP 200 is a typed
 * error, `ACTIVE` travels as 1/0, and the nested `MESSAGES` and results decode.
 */
import { Event, ImConnector, PortalError } from "@bitrix24-effect/core"
import { describe, it } from "@effect/vitest"
import { assertInstanceOf, assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { failsWith, withPortal } from "./MethodsHelpers.js"

const registration = {
  ID: "outside_chat",
  NAME: "Outside chat",
  ICON: { DATA_IMAGE: "data:image/svg+xml;charset=US-ASCII,%3Csvg%3E%3C/svg%3E" },
  PLACEMENT_HANDLER: "https://bridge.example.com/settings"
}

describe("application methods need an application's OAuth", () => {
  it.effect("through a webhook transport they do not compile, and do not run", () =>
    withPortal(({ as, emulator }) =>
      Effect.gen(function*() {
        // @ts-expect-error an inbound webhook provides no Bitrix24Client.ApplicationAuth: imconnector.* need an app
        const viaWebhook: Effect.Effect<unknown, unknown, never> = ImConnector.list({}).pipe(Effect.provide(as()))
        // @ts-expect-error the same for event.*
        const bind: Effect.Effect<unknown, unknown, never> = Event.get({}).pipe(Effect.provide(as()))
        for (const call of [viaWebhook, bind]) assertTrue(Exit.isFailure(yield* Effect.exit(call)))
        strictEqual(emulator.httpRequests(), 0)
      })
    ))

  it.effect("the wire path lets the portal judge: a webhook gets the typed 403 WrongAuthType", () =>
    withPortal(({ as }) =>
      failsWith(
        ImConnector.list.fromWire({}).pipe(Effect.provide(as())),
        PortalError.WrongAuthType,
        "imconnector.list",
        "Application context required"
      )
    ))
})

describe("the connector methods over real HTTP", () => {
  it.effect("register's failure inside HTTP 200 is a typed error", () =>
    withPortal(({ asApplication, emulator }) =>
      Effect.gen(function*() {
        deepStrictEqual(
          yield* ImConnector.register(registration).pipe(Effect.provide(asApplication())),
          { result: true }
        )
        const error = yield* Effect.flip(
          ImConnector.register(registration).pipe(Effect.provide(asApplication(1, "local.other.2")))
        )
        assertInstanceOf(error, PortalError.ApplicationRegistrationError)
        deepStrictEqual([error.code, error.status, error.method], [
          "APPLICATION_REGISTRATION_ERROR",
          200,
          "imconnector.register"
        ])
        deepStrictEqual(emulator.journal.map((entry) => entry.status), [200, 200])
        const unregister = yield* Effect.flip(
          ImConnector.unregister({ ID: "not_mine" }).pipe(Effect.provide(asApplication()))
        )
        assertInstanceOf(unregister, PortalError.ApplicationUnregistrationError)
      }), {
      applications: [
        { clientId: "local.bridge.1", scopes: ["imopenlines", "imconnector", "im"] },
        { clientId: "local.other.2", scopes: ["imopenlines", "imconnector", "im"] }
      ]
    }))

  it.effect("ACTIVE travels as 1/0; MESSAGES and the results decode", () =>
    withPortal(({ asApplication, emulator }) =>
      Effect.gen(function*() {
        const app = asApplication()
        yield* ImConnector.activate({ CONNECTOR: "demo_connector", LINE: 2, ACTIVE: true }).pipe(Effect.provide(app))
        yield* ImConnector.activate({ CONNECTOR: "demo_connector", LINE: 2, ACTIVE: false }).pipe(Effect.provide(app))
        deepStrictEqual(emulator.journal.map((entry) => entry.params.ACTIVE), [1, 0])
        const status = yield* ImConnector.status({ CONNECTOR: "demo_connector", LINE: 1 }).pipe(Effect.provide(app))
        deepStrictEqual([status.LINE, status.STATUS, status.CONFIGURED, status.ERROR], [1, true, true, false])
        const sent = yield* ImConnector.sendMessages({
          CONNECTOR: "demo_connector",
          LINE: 1,
          MESSAGES: [
            { user: { id: "bob", name: "Bob" }, message: { id: "b-1", text: "Hi" }, chat: { id: "room-b" } },
            {
              user: { id: "bob" },
              message: { id: "b-2", files: [{ url: "https://x/y.png", name: "y.png" }] },
              chat: { id: "room-b" }
            }
          ]
        }).pipe(Effect.provide(app))
        deepStrictEqual(sent.DATA.RESULT.map((item) => item.SUCCESS), [true, true])
        const [first, second] = sent.DATA.RESULT
        strictEqual(first!.session!.CHAT_ID, second!.session!.CHAT_ID)
        strictEqual(typeof first!.session!.CHAT_ID, "number")
        // a message with neither text nor files is refused before any I/O
        const before = emulator.httpRequests()
        const refused = yield* Effect.flip(
          ImConnector.sendMessages({
            CONNECTOR: "demo_connector",
            LINE: 1,
            MESSAGES: [{ user: { id: "bob" }, message: { id: "b-3" }, chat: { id: "room-b" } }]
          }).pipe(Effect.provide(app))
        )
        assertInstanceOf(refused, PortalError.InvalidParams)
        strictEqual(emulator.httpRequests(), before)
      })
    ))
})
