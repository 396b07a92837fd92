/**
 * Bundles the client programs with esbuild, as an application ships them: one ESM file each for Node 20, no
 * TypeScript loader and no source maps at run time. The same settings build the current tree's clients and a
 * baseline commit's (`Baseline.ts`), so both are measured alike.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Esbuild from "esbuild"
import * as Path from "node:path"
import type { Client } from "./Scenario.js"

/**
 * The client programs, by source file name in `bench/src`.
 *
 * @since 0.1.0
 * @category models
 */
export type Entry = "ClientOurs" | "ClientOfficial" | "ClientRaw" | "ClientFloor" | "ClientProxy"

/**
 * The program that runs a client.
 *
 * @since 0.1.0
 * @category utils
 */
export const entryOf = (client: Client): Entry =>
  client.startsWith("ours")
    ? "ClientOurs"
    : client.startsWith("raw")
    ? "ClientRaw"
    : client === "effect-floor"
    ? "ClientFloor"
    : client === "proxy-replicas"
    ? "ClientProxy"
    : "ClientOfficial"

/**
 * The directory of bundled clients: entry name to the path of its `.mjs` file.
 *
 * @since 0.1.0
 * @category models
 */
export type Bundles = Readonly<Partial<Record<Entry, string>>>

/**
 * Bundles `entries` from `sourceDir` (a `bench/src` directory, of this tree or of a baseline's) into `outDir`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const build = (
  sourceDir: string,
  outDir: string,
  entries: ReadonlyArray<Entry>
): Effect.Effect<Bundles, Error> =>
  Effect.tryPromise({
    try: () =>
      Esbuild.build({
        entryPoints: entries.map((name) => Path.join(sourceDir, `${name}.ts`)),
        outdir: outDir,
        outExtension: { ".js": ".mjs" },
        bundle: true,
        platform: "node",
        format: "esm",
        target: "node20",
        logLevel: "error",
        // CommonJS dependencies inside an ES module bundle need a require.
        banner: {
          js:
            "import { createRequire as __createRequire } from \"node:module\"; const require = __createRequire(import.meta.url);"
        }
      }),
    catch: (cause) => new Error(`esbuild could not bundle ${sourceDir}: ${String(cause)}`)
  }).pipe(
    Effect.as(Object.fromEntries(entries.map((name) => [name, Path.join(outDir, `${name}.mjs`)])) as Bundles)
  )
