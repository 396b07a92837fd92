/**
 * Runs one client bundle in its own Node process and measures it from outside (`ProcessUsage`).
 *
 * The protocol (`Harness.ts`, the same in older commits' bundles): the client warms up, prints `ready`, waits for a
 * line on stdin, runs the measured workload and prints one JSON line (`ok`, `failed`, `seconds`, `peakRssMb`,
 * `warmRssMb`), then exits. At `ready` the runner reads the client's CPU and peak memory so far and lets the
 * orchestrator prepare the emulator (reset, limits), then sends `go`; at the result line it reads both again. The CPU
 * difference is the measured run's user plus system CPU (`clientCpuMs`). Should the client already be gone when its
 * result line is handled (a race the client's prompt exit can win), its whole CPU comes from this process's
 * reaped-children counter instead, which adds the few ms of the client's exit, and its memory from its own report.
 *
 * @since 0.1.0
 */
import * as Command from "@effect/platform/Command"
import type * as CommandExecutor from "@effect/platform/CommandExecutor"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { BenchError } from "./BenchError.js"
import * as ProcessUsage from "./ProcessUsage.js"
import type { Scenario } from "./Scenario.js"

const ResultLine = Schema.parseJson(Schema.Struct({
  ok: Schema.Number,
  failed: Schema.Number,
  seconds: Schema.Number,
  peakRssMb: Schema.Number,
  warmRssMb: Schema.optional(Schema.Number)
}))

/**
 * What one measured run gives: the client's own report, and its CPU measured from outside.
 *
 * @since 0.1.0
 * @category models
 */
export interface Measured {
  readonly ok: number
  readonly failed: number
  /** Wall-clock seconds of the measured workload (the client's own timer). */
  readonly seconds: number
  /** The client process's peak resident memory at the end of the measured run (MB). */
  readonly peakRssMb: number
  /** Its peak resident memory when the warm-up had finished (MB). */
  readonly warmRssMb: number
  /** User plus system CPU of the client process during the measured run (ms). */
  readonly clientCpuMs: number
  /** The measured run, from `go` to the result line, in µs of the monotonic clock (`process.hrtime`). */
  readonly window: { readonly startMicros: number; readonly endMicros: number }
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The client's bundled program (`.mjs`). */
  readonly bundle: string
  readonly scenario: Scenario
  /** The client's working directory. */
  readonly cwd: string
  /** Added to this process's environment for the client. */
  readonly env: Readonly<Record<string, string>>
  /** Node flags before the program (e.g. `--cpu-prof`). */
  readonly nodeArgs: ReadonlyArray<string>
  /** Runs between the warm-up and the measured run: resets the emulator and sets the scenario's limits. */
  readonly prepare: Effect.Effect<void, BenchError>
}

const go = new TextEncoder().encode("go\n")

const nowMicros = () => Number(process.hrtime.bigint() / 1000n)

/**
 * Runs the client to its result line and exit.
 *
 * @since 0.1.0
 * @category constructors
 */
export const run = (options: Options): Effect.Effect<Measured, BenchError, CommandExecutor.CommandExecutor> =>
  Effect.scoped(Effect.gen(function*() {
    const { scenario } = options
    const fail = (reason: string) => new BenchError({ message: `${scenario.id} (${options.bundle}): ${reason}` })
    const childrenBefore = ProcessUsage.reapedChildrenCpuMs()
    const child = yield* Command.start(
      Command.make(process.execPath, ...options.nodeArgs, options.bundle, JSON.stringify(scenario)).pipe(
        Command.workingDirectory(options.cwd),
        Command.env(options.env)
      )
    )
    const stderr = yield* child.stderr.pipe(
      Stream.decodeText(),
      Stream.runFold("", (all, chunk) => (all + chunk).slice(-4000)),
      Effect.fork
    )
    let cpuAtGo: number | undefined
    let cpuAtResult: number | undefined
    let warmRss: number | undefined
    let peakRss: number | undefined
    let startMicros = 0
    let endMicros = 0
    let resultLine: string | undefined
    yield* child.stdout.pipe(
      Stream.decodeText(),
      Stream.splitLines,
      Stream.runForEach((line) => {
        if (line === "ready" && cpuAtGo === undefined) {
          return Effect.suspend(() => {
            cpuAtGo = ProcessUsage.cpuMs(child.pid)
            warmRss = ProcessUsage.peakRssMb(child.pid)
            return options.prepare
          }).pipe(
            Effect.zipRight(Effect.sync(() => startMicros = nowMicros())),
            Effect.zipRight(Stream.run(Stream.make(go), child.stdin))
          )
        }
        if (line.startsWith("{") && resultLine === undefined) {
          return Effect.sync(() => {
            cpuAtResult = ProcessUsage.cpuMs(child.pid)
            peakRss = ProcessUsage.peakRssMb(child.pid)
            endMicros = nowMicros()
            resultLine = line
          })
        }
        return Effect.void
      })
    )
    const code = yield* child.exitCode
    const errors = yield* stderr.await.pipe(Effect.map((exit) => exit._tag === "Success" ? exit.value : ""))
    if (resultLine === undefined) return yield* fail(`exited with ${code} without a result line:\n${errors}`)
    const result = yield* Schema.decode(ResultLine)(resultLine).pipe(
      Effect.mapError(() => fail(`unreadable result line: ${resultLine}`))
    )
    if (cpuAtGo === undefined) return yield* fail("no CPU reading at the start of the measured run (is /proc there?)")
    const cpuAtEnd = cpuAtResult ?? ProcessUsage.reapedChildrenCpuMs() - childrenBefore
    return {
      ok: result.ok,
      failed: result.failed,
      seconds: result.seconds,
      peakRssMb: peakRss ?? result.peakRssMb,
      warmRssMb: warmRss ?? result.warmRssMb ?? 0,
      clientCpuMs: cpuAtEnd - cpuAtGo,
      window: { startMicros, endMicros }
    }
  })).pipe(
    Effect.catchTags({
      SystemError: (error) => new BenchError({ message: `${options.scenario.id}: ${error.message}` }),
      BadArgument: (error) => new BenchError({ message: `${options.scenario.id}: ${error.message}` })
    })
  )
