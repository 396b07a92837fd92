/**
 * What the transport tells an operator, over real HTTP against the emulator: one span per call (method, portal,
 * batch size, attempts, limiter wait), the metrics of the Metrics module (calls by method and outcome, latency,
 * limiter wait, retries, refreshes, HTTP requests, batch sizes), and the log line of a portal rename.
 */
import { ImChat, ImOpenLines } from "@bitrix24-effect/core"
import type { Emulator } from "@bitrix24-effect/emulator"
import { describe, it } from "@effect/vitest"
import { assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import type * as MetricState from "effect/MetricState"
import * as Bitrix24Http from "../src/Bitrix24Http.js"
import * as Metrics from "../src/Metrics.js"
import * as OAuth from "../src/OAuth.js"
import * as PortalLimits from "../src/PortalLimits.js"
import * as RetryPolicy from "../src/RetryPolicy.js"
import * as TokenStore from "../src/TokenStore.js"
import * as Capture from "./capture.js"
import { drive } from "./emulated.js"
import { withDefaults, withEmulator } from "./helpers.js"

const count = (metric: Metric.Metric.Counter<number>) =>
  Effect.map(Metric.value(metric), (state: MetricState.MetricState.Counter<number>) => state.count)
const histogramCount = (metric: Metric.Metric.Histogram<number>) =>
  Effect.map(Metric.value(metric), (state: MetricState.MetricState.Histogram) => state.count)

const calls = (method: string, outcome: string) =>
  count(Metrics.calls.pipe(Metric.tagged("method", method), Metric.tagged("outcome", outcome)))

const callSpans = (captured: ReturnType<typeof Capture.make>) =>
  captured.spans.filter((span) => span.name === "Bitrix24.http")

describe("spans: one Bitrix24.http span per call", () => {
  it.effect("carries method, portal, batch size, attempts and limiter wait; HttpClient's own spans are off", () =>
    Effect.gen(function*() {
      const captured = Capture.make()
      yield* withEmulator(
        (emulator) =>
          Effect.gen(function*() {
            const layer = Bitrix24Http.layerWebhook(emulator.webhookUrl, { batching: true }).pipe(
              Layer.provide(
                Layer.mergeAll(
                  RetryPolicy.layer(),
                  PortalLimits.layer({ bucket: { size: 1, drainPerSecond: 1 }, headroom: 0 }),
                  PortalLimits.layerMemory
                )
              )
            )
            emulator.setFaults([{ kind: "internal-error", method: "imopenlines.session.mode.silent", times: 1 }])
            const program = Effect.gen(function*() {
              // Three calls in one batch (one request, the bucket's only token), two more in a second batch that waits
              // a second for the next token, then one that is retried once.
              yield* Effect.all([
                ImChat.mute({ CHAT_ID: 1489 }),
                ImChat.mute({ CHAT_ID: 1500 }),
                ImChat.mute({ DIALOG_ID: "chat1489" })
              ], { batching: true })
              yield* Effect.all([ImChat.mute({ CHAT_ID: 1489 }), ImChat.mute({ CHAT_ID: 1500 })], { batching: true })
              yield* ImOpenLines.sessionModeSilent({ CHAT_ID: 2043, ACTIVATE: true })
            })
            const fiber = yield* program.pipe(Effect.provide(layer), Effect.fork)
            yield* drive(fiber, { emulator, step: "100 millis" })
          }),
        { clock: "manual", limits: { bucket: { size: 1, drainPerSecond: 1 } } }
      ).pipe(Effect.provide(captured.layer))
      const spans = callSpans(captured)
      strictEqual(spans.length, 6)
      for (const span of spans) {
        assertTrue(String(span.attributes.get("bitrix24.portal")).startsWith("http://127.0.0.1:"))
        assertTrue(String(span.attributes.get("bitrix24.portal.host")).startsWith("127.0.0.1:"))
        strictEqual(span.attributes.get("bitrix24.outcome"), "ok")
        strictEqual(span.exit?._tag, "Success")
      }
      deepStrictEqual(spans.map((span) => span.attributes.get("bitrix24.method")), [
        "im.chat.mute",
        "im.chat.mute",
        "im.chat.mute",
        "im.chat.mute",
        "im.chat.mute",
        "imopenlines.session.mode.silent"
      ])
      deepStrictEqual(spans.slice(0, 3).map((span) => span.attributes.get("bitrix24.batch_size")), [3, 3, 3])
      deepStrictEqual(spans.slice(3, 5).map((span) => span.attributes.get("bitrix24.batch_size")), [2, 2])
      // The second batch found the 1-token bucket empty and waited for the next token (1 s).
      for (const span of spans.slice(3, 5)) {
        assertTrue(Number(span.attributes.get("bitrix24.limiter_wait_ms")) >= 900, "waited for the bucket")
      }
      strictEqual(spans[0]!.attributes.get("bitrix24.limiter_wait_ms"), 0)
      deepStrictEqual(spans.map((span) => span.attributes.get("bitrix24.attempts")), [1, 1, 1, 1, 1, 2])
      // Each call span is a child of the method's own span, and no HttpClient span was made (their URL has the code).
      assertTrue(spans.every((span) => span.parent !== undefined))
      deepStrictEqual(captured.spans.filter((span) => span.name.startsWith("http.client")), [])
    }))
})

describe("metrics (effect/Metric)", () => {
  it.effect("calls by method and outcome, latency, HTTP requests, batch sizes, limiter wait, retries", () =>
    withEmulator(
      (emulator) =>
        Effect.gen(function*() {
          const before = {
            ok: yield* calls("im.chat.mute", "ok"),
            denied: yield* calls("im.chat.mute", "ACCESS_ERROR"),
            latency: yield* histogramCount(Metrics.callDuration.pipe(Metric.tagged("method", "im.chat.mute"))),
            batches: yield* count(Metrics.httpRequests.pipe(Metric.tagged("kind", "batch"))),
            single: yield* count(Metrics.httpRequests.pipe(Metric.tagged("kind", "call"))),
            sizes: yield* histogramCount(Metrics.batchSize),
            waits: yield* histogramCount(Metrics.limiterWait.pipe(Metric.tagged("limit", "bucket"))),
            retries: yield* count(
              Metrics.retries.pipe(
                Metric.tagged("method", "imopenlines.session.mode.silent"),
                Metric.tagged("classification", "ambiguous")
              )
            )
          }
          const layer = Bitrix24Http.layerWebhook(emulator.webhookUrl, { batching: true }).pipe(
            Layer.provide(
              Layer.mergeAll(
                RetryPolicy.layer(),
                PortalLimits.layer({ bucket: { size: 1, drainPerSecond: 1 }, headroom: 0 }),
                PortalLimits.layerMemory
              )
            )
          )
          emulator.setFaults([{ kind: "html-502", method: "imopenlines.session.mode.silent", times: 1 }])
          const program = Effect.gen(function*() {
            yield* Effect.all([
              ImChat.mute({ CHAT_ID: 1489 }),
              Effect.either(ImChat.mute({ CHAT_ID: 2043 }))
            ], { batching: true })
            yield* ImChat.mute({ CHAT_ID: 1489 })
            yield* ImOpenLines.sessionModeSilent({ CHAT_ID: 2043, ACTIVATE: true })
          })
          const fiber = yield* program.pipe(Effect.provide(layer), Effect.fork)
          yield* drive(fiber, { emulator, step: "100 millis" })
          strictEqual((yield* calls("im.chat.mute", "ok")) - before.ok, 2)
          strictEqual((yield* calls("im.chat.mute", "ACCESS_ERROR")) - before.denied, 1)
          strictEqual(
            (yield* histogramCount(Metrics.callDuration.pipe(Metric.tagged("method", "im.chat.mute")))) -
              before.latency,
            3
          )
          strictEqual((yield* count(Metrics.httpRequests.pipe(Metric.tagged("kind", "batch")))) - before.batches, 1)
          strictEqual((yield* count(Metrics.httpRequests.pipe(Metric.tagged("kind", "call")))) - before.single, 3)
          strictEqual((yield* histogramCount(Metrics.batchSize)) - before.sizes, 1)
          assertTrue(
            (yield* histogramCount(Metrics.limiterWait.pipe(Metric.tagged("limit", "bucket")))) - before.waits >= 2,
            "later requests waited for the 1-token bucket"
          )
          strictEqual(
            (yield* count(
              Metrics.retries.pipe(
                Metric.tagged("method", "imopenlines.session.mode.silent"),
                Metric.tagged("classification", "ambiguous")
              )
            )) - before.retries,
            1
          )
        }),
      { clock: "manual", limits: { bucket: "off" } }
    ))

  it.effect("token refreshes by outcome", () =>
    withEmulator(
      (emulator) =>
        Effect.gen(function*() {
          const ok = yield* count(Metrics.refreshes.pipe(Metric.tagged("outcome", "ok")))
          const issued = emulator.oauth.issue(1)
          const store = TokenStore.makeMemory({
            default: { ...issued, expiresAt: 0, restUrl: `${emulator.url}/rest/` }
          })
          const layer = Bitrix24Http.layerOAuth().pipe(
            Layer.provide(Layer.succeed(TokenStore.TokenStore, store)),
            Layer.provide(
              OAuth.layer({
                clientId: emulator.oauth.clientId,
                clientSecret: emulator.oauth.clientSecret,
                tokenUrl: emulator.oauth.tokenUrl
              })
            ),
            Layer.provide(Bitrix24Http.layerDefaults)
          )
          const fiber = yield* ImChat.mute({ CHAT_ID: 1489 }).pipe(Effect.provide(layer), Effect.fork)
          yield* drive(fiber, { emulator })
          strictEqual((yield* count(Metrics.refreshes.pipe(Metric.tagged("outcome", "ok")))) - ok, 1)
        }),
      { clock: "manual" }
    ))
})

describe("logs", () => {
  it.effect("a portal rename is logged once, with both origins and nothing else of the URL", () =>
    Effect.gen(function*() {
      const captured = Capture.make()
      let emulatorUrl = ""
      yield* withEmulator(
        (emulator: Emulator.Service) =>
          Effect.gen(function*() {
            emulatorUrl = emulator.url
            emulator.setFaults([{
              kind: "redirect",
              times: 1,
              location: emulator.url.replace("127.0.0.1", "localhost")
            }])
            const fiber = yield* ImChat.mute({ CHAT_ID: 1489 }).pipe(
              Effect.provide(withDefaults(Bitrix24Http.layerWebhook(emulator.webhookUrl))),
              Effect.fork
            )
            yield* drive(fiber, { emulator })
          }),
        { clock: "manual" }
      ).pipe(Effect.provide(captured.layer))
      const moved = captured.logs.filter((log) => log.message.includes("portal moved"))
      strictEqual(moved.length, 1)
      strictEqual(moved[0]!.level, "WARN")
      strictEqual(
        moved[0]!.message,
        `Bitrix24 portal moved: ${emulatorUrl} answered HTTP 302 with the new address ` +
          `${emulatorUrl.replace("127.0.0.1", "localhost")}; calls now go there (wire sheet §1.1)`
      )
    }))
})
