/**
 * Bulk runs as real processes (the bundle) against an emulated portal on loopback that answers each request after
 * 25 ms: a run killed with SIGKILL and resumed skips no line and never sends a non-idempotent call twice; Ctrl-C
 * (SIGINT) lets the calls in flight settle, records them, and prints the command that goes on.
 */
import { Emulator } from "@bitrix24-effect/emulator"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import { bundle, home, PlatformLive, spawn, tempFile } from "./helpers.js"

const total = 2_500

/** Input lines for a non-idempotent method, each on its own chat: the journal tells which lines ran, and how often. */
const input = Array.from({ length: total }, (_, i) => `{"CHAT_ID":${100_000 + i}}`).join("\n") + "\n"

/** Starts the bundle; once `lines` lines are on its stdout, sends `signal`; answers its exit code and output. */
const interrupt = (words: ReadonlyArray<string>, env: Record<string, string>, lines: number, signal: NodeJS.Signals) =>
  Effect.async<
    { readonly code: number | null; readonly signal: string | null; readonly stdout: string; readonly stderr: string }
  >(
    (resume) => {
      const child = ChildProcess.spawn(process.execPath, [bundle, ...words], {
        env: { PATH: process.env.PATH ?? "", ...env },
        stdio: ["ignore", "pipe", "pipe"]
      })
      let stdout = ""
      let stderr = ""
      let sent = false
      child.stdout.on("data", (chunk) => {
        stdout += chunk
        if (!sent && stdout.split("\n").length > lines) {
          sent = true
          child.kill(signal)
        }
      })
      child.stderr.on("data", (chunk) => stderr += chunk)
      child.on("exit", (code, got) => resume(Effect.succeed({ code, signal: got, stdout, stderr })))
      return Effect.sync(() => child.kill("SIGKILL"))
    }
  )

const outcomes = (stdout: string) =>
  stdout.split("\n").filter((line) => line.length > 0).map((line) =>
    JSON.parse(line) as {
      line: number
      result?: unknown
      error?: { error: string }
    }
  )

/** How many times each chat's call reached the portal. */
const runs = (emulator: Emulator.Service) => {
  const counts = new Map<number, number>()
  for (const entry of emulator.journal) {
    if (entry.method !== "imopenlines.crm.lead.create") continue
    const chat = Number(entry.params.CHAT_ID)
    counts.set(chat, (counts.get(chat) ?? 0) + 1)
  }
  return counts
}

const portal = Emulator.layer({ limits: { bucket: "off" }, latency: { ms: 25 }, journalLimit: 100_000 })

describe("bulk runs that are stopped and resumed (the bundle as a process)", () => {
  it.scopedLive(
    "killed with SIGKILL, then resumed: every line once in the output, no call sent twice",
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const { env } = yield* home
        const file = yield* tempFile("leads.ndjson", input)
        const state = `${file}.state`
        const words = ["imopenlines", "crm", "lead", "create", "--input", file, "--resume", state]
        // The emulated portal has no leaky bucket; neither does the client then.
        const full = { ...env, B24_WEBHOOK_URL: Redacted.value(emulator.webhookUrl), B24_BUCKET: "off" }
        const killed = yield* interrupt(words, full, 400, "SIGKILL")
        expect(killed.signal).toBe("SIGKILL")
        const before = outcomes(killed.stdout)
        expect(before.length).toBeGreaterThanOrEqual(400)
        expect(before.length).toBeLessThan(total)

        const resumed = yield* spawn(words, { env: full, timeout: 60_000 })
        expect(resumed.code).toBe(4)
        const after = outcomes(resumed.stdout)
        expect(after.map((outcome) => outcome.line)).toEqual(Array.from({ length: total }, (_, i) => i + 1))
        for (const outcome of before) expect(after[outcome.line - 1]).toEqual(outcome)

        const counts = runs(emulator)
        expect(Math.max(...counts.values())).toBe(1)
        const unknown = after.filter((outcome) => outcome.error?.error === "OUTCOME_UNKNOWN")
        // Only lines in flight at the kill are unknown; they were not sent again.
        expect(unknown.length).toBeLessThanOrEqual(150)
        for (const outcome of after) {
          const ran = counts.get(100_000 + outcome.line - 1) ?? 0
          if (outcome.error?.error === "OUTCOME_UNKNOWN") expect(ran).toBeLessThanOrEqual(1)
          else expect({ line: outcome.line, ran }).toEqual({ line: outcome.line, ran: 1 })
        }
        expect(Fs.statSync(state).mode & 0o777).toBe(0o600)
      }).pipe(Effect.provide(portal), Effect.provide(PlatformLive)),
    120_000
  )

  it.scopedLive(
    "Ctrl-C lets the calls in flight settle and prints how to go on; going on finishes with no unknown line",
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const { env } = yield* home
        const file = yield* tempFile("leads.ndjson", input)
        // The emulated portal has no leaky bucket; neither does the client then.
        const full = { ...env, B24_WEBHOOK_URL: Redacted.value(emulator.webhookUrl), B24_BUCKET: "off" }
        const words = ["imopenlines", "crm", "lead", "create", "--input", file]
        const stopped = yield* interrupt(words, full, 400, "SIGINT")
        expect(stopped.code).toBe(130)
        const hint = /b24: to go on, run: (b24 .*)\n/.exec(stopped.stderr)
        expect(hint, stopped.stderr).not.toBeNull()
        expect(stopped.stderr).toMatch(/stopped after \d+ of 2500 lines/)
        const command = hint![1]!
        expect(command).toContain(`--input ${file} --resume ${env.XDG_STATE_HOME}/b24/bulk-`)
        const again = yield* Effect.async<{ code: number; stdout: string }>((resume) => {
          ChildProcess.execFile(
            "bash",
            ["-c", command.replace(/^b24 /, `"${process.execPath}" "${bundle}" `)],
            { env: { PATH: process.env.PATH ?? "", ...full }, maxBuffer: 64 * 1024 * 1024 },
            (error, stdout) => resume(Effect.succeed({ code: error === null ? 0 : Number(error.code), stdout }))
          )
        })
        const after = outcomes(again.stdout)
        expect(after.map((outcome) => outcome.line)).toEqual(Array.from({ length: total }, (_, i) => i + 1))
        expect(after.filter((outcome) => outcome.error?.error === "OUTCOME_UNKNOWN")).toEqual([])
        expect(Math.max(...runs(emulator).values())).toBe(1)
        expect(runs(emulator).size).toBe(total)
      }).pipe(Effect.provide(portal), Effect.provide(PlatformLive)),
    120_000
  )
})
