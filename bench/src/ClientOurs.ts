/**
 * The benchmark client for this transport: `ImChat.mute` through `Bitrix24Http.layerWebhook`, with the scenario's
 * bucket mirrored and automatic batching on or off; or the explicit `Batch.run` with chunks of 50 sent at once.
 * Each run builds a fresh transport; the HTTP connection pool is the process's (undici's global dispatcher), as the
 * official SDK's is (Node's global agent), so both clients meet the measured run with the warm-up's connections.
 */
import { ImChat } from "@bitrix24-effect/core"
import { Batch, Bitrix24Http, PortalLimits } from "@bitrix24-effect/http"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { main, params, range, webhookUrl } from "./Harness.js"

await main((scenario, calls) => {
  const limits = PortalLimits.layer({
    bucket: scenario.bucket === "off" ? "off" : { size: scenario.bucket.size, drainPerSecond: scenario.bucket.drain }
  })
  const transport = Bitrix24Http.layerWebhook(Redacted.make(webhookUrl()), {
    batching: scenario.client === "ours-batched"
  }).pipe(
    Layer.provide(limits),
    Layer.provide(Bitrix24Http.layerDefaults),
    // The undici HttpClient the project's apps and README use, over undici's process-wide dispatcher: like the
    // official SDK (axios over Node's global keep-alive agent), a fresh client reuses the process's connection pool.
    Layer.provide(NodeHttpClient.layerUndiciWithoutDispatcher.pipe(Layer.provide(NodeHttpClient.dispatcherLayerGlobal)))
  )
  if (scenario.client === "ours-explicit") {
    const commands = Object.fromEntries(range(calls).map((i) => [`m${i}`, Batch.command(ImChat.mute, params)]))
    return Effect.runPromise(
      Batch.run(commands, { concurrency: "unbounded" }).pipe(
        Effect.map((results) => {
          const ok = Object.values(results).filter((result) => result._tag === "Right").length
          return { ok, failed: calls - ok }
        }),
        Effect.provide(transport)
      )
    )
  }
  const one = Effect.either(ImChat.mute(params))
  // All at once: one batched forEach hands every call to the transport together (the user's way to say
  // "these are independent"); a number: that many in flight; 1: one after the other.
  const workload = scenario.concurrency === 1
    ? Effect.forEach(range(calls), () => one)
    : scenario.concurrency === "all"
    ? Effect.forEach(range(calls), () => one, { batching: true })
    : Effect.forEach(range(calls), () => one, { concurrency: scenario.concurrency, batching: true })
  return Effect.runPromise(
    workload.pipe(
      Effect.map((results) => ({
        ok: results.filter((result) => result._tag === "Right").length,
        failed: results.filter((result) => result._tag === "Left").length
      })),
      Effect.provide(transport)
    )
  )
})
