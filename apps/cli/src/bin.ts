/**
 * `b24`: the Bitrix24 command line; the bundle (`pnpm build`, `dist/b24.mjs`) starts here.
 *
 * The bundle carries the command tree, built at build time (`__B24_TREE__`), so that `--help`, `--version` and
 * `b24 completions` are answered from it (`Quick`) without loading Effect and the rest; every other command line
 * loads the full CLI (`Main`). Run from source (`pnpm b24`, tests) there is no embedded tree and everything goes to
 * the full CLI. Imported rather than run, the module only exports {@link run}.
 *
 * @since 0.1.0
 */
import * as Fs from "node:fs"
import * as Url from "node:url"
import * as Quick from "./Quick.js"
import type * as Tree from "./Tree.js"

declare const __B24_TREE__: Tree.Node | undefined

const embedded: Tree.Node | undefined = typeof __B24_TREE__ === "undefined" ? undefined : __B24_TREE__

/**
 * Runs `b24` in this process (see `Main.run`): the bundle's entry point for tools and tests that drive many runs.
 *
 * @since 0.1.0
 * @category running
 */
export const run = async (
  words: ReadonlyArray<string>,
  options?: { readonly env?: Readonly<Record<string, string>> | undefined; readonly stdin?: string | undefined }
): Promise<{ readonly code: number; readonly stdout: string; readonly stderr: string }> => {
  const Main = await import("./Main.js")
  return Main.run(words, options)
}

const isMain = (() => {
  try {
    return process.argv[1] !== undefined &&
      Fs.realpathSync(process.argv[1]) === Fs.realpathSync(Url.fileURLToPath(import.meta.url))
  } catch {
    return false
  }
})()

if (isMain) {
  const words = process.argv.slice(2)
  const answered = embedded === undefined ? undefined : await Quick.answer(embedded, words, {
    out: (text) => process.stdout.write(text),
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    columns: process.stdout.isTTY === true ? process.stdout.columns : undefined,
    env: process.env
  })
  if (answered === undefined) {
    const Main = await import("./Main.js")
    Main.runMain(words)
  } else {
    process.exitCode = answered
  }
}
