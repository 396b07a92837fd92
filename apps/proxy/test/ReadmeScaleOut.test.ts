/**
 * The README's "`b24-proxy` replicas" example runs as written: its `sh` block, in bash from the repository's root, a
 * real `redis-server`, the emulator (`pnpm emulator`) and three proxies (`pnpm start`). Only the addresses move to
 * free ports (Redis's 6390, the emulator's 8090, the replicas' 8081-8083) and the `/tmp/b24-` log files to a scratch
 * directory, so that the test shares nothing with other runs. Its output is checked against the comments the README
 * shows under each command.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"

const root = Path.join(import.meta.dirname, "..", "..", "..")
const readme = Fs.readFileSync(Path.join(root, "README.md"), "utf8")
const start = readme.indexOf("### `b24-proxy` replicas")
const section = readme.slice(start, readme.indexOf("\n## ", start))
const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = Net.createServer().listen(0, "127.0.0.1", () => {
      const port = (server.address() as Net.AddressInfo).port
      server.close(() => resolve(port))
    })
  })

describe("the README's b24-proxy replicas example", () => {
  it.live(
    "runs as written: one bucket per client across three replicas, no QUERY_LIMIT_EXCEEDED",
    () =>
      Effect.gen(function*() {
        const [redis, emulator, a, b, c] = yield* Effect.promise(() =>
          Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()])
        )
        const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "b24-readme-replicas-"))
        const script = block
          .replaceAll("6390", String(redis))
          .replaceAll("8090", String(emulator))
          .replace(`replicas="8081 8082 8083"`, `replicas="${a} ${b} ${c}"`)
          .replaceAll("/tmp/b24-", `${dir}/b24-`)
        expect(script).not.toContain("808")
        const run = yield* Effect.async<{ readonly code: number | null; readonly stdout: string }>((resume) => {
          // Its own process group, so that everything it started goes with it, whatever happens.
          const child = ChildProcess.spawn("bash", ["-c", script], {
            cwd: root,
            detached: true,
            env: { ...process.env, B24_TEST_REDIS_URL: "" },
            stdio: ["ignore", "pipe", "pipe"]
          })
          let stdout = ""
          child.stdout.on("data", (chunk) => stdout += String(chunk))
          child.stderr.on("data", () => {})
          const timer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), 90_000)
          child.on("exit", (code) => {
            clearTimeout(timer)
            try {
              process.kill(-child.pid!, "SIGKILL")
            } catch {
              // the group is gone already
            }
            resume(Effect.succeed({ code, stdout }))
          })
        })
        Fs.rmSync(dir, { recursive: true, force: true })
        const normal = (line: string) => line.trim().replace(/\s+/g, " ")
        const lines = run.stdout.split("\n").map(normal).filter((line) => line.length > 0)
        // Three replicas on Redis, as the README's comment under the `grep` shows.
        const banner = /\n#(\s+\d+\s+limits and OAuth tokens[^\n]*)/.exec(block)![1]!
        expect(lines[0]).toBe(normal(banner))
        expect(lines[0]).toMatch(/^3 .*shared with every replica through Redis/)
        // 50 answered and 10 refused, and one more answered for each half second the 60 curl processes took to start
        // (3 s at most on a busy machine): one bucket for the three replicas, where three would answer all 60.
        const counts = Object.fromEntries(
          lines.slice(1, -1).map((line) => line.split(/\s+/)).map(([count, status]) => [status!, Number(count)])
        )
        expect(Object.keys(counts).sort()).toEqual(["200", "503"])
        expect(counts["200"]! + counts["503"]!).toBe(60)
        expect(counts["200"]).toBeGreaterThanOrEqual(50)
        expect(counts["200"]).toBeLessThanOrEqual(56)
        // No QUERY_LIMIT_EXCEEDED from the portal.
        expect(lines.at(-1)).toBe("0")
      }),
    120_000
  )
})
