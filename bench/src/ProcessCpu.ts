/**
 * CPU time of a process read from outside it (Linux `/proc`), so that it works the same for any client bundle,
 * including bundles built from older commits that report nothing about their own CPU.
 *
 * `/proc/<pid>/stat` counts user and system time of the whole process (every thread, exited threads included) in
 * clock ticks (`getconf CLK_TCK`, 100 per second on Linux: a resolution of 10 ms). `/proc/self/stat` also counts the
 * user and system time of this process's children once they have exited and been reaped.
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

const ticksPerSecond = (() => {
  try {
    const value = Number(ChildProcess.execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim())
    return Number.isInteger(value) && value > 0 ? value : 100
  } catch {
    return 100
  }
})()

/**
 * The resolution of the readings, in ms (one clock tick).
 *
 * @since 0.1.0
 * @category constants
 */
export const resolutionMs: number = 1000 / ticksPerSecond

const read = (pid: number | "self") => {
  try {
    return parseStat(Fs.readFileSync(`/proc/${pid}/stat`, "utf8"))
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
export const ofProcess = (pid: number): number | undefined => {
  const stat = read(pid)
  return stat === undefined ? undefined : stat.ticks * resolutionMs
}

/**
 * User plus system CPU of this process's exited and reaped children, in ms (0 where there is no `/proc`). The
 * difference over one child's life is that child's whole CPU, when it is the only child that ends meanwhile.
 *
 * @since 0.1.0
 * @category readings
 */
export const ofReapedChildren = (): number => (read("self")?.childrenTicks ?? 0) * resolutionMs
