/**
 * Test support over the emulator: driving the TestClock (and the emulator's manual clock in lockstep, so the client's
 * limiter and the portal's bucket and windows see the same time) until a forked program is done.
 */
import type { Emulator } from "@bitrix24-effect/emulator"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"

/**
 * Moves time forward in steps until the fiber is done (at most `max`), then joins it. With an emulator on a manual
 * clock, its clock moves first by the same step, so the portal never lags behind the client. Each step also lets the
 * loopback I/O started by the previous one make progress.
 */
export const drive = <A, E>(
  fiber: Fiber.RuntimeFiber<A, E>,
  options: {
    readonly step?: Duration.DurationInput
    readonly max?: Duration.DurationInput
    readonly emulator?: Emulator.Service | undefined
  } = {}
) =>
  Effect.gen(function*() {
    const step = Duration.toMillis(Duration.decode(options.step ?? "10 millis"))
    const max = Duration.toMillis(Duration.decode(options.max ?? "10 minutes"))
    for (let elapsed = 0; elapsed < max && Option.isNone(yield* Fiber.poll(fiber)); elapsed += step) {
      if (options.emulator !== undefined && options.emulator.clock.mode === "manual") {
        options.emulator.clock.advance(step)
      }
      yield* TestClock.adjust(Duration.millis(step))
      // Real I/O on loopback completes between steps.
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 0)))
    }
    return yield* Fiber.join(fiber)
  })

/** The journal entries of calls answered with QUERY_LIMIT_EXCEEDED or OPERATION_TIME_LIMIT. */
export const limitErrors = (emulator: Emulator.Service) =>
  emulator.journal.filter((entry) => entry.error === "QUERY_LIMIT_EXCEEDED" || entry.error === "OPERATION_TIME_LIMIT")
