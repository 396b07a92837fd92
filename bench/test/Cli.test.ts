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

/** Runs a command to its end without blocking the test worker (its event loop must keep answering vitest). */
const run = (command: string, args: ReadonlyArray<string>) =>
  new Promise<{ readonly status: number | null; readonly output: string }>((resolve) => {
    const child = ChildProcess.spawn(command, args, { cwd: repository, timeout: 110_000 })
    let output = ""
    child.stdout.on("data", (chunk) => output += chunk)
    child.stderr.on("data", (chunk) => output += chunk)
    child.on("close", (status) => resolve({ status, output }))
  })

describe.concurrent("pnpm bench flags", () => {
  it(
    "--write reaches the script through `pnpm bench`, and is refused for a partial run before anything runs",
    async () => {
      const before = [Fs.readFileSync(committed, "utf8"), Fs.readFileSync(readme, "utf8")]
      const { output, status } = await run("pnpm", ["--silent", "bench", "--write", "--only", "c-emulator"])
      assertTrue(status !== 0, `exit ${status}`)
      assertTrue(output.includes("--write records a full run"), output)
      assertTrue(!output.includes("Bitrix24 bench: emulators"), "no scenario started")
      strictEqual(Fs.readFileSync(committed, "utf8"), before[0])
      strictEqual(Fs.readFileSync(readme, "utf8"), before[1])
    },
    120_000
  )

  it("refuses an unknown scenario id and lists the known ones", async () => {
    const { output, status } = await run("pnpm", ["--silent", "bench", "--only", "z-nothing"])
    assertTrue(status !== 0, `exit ${status}`)
    assertTrue(output.includes("unknown scenario z-nothing") && output.includes("d-ours-batched"), output)
  }, 120_000)
})

describe("where results go", () => {
  it("a plain run's bench/build/results.json is ignored by git; the committed bench/results.json is tracked", async () => {
    strictEqual((await run("git", ["check-ignore", "--quiet", "bench/build/results.json"])).status, 0)
    strictEqual((await run("git", ["ls-files", "--error-unmatch", "bench/results.json"])).status, 0)
    strictEqual((await run("git", ["check-ignore", "--quiet", "bench/results.json"])).status, 1)
  })
})
