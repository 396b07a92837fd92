/**
 * `b24 events`: `listen` as a real process (the bundle) prints verified, typed events as NDJSON, nothing for a forged
 * delivery, and keeps what it learned from ONAPPINSTALL across a restart; `bind`, `list`, `unbind` and `codes` call
 * event.* as the emulated portal's application (`--emulator`), and bad input is a usage error before any request.
 */
import { Emulator } from "@bitrix24-effect/emulator"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { b24, bundle, home, PlatformLive } from "./helpers.js"

/** `b24 ...words` in process with a fresh home; stdout as its lines. */
const run = (...words: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const { env } = yield* home
    const result = yield* b24(words, { env })
    return { ...result, stdout: result.stdout.split("\n").filter((line) => line !== "") }
  })

/** A running `b24 events listen`: its address, the lines it printed so far, and what it wrote on stderr. */
const listen = (tokenFile: string, env: Record<string, string>) =>
  Effect.gen(function*() {
    const child = yield* Effect.acquireRelease(
      Effect.sync(() =>
        ChildProcess.spawn(process.execPath, [bundle, "events", "listen", "--port", "0", "--token-file", tokenFile], {
          env: { PATH: process.env.PATH ?? "", ...env }
        })
      ),
      (child) => Effect.sync(() => child.kill())
    )
    const lines: Array<string> = []
    let out = ""
    child.stdout.on("data", (chunk) => {
      out += String(chunk)
      const parts = out.split("\n")
      out = parts.pop()!
      lines.push(...parts.filter((line) => line.length > 0))
    })
    let err = ""
    const url = yield* Effect.async<string>((resume) => {
      child.stderr.on("data", (chunk) => {
        err += String(chunk)
        const found = /listening for events on (http:\/\/\S+)/.exec(err)
        if (found !== null) resume(Effect.succeed(found[1]!))
      })
    }).pipe(Effect.timeout("60 seconds"), Effect.orDie)
    const waitFor = (count: number) =>
      Effect.gen(function*() {
        for (let i = 0; i < 1000 && lines.length < count; i++) yield* Effect.sleep("10 millis")
      })
    return { url, lines, stderr: () => err, waitFor }
  })

describe("b24 events", { timeout: 120_000 }, () => {
  it.scoped("bind, list, unbind and codes run event.* as the emulated portal's application", () =>
    Effect.gen(function*() {
      const handler = ["--handler", "http://127.0.0.1:9/x"]
      expect(yield* run("--emulator", "events", "bind", "--event", "ONAPPTEST", ...handler)).toMatchObject({
        code: 0,
        stdout: ["true"]
      })
      const offline = yield* run("--emulator", "events", "bind", "--event", "ONAPPTEST", "--event-type", "offline")
      expect(offline).toMatchObject({ code: 0, stdout: ["true"] })
      const codes = yield* run("--emulator", "events", "codes", "--scope", "imopenlines")
      expect(JSON.parse(codes.stdout[0]!)).toContain("ONIMCONNECTORMESSAGEADD")
      // Each --emulator run starts from the fixture: nothing is bound any more.
      expect(yield* run("--emulator", "events", "list")).toMatchObject({ code: 0, stdout: ["[]"] })
      const unbound = yield* run("--emulator", "events", "unbind", "--event", "ONAPPTEST", ...handler)
      expect(JSON.parse(unbound.stdout[0]!)).toEqual({ count: 0 })
      const bad = yield* run("--emulator", "events", "bind", "--event", "ONAPPTEST")
      expect(bad.code).toBe(2)
      expect(bad.stdout).toEqual([])
      expect(bad.stderr).toContain("online events need a handler")
      const noPort = yield* run("events", "listen")
      expect(noPort.code).toBe(2)
      expect(noPort.stderr).toContain(`"b24 events listen" needs --port`)
    }).pipe(Effect.provide(PlatformLive)))

  it.scopedLive(
    "listen prints each verified event as one JSON line, a forged one gets 401 and prints nothing, and a restarted " +
      "listener still knows the portal",
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const { dir, env } = yield* home
        const tokenFile = Path.join(dir, "receiver", "tokens.json")
        Fs.mkdirSync(Path.dirname(tokenFile))
        const first = yield* listen(tokenFile, env)

        emulator.install({ handler: first.url })
        yield* first.waitFor(1)
        const install = JSON.parse(first.lines[0]!)
        expect(install).toMatchObject({ _tag: "ONAPPINSTALL", auth: { application_token: "<redacted>" } })
        const applicationToken = emulator.events.applicationTokens.get(emulator.oauth.clientId)!
        expect(first.lines[0]).not.toContain(applicationToken)
        expect(Fs.statSync(tokenFile).mode & 0o777).toBe(0o600)

        const token = Redacted.value(emulator.oauth.issue(1).accessToken)
        const rest = (method: string, params: Record<string, unknown>) =>
          Effect.promise(() =>
            fetch(`${emulator.url}/rest/${method}.json`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ ...params, auth: token })
            }).then((answer) => answer.json())
          )
        const forge = (url: string) =>
          Effect.promise(() =>
            fetch(url, {
              method: "POST",
              headers: { "content-type": "application/x-www-form-urlencoded" },
              body: `event=ONAPPTEST&ts=1&auth[member_id]=${install.auth.member_id}&auth[domain]=x&` +
                "auth[application_token]=forged"
            }).then((answer) => answer.status)
          )
        yield* rest("event.bind", { event: "ONAPPTEST", handler: first.url })
        expect(yield* forge(first.url)).toBe(401)
        yield* rest("event.test", { hello: "world" })
        yield* first.waitFor(2)
        expect(first.lines.length).toBe(2)
        expect(JSON.parse(first.lines[1]!)).toMatchObject({ _tag: "ONAPPTEST", data: { QUERY: { hello: "world" } } })
        expect(first.stderr()).toContain("event refused")

        // A new listener on the same token file verifies the portal without a new ONAPPINSTALL.
        const second = yield* listen(tokenFile, env)
        yield* rest("event.bind", { event: "ONAPPTEST", handler: second.url })
        yield* rest("event.test", { again: "yes" })
        yield* second.waitFor(1)
        expect(JSON.parse(second.lines[0]!)).toMatchObject({ _tag: "ONAPPTEST", data: { QUERY: { again: "yes" } } })
        expect(yield* forge(second.url)).toBe(401)
      }).pipe(Effect.provide(Emulator.layer()), Effect.provide(PlatformLive))
  )
})
