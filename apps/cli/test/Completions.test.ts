/**
 * Completions: the bash script, sourced in a real bash, completes every command level and every option of every
 * leaf (both halves of the --x / --no-x pairs), skips option values, and completes the values it knows.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as ChildProcess from "node:child_process"
import * as Cli from "../src/Cli.js"
import * as Tree from "../src/Tree.js"
import { b24, home, PlatformLive, tempFile } from "./helpers.js"

/** `compgen` results of the script for the words typed so far (the last one is being completed). */
const complete = (script: string, words: ReadonlyArray<string>) =>
  Effect.async<ReadonlyArray<string>>((resume) => {
    const array = words.map((word) => `'${word.replace(/'/g, `'\\''`)}'`).join(" ")
    const program = `source '${script}'; COMP_WORDS=(${array}); COMP_CWORD=${words.length - 1}; _b24; ` +
      `printf '%s\\n' "\${COMPREPLY[@]}"`
    ChildProcess.execFile(
      "bash",
      ["--norc", "--noprofile", "-c", program],
      { encoding: "utf8" },
      (error, stdout, stderr) =>
        resume(
          error === null && stderr === ""
            ? Effect.succeed(stdout.split("\n").filter((line) => line.length > 0))
            : Effect.die(new Error(`bash failed: ${stderr}`))
        )
    )
  })

const globals = ["--profile", "--webhook", "--emulator", "--json", "--format", "--dry-run", "--help"]

describe("b24 completions bash, sourced in bash", () => {
  it.scoped("every level, every leaf option, option values skipped and completed", () =>
    Effect.gen(function*() {
      const { env } = yield* home
      const run = yield* b24(["completions", "bash"], { env })
      expect(run.code).toBe(0)
      const script = yield* tempFile("b24.bash", run.stdout)
      const at = (...words: ReadonlyArray<string>) => complete(script, ["b24", ...words])

      expect(yield* at("")).toEqual([
        "call",
        "imopenlines",
        "im",
        "imconnector",
        "event",
        "events",
        "profile",
        "login",
        "completions"
      ])
      expect(yield* at("events", "")).toEqual(["listen", "bind", "unbind", "list", "codes"])
      expect(yield* at("events", "listen", "--")).toEqual(["--port", "--host", "--token-file", ...globals])
      expect(yield* at("imopenlines", "session", "mode", "")).toEqual([
        "pin",
        "pin-all",
        "silent",
        "unpin",
        "unpin-all"
      ])
      expect(yield* at("imopenlines", "se")).toEqual(["session"])
      expect(yield* at("--json", "--profile", "work", "im", "")).toEqual(["chat", "message"])
      expect(yield* at("im", "chat", "mute", "--")).toEqual([
        "--chat-id",
        "--dialog-id",
        "--mute",
        "--no-mute",
        "--input",
        "--resume",
        "--concurrency",
        ...globals
      ])
      expect(yield* at("imopenlines", "session", "mode", "pin", "--chat-id", "5", "--no")).toEqual(["--no-activate"])
      expect(yield* at("imconnector", "send", "messages", "--m")).toEqual(["--messages"])
      expect(yield* at("--format", "")).toEqual(["json", "ndjson", "table"])
      expect(yield* at("--format", "=", "nd")).toEqual(["ndjson"])
      expect(yield* at("completions", "")).toEqual(["bash", "zsh", "fish"])

      // Every leaf offers exactly its own options, the global ones and --help.
      for (const { node, path } of Tree.leaves(Cli.tree.node)) {
        const offered = yield* at(...path, "--")
        expect({ path, offered }).toEqual({
          path,
          offered: [...node.options.map((option) => `--${option.name}`), ...globals]
        })
      }
    }).pipe(Effect.provide(PlatformLive)))

  it.scoped("zsh and fish scripts know every path and every option", () =>
    Effect.gen(function*() {
      const { env } = yield* home
      for (const shell of ["zsh", "fish"]) {
        const run = yield* b24(["completions", shell], { env })
        expect(run.code).toBe(0)
        for (const { node, path } of Tree.walk(Cli.tree.node)) {
          expect(run.stdout).toContain(`'${path.join(" ")}'`)
          for (const option of node.options) {
            expect(run.stdout).toContain(shell === "zsh" ? `'--${option.name}:` : `-l ${option.name}`)
          }
        }
      }
      const unknown = yield* b24(["completions", "tcsh"], { env })
      expect(unknown).toMatchObject({ code: 2, stderr: `b24: SHELL must be one of bash, zsh, fish, got "tcsh"\n` })
    }).pipe(Effect.provide(PlatformLive)))
})
