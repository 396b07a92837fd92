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
 * - **A bounded queue**: at most `maxQueue` calls of the portal wait at once, each at most `maxWait`; past either
 *   bound the call is shed ({@link Shed}) and never reaches the transport. The proxy answers a shed call with the
 *   portal's `503 QUERY_LIMIT_EXCEEDED` (nothing ran, and SDKs back off on it).
 *
 * A waiting call whose caller goes away (the client disconnected: its fiber is interrupted) leaves the queue and
 * never reaches the transport. `snapshot` (the queue by client), the metrics `b24_proxy_queue_depth` (calls waiting),
 * `b24_proxy_queue_wait_ms` (time from arrival to a place) and `b24_proxy_shed_total` (by reason), tagged with the
 * portal, show the queue.
 *
 * @since 0.1.0
 */
import { PortalLimits } from "@bitrix24-effect/http"
import type * as RateLimiter from "@effect/experimental/RateLimiter"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import type * as Clients from "./Clients.js"

/**
 * Why a call was shed before it reached the transport: `queue_full` (the portal's queue held `maxQueue` calls),
 * `queue_timeout` (it waited `maxWait`), `draining` (the proxy is shutting down and the drain deadline passed).
 *
 * @since 0.1.0
 * @category errors
 */
export class Shed extends Data.TaggedError("Shed")<{
  readonly reason: "queue_full" | "queue_timeout" | "draining"
}> {}

/**
 * The queue of one portal at a moment: calls holding a place in the transport (`active`, at most `inflight`), calls
 * waiting (`depth`, at most `maxQueue`) and the waiting calls by client ID (clients with none are left out).
 *
 * @since 0.1.0
 * @category models
 */
export interface Snapshot {
  readonly inflight: number
  readonly active: number
  readonly depth: number
  readonly maxQueue: number
  /** The longest a call may wait, in milliseconds. */
  readonly maxWaitMs: number
  readonly byClient: Readonly<Record<string, number>>
}

/**
 * The lanes of one portal.
 *
 * @since 0.1.0
 * @category models
 */
export interface Lanes {
  /** Takes a token of the client's own bucket: `false` when the client is over its limit (or the store failed). */
  readonly admit: (client: Clients.Client) => Effect.Effect<boolean>
  /**
   * Runs `effect` once the client's turn comes and a place in the transport is free; fails with {@link Shed} when the
   * queue is full, the call waited too long, or {@link shedWaiting} shed it.
   */
  readonly run: <A, E, R>(client: Clients.Client, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | Shed, R>
  /** Calls waiting for a place now. */
  readonly depth: () => number
  /** Calls of one client waiting for a place now. */
  readonly queuedOf: (clientId: string) => number
  /** Calls holding a place now. */
  readonly active: () => number
  /** The queue now (for the admin API). */
  readonly snapshot: () => Snapshot
  /** Sheds every waiting call with `draining` (the drain deadline passed); later calls still run. */
  readonly shedWaiting: () => void
}

/**
 * The queue's bounds: `maxQueue` waiting calls per portal and `maxWait` for each.
 *
 * @since 0.1.0
 * @category models
 */
export interface Bounds {
  readonly maxQueue: number
  readonly maxWait: Duration.DurationInput
}

/**
 * Calls waiting for a place in the transport, by portal.
 *
 * @since 0.1.0
 * @category metrics
 */
export const queueDepth = Metric.gauge("b24_proxy_queue_depth", {
  description: "Calls of b24-proxy clients waiting in a portal's fair queue"
})

/**
 * Milliseconds from a call's arrival in the queue to its place in the transport, by portal.
 *
 * @since 0.1.0
 * @category metrics
 */
export const queueWait = Metric.histogram(
  "b24_proxy_queue_wait_ms",
  MetricBoundaries.exponential({ start: 1, factor: 2, count: 16 }),
  "Milliseconds a b24-proxy call waited in its portal's fair queue"
)

/**
 * Calls shed before they reached the transport, by portal and reason (`queue_full`, `queue_timeout`, `draining`,
 * `client_gone`: the client went away while the call waited).
 *
 * @since 0.1.0
 * @category metrics
 */
export const shed = Metric.counter("b24_proxy_shed_total", {
  description: "b24-proxy calls shed from a portal's queue before they reached the portal, by reason",
  incremental: true
})

interface Ticket {
  readonly resume: (outcome: Effect.Effect<void, Shed>) => void
  state: "queued" | "granted" | "gone"
  readonly since: number
  timer: ReturnType<typeof setTimeout> | undefined
}

interface Lane {
  readonly id: string
  readonly weight: number
  readonly waiting: Array<Ticket>
  credit: number
}

/**
 * Makes the lanes of a portal for its clients: `inflight` places in the transport, the queue's bounds, one bucket per
 * client (keyed `b24-proxy:{portal}:{client}` on the `RateLimiter`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: {
  readonly portal: string
  readonly inflight: number
  readonly bounds: Bounds
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
    const shedMetric = shed.pipe(Metric.tagged("portal", options.portal))
    const shedBy = {
      queue_full: shedMetric.pipe(Metric.tagged("reason", "queue_full")),
      queue_timeout: shedMetric.pipe(Metric.tagged("reason", "queue_timeout")),
      draining: shedMetric.pipe(Metric.tagged("reason", "draining")),
      client_gone: shedMetric.pipe(Metric.tagged("reason", "client_gone"))
    }
    const count = (reason: keyof typeof shedBy) => shedBy[reason].unsafeUpdate(1, [])
    const gauge = () => depthMetric.unsafeUpdate(waiting, [])

    const inflight = Math.max(1, options.inflight)
    const maxQueue = Math.max(0, options.bounds.maxQueue)
    const maxWaitMs = Math.max(1, Duration.toMillis(Duration.decode(options.bounds.maxWait)))
    let free = inflight
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
      gauge()
      ticket.state = "granted"
      if (ticket.timer !== undefined) clearTimeout(ticket.timer)
      ticket.resume(Effect.void)
    }

    /** Takes a ticket out of its lane's queue (shed, timed out, or its caller went away). */
    const leave = (lane: Lane, ticket: Ticket) => {
      ticket.state = "gone"
      if (ticket.timer !== undefined) clearTimeout(ticket.timer)
      waiting--
      gauge()
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
    const acquire = (client: Clients.Client): Effect.Effect<number | undefined, Shed> =>
      Effect.suspend(() => {
        if (free > 0 && waiting === 0) {
          free--
          return Effect.succeed(undefined)
        }
        if (waiting >= maxQueue) {
          count("queue_full")
          return Effect.fail(new Shed({ reason: "queue_full" }))
        }
        const since = Date.now()
        // Queued and given its canceler in one step, so no interruption can leave a place behind.
        const queued = Effect.async<void, Shed>((resume) => {
          let lane = lanes.get(client.id)
          if (lane === undefined) {
            lane = { id: client.id, weight: client.weight, waiting: [], credit: client.weight }
            lanes.set(client.id, lane)
          }
          const entered = lane
          const ticket: Ticket = { resume, state: "queued", since, timer: undefined }
          if (lane.waiting.length === 0) ring.push(lane)
          lane.waiting.push(ticket)
          waiting++
          gauge()
          ticket.timer = setTimeout(() => {
            if (ticket.state !== "queued") return
            leave(entered, ticket)
            count("queue_timeout")
            resume(Effect.fail(new Shed({ reason: "queue_timeout" })))
          }, maxWaitMs)
          // Interrupted while waiting: leave the queue; interrupted once granted: pass the place on.
          return Effect.sync(() => {
            if (ticket.state === "queued") {
              leave(entered, ticket)
              count("client_gone")
            } else if (ticket.state === "granted") {
              ticket.state = "gone"
              release()
            }
          })
        })
        return Effect.as(queued, since)
      })

    const shedWaiting = () => {
      for (const lane of [...ring]) {
        for (const ticket of [...lane.waiting]) {
          if (ticket.state !== "queued") continue
          leave(lane, ticket)
          count("draining")
          ticket.resume(Effect.fail(new Shed({ reason: "draining" })))
        }
      }
    }

    return {
      admit: (client) => {
        const bucket = buckets.get(client.id)
        return bucket === undefined ? Effect.succeed(true) : Effect.orElseSucceed(bucket, () => false)
      },
      run: <A, E, R>(client: Clients.Client, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | Shed, R> =>
        Effect.uninterruptibleMask((restore) =>
          restore(acquire(client)).pipe(
            // Holding a place from here on: the place is given back whatever happens to the call.
            Effect.flatMap((since) =>
              Effect.suspend(() => {
                if (since !== undefined) waitMetric.unsafeUpdate(Date.now() - since, [])
                return restore(effect).pipe(Effect.ensuring(Effect.sync(release)))
              })
            )
          )
        ),
      depth: () => waiting,
      queuedOf: (clientId) => lanes.get(clientId)?.waiting.length ?? 0,
      active: () => inflight - free,
      snapshot: () => {
        const byClient: Record<string, number> = {}
        for (const lane of ring) if (lane.waiting.length > 0) byClient[lane.id] = lane.waiting.length
        return { inflight, active: inflight - free, depth: waiting, maxQueue, maxWaitMs, byClient }
      },
      shedWaiting
    }
  })
