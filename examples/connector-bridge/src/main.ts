/**
 * `pnpm start`: the bridge on an embedded emulator, in one command. Prints the chat's address and the requests to try:
 * a customer writes with `/chat/send`, an operator answers with `/operator/reply` (a demo route calling
 * `im.message.add` on the emulated portal as its admin), and the customer reads the answer in `/chat/inbox`.
 */
import { ImMessage } from "@bitrix24-effect/core"
import { Emulator } from "@bitrix24-effect/emulator"
import { Bitrix24Http, TokenStore } from "@bitrix24-effect/http"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Embedded from "./Embedded.js"

const Reply = Schema.Struct({ chat: Schema.String, text: Schema.String.pipe(Schema.minLength(1)) })

/** The demo's operator: posts into the open-line chat of an outside chat, as the portal's admin (user 1). */
const operator = (emulator: Emulator.Service) => {
  const portal = Bitrix24Http.layerWebhook(emulator.webhookUrl).pipe(
    Layer.provide(Bitrix24Http.layerDefaults),
    Layer.provide(NodeHttpClient.layerUndici),
    Layer.orDie
  )
  return HttpRouter.empty.pipe(HttpRouter.post(
    "/operator/reply",
    Effect.gen(function*() {
      const reply = yield* HttpServerRequest.schemaBodyJson(Reply)
      const chat = emulator.connectors.chats.find((c) => c.chatId === reply.chat)
      if (chat === undefined) {
        return HttpServerResponse.unsafeJson({ error: "no such outside chat yet" }, { status: 404 })
      }
      const id = yield* ImMessage.add({ DIALOG_ID: `chat${chat.portalChatId}`, MESSAGE: reply.text }).pipe(
        Effect.provide(portal)
      )
      return HttpServerResponse.unsafeJson({ messageId: id }, { status: 201 })
    }).pipe(
      Effect.catchAll((error) =>
        Effect.succeed(HttpServerResponse.unsafeJson({ error: String(error) }, { status: 400 }))
      )
    )
  ))
}

const program = Effect.gen(function*() {
  const emulator = yield* Emulator.make()
  const port = Number(process.env.PORT ?? "8090")
  const { url } = yield* Embedded.start(emulator, { port, extra: operator(emulator) })
  yield* Console.log(`connector bridge on ${url} (embedded emulator at ${emulator.url}; nothing reaches a real portal)`)
  yield* Console.log(`customer: curl -X POST -H 'content-type: application/json' \\
  -d '{"user":"ann","name":"Ann","chat":"room-1","id":"c-1","text":"Hello"}' ${url}/chat/send`)
  yield* Console.log(`operator: curl -X POST -H 'content-type: application/json' \\
  -d '{"chat":"room-1","text":"Hi Ann!"}' ${url}/operator/reply`)
  yield* Console.log(`customer: curl '${url}/chat/inbox?chat=room-1'`)
  return yield* Effect.never
})

program.pipe(
  Effect.scoped,
  Effect.provide(Layer.merge(TokenStore.layerMemory(), NodeHttpClient.layerUndici)),
  NodeRuntime.runMain
)
