/**
 * How the portal turns a handler's return into the parts of its envelope (wire sheet §1.4): `next` and `total`
 * hoisted to the top level for list methods, PHP's array rules for JSON, the `time` block and the timing headers.
 * The envelopes themselves, the headers and the JSON and XML transports are core's `Envelope`.
 *
 * Handlers of list-like methods return their page with {@link paged}:
 *
 * ```ts
 * return succeed(Envelope.paged(items, { next: 50, total: 123 }))   // {"result":[...],"next":50,"total":123,"time":{...}}
 * ```
 *
 * A plain object result with its own `next` or `total` key is hoisted the same way, as the portal's
 * `processResponse` does for any array with those keys.
 *
 * @since 0.1.0
 */
import { Php } from "@bitrix24-effect/core"

/**
 * A page of a list result with its navigation: `next` (the offset of the next page; leave it out on the last page)
 * and `total` (the item count), both hoisted to the envelope's top level, or into `result_next` / `result_total`
 * inside a `batch` (wire sheet §1.4, §2).
 *
 * @since 0.1.0
 * @category models
 */
export class Paged {
  constructor(
    readonly result: unknown,
    readonly next: number | undefined,
    readonly total: number | undefined
  ) {}
}

/**
 * Wraps a list result with its navigation (see {@link Paged}).
 *
 * @since 0.1.0
 * @category constructors
 */
export const paged = (
  result: unknown,
  nav: { readonly next?: number | undefined; readonly total?: number | undefined }
): Paged => new Paged(result, nav.next, nav.total)

/**
 * A handler's return split into the envelope's `result`, `next` and `total`.
 *
 * @internal
 */
export interface Hoisted {
  readonly result: unknown
  readonly next: number | undefined
  readonly total: number | undefined
}

/**
 * Moves `next` and `total` out of a handler's return (wire sheet §1.4, `processResponse`): from a {@link Paged}, or
 * from a plain object's own keys, cast with `intval`; what remains of such an object follows PHP's array rules.
 *
 * @internal
 */
export const hoist = (value: unknown): Hoisted => {
  if (value instanceof Paged) return { result: value.result, next: value.next, total: value.total }
  if (
    value !== null && typeof value === "object" && !Array.isArray(value) &&
    (Object.hasOwn(value, "next") || Object.hasOwn(value, "total"))
  ) {
    const { next, total, ...rest } = value as Record<string, unknown>
    return {
      result: phpArray(rest),
      next: Object.hasOwn(value, "next") ? Php.intval(next) : undefined,
      total: Object.hasOwn(value, "total") ? Php.intval(total) : undefined
    }
  }
  return { result: value, next: undefined, total: undefined }
}

/**
 * A PHP associative array as `json_encode` writes it: core's `Php.jsonArray` (wire sheet §1.4).
 *
 * @since 0.1.0
 * @category envelopes
 */
export const phpArray: (entries: Readonly<Record<string, unknown>>) => unknown = Php.jsonArray

let cachedSecond = -1
let cachedIso = ""

/** `date('c')` of a time in ms, with the server's offset (UTC here); cached per second. */
const isoSeconds = (ms: number): string => {
  const second = Math.floor(ms / 1000)
  if (second !== cachedSecond) {
    cachedSecond = second
    cachedIso = new Date(second * 1000).toISOString().replace(/\.\d{3}Z$/, "+00:00")
  }
  return cachedIso
}

/**
 * The `time` block of a success envelope (wire sheet §1.4): integer `start` and `processing` as rest 25.700+ sends
 * them, float `finish` and `duration` (seconds), ISO-8601 dates, and, when the operating limiter is active, the
 * `operating_reset_at` (Unix seconds) and `operating` (float seconds) of §3.2.
 *
 * @internal
 */
export const timeBlock = (
  startMs: number,
  finishMs: number,
  operating: { readonly operating: number; readonly operating_reset_at: number } | undefined
): Record<string, number | string> => {
  const block: Record<string, number | string> = {
    start: Math.floor(startMs / 1000),
    finish: finishMs / 1000,
    duration: (finishMs - startMs) / 1000,
    processing: Math.floor((finishMs - startMs) / 1000),
    date_start: isoSeconds(startMs),
    date_finish: isoSeconds(finishMs)
  }
  if (operating !== undefined) {
    block.operating_reset_at = operating.operating_reset_at
    block.operating = operating.operating
  }
  return block
}

/**
 * Formats seconds as the cloud's `X-Bitrix-Rest-*` timing headers print them: 10 decimals.
 *
 * @internal
 */
export const headerSeconds = (seconds: number): string => seconds.toFixed(10)
