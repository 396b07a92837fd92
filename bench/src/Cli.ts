/**
 * The `b24` scenarios of `pnpm bench`, run on the bundle (`apps/cli/dist/b24.cjs`, built first) as the installed
 * command runs:
 * - cold start: whole-process wall time of `b24 --help` and of a typed call (`b24 im chat mute --chat-id 1489`) to
 *   an inbound webhook on loopback (an emulated portal over plain HTTP), next to `node -e 0` in the same run; the
 *   three are interleaved and each row is the median of its runs, wall time and CPU time (targets: help at most
 *   250 ms, the call 400 ms);
 * - bulk: `b24 im chat mute --input FILE` with 10,000 lines against an emulated portal with the standard leaky
 *   bucket (50, draining 2 per second), counting the HTTP requests and `QUERY_LIMIT_EXCEEDED` answers the portal saw
 *   (targets: at most 205 requests, no `QUERY_LIMIT_EXCEEDED`).
 *
 * BENCH_ONLY: the ids `cli-cold-start` and `cli-bulk` select these; with BENCH_ONLY naming neither, they are skipped.
 */
import { Emulator } from "@bitrix24-effect/emulator"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { performance } from "node:perf_hooks"

const cliDir = Path.join(import.meta.dirname, "..", "..", "apps", "cli")
const bundle = Path.join(cliDir, "dist", "b24.cjs")

/**
 * One row of the `b24` scenarios in results.json: `seconds` is the median wall time of a whole process for the
 * cold-start rows and the whole run for the bulk row.
 */
export interface Row {
  readonly id: string
  readonly title: string
  readonly runs: number
  readonly seconds: number
  /** For the cold-start rows: the median's excess over the median of `node -e 0` in the same run. */
  readonly overNodeSeconds?: number
  /** For the cold-start rows: the median CPU time (user and system) of the process, in seconds. */
  readonly cpuSeconds?: number
  readonly httpRequests?: number
  readonly queryLimitExceeded?: number
  readonly lines?: number
  readonly exitCode?: number
}

/**
 * Runs a process to its end under bash's `time`; answers its wall time and its CPU time (user and system, which a
 * busy machine inflates far less than the wall time) in seconds, its exit code and its output.
 */
const timed = (command: string, args: ReadonlyArray<string>, env: Record<string, string>) =>
  Effect.async<{ readonly seconds: number; readonly cpu: number; readonly code: number; readonly stdout: string }>(
    (resume) => {
      const started = performance.now()
      ChildProcess.execFile(
        "bash",
        ["-c", "TIMEFORMAT='b24-bench-cpu %3U %3S'; time \"$@\"", "bash", command, ...args],
        { env: { ...process.env, ...env }, maxBuffer: 256 * 1024 * 1024 },
        (error, stdout, stderr) => {
          const cpu = /b24-bench-cpu ([\d.]+) ([\d.]+)\s*$/.exec(stderr)
          resume(Effect.succeed({
            seconds: (performance.now() - started) / 1000,
            cpu: cpu === null ? Number.NaN : Number(cpu[1]) + Number(cpu[2]),
            code: error === null ? 0 : typeof error.code === "number" ? error.code : -1,
            stdout
          }))
        }
      ).stdin?.end()
    }
  )

/** One process run: wall and CPU seconds. */
interface Sample {
  readonly seconds: number
  readonly cpu: number
}

const median = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

const round = (value: number) => Number(value.toFixed(3))

const build = Effect.async<void, Error>((resume) => {
  ChildProcess.execFile(
    process.execPath,
    [Path.join(cliDir, "scripts", "bundle.mjs")],
    (error, _stdout, stderr) =>
      resume(error === null ? Effect.void : Effect.fail(new Error(`b24 bundle failed: ${stderr}`)))
  )
})

/** A fresh home, so that no profile of the machine is read. */
const home = () => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "b24-bench-"))
  return { HOME: dir, XDG_CONFIG_HOME: `${dir}/config`, XDG_STATE_HOME: `${dir}/state` }
}

const coldStart = (runs: number) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.make()
    const env = { ...home(), B24_WEBHOOK_URL: Redacted.value(emulator.webhookUrl), B24_BUCKET: "off" }
    const samples = { node: [] as Array<Sample>, help: [] as Array<Sample>, call: [] as Array<Sample> }
    for (let run = 0; run < runs; run++) {
      samples.node.push(yield* timed(process.execPath, ["-e", "0"], env))
      const help = yield* timed(process.execPath, [bundle, "--help"], env)
      if (help.code !== 0) return yield* Effect.fail(new Error("b24 --help failed"))
      samples.help.push(help)
      const call = yield* timed(process.execPath, [bundle, "im", "chat", "mute", "--chat-id", "1489"], env)
      if (call.code !== 0 || call.stdout !== "true\n") return yield* Effect.fail(new Error("the typed call failed"))
      samples.call.push(call)
    }
    const floor = median(samples.node.map((sample) => sample.seconds))
    const row = (id: string, title: string, of: ReadonlyArray<Sample>): Row => {
      const seconds = median(of.map((sample) => sample.seconds))
      return {
        id,
        title,
        runs,
        seconds: round(seconds),
        ...(id === "cli-node" ? {} : { overNodeSeconds: round(seconds - floor) }),
        cpuSeconds: round(median(of.map((sample) => sample.cpu)))
      }
    }
    return [
      row("cli-node", "node -e 0 (the floor)", samples.node),
      row("cli-help", "b24 --help", samples.help),
      row("cli-call", "b24 im chat mute --chat-id 1489 (webhook on loopback)", samples.call)
    ]
  }).pipe(Effect.scoped)

const bulk = (lines: number) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.make({ journalLimit: lines * 2 })
    const dir = home()
    const input = Path.join(dir.HOME, "chats.ndjson")
    Fs.writeFileSync(input, `${Array.from({ length: lines }, () => `{"CHAT_ID":1489}`).join("\n")}\n`)
    const run = yield* timed(process.execPath, [bundle, "im", "chat", "mute", "--input", input], {
      ...dir,
      B24_WEBHOOK_URL: Redacted.value(emulator.webhookUrl)
    })
    return {
      id: "cli-bulk",
      title: `b24 im chat mute --input (${lines.toLocaleString("en-US")} lines, standard bucket)`,
      runs: 1,
      seconds: round(run.seconds),
      httpRequests: emulator.httpRequests(),
      queryLimitExceeded: emulator.journal.filter((entry) => entry.error === "QUERY_LIMIT_EXCEEDED").length,
      lines: run.stdout.split("\n").filter((line) => line.length > 0).length,
      exitCode: run.code
    } satisfies Row
  }).pipe(Effect.scoped)

/**
 * Builds the bundle and runs the selected `b24` scenarios; prints their rows and answers them, with the targets.
 */
export const run = (only: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const selected = (id: string) => only.length === 0 || only.includes(id)
    if (!selected("cli-cold-start") && !selected("cli-bulk")) return undefined
    yield* build
    const rows: Array<Row> = []
    if (selected("cli-cold-start")) rows.push(...yield* coldStart(15))
    if (selected("cli-bulk")) rows.push(yield* bulk(10_000))
    const byId = (id: string) => rows.find((row) => row.id === id)
    const targets = {
      helpAtMost250ms: byId("cli-help") === undefined ? undefined : byId("cli-help")!.seconds <= 0.25,
      callAtMost400ms: byId("cli-call") === undefined ? undefined : byId("cli-call")!.seconds <= 0.4,
      bulkAtMost205Requests: byId("cli-bulk") === undefined ? undefined : byId("cli-bulk")!.httpRequests! <= 205,
      bulkNoQueryLimitExceeded: byId("cli-bulk") === undefined ? undefined : byId("cli-bulk")!.queryLimitExceeded === 0
    }
    yield* Console.log(
      [
        "",
        "| b24 scenario | runs | seconds (median) | over node -e 0 | CPU seconds (median) | HTTP requests | " +
        "QUERY_LIMIT_EXCEEDED |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ...rows.map((row) =>
          [
            row.title,
            row.runs,
            row.seconds,
            row.overNodeSeconds,
            row.cpuSeconds,
            row.httpRequests,
            row.queryLimitExceeded
          ]
            .map((cell) => cell ?? "").join(" | ")
        ).map((line) => `| ${line} |`),
        "",
        `b24 targets: ${JSON.stringify(targets)}`
      ].join("\n")
    )
    return { rows, targets }
  })
