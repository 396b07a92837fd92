/**
 * The (g) scenarios: the `b24` command line as it is installed, its bundle (`apps/cli/dist/b24.cjs`, built first by
 * `build`) run with plain `node`, one whole process per call, measured from outside:
 * - cold start (`g-node`, `g-b24-help`, `g-b24-call`): `node -e 0` (the floor of any Node process), `b24 --help` and
 *   a typed call (`b24 im chat mute --chat-id 1489`) to an inbound webhook on loopback (an emulated portal over plain
 *   HTTP, limits off). The selected ones take turns, round after round, so that each meets the machine as the others
 *   do; each row is the median of its processes;
 * - bulk (`g-b24-bulk`): `b24 im chat mute --input FILE` with 10,000 lines against an emulated portal with the
 *   standard leaky bucket (50, draining 2 per second), the HTTP requests and `QUERY_LIMIT_EXCEEDED` answers counted by
 *   the portal.
 *
 * Per process: its wall time from spawn to exit, its CPU (user plus system: this process's reaped-children counter
 * before and after, `ProcessUsage.reapedChildrenCpuMs`; the process is the only child that ends meanwhile) and its
 * peak resident memory (`VmHWM`, sampled every 10 ms while it runs). A call counts as ok when the process exits 0 with
 * the expected output (`true` for a call, one `{"line":N,"result":true}` per line of a bulk run). The processes share
 * a fresh home, so that no profile of the machine is read; `b24`'s code cache (see `apps/cli/src/Loader.ts`) lives
 * there as for an installed command: written by the first call of the run, read by the others.
 *
 * @since 0.1.0
 */
import { Emulator } from "@bitrix24-effect/emulator"
import * as Command from "@effect/platform/Command"
import type * as CommandExecutor from "@effect/platform/CommandExecutor"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { performance } from "node:perf_hooks"
import { BenchError } from "./BenchError.js"
import * as ProcessUsage from "./ProcessUsage.js"
import type * as Report from "./Report.js"
import type { Scenario } from "./Scenario.js"

const cliDir = Path.join(import.meta.dirname, "..", "..", "apps", "cli")

/**
 * The bundle the scenarios run.
 *
 * @since 0.1.0
 * @category constants
 */
export const bundle = Path.join(cliDir, "dist", "b24.cjs")

/**
 * Builds the bundle (`pnpm build` of `apps/cli`), so that the scenarios run the current sources.
 *
 * @since 0.1.0
 * @category constructors
 */
export const build: Effect.Effect<void, BenchError> = Effect.async((resume) => {
  ChildProcess.execFile(
    process.execPath,
    [Path.join(cliDir, "scripts", "bundle.mjs")],
    (error, _stdout, stderr) =>
      resume(error === null ? Effect.void : Effect.fail(new BenchError({ message: `b24 bundle failed: ${stderr}` })))
  )
})

const text = <E>(stream: Stream.Stream<Uint8Array, E>) =>
  stream.pipe(Stream.decodeText(), Stream.runFold("", (all, chunk) => all + chunk))

/** A fresh home: no profile, code cache or state of the machine is read, and nothing is left behind. */
const home = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "b24-bench-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
)

interface Process {
  readonly seconds: number
  readonly cpuMs: number
  readonly peakRssMb: number
  readonly code: number
  readonly stdout: string
}

/** Runs `node ...args` to its end with this environment and home directory, and measures it. */
const measure = (args: ReadonlyArray<string>, env: Readonly<Record<string, string>>, dir: string) =>
  Effect.scoped(Effect.gen(function*() {
    const cpuBefore = ProcessUsage.reapedChildrenCpuMs()
    const started = performance.now()
    const child = yield* Command.start(
      Command.make(process.execPath, ...args).pipe(
        Command.env({
          ...env,
          HOME: dir,
          XDG_CONFIG_HOME: `${dir}/config`,
          XDG_STATE_HOME: `${dir}/state`,
          XDG_CACHE_HOME: `${dir}/cache`,
          B24_PROFILE: ""
        })
      )
    )
    let peakRssMb = 0
    yield* Effect.forkScoped(Effect.repeat(
      Effect.sync(() => {
        peakRssMb = Math.max(peakRssMb, ProcessUsage.peakRssMb(child.pid) ?? 0)
      }),
      Schedule.spaced("10 millis")
    ))
    const [stdout, , code] = yield* Effect.all([text(child.stdout), text(child.stderr), child.exitCode], {
      concurrency: "unbounded"
    })
    return {
      seconds: (performance.now() - started) / 1000,
      cpuMs: ProcessUsage.reapedChildrenCpuMs() - cpuBefore,
      peakRssMb,
      code,
      stdout
    } satisfies Process
  })).pipe(
    Effect.catchTags({
      SystemError: (error) => new BenchError({ message: `node ${args.join(" ")}: ${error.message}` }),
      BadArgument: (error) => new BenchError({ message: `node ${args.join(" ")}: ${error.message}` })
    })
  )

/** The process's run as the report has it: `ok` the calls that gave the expected output. */
const toRun = (process: Process, ok: number, calls: number, portal: Emulator.Service | undefined): Report.Run => ({
  measured: {
    ok,
    failed: calls - ok,
    seconds: process.seconds,
    peakRssMb: process.peakRssMb,
    // No warm-up: a command starts cold.
    warmRssMb: 0,
    clientCpuMs: process.cpuMs,
    window: { startMicros: 0, endMicros: 0 }
  },
  httpRequests: portal === undefined ? 0 : portal.httpRequests(),
  queryLimitExceeded: portal === undefined
    ? 0
    : portal.journal.filter((entry) => entry.error === "QUERY_LIMIT_EXCEEDED").length
})

const bulkLine = (line: number) => `{"line":${line},"result":true}`

/** One run of a scenario: its process, against `portal` (reset and limited as the scenario says). */
const once = (scenario: Scenario, portal: Emulator.Service, dir: string, input: string) =>
  Effect.gen(function*() {
    portal.reset()
    portal.setLimits({
      bucket: scenario.bucket === "off"
        ? "off"
        : { size: scenario.bucket.size, drainPerSecond: scenario.bucket.drain },
      operatingLimitSeconds: 480
    })
    const webhook = { B24_WEBHOOK_URL: Redacted.value(portal.webhookUrl) }
    switch (scenario.client) {
      case "node-e-0": {
        const process = yield* measure(["-e", "0"], {}, dir)
        return toRun(process, process.code === 0 ? 1 : 0, 1, undefined)
      }
      case "b24-help": {
        const process = yield* measure([bundle, "--help"], {}, dir)
        return toRun(process, process.code === 0 && process.stdout.includes("Usage") ? 1 : 0, 1, undefined)
      }
      case "b24-call": {
        const process = yield* measure([bundle, "im", "chat", "mute", "--chat-id", "1489"], {
          ...webhook,
          B24_BUCKET: "off"
        }, dir)
        return toRun(process, process.code === 0 && process.stdout === "true\n" ? 1 : 0, 1, portal)
      }
      case "b24-bulk": {
        const process = yield* measure([bundle, "im", "chat", "mute", "--input", input], webhook, dir)
        const lines = process.stdout.split("\n")
        const ok = lines.filter((line, index) => line === bulkLine(index + 1)).length
        return toRun(process, ok, scenario.calls, portal)
      }
      default:
        return yield* new BenchError({ message: `${scenario.id}: not a b24 process scenario` })
    }
  })

/**
 * Builds the bundle and runs the selected (g) scenarios (see the module's description); answers each scenario's
 * runs, in the order given.
 *
 * @since 0.1.0
 * @category running
 */
export const run = (
  scenarios: ReadonlyArray<Scenario>
): Effect.Effect<
  ReadonlyArray<readonly [Scenario, ReadonlyArray<Report.Run>]>,
  BenchError,
  CommandExecutor.CommandExecutor
> =>
  Effect.scoped(Effect.gen(function*() {
    if (scenarios.length === 0) return []
    yield* build
    const lines = Math.max(...scenarios.map((scenario) => scenario.client === "b24-bulk" ? scenario.calls : 0))
    const portal = yield* Emulator.make({ journalLimit: 2 * lines + 100 }).pipe(
      Effect.mapError((error) => new BenchError({ message: `the emulator did not start: ${error.message}` }))
    )
    const dir = yield* home
    const input = Path.join(dir, "chats.ndjson")
    Fs.writeFileSync(input, `{"CHAT_ID":1489}\n`.repeat(lines))
    const runs = new Map(scenarios.map((scenario) => [scenario, [] as Array<Report.Run>]))
    // Round after round, each scenario that still has runs to make takes its turn.
    const rounds = Math.max(...scenarios.map((scenario) => scenario.repeats))
    for (let round = 0; round < rounds; round++) {
      for (const scenario of scenarios) {
        if (round < scenario.repeats) runs.get(scenario)!.push(yield* once(scenario, portal, dir, input))
      }
    }
    return scenarios.map((scenario) => [scenario, runs.get(scenario)!] as const)
  }))
