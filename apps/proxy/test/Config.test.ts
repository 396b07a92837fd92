/**
 * The configuration: the file (YAML or JSON, decoded with Schema; each error names the key and the reason, never a
 * secret), the environment's one-portal shortcut, and the process: a bad setting is one line and exit code 1; TLS
 * from PEM files, or `--tls` with a self-signed certificate whose PEM (never the key) is printed.
 */
import { Tls } from "@bitrix24-effect/emulator"
import { describe, expect, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as ProxyConfig from "../src/ProxyConfig.js"

const yaml = `
portals:
  sales:
    webhook: { env: SALES_WEBHOOK_URL }
    bucket: enterprise
  support:
    oauth:
      clientId: local.app.1
      clientSecret: { env: SUPPORT_CLIENT_SECRET }
      tokenUrl: https://oauth.bitrix.info/oauth/token/
    batching: { window: 20 millis, maxBatchSize: 25 }
clients:
  - id: 7
    secret: { env: CRM_SYNC_SECRET }
    portal: sales
    methods: ["imopenlines.*", "im.chat.*", user.current]
    limit: 10/1
    weight: 2
  - id: "8"
    secret: a-long-random-secret-8
    portal: support
`

const env = {
  SALES_WEBHOOK_URL: "https://example.bitrix24.com/rest/1/abcdef123456/",
  SUPPORT_CLIENT_SECRET: "the-client-secret",
  CRM_SYNC_SECRET: "crm-sync-client-secret"
}

const parse = (text: string, variables: Record<string, string> = env, path = "/etc/b24-proxy.yaml") =>
  ProxyConfig.parse(text, path).pipe(
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(variables)))),
    Effect.either
  )

const errorOf = (text: string, variables?: Record<string, string>) =>
  Effect.map(parse(text, variables), (result) => Either.isLeft(result) ? result.left.message : "no error")

describe("the configuration file", () => {
  it.effect("YAML: portals, clients bound to them, secrets from the environment, per-portal settings", () =>
    Effect.gen(function*() {
      const result = yield* parse(yaml)
      const config = Either.getOrThrow(result)
      expect(config.portals.map((portal) => [portal.name, portal.upstream._tag, portal.limits.bucket])).toEqual([
        ["sales", "Webhook", "enterprise"],
        ["support", "OAuth", "standard"]
      ])
      expect(config.portals[1]!.batching).toMatchObject({ maxBatchSize: 25 })
      expect(config.clients.map((client) => [client.id, client.portal, client.weight, client.limit])).toEqual([
        ["7", "sales", 2, { size: 10, drainPerSecond: 1 }],
        ["8", "support", 1, "standard"]
      ])
      expect(Redacted.value(config.clients[0]!.secret)).toBe("crm-sync-client-secret")
      expect(config.tokenFile).toBe("/etc/b24-proxy-tokens.json")
      expect(config.generated).toBeUndefined()
    }))

  it.effect("JSON reads the same", () =>
    Effect.gen(function*() {
      const json = JSON.stringify({
        portals: { main: { webhook: env.SALES_WEBHOOK_URL } },
        clients: [{ id: 1, secret: "json-client-secret" }]
      })
      const config = Either.getOrThrow(yield* parse(json, {}, "/tmp/b24-proxy.json"))
      expect(config.clients.map((client) => [client.id, client.portal])).toEqual([["1", "main"]])
    }))

  it.effect("each error names the key and the reason, and never a secret", () =>
    Effect.gen(function*() {
      const base = "portals:\n  main:\n    webhook: https://example.bitrix24.com/rest/1/abcdef123456/\n"
      expect(yield* errorOf(`${base}clients:\n  - id: crm-sync\n    secret: a-long-secret-1`)).toBe(
        "clients[0].id: must be numeric: it stands where an inbound webhook has its user ID (/rest/<id>/<secret>/), " +
          "and the official SDK (@bitrix24/b24jssdk) refuses a webhook URL whose user ID is not"
      )
      expect(yield* errorOf(`${base}clients:\n  - id: 1\n    secret: a-long-secret-1\n    portal: nope`)).toBe(
        "clients[0].portal: no portal named \"nope\" (portals: main)"
      )
      const twins = yield* errorOf(
        `${base}clients:\n  - id: 1\n    secret: same-secret-123\n  - id: 2\n    secret: same-secret-123`
      )
      expect(twins).toMatch(/^clients\[1\]\.secret: the same secret as clients\[0\]/)
      expect(twins).not.toContain("same-secret-123")
      expect(yield* errorOf(`${base}clients:\n  - id: 1\n    secret: short`)).toBe(
        "clients[0].secret: expected 8-128 of A-Z a-z 0-9 _ -"
      )
      expect(yield* errorOf(`${base}    bucket: lots`)).toMatch(/^portals\.main\.bucket: expected standard, enterprise/)
      expect(yield* errorOf(`${base}    bukcet: off`)).toMatch(/^portals\.main\.bukcet: /)
      expect(yield* errorOf("portals:\n  main:\n    webhook: { env: MISSING_WEBHOOK }\n")).toBe(
        "portals.main.webhook: the environment variable MISSING_WEBHOOK is not set"
      )
      const webhook = yield* errorOf("portals:\n  main:\n    webhook: https://example.bitrix24.com/x/secret-code\n")
      expect(webhook).toMatch(/^portals\.main\.webhook: invalid inbound webhook URL/)
      expect(webhook).not.toContain("secret-code")
      expect(yield* errorOf("portals:\n  main:\n    emulator: true\n    webhook: https://a.b/rest/1/x/\n")).toBe(
        "portals.main: give exactly one of webhook, oauth or emulator"
      )
      expect(yield* errorOf("portals: [")).toMatch(/^\/etc\/b24-proxy\.yaml: not YAML/)
    }))
})

describe("the environment's one-portal shortcut", () => {
  const fromEnv = (variables: Record<string, string>) =>
    ProxyConfig.fromEnvironment.pipe(
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(variables)))),
      Effect.either
    )

  it.effect("B24_WEBHOOK_URL and B24_PROXY_CLIENTS; the OAuth application of B24_CLIENT_*; else the emulator", () =>
    Effect.gen(function*() {
      const webhook = Either.getOrThrow(
        yield* fromEnv({
          B24_WEBHOOK_URL: env.SALES_WEBHOOK_URL,
          B24_PROXY_CLIENTS: "7:secret-one-0001, 8:secret-two-0002",
          B24_BUCKET: "enterprise"
        })
      )
      expect(webhook.portals[0]!.upstream._tag).toBe("Webhook")
      expect(webhook.portals[0]!.limits.bucket).toBe("enterprise")
      expect(webhook.clients.map((client) => client.id)).toEqual(["7", "8"])
      const oauth = Either.getOrThrow(yield* fromEnv({ B24_CLIENT_ID: "local.1", B24_CLIENT_SECRET: "s3cret-value" }))
      expect(oauth.portals[0]!.upstream._tag).toBe("OAuth")
      const none = Either.getOrThrow(yield* fromEnv({}))
      expect(none.portals[0]!.upstream._tag).toBe("Emulator")
      expect(none.generated?.id).toBe("1")
    }))

  it.effect("a non-numeric client ID in B24_PROXY_CLIENTS is refused, saying why, without the secret", () =>
    Effect.gen(function*() {
      const result = yield* fromEnv({ B24_PROXY_CLIENTS: "crm-sync:a-long-random-secret" })
      expect(Either.isLeft(result)).toBe(true)
      const message = Either.isLeft(result) ? result.left.message : ""
      expect(message).toMatch(/^B24_PROXY_CLIENTS: entry 1: the client ID must be numeric/)
      expect(message).toContain("@bitrix24/b24jssdk")
      expect(message).not.toContain("a-long-random-secret")
    }))
})

const tsx = Path.join(import.meta.dirname, "..", "node_modules", ".bin", "tsx")
const main = Path.join(import.meta.dirname, "..", "src", "main.ts")

/**
 * Runs the proxy process until `until` matches its output (or it exits); answers its output and exit code. A process
 * still running is stopped when the scope closes.
 */
const run = (args: ReadonlyArray<string>, env: Record<string, string>, until: RegExp) =>
  Effect.acquireRelease(
    Effect.sync(() =>
      ChildProcess.spawn(tsx, [main, ...args], {
        env: { ...process.env, PORT: "0", B24_WEBHOOK_URL: "", B24_PROXY_CLIENTS: "", B24_PROXY_CONFIG: "", ...env }
      })
    ),
    (child) => Effect.sync(() => child.kill())
  ).pipe(Effect.flatMap((child) => output(child, until)))

const output = (child: ChildProcess.ChildProcessWithoutNullStreams, until: RegExp) =>
  Effect.async<{ readonly stdout: string; readonly stderr: string; readonly code: number | null }>((resume) => {
    let stdout = ""
    let stderr = ""
    let done = false
    const finish = (code: number | null) => {
      if (done) return
      done = true
      resume(Effect.succeed({ stdout, stderr, code }))
    }
    child.stdout.on("data", (chunk) => {
      stdout += String(chunk)
      if (until.test(stdout)) finish(null)
    })
    child.stderr.on("data", (chunk) => stderr += String(chunk))
    child.on("exit", (code) => finish(code))
  })

describe("the process", () => {
  it.scopedLive(
    "a bad configuration: one line naming the key and the reason, exit code 1",
    () =>
      Effect.gen(function*() {
        const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "b24-proxy-config-"))
        const file = Path.join(dir, "b24-proxy.yaml")
        Fs.writeFileSync(
          file,
          "portals:\n  main:\n    emulator: true\nclients:\n  - id: crm-sync\n    secret: a-long-secret-1\n"
        )
        const result = yield* run([], { B24_PROXY_CONFIG: file }, /listening/)
        Fs.rmSync(dir, { recursive: true })
        expect(result.code).toBe(1)
        expect(result.stderr.trim().split("\n")).toEqual([
          "b24-proxy: clients[0].id: must be numeric: it stands where an inbound webhook has its user ID " +
          "(/rest/<id>/<secret>/), and the official SDK (@bitrix24/b24jssdk) refuses a webhook URL whose user ID is not"
        ])
      }),
    60_000
  )

  it.scopedLive(
    "--tls with no files: HTTPS with a self-signed certificate, its PEM printed and saved, never the key",
    () =>
      Effect.gen(function*() {
        const result = yield* run(["--tls"], {}, /imopenlines\.session\.mode\.silent\.json/)
        expect(result.stdout).toContain("-----BEGIN CERTIFICATE-----")
        expect(result.stdout).not.toContain("PRIVATE KEY")
        const file = /saved to (\S+\.pem)/.exec(result.stdout)![1]!
        const url = /(https:\/\/127\.0\.0\.1:\d+\/rest\/1\/[^/\s]+\/)/.exec(result.stdout)![1]!
        // The printed certificate is what a client trusts: curl --cacert FILE.
        const answer = ChildProcess.execFileSync("curl", [
          "-s",
          "--cacert",
          file,
          "-H",
          "Content-Type: application/json",
          "-d",
          "{\"CHAT_ID\":1489}",
          `${url}im.chat.mute.json`
        ], { encoding: "utf8" })
        Fs.rmSync(file)
        expect(JSON.parse(answer).result).toBe(true)
      }),
    60_000
  )

  it.scopedLive(
    "B24_PROXY_TLS_CERT without B24_PROXY_TLS_KEY, or an unreadable file: one line, exit code 1",
    () =>
      Effect.gen(function*() {
        const half = yield* run([], { B24_PROXY_TLS_CERT: "/nonexistent/cert.pem" }, /listening/)
        expect([half.code, half.stderr.trim()]).toEqual([
          1,
          "b24-proxy: B24_PROXY_TLS_KEY: is not set: the certificate and its key go together"
        ])
        const missing = yield* run(
          [],
          { B24_PROXY_TLS_CERT: "/nonexistent/cert.pem", B24_PROXY_TLS_KEY: "/nonexistent/key.pem" },
          /listening/
        )
        expect([missing.code, missing.stderr.trim()]).toEqual([
          1,
          "b24-proxy: B24_PROXY_TLS_CERT: cannot read /nonexistent/cert.pem (ENOENT)"
        ])
      }),
    60_000
  )
})

describe("TLS from PEM files", () => {
  it.scopedLive(
    "B24_PROXY_TLS_CERT and B24_PROXY_TLS_KEY: the proxy answers over HTTPS with that certificate",
    () =>
      Effect.gen(function*() {
        const pair = yield* Tls.selfSigned("127.0.0.1")
        const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "b24-proxy-tls-"))
        Fs.writeFileSync(Path.join(dir, "cert.pem"), pair.cert)
        Fs.writeFileSync(Path.join(dir, "key.pem"), pair.key)
        const result = yield* run([], {
          B24_PROXY_TLS_CERT: Path.join(dir, "cert.pem"),
          B24_PROXY_TLS_KEY: Path.join(dir, "key.pem")
        }, /imopenlines\.session\.mode\.silent\.json/)
        Fs.rmSync(dir, { recursive: true })
        expect(result.stdout).toMatch(/listening on https:\/\/127\.0\.0\.1:\d+/)
        expect(result.stdout).not.toContain("BEGIN CERTIFICATE")
      }),
    60_000
  )
})
