/**
 * `--baseline <ref>`: this transport's client as it was at another commit, to run in the same bench run as the
 * current tree's (the "no scenario gets slower than before").
 *
 * The commit is checked out as a temporary `git worktree` outside the repository (under the system's temporary
 * directory), installed with `pnpm install --frozen-lockfile --prefer-offline` (its own lockfile), and its
 * `bench/src/ClientOurs.ts` bundled with the same esbuild settings as the current clients into
 * `bench/build/baseline-<commit>/` (ignored by git). The worktree is removed, and unregistered, as soon as the bundle
 * is built, and on failure or interruption.
 *
 * @since 0.1.0
 */
import type * as CommandExecutor from "@effect/platform/CommandExecutor"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Path from "node:path"
import type { BenchError } from "./BenchError.js"
import * as Bundle from "./Bundle.js"
import * as Exec from "./Exec.js"

/**
 * A baseline ready to run: the ref as given, the commit it names, and its bundled `ClientOurs`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Baseline {
  readonly ref: string
  readonly commit: string
  /** The path of the bundled `ClientOurs.mjs`. */
  readonly bundle: string
}

/**
 * Builds the baseline client of `ref` (a commit, tag or branch of the repository that holds `benchDir`) into
 * `buildDir`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const build = (
  ref: string,
  benchDir: string,
  buildDir: string
): Effect.Effect<Baseline, BenchError | Error, CommandExecutor.CommandExecutor | FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const repository = yield* Exec.run(benchDir, "git", "rev-parse", "--show-toplevel")
    const commit = yield* Exec.run(repository, "git", "rev-parse", "--verify", "--end-of-options", `${ref}^{commit}`)
    const outDir = Path.join(buildDir, `baseline-${commit}`)
    yield* Effect.scoped(Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const temporary = yield* fs.makeTempDirectoryScoped({ prefix: "b24-bench-baseline-" }).pipe(
        Effect.mapError((error) => new Error(`no temporary directory: ${error.message}`))
      )
      const tree = Path.join(temporary, "tree")
      yield* Console.log(`baseline ${ref} (${commit.slice(0, 12)}): worktree in ${tree}, pnpm install, esbuild`)
      // Released before the temporary directory is removed (finalizers run in reverse order).
      yield* Effect.acquireRelease(
        Exec.run(repository, "git", "worktree", "add", "--detach", tree, commit),
        () =>
          Exec.run(repository, "git", "worktree", "remove", "--force", tree).pipe(
            Effect.zipRight(Exec.run(repository, "git", "worktree", "prune")),
            Effect.ignore
          )
      )
      yield* Exec.run(tree, "pnpm", "install", "--frozen-lockfile", "--prefer-offline")
      yield* Bundle.build(Path.join(tree, "bench", "src"), outDir, ["ClientOurs"])
    }))
    return { ref, commit, bundle: Path.join(outDir, "ClientOurs.mjs") }
  })
