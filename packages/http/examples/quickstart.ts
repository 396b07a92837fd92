import { ImChat, ImOpenLines } from "@bitrix24-effect/core"
import { Emulator } from "@bitrix24-effect/emulator"
import { Bitrix24Http } from "@bitrix24-effect/http"
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Option } from "effect"

const program = Effect.gen(function*() {
  // Switch open-line dialog 2043 to silent mode. ACTIVATE is a boolean here and travels as the string "Y".
  const silent = yield* ImOpenLines.sessionModeSilent({ CHAT_ID: 2043, ACTIVATE: true })
  yield* Console.log(`silent mode on: ${silent}`)

  // Open-line chats cannot be muted: the portal's ACCESS_ERROR (HTTP 403) arrives as a typed error.
  yield* ImChat.mute({ CHAT_ID: 2043 }).pipe(
    Effect.catchTag("AccessError", (error) => Console.log(`not muted: ${error.code} (HTTP ${error.status})`))
  )

  // Bad input fails before any request is sent.
  yield* ImChat.mute({}).pipe(
    Effect.catchTag("InvalidParams", (error) => Console.log(`rejected before I/O: ${error.field}: ${error.reason}`))
  )

  // withResponse keeps the envelope's time block (seconds; operating_reset_at is a Unix timestamp).
  const muted = yield* ImChat.mute.withResponse({ DIALOG_ID: "chat1489" })
  const operating = Option.match(muted.time, {
    onNone: () => "not reported",
    onSome: (time) => `${time.operating ?? 0} s until ${time.operating_reset_at}`
  })
  yield* Console.log(`group chat muted: ${muted.result}; operating time: ${operating}`)
})

// The portal in B24_WEBHOOK_URL, or an emulated one when it is unset.
const PortalLive = Layer.unwrapScoped(
  Effect.gen(function*() {
    const url = yield* Bitrix24Http.webhookUrlConfig
    if (Option.isSome(url)) return Bitrix24Http.layerWebhook(url.value)
    const emulator = yield* Emulator.make()
    return Bitrix24Http.layerWebhook(emulator.webhookUrl)
  })
)

program.pipe(
  Effect.provide(PortalLive),
  // The transport's policies, with their defaults: retries of proven refusals, the standard leaky bucket in memory.
  Effect.provide(Bitrix24Http.layerDefaults),
  Effect.provide(NodeHttpClient.layerUndici),
  NodeRuntime.runMain
)
