/**
 * The README's CLI, as a user meets it: the install line puts `b24` on PATH (npm's global install, into a temporary
 * prefix), and every command line of the README that runs `b24` then runs as written, in order, in one shell
 * session's directory and home, with an emulator standing in for `pnpm emulator` (its address replaces
 * 127.0.0.1:8090). What a line pastes on standard input (`--webhook -`, `--client-secret -`) is given to it; for
 * `b24 login` the test plays the browser. A line passes when it exits 0, or with the code its comment announces
 * (`# exits 3: ...`). A line ending in `&` (`b24 events listen`) is started in the background, on a free port in
 * place of 8091, and stopped at the end; what the README says it printed is checked then.
 */
import { Emulator } from "@bitrix24-effect/emulator"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import { exec } from "./helpers.js"

const root = Path.join(import.meta.dirname, "..", "..", "..")
const readme = Fs.readFileSync(Path.join(root, "README.md"), "utf8")

interface Example {
  readonly command: string
  readonly exit: number
}

/**
 * The command lines of the README's `sh` blocks that run `b24`, plus, in the CLI section, the lines that prepare
 * their input (`printf ... > file`) or talk to the emulator's control API (`curl ...`); `pnpm ...` lines are what the
 * test itself stands in for. The CLI section comes first: it sets up the profile the other sections' examples use.
 */
const examples = (): ReadonlyArray<Example> => {
  const cli = readme.indexOf("## CLI: `b24`")
  const cliEnd = readme.indexOf("\n## ", cli + 1)
  const first: Array<Example> = []
  const out: Array<Example> = []
  const block = /```sh\n([\s\S]*?)```/g
  for (let match = block.exec(readme); match !== null; match = block.exec(readme)) {
    const inCli = match.index > cli && match.index < cliEnd
    const lines = match[1]!.replace(/\\\n\s*/g, "").split("\n")
    for (const line of lines) {
      const comment = /\s{2,}#\s?(.*)$/.exec(line)
      const command = (comment === null ? line : line.slice(0, comment.index)).trim()
      if (command.length === 0 || command.startsWith("#") || command.startsWith("pnpm ")) continue
      const runsB24 = /(^|[|(]\s*|<\()b24 /.test(command)
      if (!runsB24 && !(inCli && (command.startsWith("printf ") || command.startsWith("curl ")))) continue
      const exit = comment === null ? 0 : Number(/^exits (\d+)/.exec(comment[1]!)?.[1] ?? 0)
      ;(inCli ? first : out).push({ command, exit })
    }
  }
  return [...first, ...out]
}

const shell = (command: string, options: { cwd: string; env: Record<string, string>; stdin: string }) =>
  exec("bash", ["-c", command], options)

/** Runs a `b24 login` line, playing the browser once it prints the authorize address. */
const login = (command: string, options: { cwd: string; env: Record<string, string>; stdin: string }) =>
  Effect.async<{ readonly code: number; readonly stdout: string; readonly stderr: string }>((resume) => {
    const child = ChildProcess.spawn("bash", ["-c", command], { cwd: options.cwd, env: options.env })
    let stdout = ""
    let stderr = ""
    let browsed = false
    child.stdout.on("data", (chunk) => stdout += chunk)
    child.stderr.on("data", (chunk) => {
      stderr += chunk
      const address = /^ {2}(http\S+\/oauth\/authorize\/\S+)$/m.exec(stderr)
      if (address !== null && !browsed) {
        browsed = true
        void fetch(address[1]!, { redirect: "manual" }).then((answer) => fetch(answer.headers.get("location")!))
      }
    })
    child.on("exit", (code) => resume(Effect.succeed({ code: code ?? -1, stdout, stderr })))
    child.stdin.on("error", () => undefined)
    child.stdin.end(options.stdin)
    return Effect.sync(() => child.kill())
  })

/** Starts a `... &` line in the background; answers once it says it listens (a `b24 events listen`). */
const background = (command: string, options: { cwd: string; env: Record<string, string> }) =>
  Effect.acquireRelease(
    Effect.async<ChildProcess.ChildProcess>((resume) => {
      const child = ChildProcess.spawn("bash", ["-c", `exec ${command.replace(/&\s*$/, "")}`], {
        cwd: options.cwd,
        env: options.env,
        stdio: ["ignore", "ignore", "pipe"]
      })
      let stderr = ""
      child.stderr.on("data", (chunk) => {
        stderr += chunk
        if (stderr.includes("listening for events on")) resume(Effect.succeed(child))
      })
      child.on("exit", (code) => resume(Effect.die(new Error(`${command} exited with ${code}: ${stderr}`))))
    }).pipe(Effect.timeout("60 seconds"), Effect.orDie),
    (child) => Effect.sync(() => child.kill())
  )

/** A port nothing listens on now. */
const freePort = Effect.async<number>((resume) => {
  const server = Net.createServer().listen(0, "127.0.0.1", () => {
    const address = server.address() as Net.AddressInfo
    server.close(() => resume(Effect.succeed(address.port)))
  })
})

describe("the README's CLI", () => {
  it.scopedLive(
    "the install line puts b24 on PATH, and every b24 example runs as written",
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const scratch = Fs.mkdtempSync(Path.join(Os.tmpdir(), "b24-readme-"))
        yield* Effect.addFinalizer(() => Effect.sync(() => Fs.rmSync(scratch, { recursive: true, force: true })))
        const prefix = Path.join(scratch, "prefix")
        const install = yield* shell(`npm install --global --prefix '${prefix}' ./apps/cli`, {
          cwd: root,
          env: { PATH: process.env.PATH ?? "", HOME: scratch, npm_config_update_notifier: "false" },
          stdin: ""
        })
        expect(install.code, install.stderr).toBe(0)
        const work = Path.join(scratch, "work")
        Fs.mkdirSync(work)
        const env = {
          PATH: `${prefix}/bin:${process.env.PATH ?? ""}`,
          HOME: scratch,
          XDG_CONFIG_HOME: `${scratch}/config`,
          XDG_STATE_HOME: `${scratch}/state`
        }
        const version = yield* shell("command -v b24 && b24 --version", { cwd: work, env, stdin: "" })
        expect(version).toMatchObject({ code: 0, stdout: `${prefix}/bin/b24\n0.1.0\n` })

        const lines = examples()
        expect(lines.length).toBeGreaterThan(20)
        const listener = String(yield* freePort)
        for (const example of lines) {
          const command = example.command.replaceAll("http://127.0.0.1:8090", emulator.url)
            .replace(/\b8091\b/g, listener)
          if (command.endsWith("&")) {
            yield* background(command, { cwd: work, env })
            continue
          }
          const stdin = command.includes("--webhook -")
            ? `${Redacted.value(emulator.webhookUrl)}\n`
            : command.includes("--client-secret -")
            ? `${Redacted.value(emulator.oauth.clientSecret)}\n`
            : ""
          const run = command.startsWith("b24 login")
            ? yield* login(command, { cwd: work, env, stdin })
            : yield* shell(command, { cwd: work, env, stdin })
          expect({ command: example.command, code: run.code, stderr: run.code === example.exit ? "" : run.stderr })
            .toEqual({ command: example.command, code: example.exit, stderr: "" })
        }
        // The examples ran against the emulator through the profiles they made, and never printed its secrets.
        expect(emulator.journal.length).toBeGreaterThan(10)
        // The listener printed what the README says: the install and the test event, one JSON line each.
        const events = Path.join(work, "events.ndjson")
        for (let i = 0; i < 500 && Fs.readFileSync(events, "utf8").split("\n").length < 3; i++) {
          yield* Effect.sleep("10 millis")
        }
        expect(Fs.readFileSync(events, "utf8").trimEnd().split("\n").map((line) => JSON.parse(line)._tag)).toEqual([
          "ONAPPINSTALL",
          "ONAPPTEST"
        ])
      }).pipe(Effect.provide(Emulator.layer())),
    240_000
  )
})
