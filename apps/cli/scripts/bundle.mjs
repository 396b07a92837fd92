/**
 * `pnpm build` for `b24`: bundles src/bin.ts with everything it imports (the workspace packages, Effect, csv-parse)
 * into one ES module, dist/b24.mjs, that runs with plain `node` (Node 20) and needs no node_modules.
 *
 * Start-up is kept short in two ways: the command tree (src/Cli.ts `tree.node`, plain data) is computed here and
 * embedded as `__B24_TREE__`, so that `--help`, `--version` and `completions` are answered without evaluating
 * Effect and the catalog; and the modules only some commands use (the full CLI for those answers, the emulator, the
 * login listener) are imported on demand, which esbuild keeps in the file but evaluates only when used.
 *
 * Usage: node scripts/bundle.mjs [OUTFILE]   (default dist/b24.mjs)
 */
import * as Esbuild from "esbuild"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Url from "node:url"

const here = Path.dirname(Url.fileURLToPath(import.meta.url))
const src = Path.join(here, "..", "src")
const outfile = Path.resolve(process.argv[2] ?? Path.join(here, "..", "dist", "b24.mjs"))

const common = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  logLevel: "error",
  legalComments: "none",
  // The CommonJS parts of dependencies need a require inside an ES module.
  banner: {
    js: "import { createRequire as __b24Require } from \"node:module\";\n" +
      "const require = __b24Require(import.meta.url);"
  }
}

// The command tree, as the CLI builds it from the catalog.
const scratch = Fs.mkdtempSync(Path.join(Os.tmpdir(), "b24-bundle-"))
let tree
try {
  const treeModule = Path.join(scratch, "cli.mjs")
  await Esbuild.build({ ...common, entryPoints: [Path.join(src, "Cli.ts")], outfile: treeModule })
  tree = (await import(Url.pathToFileURL(treeModule).href)).tree.node
} finally {
  Fs.rmSync(scratch, { recursive: true, force: true })
}

await Esbuild.build({
  ...common,
  entryPoints: [Path.join(src, "bin.ts")],
  outfile,
  minify: true,
  define: { __B24_TREE__: JSON.stringify(tree) },
  banner: { js: `#!/usr/bin/env node\n${common.banner.js}` }
})
Fs.chmodSync(outfile, 0o755)
