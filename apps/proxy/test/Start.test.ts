/**
 * Start errors of the proxy process: a taken port, an upstream out of reach at start, a bad limit: one line naming
 * the setting and the cause, exit code 1, no stack trace.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Net from "node:net"
import { spawnProxy } from "./proxyProcess.js"

/** Runs the proxy expecting it to fail at start; answers its exit code and standard error. */
const failing = (env: Record<string, string>) =>
  Effect.gen(function*() {
    const started = yield* Effect.either(spawnProxy(env))
    expect(started._tag).toBe("Left")
    const message = started._tag === "Left" ? started.left.message : ""
    const code = Number(/exited \((\d+)\)/.exec(message)?.[1])
    return { code, stderr: message.replace(/^the proxy exited \(\d+\): /, "") }
  })

describe("start errors", () => {
  it.scopedLive("a port in use: PORT named, EADDRINUSE, exit 1", () =>
    Effect.gen(function*() {
      const taken = Net.createServer()
      yield* Effect.acquireRelease(
        Effect.async<void>((resume) => void taken.listen(0, "127.0.0.1", () => resume(Effect.void))),
        () => Effect.sync(() => taken.close())
      )
      const port = (taken.address() as Net.AddressInfo).port
      const result = yield* failing({ PORT: String(port) })
      expect(result.code).toBe(1)
      expect(result.stderr.trim().split("\n")).toEqual([
        `b24-proxy: PORT: 127.0.0.1:${port} is already in use (EADDRINUSE)`
      ])
    }), 180_000)

  it.scopedLive("an upstream portal out of reach at start: its setting named, exit 1", () =>
    Effect.gen(function*() {
      const result = yield* failing({ B24_WEBHOOK_URL: "http://127.0.0.1:9/rest/1/unreachable-code/" })
      expect(result.code).toBe(1)
      const lines = result.stderr.trim().split("\n")
      expect(lines.length).toBe(1)
      expect(lines[0]).toMatch(/^b24-proxy: B24_WEBHOOK_URL: http:\/\/127\.0\.0\.1:9 is out of reach: /)
      expect(result.stderr).not.toContain("unreachable-code")
    }), 180_000)

  it.scopedLive(
    "Redis out of reach at start: B24_REDIS_URL named with host and port, never its password, exit 1",
    () =>
      Effect.gen(function*() {
        const result = yield* failing({ B24_REDIS_URL: "redis://user:redis-password-1@127.0.0.1:9" })
        expect(result.code).toBe(1)
        const lines = result.stderr.trim().split("\n")
        expect(lines.length).toBe(1)
        expect(lines[0]).toMatch(/^b24-proxy: B24_REDIS_URL: .*127\.0\.0\.1:9/)
        expect(result.stderr).not.toContain("redis-password-1")
      }),
    180_000
  )

  it.scopedLive("a bad limit: the variable named, exit 1", () =>
    Effect.gen(function*() {
      const result = yield* failing({ B24_PROXY_MAX_BODY_BYTES: "lots" })
      expect(result.code).toBe(1)
      expect(result.stderr.trim()).toBe("b24-proxy: B24_PROXY_MAX_BODY_BYTES: expected a positive whole number")
    }), 180_000)
})
