/**
 * The (f) replica scenarios on made-up runs: the 1.5x target's judge, the QUERY_LIMIT_EXCEEDED target, the per-call
 * table, and reading Redis's `INFO commandstats`.
 */
import { describe, it } from "@effect/vitest"
import { assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Fs from "node:fs"
import * as Replicas from "../src/Replicas.js"
import * as Report from "../src/Report.js"
import type { Scenario } from "../src/Scenario.js"
import * as Scenarios from "../src/Scenarios.js"

const scenario = (id: string): Scenario => Scenarios.all.find((scenario) => scenario.id === id)!

/** One run of an (f) scenario: seconds, the generator's CPU, the replicas' figures. */
const row = (id: string, seconds: number, figures: Report.ReplicaFigures, queryLimitExceeded = 0) => {
  const calls = scenario(id).calls
  return Report.row(scenario(id), [{
    measured: {
      ok: calls,
      failed: 0,
      seconds,
      peakRssMb: 80,
      warmRssMb: 70,
      clientCpuMs: 600,
      window: { startMicros: 0, endMicros: seconds * 1e6 }
    },
    httpRequests: 70,
    queryLimitExceeded,
    replicas: figures
  }])
}

const figures = { proxyCpuMs: 6000, emulatorCpuMs: 300, machineCpuMs: 19000, redisCpuMs: 900, redisCommands: 420 }

const verdict = (rows: ReadonlyArray<Report.Row>, id: string) =>
  Report.verdicts(rows, undefined).find((verdict) => verdict.id === id)!

describe("the (f) targets", () => {
  it("3 replicas at least 1.5x the calls per second of one, with the cores busy in the figures", () => {
    const one = row("f-1-off", 10, figures)
    const met = verdict([one, row("f-3-off", 10 / 1.5, figures)], "f-3-replicas-1.5x")
    strictEqual(met.status, "met")
    strictEqual(
      met.figures,
      "3 replicas: 450 calls/s, 1.17 cores busy (proxy 2.000 ms/call), machine 2.85 cores busy; 1 replica: 300 " +
        "calls/s, 0.78 cores busy (proxy 2.000 ms/call), machine 1.90 cores busy; 1.50x"
    )
    strictEqual(verdict([one, row("f-3-off", 7, figures)], "f-3-replicas-1.5x").status, "not met")
    strictEqual(verdict([one], "f-3-replicas-1.5x").status, "not run")
  })

  it("any QUERY_LIMIT_EXCEEDED behind the replicas misses the target, naming the scenario", () => {
    const clean = [row("f-1-standard", 3, figures), row("f-3-standard", 3, figures)]
    strictEqual(verdict(clean, "f-no-query-limit-exceeded").status, "met")
    const hit = verdict([clean[0]!, row("f-3-standard", 3, figures, 4)], "f-no-query-limit-exceeded")
    strictEqual(hit.status, "not met")
    strictEqual(hit.figures, "f-3-standard: 4")
    strictEqual(verdict([], "f-no-query-limit-exceeded").status, "not run")
  })
})

describe("Report.row and Report.replicaTable for (f)", () => {
  it("keeps the median of each process's figures, and no Redis figures without Redis", () => {
    const runs = [100, 300, 200].map((proxyCpuMs): Report.Run => ({
      measured: {
        ok: 3000,
        failed: 0,
        seconds: 1,
        peakRssMb: 80,
        warmRssMb: 70,
        clientCpuMs: 100,
        window: { startMicros: 0, endMicros: 1e6 }
      },
      httpRequests: 60,
      queryLimitExceeded: 0,
      replicas: { proxyCpuMs, emulatorCpuMs: proxyCpuMs / 10 }
    }))
    const memory = Report.row(scenario("f-1-off-memory"), runs)
    deepStrictEqual(memory.replicas, { proxyCpuMs: 200, emulatorCpuMs: 20 })
    const lines = Report.replicaTable([memory]).split("\n")
    strictEqual(
      lines[2],
      "| b24-proxy, 1 replica without Redis, bucket off | 3000 | 0.067 | 0.007 | - | - | 0.033 | 0.32 | - |"
    )
    strictEqual(
      Report.replicaTable([Report.row(scenario("a-ours-batched"), [{ ...runs[0]!, replicas: undefined }])]),
      ""
    )
  })
})

describe("Replicas.parseMachineStat", () => {
  it("sums the busy fields of the cpu line (not idle, not iowait)", () => {
    const text = "cpu  100 5 50 9000 40 3 2 1 0 0\ncpu0 50 2 25 4500 20 1 1 0 0 0\nintr 1\n"
    strictEqual(Replicas.parseMachineStat(text), 161)
    strictEqual(Replicas.parseMachineStat("intr 1\n"), undefined)
    assertTrue((Replicas.parseMachineStat(Fs.readFileSync("/proc/stat", "utf8")) ?? 0) > 0)
  })
})

describe("Replicas.parseCommandStats", () => {
  it("reads the calls per command, leaving out the bench's own commands", () => {
    const text = [
      "# Commandstats",
      "cmdstat_evalsha:calls=120,usec=900,usec_per_call=7.50,rejected_calls=0,failed_calls=0",
      "cmdstat_info:calls=3,usec=90,usec_per_call=30.00,rejected_calls=0,failed_calls=0",
      "cmdstat_config|resetstat:calls=1,usec=5,usec_per_call=5.00,rejected_calls=0,failed_calls=0",
      "cmdstat_hgetall:calls=7,usec=14,usec_per_call=2.00,rejected_calls=0,failed_calls=0",
      "cmdstat_ping:calls=1,usec=50,usec_per_call=50.00,rejected_calls=0,failed_calls=0"
    ].join("\r\n")
    deepStrictEqual(Replicas.parseCommandStats(text), { evalsha: 120, hgetall: 7 })
    assertTrue(Object.keys(Replicas.parseCommandStats("")).length === 0)
  })
})

describe("Report.redisCost", () => {
  it("compares the 1-replica run on Redis with the same run without it, per call", () => {
    const on = row("f-1-off", 6, { proxyCpuMs: 7500, emulatorCpuMs: 300, redisCpuMs: 600, redisCommands: 240 })
    const off = row("f-1-off-memory", 5, { proxyCpuMs: 6000, emulatorCpuMs: 300 })
    strictEqual(
      Report.redisCost([on, off]),
      "(f) what Redis adds per call (1 replica, bucket off, with and without B24_REDIS_URL): 0.333 ms of wall time " +
        "(2.000 against 1.667), 0.500 ms of proxy CPU (2.500 against 2.000), 0.200 ms of Redis CPU, 0.080 Redis commands"
    )
    strictEqual(Report.redisCost([on]), undefined)
  })
})
