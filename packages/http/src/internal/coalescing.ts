/**
 * Automatic batching: the transport's calls as `Request`s, coalesced into `batch` requests (wire sheet §2) by a
 * `RequestResolver`, so that each caller still gets its own outcome.
 *
 * Coalescing never lets one call fail another:
 * - A call whose params cannot be encoded as a `batch` command fails alone, before it joins a batch
 *   ({@link encode}).
 * - When a `batch` request fails as a whole, {@link completeAll} looks at what the failure proves (the classification
 *   of `RetryPolicy.classify`): a 4xx answer for the request itself (other than 401, which concerns the credentials
 *   every call shares) proves that nothing ran, so the calls are sent again at once, each alone, and each gets its
 *   own answer; an ambiguous failure (5xx, dropped, timeout, unreadable answer) fails every call with it, marked so
 *   that its retry policy's next attempt goes alone (an idempotent call is replayed by itself; a non-idempotent one
 *   becomes `OutcomeUnknown`); a refusal (`QUERY_LIMIT_EXCEEDED`), a request that never left, or a final answer that
 *   concerns every call alike fails each call with it, and their retries may travel together again.
 *
 * @since 0.1.0
 * @internal
 */
import { BatchProtocol, Bitrix24Client, PortalError, type Wire } from "@bitrix24-effect/core"
import * as Arr from "effect/Array"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Request from "effect/Request"
import * as RequestResolver from "effect/RequestResolver"
import * as RetryPolicy from "../RetryPolicy.js"
import type * as PortalClient from "./portalClient.js"

/**
 * What the transport learns about one call while it is carried: the attempts made, the size of the last request
 * that carried it (1 when alone), the milliseconds waited for the leaky bucket and the operating time, the portal's
 * address the last request went to, and whether its further attempts must go alone (after its batch failed as a
 * whole). Written by the transport, read for the call's span.
 *
 * @internal
 */
export interface CallStats {
  attempts: number
  batchSize: number
  bucketWaitMs: number
  operatingWaitMs: number
  address: PortalClient.Address | undefined
  alone: boolean
}

/** @internal */
export const makeStats = (): CallStats => ({
  attempts: 0,
  batchSize: 1,
  bucketWaitMs: 0,
  operatingWaitMs: 0,
  address: undefined,
  alone: false
})

/**
 * One attempt of a call as a `Request`, with its `batch` command already encoded. `id` keeps two identical calls
 * apart (two identical writes are two writes).
 *
 * @internal
 */
export interface Call extends Request.Request<Bitrix24Client.CallResponse, RetryPolicy.AttemptError> {
  readonly _tag: "Bitrix24Call"
  readonly id: number
  readonly call: Bitrix24Client.CallRequest
  readonly command: string
  readonly stats: CallStats
}

/** @internal */
export const Call = Request.tagged<Call>("Bitrix24Call")

/**
 * Sends one HTTP request to the portal (one attempt, with the transport's limits and auth) and records the wait and
 * request size in the stats of every call it carries.
 *
 * @internal
 */
export type Send = (
  method: string,
  params: Wire.Params,
  carried: ReadonlyArray<CallStats>
) => Effect.Effect<Bitrix24Client.CallResponse, RetryPolicy.AttemptError>

/**
 * How a call may be coalesced: `Right(command)` with its encoded `batch` command, `Right(undefined)` when it must go
 * alone (its method may not be batched, or its params hold `$result[...]`-style back-references the portal would
 * substitute inside a `batch`, wire sheet §2), `Left` when its params cannot be encoded at all (nested too deeply,
 * cyclic): the call then fails by itself, before any I/O.
 *
 * @internal
 */
export const encode = (
  request: Bitrix24Client.CallRequest
): Either.Either<string | undefined, RetryPolicy.UnencodableParams> => {
  if (!request.batchable || BatchProtocol.notAllowed.has(request.method.toLowerCase())) return Either.right(undefined)
  try {
    return Either.right(
      BatchProtocol.hasReferences(request.params)
        ? undefined
        : BatchProtocol.encodeCommand(request.method, request.params)
    )
  } catch (cause) {
    return Either.left(RetryPolicy.unencodable(request.method, cause))
  }
}

/**
 * A call as its resolver receives it: the request and the place its caller waits for the outcome.
 *
 * @internal
 */
export type Entry = Request.Entry<Call>

/**
 * Hands a call its outcome, once: what `Request.complete` does, without an effect per call (a batch completes up to
 * 50 at once).
 */
const settle = (entry: Entry, exit: Exit.Exit<Bitrix24Client.CallResponse, RetryPolicy.AttemptError>) => {
  if (entry.state.completed) return
  entry.state.completed = true
  Deferred.unsafeDone(entry.result, exit)
}

/**
 * Sends calls and completes each with its own outcome: a single call goes out as itself; two or more go out as `batch`
 * requests (`halt: 0`, keys `c0`, `c1`, ...) of at most `maxBatchSize` commands, sent concurrently. A `batch` request
 * that fails as a whole is handled as the module says.
 *
 * @internal
 */
export const completeAll = (
  send: Send,
  entries: ReadonlyArray<Entry>,
  maxBatchSize: number = BatchProtocol.maxCommands
): Effect.Effect<void> =>
  Effect.forEach(
    Arr.chunksOf(entries, Math.max(1, Math.min(BatchProtocol.maxCommands, maxBatchSize))),
    (chunk) => chunk.length === 1 ? completeOne(send, chunk[0]!) : completeBatch(send, chunk),
    { concurrency: "unbounded", discard: true }
  )

const completeOne = (send: Send, entry: Entry) => {
  const { call, stats } = entry.request
  return Effect.map(Effect.exit(send(call.method, call.params, [stats])), (exit) => settle(entry, exit))
}

const keyOf = (index: number) => `c${index}`

/** A call that must be retried by itself: its batch failed as a whole without proving that nothing ran. */
const failAlone = (entry: Entry, error: RetryPolicy.AttemptError) => {
  entry.request.stats.alone = true
  settle(entry, Exit.fail(error))
}

/**
 * A final 4xx for a `batch` request as a whole: the portal (or a gateway in front of it) refused the request itself,
 * e.g. 400, 403 or 413, so none of its commands ran. A 401 is left out: it rejects the credentials every call shares,
 * so sending the calls alone would only be rejected once per call.
 */
const isRequestRefusal = (status: number | undefined) =>
  status !== undefined && status >= 400 && status < 500 && status !== 401

/** Hands each call of an answered `batch` its own outcome. */
const settleAnswered = (entries: ReadonlyArray<Entry>, response: Bitrix24Client.CallResponse) => {
  const decoded = BatchProtocol.decodeResult(response.result)
  if (Either.isLeft(decoded)) {
    for (const entry of entries) {
      failAlone(
        entry,
        new PortalError.TransportError({
          method: entry.request.call.method,
          reason: "InvalidBody",
          description: "the batch answer is not the documented result/result_error maps"
        })
      )
    }
    return
  }
  for (let index = 0; index < entries.length; index++) {
    const entry = entries[index]!
    const outcome = BatchProtocol.outcomeOf(decoded.right, keyOf(index))
    switch (outcome._tag) {
      case "Result": {
        // Each call gets the portal's headers of the request that carried it.
        const { next, result, time, total } = outcome.response
        settle(entry, Exit.succeed({ result, time, next, total, headers: response.headers }))
        break
      }
      case "Error":
        settle(entry, Exit.fail(new Bitrix24Client.WireFailure({ ...outcome.error, headers: response.headers })))
        break
      case "NotExecuted":
        failAlone(
          entry,
          new PortalError.TransportError({
            method: entry.request.call.method,
            reason: "InvalidBody",
            description: "the batch answer has neither a result nor an error for this command"
          })
        )
    }
  }
}

const completeBatch = (send: Send, entries: ReadonlyArray<Entry>) => {
  const cmd: Record<string, string> = {}
  const carried: Array<CallStats> = []
  for (let index = 0; index < entries.length; index++) {
    const call = entries[index]!.request
    cmd[keyOf(index)] = call.command
    carried.push(call.stats)
  }
  return send("batch", { halt: 0, cmd }, carried).pipe(
    Effect.matchEffect({
      onSuccess: (response) => {
        settleAnswered(entries, response)
        return Effect.void
      },
      onFailure: (error) => {
        const kind = RetryPolicy.classify(error)
        if (kind === "final" && isRequestRefusal(error.status)) {
          // Refused as a request, so nothing ran: each call goes again by itself and gets its own answer.
          return Effect.forEach(entries, (entry) => {
            entry.request.stats.alone = true
            return completeOne(send, entry)
          }, { concurrency: "unbounded", discard: true })
        }
        for (const entry of entries) {
          const own = error._tag === "TransportError" ? retarget(error, entry.request.call.method) : error
          if (kind === "ambiguous") failAlone(entry, own)
          else settle(entry, Exit.fail(own))
        }
        return Effect.void
      }
    })
  )
}

/** The calls of each block of a resolution still waiting for their outcome, block after block. */
const eachBlock = (
  blocks: ReadonlyArray<ReadonlyArray<Entry>>,
  f: (pending: Arr.NonEmptyReadonlyArray<Entry>) => Effect.Effect<void>
): Effect.Effect<void> =>
  Effect.forEach(blocks, (block) => {
    const pending = block.filter((entry) => !entry.state.completed)
    return Arr.isNonEmptyReadonlyArray(pending) ? f(pending) : Effect.void
  }, { discard: true })

/**
 * A resolver over {@link completeAll}: whatever requests Effect hands it at once (the calls of an `Effect.all` /
 * `Effect.forEach` with `batching: true`) go out in `batch` requests of at most `maxBatchSize`, concurrently.
 *
 * @internal
 */
export const makeResolver = (
  send: Send,
  maxBatchSize: number = BatchProtocol.maxCommands
): RequestResolver.RequestResolver<Call> =>
  RequestResolver.makeWithEntry((blocks) => eachBlock(blocks, (pending) => completeAll(send, pending, maxBatchSize)))

/**
 * The automatic batching resolver of the transport. Calls Effect hands it together (a batched `Effect.all` /
 * `Effect.forEach`) are sent at once by {@link completeAll}; a call that arrives alone (from its own fiber: the
 * proxy's case, or concurrent fibers without `batching: true`) goes through `loader`, the
 * `@effect/experimental/RequestResolver` data loader over {@link makeResolver}, which gathers the calls arriving
 * within its window into one request.
 *
 * @internal
 */
export const makeCoalescing = (
  send: Send,
  loader: RequestResolver.RequestResolver<Call>,
  maxBatchSize: number = BatchProtocol.maxCommands
): RequestResolver.RequestResolver<Call> =>
  RequestResolver.makeWithEntry((blocks) =>
    eachBlock(blocks, (pending) => {
      if (pending.length > 1) return completeAll(send, pending, maxBatchSize)
      const [entry] = pending
      const only = entry.request
      // A fresh request for the loader: each request object belongs to one resolution.
      return Effect.map(
        Effect.exit(
          Effect.request(Call({ id: -only.id, call: only.call, command: only.command, stats: only.stats }), loader)
        ),
        (exit) => settle(entry, exit)
      )
    })
  )

/** A batch-level transport failure, reported under the method of one of the calls it carried. */
const retarget = (error: PortalError.TransportError, method: string): PortalError.TransportError => {
  const Class = error.constructor as new(props: {
    readonly method: string
    readonly reason: PortalError.TransportError["reason"]
    readonly description: string
    readonly status?: number | undefined
  }) => PortalError.TransportError
  return new Class({
    method,
    reason: error.reason,
    description: error.description,
    ...(error.status === undefined ? {} : { status: error.status })
  })
}
