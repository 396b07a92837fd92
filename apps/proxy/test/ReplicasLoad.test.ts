/**
 * Three b24-proxy processes on one Redis (`B24_REDIS_URL`) in front of one emulated portal with the standard leaky
 * bucket (50, draining 2 per second), as the scale-out issue asks (`Replicas.test.ts` covers readiness on Redis and
 * the control without it; `Start.test.ts` Redis out of reach at start): 2,000 concurrent calls spread over the replicas reach the portal without a
 * single `QUERY_LIMIT_EXCEEDED` (counted from the emulator's journal) in at most 60 HTTP requests, and a client's own
 * bucket is one bucket across the replicas, not one per replica. Real processes (`src/main.ts`, as `pnpm start` runs
 * it) and a real Redis: the server CI starts (`B24_TEST_REDIS_URL`), else a private `redis-server`.
 */
import { Emulator } from "@bitrix24-effect/emulator"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as ChildProcess from "node:child_process"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"

const tsx = Path.join(import.meta.dirname, "..", "node_modules", ".bin", "tsx")
const main = Path.join(import.meta.dirname, "..", "src", "main.ts")

const freePort = () =>
  Effect.async<number>((resume) => {
    const server = Net.createServer().listen(0, "127.0.0.1", () => {
      const address = server.address() as Net.AddressInfo
      server.close(() => resume(Effect.succeed(address.port)))
    })
  })

/** Answers the URL of a Redis for this test: CI's, else a private redis-server stopped with the scope. */
const redis = Effect.gen(function*() {
  const given = process.env.B24_TEST_REDIS_URL?.trim()
  if (given !== undefined && given.length > 0) return given
  const port = yield* freePort()
  yield* Effect.acquireRelease(
    Effect.sync(() =>
      ChildProcess.spawn("redis-server", [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no"
      ], {
        stdio: "ignore"
      })
    ),
    (child) => Effect.sync(() => child.kill())
  )
  const url = `redis://127.0.0.1:${port}`
  // Ready once it accepts connections.
  for (let i = 0; i < 100; i++) {
    const open = yield* Effect.async<boolean>((resume) => {
      const socket = Net.connect(port, "127.0.0.1")
      socket.once("connect", () => {
        socket.destroy()
        resume(Effect.succeed(true))
      })
      socket.once("error", () => resume(Effect.succeed(false)))
    })
    if (open) return url
    yield* Effect.sleep("50 millis")
  }
  return yield* Effect.die(new Error("redis-server did not start"))
})

/** Starts one replica; answers its base URL once it listens. Killed with the scope. */
const replica = (env: Record<string, string>) =>
  Effect.acquireRelease(
    Effect.sync(() => ChildProcess.spawn(tsx, [main], { env: { ...process.env, ...env, PORT: "0" } })),
    (child) => Effect.sync(() => child.kill())
  ).pipe(
    Effect.flatMap((child) =>
      Effect.async<{ readonly base: string; readonly output: () => string }, Error>((resume) => {
        let out = ""
        let started = false
        child.stdout.on("data", (chunk) => {
          out += String(chunk)
          const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)
          if (!started && port !== null && out.includes("clients:")) {
            started = true
            resume(Effect.succeed({ base: `http://127.0.0.1:${port[1]}`, output: () => out }))
          }
        })
        child.stderr.on("data", (chunk) => out += String(chunk))
        child.on("exit", () => {
          if (!started) resume(Effect.fail(new Error(`a replica exited: ${out}`)))
        })
      })
    )
  )

const mute = (base: string, client: string, chat: number) =>
  Effect.promise(() =>
    fetch(`${base}/rest/${client}/im.chat.mute.json`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ CHAT_ID: chat, MUTE: "Y" })
    }).then(async (response) => ({ status: response.status, body: await response.text() }))
  )

describe("three replicas on one Redis under load", () => {
  it.scopedLive(
    "2,000 concurrent calls over 3 replicas: the portal's bucket holds (0 QUERY_LIMIT_EXCEEDED, at most 60 requests)",
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make({ limits: { bucket: "standard" }, journalLimit: 10_000 })
        const url = yield* redis
        const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "b24-proxy-replicas-"))
        yield* Effect.addFinalizer(() => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true })))
        const config = Path.join(dir, "b24-proxy.yaml")
        Fs.writeFileSync(
          config,
          [
            "portals:",
            "  main:",
            `    webhook: ${Redacted.value(emulator.webhookUrl)}`,
            "clients:",
            "  - id: 1",
            "    secret: replica-busy-client",
            "    limit: off",
            "  - id: 2",
            "    secret: replica-small-client",
            "    limit: 3/0.01"
          ].join("\n") + "\n"
        )
        const env = {
          B24_PROXY_CONFIG: config,
          B24_REDIS_URL: url,
          // This test's own keys on a Redis other tests may share.
          B24_REDIS_PREFIX: `test:${Crypto.randomUUID()}:`,
          // On a machine this test shares with the rest of the suite, a replica's event loop can be busy for seconds:
          // the bound on waiting for Redis (StateUnavailable past it, tested in packages/http) is not what this tests.
          B24_REDIS_WAIT: "60 seconds"
        }
        const replicas = yield* Effect.all([replica(env), replica(env), replica(env)], { concurrency: "unbounded" })
        for (const started of replicas) expect(started.output()).toContain("shared with every replica through Redis")

        const answers = yield* Effect.forEach(
          Array.from({ length: 2000 }, (_, i) => i),
          (i) => mute(replicas[i % 3]!.base, "1/replica-busy-client", 1489),
          { concurrency: "unbounded" }
        )
        expect(answers.filter((answer) => answer.status !== 200)).toEqual([])
        const journal = emulator.journal
        expect(journal.filter((entry) => entry.error === "QUERY_LIMIT_EXCEEDED").length).toBe(0)
        expect(journal.filter((entry) => entry.method === "im.chat.mute" && entry.executed).length).toBe(2000)
        expect(emulator.httpRequests()).toBeLessThanOrEqual(60)

        // The small client's bucket (3 requests) is one bucket for the three replicas: 6 calls, one pair per
        // replica, give 3 answers and 3 refusals, not 6 answers.
        const small = yield* Effect.forEach(
          [0, 1, 2, 0, 1, 2],
          (i) => mute(replicas[i]!.base, "2/replica-small-client", 1489)
        )
        expect(small.map((answer) => answer.status)).toEqual([200, 200, 200, 503, 503, 503])
        expect(JSON.parse(small[3]!.body)).toMatchObject({ error: "QUERY_LIMIT_EXCEEDED" })
      }),
    120_000
  )
})
