/**
 * Help pages on a terminal: the lines of `Help` with bold headings, styled with `@effect/printer-ansi`.
 *
 * @since 0.1.0
 */
import * as Ansi from "@effect/printer-ansi/Ansi"
import * as AnsiDoc from "@effect/printer-ansi/AnsiDoc"
import * as Doc from "@effect/printer/Doc"
import type * as Help from "./Help.js"

/**
 * The lines with their headings in bold, as ANSI text (lines are already wrapped).
 *
 * @since 0.1.0
 * @category rendering
 */
export const render = (lines: ReadonlyArray<Help.Line>): string => {
  const doc = Doc.concatWith(
    lines.map((line) => line.heading ? Doc.annotate(Doc.text(line.text), Ansi.bold) : Doc.text(line.text.trimEnd())),
    (above, below) => Doc.cat(Doc.cat(above, Doc.hardLine), below)
  )
  return `${AnsiDoc.render(doc, { style: "pretty", options: { lineWidth: 1000, ribbonFraction: 1 } })}\n`
}
