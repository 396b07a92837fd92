/**
 * `b24` in process against an emulated portal on loopback: typed subcommands derived from the declarations, `b24
 * call`, exit codes and error output (text and JSON), the choice of portal, output formats and dry runs.
 */
import { Catalog, Event, Method } from "@bitrix24-effect/core"
import { Emulator } from "@bitrix24-effect/emulator"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as ChildProcess from "node:child_process"
import { b24, home, PlatformLive } from "./helpers.js"

const TestLive = Layer.merge(PlatformLive, Emulator.layer())

/** `b24` with the emulator's webhook in B24_WEBHOOK_URL and a fresh home. */
const withPortal = (...words: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const { env } = yield* home
    return yield* b24(words, { env: { ...env, B24_WEBHOOK_URL: Redacted.value(emulator.webhookUrl) } })
  })

const code = (emulator: Emulator.Service) => emulator.credentials.webhooks[0]!.code

describe("typed subcommands, derived from the declarations", { timeout: 120_000 }, () => {
  it.scoped("silent --activate sends ACTIVATE=Y and prints the result as JSON", () =>
    Effect.gen(function*() {
      const { journal, portal } = yield* Emulator.Emulator
      const run = yield* withPortal("imopenlines", "session", "mode", "silent", "--chat-id", "2043", "--activate")
      expect(run).toEqual({ code: 0, stdout: "true\n", stderr: "" })
      expect(portal.chats.get(2043)!.silent).toBe(true)
      expect(journal.at(-1)!.params).toEqual({ CHAT_ID: 2043, ACTIVATE: "Y" })
    }).pipe(Effect.provide(TestLive)))

  it.scoped("--no-activate sends ACTIVATE=N; no flag sends nothing, so the portal's default applies", () =>
    Effect.gen(function*() {
      const { journal } = yield* Emulator.Emulator
      yield* withPortal("imopenlines", "session", "mode", "pin", "--chat-id", "2024", "--no-activate")
      expect(journal.at(-1)!.params).toEqual({ CHAT_ID: 2024, ACTIVATE: "N" })
      expect((yield* withPortal("imopenlines", "session", "mode", "pin", "--chat-id=2024")).code).toBe(0)
      expect(journal.at(-1)!.params).toEqual({ CHAT_ID: 2024 })
    }).pipe(Effect.provide(TestLive)))

  it.scoped("global options go anywhere before --; --json prints the whole envelope", () =>
    Effect.gen(function*() {
      const run = yield* withPortal("im", "chat", "mute", "--dialog-id", "chat1489", "--json")
      expect(run.code).toBe(0)
      const envelope = JSON.parse(run.stdout)
      expect(envelope.result).toBe(true)
      expect(typeof envelope.time.operating_reset_at).toBe("number")
    }).pipe(Effect.provide(TestLive)))

  it.scoped("a portal error prints code and description on stderr and exits 3; with --json one object", () =>
    Effect.gen(function*() {
      const run = yield* withPortal("im", "chat", "mute", "--chat-id", "2043")
      expect(run).toEqual({ code: 3, stdout: "", stderr: "ACCESS_ERROR: This chat cannot be muted (HTTP 403)\n" })
      const json = yield* withPortal("--json", "imopenlines", "session", "start", "--chat-id", "1489")
      expect(json.code).toBe(3)
      expect(JSON.parse(json.stderr)).toEqual({
        error: "CHAT_TYPE",
        error_description: "This chat is not Open Channel",
        status: 400
      })
    }).pipe(Effect.provide(TestLive)))

  it.scoped("bad params exit 2 before any call reaches the portal", () =>
    Effect.gen(function*() {
      const { journal } = yield* Emulator.Emulator
      const zero = yield* withPortal("imopenlines", "session", "mode", "silent", "--chat-id", "0")
      expect(zero.code).toBe(2)
      expect(zero.stderr).toContain("invalid parameter CHAT_ID")
      const mute = yield* withPortal("im", "chat", "mute")
      expect(mute.code).toBe(2)
      expect(mute.stderr).toContain("one of CHAT_ID or DIALOG_ID is required")
      expect(journal).toEqual([])
    }).pipe(Effect.provide(TestLive)))

  it.scoped("a missing required option or a value of the wrong kind is said in plain English (exit 2)", () =>
    Effect.gen(function*() {
      const missing = yield* withPortal("imopenlines", "session", "start")
      expect(missing.code).toBe(2)
      expect(missing.stderr).toContain(`"b24 imopenlines session start" needs --chat-id`)
      const letters = yield* withPortal("imopenlines", "session", "start", "--chat-id", "abc")
      expect(letters).toMatchObject({ code: 2, stderr: `b24: --chat-id expects a whole number, got "abc"\n` })
      const empty = yield* withPortal("imopenlines", "session", "start", "--chat-id")
      expect(empty.stderr).toBe("b24: --chat-id needs a value (INTEGER)\n")
    }).pipe(Effect.provide(TestLive)))

  it.scoped("every declared method is reachable as a subcommand and runs its example on a fresh portal", () =>
    Effect.gen(function*() {
      for (const method of Catalog.methods) {
        // The REST method `events` is `b24 events codes`: `b24 events` is the events group.
        const path = method === Event.events ? ["events", "codes"] : Method.commandPath(method)
        const words = [...path, ...Method.commandArgs(method, method.example)]
        const outcome = yield* Effect.gen(function*() {
          const { journal } = yield* Emulator.Emulator
          const run = yield* withPortal(...words)
          return { method: method.method, code: run.code, stderr: run.stderr, journal: journal.map((e) => e.method) }
        }).pipe(Effect.provide(Emulator.layer()))
        if (method.auth !== "application") {
          expect(outcome).toEqual({ method: method.method, code: 0, stderr: "", journal: [method.method] })
          continue
        }
        // An application method through the inbound webhook: refused before any request, saying what works.
        expect({ ...outcome, stderr: outcome.stderr.includes("needs an OAuth application") }).toEqual({
          method: method.method,
          code: 2,
          stderr: true,
          journal: []
        })
        // ... and with --emulator it runs as the emulated portal's application.
        const { env } = yield* home
        expect({ method: method.method, ...(yield* b24(["--emulator", ...words], { env })), stdout: "" }).toEqual({
          method: method.method,
          code: 0,
          stdout: "",
          stderr: ""
        })
      }
    }).pipe(Effect.provide(PlatformLive)))

  it.scoped("a nested param is JSON text: checked before anything runs, sent as the structure it stands for", () =>
    Effect.gen(function*() {
      const { env } = yield* home
      const send = (messages: string) =>
        b24([
          "--emulator",
          "imconnector",
          "send",
          "messages",
          "--connector",
          "outside_chat",
          "--line",
          "1",
          "--messages",
          messages
        ], { env })
      const bad = yield* send("[{user:")
      expect(bad).toEqual({
        code: 2,
        stdout: "",
        stderr: `b24: --messages expects JSON (e.g. '{"id":"1"}' or '[...]'), got "[{user:"\n`
      })
      const shape = yield* send(`{"user":{"id":"ann"}}`)
      expect(shape.code).toBe(2)
      expect(shape.stderr).toContain("MESSAGES")
      const help = yield* b24(["imconnector", "send", "messages", "--help"], { env })
      expect(help.stdout).toContain("--messages JSON")
      expect(help.stdout).toContain("given as JSON text")
    }).pipe(Effect.provide(PlatformLive)))

  it.scoped("b24 call of an application method through an inbound webhook is refused before any request", () =>
    Effect.gen(function*() {
      const { journal } = yield* Emulator.Emulator
      const run = yield* withPortal("--json", "call", "imconnector.list")
      expect(run.code).toBe(2)
      expect(JSON.parse(run.stderr)).toMatchObject({ error: "USAGE", command: "b24 call imconnector.list" })
      expect(JSON.parse(run.stderr).error_description).toContain("B24_WEBHOOK_URL")
      expect(journal).toEqual([])
    }).pipe(Effect.provide(TestLive)))
})

describe("transport failures and secrets", () => {
  // Live time: the refused connection is retried (it never reached the portal) with a real, short backoff.
  it.scopedLive("an unreachable portal is a transport error (exit 4) that never prints the webhook code", () =>
    Effect.gen(function*() {
      const { env } = yield* home
      const run = yield* b24([
        "--webhook",
        "http://127.0.0.1:1/rest/1/s3cr3tc0de/",
        "im",
        "chat",
        "mute",
        "--chat-id",
        "1"
      ], {
        env: { ...env, B24_RETRY_RETRIES: "1" }
      })
      expect(run.code).toBe(4)
      expect(run.stderr).toContain("Network")
      expect(run.stderr + run.stdout).not.toContain("s3cr3tc0de")
    }).pipe(Effect.provide(PlatformLive)))

  it.scoped("malformed webhook URLs (an unclosed IPv6 address too) are usage errors that do not echo them", () =>
    Effect.gen(function*() {
      const { env } = yield* home
      for (const url of ["not-a-url-s3cr3t", "http://[::1/rest/1/s3cr3t/", "https://example.com/rest/1/"]) {
        const run = yield* b24(["--webhook", url, "im", "chat", "mute", "--chat-id", "1"], { env })
        expect(run.code).toBe(2)
        expect(run.stderr).toContain("invalid inbound webhook URL")
        expect(run.stderr).not.toContain("s3cr3t")
        const json = yield* b24(["--json", "im", "chat", "mute", "--chat-id", "1"], {
          env: { ...env, B24_WEBHOOK_URL: url }
        })
        expect(JSON.parse(json.stderr).error).toBe("USAGE")
      }
    }).pipe(Effect.provide(PlatformLive)))
})

describe("@effect/cli's built-in options are not b24's", () => {
  it.scoped("--wizard, --completions and --log-level are unknown options: nothing waits for input or echoes", () =>
    Effect.gen(function*() {
      const { env } = yield* home
      for (const option of ["--wizard", "--completions", "--log-level"]) {
        const run = yield* b24([option, "--webhook", "https://x.bitrix24.com/rest/1/s3cr3t/"], { env })
        expect(run).toMatchObject({ code: 2, stdout: "" })
        expect(run.stderr).toContain(`unknown option "${option}" for "b24"`)
        expect(run.stderr).not.toContain("s3cr3t")
      }
    }).pipe(Effect.provide(PlatformLive)))
})

describe("b24 call: any method with KEY=VALUE params", () => {
  it.scoped("decodes wire strings with the declaration of a catalog method", () =>
    Effect.gen(function*() {
      const { journal } = yield* Emulator.Emulator
      const run = yield* withPortal("call", "im.chat.mute", "CHAT_ID=1489", "MUTE=N")
      expect(run).toMatchObject({ code: 0, stdout: "true\n" })
      expect(journal.at(-1)!.params).toEqual({ CHAT_ID: 1489, MUTE: "N" })
      const bad = yield* withPortal("call", "imopenlines.session.mode.silent", "CHAT_ID=2043", "ACTIVATE=true")
      expect(bad.code).toBe(2)
      expect(bad.stderr).toContain("ACTIVATE")
    }).pipe(Effect.provide(TestLive)))

  it.scoped("sends PHP bracket keys nested, reports unknown methods as the portal does, refuses odd names", () =>
    Effect.gen(function*() {
      const { journal } = yield* Emulator.Emulator
      const run = yield* withPortal("call", "crm.deal.add", "fields[TITLE]=Deal", "fields[PHONE][0][VALUE]=112233")
      expect(run).toMatchObject({ code: 3, stderr: "ERROR_METHOD_NOT_FOUND: Method not found! (HTTP 404)\n" })
      expect(journal.at(-1)!.params).toEqual({ fields: { TITLE: "Deal", PHONE: [{ VALUE: "112233" }] } })
      expect((yield* withPortal("call", "im.chat.mute", "CHAT_ID")).stderr).toBe(
        `b24: expected KEY=VALUE, got "CHAT_ID"\n`
      )
      const traversal = yield* withPortal("call", "../../oauth/token", "a=b")
      expect(traversal.code).toBe(2)
      expect(traversal.stderr).toContain("is not a REST method name")
      expect(journal.length).toBe(1)
    }).pipe(Effect.provide(TestLive)))
})

describe("which portal", () => {
  it.scoped("with nothing configured it says how to configure one, and calls nothing", () =>
    Effect.gen(function*() {
      const { env } = yield* home
      const run = yield* b24(["im", "chat", "mute", "--chat-id", "1489"], { env })
      expect(run.code).toBe(2)
      expect(run.stderr).toContain("no portal configured")
      expect(run.stderr).toContain("b24 profile add NAME --webhook URL")
      expect(run.stderr).toContain("--emulator")
    }).pipe(Effect.provide(PlatformLive)))

  it.scoped("--emulator runs in process, fresh each run", () =>
    Effect.gen(function*() {
      const { env } = yield* home
      const pinAll = ["--emulator", "imopenlines", "session", "mode", "pin-all"]
      const first = yield* b24(pinAll, { env })
      expect(first.code).toBe(0)
      const pinned = JSON.parse(first.stdout) as Array<number>
      expect(pinned.length).toBeGreaterThan(0)
      // A portal that kept its state would answer [] now: every session is pinned already.
      expect(yield* b24(pinAll, { env })).toEqual(first)
      const both = yield* b24(
        ["--emulator", "--webhook", "http://x/rest/1/y/", "im", "chat", "mute", "--chat-id", "1"],
        {
          env
        }
      )
      expect(both).toMatchObject({ code: 2, stderr: "b24: choose one portal: --emulator, --webhook or --profile\n" })
    }).pipe(Effect.provide(PlatformLive)))
})

describe("output formats", () => {
  it.scoped("json (the default), ndjson (one line per item) and table", () =>
    Effect.gen(function*() {
      const pinned = yield* withPortal("imopenlines", "session", "mode", "pin-all")
      expect(pinned.code).toBe(0)
      const ids = JSON.parse(pinned.stdout) as Array<number>
      expect(ids.length).toBeGreaterThan(1)
      const ndjson = yield* withPortal("--format", "ndjson", "imopenlines", "session", "mode", "unpin-all")
      expect(ndjson.stdout.trimEnd().split("\n").map(Number).sort()).toEqual([...ids].sort())
      const table = yield* withPortal("imopenlines", "dialog", "get", "--chat-id", "2043", "--format", "table")
      const lines = table.stdout.trimEnd().split("\n")
      expect(lines[0]).toMatch(/^KEY\s+VALUE$/)
      expect(lines.some((line) => /^id\s+2043$/i.test(line) || /^chat_id\s+2043$/i.test(line))).toBe(true)
      const xml = yield* withPortal("--format", "xml", "im", "chat", "mute", "--chat-id", "1489")
      expect(xml.stderr).toBe(`b24: --format expects one of json, ndjson, table, got "xml"\n`)
    }).pipe(Effect.provide(TestLive)))
})

describe("--dry-run", () => {
  it.scoped("prints the exact request with the webhook code as a placeholder, and a curl line; nothing is sent", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const run = yield* withPortal("--dry-run", "im", "chat", "mute", "--chat-id", "1489", "--no-mute")
      expect(run.code).toBe(0)
      const portal = emulator.url
      expect(run.stdout).toBe(
        `POST ${portal}/rest/1/<webhook code>/im.chat.mute.json\n` +
          "Content-Type: application/json\nAccept: application/json\n\n" +
          `{"CHAT_ID":1489,"MUTE":"N"}\n\n` +
          "# with the inbound webhook's code in B24_WEBHOOK_CODE:\n" +
          `curl -X POST -H 'Content-Type: application/json' -H 'Accept: application/json' -d '{"CHAT_ID":1489,"MUTE":"N"}' ` +
          `"${portal}/rest/1/\${B24_WEBHOOK_CODE}/im.chat.mute.json"\n`
      )
      expect(run.stdout).not.toContain(code(emulator))
      expect(emulator.httpRequests()).toBe(0)
      const bad = yield* withPortal("--dry-run", "im", "chat", "mute")
      expect(bad.code).toBe(2)
    }).pipe(Effect.provide(TestLive)))

  it.scoped("the curl line runs as printed once the code is in B24_WEBHOOK_CODE", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const run = yield* withPortal(
        "--dry-run",
        "imopenlines",
        "session",
        "mode",
        "silent",
        "--chat-id",
        "2043",
        "--activate"
      )
      const curl = run.stdout.trimEnd().split("\n").at(-1)!
      // Asynchronously: the emulator answering it runs in this process.
      const out = yield* Effect.async<string>((resume) => {
        ChildProcess.execFile("bash", ["-c", curl], {
          env: { PATH: process.env.PATH ?? "", B24_WEBHOOK_CODE: code(emulator) },
          encoding: "utf8"
        }, (_error, stdout) => resume(Effect.succeed(stdout)))
      })
      expect(JSON.parse(out).result).toBe(true)
      expect(emulator.portal.chats.get(2043)!.silent).toBe(true)
    }).pipe(Effect.provide(TestLive)))

  it.scoped("a yes/no param travels as its schema encodes it: ACTIVE as 1/0 (Y/N would switch it on)", () =>
    Effect.gen(function*() {
      const { env } = yield* home
      const activate = ["--dry-run", "--emulator", "imconnector", "activate", "--connector", "c", "--line", "1"]
      const off = yield* b24([...activate, "--no-active"], { env })
      expect(off.stdout).toContain(`-d '{"CONNECTOR":"c","LINE":1,"ACTIVE":0}'`)
      // An application method: an OAuth token in the curl line, not an inbound webhook.
      expect(off.stdout).toContain(`-H "Authorization: Bearer \${B24_ACCESS_TOKEN}"`)
      expect(off.stdout).toContain(`"\${B24_PORTAL}/rest/imconnector.activate.json"`)
      const bulk = yield* b24([...activate.slice(0, 4), "--input", "-"], {
        env,
        stdin: `{"CONNECTOR":"c","LINE":1,"ACTIVE":true}\n{"CONNECTOR":"c","LINE":1,"ACTIVE":false}\n`
      })
      expect(bulk.stdout.trimEnd().split("\n").map((line) => JSON.parse(line).body.ACTIVE)).toEqual([1, 0])
      const help = yield* b24(["imconnector", "activate", "--help"], { env })
      expect(help.stdout).toContain("sends ACTIVE=1")
    }).pipe(Effect.provide(PlatformLive)))

  it.scoped("without a portal, the URL is $B24_WEBHOOK_URL's", () =>
    Effect.gen(function*() {
      const { env } = yield* home
      const run = yield* b24(["--dry-run", "call", "im.chat.mute", "CHAT_ID=1489"], { env })
      expect(run.code).toBe(0)
      expect(run.stdout).toContain("POST <inbound webhook URL>im.chat.mute.json\n")
      expect(run.stdout).toContain(`"\${B24_WEBHOOK_URL}im.chat.mute.json"`)
    }).pipe(Effect.provide(PlatformLive)))
})

describe("errors with --json: one JSON object on stderr, usage errors included", () => {
  it.scoped("each kind of error", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string, number]> = [
        [["imopenlines", "sesion", "mode", "silent"], "USAGE", 2],
        [["im", "chat", "mute", "--chat-idd", "5"], "USAGE", 2],
        [["im", "chat", "mute", "--chat-id", "x"], "USAGE", 2],
        [["im", "chat", "mute"], "INVALID_PARAMS", 2],
        [["im", "chat", "mute", "--chat-id", "2043"], "ACCESS_ERROR", 3],
        [["--profile", "nope", "im", "chat", "mute", "--chat-id", "1"], "USAGE", 2]
      ]
      for (const [words, error, exit] of cases) {
        const run = yield* withPortal("--json", ...words)
        expect({ words, code: run.code, lines: run.stderr.trimEnd().split("\n").length }).toEqual({
          words,
          code: exit,
          lines: 1
        })
        expect(JSON.parse(run.stderr).error).toBe(error)
      }
      const typo = yield* withPortal("--json", "imopenlines", "sesion")
      expect(JSON.parse(typo.stderr)).toEqual({
        error: "USAGE",
        error_description: `unknown command "sesion" for "b24 imopenlines"; did you mean "session"?`,
        command: "b24 imopenlines",
        suggestions: ["session"]
      })
      // The connector and event commands, at their own levels.
      const mistakes: ReadonlyArray<readonly [ReadonlyArray<string>, string, ReadonlyArray<string>]> = [
        [["events", "lisen", "--port", "0"], "b24 events", ["listen"]],
        [["imconnector", "send", "mesages"], "b24 imconnector send", ["messages"]],
        [["events", "listen", "--prot", "0"], "b24 events listen", ["--port"]],
        [["events", "bind", "--event", "ONAPPTEST", "--option", "{}"], "b24 events bind", ["--options"]]
      ]
      for (const [words, command, suggestions] of mistakes) {
        const run = yield* withPortal("--json", ...words)
        expect({ words, code: run.code, ...JSON.parse(run.stderr) }).toMatchObject({
          words,
          code: 2,
          command,
          suggestions
        })
      }
    }).pipe(Effect.provide(TestLive)))
})
