/**
 * Readings from /proc: the stat line's fields, a real child's CPU while it runs and once it has been reaped, and a
 * child's own peak memory where its maxRSS reports its parent's.
 */
import { describe, it } from "@effect/vitest"
import { assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as ProcessUsage from "../src/ProcessUsage.js"

// Burns `ms` of its own CPU (not wall time: the machine may be busy), says so, and waits for stdin to close.
const burner = (ms: number) =>
  `const start = process.cpuUsage(); let x = 0
while ((process.cpuUsage(start).user + process.cpuUsage(start).system) / 1000 < ${ms}) x++
process.stdout.write("burnt\\n"); process.stdin.resume(); process.stdin.on("end", () => process.exit(0))`

const spawnBurner = (ms: number) => {
  const child = ChildProcess.spawn(process.execPath, ["-e", burner(ms)], { stdio: ["pipe", "pipe", "inherit"] })
  const burnt = new Promise<void>((resolve) => child.stdout.on("data", () => resolve()))
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()))
  return { child, burnt, exited }
}

describe("ProcessUsage.parseStat", () => {
  it("reads utime + stime and cutime + cstime after the command name", () => {
    const fields = ["S", "1", "2", "3", "0", "-1", "4194304", "100", "0", "0", "0", "70", "30", "5", "7", "20", "0"]
    deepStrictEqual(ProcessUsage.parseStat(`42 (node) ${fields.join(" ")}`), { ticks: 100, childrenTicks: 12 })
  })

  it("counts fields after the last parenthesis, so a command name with spaces and parentheses is read right", () => {
    const fields = ["R", "1", "2", "3", "0", "-1", "0", "0", "0", "0", "0", "1", "2", "3", "4"]
    deepStrictEqual(ProcessUsage.parseStat(`7 (a) b (c)) ${fields.join(" ")}`), { ticks: 3, childrenTicks: 7 })
  })

  it("answers undefined for text that is not a stat line", () => {
    strictEqual(ProcessUsage.parseStat(""), undefined)
    strictEqual(ProcessUsage.parseStat("42 (node) S 1 2"), undefined)
    strictEqual(ProcessUsage.parseStat("no parenthesis at all"), undefined)
  })

  it("reads this process's own stat file", () => {
    const stat = ProcessUsage.parseStat(Fs.readFileSync("/proc/self/stat", "utf8"))
    assertTrue(stat !== undefined && stat.ticks > 0, JSON.stringify(stat))
  })
})

describe("ProcessUsage CPU readings of a real child", () => {
  it("sees the CPU a running child has burnt, and its whole CPU once it is reaped", async () => {
    const before = ProcessUsage.reapedChildrenCpuMs()
    const { burnt, child, exited } = spawnBurner(300)
    await burnt
    const running = ProcessUsage.cpuMs(child.pid!)
    assertTrue(running !== undefined && running >= 300 - ProcessUsage.resolutionMs, `running: ${running} ms`)
    child.stdin.end()
    await exited
    strictEqual(ProcessUsage.cpuMs(child.pid!), undefined)
    const reaped = ProcessUsage.reapedChildrenCpuMs() - before
    assertTrue(reaped >= running!, `reaped: ${reaped} ms, running: ${running} ms`)
  })

  it("reads about nothing for an idle child", async () => {
    const { burnt, child, exited } = spawnBurner(0)
    await burnt
    const first = ProcessUsage.cpuMs(child.pid!)!
    await new Promise((resolve) => setTimeout(resolve, 300))
    const second = ProcessUsage.cpuMs(child.pid!)!
    child.stdin.end()
    await exited
    assertTrue(second - first <= 2 * ProcessUsage.resolutionMs, `idle for 300 ms: ${second - first} ms of CPU`)
  })
})

describe("ProcessUsage.peakRssMb", () => {
  it("reads VmHWM from a status file", () => {
    strictEqual(ProcessUsage.parseStatus("Name:\tnode\nVmPeak:\t 1000 kB\nVmHWM:\t   51200 kB\nVmRSS:\t 100 kB\n"), 50)
    strictEqual(ProcessUsage.parseStatus("Name:\tnode\nState:\tZ (zombie)\n"), undefined)
  })

  it("reads a child's own peak, where the child's maxRSS carries over this process's larger one", async () => {
    const ballast = Buffer.alloc(200 * 1024 * 1024, 1)
    const child = ChildProcess.spawn(process.execPath, [
      "-e",
      "process.stdout.write(String(process.resourceUsage().maxRSS / 1024) + \"\\n\"); process.stdin.resume()"
    ], { stdio: ["pipe", "pipe", "inherit"] })
    const reported = await new Promise<number>((resolve) => child.stdout.once("data", (line) => resolve(Number(line))))
    const peak = ProcessUsage.peakRssMb(child.pid!)
    child.stdin.end()
    assertTrue(ballast.length > 0 && reported > 200, `the child's own maxRSS: ${reported} MB`)
    assertTrue(peak !== undefined && peak < 150, `VmHWM: ${peak} MB`)
  })
})
