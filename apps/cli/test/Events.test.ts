/**
 * `b24 events`: `listen` as a real process prints verified, typed events as NDJSON (and nothing for a forged
 * delivery); `bind`, `list`, `unbind` and `codes` call event.* with the embedded emulator's application.
 */
import { Emulator } from "@bitrix24-effect/emulator"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Cli from "../src/Cli.js"
import { b24 } from "./helpers.js"

const run = (...args: ReadonlyArray<string>) =>
  Effect.map(b24(...args), (result) => ({ ...result, stdout: result.stdout.split("\n").filter((line) => line !== "") }))
    .pipe(Effect.provide(Layer.mergeAll(NodeContext.layer, NodeHttpClient.layerUndici)))

describe("b24 events", () => {
  it.effect("bind, list, unbind and codes run event.* as the embedded emulator's application", () =>
    Effect.gen(function*() {
      const bound = yield* run(
        "--emulator",
        "events",
        "bind",
        "--event",
        "ONAPPTEST",
        "--handler",
        "http://127.0.0.1:9/x"
      )
      expect(bound).toMatchObject({ code: 0, stdout: ["true"] })
      const offline = yield* run("--emulator", "events", "bind", "--event", "ONAPPTEST", "--offline")
      expect(offline).toMatchObject({ code: 0, stdout: ["true"] })
      const codes = yield* run("--emulator", "events", "codes", "--scope", "imopenlines")
      expect(JSON.parse(codes.stdout[0]!)).toContain("ONIMCONNECTORMESSAGEADD")
      const list = yield* run("--emulator", "events", "list")
      expect(list).toMatchObject({ code: 0, stdout: ["[]"] })
      const unbound = yield* run(
        "--emulator",
        "events",
        "unbind",
        "--event",
        "ONAPPTEST",
        "--handler",
        "http://127.0.0.1:9/x"
      )
      expect(JSON.parse(unbound.stdout[0]!)).toEqual({ count: 0 })
      // bad input is a usage error before any request
      const bad = yield* run("--emulator", "events", "bind", "--event", "ONAPPTEST")
      expect(bad.code).toBe(Cli.ExitCode.usage)
      expect(bad.stderr).toContain("online events need a handler")
    }))

  it.live(
    "listen prints each verified event as one JSON line; a forged one gets 401 and prints nothing",
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const tokens = Path.join(Fs.mkdtempSync(Path.join(Os.tmpdir(), "b24-listen-")), "tokens.json")
        const child = yield* Effect.acquireRelease(
          Effect.sync(() =>
            ChildProcess.spawn(
              Path.join(import.meta.dirname, "..", "node_modules", ".bin", "tsx"),
              [Path.join(import.meta.dirname, "..", "src", "bin.ts"), "events", "listen", "--port", "0"],
              { env: { ...process.env, B24_TOKEN_FILE: tokens } }
            )
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
        const url = yield* Effect.async<string>((resume) => {
          let err = ""
          child.stderr.on("data", (chunk) => {
            err += String(chunk)
            const found = /listening for events on (http:\/\/\S+)/.exec(err)
            if (found !== null) resume(Effect.succeed(found[1]!))
          })
        }).pipe(Effect.timeout("60 seconds"), Effect.orDie)
        const wait = (n: number) =>
          Effect.gen(function*() {
            for (let i = 0; i < 500 && lines.length < n; i++) yield* Effect.sleep("10 millis")
          })

        emulator.install({ handler: url })
        yield* wait(1)
        const install = JSON.parse(lines[0]!)
        expect(install).toMatchObject({ _tag: "ONAPPINSTALL", auth: { application_token: "<redacted>" } })
        expect(lines[0]).not.toContain(emulator.events.applicationTokens.get(emulator.oauth.clientId)!)
        expect(Fs.statSync(tokens).mode & 0o777).toBe(0o600)

        const token = Redacted.value(emulator.oauth.issue(1).accessToken)
        const rest = (method: string, params: Record<string, unknown>) =>
          Effect.promise(() =>
            fetch(`${emulator.url}/rest/${method}.json`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ ...params, auth: token })
            }).then((r) => r.json())
          )
        yield* rest("event.bind", { event: "ONAPPTEST", handler: url })
        const forged = yield* Effect.promise(() =>
          fetch(url, {
            method: "POST",
            headers: { "content-type": "application/x-www-form-urlencoded" },
            body:
              `event=ONAPPTEST&ts=1&auth[member_id]=${install.auth.member_id}&auth[domain]=x&auth[application_token]=forged`
          }).then((r) => r.status)
        )
        expect(forged).toBe(401)
        yield* rest("event.test", { hello: "world" })
        yield* wait(2)
        expect(lines.length).toBe(2)
        expect(JSON.parse(lines[1]!)).toMatchObject({ _tag: "ONAPPTEST", data: { QUERY: { hello: "world" } } })
      }).pipe(Effect.provide(Emulator.layer()), Effect.scoped),
    90_000
  )
})
