/**
 * Each client in its own lane, in front of one portal:
 *
 * - **A token bucket per client** (`admit`): each request of a client takes a token of its own bucket (the shape of a
 *   portal's leaky bucket, wire sheet §3.1: `standard`, `enterprise`, `SIZE/DRAIN` or `off`). A request over it is
 *   refused at once, and the proxy answers with the portal's own `503 QUERY_LIMIT_EXCEEDED`, on which every SDK
 *   already backs off. The buckets run on the `RateLimiter` service (`PortalLimits.makeAdmission`), the same one the
 *   portal's bucket runs on, so a shared store shares them between replicas too.
 * - **Fair sharing of the portal** (`run`): at most `inflight` calls of the portal's clients are in the transport at
 *   once (waiting for the portal's bucket, or on the wire). The others wait in one FIFO queue per client, and a free
 *   place goes to the clients in turn (weighted round robin: a client of weight `w` gets up to `w` places per round).
 *   A client with a thousand calls queued delays another client's next call by at most one round, never by its
 *   whole backlog.
 *
 * A waiting call whose caller goes away (the client disconnected: its fiber is interrupted) leaves the queue and
 * never reaches the transport. `depth` and the metrics `b24_proxy_queue_depth` (calls waiting) and
 * `b24_proxy_queue_wait_ms` (time from arrival to a place), tagged with the portal, show the queue.
 */
import { PortalLimits } from "@bitrix24-effect/http"
import type * as RateLimiter from "@effect/experimental/RateLimiter"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import type * as Clients from "./Clients.js"

/** The lanes of one portal. */
export interface Lanes {
  /** Takes a token of the client's own bucket: `false` when the client is over its limit (or the store failed). */
  readonly admit: (client: Clients.Client) => Effect.Effect<boolean>
  /** Runs `effect` once the client's turn comes and a place in the transport is free. */
  readonly run: <A, E, R>(client: Clients.Client, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** Calls waiting for a place now. */
  readonly depth: () => number
  /** Calls holding a place now. */
  readonly active: () => number
}

/**
 * Calls waiting for a place in the transport, by portal.
 */
export const queueDepth = Metric.gauge("b24_proxy_queue_depth", {
  description: "Calls of b24-proxy clients waiting in a portal's fair queue"
})

/**
 * Milliseconds from a call's arrival in the queue to its place in the transport, by portal.
 */
export const queueWait = Metric.histogram(
  "b24_proxy_queue_wait_ms",
  MetricBoundaries.exponential({ start: 1, factor: 2, count: 16 }),
  "Milliseconds a b24-proxy call waited in its portal's fair queue"
)

interface Ticket {
  readonly resume: (granted: Effect.Effect<void>) => void
  state: "queued" | "granted" | "gone"
  readonly since: number
}

interface Lane {
  readonly weight: number
  readonly waiting: Array<Ticket>
  credit: number
}

/**
 * Makes the lanes of a portal for its clients: `inflight` places in the transport, one bucket per client (keyed
 * `b24-proxy:{portal}:{client}` on the `RateLimiter`).
 */
export const make = (options: {
  readonly portal: string
  readonly inflight: number
  readonly clients: ReadonlyArray<Clients.Client>
}): Effect.Effect<Lanes, never, RateLimiter.RateLimiter> =>
  Effect.gen(function*() {
    const buckets = new Map<string, PortalLimits.Admit>()
    for (const client of options.clients) {
      if (client.portal !== options.portal) continue
      buckets.set(
        client.id,
        yield* PortalLimits.makeAdmission(client.limit, `b24-proxy:${options.portal}:${client.id}`)
      )
    }
    const depthMetric = queueDepth.pipe(Metric.tagged("portal", options.portal))
    const waitMetric = queueWait.pipe(Metric.tagged("portal", options.portal))

    let free = Math.max(1, options.inflight)
    let waiting = 0
    const lanes = new Map<string, Lane>()
    // The lanes with waiting calls, in turn; `cursor` is the lane whose turn it is.
    const ring: Array<Lane> = []
    let cursor = 0

    /** The next waiting call by weighted round robin, or `undefined`. */
    const next = (): Ticket | undefined => {
      while (ring.length > 0) {
        if (cursor >= ring.length) cursor = 0
        const lane = ring[cursor]!
        const ticket = lane.waiting.shift()
        if (lane.waiting.length === 0) {
          ring.splice(cursor, 1)
          lane.credit = lane.weight
        } else if (--lane.credit <= 0) {
          lane.credit = lane.weight
          cursor++
        }
        if (ticket !== undefined && ticket.state === "queued") return ticket
      }
      return undefined
    }

    /** A place is free: it goes to the next waiting call, or back to the pool. */
    const release = () => {
      const ticket = next()
      if (ticket === undefined) {
        free++
        return
      }
      waiting--
      ticket.state = "granted"
      ticket.resume(Effect.void)
    }

    /** Leaves the queue (the caller went away while waiting). */
    const leave = (lane: Lane, ticket: Ticket) => {
      ticket.state = "gone"
      waiting--
      const at = lane.waiting.indexOf(ticket)
      if (at !== -1) lane.waiting.splice(at, 1)
      if (lane.waiting.length > 0) return
      const position = ring.indexOf(lane)
      if (position !== -1) {
        ring.splice(position, 1)
        if (position < cursor) cursor--
      }
      lane.credit = lane.weight
    }

    /**
     * Takes a place: at once when one is free and nobody waits, else after waiting in the client's queue. Answers
     * when the call arrived in the queue (epoch ms), or `undefined` when it did not wait.
     */
    const acquire = (client: Clients.Client): Effect.Effect<number | undefined> =>
      Effect.suspend(() => {
        if (free > 0 && waiting === 0) {
          free--
          return Effect.succeed(undefined)
        }
        const since = Date.now()
        // Queued and given its canceler in one step, so no interruption can leave a place behind.
        const queued = Effect.async<void>((resume) => {
          let lane = lanes.get(client.id)
          if (lane === undefined) {
            lane = { weight: client.weight, waiting: [], credit: client.weight }
            lanes.set(client.id, lane)
          }
          const ticket: Ticket = { resume, state: "queued", since }
          if (lane.waiting.length === 0) ring.push(lane)
          lane.waiting.push(ticket)
          waiting++
          const entered = lane
          // Interrupted while waiting: leave the queue; interrupted once granted: pass the place on.
          return Effect.sync(() => {
            if (ticket.state === "queued") leave(entered, ticket)
            else if (ticket.state === "granted") {
              ticket.state = "gone"
              release()
            }
          })
        })
        return Effect.zipRight(Metric.set(depthMetric, waiting + 1), Effect.as(queued, since))
      })

    return {
      admit: (client) => {
        const bucket = buckets.get(client.id)
        return bucket === undefined ? Effect.succeed(true) : Effect.orElseSucceed(bucket, () => false)
      },
      run: (client, effect) =>
        Effect.uninterruptibleMask((restore) =>
          restore(acquire(client)).pipe(
            // Holding a place from here on: the place is given back whatever happens to the call.
            Effect.flatMap((since) =>
              since === undefined
                ? Effect.void
                : Effect.zipRight(Metric.update(waitMetric, Date.now() - since), Metric.set(depthMetric, waiting))
            ),
            Effect.zipRight(restore(effect).pipe(Effect.ensuring(Effect.sync(release))))
          )
        ),
      depth: () => waiting,
      active: () => Math.max(1, options.inflight) - free
    }
  })
