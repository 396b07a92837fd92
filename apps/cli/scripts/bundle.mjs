/**
 * `pnpm build` for `b24`: bundles the CLI into one CommonJS file, dist/b24.cjs, that runs with plain `node` (Node 20)
 * and needs no node_modules (every dependency, the workspace packages, Effect and csv-parse, is inside).
 *
 * Start-up is kept short (see src/bin.ts): the command tree (src/Cli.ts `tree.node`, plain data) is computed here
 * and embedded as `__B24_TREE__`, so that `--help`, `--version` and `completions` are answered without evaluating
 * Effect and the catalog; the full CLI (src/Main.ts) is bundled separately and embedded as a string,
 * `__B24_MAIN__`, which V8 only reads as a string until a command needs it, and then compiles with a code cache
 * (src/Loader.ts). CommonJS rather than ES modules so that Node's built-in modules are loaded when first used.
 *
 * Usage: node scripts/bundle.mjs [OUTFILE]   (default dist/b24.cjs)
 */
import * as Esbuild from "esbuild"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Url from "node:url"

const here = Path.dirname(Url.fileURLToPath(import.meta.url))
const src = Path.join(here, "..", "src")
const outfile = Path.resolve(process.argv[2] ?? Path.join(here, "..", "dist", "b24.cjs"))

const common = {
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  logLevel: "error",
  legalComments: "none"
}

// The command tree, as the CLI builds it from the catalog.
const scratch = Fs.mkdtempSync(Path.join(Os.tmpdir(), "b24-bundle-"))
let tree
try {
  const treeModule = Path.join(scratch, "cli.cjs")
  await Esbuild.build({ ...common, entryPoints: [Path.join(src, "Cli.ts")], outfile: treeModule })
  tree = (await import(Url.pathToFileURL(treeModule).href)).default.tree.node
} finally {
  Fs.rmSync(scratch, { recursive: true, force: true })
}

// The full CLI, as CommonJS text.
const main = await Esbuild.build({ ...common, entryPoints: [Path.join(src, "Main.ts")], minify: true, write: false })
const mainCode = main.outputFiles[0].text

// The entry: the quick answers, the loader, and the two embedded above. Its own import of the sources' Main (used
// when there is no embedded one) stays out of the bundle.
await Esbuild.build({
  ...common,
  entryPoints: [Path.join(src, "bin.ts")],
  outfile,
  minify: true,
  define: { __B24_TREE__: JSON.stringify(tree), __B24_MAIN__: JSON.stringify(mainCode) },
  plugins: [{
    name: "sources-main-external",
    setup: (build) => build.onResolve({ filter: /^\.\/Main\.js$/ }, (args) => ({ path: args.path, external: true }))
  }],
  banner: { js: "#!/usr/bin/env node" },
  footer: { js: "if (require.main === module) module.exports.main();" }
})
Fs.chmodSync(outfile, 0o755)
