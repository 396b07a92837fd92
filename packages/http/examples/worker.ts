import { ImChat } from "@bitrix24-effect/core"
import { Bitrix24Http, PortalLimits, SharedState } from "@bitrix24-effect/http"
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Either, Layer } from "effect"

// One of several worker processes calling one portal. With B24_REDIS_URL set they share its leaky bucket and
// operating-time budget through Redis, so together they stay inside the portal's limits.
const calls = Number(process.env.CALLS ?? 50)

const program = Effect.gen(function*() {
  const started = Date.now()
  const results = yield* Effect.forEach(
    Array.from({ length: calls }, (_, i) => i),
    () => Effect.either(ImChat.mute({ CHAT_ID: 1489 })),
    { concurrency: 10 }
  )
  const ok = results.filter(Either.isRight).length
  const seconds = ((Date.now() - started) / 1000).toFixed(1)
  yield* Console.log(`worker ${process.pid}: ${ok} of ${calls} calls succeeded in ${seconds} s`)
})

const PortalLive = Bitrix24Http.layerWebhookConfig().pipe( // B24_WEBHOOK_URL
  Layer.provide(SharedState.layerConfig()), // B24_REDIS_URL: the bucket and the budget in Redis (else in memory)
  Layer.provide(PortalLimits.layerConfig()), // B24_BUCKET: the portal's plan
  Layer.provide(Bitrix24Http.layerDefaults), // the rest: the retry policy
  Layer.provide(NodeHttpClient.layerUndici)
)

program.pipe(Effect.provide(PortalLive), NodeRuntime.runMain)
