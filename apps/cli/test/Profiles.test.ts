/**
 * Profiles: stored under $XDG_CONFIG_HOME/b24 with mode 0600 (directory 0700), listed without secrets, chosen with
 * `--profile`, `B24_PROFILE` or as the default; the webhook URL may come on standard input.
 */
import { Emulator } from "@bitrix24-effect/emulator"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Fs from "node:fs"
import { b24, home, PlatformLive, type Run } from "./helpers.js"

const TestLive = Layer.merge(PlatformLive, Emulator.layer())

const mode = (path: string) => Fs.statSync(path).mode & 0o777

describe("b24 profile", () => {
  it.scoped("add stores the webhook with mode 0600 and never prints it; list shows no secret", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const { env } = yield* home
      const url = Redacted.value(emulator.webhookUrl)
      const secret = emulator.credentials.webhooks[0]!.code
      const runs: Array<Run> = []
      const run = (words: ReadonlyArray<string>, stdin?: string) =>
        Effect.tap(b24(words, { env, ...(stdin === undefined ? {} : { stdin }) }), (result) => runs.push(result))

      const added = yield* run(["profile", "add", "local", "--webhook", url])
      expect(added).toEqual({
        code: 0,
        stdout: "",
        stderr: `b24: profile local added (inbound webhook of ${emulator.url}, user 1); it is the default\n`
      })
      const file = `${env.XDG_CONFIG_HOME}/b24/profiles.json`
      expect(mode(file)).toBe(0o600)
      expect(mode(`${env.XDG_CONFIG_HOME}/b24`)).toBe(0o700)
      expect(Fs.readFileSync(file, "utf8")).toContain(secret)

      yield* run(["profile", "add", "other", "--webhook", "-"], `${url}\n`)
      const table = yield* run(["profile", "list"])
      expect(table.code).toBe(0)
      expect(table.stdout.split("\n")[0]).toMatch(/^name\s+kind\s+portal\s+default$/)
      expect(table.stdout).toMatch(/local\s+webhook\s+\S+ \(user 1\)\s+\*/)
      const json = JSON.parse((yield* run(["profile", "list", "--format", "json"])).stdout)
      expect(json).toEqual([
        { name: "local", kind: "webhook", portal: `${emulator.url} (user 1)`, default: true },
        { name: "other", kind: "webhook", portal: `${emulator.url} (user 1)`, default: false }
      ])

      expect((yield* run(["im", "chat", "mute", "--chat-id", "1489"])).stdout).toBe("true\n")
      expect((yield* run(["--profile", "other", "im", "chat", "mute", "--chat-id", "1489"])).code).toBe(0)
      yield* run(["profile", "use", "other"])
      expect(JSON.parse((yield* run(["profile", "list", "--json"])).stdout)[1].default).toBe(true)
      yield* run(["profile", "remove", "other"])
      const gone = yield* run(["--profile", "other", "im", "chat", "mute", "--chat-id", "1489"])
      expect(gone).toMatchObject({
        code: 2,
        stderr: `b24: no profile "other": the profiles are local (b24 profile list)\n`
      })
      expect((yield* run(["im", "chat", "mute", "--chat-id", "1489"])).stderr).toContain("no portal configured")

      for (const output of runs) expect(output.stdout + output.stderr).not.toContain(secret)
    }).pipe(Effect.provide(TestLive)))

  it.scoped("the portal: --profile, then B24_PROFILE, then B24_WEBHOOK_URL, then the default profile", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const { env } = yield* home
      const url = Redacted.value(emulator.webhookUrl)
      yield* b24(["profile", "add", "good", "--webhook", url], { env })
      yield* b24(["profile", "add", "dead", "--webhook", "http://127.0.0.1:1/rest/1/x/"], { env })
      const call = (extra: Record<string, string>, ...words: ReadonlyArray<string>) =>
        Effect.map(
          b24([...words, "im", "chat", "mute", "--chat-id", "1489"], {
            env: { ...env, B24_RETRY_RETRIES: "0", ...extra }
          }),
          (run) => run.code
        )
      expect(yield* call({})).toBe(0)
      expect(yield* call({ B24_PROFILE: "dead" })).toBe(4)
      expect(yield* call({ B24_PROFILE: "dead" }, "--profile", "good")).toBe(0)
      expect(yield* call({ B24_WEBHOOK_URL: "http://127.0.0.1:1/rest/1/x/" })).toBe(4)
      expect(yield* call({ B24_WEBHOOK_URL: "http://127.0.0.1:1/rest/1/x/", B24_PROFILE: "good" })).toBe(0)
    }).pipe(Effect.provide(TestLive)))

  it.scoped("bad names, bad URLs, an empty standard input and a damaged file are usage errors", () =>
    Effect.gen(function*() {
      const { env } = yield* home
      const name = yield* b24(["profile", "add", "../x", "--webhook", "https://a.bitrix24.com/rest/1/k/"], { env })
      expect(name).toMatchObject({ code: 2 })
      expect(name.stderr).toContain(`"../x" is not a profile name`)
      const url = yield* b24(["profile", "add", "x", "--webhook", "https://a.bitrix24.com/rest/s3cr3t"], { env })
      expect(url.code).toBe(2)
      expect(url.stderr).not.toContain("s3cr3t")
      const empty = yield* b24(["profile", "add", "x", "--webhook", "-"], { env, stdin: "" })
      expect(empty).toMatchObject({
        code: 2,
        stderr: "b24: expected the inbound webhook URL on standard input (one line)\n"
      })
      expect(Fs.existsSync(`${env.XDG_CONFIG_HOME}/b24/profiles.json`)).toBe(false)
      Fs.mkdirSync(`${env.XDG_CONFIG_HOME}/b24`, { recursive: true })
      Fs.writeFileSync(`${env.XDG_CONFIG_HOME}/b24/profiles.json`, "{not json")
      const damaged = yield* b24(["profile", "list"], { env })
      expect(damaged.code).toBe(2)
      expect(damaged.stderr).toContain("is not a b24 profiles file")
    }).pipe(Effect.provide(PlatformLive)))
})
