/**
 * The reference gate (`pnpm run reference --check`, run by CI) must be able to fail: it passes on an exact copy of
 * the committed REFERENCE.md and fails on a stale one.
 */
import { describe, expect, it } from "@effect/vitest"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

const packageDir = Path.join(import.meta.dirname, "..")
const committed = Fs.readFileSync(Path.join(packageDir, "REFERENCE.md"), "utf8")

const check = (text: string) => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "reference-"))
  const file = Path.join(dir, "REFERENCE.md")
  Fs.writeFileSync(file, text)
  const run = ChildProcess.spawnSync(
    Path.join(packageDir, "node_modules", ".bin", "tsx"),
    ["scripts/reference.ts", "--check", "--file", file],
    { cwd: packageDir, encoding: "utf8" }
  )
  Fs.rmSync(dir, { recursive: true, force: true })
  return run
}

describe("the reference gate", () => {
  it("passes when the file matches the declarations", () => {
    const run = check(committed)
    expect(run.status).toBe(0)
    expect(run.stdout).toContain("is in sync")
  }, 60_000)

  it("fails when one line is stale", () => {
    const run = check(committed.replace("Disable or enable notifications from a chat", "Mute a chat"))
    expect(committed).toContain("Disable or enable notifications from a chat")
    expect(run.status).toBe(1)
    expect(run.stderr).toContain("is out of date")
  }, 60_000)
})
