// Bundles b24-proxy into one ES module runnable with plain `node` (no tsx): dist/b24-proxy.mjs, and the emulator's
// command line next to it (dist/b24-emulator.mjs, the stand-in portal of the compose file). `--outdir DIR` writes
// elsewhere.
import * as Esbuild from "esbuild"
import * as Fs from "node:fs"
import * as Path from "node:path"

const here = Path.dirname(new URL(import.meta.url).pathname)
const at = process.argv.indexOf("--outdir")
const outdir = at === -1 ? Path.join(here, "..", "dist") : Path.resolve(process.argv[at + 1])

await Esbuild.build({
  entryPoints: {
    "b24-proxy": Path.join(here, "..", "src", "main.ts"),
    "b24-emulator": Path.join(here, "..", "..", "..", "packages", "emulator", "src", "bin.ts")
  },
  outdir,
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  legalComments: "none",
  logLevel: "warning",
  // CommonJS dependencies (ioredis, the OpenTelemetry exporter) need a require inside the ES module.
  banner: {
    js:
      "import { createRequire as __createRequire } from \"node:module\"; const require = __createRequire(import.meta.url);"
  }
})
// The entry points' `tsx` hashbang would not hold for the bundle: plain node runs it.
for (const name of ["b24-proxy", "b24-emulator"]) {
  const file = Path.join(outdir, `${name}.mjs`)
  const text = Fs.readFileSync(file, "utf8")
  Fs.writeFileSync(file, text.startsWith("#!") ? `#!/usr/bin/env node${text.slice(text.indexOf("\n"))}` : text)
}
console.log(`bundled into ${outdir}`)
