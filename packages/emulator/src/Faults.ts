/**
 * Faults on demand: the failures a real portal and the network in front of it produce, switched on for the next N
 * calls or for a share of calls, for one method or all of them. A client's retry, timeout and redirect handling can
 * then be tested over real HTTP. Shares are drawn from a seeded generator, so a test sees the same sequence on every
 * run.
 *
 * @since 0.1.0
 */
import { Wire } from "@bitrix24-effect/core"
import * as Schema from "effect/Schema"

/**
 * What goes wrong:
 * - `latency`: the answer is delayed by `ms` milliseconds of real time (default 1000), then the call proceeds (it
 *   combines with any other fault);
 * - `internal-error`: `500 {"error":"INTERNAL_SERVER_ERROR","error_description":"Internal server error"}`, the
 *   method not run (wire sheet §5);
 * - `html-502`: a gateway's HTML `502 Bad Gateway` page, the method not run;
 * - `drop-before`: the connection is dropped before the method runs (no answer, no state change);
 * - `drop-after`: the method runs (state changed, journaled as executed) and the connection is dropped without an
 *   answer;
 * - `truncated-json`: the method runs and its JSON answer is cut off halfway (status and headers intact);
 * - `redirect`: `302` with `Location: {location}{path}{query}`, as a portal whose address changed answers (wire
 *   sheet §1.1); `location` defaults to the emulator's own base URL. The method is not run.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Kind = Schema.Literal(
  "latency",
  "internal-error",
  "html-502",
  "drop-before",
  "drop-after",
  "truncated-json",
  "redirect"
)

/**
 * One fault switch. `method` (case-insensitive, default: every REST method; `batch` targets batch requests; the
 * OAuth token endpoint is targeted only by `oauth/token`) selects the calls; `times` fires it for the next N matching
 * calls, `share` (0..1) for that share of them; with neither it fires on every matching call until replaced.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Fault = Schema.Struct({
  kind: Kind,
  method: Schema.optional(Schema.String),
  times: Schema.optional(Schema.Number.pipe(Schema.int(), Schema.nonNegative())),
  share: Schema.optional(Schema.Number.pipe(Schema.between(0, 1))),
  ms: Schema.optional(Schema.Number.pipe(Schema.nonNegative())),
  location: Schema.optional(Schema.String)
})

/**
 * @since 0.1.0
 * @category models
 */
export type Fault = typeof Fault.Type

/**
 * @since 0.1.0
 * @category models
 */
export type Kind = typeof Kind.Type

/**
 * The method name under which the OAuth token endpoint can be targeted.
 *
 * @since 0.1.0
 * @category constants
 */
export const tokenEndpoint = "oauth/token"

/**
 * What happens to one request: the real-time delay before it is handled (ms) and the fault, if any, that then
 * applies.
 *
 * @since 0.1.0
 * @category models
 */
export interface Decision {
  readonly latencyMs: number
  readonly fault: Fault | undefined
}

/**
 * A fault switch with its remaining count, as state reads show it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Armed {
  readonly fault: Fault
  /** `undefined` when the fault has no `times`. */
  readonly remaining: number | undefined
}

/**
 * The fault switches of one emulator.
 *
 * @since 0.1.0
 * @category models
 */
export interface Injector {
  /** Replaces the switches and restarts the seeded generator (so a test's shares repeat exactly). */
  readonly set: (faults: ReadonlyArray<Fault>) => void
  /** The switches, with their remaining counts. */
  readonly list: () => ReadonlyArray<Armed>
  /** Whether any switch is set (even one whose count ran out). */
  readonly armed: () => boolean
  /** Decides what happens to a request for `method` (lowercased); `undefined` when nothing does. */
  readonly decide: (method: string) => Decision | undefined
}

/**
 * A small deterministic generator (mulberry32) of floats in [0, 1).
 *
 * @since 0.1.0
 * @category constructors
 */
export const seeded = (seed: number): () => number => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6D2B79F5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

interface Slot {
  readonly fault: Fault
  readonly method: string | undefined
  remaining: number | undefined
}

/**
 * Makes the switches, initially `faults`, drawing shares from a generator seeded with `seed` (default 1).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (faults: ReadonlyArray<Fault> = [], seed = 1): Injector => {
  let slots: Array<Slot> = []
  let random = seeded(seed)
  const set = (next: ReadonlyArray<Fault>) => {
    slots = next.map((fault) => ({
      fault,
      method: fault.method === undefined ? undefined : Wire.normalizeMethod(fault.method).method,
      remaining: fault.times
    }))
    random = seeded(seed)
  }
  set(faults)
  const fires = (slot: Slot): boolean => {
    if (slot.remaining !== undefined) {
      if (slot.remaining <= 0) return false
      slot.remaining -= 1
      return true
    }
    if (slot.fault.share !== undefined) return random() < slot.fault.share
    return true
  }
  return {
    set,
    list: () => slots.map((slot) => ({ fault: slot.fault, remaining: slot.remaining })),
    armed: () => slots.length > 0,
    decide: (method) => {
      if (slots.length === 0) return undefined
      let latencyMs = 0
      let chosen: Fault | undefined
      for (const slot of slots) {
        const matches = slot.method === undefined ? method !== tokenEndpoint : slot.method === method
        if (!matches) continue
        if (slot.fault.kind === "latency") {
          if (fires(slot)) latencyMs += slot.fault.ms ?? 1000
        } else if (chosen === undefined && fires(slot)) {
          chosen = slot.fault
        }
      }
      return latencyMs === 0 && chosen === undefined ? undefined : { latencyMs, fault: chosen }
    }
  }
}
