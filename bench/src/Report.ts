/**
 * From measured runs to what `pnpm bench` reports: one row per scenario (and per baseline), the Markdown table, the
 * targets with their verdicts and figures, and the README's generated section.
 *
 * @since 0.1.0
 */
import type { Measured } from "./Runner.js"
import { type Bucket, floorSeconds, groupLetter, type Scenario } from "./Scenario.js"

/**
 * One measured run with the emulator's counts for it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Run {
  readonly measured: Measured
  /** HTTP requests the emulator received during the measured run. */
  readonly httpRequests: number
  /** `QUERY_LIMIT_EXCEEDED` answers in the emulator's journal for the measured run. */
  readonly queryLimitExceeded: number
  /** (f) only: the other processes of the run. */
  readonly replicas?: ReplicaFigures | undefined
}

/**
 * (f) What the processes behind the load generator used during the measured run: CPU (user plus system, ms, from
 * `/proc`) of the `b24-proxy` replicas summed, of the emulated portal (the bench process, which hosts it), of
 * `redis-server` and of the whole machine, and the commands Redis processed (`INFO commandstats`, the bench's own
 * reads left out). The Redis figures are absent when the replicas run without Redis.
 *
 * @since 0.1.0
 * @category models
 */
export interface ReplicaFigures {
  readonly proxyCpuMs: number
  readonly emulatorCpuMs: number
  /** The whole machine's busy CPU (every process, ours and others', `/proc/stat`), scaled to the measured run. */
  readonly machineCpuMs?: number | undefined
  readonly redisCpuMs?: number | undefined
  readonly redisCommands?: number | undefined
}

/** The median of each (f) figure over the runs that have them. */
const replicaMedians = (runs: ReadonlyArray<Run>): ReplicaFigures | undefined => {
  const figures = runs.flatMap((run) => run.replicas === undefined ? [] : [run.replicas])
  if (figures.length === 0) return undefined
  const of = (pick: (figures: ReplicaFigures) => number | undefined) => {
    const values = figures.flatMap((entry) => pick(entry) ?? [])
    return values.length === 0 ? undefined : Math.round(median(values))
  }
  const machineCpuMs = of((entry) => entry.machineCpuMs)
  const redisCpuMs = of((entry) => entry.redisCpuMs)
  const redisCommands = of((entry) => entry.redisCommands)
  return {
    proxyCpuMs: of((entry) => entry.proxyCpuMs)!,
    emulatorCpuMs: of((entry) => entry.emulatorCpuMs)!,
    ...(machineCpuMs === undefined ? {} : { machineCpuMs }),
    ...(redisCpuMs === undefined ? {} : { redisCpuMs }),
    ...(redisCommands === undefined ? {} : { redisCommands })
  }
}

/**
 * One scenario's result, as results.json has it. `seconds`, `clientCpuMs` and the memory figures are medians over
 * the runs; `httpRequests` and `queryLimitExceeded` the most any run had, `ok` the fewest.
 *
 * @since 0.1.0
 * @category models
 */
export interface Row {
  readonly id: string
  readonly group: Scenario["group"]
  readonly title: string
  /** The `--baseline` ref whose client ran this row; absent for the current tree. */
  readonly baseline?: string | undefined
  readonly network: Scenario["network"]
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
  /** User plus system CPU of the client process during the measured run (ms, the whole run). */
  readonly clientCpuMs: number
  /** The client process's peak resident memory (MB). */
  readonly peakRssMb: number
  /** Its peak resident memory when the warm-up had finished, before the measured run (MB). */
  readonly warmRssMb: number
  /** (f) only: the replicas', the emulator's and Redis's figures (medians over the runs). */
  readonly replicas?: ReplicaFigures | undefined
}

const round = (value: number, digits: number) => Number(value.toFixed(digits))

/**
 * The middle value (the lower of the two middle ones for an even count).
 *
 * @since 0.1.0
 * @category utils
 */
export const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN
}

/**
 * The row of a scenario's runs (at least one).
 *
 * @since 0.1.0
 * @category constructors
 */
export const row = (scenario: Scenario, runs: ReadonlyArray<Run>, baseline?: string): Row => {
  const of = (pick: (run: Run) => number) => runs.map(pick)
  const seconds = median(of((run) => run.measured.seconds))
  const replicas = replicaMedians(runs)
  return {
    id: baseline === undefined ? scenario.id : `${scenario.id}@${baseline}`,
    group: scenario.group,
    title: baseline === undefined ? scenario.title : scenario.title.replace(/^ours/, `ours@${baseline}`),
    ...(baseline === undefined ? {} : { baseline }),
    network: scenario.network,
    calls: scenario.calls,
    concurrency: scenario.concurrency,
    ok: Math.min(...of((run) => run.measured.ok)),
    failed: Math.max(...of((run) => run.measured.failed)),
    httpRequests: Math.max(...of((run) => run.httpRequests)),
    queryLimitExceeded: Math.max(...of((run) => run.queryLimitExceeded)),
    runs: runs.length,
    seconds: round(seconds, 3),
    floorSeconds: round(floorSeconds(scenario), 3),
    callsPerSecond: Math.round(scenario.calls / seconds),
    clientCpuMs: Math.round(median(of((run) => run.measured.clientCpuMs))),
    peakRssMb: round(median(of((run) => run.measured.peakRssMb)), 1),
    warmRssMb: round(median(of((run) => run.measured.warmRssMb)), 1),
    ...(replicas === undefined ? {} : { replicas })
  }
}

/**
 * Client CPU per call (ms).
 *
 * @since 0.1.0
 * @category utils
 */
export const cpuPerCall = (row: Row): number => row.clientCpuMs / row.calls

/**
 * The Markdown table of the rows, in their order.
 *
 * @since 0.1.0
 * @category rendering
 */
export const table = (rows: ReadonlyArray<Row>): string =>
  [
    "| scenario | calls | HTTP requests | QUERY_LIMIT_EXCEEDED | seconds | floor (s) | calls/s | client CPU (ms/call) " +
    "| peak RSS (MB) |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map((row) =>
      `| (${groupLetter[row.group]}) ${row.title} | ${row.calls} | ${row.httpRequests} | ${row.queryLimitExceeded} | ` +
      `${row.seconds} | ${row.floorSeconds} | ${row.callsPerSecond} | ${cpuPerCall(row).toFixed(3)} | ` +
      `${row.peakRssMb} |`
    )
  ].join("\n")

/**
 * (f) The replicas' table: per call, the CPU of each kind of process and the Redis commands, and the cores the
 * whole run kept busy. Empty without (f) rows.
 *
 * @since 0.1.0
 * @category rendering
 */
export const replicaTable = (rows: ReadonlyArray<Row>): string => {
  const replicas = rows.filter((row) => row.replicas !== undefined)
  if (replicas.length === 0) return ""
  const perCall = (ms: number | undefined, row: Row) => ms === undefined ? "-" : (ms / row.calls).toFixed(3)
  return [
    "| (f) scenario | calls/s | proxy CPU (ms/call, replicas summed) | emulator CPU (ms/call) | Redis CPU (ms/call) " +
    "| Redis commands per call | load generator CPU (ms/call) | cores busy (these processes) | cores busy (machine) |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...replicas.map((row) =>
      `| ${row.title} | ${row.callsPerSecond} | ${perCall(row.replicas!.proxyCpuMs, row)} | ` +
      `${perCall(row.replicas!.emulatorCpuMs, row)} | ${perCall(row.replicas!.redisCpuMs, row)} | ` +
      `${row.replicas!.redisCommands === undefined ? "-" : (row.replicas!.redisCommands / row.calls).toFixed(3)} | ` +
      `${cpuPerCall(row).toFixed(3)} | ${coresBusy(row).toFixed(2)} | ${machineBusy(row)} |`
    )
  ].join("\n")
}

/**
 * (f) What Redis adds per call: the 1-replica run on Redis against the same run without `B24_REDIS_URL`, as wall
 * time per call (ms, at the scenario's concurrency), the proxy's extra CPU per call, Redis's own CPU per call and its
 * commands per call. `undefined` unless both rows are there.
 *
 * @since 0.1.0
 * @category rendering
 */
export const redisCost = (rows: ReadonlyArray<Row>): string | undefined => {
  const on = rows.find((row) => row.id === "f-1-off" && row.baseline === undefined)
  const off = rows.find((row) => row.id === "f-1-off-memory" && row.baseline === undefined)
  if (on?.replicas === undefined || off?.replicas === undefined) return undefined
  const ms = (row: Row) => (1000 * row.seconds) / row.calls
  const cpu = (row: Row) => row.replicas!.proxyCpuMs / row.calls
  return `(f) what Redis adds per call (1 replica, bucket off, with and without B24_REDIS_URL): ` +
    `${(ms(on) - ms(off)).toFixed(3)} ms of wall time (${ms(on).toFixed(3)} against ${ms(off).toFixed(3)}), ` +
    `${(cpu(on) - cpu(off)).toFixed(3)} ms of proxy CPU (${cpu(on).toFixed(3)} against ${cpu(off).toFixed(3)}), ` +
    `${((on.replicas.redisCpuMs ?? 0) / on.calls).toFixed(3)} ms of Redis CPU, ` +
    `${((on.replicas.redisCommands ?? 0) / on.calls).toFixed(3)} Redis commands`
}

/**
 * A target's outcome: `not run` when a row it needs is not in this run (`--only`, or no `--baseline`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Verdict {
  readonly id: string
  readonly target: string
  readonly status: "met" | "not met" | "not run"
  /** The figures the verdict rests on. */
  readonly figures: string
}

/**
 * "Slower than the baseline" means more than this share of extra seconds: runs of one and the same client on this
 * shared two-core machine differ by about that much, and the figures show every ratio.
 *
 * @since 0.1.0
 * @category constants
 */
export const slowerTolerance = 0.1

const s = (row: Row) => `${row.seconds} s`
const perCall = (row: Row) => `${cpuPerCall(row).toFixed(3)} ms/call`
const ratio = (value: number) => `${value.toFixed(2)}x`

interface Target {
  readonly id: string
  readonly target: string
  /** The ids of the rows it needs (current tree); `judge` may also answer `undefined`: not run. */
  readonly needs: ReadonlyArray<string>
  readonly judge: (
    rows: ReadonlyArray<Row>,
    byId: (id: string) => Row
  ) => { readonly met: boolean; readonly figures: string } | undefined
}

/** The best (fastest) of the official SDK's batch paths in (a). */
const officialBest = (rows: ReadonlyArray<Row>) =>
  rows
    .filter((row) => row.group === "limits" && row.id.startsWith("a-official-batch"))
    .reduce((best, row) => row.seconds < best.seconds ? row : best)

const vsOfficialBest = (id: string): Target["judge"] => (rows, byId) => {
  const ours = byId(id)
  const best = officialBest(rows)
  return {
    met: ours.seconds < best.seconds && ours.peakRssMb <= best.peakRssMb,
    figures: `${s(ours)} and ${ours.peakRssMb} MB; official ${best.title.replace(/^official, /, "")}: ${s(best)} ` +
      `and ${best.peakRssMb} MB`
  }
}

/** A target comparing a row of ours with an official one. */
const versus = (
  id: string,
  target: string,
  oursId: string,
  officialId: string,
  judge: (ours: Row, official: Row) => { readonly met: boolean; readonly figures: string }
): Target => ({ id, target, needs: [oursId, officialId], judge: (_, byId) => judge(byId(oursId), byId(officialId)) })

/** Client CPU per call of ours at most `factor` times the official's. */
const cpuAtMost = (factor: number) => (ours: Row, official: Row) => ({
  met: cpuPerCall(ours) <= factor * cpuPerCall(official),
  figures: `${perCall(ours)} against ${perCall(official)} (${ratio(cpuPerCall(ours) / cpuPerCall(official))})`
})

/** A whole process's median wall time at most `seconds`, with its CPU and the `node -e 0` floor beside it. */
const processWithin = (row: Row, node: Row, seconds: number) => ({
  met: row.seconds <= seconds,
  figures: `${s(row)}, ${row.clientCpuMs} ms of CPU; node -e 0: ${s(node)}, ${node.clientCpuMs} ms of CPU`
})

/**
 * (f) CPU cores the run kept busy: every process's CPU (the load generator, the replicas, the emulator, Redis) over
 * its seconds. Near the machine's core count, the cores are the limit.
 *
 * @since 0.1.0
 * @category utils
 */
export const coresBusy = (row: Row): number =>
  (row.clientCpuMs + (row.replicas?.proxyCpuMs ?? 0) + (row.replicas?.emulatorCpuMs ?? 0) +
    (row.replicas?.redisCpuMs ?? 0)) / (row.seconds * 1000)

/** (f) The cores the whole machine kept busy during the run (every process, others' included), or `-`. */
const machineBusy = (row: Row) =>
  row.replicas?.machineCpuMs === undefined ? "-" : (row.replicas.machineCpuMs / (row.seconds * 1000)).toFixed(2)

/** (f) A replica row's throughput with the CPU it took. */
const replicaFigures = (row: Row) =>
  `${row.callsPerSecond} calls/s, ${coresBusy(row).toFixed(2)} cores busy (proxy ${
    ((row.replicas?.proxyCpuMs ?? 0) / row.calls).toFixed(3)
  } ms/call), machine ${machineBusy(row)} cores busy`

const replicaTargets: ReadonlyArray<Target> = [
  {
    id: "f-3-replicas-1.5x",
    target: "(f) bucket off: 3 b24-proxy replicas on one Redis give at least 1.5x the calls per second of 1 replica",
    needs: ["f-1-off", "f-3-off"],
    judge: (_, byId) => {
      const one = byId("f-1-off")
      const three = byId("f-3-off")
      return {
        met: three.callsPerSecond >= 1.5 * one.callsPerSecond,
        figures: `3 replicas: ${replicaFigures(three)}; 1 replica: ${replicaFigures(one)}; ` +
          `${ratio(three.callsPerSecond / one.callsPerSecond)}`
      }
    }
  },
  {
    id: "f-no-query-limit-exceeded",
    target: "(f) 0 QUERY_LIMIT_EXCEEDED on the wire behind the replicas, in every scenario and every run",
    needs: [],
    judge: (rows) => {
      const replicas = rows.filter((row) => row.group === "replicas")
      const hit = replicas.filter((row) => row.queryLimitExceeded > 0)
      return replicas.length === 0 ? undefined : {
        met: hit.length === 0,
        figures: hit.length === 0
          ? `${replicas.length} scenarios, none`
          : hit.map((row) => `${row.id}: ${row.queryLimitExceeded}`).join(", ")
      }
    }
  }
]

const targets: ReadonlyArray<Target> = [
  {
    id: "a-automatic-floor",
    target: "(a) automatic batching within 1.1 x its floor plus one second",
    needs: ["a-ours-batched"],
    judge: (_, byId) => {
      const ours = byId("a-ours-batched")
      return {
        met: ours.seconds <= 1.1 * ours.floorSeconds + 1,
        figures: `${s(ours)}, floor ${ours.floorSeconds} s, ${ours.httpRequests} requests`
      }
    }
  },
  {
    id: "a-automatic-vs-official-best",
    target: "(a) automatic batching faster than the official SDK's best batch path, with no more memory",
    needs: ["a-ours-batched", "a-official-batch-by-chunk", "a-official-batch-concurrent"],
    judge: vsOfficialBest("a-ours-batched")
  },
  {
    id: "a-explicit-vs-official-best",
    target: "(a) explicit Batch.run faster than the official SDK's best batch path, with no more memory",
    needs: ["a-ours-explicit", "a-official-batch-by-chunk", "a-official-batch-concurrent"],
    judge: vsOfficialBest("a-ours-explicit")
  },
  versus(
    "a-cpu-explicit",
    "(a) explicit Batch.run uses no more client CPU per call than the official batchByChunk",
    "a-ours-explicit",
    "a-official-batch-by-chunk",
    cpuAtMost(1)
  ),
  versus(
    "a-cpu-automatic",
    "(a) automatic batching uses at most 2x the client CPU per call of the official batchByChunk",
    "a-ours-batched",
    "a-official-batch-by-chunk",
    cpuAtMost(2)
  ),
  versus(
    "d-automatic-5x-batch-by-chunk",
    "(d) automatic batching (plain Effect.forEach) at least 5x faster than the official batchByChunk",
    "d-ours-batched",
    "d-official-batch-by-chunk",
    (ours, official) => ({
      met: 5 * ours.seconds <= official.seconds,
      figures: `${s(ours)} against ${s(official)}: ${ratio(official.seconds / ours.seconds)} faster`
    })
  ),
  versus(
    "d-automatic-1.5x-concurrent",
    "(d) automatic batching no slower than 1.5x the official 40 batch calls at once",
    "d-ours-batched",
    "d-official-batch-concurrent",
    (ours, official) => ({
      met: ours.seconds <= 1.5 * official.seconds,
      figures: `${s(ours)} against ${s(official)}: ${ratio(ours.seconds / official.seconds)} its time`
    })
  ),
  {
    id: "ours-no-query-limit-exceeded",
    target: "ours: 0 QUERY_LIMIT_EXCEEDED in every scenario and every run",
    needs: [],
    judge: (rows) => {
      const ours = rows.filter((row) => row.id.includes("ours"))
      const hit = ours.filter((row) => row.queryLimitExceeded > 0)
      return ours.length === 0 ? undefined : {
        met: hit.length === 0,
        figures: hit.length === 0
          ? `${ours.length} scenarios, none`
          : hit.map((row) => `${row.id}: ${row.queryLimitExceeded}`).join(", ")
      }
    }
  },
  {
    id: "every-call-succeeds",
    target: "every call of every scenario succeeds, in every run",
    needs: [],
    judge: (rows) => {
      const failing = rows.filter((row) => row.ok < row.calls)
      return rows.length === 0 ? undefined : {
        met: failing.length === 0,
        figures: failing.length === 0
          ? `${rows.length} scenarios`
          : failing.map((row) => `${row.id}: ${row.calls - row.ok} failed`).join(", ")
      }
    }
  },
  {
    id: "e-proxy-0.4x-direct",
    target: "(e) b24-proxy's throughput is at least 0.4x the emulator's direct throughput (same run, same client)",
    needs: ["e-direct-64", "e-proxy-64"],
    judge: (_, byId) => {
      const direct = byId("e-direct-64")
      const proxied = byId("e-proxy-64")
      const ratio = proxied.callsPerSecond / Math.max(1, direct.callsPerSecond)
      return {
        met: ratio >= 0.4,
        figures: `${proxied.callsPerSecond} vs ${direct.callsPerSecond} calls/s (${ratio.toFixed(2)}x)`
      }
    }
  },
  {
    id: "c-emulator-5000-per-second",
    target: "(c) the emulator answers at least 5,000 simple calls per second",
    needs: ["c-emulator"],
    judge: (_, byId) => {
      const emulator = byId("c-emulator")
      return { met: emulator.callsPerSecond >= 5_000, figures: `${emulator.callsPerSecond} calls/s` }
    }
  },
  ...replicaTargets,
  {
    id: "g-help-250ms",
    target: "(g) `b24 --help` within 250 ms (median whole process, next to `node -e 0` in the same run)",
    needs: ["g-b24-help", "g-node"],
    judge: (_, byId) => processWithin(byId("g-b24-help"), byId("g-node"), 0.25)
  },
  {
    id: "g-call-400ms",
    target: "(g) a typed `b24` call to a webhook on loopback within 400 ms (median whole process, next to `node -e 0`)",
    needs: ["g-b24-call", "g-node"],
    judge: (_, byId) => processWithin(byId("g-b24-call"), byId("g-node"), 0.4)
  },
  {
    id: "g-bulk-205-requests",
    target: "(g) a `b24` bulk run of 10,000 lines in at most 205 HTTP requests, with no QUERY_LIMIT_EXCEEDED",
    needs: ["g-b24-bulk"],
    judge: (_, byId) => {
      const bulk = byId("g-b24-bulk")
      return {
        met: bulk.httpRequests <= 205 && bulk.queryLimitExceeded === 0 && bulk.ok === bulk.calls,
        figures: `${bulk.httpRequests} requests, ${bulk.queryLimitExceeded} QUERY_LIMIT_EXCEEDED, ${bulk.ok} of ` +
          `${bulk.calls} lines ok, ${s(bulk)} (floor ${bulk.floorSeconds} s)`
      }
    }
  }
]

/** "No scenario gets slower than before": every current row of ours against its baseline row. */
const baselineVerdict = (rows: ReadonlyArray<Row>, baseline: string | undefined): Verdict => {
  const target = `no scenario of ours slower than at ${baseline ?? "the baseline"} (same run, runs alternated; ` +
    `slower: more than ${slowerTolerance * 100}% more seconds)`
  const pairs = rows.flatMap((old) => {
    if (old.baseline === undefined) return []
    const now = rows.find((row) => row.id === old.id.slice(0, old.id.length - old.baseline!.length - 1))
    return now === undefined ? [] : [{ now, old }]
  })
  if (baseline === undefined || pairs.length === 0) {
    return { id: "no-slower-than-baseline", target, status: "not run", figures: "run with --baseline <ref>" }
  }
  const slower = pairs.filter(({ now, old }) => now.seconds > old.seconds * (1 + slowerTolerance))
  return {
    id: "no-slower-than-baseline",
    target,
    status: slower.length === 0 ? "met" : "not met",
    figures: pairs.map(({ now, old }) => `${now.id} ${ratio(now.seconds / old.seconds)}`).join(", ")
  }
}

/**
 * Every target with its verdict on these rows.
 *
 * @since 0.1.0
 * @category targets
 */
export const verdicts = (rows: ReadonlyArray<Row>, baseline: string | undefined): ReadonlyArray<Verdict> => {
  const current = rows.filter((row) => row.baseline === undefined)
  const byId = (id: string) => current.find((row) => row.id === id)!
  return [
    ...targets.map((target): Verdict => {
      const missing = target.needs.filter((id) => current.every((row) => row.id !== id))
      if (missing.length > 0) {
        return { id: target.id, target: target.target, status: "not run", figures: `needs ${missing.join(", ")}` }
      }
      const judged = target.judge(current, byId)
      return judged === undefined
        ? { id: target.id, target: target.target, status: "not run", figures: "no such rows in this run" }
        : { id: target.id, target: target.target, status: judged.met ? "met" : "not met", figures: judged.figures }
    }),
    baselineVerdict(rows, baseline)
  ]
}

/**
 * The verdicts as a Markdown list.
 *
 * @since 0.1.0
 * @category rendering
 */
export const verdictList = (list: ReadonlyArray<Verdict>): string =>
  list.map((verdict) =>
    `- ${verdict.target}: ${verdict.status === "not run" ? "not run" : `**${verdict.status}**`} (${verdict.figures})`
  ).join("\n")

/**
 * The machine a run was made on.
 *
 * @since 0.1.0
 * @category models
 */
export interface Machine {
  readonly nproc: string
  readonly cpu: string
  readonly node: string
  readonly platform: string
  /** `free -h`. */
  readonly memory: string
}

/**
 * What a run writes (results.json).
 *
 * @since 0.1.0
 * @category models
 */
export interface Results {
  readonly date: string
  /** The command that reproduces the run. */
  readonly command: string
  /** The commit of the measured tree (`+ changes` when it had uncommitted changes). */
  readonly commit: string
  readonly machine: Machine
  /** The cloud portal's simulated latency per request (ms). */
  readonly cloudLatency: { readonly ms: number; readonly jitterMs: number }
  readonly buckets: { readonly limits: Bucket; readonly cloud: Bucket }
  /** CPU readings come in clock ticks of this many ms. */
  readonly cpuResolutionMs: number
  readonly baseline?: { readonly ref: string; readonly commit: string } | undefined
  readonly scenarios: ReadonlyArray<Row>
  readonly targets: ReadonlyArray<Verdict>
}

/**
 * The README's generated section: how the figures were made, the machine, the table and the targets.
 *
 * @since 0.1.0
 * @category rendering
 */
export const section = (results: Results): string =>
  [
    `Figures from \`${results.command}\` on ${results.date.slice(0, 10)} (commit ${results.commit}), on ` +
    `${results.machine.nproc} CPUs (${results.machine.cpu}), Node ${results.machine.node}, ` +
    `${results.machine.platform}; \`free -h\`:`,
    "",
    "```",
    results.machine.memory,
    "```",
    "",
    `(a) bucket: ${results.buckets.limits.size}, draining ${results.buckets.limits.drain} per second. ` +
    `(d) cloud portal: ${results.cloudLatency.ms} ms ± ${results.cloudLatency.jitterMs} ms per request, ` +
    `bucket ${results.buckets.cloud.size}, draining ${results.buckets.cloud.drain} per second. Client CPU: user plus ` +
    `system of the client process during the measured run, read in ${results.cpuResolutionMs} ms ticks. (g) one call ` +
    "is one whole `b24` process (the bundle, started cold): seconds and CPU are the median process's, from spawn to " +
    "exit; the bulk run is one process of 10,000 calls.",
    "",
    table(results.scenarios),
    "",
    ...(replicaTable(results.scenarios) === "" ? [] : [replicaTable(results.scenarios), ""]),
    ...(redisCost(results.scenarios) === undefined ? [] : [redisCost(results.scenarios)!, ""]),
    "Targets, as measured:",
    "",
    verdictList(results.targets)
  ].join("\n")

/**
 * The markers around the README's generated benchmark section.
 *
 * @since 0.1.0
 * @category rendering
 */
export const markers = {
  start: "<!-- bench:results:start (generated by `pnpm bench --write`; edit bench/src/Report.ts instead) -->",
  end: "<!-- bench:results:end -->"
} as const

/**
 * The README with its generated section replaced by `section`; `undefined` when the markers are not there once each,
 * in order.
 *
 * @since 0.1.0
 * @category rendering
 */
export const replaceSection = (readme: string, section: string): string | undefined => {
  const start = readme.indexOf(markers.start)
  const end = readme.indexOf(markers.end)
  if (
    start < 0 || end < start || readme.indexOf(markers.start, start + 1) >= 0 ||
    readme.indexOf(markers.end, end + 1) >= 0
  ) return undefined
  return `${readme.slice(0, start + markers.start.length)}\n${section.trim()}\n${readme.slice(end)}`
}
