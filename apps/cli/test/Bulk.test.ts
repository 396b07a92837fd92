/**
 * Bulk runs: NDJSON and CSV input, one call per line through automatic batching, NDJSON output in input order with
per-line errors, dry runs, and resume: finished lines are printed again from the state file, a non-idempotent line
 * whose outcome is unknown is reported and never sent again.
 */
import { Emulator } from "@bitrix24-effect/emulator"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Fs from "node:fs"
import * as Progress from "../src/Progress.js"
import { b24, home, PlatformLive, tempFile } from "./helpers.js"

const TestLive = Layer.merge(PlatformLive, Emulator.layer({ limits: { bucket: "off" } }))

const lines = (text: string) => text.trimEnd().split("\n").map((line) => JSON.parse(line))

/** `b24` against the emulator's webhook, with a fresh home; answers the run and the home's environment. */
const bulk = (words: ReadonlyArray<string>, stdin?: string) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const { env } = yield* home
    const full: Record<string, string> = { ...env, B24_WEBHOOK_URL: Redacted.value(emulator.webhookUrl) }
    return { run: yield* b24(words, { env: full, ...(stdin === undefined ? {} : { stdin }) }), env: full }
  })

describe("bulk input", () => {
  it.scopedLive("NDJSON: one call per line, output in input order, errors per line, the highest exit code", () =>
    Effect.gen(function*() {
      const { journal } = yield* Emulator.Emulator
      const input = yield* tempFile(
        "mute.ndjson",
        [
          `{"CHAT_ID":1489}`,
          `{"CHAT_ID":2043}`,
          ``,
          `not json`,
          `{"CHAT_ID":"x"}`,
          `{"DIALOG_ID":"chat1489","MUTE":false}`,
          `[1,2]`
        ].join("\n")
      )
      const { run } = yield* bulk(["im", "chat", "mute", "--input", input])
      expect(run.code).toBe(3)
      expect(lines(run.stdout)).toEqual([
        { line: 1, result: true },
        { line: 2, error: { error: "ACCESS_ERROR", error_description: "This chat cannot be muted", status: 403 } },
        { line: 4, error: { error: "INVALID_LINE", error_description: expect.stringContaining("not a JSON object") } },
        {
          line: 5,
          error: {
            error: "INVALID_PARAMS",
            field: "CHAT_ID",
            method: "im.chat.mute",
            error_description: expect.any(String)
          }
        },
        { line: 6, result: true },
        { line: 7, error: { error: "INVALID_LINE", error_description: "expected a JSON object of params" } }
      ])
      // Inside a batch, params travel as a query string (wire sheet §2): the portal sees strings.
      expect(journal.filter((entry) => entry.method === "im.chat.mute").map((entry) => entry.params)).toEqual([
        { CHAT_ID: "1489" },
        { CHAT_ID: "2043" },
        { DIALOG_ID: "chat1489", MUTE: "N" }
      ])
    }).pipe(Effect.provide(TestLive)))

  it.scopedLive("CSV with a header row; empty cells leave a param out; options on the command line apply to every line", () =>
    Effect.gen(function*() {
      const { journal } = yield* Emulator.Emulator
      const input = yield* tempFile(
        "mute.csv",
        `CHAT_ID,DIALOG_ID,MUTE\n1489,,\n,"chat1489",Y\n1489,,N\n1489\n`
      )
      const { run } = yield* bulk(["im", "chat", "mute", "--no-mute", "--input", input])
      expect(lines(run.stdout)).toEqual([
        { line: 2, result: true },
        { line: 3, result: true },
        { line: 4, result: true },
        {
          line: 5,
          error: { error: "INVALID_LINE", error_description: "expected 3 CSV fields as in the header, got 1" }
        }
      ])
      expect(journal.filter((entry) => entry.via === "batch").map((entry) => entry.params)).toEqual([
        { CHAT_ID: "1489", MUTE: "N" },
        { DIALOG_ID: "chat1489", MUTE: "Y" },
        { CHAT_ID: "1489", MUTE: "N" }
      ])
    }).pipe(Effect.provide(TestLive)))

  it.scopedLive("120 lines from standard input travel in 3 batch requests; b24 call takes --input too", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const input = Array.from({ length: 120 }, () => `{"CHAT_ID":1489}`).join("\n")
      const { run } = yield* bulk(["call", "im.chat.mute", "MUTE=Y", "--input", "-"], input)
      expect(run.code).toBe(0)
      expect(lines(run.stdout).map((out) => out.line)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1))
      expect(emulator.httpRequests()).toBe(3)
      expect(emulator.journal.filter((entry) => entry.method === "im.chat.mute").every((e) => e.params.MUTE === "Y"))
        .toBe(true)
    }).pipe(Effect.provide(TestLive)))

  it.scopedLive("an unreadable input is a usage error before any call; --dry-run prints each line's request", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const missing = (yield* bulk(["im", "chat", "mute", "--input", "/nonexistent/file.csv"])).run
      expect(missing.code).toBe(2)
      expect(missing.stderr).toContain(`the input file "/nonexistent/file.csv" cannot be read`)
      const directory = (yield* bulk(["im", "chat", "mute", "--input", "/tmp"])).run
      expect(directory).toMatchObject({ code: 2, stderr: expect.stringContaining("it is a directory") })
      const dry =
        (yield* bulk(["--dry-run", "im", "chat", "mute", "--input", "-"], `{"CHAT_ID":1489}\n{"CHAT_ID":0}\n`))
          .run
      expect(dry.code).toBe(2)
      expect(lines(dry.stdout)).toEqual([
        {
          line: 1,
          method: "im.chat.mute",
          url: `${emulator.url}/rest/1/<webhook code>/im.chat.mute.json`,
          body: { CHAT_ID: 1489 }
        },
        { line: 2, error: expect.objectContaining({ error: "INVALID_PARAMS", field: "CHAT_ID" }) }
      ])
      expect(emulator.httpRequests()).toBe(0)
    }).pipe(Effect.provide(TestLive)))
})

describe("progress", () => {
  it("the progress line: bar, done/total, rate, time left, errors; within the width", () => {
    const line = Progress.text({ done: 2_500, failed: 3, total: 10_000, started: 0 }, 10_000, 80)
    expect(line).toBe("[████████░░░░░░░░░░░░░░░░░░░░░░] 2,500/10,000  250/s  ETA 0:30  3 errors")
    expect(Progress.text({ done: 7, failed: 0, total: undefined, started: 0 }, 2_000, 80)).toBe(
      "7 lines  3.5/s  0 errors"
    )
    expect(Progress.text({ done: 1, failed: 1, total: 10, started: 0 }, 1_000, 40).length).toBeLessThan(40)
  })

  it.scopedLive("drawn on standard error only when it is a terminal, and erased at the end", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const { env } = yield* home
      const full = { ...env, B24_WEBHOOK_URL: Redacted.value(emulator.webhookUrl) }
      const input = `{"CHAT_ID":1489}\n{"CHAT_ID":2043}\n`
      const tty = yield* b24(["im", "chat", "mute", "--input", "-"], { env: full, stdin: input, tty: true })
      expect(tty.stderr).toContain("\u001b[2K")
      expect(tty.stderr).toMatch(/lines {2}[\d.]+\/s {2}\d+ errors?/)
      // The last thing drawn is an erased line.
      expect(tty.stderr).toMatch(/\u001b\[1G(\u001b\[0m)*\u001b\[2K(\u001b\[0m)*$/)
      expect(lines(tty.stdout).length).toBe(2)
      const piped = yield* b24(["im", "chat", "mute", "--input", "-"], { env: full, stdin: input })
      expect(piped.stderr).toBe("")
    }).pipe(Effect.provide(TestLive)))
})

describe("resume", () => {
  it.scopedLive("a finished run prints every line again from its state file and sends nothing; the default state file is removed", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const input = yield* tempFile("mute.ndjson", `{"CHAT_ID":1489}\n{"CHAT_ID":2043}\n`)
      const { env, run } = yield* bulk(["im", "chat", "mute", "--input", input, "--resume", `${input}.state`])
      expect(Fs.statSync(`${input}.state`).mode & 0o777).toBe(0o600)
      const requests = emulator.httpRequests()
      const again = yield* b24(["im", "chat", "mute", "--input", input, "--resume", `${input}.state`], { env })
      expect(again).toEqual(run)
      expect(emulator.httpRequests()).toBe(requests)
      yield* b24(["im", "chat", "mute", "--input", input], { env })
      expect(Fs.readdirSync(`${env.XDG_STATE_HOME}/b24`)).toEqual([])
    }).pipe(Effect.provide(TestLive)))

  it.scopedLive("a line sent before a stop: replayed when idempotent, reported as OUTCOME_UNKNOWN and not sent when not", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const input = yield* tempFile("chats.ndjson", `{"CHAT_ID":2043}\n{"CHAT_ID":2024}\n`)
      const hashOf = (text: string) =>
        import("node:crypto").then((Crypto) => Crypto.createHash("sha1").update(text).digest("hex").slice(0, 16))
      const first = yield* Effect.promise(() => hashOf(`{"CHAT_ID":2043}`))
      const state = (command: string) =>
        [`{"b24":"bulk","version":1,"command":"${command}"}`, `{"sent":1,"hash":"${first}"}`].join("\n") + "\n"
      Fs.writeFileSync(`${input}.answer`, state("imopenlines operator answer"))
      const { env, run } = yield* bulk([
        "imopenlines",
        "operator",
        "answer",
        "--input",
        input,
        "--resume",
        `${input}.answer`
      ])
      expect(run.code).toBe(4)
      expect(lines(run.stdout)[0]).toEqual({
        line: 1,
        error: { error: "OUTCOME_UNKNOWN", error_description: expect.stringContaining("is not sent again") }
      })
      const answered = emulator.journal.filter((entry) => entry.method === "imopenlines.operator.answer")
      expect(answered.map((entry) => String(entry.params.CHAT_ID))).toEqual(["2024"])

      Fs.writeFileSync(`${input}.mute`, state("im chat mute"))
      const mute = yield* b24(["im", "chat", "mute", "--input", input, "--resume", `${input}.mute`], { env })
      expect(lines(mute.stdout)[0]).toEqual({ line: 1, error: expect.objectContaining({ error: "ACCESS_ERROR" }) })
      expect(
        emulator.journal.filter((entry) => entry.method === "im.chat.mute").map((entry) => String(entry.params.CHAT_ID))
      ).toEqual(["2043", "2024"])

      const other = yield* b24(["im", "chat", "mute", "--input", input, "--resume", `${input}.answer`], { env })
      expect(other.code).toBe(2)
      expect(other.stderr).toContain(`belongs to another run ("b24 imopenlines operator answer")`)
      Fs.writeFileSync(input, `{"CHAT_ID":9999}\n{"CHAT_ID":2024}\n`)
      const changed = yield* b24(["im", "chat", "mute", "--input", input, "--resume", `${input}.mute`], { env })
      expect(changed.code).toBe(2)
      expect(changed.stderr).toContain("line 1 of the input is not the line the state file")
    }).pipe(Effect.provide(TestLive)))
})
