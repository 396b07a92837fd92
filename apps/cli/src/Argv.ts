/**
 * Reads `b24`'s words before @effect/cli parses them, against the command tree (`Tree`), so that every mistake is
 * reported where it was made and in plain English:
 * - a mistyped command is named with the command it belongs to and the closest names at that level ("did you
 *   mean"), not as an invalid subcommand of `b24`;
 * - an unknown option is named as an unknown option of its command, with the closest option;
 * - a bad value says what the option expects (`--chat-id expects a whole number, got "abc"`; a nested param's
 *   option expects JSON text);
 * - the root's global options (`--json`, `--profile NAME`, ...) are accepted anywhere before `--`;
 * - `--help` / `-h` anywhere asks for the help of the command reached.
 *
 * The words are then handed to @effect/cli in one normal form: global options, the command path, the leaf's
 * options as `--name value`, then `--` and the positional words. Values are never echoed for secret options, and
 * echoed values are quoted and shortened.
 *
 * The module is plain data and functions, without Effect: the bundle answers `--help` with it before loading the
 * rest of the CLI.
 *
 * @since 0.1.0
 */
import type * as Tree from "./Tree.js"

/**
 * The words could not be understood. `command` is the command they were meant for (`b24 imopenlines`);
 * `suggestions` the closest valid words, if any (see `Failure.UsageError`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Mistake {
  readonly _tag: "Mistake"
  readonly description: string
  readonly command: string
  readonly suggestions: ReadonlyArray<string>
}

/**
 * What the words ask for: run a command (with the words in @effect/cli's normal form), show a command's help, or
 * print the version.
 *
 * @since 0.1.0
 * @category models
 */
export type Request =
  | Mistake
  | {
    readonly _tag: "Run"
    readonly path: ReadonlyArray<string>
    readonly node: Tree.Node
    readonly argv: ReadonlyArray<string>
  }
  | { readonly _tag: "Help"; readonly path: ReadonlyArray<string>; readonly node: Tree.Node }
  | { readonly _tag: "Version" }

/**
 * Whether the words ask for JSON errors (`--json` before any `--`): known even when the rest cannot be read, so
 * that a usage error can be printed as the user asked.
 *
 * @since 0.1.0
 * @category reading
 */
export const wantsJson = (words: ReadonlyArray<string>): boolean => {
  for (const word of words) {
    if (word === "--") return false
    if (word === "--json") return true
  }
  return false
}

/**
 * The Levenshtein distance of two words (the edits from one to the other). @effect/cli has one (`AutoCorrect`), but
 * importing it loads the Effect runtime, which `--help` does without.
 */
const distance = (a: string, b: string): number => {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]!
}

/** The closest candidates to a word: within two edits, or starting with it; at most three. */
const closest = (word: string, candidates: ReadonlyArray<string>): ReadonlyArray<string> => {
  const scored = candidates
    .map((candidate) => ({ candidate, distance: distance(word, candidate) }))
    .filter(({ candidate, distance }) =>
      distance <= Math.min(2, Math.max(1, Math.floor(candidate.length / 3))) ||
      (word.length >= 3 && candidate.startsWith(word))
    )
    .sort((a, b) => a.distance - b.distance)
  return scored.slice(0, 3).map(({ candidate }) => candidate)
}

/**
 * A word as echoed in a message: JSON-quoted (control characters escaped), at most 40 characters, and with the code
 * of anything shaped like an inbound webhook URL (`/rest/<user>/<code>`) hidden, in case one was typed in the wrong
 * place.
 */
export const quote = (word: string): string => {
  const safe = word.replace(/(\/rest\/[^/?#\s]+\/)[^/?#\s]+/g, "$1<code>")
  return JSON.stringify(safe.length > 40 ? `${safe.slice(0, 37)}...` : safe)
}

const integerPattern = /^[+-]?\d{1,15}$/

interface Walk {
  readonly root: Tree.Node
  path: Array<string>
  node: Tree.Node
  help: boolean
  version: boolean
  readonly globals: Array<string>
  readonly leafOptions: Array<string>
  readonly positionals: Array<string>
  readonly seen: Set<string>
}

const commandName = (walk: Walk) => ["b24", ...walk.path].join(" ")

/** A step of the reading: done (nothing, or how many words it used), or a mistake. */
type Step<A> = { readonly _tag: "Ok"; readonly value: A } | Mistake

const ok = <A>(value: A): Step<A> => ({ _tag: "Ok", value })
const done: Step<void> = ok(undefined)

const fail = (walk: Walk, description: string, suggestions: ReadonlyArray<string> = []): Mistake => ({
  _tag: "Mistake",
  description,
  command: commandName(walk),
  suggestions
})

const isLeaf = (node: Tree.Node) => node.children.length === 0

const isJson = (text: string): boolean => {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

/** Checks an option's value against its kind. */
const checkValue = (walk: Walk, option: Tree.OptionSpec, value: string): Step<void> => {
  if (option.kind === "integer" && !integerPattern.test(value.trim())) {
    return fail(walk, `--${option.name} expects a whole number, got ${quote(value)}`)
  }
  if (option.kind === "choice" && !option.choices.includes(value)) {
    return fail(walk, `--${option.name} expects one of ${option.choices.join(", ")}, got ${quote(value)}`)
  }
  if (option.kind === "json" && !isJson(value)) {
    return fail(walk, `--${option.name} expects JSON (e.g. '{"id":"1"}' or '[...]'), got ${quote(value)}`)
  }
  return done
}

/** Reads one option word (and its value, from `=` or the next word); answers how many words it used. */
const readOption = (
  walk: Walk,
  word: string,
  next: string | undefined
): Step<number> => {
  const eq = word.indexOf("=")
  const name = eq === -1 ? word.slice(2) : word.slice(2, eq)
  const inline = eq === -1 ? undefined : word.slice(eq + 1)
  if (name === "help") {
    walk.help = true
    return ok(1)
  }
  const leafOption = isLeaf(walk.node) ? walk.node.options.find((option) => option.name === name) : undefined
  const globalOption = leafOption === undefined ? walk.root.options.find((option) => option.name === name) : undefined
  const option = leafOption ?? globalOption
  if (option === undefined) {
    if (name === "version" && walk.path.length === 0) {
      walk.version = true
      return ok(1)
    }
    if (walk.help) return ok(1)
    const known = [...(isLeaf(walk.node) ? walk.node.options : []), ...walk.root.options].map((o) => `--${o.name}`)
    return fail(
      walk,
      `unknown option ${quote(`--${name}`)} for "${commandName(walk)}"`,
      closest(`--${name}`, known)
    )
  }
  const target = leafOption === undefined ? walk.globals : walk.leafOptions
  const key = `${leafOption === undefined ? "" : walk.path.join(" ")}--${name}`
  if (walk.seen.has(key) && !walk.help) return fail(walk, `--${name} is given more than once`)
  walk.seen.add(key)
  if (option.kind === "flag") {
    if (inline !== undefined) {
      return fail(walk, `--${name} is a flag and takes no value${option.secret ? "" : ` (got ${quote(inline)})`}`)
    }
    target.push(`--${name}`)
    return ok(1)
  }
  const value = inline ?? next
  const isOptionWord = (w: string) => w.startsWith("--") && w.length > 2
  if (value === undefined || (inline === undefined && isOptionWord(value))) {
    if (walk.help) return ok(1)
    return fail(walk, `--${name} needs a value (${option.placeholder})`)
  }
  if (!walk.help) {
    const checked = checkValue(walk, option, value)
    if (checked._tag === "Mistake") return checked
  }
  target.push(`--${name}`, option.kind === "integer" ? value.trim() : value)
  return ok(inline === undefined ? 2 : 1)
}

/** Reads one non-option word: a subcommand at a group, a positional argument at a leaf. */
const readWord = (walk: Walk, word: string): Step<void> => {
  if (!isLeaf(walk.node)) {
    const child = walk.node.children.find((candidate) => candidate.name === word)
    if (child === undefined) {
      return fail(
        walk,
        `unknown command ${quote(word)} for "${commandName(walk)}"`,
        closest(word, walk.node.children.map((candidate) => candidate.name))
      )
    }
    walk.path.push(word)
    walk.node = child
    return done
  }
  walk.positionals.push(word)
  return done
}

/** Checks a leaf's positional words and required options once every word is read. */
const checkLeaf = (walk: Walk): Step<void> => {
  const args = walk.node.args
  const repeated = args.some((arg) => arg.repeated)
  if (!repeated && walk.positionals.length > args.length) {
    return fail(walk, `unexpected argument ${quote(walk.positionals[args.length]!)} for "${commandName(walk)}"`)
  }
  for (const [index, arg] of args.entries()) {
    const value = walk.positionals[index]
    if (value === undefined) {
      if (arg.optional) continue
      return fail(walk, `"${commandName(walk)}" needs ${arg.name} (${arg.description})`)
    }
    if (!arg.repeated && arg.choices.length > 0 && !arg.choices.includes(value)) {
      return fail(
        walk,
        `${arg.name} must be one of ${arg.choices.join(", ")}, got ${quote(value)}`,
        closest(value, arg.choices)
      )
    }
  }
  const fromInput = walk.node.bulk && walk.leafOptions.includes("--input")
  if (!fromInput) {
    for (const option of walk.node.options) {
      if (option.required && !walk.leafOptions.includes(`--${option.name}`)) {
        return fail(walk, `"${commandName(walk)}" needs --${option.name} (${option.description})`)
      }
    }
  }
  return done
}

/**
 * Reads the words after the program name (`process.argv.slice(2)`) against the command tree.
 *
 * @since 0.1.0
 * @category reading
 */
export const read = (root: Tree.Node, words: ReadonlyArray<string>): Request => {
  const beforeDashes = words.indexOf("--") === -1 ? words : words.slice(0, words.indexOf("--"))
  const walk: Walk = {
    root,
    path: [],
    node: root,
    // Asked for anywhere, help forgives the mistakes in the options around it.
    help: beforeDashes.includes("--help") || beforeDashes.includes("-h"),
    version: false,
    globals: [],
    leafOptions: [],
    positionals: [],
    seen: new Set()
  }
  let index = 0
  while (index < words.length) {
    const word = words[index]!
    if (word === "--") {
      for (const rest of words.slice(index + 1)) {
        const read = readWord(walk, rest)
        if (read._tag === "Mistake") return read
      }
      break
    }
    if (word === "-h") {
      walk.help = true
      index++
      continue
    }
    if (word.startsWith("--") && word.length > 2) {
      const used = readOption(walk, word, words[index + 1])
      if (used._tag === "Mistake") return used
      index += used.value
      continue
    }
    if (word.startsWith("-") && word.length > 1 && !(isLeaf(walk.node) && integerPattern.test(word))) {
      if (walk.help) {
        index++
        continue
      }
      return fail(walk, `unknown option ${quote(word)} for "${commandName(walk)}" (options start with --)`)
    }
    const read = readWord(walk, word)
    if (read._tag === "Mistake") return read
    index++
  }
  if (walk.help) return { _tag: "Help", path: walk.path, node: walk.node }
  if (walk.version) return { _tag: "Version" }
  if (walk.path.length === 0) return { _tag: "Help", path: [], node: root }
  if (!isLeaf(walk.node)) {
    return fail(
      walk,
      `"${commandName(walk)}" needs a command: ${walk.node.children.map((child) => child.name).join(", ")}`
    )
  }
  const checked = checkLeaf(walk)
  if (checked._tag === "Mistake") return checked
  return {
    _tag: "Run",
    path: walk.path,
    node: walk.node,
    argv: [
      "b24",
      ...walk.globals,
      ...walk.path,
      ...walk.leafOptions,
      ...(walk.positionals.length === 0 ? [] : ["--", ...walk.positionals])
    ]
  }
}
