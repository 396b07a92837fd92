/**
 * The README's library example is packages/http/examples/quickstart.ts, verbatim, and it runs as written.
 */
import { describe, expect, it } from "@effect/vitest"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"

const root = Path.join(import.meta.dirname, "..", "..", "..")
const example = Fs.readFileSync(Path.join(import.meta.dirname, "..", "examples", "quickstart.ts"), "utf8")

describe("README library example", () => {
  it("is the example file, verbatim", () => {
    const readme = Fs.readFileSync(Path.join(root, "README.md"), "utf8")
    const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1])
    expect(blocks).toContain(example)
  })

  it("runs on the emulator when no portal is configured and prints what it promises", () => {
    const tsx = Path.join(import.meta.dirname, "..", "node_modules", ".bin", "tsx")
    const output = ChildProcess.execFileSync(tsx, [Path.join(import.meta.dirname, "..", "examples", "quickstart.ts")], {
      env: { ...process.env, B24_WEBHOOK_URL: "" },
      encoding: "utf8"
    })
    expect(output.split("\n").slice(0, 3)).toEqual([
      "silent mode on: true",
      "not muted: ACCESS_ERROR (HTTP 403)",
      "rejected before I/O: CHAT_ID: one of CHAT_ID or DIALOG_ID is required"
    ])
    expect(output).toMatch(/group chat muted: true; operating time: 0 s until \d+/)
  }, 60_000)
})
