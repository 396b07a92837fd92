/**
 * The (f) scenarios: `b24-proxy` replicas on one Redis in front of one emulated portal, as a team deploys them behind
 * a load balancer. Every process is real and on this machine:
 * - `redis-server` on a free loopback port, no persistence, started once for the (f) scenarios. Before a measured
 *   run under a bucket, the bench waits for the bucket's full refill (size / drain seconds), so that the shared
 *   bucket is full again after the warm-up, as the portal's is after its reset (emptying Redis would not do: a bucket
 *   whose data is gone restarts without its burst, `SharedState`);
 * - the replicas, each `node --import tsx src/main.ts` in `apps/proxy` (what `pnpm start` runs, without the `tsx`
 *   wrapper process, so that the process measured is the proxy itself), `PORT=0`, one configuration file: the
 *   emulated portal's inbound webhook with the scenario's bucket, and one client whose own bucket is off, so that
 *   only the portal's bucket can hold calls back. With Redis they all get `B24_REDIS_URL`, and their banner must say
 *   the limits are shared through it;
 * - the emulated portal, over plain HTTP, in this process: bucket off for the warm-up, the scenario's bucket for the
 *   measured run;
 * - the load generator (`ClientProxy.ts`, run by `Runner.ts`: warm-up, then the measured run), plain single calls
 *   round robin over the replicas, which coalesce them into `batch` requests (automatic batching, on by default).
 *
 * During the measured run (from the generator's `ready` to its result): the generator's CPU (`Runner.ts`), each
 * replica's and Redis's CPU from `/proc/<pid>/stat`, the emulator's as this process's own CPU (it hosts it; the
 * orchestration in between is idle waiting), the Redis commands (`CONFIG RESETSTAT` before, `INFO commandstats`
 * after), the whole machine's busy CPU (`/proc/stat`: how much of the cores other jobs left), and the HTTP requests
 * and `QUERY_LIMIT_EXCEEDED` answers from the emulator's journal. A run with no result within 20 minutes fails.
 *
 * @since 0.1.0
 */
import { Emulator } from "@bitrix24-effect/emulator"
import * as Command from "@effect/platform/Command"
import * as CommandExecutor from "@effect/platform/CommandExecutor"
import * as Console from "effect/Console"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import { performance } from "node:perf_hooks"
import { BenchError } from "./BenchError.js"
import * as Bundle from "./Bundle.js"
import * as Exec from "./Exec.js"
import * as ProcessUsage from "./ProcessUsage.js"
import type * as Report from "./Report.js"
import * as Runner from "./Runner.js"
import type { Scenario } from "./Scenario.js"

const benchDir = Path.join(import.meta.dirname, "..")
const proxyDir = Path.join(benchDir, "..", "apps", "proxy")

/** The load generator's client of the proxy: its own bucket off. Not a secret: it lives for one bench run. */
const client = { id: 1, secret: "bench-replicas-client" }

/** Redis commands the bench itself sends; not counted as the replicas' round trips. */
const ownCommands = new Set(["info", "config", "ping"])

/**
 * The calls per Redis command in the text of `INFO commandstats` (`cmdstat_<name>[|<subcommand>]:calls=<n>,...`
 * lines), the bench's own commands (`INFO`, `CONFIG`, `PING`) left out.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseCommandStats = (text: string): Readonly<Record<string, number>> =>
  Object.fromEntries(
    [...text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)]
      .filter((match) => !ownCommands.has(match[1]!.split("|")[0]!.toLowerCase()))
      .map((match) => [match[1]!, Number(match[2])])
  )

/**
 * The CPU time the whole machine has spent busy (every process, every core; `cpu` line of `/proc/stat`: all fields
 * but `idle` and `iowait`, proc(5)), in clock ticks, from the text of `/proc/stat`; `undefined` without that line.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseMachineStat = (text: string): number | undefined => {
  const match = /^cpu\s+(.*)$/m.exec(text)
  if (match === null) return undefined
  // user nice system idle iowait irq softirq steal (guest and guest_nice are already inside user and nice).
  const fields = match[1]!.trim().split(/\s+/).slice(0, 8).map(Number)
  if (fields.length < 5 || !fields.every((value) => Number.isInteger(value) && value >= 0)) return undefined
  return fields.reduce((sum, value, index) => index === 3 || index === 4 ? sum : sum + value, 0)
}

const machineCpuMs = Effect.suspend(() => {
  const ticks = parseMachineStat(Fs.readFileSync("/proc/stat", "utf8"))
  return ticks === undefined
    ? Effect.fail(new BenchError({ message: "no cpu line in /proc/stat" }))
    : Effect.succeed(ticks * ProcessUsage.resolutionMs)
})

const freePort = Effect.async<number, BenchError>((resume) => {
  const server = Net.createServer()
  server.once("error", (error) => resume(Effect.fail(new BenchError({ message: `no free port: ${error.message}` }))))
  server.listen(0, "127.0.0.1", () => {
    const port = (server.address() as Net.AddressInfo).port
    server.close(() => resume(Effect.succeed(port)))
  })
})

interface Started {
  readonly pid: number
  readonly match: RegExpExecArray
}

/** Starts a long-running process (stopped with the scope) and answers once its output matches `ready`. */
const start = (name: string, command: Command.Command, ready: RegExp) =>
  Effect.gen(function*() {
    const child = yield* Command.start(command)
    const seen = yield* Deferred.make<RegExpExecArray, BenchError>()
    let output = ""
    yield* Stream.merge(child.stdout, child.stderr).pipe(
      Stream.decodeText(),
      Stream.runForEach((chunk) => {
        output = (output + chunk).slice(-8000)
        const match = ready.exec(output)
        return match === null ? Effect.void : Deferred.succeed(seen, match)
      }),
      Effect.ignore,
      Effect.zipRight(
        Effect.suspend(() =>
          Deferred.fail(seen, new BenchError({ message: `${name} ended before it was ready:\n${output}` }))
        )
      ),
      Effect.forkScoped
    )
    const match = yield* Deferred.await(seen).pipe(
      Effect.timeoutFail({
        duration: "60 seconds",
        onTimeout: () => new BenchError({ message: `${name} was not ready within 60 seconds:\n${output}` })
      })
    )
    return { pid: child.pid, match } satisfies Started
  }).pipe(
    Effect.catchTags({
      SystemError: (error) => new BenchError({ message: `${name}: ${error.message}` }),
      BadArgument: (error) => new BenchError({ message: `${name}: ${error.message}` })
    })
  )

/** A private `redis-server` on a free loopback port, without persistence. */
const redis = Effect.gen(function*() {
  const port = yield* freePort
  const server = yield* start(
    "redis-server (the Debian package redis-server)",
    Command.make("redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"),
    /Ready to accept connections/
  )
  const cli = (...args: ReadonlyArray<string>) => Exec.run(benchDir, "redis-cli", "-p", String(port), ...args)
  return { url: `redis://127.0.0.1:${port}`, pid: server.pid, cli }
})

type Redis = Effect.Effect.Success<typeof redis>

/** The proxy's configuration file for a portal bucket (`off` or `standard`). */
const configFile = (dir: string, portal: Emulator.Service, bucket: "off" | "standard") => {
  const file = Path.join(dir, `b24-proxy-${bucket}.yaml`)
  Fs.writeFileSync(
    file,
    [
      "portals:",
      "  main:",
      `    webhook: ${Redacted.value(portal.webhookUrl)}`,
      `    bucket: ${bucket}`,
      "clients:",
      `  - id: ${client.id}`,
      `    secret: ${client.secret}`,
      "    limit: off"
    ].join("\n") + "\n"
  )
  return file
}

/** One replica; answers its pid and the client URL on it once its banner has been printed. */
const replica = (index: number, env: Readonly<Record<string, string>>, redis: boolean) =>
  start(
    `b24-proxy replica ${index + 1}`,
    Command.make(process.execPath, "--import", "tsx", "src/main.ts").pipe(
      Command.workingDirectory(proxyDir),
      Command.env({ ...env, HOST: "127.0.0.1", PORT: "0" })
    ),
    /listening on (http:\/\/127\.0\.0\.1:\d+)[\s\S]*limits and OAuth tokens: ([^\n]*)[\s\S]*clients: /
  ).pipe(
    Effect.filterOrFail(
      (started) => started.match[2]!.startsWith("shared with every replica through Redis") === redis,
      (started) =>
        new BenchError({
          message: `b24-proxy replica ${index + 1}: expected its state ${
            redis ? "in Redis" : "in memory"
          }, its banner says: ${started.match[2]}`
        })
    ),
    Effect.map((started) => ({ pid: started.pid, url: `${started.match[1]}/rest/${client.id}/${client.secret}/` }))
  )

const cpuOf = (pid: number, name: string) =>
  Effect.suspend(() => {
    const ms = ProcessUsage.cpuMs(pid)
    return ms === undefined
      ? Effect.fail(new BenchError({ message: `${name} (pid ${pid}) has gone` }))
      : Effect.succeed(ms)
  })

/** The longest a run (warm-up and measured run) may take. */
const runTimeout = "20 minutes"

/**
 * Starts a scenario's replicas (stopped with the scope); answers its measured run, to be made `repeats` times.
 */
const prepare = (
  scenario: Scenario,
  portal: Emulator.Service,
  shared: Redis,
  dir: string,
  bundle: string
): Effect.Effect<
  (repeat: number) => Effect.Effect<Report.Run, BenchError>,
  BenchError,
  CommandExecutor.CommandExecutor | Scope.Scope
> =>
  Effect.gen(function*() {
    const setup = scenario.proxy ?? { replicas: 1, redis: true }
    const executor = yield* CommandExecutor.CommandExecutor
    const env = {
      B24_PROXY_CONFIG: configFile(dir, portal, scenario.bucket === "off" ? "off" : "standard"),
      ...(setup.redis ? { B24_REDIS_URL: shared.url, B24_REDIS_PREFIX: "bench:" } : {})
    }
    const replicas = yield* Effect.all(
      Array.from({ length: setup.replicas }, (_, index) => replica(index, env, setup.redis)),
      { concurrency: "unbounded" }
    )
    const cpus = Effect.all({
      proxy: Effect.map(
        Effect.forEach(replicas, (started, index) => cpuOf(started.pid, `b24-proxy replica ${index + 1}`)),
        (values) => values.reduce((sum, value) => sum + value, 0)
      ),
      emulator: cpuOf(process.pid, "the bench process"),
      redis: cpuOf(shared.pid, "redis-server"),
      machine: machineCpuMs,
      at: Effect.sync(() => performance.now())
    })
    return (repeat: number) =>
      Effect.gen(function*() {
        const failures = Path.join(dir, `${scenario.id}.${repeat}.failures`)
        // The warm-up meets the portal with its bucket off, as in the other groups; the replicas keep theirs.
        portal.reset()
        portal.setLimits({ bucket: "off" })
        let before: Effect.Effect.Success<typeof cpus> | undefined
        const measured = yield* Runner.run({
          bundle,
          scenario,
          cwd: benchDir,
          env: { BENCH_PROXY_URLS: replicas.map((started) => started.url).join(" "), BENCH_PROXY_FAILURES: failures },
          nodeArgs: [],
          prepare: Effect.gen(function*() {
            // The shared bucket refills from what the warm-up took, as the portal's is full after its reset. (Not a
            // FLUSHALL: a bucket whose data is gone restarts without its burst, see `SharedState`.)
            if (scenario.bucket !== "off") {
              yield* Effect.sleep(`${scenario.bucket.size / scenario.bucket.drain} seconds`)
            }
            yield* shared.cli("CONFIG", "RESETSTAT")
            portal.reset()
            portal.setLimits({
              bucket: scenario.bucket === "off"
                ? "off"
                : { size: scenario.bucket.size, drainPerSecond: scenario.bucket.drain },
              operatingLimitSeconds: 480
            })
            before = yield* cpus
          }).pipe(Effect.provideService(CommandExecutor.CommandExecutor, executor))
        }).pipe(
          // A run that stalls fails the bench instead of holding it forever.
          Effect.timeoutFail({
            duration: runTimeout,
            onTimeout: () =>
              new BenchError({
                message: `${scenario.id}: no result within ${runTimeout} (the portal saw ${portal.httpRequests()} ` +
                  `requests and ${portal.journal.filter((entry) => entry.method === "im.chat.mute").length} calls)`
              })
          })
        )
        const after = yield* cpus
        const byCommand = parseCommandStats(yield* shared.cli("INFO", "commandstats"))
        const commands = Object.values(byCommand).reduce((sum, calls) => sum + calls, 0)
        const seconds = (after.at - before!.at) / 1000
        yield* Console.log(
          `    ${scenario.id} run ${repeat + 1}: ${measured.seconds.toFixed(3)} s, machine ${
            ((after.machine - before!.machine) / 1000 / seconds).toFixed(2)
          } cores busy (every process)${
            setup.redis
              ? `; Redis commands: ${
                Object.entries(byCommand).map(([name, calls]) => `${name} ${calls}`).join(", ") || "none"
              }`
              : ""
          }`
        )
        if (Fs.existsSync(failures)) {
          yield* Console.log(`    failed calls (first ones):\n${Fs.readFileSync(failures, "utf8").trimEnd()}`)
        }
        return {
          measured,
          httpRequests: portal.httpRequests(),
          queryLimitExceeded: portal.journal.filter((entry) => entry.error === "QUERY_LIMIT_EXCEEDED").length,
          replicas: {
            proxyCpuMs: after.proxy - before!.proxy,
            emulatorCpuMs: after.emulator - before!.emulator,
            machineCpuMs: Math.round((after.machine - before!.machine) * measured.seconds / seconds),
            ...(setup.redis ? { redisCpuMs: after.redis - before!.redis, redisCommands: commands } : {})
          }
        } satisfies Report.Run
      }).pipe(Effect.provideService(CommandExecutor.CommandExecutor, executor))
  })

/**
 * Bundles the load generator into `buildDir/clients`, starts Redis, the emulated portal and each selected (f)
 * scenario's own replicas, and runs the scenarios (see the module's description) in rounds: each that still has runs
 * to make takes its turn, one at a time. Answers each scenario's runs, in the order given.
 *
 * @since 0.1.0
 * @category running
 */
export const run = (
  scenarios: ReadonlyArray<Scenario>,
  buildDir: string
): Effect.Effect<
  ReadonlyArray<readonly [Scenario, ReadonlyArray<Report.Run>]>,
  BenchError,
  CommandExecutor.CommandExecutor
> =>
  Effect.scoped(Effect.gen(function*() {
    if (scenarios.length === 0) return []
    const bundle = yield* Bundle.build(import.meta.dirname, Path.join(buildDir, "clients"), ["ClientProxy"]).pipe(
      Effect.map((bundles) => bundles.ClientProxy!),
      Effect.mapError((error) => new BenchError({ message: error.message }))
    )
    const calls = Math.max(...scenarios.map((scenario) => scenario.calls))
    const portal = yield* Emulator.make({ journalLimit: 2 * calls + 1_000 }).pipe(
      Effect.mapError((error) => new BenchError({ message: `the emulator did not start: ${error.message}` }))
    )
    const shared = yield* redis
    const dir = yield* Effect.acquireRelease(
      Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "b24-bench-replicas-"))),
      (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
    )
    const measure = yield* Effect.forEach(scenarios, (scenario) => prepare(scenario, portal, shared, dir, bundle))
    const runs = scenarios.map(() => [] as Array<Report.Run>)
    // Round after round, each scenario that still has runs to make takes its turn, so that the rows meet the
    // machine's load alike (the replicas of the others wait idle meanwhile).
    const rounds = Math.max(...scenarios.map((scenario) => scenario.repeats))
    for (let round = 0; round < rounds; round++) {
      for (const [index, scenario] of scenarios.entries()) {
        if (round < scenario.repeats) runs[index]!.push(yield* measure[index]!(round))
      }
    }
    return scenarios.map((scenario, index) => [scenario, runs[index]!] as const)
  }))
