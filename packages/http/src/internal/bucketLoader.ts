/**
 * The window that gathers calls arriving one by one (each from its own fiber: the proxy's case) into `batch`
 * requests, aware of the leaky bucket (wire sheet §3.1).
 *
 * A fixed window (as `@effect/experimental`'s `dataLoader`) closes after its time whatever the bucket holds: while
 * calls trickle in, each window sends a small batch, and small batches spend the bucket's burst; once it is empty,
 * every later window waits for its token with its few calls, and 2,000 calls take 95 requests instead of 40. Here a
 * window closes after its time (or at once when it holds `maxBatchSize` calls) and then takes the bucket token of the
 * request it will send; calls arriving while it waits for the token join it. With tokens at hand this is the fixed
 * window; with the bucket empty, every request leaves as full as the calls waiting allow.
 *
 * The token is taken here, so the request that carries the batch must not take another: the batch runs with a
 * {@link Prepaid} ticket that the bucket decorator (`portalClient.withBucket`) uses instead of taking one, once (a
 * redirect hop or a replay after renewal takes its own).
 *
 * @since 0.1.0
 * @internal
 */
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import type * as Request from "effect/Request"
import * as RequestResolver from "effect/RequestResolver"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import type * as PortalLimits from "../PortalLimits.js"

/**
 * A bucket token taken ahead for the next HTTP request of the fiber that carries it: `waitedMs` is how long taking it
 * took. `used` once a request has spent it.
 *
 * @internal
 */
export interface Ticket {
  used: boolean
  readonly waitedMs: number
}

/**
 * The ticket of the batch a fiber sends, if any.
 *
 * @internal
 */
export const Prepaid: FiberRef.FiberRef<Ticket | undefined> = FiberRef.unsafeMake<Ticket | undefined>(undefined)

interface Item<A extends Request.Request<any, any>> {
  readonly request: A
  readonly resume: (effect: Effect.Effect<Request.Request.Success<A>, Request.Request.Error<A>>) => void
}

/**
 * A resolver that gathers single requests for `resolver` in windows of `window`, of at most `maxBatchSize` requests,
 * each closed by taking a token with `take` (see the module's docs). A token that cannot be taken (the shared store
 * out of reach) sends the batch without a ticket: its request then takes its own, and fails as the store does.
 *
 * @internal
 */
export const make = <A extends Request.Request<any, any>>(
  resolver: RequestResolver.RequestResolver<A, never>,
  options: {
    readonly window: Duration.Duration
    readonly maxBatchSize: number
    readonly take: PortalLimits.Take
  }
): Effect.Effect<RequestResolver.RequestResolver<A, never>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const runFork = Runtime.runFork(yield* Effect.runtime<never>())
    const max = Math.max(1, options.maxBatchSize)
    const pending = new Set<Item<A>>()
    let full: Deferred.Deferred<void> | undefined
    let running = false
    let fiber: Fiber.RuntimeFiber<void> | undefined

    const run = (items: ReadonlyArray<Item<A>>) =>
      Effect.withRequestCaching(
        Effect.forEach(
          items,
          ({ request, resume }) => Effect.request(request, resolver).pipe(Effect.exit, Effect.map(resume)),
          { batching: true, discard: true }
        ),
        false
      )

    const next = (): ReadonlyArray<Item<A>> => {
      const batch: Array<Item<A>> = []
      for (const item of pending) {
        if (batch.length === max) break
        batch.push(item)
      }
      for (const item of batch) pending.delete(item)
      return batch
    }

    // One window after another while calls wait; the loop ends (and the next call starts it again) when none does.
    const windows: Effect.Effect<void> = Effect.gen(function*() {
      while (pending.size > 0) {
        if (pending.size < max) {
          const signal = yield* Deferred.make<void>()
          full = signal
          yield* Effect.raceFirst(Effect.sleep(options.window), Deferred.await(signal))
          full = undefined
        }
        if (pending.size === 0) break
        // Whatever happens to the take (the store out of reach, even a defect), the loop goes on: a loop that died
        // would leave every later call waiting.
        const ticket = yield* Effect.matchCause(options.take, {
          onFailure: (): Ticket | undefined => undefined,
          onSuccess: (waited): Ticket => ({ used: false, waitedMs: Duration.toMillis(waited) })
        })
        const batch = next()
        if (batch.length === 0) {
          // Every waiting call went away meanwhile: the token is spent, as a request that was never sent.
          break
        }
        runFork(ticket === undefined ? run(batch) : Effect.locally(run(batch), Prepaid, ticket))
      }
      running = false
    })

    // The transport closes: no window opens again, and the calls still waiting are interrupted.
    yield* Effect.addFinalizer(() =>
      Effect.suspend(() => {
        for (const item of pending) item.resume(Effect.interrupt)
        pending.clear()
        return fiber === undefined ? Effect.void : Fiber.interrupt(fiber)
      })
    )

    return RequestResolver.fromEffect((request: A) =>
      Effect.async<Request.Request.Success<A>, Request.Request.Error<A>>((resume) => {
        const item: Item<A> = { request, resume }
        pending.add(item)
        if (!running) {
          running = true
          fiber = runFork(windows)
        } else if (full !== undefined && pending.size >= max) {
          Deferred.unsafeDone(full, Effect.void)
        }
        return Effect.sync(() => {
          pending.delete(item)
        })
      })
    )
  })
