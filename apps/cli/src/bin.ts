/**
 * `b24`: the Bitrix24 command line; the bundle (`pnpm build`, `dist/b24.cjs`) starts here.
 *
 * The bundle carries the command tree, built at build time (`__B24_TREE__`), and answers `--help`, `--version` and
 * `b24 completions` from it (`Quick`) without loading Effect and the rest. Every other command line runs the full
 * CLI (`Main`), which the bundle carries as a string of CommonJS (`__B24_MAIN__`) compiled with a V8 code cache
 * (`Loader`). Run from the sources (`pnpm b24`, tests) there is neither: everything goes to `Main`, imported.
 *
 * @since 0.1.0
 */
import * as Fs from "node:fs"
import * as Url from "node:url"
import * as Loader from "./Loader.js"
import type * as Main from "./Main.js"
import * as Quick from "./Quick.js"
import type * as Tree from "./Tree.js"

declare const __B24_TREE__: Tree.Node | undefined
declare const __B24_MAIN__: string | undefined

const embeddedTree: Tree.Node | undefined = typeof __B24_TREE__ === "undefined" ? undefined : __B24_TREE__

let loaded: Promise<typeof Main> | undefined

/** The full CLI: compiled from the bundle's string, or imported from the sources. */
const full = (): Promise<typeof Main> => {
  loaded ??= typeof __B24_MAIN__ === "undefined"
    ? import("./Main.js")
    : Promise.resolve().then(() => Loader.load<typeof Main>(__B24_MAIN__!))
  return loaded
}

/**
 * Runs `b24` in this process (see `Main.run`): the bundle's entry point for tools and tests that drive many runs.
 *
 * @since 0.1.0
 * @category running
 */
export const run = (
  words: ReadonlyArray<string>,
  options?: { readonly env?: Readonly<Record<string, string>> | undefined; readonly stdin?: string | undefined }
): Promise<{ readonly code: number; readonly stdout: string; readonly stderr: string }> =>
  full().then((loadedMain) => loadedMain.run(words, options))

/**
 * Runs `b24` as this process, with `process.argv`: the quick answers from the tree when they suffice, else the full
 * CLI.
 *
 * @since 0.1.0
 * @category running
 */
export const main = (): void => {
  const words = process.argv.slice(2)
  const quick = embeddedTree === undefined
    ? Promise.resolve(undefined)
    : Quick.answer(embeddedTree, words, {
      out: (text) => process.stdout.write(text),
      stdoutIsTTY: process.stdout.isTTY === true,
      stderrIsTTY: process.stderr.isTTY === true,
      columns: process.stdout.isTTY === true ? process.stdout.columns : undefined,
      env: process.env
    })
  void quick.then((answered) => {
    if (answered !== undefined) process.exitCode = answered
    else return full().then((loadedMain) => loadedMain.runMain(words))
  })
}

// Run from the sources as a program (`tsx src/bin.ts`); the bundle calls `main` itself (see scripts/bundle.mjs).
const fromSources = (() => {
  try {
    return process.argv[1] !== undefined &&
      Fs.realpathSync(process.argv[1]) === Fs.realpathSync(Url.fileURLToPath(import.meta.url))
  } catch {
    return false
  }
})()

if (fromSources) main()
