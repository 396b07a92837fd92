/**
 * The bridge: joins the outside chat (`Channel`) to a Bitrix24 open line through a connector, the whole flow of
 * docs/bitrix24-events.md §5.6:
 *
 * 1. the application is installed: ONAPPINSTALL reaches the bridge's `/events`, and the event receiver keeps the
 *    portal's tokens and `application_token` in the `TokenStore` (§2.7);
 * 2. `imconnector.register`, `event.bind` of the connector events to `/events`;
 * 3. `imconnector.activate` on the line (`ACTIVE` sent as `1`) and `imconnector.connector.data.set`;
 * 4. a customer's message → `imconnector.send.messages`;
 * 5. an operator's reply → `ONIMCONNECTORMESSAGEADD` → the customer's inbox → `imconnector.send.status.delivery`;
 * 6. edits and deletes both ways (`update/delete.messages`; `ONIMCONNECTORMESSAGEUPDATE/DELETE`);
 * 7. teardown on `ONIMCONNECTORSTATUSDELETE` (or `ONIMCONNECTORLINEDELETE`): the chat closes.
 *
 * Events are handled one at a time, in the order they arrive, after the receiver has answered the portal.
 */
import { type Bitrix24Client, Event, type Events, ImConnector } from "@bitrix24-effect/core"
import { Receiver } from "@bitrix24-effect/events"
import type { TokenStore } from "@bitrix24-effect/http"
import { Bitrix24Http, OAuth } from "@bitrix24-effect/http"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Queue from "effect/Queue"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Channel from "./Channel.js"

/**
 * The connector's identity and where the portal reaches the bridge.
 *
 * @since 0.1.0
 */
export interface Config {
  /** The connector ID (lower-case letters, digits, `_`). */
  readonly connector: string
  /** The open line the connector is activated on. */
  readonly line: number
  /** The bridge's base URL as the portal sees it (its host must contain a dot: `http://127.0.0.1:8090`). */
  readonly publicUrl: string
}

/**
 * The OAuth application the bridge runs as.
 *
 * @since 0.1.0
 */
export interface Application {
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  readonly tokenUrl: string
}

/**
 * The transport of the installed application: its tokens (stored under the portal's `member_id` by the receiver at
 * ONAPPINSTALL) refreshed as needed. The one place the bridge composes its transport layers.
 *
 * @since 0.1.0
 */
export const transport = (
  application: Application,
  memberId: string
): Layer.Layer<
  Bitrix24Client.Bitrix24Client | Bitrix24Client.ApplicationAuth,
  OAuth.OAuthError,
  TokenStore.TokenStore | HttpClient.HttpClient
> =>
  Bitrix24Http.layerOAuth({ key: memberId }).pipe(
    Layer.provide(OAuth.layer(application)),
    Layer.provide(Bitrix24Http.layerDefaults),
    Layer.map(Context.omit(Bitrix24Http.PortalAddress))
  )

/** The connector events the bridge binds (§5.6 steps 3, 7, 9, 10). */
const boundEvents = [
  "ONIMCONNECTORMESSAGEADD",
  "ONIMCONNECTORMESSAGEUPDATE",
  "ONIMCONNECTORMESSAGEDELETE",
  "ONIMCONNECTORSTATUSDELETE",
  "ONIMCONNECTORLINEDELETE"
] as const

type Bound = Events.Of<typeof boundEvents[number]>

const icon = "data:image/svg+xml;charset=US-ASCII,%3Csvg%20xmlns%3D%22http%3A%2F%2Fwww.w3.org%2F2000%2Fsvg%22%2F%3E"

/** The outside ID the chat gives an operator's message. */
const outsideId = (messageId: number) => `op-${messageId}`

/**
 * A running bridge: its HTTP routes (`/events` for the portal, `/chat/*` for customers), the chat, and `connect`,
 * which waits for the installation and sets the connector up.
 *
 * @since 0.1.0
 */
export interface Bridge {
  readonly router: HttpRouter.HttpRouter<never, never>
  readonly channel: Channel.Channel
  /** Waits for ONAPPINSTALL, then registers, binds, activates and starts forwarding. */
  readonly connect: (
    application: Application
  ) => Effect.Effect<void, unknown, Scope.Scope | TokenStore.TokenStore | HttpClient.HttpClient>
  /** Waits until the events received so far are handled. */
  readonly drain: Effect.Effect<void>
}

/**
 * Makes a bridge (its routes serve at once; it forwards once connected).
 *
 * @since 0.1.0
 */
export const make = (config: Config): Effect.Effect<Bridge, never, Scope.Scope | TokenStore.TokenStore> =>
  Effect.gen(function*() {
    const channel = Channel.make()
    const events = yield* Queue.unbounded<Bound>()
    const installed = yield* Deferred.make<string>()
    let forward: Channel.Forward | undefined
    let pending = 0
    const offer = (event: Bound) => Effect.zipRight(Effect.sync(() => pending++), Queue.offer(events, event))
    const receiver = yield* Receiver.make({
      ONAPPINSTALL: (event) => Deferred.succeed(installed, event.auth.member_id),
      ONIMCONNECTORMESSAGEADD: offer,
      ONIMCONNECTORMESSAGEUPDATE: offer,
      ONIMCONNECTORMESSAGEDELETE: offer,
      ONIMCONNECTORSTATUSDELETE: offer,
      ONIMCONNECTORLINEDELETE: offer
    })
    const scope = { CONNECTOR: config.connector, LINE: config.line }

    /** An event from the portal, applied to the chat (operators' side, §5.6 steps 7-10). */
    const handle = (event: Bound) =>
      Effect.gen(function*() {
        switch (event._tag) {
          case "ONIMCONNECTORMESSAGEADD": {
            for (const message of event.data.MESSAGES) {
              const id = outsideId(message.im.message_id)
              channel.post({ chat: message.chat.id, type: "message", id, text: message.message.text })
              // Without this the operator sees the reply as undelivered (§5.6 step 8).
              yield* ImConnector.sendStatusDelivery({
                ...scope,
                MESSAGES: [{
                  im: { chat_id: message.im.chat_id, message_id: message.im.message_id },
                  message: { id: [id] },
                  chat: { id: message.chat.id }
                }]
              })
            }
            return
          }
          case "ONIMCONNECTORMESSAGEUPDATE":
          case "ONIMCONNECTORMESSAGEDELETE": {
            const type = event._tag === "ONIMCONNECTORMESSAGEUPDATE" ? "edit" : "delete"
            for (const message of event.data.MESSAGES) {
              channel.post({
                chat: message.chat.id,
                type,
                id: outsideId(message.im.message_id),
                text: message.message.text
              })
            }
            return
          }
          case "ONIMCONNECTORSTATUSDELETE":
            if (event.data.CONNECTOR === config.connector && event.data.LINE === config.line) close()
            return
          case "ONIMCONNECTORLINEDELETE":
            if (event.data.LINE === config.line) close()
            return
        }
      })

    const close = () => {
      if (!channel.open) return
      channel.open = false
      channel.post({ chat: "*", type: "closed", id: "line" })
    }

    const connect = (application: Application) =>
      Effect.gen(function*() {
        const memberId = yield* Deferred.await(installed)
        const context = yield* Layer.build(transport(application, memberId))
        const run = <A, E>(
          effect: Effect.Effect<A, E, Bitrix24Client.Bitrix24Client | Bitrix24Client.ApplicationAuth>
        ) => Effect.provide(effect, context)
        const handler = `${config.publicUrl}/events`
        yield* run(ImConnector.register({
          ID: config.connector,
          NAME: "Outside chat",
          ICON: { DATA_IMAGE: icon, COLOR: "#1900ff" },
          PLACEMENT_HANDLER: `${config.publicUrl}/settings`
        }))
        for (const event of boundEvents) {
          // already bound (a restart): ERROR_CORE, nothing to do
          yield* run(Event.bind({ event, handler })).pipe(Effect.catchTag("ErrorCore", () => Effect.void))
        }
        yield* run(ImConnector.activate({ ...scope, ACTIVE: true }))
        yield* run(ImConnector.connectorDataSet({
          ...scope,
          DATA: { ID: config.connector, NAME: "Outside chat", URL: `${config.publicUrl}/chat/inbox` }
        }))
        const item = (message: Channel.CustomerMessage) => ({
          user: { id: message.user, ...(message.name === undefined ? {} : { name: message.name }) },
          message: { id: message.id, ...(message.text === undefined ? {} : { text: message.text }) },
          chat: { id: message.chat }
        })
        const accepted = (result: typeof ImConnector.MessagesResult.Type) =>
          result.DATA.RESULT.every((entry) => entry.SUCCESS)
            ? Effect.void
            : Effect.fail(`refused: ${result.DATA.RESULT.flatMap((entry) => entry.ERRORS ?? []).join("; ")}`)
        forward = {
          send: (message) =>
            run(ImConnector.sendMessages({ ...scope, MESSAGES: [item(message)] })).pipe(Effect.flatMap(accepted)),
          edit: (message) =>
            run(ImConnector.updateMessages({ ...scope, MESSAGES: [item(message)] })).pipe(Effect.flatMap(accepted)),
          remove: (message) =>
            run(ImConnector.deleteMessages({
              ...scope,
              MESSAGES: [{ user: { id: message.user }, message: { id: message.id }, chat: { id: message.chat } }]
            })).pipe(Effect.flatMap(accepted))
        }
        yield* Effect.forkScoped(Effect.forever(
          Effect.flatMap(Queue.take(events), (event) =>
            run(handle(event)).pipe(
              Effect.catchAllCause((cause) => Effect.logWarning(`bridge: ${event._tag} not applied`, cause)),
              Effect.ensuring(Effect.sync(() => pending--))
            ))
        ))
      })

    const router = HttpRouter.empty.pipe(
      HttpRouter.post("/events", receiver.app),
      HttpRouter.concat(Channel.routes(channel, Effect.sync(() => forward)))
    )
    const drain = Effect.zipRight(
      receiver.drain,
      Effect.repeat(Effect.sleep("5 millis"), { until: () => pending === 0 })
    ).pipe(Effect.asVoid)
    return { router, channel, connect, drain }
  })
