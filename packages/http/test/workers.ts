/**
 * Library worker processes for the cross-process tests: each a separate Node process (test/workers/portalWorker.ts
 * under tsx) with its own transport and its own Redis connection, driven over stdin and reporting over stdout.
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as ChildProcess from "node:child_process"
import * as Path from "node:path"
import type * as PortalLimits from "../src/PortalLimits.js"

/** What a worker is told (as JSON in `B24_WORKER_CONFIG`). */
export interface WorkerConfig {
  readonly redisUrl: string
  readonly prefix: string
  /** How long a Redis operation waits for Redis (`SharedState.Options.wait`). */
  readonly wait?: string | undefined
  readonly bucket: PortalLimits.Bucket
  readonly calls: number
  readonly concurrency: number
  readonly portal:
    | { readonly kind: "webhook"; readonly url: string }
    | {
      readonly kind: "oauth"
      readonly key: string
      readonly clientId: string
      readonly clientSecret: string
      readonly tokenUrl: string
      readonly refreshTimeout?: string | undefined
    }
}

/** How a worker's calls ended: successes, failures by error class, and when it ran (epoch ms). */
export interface Summary {
  readonly ok: number
  readonly failed: Readonly<Record<string, number>>
  readonly startedAt: number
  readonly finishedAt: number
}

/** What a worker says. */
export type WorkerEvent =
  | { readonly event: "ready" }
  | ({ readonly event: "done" } & Summary)
  | { readonly event: "error"; readonly message: string }

/** A running worker. */
export interface Worker {
  /** Its layers are built (Redis connected, tokens read). */
  readonly ready: Effect.Effect<void, Error>
  /** Starts its calls. */
  readonly go: Effect.Effect<void>
  /** How its calls ended; fails if it died first. */
  readonly done: Effect.Effect<Summary, Error>
  /** SIGKILL, as a crash. */
  readonly kill: Effect.Effect<void>
}

const script = Path.join(import.meta.dirname, "workers", "portalWorker.ts")

/** Spawns a worker; it is killed when the scope closes. */
export const spawnWorker = (config: WorkerConfig): Effect.Effect<Worker, never, Scope.Scope> =>
  Effect.gen(function*() {
    const ready = yield* Deferred.make<void, Error>()
    const done = yield* Deferred.make<Summary, Error>()
    const child = yield* Effect.acquireRelease(
      Effect.sync(() =>
        ChildProcess.spawn(process.execPath, ["--import", "tsx", script], {
          cwd: Path.join(import.meta.dirname, ".."),
          env: { ...process.env, B24_WORKER_CONFIG: JSON.stringify(config) },
          stdio: ["pipe", "pipe", "pipe"]
        })
      ),
      (child) => Effect.sync(() => child.kill("SIGKILL"))
    )
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk) => {
      stdout += String(chunk)
      let end = stdout.indexOf("\n")
      while (end !== -1) {
        const line = stdout.slice(0, end)
        stdout = stdout.slice(end + 1)
        end = stdout.indexOf("\n")
        if (!line.startsWith("@@")) continue
        const event = JSON.parse(line.slice(2)) as WorkerEvent
        if (event.event === "ready") Deferred.unsafeDone(ready, Effect.void)
        if (event.event === "done") {
          const { event: _, ...summary } = event
          Deferred.unsafeDone(done, Effect.succeed(summary))
        }
        if (event.event === "error") {
          const error = new Error(`worker failed: ${event.message}`)
          Deferred.unsafeDone(ready, Effect.fail(error))
          Deferred.unsafeDone(done, Effect.fail(error))
        }
      }
    })
    child.stderr.on("data", (chunk) => {
      stderr += String(chunk)
    })
    child.once("exit", (code, signal) => {
      const error = new Error(`worker exited (${signal ?? code}) before it was done:\n${stderr.slice(-2000)}`)
      Deferred.unsafeDone(ready, Effect.fail(error))
      Deferred.unsafeDone(done, Effect.fail(error))
    })
    return {
      ready: Deferred.await(ready),
      go: Effect.sync(() => void child.stdin.write("go\n")),
      done: Deferred.await(done),
      kill: Effect.async<void>((resume) => {
        if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
        child.once("exit", () => resume(Effect.void))
        child.kill("SIGKILL")
      })
    }
  })
