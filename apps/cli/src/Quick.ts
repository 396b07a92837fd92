/**
 * What `b24` answers from its command tree alone, without loading Effect, the catalog or the transport: the help
 * pages, the version and the completion scripts. The bundle embeds the tree (built by `Spec` at build time) and
 * starts here; every other command line, usage errors included, goes to the full CLI (`Cli.main`), which answers
 * these the same way from the same modules.
 *
 * @since 0.1.0
 */
import * as Argv from "./Argv.js"
import * as Completions from "./Completions.js"
import * as Help from "./Help.js"
import type * as Tree from "./Tree.js"

/**
 * The version `b24 --version` prints.
 *
 * @since 0.1.0
 * @category constants
 */
export const version = "0.1.0"

/**
 * What answering needs of the process: standard output, whether it is a terminal and its width, and the
 * environment.
 *
 * @since 0.1.0
 * @category models
 */
export interface Surroundings {
  readonly out: (text: string) => void
  readonly stdoutIsTTY: boolean
  readonly stderrIsTTY: boolean
  readonly columns: number | undefined
  readonly env: Readonly<Record<string, string | undefined>>
}

/**
 * The help text of a command for this screen.
 *
 * @since 0.1.0
 * @category answers
 */
export const helpText = async (
  root: Tree.Node,
  path: ReadonlyArray<string>,
  node: Tree.Node,
  screen: Help.Screen
): Promise<string> => {
  const lines = Help.page(root, path, node, screen.width)
  if (!screen.colorOut) return Help.plain(lines)
  // Styling is loaded only for a terminal.
  const HelpAnsi = await import("./HelpAnsi.js")
  return HelpAnsi.render(lines)
}

/**
 * Answers the words when the tree suffices (help, version, completions); answers the exit code, or `undefined` when
 * the full CLI must run.
 *
 * @since 0.1.0
 * @category answers
 */
export const answer = async (
  root: Tree.Node,
  words: ReadonlyArray<string>,
  surroundings: Surroundings
): Promise<number | undefined> => {
  const request = Argv.read(root, words)
  switch (request._tag) {
    case "Help": {
      const screen = Help.screen({
        stdoutIsTTY: surroundings.stdoutIsTTY,
        stderrIsTTY: surroundings.stderrIsTTY,
        columns: surroundings.columns,
        noColor: surroundings.env.NO_COLOR,
        columnsSetting: surroundings.env.COLUMNS
      })
      surroundings.out(await helpText(root, request.path, request.node, screen))
      return 0
    }
    case "Version":
      surroundings.out(`${version}\n`)
      return 0
    case "Run": {
      const shell = request.path.length === 1 && request.path[0] === "completions" ? request.argv.at(-1) : undefined
      if (shell === undefined || !(Completions.shells as ReadonlyArray<string>).includes(shell)) return undefined
      surroundings.out(Completions.script(shell as Completions.Shell, root))
      return 0
    }
    case "Mistake":
      return undefined
  }
}
