/**
 * `b24 login`: the authorization-code grant against the emulated portal's /oauth/authorize/ and token endpoint, with
 * the test playing the browser. The profile and its tokens are stored with mode 0600; no secret is ever printed.
 */
import { Emulator } from "@bitrix24-effect/emulator"
import { describe, expect, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Fs from "node:fs"
import * as Cli from "../src/Cli.js"
import * as Stdio from "../src/Stdio.js"
import { b24, home, PlatformLive } from "./helpers.js"

const TestLive = Layer.merge(PlatformLive, Emulator.layer())

/** Starts `b24 ...words` in the background; answers the fiber and a way to read what it printed so far. */
const start = (words: ReadonlyArray<string>, env: Record<string, string>, stdin: string) =>
  Effect.gen(function*() {
    const captured = Stdio.makeCaptured({ stdin })
    const fiber = yield* Cli.main(words).pipe(
      Effect.provideService(Stdio.Stdio, captured.service),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
      Effect.fork
    )
    return { fiber, captured }
  })

/** The authorize address `b24 login` printed, once it has. */
const printedAddress = (captured: ReturnType<typeof Stdio.makeCaptured>) =>
  Effect.suspend(() => {
    const match = /^ {2}(http\S+\/oauth\/authorize\/\S+)$/m.exec(captured.stderr())
    return match === null ? Effect.fail("not yet") : Effect.succeed(match[1]!)
  }).pipe(Effect.retry(Schedule.spaced("20 millis").pipe(Schedule.upTo("10 seconds"))))

const browse = (url: string) =>
  Effect.promise(async () => {
    const response = await fetch(url, { redirect: "manual" })
    return { status: response.status, location: response.headers.get("location"), text: await response.text() }
  })

describe("b24 login (authorization code, the test plays the browser)", () => {
  it.scopedLive(
    "authorizes, stores the profile and its tokens with mode 0600, and the profile calls as the user",
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const { env } = yield* home
        const secret = Redacted.value(emulator.oauth.clientSecret)
        const words = [
          "login",
          "app",
          "--portal",
          emulator.url,
          "--client-id",
          emulator.oauth.clientId,
          "--client-secret",
          "-",
          "--oauth-url",
          emulator.oauth.tokenUrl
        ]
        const { captured, fiber } = yield* start(words, env, `${secret}\n`)
        const address = yield* printedAddress(captured)
        const authorize = new URL(address)
        expect(`${authorize.origin}${authorize.pathname}`).toBe(`${emulator.url}/oauth/authorize/`)
        expect(authorize.searchParams.get("client_id")).toBe(emulator.oauth.clientId)
        const redirectUri = authorize.searchParams.get("redirect_uri")!
        expect(redirectUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)

        // Something else knocking on the listener is turned away and does not end the login.
        const stranger = yield* browse(`${redirectUri}?code=forged&state=wrong`)
        expect(stranger.status).toBe(400)
        const portal = yield* browse(address)
        expect(portal.status).toBe(302)
        const landed = yield* browse(portal.location!)
        expect(landed).toMatchObject({ status: 200, text: expect.stringContaining("b24 is authorized") })

        const code = yield* Fiber.join(fiber)
        expect(code).toBe(0)
        expect(captured.stderr()).toContain(
          `b24: logged in to ${emulator.url} as user 1; profile app saved (the default)`
        )
        const directory = `${env.XDG_CONFIG_HOME}/b24`
        for (const file of ["profiles.json", "tokens.json"]) {
          expect(Fs.statSync(`${directory}/${file}`).mode & 0o777).toBe(0o600)
        }
        const tokens = JSON.parse(Fs.readFileSync(`${directory}/tokens.json`, "utf8")).tokens.app
        expect(tokens.restUrl).toBe(`${emulator.url}/rest/`)

        const call = yield* b24(["im", "chat", "mute", "--chat-id", "1489"], { env })
        expect(call).toEqual({ code: 0, stdout: "true\n", stderr: "" })
        expect(emulator.journal.at(-1)!.auth).toBe("oauth:1")
        // An application's token: the methods that need one (event.*, imconnector.*) run through the profile.
        const bind = yield* b24(["events", "bind", "--event", "ONAPPTEST", "--handler", "http://127.0.0.1:9/x"], {
          env
        })
        expect(bind).toEqual({ code: 0, stdout: "true\n", stderr: "" })
        expect(emulator.journal.at(-1)).toMatchObject({ method: "event.bind", auth: "oauth:1", status: 200 })
        expect(emulator.events.bindings.map((binding) => binding.event)).toEqual(["ONAPPTEST"])
        const list = yield* b24(["profile", "list"], { env })
        expect(list.stdout).toMatch(/app\s+oauth\s+\S+ \(local\.b24emulator\.000001\)\s+\*/)
        const dry = yield* b24(["--dry-run", "im", "chat", "mute", "--chat-id", "1489"], { env })
        expect(dry.stdout).toContain(`"auth":"<access token>"`)
        expect(dry.stdout).toContain(`-H "Authorization: Bearer \${B24_ACCESS_TOKEN}"`)

        const printed = [
          captured.stdout(),
          captured.stderr(),
          call.stdout,
          bind.stdout,
          list.stdout,
          dry.stdout,
          dry.stderr
        ]
          .join(
            "\n"
          )
        for (const value of [secret, tokens.accessToken, tokens.refreshToken]) expect(printed).not.toContain(value)
      }).pipe(Effect.provide(TestLive)),
    30_000
  )

  it.scopedLive(
    "a refusal exits 3, no redirect in time exits 4, a bad portal address exits 2",
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const { env } = yield* home
        const words = (name: string) => [
          "login",
          name,
          "--portal",
          emulator.url,
          "--client-id",
          emulator.oauth.clientId,
          "--oauth-url",
          emulator.oauth.tokenUrl
        ]
        const secretEnv = { ...env, B24_CLIENT_SECRET: Redacted.value(emulator.oauth.clientSecret) }
        const refused = yield* start(words("refused"), secretEnv, "")
        const address = new URL(yield* printedAddress(refused.captured))
        const back = `${address.searchParams.get("redirect_uri")}?error=access_denied&state=${
          address.searchParams.get("state")
        }`
        expect((yield* browse(back)).text).toContain("b24 was not authorized")
        expect(yield* Fiber.join(refused.fiber)).toBe(3)
        expect(refused.captured.stderr()).toContain("the portal refused the authorization (access_denied")

        const late = yield* b24([...words("late"), "--timeout", "1"], { env: secretEnv })
        expect(late.code).toBe(4)
        expect(late.stderr).toContain("the portal did not redirect back in time")
        const bad = yield* b24(["login", "x", "--portal", "not a url", "--client-id", "a"], { env: secretEnv })
        expect(bad).toMatchObject({ code: 2 })
        expect(Fs.existsSync(`${env.XDG_CONFIG_HOME}/b24/profiles.json`)).toBe(false)
      }).pipe(Effect.provide(TestLive)),
    30_000
  )
})
