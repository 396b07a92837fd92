/**
 * `b24 ... --help`: one page per command, wrapped to the terminal's width (plain data in, lines out: no Effect, so
 * the bundle answers `--help` before loading the rest of the CLI; `HelpAnsi` styles the lines for a terminal).
 *
 * Replaces @effect/cli's help pages, which repeat the parent names of nested subcommands
 * (`imopenlines imopenlines session ...`), drop the program name from the usage line, always emit ANSI escapes and
 * add boilerplate to every option ("A true or false value."). Here a page has the full `b24 ...` usage line, the
 * command's own description, its options and arguments, the global options, every command below it with its path
 * relative to the page, and examples. Headings are bold only when the output is a terminal and `NO_COLOR` is unset or
 * empty. Lines are wrapped greedily here: the layout algorithms of `@effect/printer` took seconds (and more, growing
 * with the page) for a page of wrapped paragraphs.
 *
 * @since 0.1.0
 */
import * as Tree from "./Tree.js"

/**
 * How output is laid out: its `width` in columns and whether ANSI styling may be used on each stream.
 *
 * @since 0.1.0
 * @category models
 */
export interface Screen {
  readonly width: number
  readonly colorOut: boolean
  readonly colorErr: boolean
}

/**
 * The layout for these streams and settings: ANSI styling only on a TTY and when `NO_COLOR` is unset or empty
 * (https://no-color.org); the width is the terminal's, else `COLUMNS`, else 80, kept between 40 and 120.
 *
 * @since 0.1.0
 * @category layout
 */
export const screen = (facts: {
  readonly stdoutIsTTY: boolean
  readonly stderrIsTTY: boolean
  readonly columns: number | undefined
  readonly noColor: string | undefined
  readonly columnsSetting: string | undefined
}): Screen => {
  const plainOnly = facts.noColor !== undefined && facts.noColor.length > 0
  const setting = Number(facts.columnsSetting)
  const width = facts.columns ?? (Number.isInteger(setting) && setting > 0 ? setting : 80)
  return {
    width: Math.max(40, Math.min(120, width)),
    colorOut: facts.stdoutIsTTY && !plainOnly,
    colorErr: facts.stderrIsTTY && !plainOnly
  }
}

/**
 * A line of a page; headings are bold on a terminal.
 *
 * @since 0.1.0
 * @category models
 */
export interface Line {
  readonly text: string
  readonly heading: boolean
}

/**
 * Words laid out greedily into lines of at most `width` columns, the first starting at `first` columns of
 * indentation and the others at `rest`; a word longer than a line stays whole.
 */
const wrap = (value: string, width: number, first: string, rest: string): Array<string> => {
  const lines: Array<string> = []
  let current = first
  let empty = true
  for (const word of value.split(/\s+/).filter((w) => w.length > 0)) {
    const candidate = empty ? `${current}${word}` : `${current} ${word}`
    if (!empty && candidate.length > width) {
      lines.push(current)
      current = `${rest}${word}`
    } else {
      current = candidate
    }
    empty = false
  }
  lines.push(current)
  return lines
}

const text = (value: string): Line => ({ text: value, heading: false })

const paragraph = (value: string, width: number): Array<Line> => wrap(value, width, "", "").map(text)

const optionLabel = (option: Tree.OptionSpec): string =>
  option.kind === "flag" ? `--${option.name}` : `--${option.name} ${option.placeholder}`

const argLabel = (arg: Tree.ArgSpec): string =>
  arg.repeated ? `[${arg.name}...]` : arg.optional ? `[${arg.name}]` : arg.name

/** Rows of a two-column table: labels padded to a common column, texts wrapped under their own column. */
const table = (rows: ReadonlyArray<readonly [string, string]>, width: number): Array<Line> => {
  const column = Math.min(Math.max(...rows.map(([label]) => label.length)) + 4, Math.floor(width * 0.45))
  return rows.flatMap(([label, description]) => {
    const head = `  ${label}`
    const indent = " ".repeat(column)
    return head.length + 2 > column
      ? [text(head), ...wrap(description, width, indent, indent).map(text)]
      : wrap(description, width, head.padEnd(column), indent).map(text)
  })
}

const section = (title: string, body: Array<Line>): Array<Line> => [{ text: title, heading: true }, ...body]

const usage = (path: ReadonlyArray<string>, node: Tree.Node): string => {
  const words = ["b24", ...path]
  if (node.children.length > 0) return [...words, "<command>", "[options]"].join(" ")
  const required = node.options.filter((option) => option.required).map(optionLabel)
  const optional = node.options.some((option) => !option.required)
  return [...words, ...required, ...node.args.map(argLabel), ...(optional ? ["[options]"] : [])].join(" ")
}

/**
 * The lines of the help page of the command at `path` (`[]` for `b24` itself), wrapped at `width` columns.
 *
 * @since 0.1.0
 * @category rendering
 */
export const page = (
  root: Tree.Node,
  path: ReadonlyArray<string>,
  node: Tree.Node,
  width: number
): ReadonlyArray<Line> => {
  const title = path.length === 0 ? "b24" : `b24 ${path.join(" ")}`
  const parts: Array<Array<Line>> = [
    paragraph(`${title}: ${node.summary}`, width),
    section("Usage", wrap(usage(path, node), width, "  ", "      ").map(text))
  ]
  if (node.details.length > 0) parts.push(...node.details.map((text) => paragraph(text, width)))
  if (node.args.length > 0) {
    parts.push(section("Arguments", table(node.args.map((arg) => [arg.name, arg.description]), width)))
  }
  if (node.children.length === 0 && node.options.length > 0) {
    parts.push(section(
      "Options",
      table(
        node.options.map((option) => [
          optionLabel(option),
          option.required ? `${option.description} (required)` : option.description
        ]),
        width
      )
    ))
  }
  if (node.children.length > 0) {
    const commands = Tree.leaves(node).map(({ node: leaf, path: relative }): readonly [string, string] => [
      [...relative, ...leaf.args.map(argLabel)].join(" "),
      leaf.summary
    ])
    parts.push(section("Commands", table(commands, width)))
  }
  if (root.options.length > 0) {
    parts.push(section(
      path.length === 0 ? "Options" : "Global options (anywhere before --)",
      table(
        [
          ...root.options.map((option): readonly [string, string] => [optionLabel(option), option.description]),
          ["--help, -h", "Show this help"],
          ...(path.length === 0 ? [["--version", "Print the version"] as const] : [])
        ],
        width
      )
    ))
  }
  if (node.examples.length > 0) {
    parts.push(section("Examples", node.examples.map((example) => text(`  ${example}`))))
  }
  if (node.children.length > 0) {
    parts.push(paragraph(`Run "${title} <command> --help" for the options of a command.`, width))
  }
  return parts.flatMap((part, index) => index === 0 ? part : [text(""), ...part])
}

/**
 * The lines of a page as plain text, without trailing blanks.
 *
 * @since 0.1.0
 * @category rendering
 */
export const plain = (lines: ReadonlyArray<Line>): string => lines.map((line) => `${line.text.trimEnd()}\n`).join("")
