/**
 * Helpers for the CLI suites: `b24` run in process with captured streams and its own environment (a fresh config
 * directory per test, so no real profile is ever read), an emulator on loopback as the portal, and the bundle run as
 * a real process.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Cli from "../src/Cli.js"
import * as Main from "../src/Main.js"
import * as Stdio from "../src/Stdio.js"

/** What a run printed and how it ended. */
export interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** A fresh directory for HOME, XDG_CONFIG_HOME and XDG_STATE_HOME, removed with the scope. */
export const home = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const dir = yield* fs.makeTempDirectoryScoped({ prefix: "b24-test-" })
  return {
    dir,
    env: { HOME: dir, XDG_CONFIG_HOME: `${dir}/config`, XDG_STATE_HOME: `${dir}/state` } as Record<string, string>
  }
})

/** Runs `b24 ...words` in process with this environment (nothing else is read from the process) and stdin. */
export const b24 = (
  words: ReadonlyArray<string>,
  options: {
    readonly env: Readonly<Record<string, string>>
    readonly stdin?: string
    readonly tty?: boolean
    readonly columns?: number
  }
) =>
  Effect.gen(function*() {
    const captured = Stdio.makeCaptured({ stdin: options.stdin, tty: options.tty, columns: options.columns })
    const code = yield* Cli.main(words).pipe(
      Effect.provideService(Stdio.Stdio, captured.service),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(options.env))))
    )
    return { code, stdout: captured.stdout(), stderr: captured.stderr() } satisfies Run
  })

/** The services `b24` runs on, as the binary has them. */
export const PlatformLive = Main.layerPlatform

/** The bundle (built by `pnpm build`, which the test task depends on). */
export const bundle = Path.join(import.meta.dirname, "..", "dist", "b24.cjs")

/** Runs a program to its end: its exit code (-1 when killed) and output; `stdin` is written and closed. */
export const exec = (
  file: string,
  args: ReadonlyArray<string>,
  options: {
    readonly env: Readonly<Record<string, string>>
    readonly stdin?: string | undefined
    readonly cwd?: string | undefined
    readonly timeout?: number | undefined
  }
) =>
  Effect.async<Run>((resume) => {
    const child = ChildProcess.execFile(
      file,
      args,
      {
        env: { ...options.env },
        ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
        timeout: options.timeout ?? 30_000,
        maxBuffer: 64 * 1024 * 1024
      },
      (error, stdout, stderr) =>
        resume(
          Effect.succeed({
            code: error === null ? 0 : typeof error.code === "number" ? error.code : -1,
            stdout,
            stderr
          })
        )
    )
    // A program that does not read its standard input may be gone before it is written.
    child.stdin?.on("error", () => undefined)
    child.stdin?.end(options.stdin ?? "")
    return Effect.sync(() => child.kill())
  })

/** Runs the bundle as a process; `stdin` is closed at once unless given. */
export const spawn = (
  words: ReadonlyArray<string>,
  options: { readonly env: Readonly<Record<string, string>>; readonly stdin?: string; readonly timeout?: number }
) => exec(process.execPath, [bundle, ...words], { ...options, env: { PATH: process.env.PATH ?? "", ...options.env } })

/** A temporary file with this content, removed with the scope. */
export const tempFile = (name: string, content: string) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "b24-file-"))
      const file = Path.join(dir, name)
      Fs.writeFileSync(file, content)
      return file
    }),
    (file) => Effect.sync(() => Fs.rmSync(Path.dirname(file), { recursive: true, force: true }))
  )
