/**
 * Test support: the proxy as a real process (`src/main.ts` with tsx's loader), on an ephemeral port, with its output
 * collected and its exit awaited.
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as ChildProcess from "node:child_process"
import * as Path from "node:path"
import * as Url from "node:url"

// tsx's loader in the proxy's own node process: the tsx command would stand between the test and the proxy, relay
// signals on a 30 ms budget and SIGKILL a proxy that does not confirm in time (as on a loaded machine).
const loader = Url.pathToFileURL(Path.join(import.meta.dirname, "..", "node_modules", "tsx", "dist", "loader.mjs")).href
const main = Path.join(import.meta.dirname, "..", "src", "main.ts")

/** A running proxy process. */
export interface ProxyProcess {
  /** `http://127.0.0.1:{port}`, from its banner. */
  readonly base: string
  readonly child: ChildProcess.ChildProcessWithoutNullStreams
  readonly stdout: () => string
  readonly stderr: () => string
  /** Its exit code, once it exits. */
  readonly exited: Effect.Effect<number | null>
}

/**
 * Starts the proxy (or `command`, in `cwd`) with `env` over a clean proxy environment (port 0, no configuration file)
 * and answers once its output shows `banner` (its first group is the base URL); a process still running when the
 * scope closes is killed.
 */
export const spawnProxy = (
  env: Record<string, string>,
  command: { readonly file: string; readonly args: ReadonlyArray<string>; readonly cwd?: string } = {
    file: process.execPath,
    args: ["--import", loader, main]
  },
  banner: RegExp = /listening on (https?:\/\/[^\s]+)/
): Effect.Effect<ProxyProcess, Error, Scope.Scope> =>
  Effect.gen(function*() {
    const child = yield* Effect.acquireRelease(
      Effect.sync(() =>
        ChildProcess.spawn(command.file, [...command.args], {
          ...(command.cwd === undefined ? {} : { cwd: command.cwd }),
          env: {
            ...process.env,
            PORT: "0",
            B24_WEBHOOK_URL: "",
            B24_PROXY_CLIENTS: "",
            B24_PROXY_CONFIG: "",
            B24_REDIS_URL: "",
            ...env
          }
        })
      ),
      (child) => Effect.sync(() => child.exitCode === null && child.kill("SIGKILL"))
    )
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk) => stdout += String(chunk))
    child.stderr.on("data", (chunk) => stderr += String(chunk))
    const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
    const base = yield* Effect.async<string, Error>((resume) => {
      const look = () => {
        const match = banner.exec(stdout)
        if (match !== null) {
          child.stdout.off("data", look)
          resume(Effect.succeed(match[1]!))
        }
      }
      child.stdout.on("data", look)
      void exit.then((code) => resume(Effect.fail(new Error(`the proxy exited (${code}): ${stderr}${stdout}`))))
    }).pipe(Effect.timeoutFail({ duration: "120 seconds", onTimeout: () => new Error(`no banner: ${stderr}`) }))
    return { base, child, stdout: () => stdout, stderr: () => stderr, exited: Effect.promise(() => exit) }
  })
