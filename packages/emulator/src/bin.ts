#!/usr/bin/env -S npx tsx
/**
 * `pnpm emulator`: serves the emulated portal on 127.0.0.1:8090 (`PORT` and `HOST` override) and prints its inbound
 * webhook URL, an OAuth token pair, the OAuth application's client ID and secret, the token URL and the control
 * API's address, so both curl forms of the documentation and a refresh can be tried.
 *
 * Flags (`pnpm emulator --help`): `--fixture FILE`, `--tls` or `--cert FILE --key FILE`, `--bucket`,
 * `--operating-limit`, `--execution METHOD=SECONDS`, `--hold ENTITY`, `--profile`, `--clock`, `--fault SPEC`,
 * `--seed`, `--journal-limit`, `--latency`.
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { parseArgs } from "node:util"
import * as Emulator from "./Emulator.js"
import * as Faults from "./Faults.js"
import * as Limits from "./Limits.js"

const usage = `Usage: pnpm emulator [flags]

  --fixture FILE            the portal as JSON (the Fixture format); default: the built-in fixture
  --tls                     serve HTTPS with a self-signed certificate made at start (written to a temp file)
  --cert FILE --key FILE    serve HTTPS with this PEM certificate and key
  --bucket SHAPE            leaky bucket: standard (50, 2/s; default), enterprise (250, 5/s), off, or SIZE/DRAIN
  --operating-limit SEC     operating-time limit per auth entity and method per 10 minutes (default 480)
  --execution METHOD=SEC    simulated execution time of a method (repeatable; METHOD * for all)
  --hold ENTITY             OVERLOAD_LIMIT hold on webhook:<userId> or app:<client_id> (repeatable)
  --profile PROFILE         cloud (default) or self-hosted statuses and headers
  --clock MODE              system (default) or manual (time moves only via POST /_emulator/clock/advance)
  --fault SPEC              a fault switch (repeatable): KIND[,method=M][,times=N|,share=S][,ms=N][,location=URL]
                            KIND: latency internal-error html-502 drop-before drop-after truncated-json redirect
  --seed N                  seed of the fault share generator (default 1)
  --journal-limit N         keep about N journal entries (default 100000)
  --latency MS[/JITTER]     answer each REST request after MS milliseconds, plus or minus JITTER (a cloud portal)
  --help                    this text

Environment: PORT (default 8090), HOST (default 127.0.0.1).`

class UsageError extends Error {}

const number = (flag: string, text: string): number => {
  const value = Number(text)
  if (text.trim() === "" || !Number.isFinite(value)) throw new UsageError(`${flag}: not a number: ${text}`)
  return value
}

const parseBucket = (text: string): Limits.Limits["bucket"] => {
  if (text === "standard" || text === "enterprise" || text === "off") return text
  const match = /^(\d+)\/(\d+(?:\.\d+)?)$/.exec(text)
  if (match === null) throw new UsageError(`--bucket: expected standard, enterprise, off or SIZE/DRAIN, got ${text}`)
  return { size: Number(match[1]), drainPerSecond: Number(match[2]) }
}

const parseFault = (spec: string): Faults.Fault => {
  const [kind, ...pairs] = spec.split(",")
  const raw: Record<string, unknown> = { kind }
  for (const pair of pairs) {
    const eq = pair.indexOf("=")
    if (eq === -1) throw new UsageError(`--fault: expected key=value, got ${pair}`)
    const key = pair.slice(0, eq)
    const value = pair.slice(eq + 1)
    raw[key] = key === "times" || key === "share" || key === "ms" ? number(`--fault ${key}`, value) : value
  }
  const decoded = Schema.decodeUnknownEither(Faults.Fault, { onExcessProperty: "error" })(raw)
  if (decoded._tag === "Left") throw new UsageError(`--fault ${spec}: ${decoded.left.message}`)
  return decoded.right
}

const options = () => {
  const { values } = parseArgs({
    options: {
      fixture: { type: "string" },
      tls: { type: "boolean" },
      cert: { type: "string" },
      key: { type: "string" },
      bucket: { type: "string" },
      "operating-limit": { type: "string" },
      execution: { type: "string", multiple: true },
      hold: { type: "string", multiple: true },
      profile: { type: "string" },
      clock: { type: "string" },
      fault: { type: "string", multiple: true },
      seed: { type: "string" },
      "journal-limit": { type: "string" },
      latency: { type: "string" },
      help: { type: "boolean" }
    },
    allowPositionals: false
  })
  if (values.help) return undefined
  if ((values.cert === undefined) !== (values.key === undefined)) throw new UsageError("--cert and --key go together")
  if (values.profile !== undefined && values.profile !== "cloud" && values.profile !== "self-hosted") {
    throw new UsageError(`--profile: cloud or self-hosted, got ${values.profile}`)
  }
  if (values.clock !== undefined && values.clock !== "system" && values.clock !== "manual") {
    throw new UsageError(`--clock: system or manual, got ${values.clock}`)
  }
  const execution = Object.fromEntries((values.execution ?? []).map((pair) => {
    const eq = pair.lastIndexOf("=")
    if (eq <= 0) throw new UsageError(`--execution: expected METHOD=SECONDS, got ${pair}`)
    return [pair.slice(0, eq).toLowerCase(), number("--execution", pair.slice(eq + 1))]
  }))
  const limits: Limits.Limits = {
    ...(values.bucket === undefined ? {} : { bucket: parseBucket(values.bucket) }),
    ...(values["operating-limit"] === undefined
      ? {}
      : { operatingLimitSeconds: number("--operating-limit", values["operating-limit"]) }),
    ...(values.execution === undefined ? {} : { executionSeconds: execution }),
    ...(values.hold === undefined ? {} : { holds: values.hold })
  }
  return {
    fixturePath: values.fixture,
    tls: values.cert !== undefined && values.key !== undefined
      ? { cert: Fs.readFileSync(values.cert, "utf8"), key: Fs.readFileSync(values.key, "utf8") }
      : values.tls === true
      ? (true as const)
      : undefined,
    limits,
    profile: values.profile as "cloud" | "self-hosted" | undefined,
    clock: values.clock as "system" | "manual" | undefined,
    faults: (values.fault ?? []).map(parseFault),
    seed: values.seed === undefined ? undefined : number("--seed", values.seed),
    journalLimit: values["journal-limit"] === undefined ? 100_000 : number("--journal-limit", values["journal-limit"]),
    latency: values.latency === undefined ? undefined : parseLatency(values.latency)
  }
}

const parseLatency = (text: string) => {
  const [ms, jitter] = text.split("/")
  return { ms: number("--latency", ms ?? ""), jitterMs: jitter === undefined ? 0 : number("--latency jitter", jitter) }
}

const program = Effect.gen(function*() {
  const parsed = yield* Effect.try({
    try: options,
    catch: (error) => error instanceof Error ? error : new Error(String(error))
  })
  if (parsed === undefined) return yield* Console.log(usage)
  const port = yield* Config.integer("PORT").pipe(Config.withDefault(8090))
  const host = yield* Config.string("HOST").pipe(Config.withDefault("127.0.0.1"))
  const fixture = parsed.fixturePath === undefined
    ? undefined
    : yield* Effect.try(() => JSON.parse(Fs.readFileSync(parsed.fixturePath!, "utf8")))
  const emulator = yield* Emulator.make({
    port,
    host,
    fixture,
    tls: parsed.tls,
    limits: parsed.limits,
    profile: parsed.profile,
    clock: parsed.clock,
    faults: parsed.faults,
    seed: parsed.seed,
    journalLimit: parsed.journalLimit,
    latency: parsed.latency
  })
  const webhook = Redacted.value(emulator.webhookUrl)
  const firstUser = emulator.credentials.webhooks[0]?.userId ?? 1
  const tokens = emulator.oauth.issue(firstUser)
  let certificateLine: ReadonlyArray<string> = []
  if (emulator.certificate !== undefined) {
    const file = Path.join(Os.tmpdir(), `b24-emulator-${new URL(emulator.url).port}.pem`)
    Fs.writeFileSync(file, emulator.certificate)
    certificateLine = [`  TLS certificate (PEM):          ${file}   (curl --cacert ${file})`]
  }
  const limits = emulator.limits()
  const bucket = typeof limits.bucket === "string"
    ? limits.bucket === "off" ? "off" : `${limits.bucket} (${Limits.bucketShapes[limits.bucket].size}, ` +
      `${Limits.bucketShapes[limits.bucket].drainPerSecond}/s)`
    : `${limits.bucket.size}, ${limits.bucket.drainPerSecond}/s`
  yield* Console.log(
    [
      `Bitrix24 emulator listening on ${emulator.url} (${emulator.profile} profile, ${emulator.clock.mode} clock)`,
      `  inbound webhook (user ${firstUser}):       ${webhook}`,
      `  OAuth access token (1 hour):    ${
        Redacted.value(tokens.accessToken)
      }   (POST to ${emulator.url}/rest/<method> with "auth")`,
      `  OAuth refresh token:            ${Redacted.value(tokens.refreshToken)}`,
      `  OAuth client_id:                ${emulator.oauth.clientId}`,
      `  OAuth client_secret:            ${Redacted.value(emulator.oauth.clientSecret)}`,
      `  OAuth token URL:                ${emulator.oauth.tokenUrl}   (grant_type=refresh_token)`,
      `  control API:                    ${emulator.controlUrl}/state, /journal, /clock, /limits, /faults, /reset`,
      ...certificateLine,
      `  limits: leaky bucket ${bucket}; operating time ${
        limits.operatingActive ? `${limits.operatingLimitSeconds} s per 10 min` : "off"
      }${parsed.faults.length > 0 ? `; ${parsed.faults.length} fault switch(es)` : ""}`,
      ``,
      `  try: curl -X POST -H "Content-Type: application/json" -d '{"CHAT_ID":2043,"ACTIVATE":"Y"}' \\`,
      `         ${emulator.certificate === undefined ? "" : "--cacert <certificate> "}${webhook}` +
      `imopenlines.session.mode.silent.json`
    ].join("\n")
  )
  return yield* Effect.never
})

NodeRuntime.runMain(Effect.scoped(program.pipe(
  Effect.catchIf((error): error is UsageError => error instanceof UsageError, (error) =>
    Effect.zipRight(
      Console.error(`${error.message}\n\n${usage}`),
      Effect.sync(() => {
        process.exitCode = 2
      })
    ))
)))
