/**
 * Graceful drain, with the proxy as a real process in front of an emulator slowed to 5 s per request: on SIGTERM
 * every call already received is answered with its real outcome (the emulator's journal holds exactly the calls
 * answered 200), a connection that carried an `Upgrade: websocket` request does not hold the process, and it exits 0
 * within `B24_PROXY_DRAIN_SECONDS`.
 */
import { Emulator } from "@bitrix24-effect/emulator"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Fs from "node:fs"
import * as Http from "node:http"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import { spawnProxy } from "./proxyProcess.js"

const secret = "drain-client-secret"

/** POSTs on a keep-alive agent; answers the status and the body's JSON. */
const call = (agent: Http.Agent, url: string, body: unknown) =>
  Effect.async<{ readonly status: number; readonly json: any }, Error>((resume) => {
    const req = Http.request(url, { method: "POST", agent, headers: { "content-type": "application/json" } }, (res) => {
      let text = ""
      res.on("data", (chunk) => text += chunk)
      res.on("end", () => resume(Effect.succeed({ status: res.statusCode ?? 0, json: JSON.parse(text) })))
    })
    req.on("error", (error) => resume(Effect.fail(error)))
    req.end(JSON.stringify(body))
  })

/** A keep-alive socket that sent `Upgrade: websocket` and got its answer; resolves `closed` when the proxy closes it. */
const upgradeSocket = (base: string) =>
  Effect.async<{ readonly status: string; readonly closed: Promise<void> }>((resume) => {
    const url = new URL(base)
    const socket = Net.connect(Number(url.port), url.hostname)
    const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()))
    let text = ""
    socket.on("data", (chunk) => {
      text += String(chunk)
      if (text.includes("\r\n\r\n")) resume(Effect.succeed({ status: text.split("\r\n")[0]!, closed }))
    })
    socket.on("error", () => undefined)
    socket.write(
      "GET /ws HTTP/1.1\r\nHost: proxy\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n" +
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    )
  })

/** A configuration file: one portal (the emulator's webhook from UPSTREAM_WEBHOOK, bucket off), one client, no limit. */
const configFile = () => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "b24-proxy-drain-"))
  const file = Path.join(dir, "b24-proxy.yaml")
  Fs.writeFileSync(
    file,
    `portals:\n  main:\n    webhook: { env: UPSTREAM_WEBHOOK }\n    bucket: "off"\n` +
      `clients:\n  - id: 1\n    secret: ${secret}\n    limit: "off"\n`
  )
  return file
}

/** Waits until the proxy's `/metrics` shows `depth` calls waiting in the portal's queue. */
const waitForQueue = (base: string, depth: number) =>
  Effect.gen(function*() {
    for (;;) {
      const text = yield* Effect.promise(() => fetch(`${base}/metrics`).then((response) => response.text()))
      const line = /^b24_proxy_queue_depth\{[^}]*portal="main"[^}]*\} (\d+)/m.exec(text)
      if (line !== null && Number(line[1]) >= depth) return
      yield* Effect.sleep("50 millis")
    }
  }).pipe(Effect.timeoutFail({ duration: "120 seconds", onTimeout: () => new Error("the calls never queued") }))

const drain = (withUpgrade: boolean) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const proxy = yield* spawnProxy({
      B24_PROXY_CONFIG: configFile(),
      UPSTREAM_WEBHOOK: Redacted.value(emulator.webhookUrl),
      B24_PROXY_DRAIN_SECONDS: "60",
      B24_PROXY_LOG_LEVEL: "warning"
    })
    const upgrade = withUpgrade ? yield* upgradeSocket(proxy.base) : undefined
    if (upgrade !== undefined) expect(upgrade.status).toMatch(/^HTTP\/1\.1 404/)
    const from = emulator.journal.length
    const agent = new Http.Agent({ keepAlive: true, maxSockets: 200 })
    const calls = yield* Effect.fork(Effect.forEach(
      Array.from({ length: 200 }, (_, i) => i),
      (i) =>
        Effect.either(
          call(agent, `${proxy.base}/rest/1/${secret}/im.chat.mute`, { CHAT_ID: 1489, MUTE: i % 2 === 0 ? "Y" : "N" })
        ),
      { concurrency: "unbounded" }
    ))
    // Every call received before the signal: 100 in the transport (the portal's `inflight`), 100 queued.
    yield* waitForQueue(proxy.base, 100)
    const signalled = performance.now()
    proxy.child.kill("SIGTERM")
    const answers = yield* calls.await.pipe(Effect.flatten)
    const code = yield* proxy.exited
    const seconds = (performance.now() - signalled) / 1000
    agent.destroy()
    expect(code).toBe(0)
    expect(seconds).toBeLessThan(60)
    // 200 real answers: each a success the portal executed, none made up.
    expect(answers.filter((answer) => answer._tag === "Left")).toEqual([])
    const statuses = answers.map((answer) => answer._tag === "Right" ? answer.right.status : 0)
    expect(statuses.filter((status) => status === 200).length).toBe(200)
    expect(answers.every((answer) => answer._tag === "Right" && answer.right.json.result === true)).toBe(true)
    const executed = emulator.journal.slice(from).filter((entry) => entry.method === "im.chat.mute" && entry.executed)
    expect(executed.length).toBe(200)
    if (upgrade !== undefined) yield* Effect.promise(() => upgrade.closed)
  }).pipe(Effect.provide(Emulator.layer({ latency: { ms: 5000 } })))

describe("graceful drain (SIGTERM)", () => {
  it.scopedLive(
    "200 calls in flight: 200 real answers matching the journal, exit 0 within the deadline",
    () => drain(false),
    300_000
  )

  it.scopedLive("the same with an Upgrade: websocket request's connection kept open", () => drain(true), 300_000)

  it.scopedLive(
    "a request arriving while the proxy drains gets 503 QUERY_LIMIT_EXCEEDED and Connection: close",
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const proxy = yield* spawnProxy({
          B24_PROXY_CONFIG: configFile(),
          UPSTREAM_WEBHOOK: Redacted.value(emulator.webhookUrl),
          B24_PROXY_LOG_LEVEL: "warning"
        })
        const agent = new Http.Agent({ keepAlive: true, maxSockets: 1 })
        // One call in flight on its own connection; another connection answered once and kept alive, idle.
        const first = yield* Effect.fork(call(agent, `${proxy.base}/rest/1/${secret}/im.chat.mute`, { CHAT_ID: 1489 }))
        const other = new Http.Agent({ keepAlive: true, maxSockets: 1 })
        expect((yield* call(other, `${proxy.base}/rest/1/${secret}/im.chat.mute`, { CHAT_ID: 1489 })).status).toBe(200)
        yield* Effect.sleep("200 millis")
        proxy.child.kill("SIGTERM")
        yield* Effect.sleep("300 millis")
        const late = yield* Effect.either(call(other, `${proxy.base}/rest/1/${secret}/im.chat.mute`, { CHAT_ID: 1489 }))
        // The idle keep-alive connection was closed at the signal; a new one is refused (listener closed) or, if it
        // raced the close, answered 503.
        if (late._tag === "Right") expect(late.right.json.error).toBe("QUERY_LIMIT_EXCEEDED")
        expect((yield* first.await)._tag).toBe("Success")
        expect(yield* proxy.exited).toBe(0)
        agent.destroy()
        other.destroy()
      }).pipe(Effect.provide(Emulator.layer({ latency: { ms: 1000 } }))),
    180_000
  )
})
