/**
 * The offline consumer against the emulator's offline queue over real HTTP: a handler killed mid-way loses nothing
 * (the event is handled again after a restart from the file checkpoint, and each event is cleared once), a terminal
 * failure is flagged with event.offline.error, a reservation made before a crash without a checkpoint is recovered,
 * and ONOFFLINEEVENT through the receiver wakes a consumer that would otherwise sleep for an hour.
 */
import { Event, ImMessage } from "@bitrix24-effect/core"
import { Emulator } from "@bitrix24-effect/emulator"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { describe, expect, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as OfflineConsumer from "../src/OfflineConsumer.js"
import * as Receiver from "../src/Receiver.js"
import { application, eventually, portal, serveReceiver, settled } from "./helpers.js"

/** Binds ONIMCONNECTORMESSAGEADD offline and has the operator (user 1) write `count` replies in the connector's chat. */
const queueReplies = (emulator: Emulator.Service, count: number, from = 1) =>
  Effect.gen(function*() {
    const app = application(emulator)
    yield* Event.bind({ event: "ONIMCONNECTORMESSAGEADD", event_type: "offline" }).pipe(
      Effect.provide(app),
      Effect.catchTag("ErrorCore", () => Effect.void)
    )
    for (let n = from; n < from + count; n++) {
      yield* ImMessage.add({ DIALOG_ID: "chat2100", MESSAGE: `reply ${n}` }).pipe(Effect.provide(app))
    }
  })

const textOf = (row: OfflineConsumer.Item["event"]) =>
  String(((row.EVENT_DATA as any).MESSAGES[0].message.text as string).split("[br]")[1])

const clears = (emulator: Emulator.Service) =>
  emulator.journal.filter((entry) => entry.method === "event.offline.clear" && entry.status === 200)
    .flatMap((entry) => entry.params.message_id as Array<string>)

const checkpointFile = () => Path.join(Fs.mkdtempSync(Path.join(Os.tmpdir(), "b24-offline-")), "checkpoint.json")

describe("the offline consumer", () => {
  it.live("a handler killed mid-way loses nothing: after a restart the event is handled, and each is cleared once", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* queueReplies(emulator, 3)
      expect(emulator.events.offline.length).toBe(3)
      const handled: Array<string> = []
      const file = checkpointFile()
      const checkpoint = OfflineConsumer.layerCheckpointFile(file).pipe(Layer.provide(NodeFileSystem.layer))

      // first run: the second event's handler never finishes, and the process is killed there
      const stuck = yield* Deferred.make<void>()
      const first = yield* OfflineConsumer.make()
      const killed = yield* first.run((row) =>
        Effect.gen(function*() {
          handled.push(textOf(row))
          if (textOf(row) === "reply 2") {
            yield* Deferred.succeed(stuck, undefined)
            yield* Effect.never
          }
        })
      ).pipe(Effect.provide(checkpoint), Effect.provide(application(emulator)), Effect.fork)
      yield* Deferred.await(stuck)
      yield* Fiber.interrupt(killed)
      expect(handled).toEqual(["reply 1", "reply 2"])
      expect(clears(emulator).length).toBe(1)
      expect(emulator.events.offline.map((row) => row.processId !== "")).toEqual([true, true])
      expect(Fs.existsSync(file)).toBe(true)

      // restart: a new consumer on the same checkpoint file reads the reservation again
      const second = yield* OfflineConsumer.make()
      const resumed = yield* second.run((row) => Effect.sync(() => void handled.push(textOf(row)))).pipe(
        Effect.provide(checkpoint),
        Effect.provide(application(emulator)),
        Effect.fork
      )
      expect(yield* eventually(() => emulator.events.offline.length === 0)).toBe(true)
      yield* Fiber.interrupt(resumed)
      expect(handled).toEqual(["reply 1", "reply 2", "reply 2", "reply 3"])
      const cleared = clears(emulator)
      expect(cleared.length).toBe(3)
      expect(new Set(cleared).size).toBe(3)
    }).pipe(Effect.provide(portal()), Effect.scoped))

  it.live("a terminal failure flags the event with event.offline.error; the others are cleared", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* queueReplies(emulator, 3)
      const consumer = yield* OfflineConsumer.make({ retry: Schedule.recurs(0) })
      const fiber = yield* consumer.run((row) =>
        textOf(row) === "reply 2" ? Effect.fail(new OfflineConsumer.Terminal({ reason: "bad reply" })) : Effect.void
      ).pipe(
        Effect.provide(OfflineConsumer.layerCheckpointMemory),
        Effect.provide(application(emulator)),
        Effect.fork
      )
      expect(yield* eventually(() => emulator.events.offline.every((row) => row.error))).toBe(true)
      yield* Fiber.interrupt(fiber)
      expect(emulator.events.offline.map((row) => [row.error, row.processId])).toEqual([[true, ""]])
      expect(emulator.journal.filter((e) => e.method === "event.offline.error").length).toBe(1)
      expect(clears(emulator).length).toBe(2)
    }).pipe(Effect.provide(portal()), Effect.scoped))

  it.live("a reservation nobody holds a checkpoint for (a crash right after event.offline.get) is recovered", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* queueReplies(emulator, 2)
      const lost = yield* Event.offlineGet({ clear: false }).pipe(Effect.provide(application(emulator)))
      expect(lost.events.length).toBe(2)
      const handled: Array<string> = []
      const consumer = yield* OfflineConsumer.make()
      const fiber = yield* consumer.run((row) => Effect.sync(() => void handled.push(textOf(row)))).pipe(
        Effect.provide(OfflineConsumer.layerCheckpointMemory),
        Effect.provide(application(emulator)),
        Effect.fork
      )
      expect(yield* eventually(() => emulator.events.offline.length === 0)).toBe(true)
      yield* Fiber.interrupt(fiber)
      expect(handled).toEqual(["reply 1", "reply 2"])
    }).pipe(Effect.provide(portal()), Effect.scoped))

  it.live("ONOFFLINEEVENT, through the receiver, wakes a consumer that would sleep for an hour", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const consumer = yield* OfflineConsumer.make({ pollInterval: "1 hour" })
      const receiver = yield* Receiver.make({ ONOFFLINEEVENT: () => consumer.wake })
      const url = yield* serveReceiver(receiver)
      emulator.install({ handler: url })
      yield* settled(emulator)
      yield* Event.bind({ event: "ONOFFLINEEVENT", handler: url, options: { minTimeout: 0 } }).pipe(
        Effect.provide(application(emulator))
      )
      const handled: Array<string> = []
      const fiber = yield* consumer.run((row) => Effect.sync(() => void handled.push(textOf(row)))).pipe(
        Effect.provide(OfflineConsumer.layerCheckpointMemory),
        Effect.provide(application(emulator)),
        Effect.fork
      )
      // the consumer found nothing and sleeps; a new reply queues a row and the portal sends ONOFFLINEEVENT
      yield* Effect.sleep("50 millis")
      yield* queueReplies(emulator, 1)
      expect(yield* eventually(() => handled.length === 1, 3000)).toBe(true)
      yield* Fiber.interrupt(fiber)
      expect(emulator.events.deliveries.some((d) => d.event === "ONOFFLINEEVENT" && d.outcome === "delivered")).toBe(
        true
      )
    }).pipe(Effect.provide(portal()), Effect.scoped))
})
