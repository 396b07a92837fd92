/**
 * The floor of automatic batching in Effect, for comparison with the automatic-batching client: the same
 * `Effect.forEach(calls, call, { batching: true })`, each call an `Effect.request` to a `RequestResolver` that answers
 * every request at once with `true`. No transport, no HTTP, no Schema: what it costs is Effect's request batching
 * itself (the run loop's steps for each call, a request entry and a `Deferred` per request, the blocked-requests
 * bookkeeping), which any client written as a plain batched `Effect.forEach` pays.
 */
import * as Effect from "effect/Effect"
import * as Request from "effect/Request"
import * as RequestResolver from "effect/RequestResolver"
import { main, range } from "./Harness.js"

interface Call extends Request.Request<boolean> {
  readonly _tag: "Call"
  readonly id: number
}

const Call = Request.tagged<Call>("Call")

const answerAll = RequestResolver.makeBatched((calls: ReadonlyArray<Call>) =>
  Effect.forEach(calls, (call) => Request.succeed(call, true), { discard: true })
)

await main((_scenario, calls) =>
  Effect.runPromise(
    Effect.forEach(range(calls), (id) => Effect.either(Effect.request(Call({ id }), answerAll)), { batching: true })
      .pipe(
        Effect.map((results) => {
          const ok = results.filter((result) => result._tag === "Right" && result.right).length
          return { ok, failed: calls - ok }
        })
      )
  )
)
