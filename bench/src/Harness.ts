/**
 * The child-process side of a benchmark run: reads the scenario from argv, warms the client up (not measured; the
 * orchestrator then resets the emulator's counters and bucket), waits for "go" on stdin, runs the measured workload
 * with a fresh client, and prints one JSON line with the outcome, the seconds of the workload alone and the process's
 * peak resident memory in MB (at the end, and when the warm-up had finished).
 */
import { performance } from "node:perf_hooks"
import * as Readline from "node:readline"
import type { Scenario } from "./Scenario.js"

/** What a client reports for one workload. */
export interface Outcome {
  readonly ok: number
  readonly failed: number
}

/** A client: runs `calls` calls of the scenario with a fresh client instance. */
export type Client = (scenario: Scenario, calls: number) => Promise<Outcome>

/** The number of calls of the warm-up. */
export const warmupCalls = (scenario: Scenario): number => Math.min(scenario.calls, 500)

/** Runs the warm-up, the handshake and the measured workload, then exits. */
export const main = async (client: Client): Promise<void> => {
  const scenario = JSON.parse(process.argv[2]!) as Scenario
  await client(scenario, warmupCalls(scenario))
  const warmRssMb = process.resourceUsage().maxRSS / 1024
  process.stdout.write("ready\n")
  const input = Readline.createInterface({ input: process.stdin })
  await new Promise<void>((resolve) => input.once("line", () => resolve()))
  input.close()
  const started = performance.now()
  const outcome = await client(scenario, scenario.calls)
  const seconds = (performance.now() - started) / 1000
  process.stdout.write(
    `${JSON.stringify({ ...outcome, seconds, peakRssMb: process.resourceUsage().maxRSS / 1024, warmRssMb })}\n`
  )
  process.exit(0)
}

/** The webhook URL the orchestrator passes in the environment (it carries the code: never printed). */
export const webhookUrl = (): string => process.env.BENCH_WEBHOOK_URL!

/** The calls, all the same idempotent write: im.chat.mute of group chat 1489 in the default fixture. */
export const params = { CHAT_ID: 1489 }

/** `0..n-1`. */
export const range = (n: number): Array<number> => Array.from({ length: n }, (_, i) => i)

/**
 * Runs `calls` calls with `width` in flight, each `send(first)` covering `perRequest` calls from `first` on and
 * answering whether they succeeded; counts them.
 */
export const inFlight = async (
  width: number,
  calls: number,
  perRequest: number,
  send: (first: number) => Promise<boolean>
): Promise<Outcome> => {
  let next = 0
  let ok = 0
  let failed = 0
  await Promise.all(
    range(width).map(async () => {
      while (next < calls) {
        const first = next
        next += perRequest
        if (await send(first)) ok += perRequest
        else failed += perRequest
      }
    })
  )
  return { ok, failed }
}
