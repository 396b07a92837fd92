/**
 * `--profile`: where a client spends its CPU during the measured run. Each client process runs with Node's
 * `--cpu-prof`; the samples between `go` and the result line (V8's profile clock and `process.hrtime` are the same
 * monotonic clock, in µs) are summed by function, and each function is placed in its module through the path
 * comments esbuild writes into the bundle above each module's code.
 *
 * @since 0.1.0
 */

/**
 * The parts of a `.cpuprofile` (Chrome DevTools Protocol `Profiler.Profile`) this reads.
 *
 * @since 0.1.0
 * @category models
 */
export interface CpuProfile {
  readonly nodes: ReadonlyArray<{
    readonly id: number
    readonly callFrame: {
      readonly functionName: string
      readonly url: string
      /** 0-based. */
      readonly lineNumber: number
    }
  }>
  /** µs, the monotonic clock. */
  readonly startTime: number
  /** Node id of each sample. */
  readonly samples: ReadonlyArray<number>
  /** µs since the previous sample (the first: since `startTime`). */
  readonly timeDeltas: ReadonlyArray<number>
}

/**
 * A time window in µs of the monotonic clock.
 *
 * @since 0.1.0
 * @category models
 */
export interface Window {
  readonly startMicros: number
  readonly endMicros: number
}

/**
 * One line of the summary: a function, its module, and its self time in the window.
 *
 * @since 0.1.0
 * @category models
 */
export interface Entry {
  readonly functionName: string
  readonly module: string
  readonly selfMs: number
  /** Share of the window's busy time (idle samples left out), 0..1. */
  readonly share: number
}

/**
 * The module each line of a bundle belongs to: esbuild writes `// <path>` above each module's code.
 *
 * @since 0.1.0
 * @category utils
 */
export const moduleLines = (bundle: string): (line: number) => string => {
  const starts: Array<{ readonly line: number; readonly module: string }> = []
  bundle.split("\n").forEach((text, line) => {
    const match = /^\/\/ (\S+\.(?:[cm]?js|ts))$/.exec(text)
    if (match !== null) starts.push({ line, module: shortPath(match[1]!) })
  })
  return (line) => {
    let low = 0
    let high = starts.length - 1
    let found = "(bundle)"
    while (low <= high) {
      const middle = (low + high) >> 1
      if (starts[middle]!.line <= line) {
        found = starts[middle]!.module
        low = middle + 1
      } else {
        high = middle - 1
      }
    }
    return found
  }
}

/** `../node_modules/.pnpm/effect@3.22.4/node_modules/effect/dist/esm/internal/core.js` -> `effect/dist/esm/...`. */
const shortPath = (path: string) => {
  const at = path.lastIndexOf("node_modules/")
  return at >= 0 ? path.slice(at + "node_modules/".length) : path.replace(/^(\.\.\/)+/, "")
}

/**
 * The functions with the most self time in the window, most first. Samples of `(idle)` are left out of the busy
 * time; `(garbage collector)` and `(program)` stay, as V8 names them.
 *
 * @since 0.1.0
 * @category constructors
 */
export const summarize = (
  profile: CpuProfile,
  window: Window,
  moduleOf: (url: string, line: number) => string,
  top = Number.POSITIVE_INFINITY
): ReadonlyArray<Entry> => {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node.callFrame]))
  const self = new Map<string, { functionName: string; module: string; micros: number }>()
  let busy = 0
  let time = profile.startTime
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0
    time += delta
    if (time < window.startMicros || time > window.endMicros) return
    const frame = nodes.get(id)
    if (frame === undefined || frame.functionName === "(idle)") return
    busy += delta
    const module = frame.url === "" ? "" : moduleOf(frame.url, frame.lineNumber)
    const functionName = frame.functionName === "" ? "(anonymous)" : frame.functionName
    const key = `${functionName}\u0000${module}`
    const entry = self.get(key) ?? { functionName, module, micros: 0 }
    entry.micros += delta
    self.set(key, entry)
  })
  return [...self.values()]
    .sort((a, b) => b.micros - a.micros)
    .slice(0, top)
    .map((entry) => ({
      functionName: entry.functionName,
      module: entry.module,
      selfMs: entry.micros / 1000,
      share: busy === 0 ? 0 : entry.micros / busy
    }))
}

/**
 * The package a summary entry belongs to: the npm package for `node_modules` paths (`effect`, `@effect/platform`),
 * the workspace folder for this repository's sources (`packages/http`, `bench`), `node` for Node's own JavaScript,
 * and V8's name for code without a script (`(garbage collector)`, `(program)`, `(native)` for built-ins such as
 * `writev`).
 *
 * @since 0.1.0
 * @category utils
 */
export const packageOf = (entry: Entry): string => {
  if (entry.module === "") {
    return entry.functionName === "(garbage collector)" || entry.functionName === "(program)"
      ? entry.functionName
      : "(native)"
  }
  if (entry.module.startsWith("node:")) return "node"
  const workspace = /^(packages|apps)\/[^/]+/.exec(entry.module)
  if (workspace !== null) return workspace[0]
  if (entry.module.startsWith("src/")) return "bench"
  const parts = entry.module.split("/")
  return parts[0]!.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!
}

/**
 * The entries' self time summed by package (`packageOf`), most first.
 *
 * @since 0.1.0
 * @category constructors
 */
export const byPackage = (entries: ReadonlyArray<Entry>): ReadonlyArray<Entry> => {
  const sums = new Map<string, Entry>()
  for (const entry of entries) {
    const name = packageOf(entry)
    const sum = sums.get(name)
    sums.set(name, {
      functionName: "",
      module: name,
      selfMs: (sum?.selfMs ?? 0) + entry.selfMs,
      share: (sum?.share ?? 0) + entry.share
    })
  }
  return [...sums.values()].sort((a, b) => b.selfMs - a.selfMs)
}

/**
 * Entries summed by package as a Markdown table.
 *
 * @since 0.1.0
 * @category rendering
 */
export const packageTable = (entries: ReadonlyArray<Entry>): string =>
  [
    "| self ms | share | package |",
    "| ---: | ---: | --- |",
    ...entries.map((entry) => `| ${entry.selfMs.toFixed(1)} | ${(entry.share * 100).toFixed(1)}% | ${entry.module} |`)
  ].join("\n")

/**
 * The summary as a Markdown table.
 *
 * @since 0.1.0
 * @category rendering
 */
export const table = (entries: ReadonlyArray<Entry>): string =>
  [
    "| self ms | share | function | module |",
    "| ---: | ---: | --- | --- |",
    ...entries.map((entry) =>
      `| ${entry.selfMs.toFixed(1)} | ${(entry.share * 100).toFixed(1)}% | \`${entry.functionName}\` | ` +
      `${entry.module === "" ? "" : `\`${entry.module}\``} |`
    )
  ].join("\n")
