/**
 * Automatic batching of calls that arrive one by one (each from its own fiber, as the proxy's do) fills its `batch`
 * requests while the leaky bucket makes them wait: over real HTTP on loopback against the emulator, 60 calls arriving
 * over about 120 ms under a client bucket of one token refilled every 250 ms leave in a handful of requests, where a
 * fixed 10 ms window would send one request per window (a dozen or more), each spending a token.
 */
import { Bitrix24Client } from "@bitrix24-effect/core"
import { Emulator } from "@bitrix24-effect/emulator"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Bitrix24Http from "../src/Bitrix24Http.js"
import * as PortalLimits from "../src/PortalLimits.js"
import * as RetryPolicy from "../src/RetryPolicy.js"

describe("the batching window and the leaky bucket", () => {
  it.scopedLive("single calls arriving while the bucket is empty join the request that waits for its token", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ limits: { bucket: "off" } })
      // 3 tokens less the headroom of 2: one request at once, then one every 250 ms.
      const transport = Bitrix24Http.layerWebhook(emulator.webhookUrl, { batching: { window: "10 millis" } }).pipe(
        Layer.provide(Layer.merge(
          RetryPolicy.layer(),
          PortalLimits.layer({ bucket: { size: 3, drainPerSecond: 4 }, headroom: 2 })
        )),
        Layer.provide(Bitrix24Http.layerDefaults),
        Layer.provide(NodeHttpClient.layerUndici)
      )
      const context = yield* Layer.build(transport)
      const call = (chat: number) =>
        Effect.flatMap(Bitrix24Client.Bitrix24Client, (client) =>
          client.call({
            method: "im.chat.mute",
            params: { CHAT_ID: chat, MUTE: "Y" },
            idempotent: true,
            batchable: true
          })).pipe(Effect.provide(context))
      const fibers: Array<Fiber.RuntimeFiber<unknown, unknown>> = []
      for (let i = 0; i < 60; i++) {
        fibers.push(yield* Effect.fork(call(1489)))
        yield* Effect.sleep("2 millis")
      }
      const results = yield* Effect.forEach(fibers, Fiber.join)
      expect(results).toHaveLength(60)
      const commands = emulator.journal.filter((entry) => entry.via === "batch" || entry.method === "im.chat.mute")
      expect(commands.filter((entry) => entry.method === "im.chat.mute" && entry.executed)).toHaveLength(60)
      // The first window takes the one token at hand; every later request waits for a refill (250 ms), gathering
      // the calls that arrive meanwhile: a few requests, however slowly this machine delivers the 60 calls.
      expect(emulator.httpRequests()).toBeLessThanOrEqual(6)
    }))
})
