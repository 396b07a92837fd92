/**
 * Safe retries against each fault kind of the emulator, over real HTTP on loopback (wire sheet §3, §5): an idempotent
 * call (imopenlines.session.mode.silent) is applied exactly once (one state change, one system message), a
 * non-idempotent call (imopenlines.session.start, which opens a session) at most once, and where the outcome is
 * ambiguous the non-idempotent call fails with OutcomeUnknown naming the method. The emulator's journal says what ran.
 */
import { ImOpenLines, PortalError } from "@bitrix24-effect/core"
import type { Emulator, Faults } from "@bitrix24-effect/emulator"
import { describe, it } from "@effect/vitest"
import { assertInstanceOf, assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as SubscriptionRef from "effect/SubscriptionRef"
import * as Bitrix24Http from "../src/Bitrix24Http.js"
import * as RetryPolicy from "../src/RetryPolicy.js"
import { drive } from "./emulated.js"
import { withEmulator } from "./helpers.js"

const silent = ImOpenLines.sessionModeSilent({ CHAT_ID: 2043, ACTIVATE: true })
const start = ImOpenLines.sessionStart({ CHAT_ID: 494 })

const transport = (emulator: Emulator.Service) =>
  Bitrix24Http.layerWebhook(emulator.webhookUrl, { timeout: "1 second" }).pipe(
    Layer.provide(RetryPolicy.layer()),
    Layer.provide(Bitrix24Http.layerDefaults)
  )

/** System messages posted into chat 2043 (one per change of silent mode). */
const silentNotices = (emulator: Emulator.Service) =>
  emulator.portal.messages.filter((message) => message.chatId === 2043 && message.system).length

const executions = (emulator: Emulator.Service, method: string) =>
  emulator.journal.filter((entry) => entry.method === method && entry.executed).length

/** Waits (in real time, bounded) until the journal shows `n` executions: a late answer still runs the method. */
const settled = (emulator: Emulator.Service, method: string, n: number) =>
  Effect.promise(async () => {
    for (let i = 0; i < 200 && executions(emulator, method) < n; i++) await new Promise((r) => setTimeout(r, 10))
  })

interface Expectation {
  readonly kind: Faults.Kind
  readonly fault?: Partial<Faults.Fault>
  /** Whether the portal ran the method of the faulted request. */
  readonly ranFaulted: boolean
  /** Whether the client cannot know if the method ran (then a non-idempotent call fails with OutcomeUnknown). */
  readonly ambiguous: boolean
}

const kinds: ReadonlyArray<Expectation> = [
  { kind: "latency", fault: { ms: 50 }, ranFaulted: true, ambiguous: false },
  { kind: "internal-error", ranFaulted: false, ambiguous: true },
  { kind: "html-502", ranFaulted: false, ambiguous: true },
  { kind: "drop-before", ranFaulted: false, ambiguous: true },
  { kind: "drop-after", ranFaulted: true, ambiguous: true },
  { kind: "truncated-json", ranFaulted: true, ambiguous: true },
  { kind: "redirect", ranFaulted: false, ambiguous: false }
]

/** A redirect to the same emulator under another origin (localhost instead of 127.0.0.1): a renamed portal. */
const movedTo = (emulator: Emulator.Service) => emulator.url.replace("127.0.0.1", "localhost")

describe("each fault kind of the emulator (RetryPolicy.layer())", () => {
  for (const expectation of kinds) {
    const arm = (emulator: Emulator.Service, method: string) =>
      emulator.setFaults([{
        kind: expectation.kind,
        method,
        times: 1,
        ...(expectation.kind === "redirect" ? { location: movedTo(emulator) } : {}),
        ...expectation.fault
      }])

    it.effect(`${expectation.kind}: the idempotent call is applied exactly once`, () =>
      withEmulator(
        (emulator) =>
          Effect.gen(function*() {
            arm(emulator, "imopenlines.session.mode.silent")
            const notices = silentNotices(emulator)
            const fiber = yield* silent.pipe(Effect.provide(transport(emulator)), Effect.fork)
            strictEqual(yield* drive(fiber, { emulator }), true)
            // One request, or the faulted one and its replay (the moved portal's re-sent POST for a redirect).
            strictEqual(emulator.httpRequests(), expectation.kind === "latency" ? 1 : 2)
            const runs = expectation.kind !== "latency" && expectation.ranFaulted ? 2 : 1
            yield* settled(emulator, "imopenlines.session.mode.silent", runs)
            strictEqual(executions(emulator, "imopenlines.session.mode.silent"), runs)
            strictEqual(emulator.portal.chats.get(2043)!.silent, true)
            strictEqual(silentNotices(emulator) - notices, 1, "one change of state, one system message")
          }),
        { clock: "manual" }
      ))

    it.effect(
      `${expectation.kind}: the non-idempotent call runs at most once${
        expectation.ambiguous ? " and fails with OutcomeUnknown" : ""
      }`,
      () =>
        withEmulator(
          (emulator) =>
            Effect.gen(function*() {
              arm(emulator, "imopenlines.session.start")
              const sessions = emulator.portal.sessions.size
              const fiber = yield* start.pipe(Effect.provide(transport(emulator)), Effect.exit, Effect.fork)
              const exit = yield* drive(fiber, { emulator })
              if (expectation.ambiguous) {
                assertTrue(Exit.isFailure(exit))
                const error = yield* Effect.flip(exit)
                assertInstanceOf(error, RetryPolicy.OutcomeUnknown)
                assertInstanceOf(error, PortalError.TransportError)
                strictEqual(error.method, "imopenlines.session.start")
                strictEqual(error.attempts, 1)
                strictEqual(emulator.httpRequests(), 1, "not replayed")
              } else {
                deepStrictEqual(exit, Exit.succeed(true))
              }
              yield* settled(
                emulator,
                "imopenlines.session.start",
                expectation.ranFaulted || !expectation.ambiguous ? 1 : 0
              )
              const ran = executions(emulator, "imopenlines.session.start")
              strictEqual(ran, expectation.ranFaulted || !expectation.ambiguous ? 1 : 0)
              strictEqual(emulator.portal.sessions.size - sessions, ran)
            }),
          { clock: "manual" }
        )
    )
  }

  it.effect("an answer later than the timeout: the idempotent call is replayed, the non-idempotent one is not", () =>
    withEmulator(
      (emulator) =>
        Effect.gen(function*() {
          emulator.setFaults([{ kind: "latency", ms: 400, times: 2 }])
          const notices = silentNotices(emulator)
          const sessions = emulator.portal.sessions.size
          const fiber = yield* Effect.all([Effect.exit(silent), Effect.exit(start)], { concurrency: 2 }).pipe(
            Effect.provide(transport(emulator)),
            Effect.fork
          )
          // Steps of 100 ms: the 400 ms of real latency span several seconds of the driven clocks.
          const [silentExit, startExit] = yield* drive(fiber, { emulator, step: "100 millis" })
          deepStrictEqual(silentExit, Exit.succeed(true))
          const error = yield* Effect.flip(startExit)
          assertInstanceOf(error, RetryPolicy.OutcomeUnknown)
          strictEqual(error.reason, "Timeout")
          yield* settled(emulator, "imopenlines.session.start", 1)
          yield* settled(emulator, "imopenlines.session.mode.silent", 2)
          strictEqual(executions(emulator, "imopenlines.session.start"), 1, "the late start still ran, once")
          strictEqual(emulator.portal.sessions.size - sessions, 1)
          strictEqual(silentNotices(emulator) - notices, 1)
        }),
      { clock: "manual" }
    ))
})

describe("portal rename: HTTP 302 to a new address (wire sheet §1.1)", () => {
  it.effect("the POST is sent again to the new address, which later calls keep using, and the move is published", () =>
    withEmulator(
      (emulator) =>
        Effect.gen(function*() {
          const target = movedTo(emulator)
          emulator.setFaults([{ kind: "redirect", times: 1, location: target }])
          const program = Effect.gen(function*() {
            const address = yield* Bitrix24Http.PortalAddress
            strictEqual(yield* SubscriptionRef.get(address), emulator.url)
            yield* silent
            yield* start
            return yield* SubscriptionRef.get(address)
          })
          const fiber = yield* program.pipe(Effect.provide(transport(emulator)), Effect.fork)
          strictEqual(yield* drive(fiber, { emulator }), target)
          // One 302, then the re-sent POST and the next call, both to the new address.
          strictEqual(emulator.httpRequests(), 3)
          deepStrictEqual(emulator.journal.map((entry) => [entry.method, entry.status, entry.executed]), [
            ["imopenlines.session.mode.silent", 302, false],
            ["imopenlines.session.mode.silent", 200, true],
            ["imopenlines.session.start", 200, true]
          ])
        }),
      { clock: "manual" }
    ))
})
