/**
 * An at-least-once consumer of the portal's offline event queue (docs/bitrix24-events.md §3).
 *
 * Offline events wait in the portal until the application takes them, so none is lost while the application is down.
 * This consumer reads them in **reservation mode**: `event.offline.get` with `clear: 0` stamps a batch with a
 * `process_id` and hides it from other readers; each event is then
 * - cleared with `event.offline.clear` (by `MESSAGE_ID`) only **after** its handler succeeded, or
 * - flagged with `event.offline.error` when its handler fails terminally (it failed with {@link Terminal}, or every
 *   retry of the `retry` schedule failed): the row is released with `ERROR=1`, to be read with `error: 1` later.
 *
 * **Restarts.** The `process_id` of the batch in hand is written to the {@link Checkpoint} before any of its events is
 * handled, and removed once the batch is done. After a crash (a handler killed mid-way, the process gone) the next
 * start reads the same reservation again with `process_id` and handles what was not cleared: nothing is lost, an
 * event may run twice (at-least-once; make handlers idempotent). Reservations left without a checkpoint (a crash
 * between `event.offline.get` and the checkpoint write) are found with `event.offline.list` at start and read again,
 * so run one consumer per queue (`auth_connector`).
 *
 * **Waking.** With nothing queued the consumer waits `pollInterval` (default 30 s) or until {@link Consumer.wake}:
 * bind `ONOFFLINEEVENT` online and call `wake` from the receiver's handler, so new rows are taken at once (§3.6).
 *
 * Every call needs an administrator's application token (`event.offline.*` are admin only, §3.1) and the
 * `rest_offline_extended` feature on a real portal.
 *
 * @since 0.1.0
 */
import { type Bitrix24Client, Event, type Method, type PortalError } from "@bitrix24-effect/core"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"

/**
 * The checkpoint could not be read or written. The consumer stops rather than risk handling a batch it cannot resume.
 *
 * @since 0.1.0
 * @category errors
 */
export class CheckpointError extends Schema.TaggedError<CheckpointError>("@bitrix24-effect/events/CheckpointError")(
  "CheckpointError",
  { description: Schema.String }
) {}

/**
 * Where the consumer keeps what a restart needs: the `process_id` of the batch in hand (none between batches).
 *
 * @since 0.1.0
 * @category models
 */
export interface CheckpointService {
  readonly get: Effect.Effect<Option.Option<string>, CheckpointError>
  readonly set: (processId: string) => Effect.Effect<void, CheckpointError>
  readonly clear: Effect.Effect<void, CheckpointError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Checkpoint extends Context.Tag("@bitrix24-effect/events/Checkpoint")<Checkpoint, CheckpointService>() {}

/**
 * A checkpoint in memory: survives a consumer's restart within the process (tests, supervised fibers), not the
 * process.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerCheckpointMemory: Layer.Layer<Checkpoint> = Layer.sync(Checkpoint, () => {
  let current = Option.none<string>()
  return {
    get: Effect.sync(() => current),
    set: (processId) => Effect.sync(() => (current = Option.some(processId))),
    clear: Effect.sync(() => (current = Option.none()))
  }
})

const CheckpointFile = Schema.parseJson(Schema.Struct({ processId: Schema.String }))

/**
 * A checkpoint in a file (JSON `{"processId":…}`, removed between batches), written atomically: a temporary file in the
 * same directory, then a rename.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerCheckpointFile = (path: string): Layer.Layer<Checkpoint, never, FileSystem.FileSystem> =>
  Layer.effect(
    Checkpoint,
    Effect.map(FileSystem.FileSystem, (fs) => {
      const failed = (error: { readonly message: string }) => new CheckpointError({ description: error.message })
      return {
        get: Effect.gen(function*() {
          if (!(yield* fs.exists(path))) return Option.none()
          const decoded = yield* Schema.decode(CheckpointFile)(yield* fs.readFileString(path))
          return Option.some(decoded.processId)
        }).pipe(Effect.mapError(failed)),
        set: (processId) => {
          const temporary = `${path}.${process.pid}.tmp`
          return fs.writeFileString(temporary, JSON.stringify({ processId }), { mode: 0o600 }).pipe(
            Effect.zipRight(fs.rename(temporary, path)),
            Effect.mapError(failed)
          )
        },
        clear: Effect.flatMap(fs.exists(path), (exists) => exists ? fs.remove(path) : Effect.void).pipe(
          Effect.mapError(failed)
        )
      }
    })
  )

/**
 * A handler's way of saying "never retry this one": the event is flagged with `event.offline.error` at once.
 *
 * @since 0.1.0
 * @category errors
 */
export class Terminal extends Schema.TaggedError<Terminal>("@bitrix24-effect/events/Terminal")("Terminal", {
  reason: Schema.String
}) {}

/**
 * One queued event in hand: the row (`EVENT_NAME`, `EVENT_DATA`, `MESSAGE_ID`, ...), its reservation, and the two
 * ways to settle it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Item {
  readonly event: typeof Event.OfflineEvent.Type
  readonly processId: string
  /** `event.offline.clear` of this event: call it only after it was handled. */
  readonly ack: Effect.Effect<void, CallError, Requirements>
  /** `event.offline.error` of this event: released with `ERROR=1`. */
  readonly reject: Effect.Effect<void, CallError, Requirements>
}

/**
 * What the consumer's calls need: an application's transport.
 *
 * @since 0.1.0
 * @category models
 */
export type Requirements = Bitrix24Client.Bitrix24Client | Bitrix24Client.ApplicationAuth

/**
 * How an `event.offline.*` call can fail.
 *
 * @since 0.1.0
 * @category models
 */
export type CallError = Method.MethodError<
  readonly [
    typeof PortalError.EventAccessDenied,
    typeof PortalError.ErrorArgument,
    typeof PortalError.WrongAuthType
  ]
>

/**
 * Consumer settings:
 * - `limit`: events per batch (default 50);
 * - `pollInterval`: how long to wait for new events when the queue is empty and nobody wakes the consumer (default
 *   30 seconds);
 * - `retry`: the schedule a failing handler is retried on before the event is flagged as an error (default: 3
 *   retries, 1 s doubling);
 * - `authConnector`: the queue to read (`auth_connector`, §3.1; default the main queue).
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly limit?: number | undefined
  readonly pollInterval?: Duration.DurationInput | undefined
  readonly retry?: Schedule.Schedule<unknown, unknown> | undefined
  readonly authConnector?: string | undefined
}

/**
 * A consumer: its stream of events in hand, a runner that settles each event by its handler's outcome, and `wake`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Consumer {
  /**
   * The queued events, batch by batch. Settle each item (`ack` or `reject`) before pulling the next: a batch is read
   * again (with its `process_id`) until all of its events are settled.
   */
  readonly stream: Stream.Stream<Item, CallError | CheckpointError, Requirements | Checkpoint>
  /**
   * Handles the events one at a time, for ever: `ack` after the handler succeeds; `reject` when it fails with
   * {@link Terminal} or fails again after the `retry` schedule. A defect or an interruption settles nothing.
   */
  readonly run: <E, R>(
    handler: (event: typeof Event.OfflineEvent.Type) => Effect.Effect<void, E, R>
  ) => Effect.Effect<never, CallError | CheckpointError, Requirements | Checkpoint | R>
  /** Ends the wait for new events now (call it from the ONOFFLINEEVENT handler). */
  readonly wake: Effect.Effect<void>
}

const orphanFilter = { "!PROCESS_ID": "", ERROR: 0 } as const

/**
 * Makes a consumer (see the module docs).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<Consumer> =>
  Effect.gen(function*() {
    const signal = yield* Queue.sliding<void>(1)
    const limit = options.limit ?? 50
    const poll = Duration.decode(options.pollInterval ?? "30 seconds")
    const connector = options.authConnector === undefined ? {} : { auth_connector: options.authConnector }
    const retry = options.retry ?? Schedule.exponential("1 second").pipe(Schedule.intersect(Schedule.recurs(3)))

    const read = (processId: string) =>
      Effect.map(
        Event.offlineGet({ process_id: processId, clear: false, limit, ...connector }),
        (batch) => batch.events
      )

    /** Reservations nobody holds a checkpoint for (a crash before the checkpoint write), oldest first. */
    const orphans = Effect.map(
      Event.offlineList({ filter: orphanFilter, ...connector }),
      (rows) => [...new Set(rows.flatMap((row) => typeof row.PROCESS_ID === "string" ? [row.PROCESS_ID] : []))]
    )

    /** The next batch: the one in the checkpoint if any of it is left, else a new reservation; waits when empty. */
    const nextBatch = (recovered: Array<string>) =>
      Effect.gen(function*() {
        const checkpoint = yield* Checkpoint
        while (true) {
          const pending = yield* checkpoint.get
          if (Option.isSome(pending)) {
            const left = yield* read(pending.value)
            if (left.length > 0) return { processId: pending.value, events: left }
            yield* checkpoint.clear
          }
          const orphan = recovered.shift()
          if (orphan !== undefined) {
            yield* checkpoint.set(orphan)
            continue
          }
          const batch = yield* Event.offlineGet({ clear: false, limit, ...connector })
          if (batch.process_id !== null && batch.events.length > 0) {
            yield* checkpoint.set(batch.process_id)
            return { processId: batch.process_id, events: batch.events }
          }
          yield* Effect.raceFirst(Queue.take(signal), Effect.sleep(poll))
        }
      })

    const item = (processId: string) => (event: typeof Event.OfflineEvent.Type): Item => ({
      event,
      processId,
      ack: Effect.asVoid(Event.offlineClear({ process_id: processId, message_id: [event.MESSAGE_ID], ...connector })),
      reject: Effect.asVoid(
        Event.offlineError({ process_id: processId, message_id: [event.MESSAGE_ID], ...connector })
      )
    })

    const stream: Consumer["stream"] = Stream.unwrap(Effect.map(orphans, (recovered) =>
      Stream.repeatEffect(nextBatch(recovered)).pipe(
        Stream.flatMap((batch) => Stream.fromIterable(batch.events.map(item(batch.processId))))
      )))

    const run: Consumer["run"] = (handler) =>
      stream.pipe(
        Stream.mapEffect((next) =>
          handler(next.event).pipe(
            Effect.retry({
              schedule: retry,
              while: (error) =>
                !(error instanceof Terminal)
            }),
            Effect.matchEffect({
              onSuccess: () => next.ack,
              onFailure: (error) =>
                Effect.zipRight(
                  Effect.logWarning(
                    `offline event ${next.event.EVENT_NAME} failed for good; flagged as an error`,
                    error
                  ),
                  next.reject
                )
            })
          )
        ),
        Stream.runDrain,
        Effect.zipRight(Effect.never)
      )

    return { stream, run, wake: Queue.offer(signal, undefined).pipe(Effect.asVoid) }
  })
