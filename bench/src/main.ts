/**
 * `pnpm bench`: this transport against the official `@bitrix24/b24jssdk`, in the same run, against the same emulated
 * portal over HTTPS (a self-signed certificate made at start), each client run in its own child process.
 *
 * (a) Limits: 2,000 independent calls under a leaky bucket of 50 with a fast drain (500 per second, so a run takes
 *     seconds): ours with automatic batching, ours one request per call, and the official SDK's batch paths
 *     (`batchByChunk`, and 50-command `batch` calls all at once) and one request per call.
 * (b) Throughput on loopback with the limits off: calls per second, one after the other and 16 at once.
 * (c) The emulator alone: a bare keep-alive HTTPS client, 64 at once, to show the emulator is not the bottleneck.
 *
 * Per scenario: calls, HTTP requests and QUERY_LIMIT_EXCEEDED answers (from the emulator), seconds of the workload,
 * the floor the bucket forces at best, and the client process's peak resident memory. Prints a table and writes
 * bench/results.json.
 *
 * Each client is bundled with esbuild (as an application ships; no TypeScript loader or source maps at run time) and
 * runs in its own process: it first warms up with up to 500 calls of its scenario against the emulator with the limits
 * off (not measured), then the emulator is reset (journal, counters, bucket) and the scenario's limits set, and the
 * measured run starts with a fresh client instance (both clients keep their process-wide HTTP connection pool: Node's
 * global agent for the official SDK's axios, undici's global dispatcher for ours).
 *
 * Working aids: BENCH_ONLY=<id>,<id> runs only those scenarios (results.json is then not written); BENCH_NODE_ARGS
 * passes Node flags to the client processes (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
 */
import { Emulator } from "@bitrix24-effect/emulator"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Esbuild from "esbuild"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Cli from "./Cli.js"
import { floorSeconds, type Scenario } from "./Scenario.js"

const benchDir = Path.join(import.meta.dirname, "..")
const buildDir = Path.join(benchDir, "build")

const entries = {
  ours: "ClientOurs",
  official: "ClientOfficial",
  raw: "ClientRaw"
} as const

const entryOf = (scenario: Scenario) =>
  scenario.client.startsWith("ours") ? entries.ours : scenario.client.startsWith("raw") ? entries.raw : entries.official

/** Bundles each client into one ESM file (Node 20, no source maps). */
const bundle = Effect.promise(() =>
  Esbuild.build({
    entryPoints: Object.values(entries).map((name) => Path.join(import.meta.dirname, `${name}.ts`)),
    outdir: buildDir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "error",
    // CommonJS dependencies inside an ES module bundle need a require.
    banner: {
      js:
        "import { createRequire as __createRequire } from \"node:module\"; const require = __createRequire(import.meta.url);"
    }
  })
)

const limited = { size: 50, drain: 500 } as const
const calls = 2_000

const scenarios: ReadonlyArray<Scenario> = [
  {
    id: "a-ours-batched",
    group: "limits",
    title: "ours, automatic batching",
    client: "ours-batched",
    calls,
    concurrency: "all",
    bucket: limited,
    minimumRequests: Math.ceil(calls / 50)
  },
  {
    id: "a-ours-explicit",
    group: "limits",
    title: "ours, explicit Batch.run (chunks at once)",
    client: "ours-explicit",
    calls,
    concurrency: "all",
    bucket: limited,
    minimumRequests: Math.ceil(calls / 50)
  },
  {
    id: "a-ours-single",
    group: "limits",
    title: "ours, one request per call",
    client: "ours-single",
    calls,
    concurrency: "all",
    bucket: limited,
    minimumRequests: calls
  },
  {
    id: "a-official-batch-by-chunk",
    group: "limits",
    title: "official, batchByChunk",
    client: "official-batch-by-chunk",
    calls,
    concurrency: "all",
    bucket: limited,
    minimumRequests: Math.ceil(calls / 50)
  },
  {
    id: "a-official-batch-concurrent",
    group: "limits",
    title: "official, 40 batch calls at once",
    client: "official-batch-concurrent",
    calls,
    concurrency: "all",
    bucket: limited,
    minimumRequests: Math.ceil(calls / 50)
  },
  {
    id: "a-official-single",
    group: "limits",
    title: "official, one request per call",
    client: "official-single",
    calls,
    concurrency: "all",
    bucket: limited,
    minimumRequests: calls
  },
  {
    id: "b-ours-sequential",
    group: "throughput",
    title: "ours, sequential",
    client: "ours-single",
    calls: 2_000,
    concurrency: 1,
    bucket: "off",
    minimumRequests: 2_000
  },
  {
    id: "b-official-sequential",
    group: "throughput",
    title: "official, sequential",
    client: "official-single",
    calls: 2_000,
    concurrency: 1,
    bucket: "off",
    minimumRequests: 2_000
  },
  {
    id: "b-ours-16",
    group: "throughput",
    title: "ours, 16 concurrent",
    client: "ours-single",
    calls: 6_000,
    concurrency: 16,
    bucket: "off",
    minimumRequests: 6_000
  },
  {
    id: "b-official-16",
    group: "throughput",
    title: "official, 16 concurrent",
    client: "official-single",
    calls: 6_000,
    concurrency: 16,
    bucket: "off",
    minimumRequests: 6_000
  },
  {
    id: "b-ours-16-batched",
    group: "throughput",
    title: "ours, 16 concurrent, automatic batching",
    client: "ours-batched",
    calls: 6_000,
    concurrency: 16,
    bucket: "off",
    minimumRequests: 375
  },
  {
    id: "c-emulator",
    group: "emulator",
    title: "emulator alone (bare HTTPS client, 64 at once)",
    client: "raw",
    calls: 30_000,
    concurrency: 64,
    bucket: "off",
    minimumRequests: 30_000
  },
  {
    id: "c-emulator-batch",
    group: "emulator",
    title: "emulator alone, batch commands (bare client, 16 batches of 50 at once)",
    client: "raw-batch",
    calls: 30_000,
    concurrency: 16,
    bucket: "off",
    minimumRequests: 600
  }
]

/** One scenario's result, as results.json has it. */
interface Row {
  readonly id: string
  readonly group: Scenario["group"]
  readonly title: string
  readonly calls: number
  readonly concurrency: Scenario["concurrency"]
  readonly ok: number
  readonly failed: number
  readonly httpRequests: number
  readonly queryLimitExceeded: number
  readonly runs: number
  readonly seconds: number
  readonly floorSeconds: number
  readonly callsPerSecond: number
  readonly peakRssMb: number
  /** The client process's peak resident memory when the warm-up had finished, before the measured run (MB). */
  readonly warmRssMb: number
}

interface Measured {
  readonly ok: number
  readonly failed: number
  readonly seconds: number
  readonly peakRssMb: number
  /** Peak resident memory after the warm-up, before the measured run. */
  readonly warmRssMb?: number | undefined
}

/** BENCH_NODE_ARGS: extra Node flags for the client processes (e.g. `--cpu-prof`), for profiling. */
const nodeArgs = (process.env.BENCH_NODE_ARGS ?? "").split(" ").filter((arg) => arg.length > 0)

/**
 * Runs one client in a child process: when it says "ready" (warm-up done), `prepare` resets the emulator, then "go"
 * starts the measured run; answers the client's JSON line.
 */
const runClient = (scenario: Scenario, env: Record<string, string>, prepare: () => void) =>
  Effect.async<Measured, Error>((resume) => {
    const child = ChildProcess.spawn(
      process.execPath,
      [...nodeArgs, Path.join(buildDir, `${entryOf(scenario)}.mjs`), JSON.stringify(scenario)],
      { cwd: benchDir, env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"] }
    )
    let out = ""
    let err = ""
    child.stdout.on("data", (chunk) => {
      out += chunk
      if (out.startsWith("ready\n") && !out.includes("go-sent")) {
        out = out.slice("ready\n".length) + "go-sent\n"
        prepare()
        child.stdin.write("go\n")
      }
    })
    child.stderr.on("data", (chunk) => err += chunk)
    child.on("exit", (code) => {
      const line = out.trim().split("\n").pop() ?? ""
      try {
        resume(Effect.succeed(JSON.parse(line) as Measured))
      } catch {
        resume(Effect.fail(new Error(`${scenario.id} exited with ${code}: ${err.slice(-2000)}`)))
      }
    })
    return Effect.sync(() => child.kill())
  })

const shell = (command: string) => {
  try {
    return ChildProcess.execSync(command, { encoding: "utf8" }).trim()
  } catch {
    return "n/a"
  }
}

const round = (value: number, digits = 2) => Number(value.toFixed(digits))

const program = Effect.gen(function*() {
  yield* bundle
  const emulator = yield* Emulator.make({ tls: true, journalLimit: 20_000 })
  const certificate = Path.join(Os.tmpdir(), `b24-bench-${process.pid}.pem`)
  Fs.writeFileSync(certificate, emulator.certificate ?? "")
  yield* Effect.addFinalizer(() => Effect.sync(() => Fs.rmSync(certificate, { force: true })))
  const env = { NODE_EXTRA_CA_CERTS: certificate, BENCH_WEBHOOK_URL: Redacted.value(emulator.webhookUrl) }
  const machine = {
    nproc: shell("nproc"),
    memory: shell("free -h"),
    cpu: Os.cpus()[0]?.model ?? "n/a",
    node: process.version,
    platform: `${Os.platform()} ${Os.release()}`
  }
  yield* Console.log(`Bitrix24 bench: emulator at ${emulator.url} (HTTPS), node ${machine.node}, ${machine.nproc} CPUs`)

  // BENCH_ONLY=<id>,<id>: run only these scenarios (a quick look while working; results.json is then not written).
  const only = (process.env.BENCH_ONLY ?? "").split(",").map((id) => id.trim()).filter((id) => id.length > 0)
  const selected = only.length === 0 ? scenarios : scenarios.filter((scenario) => only.includes(scenario.id))
  const rows: Array<Row> = []
  for (const scenario of selected) {
    // Short runs are repeated and the median run kept, so one hiccup of a shared machine does not decide.
    const repeats = scenario.group === "limits" && floorSeconds(scenario) === 0 ? 3 : 1
    const runs: Array<
      { readonly measured: Measured; readonly httpRequests: number; readonly queryLimitExceeded: number }
    > = []
    for (let run = 0; run < repeats; run++) {
      emulator.reset()
      emulator.setLimits({ bucket: "off" })
      const measured = yield* runClient(scenario, env, () => {
        emulator.reset()
        emulator.setLimits({
          bucket: scenario.bucket === "off"
            ? "off"
            : { size: scenario.bucket.size, drainPerSecond: scenario.bucket.drain },
          operatingLimitSeconds: 480
        })
      })
      runs.push({
        measured,
        httpRequests: emulator.httpRequests(),
        queryLimitExceeded: emulator.journal.filter((entry) => entry.error === "QUERY_LIMIT_EXCEEDED").length
      })
    }
    runs.sort((a, b) => a.measured.seconds - b.measured.seconds)
    const { httpRequests, measured, queryLimitExceeded } = runs[Math.floor(runs.length / 2)]!
    const row: Row = {
      id: scenario.id,
      group: scenario.group,
      title: scenario.title,
      calls: scenario.calls,
      concurrency: scenario.concurrency,
      ok: measured.ok,
      failed: measured.failed,
      httpRequests,
      queryLimitExceeded,
      runs: repeats,
      seconds: round(measured.seconds, 3),
      floorSeconds: round(floorSeconds(scenario), 3),
      callsPerSecond: Math.round(scenario.calls / measured.seconds),
      peakRssMb: round(measured.peakRssMb, 1),
      warmRssMb: round(measured.warmRssMb ?? 0, 1)
    }
    rows.push(row)
    yield* Console.log(
      `  ${row.id}: ${row.seconds} s, ${row.httpRequests} requests, ${row.queryLimitExceeded} QLE, ` +
        `${row.callsPerSecond} calls/s, ${row.peakRssMb} MB (${row.warmRssMb} MB after warm-up), ` +
        `${row.ok} ok / ${row.failed} failed`
    )
  }

  const cli = yield* Cli.run(only)

  if (only.length > 0) {
    yield* Console.log("BENCH_ONLY set: partial run, bench/results.json not written")
    return
  }
  const byId = (id: string) => rows.find((row) => row.id === id)!
  const ours = byId("a-ours-batched")
  const explicit = byId("a-ours-explicit")
  const official = rows.filter((row) => row.group === "limits" && row.id.startsWith("a-official"))
  const officialBest = official.reduce((best, row) => row.seconds < best.seconds ? row : best)
  const targets = {
    automaticBatchingWithinFloorPlusOneSecond: ours.seconds <= 1.1 * ours.floorSeconds + 1,
    automaticBatchingFasterThanOfficialBest: ours.seconds < officialBest.seconds,
    automaticBatchingNoMoreMemoryThanOfficialBest: ours.peakRssMb <= officialBest.peakRssMb,
    explicitBatchFasterThanOfficialBest: explicit.seconds < officialBest.seconds,
    explicitBatchNoMoreMemoryThanOfficialBest: explicit.peakRssMb <= officialBest.peakRssMb,
    oursNoQueryLimitExceeded: rows.filter((row) => row.id.includes("ours")).every((row) =>
      row.queryLimitExceeded === 0
    ),
    emulatorAtLeast5000PerSecond: byId("c-emulator").callsPerSecond >= 5_000
  }

  const header =
    "| scenario | calls | HTTP requests | QUERY_LIMIT_EXCEEDED | seconds | floor (s) | calls/s | peak RSS (MB) |"
  const table = [
    header,
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map((row) =>
      `| ${
        row.group === "limits" ? "(a) " : row.group === "throughput" ? "(b) " : "(c) "
      }${row.title} | ${row.calls} | ` +
      `${row.httpRequests} | ${row.queryLimitExceeded} | ${row.seconds} | ${row.floorSeconds} | ${row.callsPerSecond} | ` +
      `${row.peakRssMb} |`
    )
  ].join("\n")
  yield* Console.log(`\n${table}\n`)
  yield* Console.log(`machine: ${machine.nproc} CPUs (${machine.cpu}), node ${machine.node}, ${machine.platform}`)
  yield* Console.log(machine.memory)
  yield* Console.log(`official best in (a): ${officialBest.title}`)
  yield* Console.log(`targets: ${JSON.stringify(targets, null, 2)}`)
  const results = {
    date: new Date().toISOString(),
    machine,
    bucket: limited,
    scenarios: rows,
    officialBest: officialBest.id,
    targets,
    cli
  }
  Fs.writeFileSync(Path.join(benchDir, "results.json"), `${JSON.stringify(results, null, 2)}\n`)
  yield* Console.log(`wrote ${Path.join("bench", "results.json")}`)
})

program.pipe(Effect.scoped, NodeRuntime.runMain)
