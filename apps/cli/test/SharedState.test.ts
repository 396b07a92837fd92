/**
 * `B24_REDIS_URL` applies to `b24`: its leaky bucket and operating budget live in Redis (SharedState.layerConfig), so
 * Redis out of reach is a clear failure (never printing the URL's password), or this process's own state with
 * `B24_REDIS_FALLBACK=local`. The Redis itself is covered by packages/http's tests against a real server.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as ChildProcess from "node:child_process"
import * as Path from "node:path"
import * as Cli from "../src/Cli.js"

const b24 = (env: Record<string, string>) =>
  Effect.async<{ code: number | null; stdout: string; stderr: string }>((resume) => {
    ChildProcess.execFile(
      Path.join(import.meta.dirname, "..", "node_modules", ".bin", "tsx"),
      [Path.join(import.meta.dirname, "..", "src", "bin.ts"), "--emulator", "im", "chat", "mute", "--chat-id", "1489"],
      { env: { ...process.env, B24_WEBHOOK_URL: "", ...env } },
      (error, stdout, stderr) => resume(Effect.succeed({ code: error ? (error.code as number) : 0, stdout, stderr }))
    )
  })

describe("b24 with B24_REDIS_URL", () => {
  it.live("Redis out of reach: a clear failure naming host and port, never the password", () =>
    Effect.gen(function*() {
      const run = yield* b24({ B24_REDIS_URL: "redis://:pa55w0rd@127.0.0.1:1" })
      expect(run.code).toBe(Cli.ExitCode.failure)
      expect(run.stdout).toBe("")
      expect(run.stderr).toContain("Redis at 127.0.0.1:1 cannot be reached")
      expect(run.stdout + run.stderr).not.toContain("pa55w0rd")
    }), 60_000)

  it.live(
    "B24_REDIS_FALLBACK=local: a warning, then the call on this process's own state",
    () =>
      Effect.gen(function*() {
        const run = yield* b24({ B24_REDIS_URL: "redis://127.0.0.1:1", B24_REDIS_FALLBACK: "local" })
        expect(run.code).toBe(0)
        expect(run.stdout + run.stderr).toContain("B24_REDIS_FALLBACK=local")
        expect(run.stdout.trim().split("\n").at(-1)).toBe("true")
      }),
    60_000
  )
})
