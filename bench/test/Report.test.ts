/**
 * Rows, table, targets and the README's generated section, on made-up runs.
 */
import { describe, it } from "@effect/vitest"
import { assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Report from "../src/Report.js"
import type { Measured } from "../src/Runner.js"
import type { Scenario } from "../src/Scenario.js"
import * as Scenarios from "../src/Scenarios.js"

const scenario = (id: string): Scenario => Scenarios.all.find((scenario) => scenario.id === id)!

const measured = (seconds: number, clientCpuMs: number, ok = 2000): Measured => ({
  ok,
  failed: 2000 - ok,
  seconds,
  peakRssMb: 100,
  warmRssMb: 90,
  clientCpuMs,
  window: { startMicros: 0, endMicros: seconds * 1e6 }
})

const run = (seconds: number, clientCpuMs: number, queryLimitExceeded = 0, ok = 2000): Report.Run => ({
  measured: measured(seconds, clientCpuMs, ok),
  httpRequests: 40 + queryLimitExceeded,
  queryLimitExceeded
})

/** One run per scenario with these seconds and CPU ms. */
const rows = (figures: Record<string, readonly [number, number]>): Array<Report.Row> =>
  Object.entries(figures).map(([id, [seconds, cpu]]) => Report.row(scenario(id), [run(seconds, cpu)]))

const verdict = (list: ReadonlyArray<Report.Verdict>, id: string) => list.find((verdict) => verdict.id === id)!

describe("Report.row", () => {
  it("keeps the median seconds and CPU, the most requests and QUERY_LIMIT_EXCEEDED, and the fewest ok", () => {
    const row = Report.row(scenario("a-ours-batched"), [run(0.5, 300), run(0.3, 500, 2), run(0.9, 100, 0, 1990)])
    strictEqual(row.seconds, 0.5)
    strictEqual(row.clientCpuMs, 300)
    strictEqual(row.queryLimitExceeded, 2)
    strictEqual(row.httpRequests, 42)
    strictEqual(row.ok, 1990)
    strictEqual(row.runs, 3)
    strictEqual(row.callsPerSecond, 4000)
    strictEqual(row.baseline, undefined)
  })

  it("names a baseline's row after its ref", () => {
    const row = Report.row(scenario("d-ours-batched"), [run(1, 1)], "b008137")
    strictEqual(row.id, "d-ours-batched@b008137")
    assertTrue(row.title.startsWith("ours@b008137, "), row.title)
    strictEqual(row.baseline, "b008137")
  })

  it("takes the lower middle of an even count", () => {
    strictEqual(Report.median([4, 1, 3, 2]), 2)
    strictEqual(Report.median([7]), 7)
  })
})

describe("Report.table", () => {
  it("shows the group letter and the client CPU per call", () => {
    const [row] = rows({ "d-ours-explicit": [0.4, 530] })
    const lines = Report.table([row!]).split("\n")
    strictEqual(lines.length, 3)
    assertTrue(lines[0]!.includes("client CPU (ms/call)"))
    assertTrue(lines[2]!.startsWith("| (d) ours, explicit Batch.run | 2000 | 40 | 0 | 0.4 |"), lines[2])
    assertTrue(lines[2]!.includes("| 0.265 |"), lines[2])
  })
})

describe("Report.verdicts", () => {
  it("judges the cloud targets from the figures", () => {
    const cloud = (oursSeconds: number) =>
      Report.verdicts(
        rows({
          "d-ours-batched": [oursSeconds, 900],
          "d-official-batch-by-chunk": [6.2, 300],
          "d-official-batch-concurrent": [0.4, 300]
        }),
        undefined
      )
    const met = cloud(0.5)
    strictEqual(verdict(met, "d-automatic-5x-batch-by-chunk").status, "met")
    strictEqual(verdict(met, "d-automatic-1.5x-concurrent").status, "met")
    const missed = cloud(1.3)
    const fiveTimes = verdict(missed, "d-automatic-5x-batch-by-chunk")
    strictEqual(fiveTimes.status, "not met")
    strictEqual(fiveTimes.figures, "1.3 s against 6.2 s: 4.77x faster")
    strictEqual(verdict(missed, "d-automatic-1.5x-concurrent").status, "not met")
  })

  it("judges client CPU per call against the official batchByChunk", () => {
    const list = Report.verdicts(
      rows({ "a-ours-batched": [0.4, 500], "a-ours-explicit": [0.2, 260], "a-official-batch-by-chunk": [0.1, 250] }),
      undefined
    )
    strictEqual(verdict(list, "a-cpu-explicit").status, "not met")
    strictEqual(verdict(list, "a-cpu-automatic").status, "met")
    strictEqual(verdict(list, "a-cpu-automatic").figures, "0.250 ms/call against 0.125 ms/call (2.00x)")
  })

  it("says not run when a row a target needs is missing, and without a baseline", () => {
    const list = Report.verdicts(rows({ "d-ours-batched": [0.5, 900] }), undefined)
    strictEqual(verdict(list, "d-automatic-5x-batch-by-chunk").status, "not run")
    strictEqual(verdict(list, "no-slower-than-baseline").status, "not run")
    strictEqual(verdict(list, "ours-no-query-limit-exceeded").status, "met")
  })

  it("counts QUERY_LIMIT_EXCEEDED and failed calls in any run of ours", () => {
    const list = Report.verdicts(
      [Report.row(scenario("d-ours-batched"), [run(0.5, 900), run(0.5, 900, 3, 1999)])],
      undefined
    )
    strictEqual(verdict(list, "ours-no-query-limit-exceeded").status, "not met")
    strictEqual(verdict(list, "ours-no-query-limit-exceeded").figures, "d-ours-batched: 3")
    strictEqual(verdict(list, "every-call-succeeds").status, "not met")
  })

  it("judges the b24 processes (g): medians against 250 and 400 ms, the bulk run's requests and QUERY_LIMIT_EXCEEDED", () => {
    const process = (id: string, seconds: number, cpu: number, requests = 0, qle = 0, ok?: number) => {
      const calls = scenario(id).calls
      return Report.row(scenario(id), [{
        measured: { ...measured(seconds, cpu, ok ?? calls), failed: calls - (ok ?? calls) },
        httpRequests: requests,
        queryLimitExceeded: qle
      }])
    }
    const judged = (help: number, call: number, requests: number, qle: number, ok?: number) =>
      Report.verdicts([
        process("g-node", 0.05, 40),
        process("g-b24-help", help, 90),
        process("g-b24-call", call, 300, 1),
        process("g-b24-bulk", 78, 9000, requests, qle, ok)
      ], undefined)
    const met = judged(0.25, 0.4, 200, 0)
    for (const id of ["g-help-250ms", "g-call-400ms", "g-bulk-205-requests", "every-call-succeeds"]) {
      strictEqual(verdict(met, id).status, "met", id)
    }
    strictEqual(verdict(met, "g-help-250ms").figures, "0.25 s, 90 ms of CPU; node -e 0: 0.05 s, 40 ms of CPU")
    const missed = judged(0.26, 0.41, 206, 0)
    strictEqual(verdict(missed, "g-help-250ms").status, "not met")
    strictEqual(verdict(missed, "g-call-400ms").status, "not met")
    strictEqual(verdict(missed, "g-bulk-205-requests").status, "not met")
    strictEqual(verdict(judged(0.2, 0.3, 200, 1), "g-bulk-205-requests").status, "not met")
    strictEqual(verdict(judged(0.2, 0.3, 200, 0, 9_999), "g-bulk-205-requests").status, "not met")
    strictEqual(verdict(Report.verdicts([process("g-b24-help", 0.1, 90)], undefined), "g-help-250ms").status, "not run")
    const [row] = [process("g-b24-bulk", 78, 9000, 200, 0)]
    strictEqual(row!.floorSeconds, 75)
    assertTrue(Report.table([row!]).split("\n")[2]!.startsWith("| (g) b24 im chat mute --input"), Report.table([row!]))
  })

  it("compares every row of ours with its baseline row, within the tolerance", () => {
    const pair = (now: number, old: number) => [
      Report.row(scenario("a-ours-explicit"), [run(now, 1)]),
      Report.row(scenario("a-ours-explicit"), [run(old, 1)], "b008137")
    ]
    const within = verdict(Report.verdicts(pair(1.09, 1), "b008137"), "no-slower-than-baseline")
    strictEqual(within.status, "met")
    strictEqual(within.figures, "a-ours-explicit 1.09x")
    strictEqual(verdict(Report.verdicts(pair(1.12, 1), "b008137"), "no-slower-than-baseline").status, "not met")
  })
})

describe("Report.replaceSection", () => {
  const readme = (inner: string) =>
    `# Title\n\n## Benchmarks\n\nprose\n\n${Report.markers.start}\n${inner}\n${Report.markers.end}\n\nmore prose\n`

  it("replaces what is between the markers and nothing else", () => {
    deepStrictEqual(Report.replaceSection(readme("old table"), "new table\n"), readme("new table"))
  })

  it("refuses a README without the markers, or with them twice", () => {
    strictEqual(Report.replaceSection("# Title\n", "x"), undefined)
    strictEqual(Report.replaceSection(readme("a") + readme("b"), "x"), undefined)
    strictEqual(Report.replaceSection(`${Report.markers.end}\n${Report.markers.start}\n`, "x"), undefined)
  })
})
