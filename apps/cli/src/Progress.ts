/**
 * The progress line of a bulk run on standard error, when it is a terminal: a bar, lines done of the total (when
 * the input's length is known), the rate, the time left and the errors so far. It is redrawn in place a few times a
 * second with `@effect/printer-ansi`'s cursor and erase documents, and erased when the run ends, so that only the
 * results remain.
 *
 * @since 0.1.0
 */
import * as AnsiDoc from "@effect/printer-ansi/AnsiDoc"
import * as Doc from "@effect/printer/Doc"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Stdio from "./Stdio.js"

/**
 * What a run has done so far; `total` is unknown for standard input; `started` is epoch milliseconds.
 *
 * @since 0.1.0
 * @category models
 */
export interface Counters {
  done: number
  failed: number
  total: number | undefined
  readonly started: number
}

const count = (n: number) => n.toLocaleString("en-US")

const clock = (seconds: number) => {
  const s = Math.max(0, Math.round(seconds))
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const rest = String(s % 60).padStart(2, "0")
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`
}

/**
 * The progress line's text at `now` (epoch milliseconds), at most `width` columns.
 *
 * @since 0.1.0
 * @category rendering
 */
export const text = (counters: Counters, now: number, width: number): string => {
  const elapsed = Math.max(0.001, (now - counters.started) / 1000)
  const rate = counters.done / elapsed
  const parts = [
    counters.total === undefined ? `${count(counters.done)} lines` : `${count(counters.done)}/${count(counters.total)}`,
    `${rate < 10 ? rate.toFixed(1) : count(Math.round(rate))}/s`,
    ...(counters.total === undefined || rate === 0
      ? []
      : [`ETA ${clock((counters.total - counters.done) / rate)}`]),
    `${count(counters.failed)} error${counters.failed === 1 ? "" : "s"}`
  ].join("  ")
  if (counters.total === undefined || counters.total === 0) return parts.slice(0, width - 1)
  const barWidth = Math.max(0, Math.min(30, width - parts.length - 4))
  const filled = Math.round(barWidth * Math.min(1, counters.done / counters.total))
  return `[${"█".repeat(filled)}${"░".repeat(barWidth - filled)}] ${parts}`.slice(0, width - 1)
}

const redraw = (content: string) =>
  AnsiDoc.render(Doc.cat(Doc.cat(AnsiDoc.cursorTo(0), AnsiDoc.eraseLine), Doc.text(content)), { style: "pretty" })

/**
 * Shows the progress line while the scope is open (standard error must be a terminal: callers check), redrawn every
 * 200 ms; erased when the scope closes.
 *
 * @since 0.1.0
 * @category rendering
 */
export const show = (
  counters: Counters,
  width: number
): Effect.Effect<void, never, Stdio.Stdio | Scope.Scope> =>
  Effect.gen(function*() {
    const stdio = yield* Stdio.Stdio
    const draw = Effect.suspend(() => stdio.err(redraw(text(counters, Date.now(), width))))
    // Added first, so it runs last: after the drawing fiber has stopped.
    yield* Effect.addFinalizer(() => stdio.err(redraw("")))
    yield* Effect.forkScoped(Effect.forever(Effect.zipRight(draw, Effect.sleep("200 millis"))))
  })
