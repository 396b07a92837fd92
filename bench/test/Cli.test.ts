/**
 * The command line through pnpm, as a user types it: flags reach the script, a partial run never rewrites the
 * committed results, and where a plain run writes is ignored by git (so `pnpm bench` leaves the tree clean). Each
 * pnpm call starts tsx and loads the bench (seconds on a busy machine), hence the longer timeouts.
 */
import { describe, it } from "@effect/vitest"
import { assertTrue, strictEqual } from "@effect/vitest/utils"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"

const repository = Path.join(import.meta.dirname, "..", "..")
const committed = Path.join(repository, "bench", "results.json")
const readme = Path.join(repository, "README.md")

const run = (command: string, args: ReadonlyArray<string>) =>
  ChildProcess.spawnSync(command, args, { cwd: repository, encoding: "utf8", timeout: 60_000 })

describe("pnpm bench flags", () => {
  it("--write reaches the script through `pnpm bench`, and is refused for a partial run before anything runs", () => {
    const before = [Fs.readFileSync(committed, "utf8"), Fs.readFileSync(readme, "utf8")]
    const result = run("pnpm", ["--silent", "bench", "--write", "--only", "c-emulator"])
    assertTrue(result.status !== 0, `exit ${result.status}`)
    const output = result.stdout + result.stderr
    assertTrue(output.includes("--write records a full run"), output)
    assertTrue(!output.includes("Bitrix24 bench: emulators"), "no scenario started")
    strictEqual(Fs.readFileSync(committed, "utf8"), before[0])
    strictEqual(Fs.readFileSync(readme, "utf8"), before[1])
  }, 60_000)

  it("refuses an unknown scenario id and lists the known ones", () => {
    const result = run("pnpm", ["--silent", "bench", "--only", "z-nothing"])
    assertTrue(result.status !== 0, `exit ${result.status}`)
    const output = result.stdout + result.stderr
    assertTrue(output.includes("unknown scenario z-nothing") && output.includes("d-ours-batched"), output)
  }, 60_000)
})

describe("where results go", () => {
  it("a plain run's bench/build/results.json is ignored by git; the committed bench/results.json is tracked", () => {
    strictEqual(run("git", ["check-ignore", "--quiet", "bench/build/results.json"]).status, 0)
    strictEqual(run("git", ["ls-files", "--error-unmatch", "bench/results.json"]).status, 0)
    strictEqual(run("git", ["check-ignore", "--quiet", "bench/results.json"]).status, 1)
  })
})
