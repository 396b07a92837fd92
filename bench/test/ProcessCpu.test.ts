/**
 * CPU readings from /proc: the stat line's fields, a real child's CPU while it runs, and once it has been reaped.
 */
import { describe, it } from "@effect/vitest"
import { assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as ProcessCpu from "../src/ProcessCpu.js"

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

describe("ProcessCpu.parseStat", () => {
  it("reads utime + stime and cutime + cstime after the command name", () => {
    const fields = ["S", "1", "2", "3", "0", "-1", "4194304", "100", "0", "0", "0", "70", "30", "5", "7", "20", "0"]
    deepStrictEqual(ProcessCpu.parseStat(`42 (node) ${fields.join(" ")}`), { ticks: 100, childrenTicks: 12 })
  })

  it("counts fields after the last parenthesis, so a command name with spaces and parentheses is read right", () => {
    const fields = ["R", "1", "2", "3", "0", "-1", "0", "0", "0", "0", "0", "1", "2", "3", "4"]
    deepStrictEqual(ProcessCpu.parseStat(`7 (a) b (c)) ${fields.join(" ")}`), { ticks: 3, childrenTicks: 7 })
  })

  it("answers undefined for text that is not a stat line", () => {
    strictEqual(ProcessCpu.parseStat(""), undefined)
    strictEqual(ProcessCpu.parseStat("42 (node) S 1 2"), undefined)
    strictEqual(ProcessCpu.parseStat("no parenthesis at all"), undefined)
  })

  it("reads this process's own stat file", () => {
    const stat = ProcessCpu.parseStat(Fs.readFileSync("/proc/self/stat", "utf8"))
    assertTrue(stat !== undefined && stat.ticks > 0, JSON.stringify(stat))
  })
})

describe("ProcessCpu readings of a real child", () => {
  it("sees the CPU a running child has burnt, and its whole CPU once it is reaped", async () => {
    const before = ProcessCpu.ofReapedChildren()
    const { burnt, child, exited } = spawnBurner(300)
    await burnt
    const running = ProcessCpu.ofProcess(child.pid!)
    assertTrue(running !== undefined && running >= 300 - ProcessCpu.resolutionMs, `running: ${running} ms`)
    child.stdin.end()
    await exited
    strictEqual(ProcessCpu.ofProcess(child.pid!), undefined)
    const reaped = ProcessCpu.ofReapedChildren() - before
    assertTrue(reaped >= running!, `reaped: ${reaped} ms, running: ${running} ms`)
  })

  it("reads about nothing for an idle child", async () => {
    const { burnt, child, exited } = spawnBurner(0)
    await burnt
    const first = ProcessCpu.ofProcess(child.pid!)!
    await new Promise((resolve) => setTimeout(resolve, 300))
    const second = ProcessCpu.ofProcess(child.pid!)!
    child.stdin.end()
    await exited
    assertTrue(second - first <= 2 * ProcessCpu.resolutionMs, `idle for 300 ms: ${second - first} ms of CPU`)
  })
})
