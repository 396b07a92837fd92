/**
 * The runner against real child processes speaking the harness protocol: the CPU it reports covers the measured run
 * only (not the start-up and warm-up before `ready`), memory is read from outside rather than taken from the
 * client's line, `prepare` runs between the two, and a client that dies without its result line is a BenchError
 * with the client's stderr.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { describe, it } from "@effect/vitest"
import { assertTrue, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Runner from "../src/Runner.js"
import * as Scenarios from "../src/Scenarios.js"

const scenario = Scenarios.all[0]!

const burn = `const burn = (ms) => { const start = process.cpuUsage(); let x = 0
  while ((process.cpuUsage(start).user + process.cpuUsage(start).system) / 1000 < ms) x++ }`

/** A client that burns 400 ms of CPU warming up and 200 ms in the measured run. */
const fakeClient = `${burn}
burn(400)
process.stdout.write("ready\\n")
process.stdin.once("data", (line) => {
  if (String(line) !== "go\\n") process.exit(3)
  burn(200)
  process.stdout.write(JSON.stringify({ ok: 7, failed: 1, seconds: 0.2, peakRssMb: 50, warmRssMb: 40 }) + "\\n")
  process.exit(0)
})`

const crashingClient = `process.stderr.write("no portal today\\n"); process.exit(2)`

const withProgram = <A, E>(source: string, use: (path: string) => Effect.Effect<A, E, never>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "b24-bench-test-"))
      Fs.writeFileSync(Path.join(dir, "client.mjs"), source)
      return dir
    }),
    (dir) => use(Path.join(dir, "client.mjs")),
    (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
  )

const options = (bundle: string, prepare: Effect.Effect<void>): Runner.Options => ({
  bundle,
  scenario,
  cwd: Os.tmpdir(),
  env: {},
  nodeArgs: [],
  prepare
})

describe("Runner.run", () => {
  it.live("reports the client's line and the CPU of the measured run alone", () =>
    withProgram(fakeClient, (bundle) =>
      Effect.gen(function*() {
        let prepared = 0
        const measured = yield* Runner.run(options(bundle, Effect.sync(() => prepared++)))
        strictEqual(prepared, 1)
        strictEqual(measured.ok, 7)
        strictEqual(measured.failed, 1)
        // Memory is read from /proc too, not taken from the client's line.
        assertTrue(measured.warmRssMb > 1 && measured.warmRssMb < 1000, `warmRssMb: ${measured.warmRssMb}`)
        assertTrue(
          measured.peakRssMb >= measured.warmRssMb && measured.peakRssMb < 1000,
          `peakRssMb: ${measured.peakRssMb}`
        )
        // 200 ms burnt after "go", give or take a clock tick and the exit; the 400 ms of warm-up are not counted.
        assertTrue(
          measured.clientCpuMs >= 190 && measured.clientCpuMs < 350,
          `clientCpuMs: ${measured.clientCpuMs}`
        )
      }).pipe(Effect.provide(NodeContext.layer))))

  it.live("fails with the client's stderr when it exits without a result line", () =>
    withProgram(crashingClient, (bundle) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(Runner.run(options(bundle, Effect.void)))
        strictEqual(error._tag, "BenchError")
        assertTrue(error.message.includes("exited with 2") && error.message.includes("no portal today"), error.message)
      }).pipe(Effect.provide(NodeContext.layer))))
})
