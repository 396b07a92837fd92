/**
 * The emulated portal's clock, in epoch milliseconds. Tokens expire on it, the leaky bucket drains on it and the
 * operating-time windows roll on it (wire sheet §3, §4), so a test can move time instead of sleeping.
 *
 * @since 0.1.0
 */

/**
 * How the clock runs:
 * - `system`: wall-clock time (`Date.now()`), shifted forward by whatever `advance` added;
 * - `manual`: starts at the wall-clock time of creation (or a given start) and moves only through `advance`.
 *
 * @since 0.1.0
 * @category models
 */
export type Mode = "system" | "manual"

/**
 * A running clock.
 *
 * @since 0.1.0
 * @category models
 */
export interface PortalClock {
  readonly mode: Mode
  /** The current time, epoch milliseconds. */
  readonly now: () => number
  /** Moves the clock forward by `ms` milliseconds (negative or non-finite values are ignored). */
  readonly advance: (ms: number) => void
}

/**
 * Makes a clock. `start` (epoch milliseconds) applies to the manual clock only; it defaults to `Date.now()`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (mode: Mode = "system", start?: number): PortalClock => {
  let offset = 0
  const advance = (ms: number) => {
    if (Number.isFinite(ms) && ms > 0) offset += ms
  }
  if (mode === "manual") {
    const origin = start ?? Date.now()
    return { mode, now: () => origin + offset, advance }
  }
  return { mode, now: () => Date.now() + offset, advance }
}
