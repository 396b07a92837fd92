import { Event, ImConnector, ImMessage } from "@bitrix24-effect/core"
import { Emulator } from "@bitrix24-effect/emulator"
import { Receiver } from "@bitrix24-effect/events"
import { Bitrix24Http, OAuth, TokenStore } from "@bitrix24-effect/http"
import { HttpServer } from "@effect/platform"
import { NodeHttpClient, NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Option, Queue, Schedule } from "effect"
import { createServer } from "node:http"

const replies = Effect.runSync(Queue.unbounded<string>())

// The receiver: checks auth[application_token] against the TokenStore (learned from ONAPPINSTALL), answers the
// portal at once, drops duplicates, then runs the typed handler.
const ReceiverLive = Receiver.serve.pipe(
  Layer.provideMerge(Receiver.layer({
    ONIMCONNECTORMESSAGEADD: (event) =>
      Effect.forEach(event.data.MESSAGES, (m) => Queue.offer(replies, `${m.chat.id} <- ${m.message.text}`))
  })),
  Layer.provideMerge(NodeHttpServer.layer(() => createServer(), { port: 0, host: "127.0.0.1" })),
  Layer.provideMerge(TokenStore.layerMemory())
)

const program = Effect.gen(function*() {
  const emulator = yield* Emulator.make()
  const handler = yield* HttpServer.addressFormattedWith((address) => Effect.succeed(`${address}/events`))
  // Installing the application sends ONAPPINSTALL: its tokens and application_token land in the TokenStore.
  emulator.install({ handler })
  const store = yield* TokenStore.TokenStore
  const memberId = emulator.events.host.memberId()
  yield* Effect.repeat(store.get(memberId), { until: Option.isSome, schedule: Schedule.spaced("10 millis") })
  // event.* and imconnector.* need an application's OAuth: with a webhook layer this would not compile.
  const App = Bitrix24Http.layerOAuth({ key: memberId }).pipe(
    Layer.provide(OAuth.layer({ ...emulator.oauth }))
  )
  const connector = { CONNECTOR: "outside_chat", LINE: 1 }
  yield* Effect.gen(function*() {
    yield* ImConnector.register({
      ID: "outside_chat",
      NAME: "Outside chat",
      ICON: { DATA_IMAGE: "data:image/svg+xml,%3Csvg%2F%3E" },
      PLACEMENT_HANDLER: "https://bridge.example.com/settings"
    })
    yield* Event.bind({ event: "ONIMCONNECTORMESSAGEADD", handler })
    yield* ImConnector.activate({ ...connector, ACTIVE: true }) // travels as ACTIVE=1
    const sent = yield* ImConnector.sendMessages({
      ...connector,
      MESSAGES: [{ user: { id: "ann", name: "Ann" }, message: { id: "c-1", text: "Hello" }, chat: { id: "room-1" } }]
    })
    const chatId = sent.DATA.RESULT[0]!.session!.CHAT_ID
    yield* Console.log(`customer message in open-line chat ${chatId}`)
    // An operator answers in the chat; the portal POSTs ONIMCONNECTORMESSAGEADD to the receiver.
    yield* ImMessage.add({ DIALOG_ID: `chat${chatId}`, MESSAGE: "Hi Ann!" }).pipe(
      Effect.provide(Bitrix24Http.layerWebhook(emulator.webhookUrl))
    )
    yield* Console.log(yield* Queue.take(replies))
    // A failure imconnector.* reports inside HTTP 200 is a typed error.
    yield* ImConnector.unregister({ ID: "not_ours" }).pipe(
      Effect.catchTag("ApplicationUnregistrationError", (e) => Console.log(`typed: ${e.code} (HTTP ${e.status})`))
    )
  }).pipe(Effect.provide(App))
})

program.pipe(
  Effect.scoped,
  Effect.provide(ReceiverLive),
  // The transports' policies with their defaults: retries of proven refusals, the standard leaky bucket in memory.
  Effect.provide(Bitrix24Http.layerDefaults),
  Effect.provide(NodeHttpClient.layerUndici),
  NodeRuntime.runMain
)
