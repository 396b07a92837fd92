/**
 * Help pages: the full `b24 ...` usage line, no repeated words, no ANSI escapes unless standard output is a terminal
 * and NO_COLOR is unset, wrapped to the width; the bundle's quick answers are the same pages.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Cli from "../src/Cli.js"
import * as Quick from "../src/Quick.js"
import * as Tree from "../src/Tree.js"
import { b24, home, PlatformLive } from "./helpers.js"

const paths = Tree.walk(Cli.tree.node).map(({ path }) => path)

const ansi = /\u001b\[/

describe("help pages", () => {
  it.scoped("every page: the full usage line, no word twice in a row, no ANSI when piped, lines within the width", () =>
    Effect.gen(function*() {
      const { env } = yield* home
      expect(paths.length).toBeGreaterThan(30)
      for (const path of paths) {
        for (const columns of [80, 50]) {
          const run = yield* b24([...path, "--help"], { env: { ...env, COLUMNS: String(columns) } })
          expect(run.code).toBe(0)
          const lines = run.stdout.trimEnd().split("\n")
          const usage = lines[lines.indexOf("Usage") + 1]!
          expect(usage.startsWith(`  ${["b24", ...path].join(" ")}`), usage).toBe(true)
          expect(run.stdout, path.join(" ")).not.toMatch(/\b([\w-]+) \1\b/)
          expect(run.stdout).not.toMatch(ansi)
          expect(run.stdout).not.toContain("A true or false value")
          for (const line of lines) {
            const example = line.startsWith("  b24 ")
            if (!example && !/^\s*\S+$/.test(line)) expect(line.length, line).toBeLessThanOrEqual(columns)
          }
        }
      }
    }).pipe(Effect.provide(PlatformLive)))

  it.scoped("the commands of a group are listed by their path below it; --help and -h work anywhere", () =>
    Effect.gen(function*() {
      const { env } = yield* home
      const group = yield* b24(["imopenlines", "session", "--help"], { env })
      expect(group.stdout).toMatch(/\n {2}mode silent +Switch the dialog to silent mode/)
      expect(group.stdout).toContain(`Run "b24 imopenlines session <command> --help"`)
      const late = yield* b24(["im", "chat", "mute", "--chat-id", "x", "-h"], { env })
      expect(late.stdout.split("\n")[0]).toBe("b24 im chat mute: Disable or enable notifications from a chat")
      const leaf = late.stdout
      expect(leaf).toContain("--mute ")
      expect(leaf).toContain("--no-mute ")
      expect(leaf).toContain("Global options (anywhere before --)")
      const bare = yield* b24([], { env })
      expect(bare.stdout.startsWith("b24: Bitrix24 REST from the command line\n")).toBe(true)
    }).pipe(Effect.provide(PlatformLive)))

  it.scoped("bold headings on a terminal, plain with NO_COLOR", () =>
    Effect.gen(function*() {
      const { env } = yield* home
      const tty = yield* b24(["im", "--help"], { env, tty: true, columns: 100 })
      expect(tty.stdout).toMatch(/\u001b\[[0-9;]*1mUsage\u001b\[0m/)
      const noColor = yield* b24(["im", "--help"], { env: { ...env, NO_COLOR: "1" }, tty: true })
      expect(noColor.stdout).not.toMatch(ansi)
      expect(noColor.stdout).toBe((yield* b24(["im", "--help"], { env })).stdout)
    }).pipe(Effect.provide(PlatformLive)))

  it.scoped("the bundle's quick answers (help, version, completions) are the full CLI's", () =>
    Effect.gen(function*() {
      const { env } = yield* home
      const words = [
        ...paths.map((path) => [...path, "--help"]),
        ["--version"],
        ["completions", "bash"],
        ["completions", "fish"]
      ]
      for (const word of words) {
        let quick = ""
        const code = yield* Effect.promise(() =>
          Quick.answer(Cli.tree.node, word, {
            out: (text) => quick += text,
            stdoutIsTTY: false,
            stderrIsTTY: false,
            columns: undefined,
            env: {}
          })
        )
        const full = yield* b24(word, { env })
        expect({ word, code, out: quick }).toEqual({ word, code: full.code, out: full.stdout })
      }
      const notQuick = yield* Effect.promise(() =>
        Quick.answer(Cli.tree.node, ["im", "chat", "mute"], {
          out: () => undefined,
          stdoutIsTTY: false,
          stderrIsTTY: false,
          columns: undefined,
          env: {}
        })
      )
      expect(notQuick).toBeUndefined()
    }).pipe(Effect.provide(PlatformLive)))
})
