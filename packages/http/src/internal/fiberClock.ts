/**
 * The clock of the running fiber in one step of the runtime. `Effect.clockWith` reads the fiber's services through
 * a FiberRef (three steps: the read, its result, the continuation); the transport reads the clock a few times for
 * every call, so it takes it from the fiber directly, where `clockWith` finds it too (a `TestClock` included).
 *
 * @since 0.1.0
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"

/**
 * `Effect.clockWith` in one step.
 *
 * @internal
 */
export const clockWith = <A, E, R>(f: (clock: Clock.Clock) => Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.withFiberRuntime<A, E, R>((fiber) => f(Context.get(fiber.currentDefaultServices, Clock.Clock)))
