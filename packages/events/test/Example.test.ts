/**
 * The README's "Connectors and events" example is packages/events/examples/connector.ts, verbatim, and it runs as
 * written on the embedded emulator.
 */
import { describe, expect, it } from "@effect/vitest"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"

const root = Path.join(import.meta.dirname, "..", "..", "..")
const file = Path.join(import.meta.dirname, "..", "examples", "connector.ts")

describe("README connectors and events example", () => {
  it("is the example file, verbatim", () => {
    const readme = Fs.readFileSync(Path.join(root, "README.md"), "utf8")
    const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1])
    expect(blocks).toContain(Fs.readFileSync(file, "utf8"))
  })

  it("runs as written and prints what it promises", () => {
    const tsx = Path.join(import.meta.dirname, "..", "node_modules", ".bin", "tsx")
    const output = ChildProcess.execFileSync(tsx, [file], { encoding: "utf8" })
    const lines = output.split("\n")
    expect(lines[0]).toMatch(/^customer message in open-line chat \d+$/)
    expect(lines.slice(1, 3)).toEqual([
      "room-1 <- [b]Portal Admin:[/b][br]Hi Ann!",
      "typed: APPLICATION_UNREGISTRATION_ERROR (HTTP 200)"
    ])
  }, 60_000)
})
