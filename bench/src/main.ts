/**
 * `pnpm bench`: this transport against the official `@bitrix24/b24jssdk`, in the same run, against the same emulated
 * portals over HTTPS (one self-signed certificate made at start), each client run in its own child process.
 *
 * (a) Limits: 2,000 independent calls under a leaky bucket of 50 with a fast drain (500 per second, so a run takes
 *     seconds): ours with automatic batching, with the explicit `Batch.run` and one request per call; the official
 *     SDK's `batchByChunk`, its `batch` calls all at once and one request per call.
 * (b) Throughput on loopback with the limits off: calls per second, one after the other and 16 at once.
 * (c) The emulator alone: a bare keep-alive HTTPS client, to show the emulator is not the bottleneck.
 * (d) A cloud portal: every request answered after a latency (default 150 ms ± 30 ms), the standard bucket (50,
 *     draining 2 per second); 2,000 independent calls, ours automatic and explicit, the official batch paths.
 * (f) `b24-proxy` replicas (`Replicas.ts`): 1 and 3 processes on one Redis in front of one emulated portal, bucket off
 *     and standard, a load generator sending plain single calls round robin; and 1 replica without Redis.
 * (g) The `b24` command line, its bundle run as whole processes (`B24.ts`): the cold start of `b24 --help` and of a
 *     typed call next to `node -e 0`, and a bulk run of 10,000 lines under the standard bucket.
 *
 * Per scenario: calls, HTTP requests and QUERY_LIMIT_EXCEEDED answers (from the emulator), seconds of the workload,
 * the floor the bucket forces at best, the client process's CPU during the measured run (read from /proc by this
 * process, see `Runner.ts`) and its peak resident memory.
 *
 * Each client is bundled with esbuild and runs in its own process: it first warms up with up to 500 calls of its
 * scenario against the emulator with the limits off (not measured), then the emulator is reset (journal, counters,
 * bucket) and the scenario's limits set, and the measured run starts with a fresh client instance (both clients keep
 * their process-wide HTTP connection pool: Node's global agent for the official SDK's axios, undici's global
 * dispatcher for ours).
 *
 * Flags: `--write` (a full run also rewrites the committed bench/results.json and the README's generated section;
 * without it the results go to bench/build/results.json, ignored by git), `--baseline <ref>` (runs each scenario of
 * ours with the client of that commit too, alternated, in the same run), `--only <id>,<id>` (or BENCH_ONLY),
 * `--latency <ms>[/<jitter ms>]` (the cloud portal's), `--profile` (each client under `node --cpu-prof`, with a
 * summary of its self time during the measured run), `--node-args` (or BENCH_NODE_ARGS: Node flags for the client
 * processes).
 */
import { Emulator, Tls } from "@bitrix24-effect/emulator"
import * as CliCommand from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import type * as CommandExecutor from "@effect/platform/CommandExecutor"
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Url from "node:url"
import * as B24 from "./B24.js"
import * as Baseline from "./Baseline.js"
import { BenchError } from "./BenchError.js"
import * as Bundle from "./Bundle.js"
import * as Exec from "./Exec.js"
import * as ProcessUsage from "./ProcessUsage.js"
import * as Profile from "./Profile.js"
import * as ProxyProcess from "./ProxyProcess.js"
import * as Replicas from "./Replicas.js"
import * as Report from "./Report.js"
import * as Runner from "./Runner.js"
import { isOurs, isProcess, isReplicas, type Scenario } from "./Scenario.js"
import * as Scenarios from "./Scenarios.js"

const benchDir = Path.join(import.meta.dirname, "..")
const buildDir = Path.join(benchDir, "build")
/** Where every run writes its results; ignored by git, so a plain run leaves the tree clean. */
const latestResults = Path.join(buildDir, "results.json")
/** The committed results and the README with the generated section, rewritten only with `--write`. */
const committedResults = Path.join(benchDir, "results.json")
const repository = Path.join(benchDir, "..")
const readme = Path.join(repository, "README.md")

/** `--profile`: the clients' CPU profiles and their summaries. */
const profiles = Path.join(buildDir, "profiles")

const defaultLatency = "150/30"

/** Module lookup per bundle file, read once. */
const bundleModules = new Map<string, (line: number) => string>()
const moduleOf = (url: string, line: number) => {
  const file = url.startsWith("file://") ? Url.fileURLToPath(url) : url
  if (!file.endsWith(".mjs") || !Fs.existsSync(file)) return url
  let lookup = bundleModules.get(file)
  if (lookup === undefined) {
    lookup = Profile.moduleLines(Fs.readFileSync(file, "utf8"))
    bundleModules.set(file, lookup)
  }
  return lookup(line)
}

/** Prints and saves where the row's median run spent its CPU during the measured run. */
const summarizeProfile = (
  row: Report.Row,
  runs: ReadonlyArray<Report.Run>,
  files: ReadonlyMap<Runner.Measured, string>
) =>
  Effect.gen(function*() {
    const median = runs.reduce((best, run) =>
      Math.abs(run.measured.seconds - row.seconds) < Math.abs(best.measured.seconds - row.seconds) ? run : best
    )
    const file = files.get(median.measured)
    if (file === undefined || !Fs.existsSync(file)) {
      return yield* Console.log(`    no profile for ${row.id}`)
    }
    const profile = JSON.parse(Fs.readFileSync(file, "utf8")) as Profile.CpuProfile
    const entries = Profile.summarize(profile, median.measured.window, moduleOf)
    const summary = `${row.id}: ${row.clientCpuMs} ms of client CPU for ${row.calls} calls; top self time during ` +
      `the measured run (${Path.relative(repository, file)}):\n\n` +
      Profile.table(entries.slice(0, 15)) + "\n\nBy package:\n\n" + Profile.packageTable(Profile.byPackage(entries))
    Fs.writeFileSync(Path.join(profiles, `${row.id}.md`), `${summary}\n`)
    yield* Console.log(`\n${summary}\n`)
  })

/** `<ms>` or `<ms>/<jitter ms>`, non-negative integers. */
const parseLatency = (text: string) => {
  const match = /^(\d+)(?:\/(\d+))?$/.exec(text.trim())
  return match === null
    ? Effect.fail(new BenchError({ message: `--latency: expected <ms> or <ms>/<jitter ms>, got ${text}` }))
    : Effect.succeed({ ms: Number(match[1]), jitterMs: Number(match[2] ?? 0) })
}

const machine = Effect.gen(function*() {
  const shell = (command: string, ...args: ReadonlyArray<string>) =>
    Exec.run(benchDir, command, ...args).pipe(Effect.orElseSucceed(() => "n/a"))
  return {
    nproc: yield* shell("nproc"),
    memory: yield* shell("free", "-h"),
    cpu: Os.cpus()[0]?.model ?? "n/a",
    node: process.version,
    platform: `${Os.platform()} ${Os.release()}`
  }
})

const commitOfTree = Effect.gen(function*() {
  const commit = yield* Exec.run(benchDir, "git", "rev-parse", "--short=12", "HEAD")
  const changes = yield* Exec.run(benchDir, "git", "status", "--porcelain", "--untracked-files=no")
  return changes.length === 0 ? commit : `${commit} + changes`
}).pipe(Effect.orElseSucceed(() => "n/a"))

interface Flags {
  readonly write: boolean
  readonly profile: boolean
  readonly baseline: Option.Option<string>
  readonly only: Option.Option<string>
  readonly latency: string
  readonly nodeArgs: string
}

const program = (flags: Flags): Effect.Effect<
  void,
  BenchError | Error,
  CommandExecutor.CommandExecutor | FileSystem.FileSystem | Scope.Scope
> =>
  Effect.gen(function*() {
    const only = Option.getOrElse(flags.only, () => "").split(",").map((id) => id.trim()).filter((id) => id !== "")
    const unknown = only.filter((id) => Scenarios.all.every((scenario) => scenario.id !== id))
    if (unknown.length > 0) {
      return yield* new BenchError({
        message: `unknown scenario ${unknown.join(", ")}; known: ${Scenarios.all.map((s) => s.id).join(", ")}`
      })
    }
    if (flags.write && only.length > 0) {
      return yield* new BenchError({ message: "--write records a full run: leave out --only and BENCH_ONLY" })
    }
    if (flags.write && flags.profile) {
      return yield* new BenchError({ message: "--write records unprofiled figures: leave out --profile" })
    }
    if (flags.write && Report.replaceSection(Fs.readFileSync(readme, "utf8"), "") === undefined) {
      return yield* new BenchError({ message: `README.md lacks the generated section's markers (${readme})` })
    }
    const latency = yield* parseLatency(flags.latency)
    const selected = only.length === 0 ? Scenarios.all : Scenarios.all.filter((scenario) => only.includes(scenario.id))
    const nodeArgs = flags.nodeArgs.split(" ").filter((arg) => arg.length > 0)

    const clients = selected.filter((scenario) => !isProcess(scenario) && !isReplicas(scenario))
    const entries = [...new Set(clients.map((scenario) => Bundle.entryOf(scenario.client)))]
    const current = yield* Bundle.build(import.meta.dirname, Path.join(buildDir, "clients"), entries)
    const baseline = Option.isSome(flags.baseline) && selected.some(isOurs)
      ? yield* Baseline.build(flags.baseline.value, benchDir, buildDir)
      : undefined

    // One self-signed certificate for both emulators: two with the same subject in one CA file confuse the lookup.
    const tls = yield* Tls.selfSigned("127.0.0.1")
    const loopback = yield* Emulator.make({ tls, journalLimit: 20_000 })
    const cloud = yield* Emulator.make({ tls, journalLimit: 20_000, latency })
    const certificate = Path.join(Os.tmpdir(), `b24-bench-${process.pid}.pem`)
    Fs.writeFileSync(certificate, tls.cert)
    yield* Effect.addFinalizer(() => Effect.sync(() => Fs.rmSync(certificate, { force: true })))
    const portal = (scenario: Scenario) => scenario.network === "cloud" ? cloud : loopback
    // (e): b24-proxy's bundle in front of the loopback emulator, started once when a scenario goes through it.
    const proxy = selected.some((scenario) => scenario.network === "proxy")
      ? yield* ProxyProcess.start({
        bundleDir: Path.join(buildDir, "proxy"),
        upstream: Redacted.value(loopback.webhookUrl),
        tls,
        certificate
      })
      : undefined

    const about = yield* machine
    yield* Console.log(
      `Bitrix24 bench: emulators at ${loopback.url} and ${cloud.url} (cloud: ${latency.ms} ms ± ${latency.jitterMs} ` +
        `ms), node ${about.node}, ${about.nproc} CPUs${
          baseline === undefined ? "" : `, baseline ${baseline.ref} (${baseline.commit.slice(0, 12)})`
        }`
    )

    const rows: Array<Report.Row> = []
    const profiled = new Map<Runner.Measured, string>()
    for (const scenario of clients) {
      const emulator = portal(scenario)
      const variants = [
        { bundle: current[Bundle.entryOf(scenario.client)]!, baseline: undefined as string | undefined },
        ...(baseline !== undefined && isOurs(scenario) ? [{ bundle: baseline.bundle, baseline: baseline.ref }] : [])
      ]
      const runs = variants.map(() => [] as Array<Report.Run>)
      for (let repeat = 0; repeat < scenario.repeats; repeat++) {
        // Alternate which client goes first, so neither always meets a warmer machine.
        const order = repeat % 2 === 0 ? variants.keys() : [...variants.keys()].reverse()
        for (const index of order) {
          emulator.reset()
          emulator.setLimits({ bucket: "off" })
          const variant = variants[index]!
          const profile = Path.join(
            profiles,
            `${
              variant.baseline === undefined ? scenario.id : `${scenario.id}@${variant.baseline}`
            }.${repeat}.cpuprofile`
          )
          const measured = yield* Runner.run({
            bundle: variant.bundle,
            scenario,
            cwd: benchDir,
            env: {
              NODE_EXTRA_CA_CERTS: certificate,
              BENCH_WEBHOOK_URL: scenario.network === "proxy" && proxy !== undefined
                ? proxy.clientUrl
                : Redacted.value(emulator.webhookUrl)
            },
            nodeArgs: flags.profile
              ? [
                ...nodeArgs,
                "--cpu-prof",
                `--cpu-prof-dir=${Path.dirname(profile)}`,
                `--cpu-prof-name=${Path.basename(profile)}`
              ]
              : nodeArgs,
            prepare: Effect.sync(() => {
              if (scenario.network === "proxy") proxy?.resetPeakRss()
              emulator.reset()
              emulator.setLimits({
                bucket: scenario.bucket === "off"
                  ? "off"
                  : { size: scenario.bucket.size, drainPerSecond: scenario.bucket.drain },
                operatingLimitSeconds: 480
              })
            })
          })
          if (flags.profile) profiled.set(measured, profile)
          if (scenario.network === "proxy" && proxy !== undefined) {
            yield* Console.log(`    b24-proxy peak RSS during ${scenario.id}: ${proxy.peakRssMb()} MB`)
          }
          runs[index]!.push({
            measured,
            httpRequests: emulator.httpRequests(),
            queryLimitExceeded: emulator.journal.filter((entry) => entry.error === "QUERY_LIMIT_EXCEEDED").length
          })
        }
      }
      for (const [index, variant] of variants.entries()) {
        const row = Report.row(scenario, runs[index]!, variant.baseline)
        rows.push(row)
        yield* Console.log(
          `  ${row.id}: ${row.seconds} s, ${row.httpRequests} requests, ${row.queryLimitExceeded} QLE, ` +
            `${row.callsPerSecond} calls/s, CPU ${row.clientCpuMs} ms (${
              Report.cpuPerCall(row).toFixed(3)
            } ms/call), ` +
            `${row.peakRssMb} MB (${row.warmRssMb} MB after warm-up), ${row.ok} ok / ${row.failed} failed`
        )
        if (flags.profile) yield* summarizeProfile(row, runs[index]!, profiled)
      }
    }
    // (f): b24-proxy replicas on one Redis, with their own emulated portal over plain HTTP.
    const replicaScenarios = selected.filter(isReplicas)
    if (flags.profile && replicaScenarios.length > 0) yield* Console.log("  (f) b24-proxy replicas are not profiled")
    for (const [scenario, runs] of yield* Replicas.run(replicaScenarios, buildDir)) {
      const row = Report.row(scenario, runs)
      rows.push(row)
      yield* Console.log(
        `  ${row.id}: ${row.seconds} s (median of ${row.runs}), ${row.httpRequests} requests, ` +
          `${row.queryLimitExceeded} QLE, ${row.callsPerSecond} calls/s, CPU ms: generator ${row.clientCpuMs}, ` +
          `proxy ${row.replicas?.proxyCpuMs}, emulator ${row.replicas?.emulatorCpuMs}, Redis ` +
          `${row.replicas?.redisCpuMs ?? "-"}; Redis commands ${row.replicas?.redisCommands ?? "-"}; ${row.ok} ok / ` +
          `${row.failed} failed`
      )
    }
    // (g): whole b24 processes, on their own emulated portal over plain HTTP; last in the table, as in Scenarios.all.
    const processes = selected.filter(isProcess)
    if (flags.profile && processes.length > 0) yield* Console.log("  (g) b24 processes are not profiled")
    for (const [scenario, runs] of yield* B24.run(processes)) {
      const row = Report.row(scenario, runs)
      rows.push(row)
      yield* Console.log(
        `  ${row.id}: ${row.seconds} s (median of ${row.runs}), ${row.httpRequests} requests, ` +
          `${row.queryLimitExceeded} QLE, CPU ${row.clientCpuMs} ms, ${row.peakRssMb} MB, ${row.ok} ok / ` +
          `${row.failed} failed`
      )
    }

    const command = [
      "pnpm bench",
      ...(baseline === undefined ? [] : [`--baseline ${baseline.ref}`]),
      ...(flags.latency === defaultLatency ? [] : [`--latency ${flags.latency}`]),
      ...(only.length === 0 ? [] : [`--only ${only.join(",")}`]),
      ...(flags.profile ? ["--profile"] : []),
      ...(flags.write ? ["--write"] : [])
    ].join(" ")
    const results: Report.Results = {
      date: new Date().toISOString(),
      command,
      commit: yield* commitOfTree,
      machine: about,
      cloudLatency: latency,
      buckets: { limits: Scenarios.fastBucket, cloud: Scenarios.standardBucket },
      cpuResolutionMs: ProcessUsage.resolutionMs,
      ...(baseline === undefined ? {} : { baseline: { ref: baseline.ref, commit: baseline.commit } }),
      scenarios: rows,
      targets: Report.verdicts(rows, baseline?.ref)
    }
    yield* Console.log(`\n${Report.section(results)}\n`)
    const json = `${JSON.stringify(results, null, 2)}\n`
    Fs.mkdirSync(buildDir, { recursive: true })
    Fs.writeFileSync(latestResults, json)
    yield* Console.log(`wrote ${Path.relative(repository, latestResults)}`)
    if (flags.write) {
      Fs.writeFileSync(committedResults, json)
      Fs.writeFileSync(readme, Report.replaceSection(Fs.readFileSync(readme, "utf8"), Report.section(results))!)
      yield* Console.log(`wrote ${Path.relative(repository, committedResults)} and the README's benchmark section`)
    }
  })

const bench = CliCommand.make("bench", {
  write: Options.boolean("write").pipe(
    Options.withDescription("also rewrite the committed bench/results.json and the README's table (full runs only)")
  ),
  baseline: Options.text("baseline").pipe(
    Options.withDescription("a commit (e.g. b008137) whose client runs each scenario of ours too, alternated"),
    Options.optional
  ),
  only: Options.text("only").pipe(
    Options.withDescription("run only these scenario ids, comma-separated"),
    Options.withFallbackConfig(Config.string("BENCH_ONLY")),
    Options.optional
  ),
  profile: Options.boolean("profile").pipe(
    Options.withDescription("profile each client (node --cpu-prof) and print its top self time in the measured run")
  ),
  latency: Options.text("latency").pipe(
    Options.withDescription("the cloud portal's latency per request: <ms> or <ms>/<jitter ms>"),
    Options.withDefault(defaultLatency)
  ),
  nodeArgs: Options.text("node-args").pipe(
    Options.withDescription("Node flags for the client processes, e.g. \"--cpu-prof --cpu-prof-dir=/tmp/prof\""),
    Options.withFallbackConfig(Config.string("BENCH_NODE_ARGS")),
    Options.withDefault("")
  )
}, (flags) => Effect.scoped(program(flags)))

// `pnpm bench -- --write` hands the script a literal `--` first.
const argv = process.argv[2] === "--" ? [...process.argv.slice(0, 2), ...process.argv.slice(3)] : process.argv

CliCommand.run(bench, { name: "pnpm bench", version: "0.1.0" })(argv).pipe(
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain
)
