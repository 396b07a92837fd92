/**
 * The commands of `b24` as plain data: each command's name, summary, options and positional arguments, and its
 * subcommands. The help pages (`Help`), the argument checks (`Argv`) and the shell completions (`Completions`) read
 * only this, so that they run without loading the rest of the CLI: the bundle embeds the tree, built by `Spec` from
 * the same definitions as the @effect/cli commands, and answers `--help`, `--version` and `completions` from it.
 *
 * @since 0.1.0
 */

/**
 * One option, as people and shells see it. `name` is the long name without dashes; `kind` says what follows it
 * (nothing for a flag; `json` is JSON text, for a nested param); `placeholder` names the value in help (`URL`, `FILE`,
 * `JSON`); `required` options must be given unless the command reads its params from `--input`; a `secret` value is
 * never echoed back.
 *
 * @since 0.1.0
 * @category models
 */
export interface OptionSpec {
  readonly name: string
  readonly kind: "flag" | "text" | "integer" | "choice" | "file" | "json"
  readonly placeholder: string
  readonly choices: ReadonlyArray<string>
  readonly description: string
  readonly required: boolean
  readonly secret: boolean
}

/**
 * One positional argument: `repeated` takes every remaining word, `optional` may be left out; `choices` lists the
 * accepted words (for completions and checks), empty when any word goes.
 *
 * @since 0.1.0
 * @category models
 */
export interface ArgSpec {
  readonly name: string
  readonly description: string
  readonly repeated: boolean
  readonly optional: boolean
  readonly choices: ReadonlyArray<string>
}

/**
 * A command: a group (with `children`) or a leaf (with a handler). `bulk` leaves also take `--input`, which may
 * supply their required options line by line.
 *
 * @since 0.1.0
 * @category models
 */
export interface Node {
  readonly name: string
  readonly summary: string
  readonly details: ReadonlyArray<string>
  readonly options: ReadonlyArray<OptionSpec>
  readonly args: ReadonlyArray<ArgSpec>
  readonly children: ReadonlyArray<Node>
  readonly examples: ReadonlyArray<string>
  readonly bulk: boolean
}

/**
 * The leaves under a node with their paths relative to it, depth first in definition order.
 *
 * @since 0.1.0
 * @category traversal
 */
export const leaves = (
  node: Node,
  prefix: ReadonlyArray<string> = []
): ReadonlyArray<{ readonly path: ReadonlyArray<string>; readonly node: Node }> =>
  node.children.flatMap((child) =>
    child.children.length === 0
      ? [{ path: [...prefix, child.name], node: child }]
      : leaves(child, [...prefix, child.name])
  )

/**
 * Every node under (and including) `node`, with its path from it.
 *
 * @since 0.1.0
 * @category traversal
 */
export const walk = (
  node: Node,
  prefix: ReadonlyArray<string> = []
): ReadonlyArray<{ readonly path: ReadonlyArray<string>; readonly node: Node }> => [
  { path: prefix, node },
  ...node.children.flatMap((child) => walk(child, [...prefix, child.name]))
]
