import { Catalog, Method } from "@bitrix24-effect/core"
import { Emulator } from "@bitrix24-effect/emulator"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as ChildProcess from "node:child_process"
import * as Path from "node:path"
import * as Cli from "../src/Cli.js"
import { b24 } from "./helpers.js"

const TestLive = Layer.mergeAll(NodeContext.layer, NodeHttpClient.layerUndici, Emulator.layer())

const withWebhook = (...args: ReadonlyArray<string>) =>
  Effect.flatMap(Emulator.Emulator, (emulator) => b24("--webhook", Redacted.value(emulator.webhookUrl), ...args))

describe("b24: typed subcommands derived from the declarations", { timeout: 120_000 }, () => {
  it.scoped("silent --activate sends ACTIVATE=Y and prints the result as JSON", () =>
    Effect.gen(function*() {
      const { journal, portal } = yield* Emulator.Emulator
      const run = yield* withWebhook("imopenlines", "session", "mode", "silent", "--chat-id", "2043", "--activate")
      expect(run).toMatchObject({ code: 0, stdout: "true" })
      expect(portal.chats.get(2043)!.silent).toBe(true)
      expect(journal.at(-1)!.params).toEqual({ CHAT_ID: 2043, ACTIVATE: "Y" })
    }).pipe(Effect.provide(TestLive)))

  it.scoped("--no-activate sends ACTIVATE=N; no flag sends nothing, so the portal's default applies", () =>
    Effect.gen(function*() {
      const { journal, portal } = yield* Emulator.Emulator
      yield* withWebhook("imopenlines", "session", "mode", "pin", "--chat-id", "2024", "--no-activate")
      expect(journal.at(-1)!.params).toEqual({ CHAT_ID: 2024, ACTIVATE: "N" })
      const run = yield* withWebhook("imopenlines", "session", "mode", "pin", "--chat-id", "2024")
      expect(run.code).toBe(0)
      expect(journal.at(-1)!.params).toEqual({ CHAT_ID: 2024 })
      expect([...portal.sessions.values()].find((s) => s.chatId === 2024)!.pinned).toBe(true)
    }).pipe(Effect.provide(TestLive)))

  it.scoped("--json prints the whole envelope, with the time block", () =>
    Effect.gen(function*() {
      const run = yield* withWebhook("--json", "im", "chat", "mute", "--dialog-id", "chat1489")
      expect(run.code).toBe(0)
      const envelope = JSON.parse(run.stdout)
      expect(envelope.result).toBe(true)
      expect(typeof envelope.time.operating_reset_at).toBe("number")
    }).pipe(Effect.provide(TestLive)))

  it.scoped("a portal error prints code and description on stderr and exits 3", () =>
    Effect.gen(function*() {
      const run = yield* withWebhook("im", "chat", "mute", "--chat-id", "2043")
      expect(run).toMatchObject({ code: Cli.ExitCode.portal, stdout: "" })
      expect(run.stderr).toBe("ACCESS_ERROR: This chat cannot be muted (HTTP 403)")
      const json = yield* withWebhook("--json", "imopenlines", "session", "start", "--chat-id", "1489")
      expect(json.code).toBe(Cli.ExitCode.portal)
      expect(JSON.parse(json.stderr)).toEqual({
        error: "CHAT_TYPE",
        error_description: "This chat is not Open Channel",
        status: 400
      })
    }).pipe(Effect.provide(TestLive)))

  it.scoped("bad params exit 2 before any call reaches the portal", () =>
    Effect.gen(function*() {
      const { journal } = yield* Emulator.Emulator
      const run = yield* withWebhook("imopenlines", "session", "mode", "silent", "--chat-id", "0")
      expect(run.code).toBe(Cli.ExitCode.usage)
      expect(run.stderr).toContain("invalid parameter CHAT_ID")
      const mute = yield* withWebhook("im", "chat", "mute")
      expect(mute.code).toBe(Cli.ExitCode.usage)
      expect(mute.stderr).toContain("one of CHAT_ID or DIALOG_ID is required")
      expect(journal).toEqual([])
    }).pipe(Effect.provide(TestLive)))

  it.scoped("a missing required option or a non-integer is a usage error (exit 2)", () =>
    Effect.gen(function*() {
      expect((yield* withWebhook("imopenlines", "session", "start")).code).toBe(Cli.ExitCode.usage)
      expect((yield* withWebhook("imopenlines", "session", "start", "--chat-id", "abc")).code).toBe(Cli.ExitCode.usage)
    }).pipe(Effect.provide(TestLive)))

  // Live time: the refused connection is retried (it never reached the portal) with a real, short backoff.
  it.scopedLive("an unreachable portal is a transport error (exit 4) that never prints the webhook code", () =>
    Effect.gen(function*() {
      const run = yield* b24(
        "--webhook",
        "http://127.0.0.1:1/rest/1/s3cr3tc0de/",
        "im",
        "chat",
        "mute",
        "--chat-id",
        "1"
      )
      expect(run.code).toBe(Cli.ExitCode.transport)
      expect(run.stderr).toContain("Network")
      expect(run.stderr + run.stdout).not.toContain("s3cr3tc0de")
    }).pipe(Effect.provide(TestLive)))

  it.scoped("a malformed --webhook is a usage error that does not echo it", () =>
    Effect.gen(function*() {
      const run = yield* b24("--webhook", "not-a-url-s3cr3t", "im", "chat", "mute", "--chat-id", "1")
      expect(run.code).toBe(Cli.ExitCode.usage)
      expect(run.stderr).not.toContain("s3cr3t")
    }).pipe(Effect.provide(TestLive)))

  it.scoped("every declared method is reachable as a subcommand and runs its example on a fresh portal", () =>
    Effect.gen(function*() {
      // `events` (the REST method) is `b24 events codes`, run on an application's token (test/Events.test.ts)
      for (const method of Catalog.methods.filter((declared) => declared.method !== "events")) {
        const { code, journal, stderr } = yield* Effect.gen(function*() {
          const { journal } = yield* Emulator.Emulator
          const run = yield* withWebhook(...Method.commandPath(method), ...Method.commandArgs(method, method.example))
          return { ...run, journal: journal.map((entry) => entry.method) }
        }).pipe(Effect.provide(Emulator.layer()))
        // Through a webhook the portal refuses the application methods (event.*, imconnector.*): a typed 403, exit 3.
        const application = method.auth === "application"
        expect({ method: method.method, code, stderr: application ? stderr.split(":")[0] : stderr, journal }).toEqual({
          method: method.method,
          code: application ? Cli.ExitCode.portal : 0,
          stderr: application ? "WRONG_AUTH_TYPE" : "",
          journal: [method.method]
        })
      }
    }).pipe(Effect.provide(Layer.mergeAll(NodeContext.layer, NodeHttpClient.layerUndici))))
})

describe("b24 call: any method with KEY=VALUE params", () => {
  it.scoped("decodes wire strings with the declaration of a catalog method", () =>
    Effect.gen(function*() {
      const { journal } = yield* Emulator.Emulator
      const run = yield* withWebhook("call", "im.chat.mute", "CHAT_ID=1489", "MUTE=N")
      expect(run).toMatchObject({ code: 0, stdout: "true" })
      expect(journal.at(-1)!.params).toEqual({ CHAT_ID: 1489, MUTE: "N" })
      const bad = yield* withWebhook("call", "imopenlines.session.mode.silent", "CHAT_ID=2043", "ACTIVATE=true")
      expect(bad.code).toBe(Cli.ExitCode.usage)
      expect(bad.stderr).toContain("ACTIVATE")
    }).pipe(Effect.provide(TestLive)))

  it.scoped("sends PHP bracket keys nested, and reports unknown methods as the portal does", () =>
    Effect.gen(function*() {
      const { journal } = yield* Emulator.Emulator
      const run = yield* withWebhook("call", "crm.deal.add", "fields[TITLE]=Deal", "fields[PHONE][0][VALUE]=112233")
      expect(run.code).toBe(Cli.ExitCode.portal)
      expect(run.stderr).toBe("ERROR_METHOD_NOT_FOUND: Method not found! (HTTP 404)")
      expect(journal.at(-1)!.params).toEqual({ fields: { TITLE: "Deal", PHONE: [{ VALUE: "112233" }] } })
      expect((yield* withWebhook("call", "im.chat.mute", "CHAT_ID")).code).toBe(Cli.ExitCode.usage)
    }).pipe(Effect.provide(TestLive)))
})

describe("b24 as a process (the README's commands)", () => {
  const bin = Path.join(import.meta.dirname, "..", "src", "bin.ts")
  const tsx = Path.join(import.meta.dirname, "..", "node_modules", ".bin", "tsx")
  const spawn = (args: ReadonlyArray<string>, env: Record<string, string>) =>
    Effect.async<{ code: number | null; stdout: string; stderr: string }>((resume) => {
      ChildProcess.execFile(
        tsx,
        [bin, ...args],
        { env: { ...process.env, ...env } },
        (error, stdout, stderr) => resume(Effect.succeed({ code: error ? (error.code as number) : 0, stdout, stderr }))
      )
    })

  it.live("uses B24_WEBHOOK_URL, prints true and exits 0", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const run = yield* spawn(["imopenlines", "session", "mode", "silent", "--chat-id", "2043", "--activate"], {
        B24_WEBHOOK_URL: Redacted.value(emulator.webhookUrl)
      })
      expect(run).toMatchObject({ code: 0, stdout: "true\n" })
      expect(emulator.portal.chats.get(2043)!.silent).toBe(true)
    }).pipe(Effect.provide(Emulator.layer())), 60_000)

  it.live(
    "without a portal runs on the embedded emulator and says so; portal errors exit 3",
    () =>
      Effect.gen(function*() {
        const ok = yield* spawn(["im", "chat", "mute", "--chat-id", "1489"], { B24_WEBHOOK_URL: "" })
        expect(ok.code).toBe(0)
        expect(ok.stdout).toBe("true\n")
        expect(ok.stderr).toContain("using the embedded emulator")
        const failed = yield* spawn(["im", "chat", "mute", "--chat-id", "2043"], { B24_WEBHOOK_URL: "" })
        expect(failed.code).toBe(Cli.ExitCode.portal)
        expect(failed.stderr).toContain("ACCESS_ERROR")
      }),
    60_000
  )
})
