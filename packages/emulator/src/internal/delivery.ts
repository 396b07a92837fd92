/**
 * The queue server of the emulated portal: the background fibers that POST online events to handler URLs
 * (docs/bitrix24-events.md §2.1, §2.2, §2.6). One fiber per handler URL delivers its events in order; each delivery
 * is one attempt, never retried, recorded in the bus's deliveries (outcome, status, time). Timeouts and the `slow`
 * handler mode run on real time (a live clock), so a test's `TestClock` does not hold deliveries back.
 *
 * @internal
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"
import type * as EventBus from "../EventBus.js"

const formType = "application/x-www-form-urlencoded"

/**
 * Starts the queue server for a bus: from now on `bus.sink` hands deliveries to it. Stops with the scope.
 *
 * @internal
 */
export const start = (bus: EventBus.Bus): Effect.Effect<void, never, Scope.Scope> =>
  Effect.gen(function*() {
    // Built in the emulator's scope: the undici dispatcher lives as long as the emulator.
    const http = yield* Layer.build(NodeHttpClient.layerUndici)
    const client = Context.get(http, HttpClient.HttpClient).pipe(HttpClient.withTracerDisabledWhen(() => true))
    const live = Clock.make()
    const fibers = yield* FiberSet.make()
    const run = yield* FiberSet.runtime(fibers)<never>()
    const queues = new Map<string, Queue.Queue<EventBus.Pending>>()

    const attempt = ({ body, record }: EventBus.Pending) =>
      Effect.gen(function*() {
        const mode = bus.modes.get(record.handler) ?? { kind: "up" as const }
        if (mode.kind === "down") {
          record.outcome = "down"
          record.description = "the handler is switched down: nothing was sent"
          return
        }
        if (mode.kind === "slow") yield* Effect.sleep(Duration.millis(mode.delayMs))
        const started = performance.now()
        const request = HttpClientRequest.post(record.handler).pipe(HttpClientRequest.bodyText(body, formType))
        const outcome = yield* client.execute(request).pipe(
          Effect.flatMap((response) => Effect.as(Effect.ignore(response.text), response.status)),
          Effect.scoped,
          Effect.timeoutFail({
            duration: Duration.millis(bus.settings.deliveryTimeoutMs),
            onTimeout: () => "timeout" as const
          }),
          Effect.either
        )
        record.ms = Math.round(performance.now() - started)
        if (outcome._tag === "Right") {
          record.status = outcome.right
          record.outcome = outcome.right >= 200 && outcome.right < 300 ? "delivered" : "failed"
          if (record.outcome === "failed") record.description = `the handler answered HTTP ${outcome.right}`
        } else if (outcome.left === "timeout") {
          record.outcome = "timeout"
          record.description = `no answer within ${bus.settings.deliveryTimeoutMs} ms`
        } else {
          record.outcome = "failed"
          record.description = outcome.left._tag === "RequestError" ? "the connection failed" : "unreadable answer"
        }
      }).pipe(Effect.withClock(live))

    bus.sink = (pending) => {
      let queue = queues.get(pending.record.handler)
      if (queue === undefined) {
        queue = Effect.runSync(Queue.unbounded<EventBus.Pending>())
        queues.set(pending.record.handler, queue)
        run(Effect.forever(Effect.flatMap(Queue.take(queue), attempt)))
      }
      Queue.unsafeOffer(queue, pending)
    }
    yield* Effect.addFinalizer(() => Effect.sync(() => (bus.sink = () => undefined)))
  })
