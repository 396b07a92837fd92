/**
 * The README's proxy section runs as written, in a scratch directory: its configuration file is written as shown,
 * every `sh` line runs in order in bash (`pnpm --filter` lines in the repository), `pnpm start` lines start the proxy
 * process (`src/main.ts`, as `pnpm start` runs it) and `node <bundle>` lines the bundle, with the variables the line
 * sets, and each `curl` line's output starts as the comment under it shows (up
 * to its `...`). Two emulators stand in for the portals: their addresses replace `https://example.bitrix24.com`,
 * `https://support.bitrix24.com` and `https://oauth.bitrix.info`, the `export` line's placeholders get their
 * credentials, and the proxy's port replaces 8080.
 */
import { Emulator, Handlers } from "@bitrix24-effect/emulator"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

const root = Path.join(import.meta.dirname, "..", "..", "..")
const readme = Fs.readFileSync(Path.join(root, "README.md"), "utf8")
const start = readme.indexOf("## Proxy: `b24-proxy`")
const section = readme.slice(start, readme.indexOf("\n## ", start + 1))

/** The lines of the section's `sh` blocks, continuation lines joined. */
const lines = (): ReadonlyArray<string> =>
  [...section.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((match) => match[1]!.replace(/\\\n\s*/g, "").split("\n"))

const bash = (command: string, options: { readonly cwd: string; readonly env: Record<string, string> }) =>
  Effect.async<{ readonly code: number; readonly stdout: string; readonly stderr: string }>((resume) => {
    ChildProcess.execFile(
      "bash",
      ["-c", command],
      { ...options, timeout: 30_000 },
      (error, stdout, stderr) =>
        resume(
          Effect.succeed({
            code: error === null ? 0 : typeof error.code === "number" ? error.code : -1,
            stdout,
            stderr
          })
        )
    )
  })

/** Starts the proxy process for a `pnpm start` line; answers its port once it listens. */
const startProxy = (line: string, options: { readonly cwd: string; readonly env: Record<string, string> }) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const words = line.split(/\s+/)
      const bundle = words.indexOf("node")
      const at = bundle === -1 ? words.indexOf("pnpm") : bundle
      const assignments = Object.fromEntries(words.slice(0, at).map((word) => word.split("=") as [string, string]))
      const env = { ...options.env, ...assignments, PORT: "0" }
      // `node <bundle>` runs the bundle the line names (a path from the repository's root); `pnpm start` the source.
      return bundle === -1
        ? ChildProcess.spawn(
          Path.join(import.meta.dirname, "..", "node_modules", ".bin", "tsx"),
          [Path.join(import.meta.dirname, "..", "src", "main.ts"), ...words.slice(at + 2)],
          { cwd: options.cwd, env }
        )
        : ChildProcess.spawn(process.execPath, [Path.join(root, words[at + 1]!), ...words.slice(at + 2)], {
          cwd: options.cwd,
          env
        })
    }),
    (child) => Effect.sync(() => child.kill())
  ).pipe(
    Effect.flatMap((child) =>
      Effect.async<string, Error>((resume) => {
        let out = ""
        child.stdout.on("data", (chunk) => {
          out += String(chunk)
          const port = /listening on https?:\/\/127\.0\.0\.1:(\d+)/.exec(out)
          if (port !== null && /clients:|generated client/.test(out)) resume(Effect.succeed(port[1]!))
        })
        child.stderr.on("data", (chunk) => out += String(chunk))
        child.on("exit", () => resume(Effect.fail(new Error(`the proxy exited: ${out}`))))
      })
    )
  )

describe("the README's proxy section", () => {
  it.scopedLive("the configuration file and every command run as written", () =>
    Effect.gen(function*() {
      const sales = yield* Emulator.make({
        methods: { "user.current": { handler: () => Handlers.succeed({ ID: "1", NAME: "Ada" }) } }
      })
      const support = yield* Emulator.make({
        applications: [{ clientId: "local.6651a1b2c3d4e5.12345678", clientSecret: "support-app-secret" }]
      })
      const refresh = support.oauth.issue(1).refreshToken
      const scratch = Fs.mkdtempSync(Path.join(Os.tmpdir(), "b24-proxy-readme-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => Fs.rmSync(scratch, { recursive: true, force: true })))

      const yaml = /```yaml\n# (\S+)\n([\s\S]*?)```/.exec(section)!
      const config = yaml[2]!
        .replaceAll("https://support.bitrix24.com", support.url)
        .replaceAll("https://oauth.bitrix.info", support.url)
      Fs.writeFileSync(Path.join(scratch, yaml[1]!), config)

      const env: Record<string, string> = { PATH: process.env.PATH ?? "", HOME: scratch }
      let port = "8080"
      let ran = 0
      const all = lines()
      for (const [index, line] of all.entries()) {
        const command = line.trim()
        if (command.length === 0 || command.startsWith("#")) continue
        if (command.startsWith("export ")) {
          // The placeholders get the emulated portals' credentials; the rest runs as written.
          const exported = yield* bash(
            `${
              command
                .replace("'https://example.bitrix24.com/rest/1/<code>/'", `'${Redacted.value(sales.webhookUrl)}'`)
                .replace("'<client secret>'", "'support-app-secret'")
                .replace("'<refresh token>'", `'${Redacted.value(refresh)}'`)
            } && env -0`,
            { cwd: scratch, env }
          )
          expect(exported.code, exported.stderr).toBe(0)
          for (const entry of exported.stdout.split("\0")) {
            const at = entry.indexOf("=")
            if (at > 0) env[entry.slice(0, at)] = entry.slice(at + 1)
          }
          continue
        }
        if (/(^|\s)(pnpm start|node \S+\.mjs)(\s|$)/.test(command)) {
          port = yield* startProxy(command, { cwd: scratch, env })
          continue
        }
        // `pnpm --filter` lines run in the repository (the bundle's build); the rest in the scratch directory.
        const run = yield* bash(command.replaceAll("127.0.0.1:8080", `127.0.0.1:${port}`), {
          cwd: command.startsWith("pnpm --filter") ? root : scratch,
          env
        })
        expect({ command, code: run.code, stderr: run.code === 0 ? "" : run.stderr }).toEqual({
          command,
          code: 0,
          stderr: ""
        })
        const expected = all[index + 1]?.trim()
        if (expected !== undefined && expected.startsWith("# {")) {
          const prefix = expected.slice(2).split("...")[0]!
          expect(run.stdout.startsWith(prefix), `${command}\n${run.stdout}`).toBe(true)
        }
        ran++
      }
      expect(ran).toBeGreaterThanOrEqual(7)
      // The calls reached the portals they were bound to.
      expect(sales.journal.some((entry) => entry.method === "imopenlines.session.mode.silent")).toBe(true)
      expect(support.journal.some((entry) => entry.method === "im.chat.mute" && entry.executed)).toBe(true)
      expect(support.oauth.refreshes()).toBe(1)
    }), 120_000)
})
