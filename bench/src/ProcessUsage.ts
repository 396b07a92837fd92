/**
 * CPU time and peak memory of a process read from outside it (Linux `/proc`), so that they are measured the same way
 * for any client bundle, including bundles built from older commits.
 *
 * - CPU: `/proc/<pid>/stat` counts user and system time of the whole process (every thread, exited threads included)
 *   in clock ticks (`getconf CLK_TCK`, 100 per second on Linux: a resolution of 10 ms). `/proc/self/stat` also counts
 *   the user and system time of this process's children once they have exited and been reaped.
 * - Peak memory: `VmHWM` in `/proc/<pid>/status`, the peak resident set of the program the process runs. The
 *   process's own `process.resourceUsage().maxRSS` is no measure of a child: Linux carries the parent's peak over
 *   `fork` and `exec`, so a small client started by a larger orchestrator reports the orchestrator's size.
 *
 * @since 0.1.0
 */
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"

/**
 * User plus system CPU of a process in clock ticks, and of its reaped children, from the text of a
 * `/proc/<pid>/stat` file (proc(5): fields 14 `utime`, 15 `stime`, 16 `cutime`, 17 `cstime`). The command name
 * (field 2) is in parentheses and may hold spaces and parentheses itself, so fields are counted after the last `)`.
 * `undefined` when the text is not such a line.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseStat = (
  text: string
): { readonly ticks: number; readonly childrenTicks: number } | undefined => {
  const end = text.lastIndexOf(")")
  if (end < 0) return undefined
  // After ") ": field 3 (state) is index 0, so field n is index n - 3.
  const fields = text.slice(end + 2).trim().split(" ")
  const [utime, stime, cutime, cstime] = [11, 12, 13, 14].map((index) => Number(fields[index]))
  if (![utime, stime, cutime, cstime].every((value) => Number.isInteger(value) && value! >= 0)) return undefined
  return { ticks: utime! + stime!, childrenTicks: cutime! + cstime! }
}

/**
 * The peak resident set in MB from the text of a `/proc/<pid>/status` file (its `VmHWM:` line, in kB); `undefined`
 * without one (a process that has released its memory on the way out has none).
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseStatus = (text: string): number | undefined => {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(text)
  return match === null ? undefined : Number(match[1]) / 1024
}

const ticksPerSecond = (() => {
  try {
    const value = Number(ChildProcess.execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim())
    return Number.isInteger(value) && value > 0 ? value : 100
  } catch {
    return 100
  }
})()

/**
 * The resolution of the CPU readings, in ms (one clock tick).
 *
 * @since 0.1.0
 * @category constants
 */
export const resolutionMs: number = 1000 / ticksPerSecond

const read = <A>(pid: number | "self", file: "stat" | "status", parse: (text: string) => A | undefined) => {
  try {
    return parse(Fs.readFileSync(`/proc/${pid}/${file}`, "utf8"))
  } catch {
    return undefined
  }
}

/**
 * User plus system CPU the process has used so far, in ms; `undefined` once it is gone (exited and reaped) or
 * where there is no `/proc`.
 *
 * @since 0.1.0
 * @category readings
 */
export const cpuMs = (pid: number): number | undefined => {
  const stat = read(pid, "stat", parseStat)
  return stat === undefined ? undefined : stat.ticks * resolutionMs
}

/**
 * User plus system CPU of this process's exited and reaped children, in ms (0 where there is no `/proc`). The
 * difference over one child's life is that child's whole CPU, when it is the only child that ends meanwhile.
 *
 * @since 0.1.0
 * @category readings
 */
export const reapedChildrenCpuMs = (): number => (read("self", "stat", parseStat)?.childrenTicks ?? 0) * resolutionMs

/**
 * The process's peak resident memory so far, in MB; `undefined` once it is gone or on its way out.
 *
 * @since 0.1.0
 * @category readings
 */
export const peakRssMb = (pid: number): number | undefined => read(pid, "status", parseStatus)
