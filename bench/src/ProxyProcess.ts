/**
 * Scenario (e)'s `b24-proxy`: its bundle (`apps/proxy/scripts/bundle.mjs`, plain node, as the Dockerfile runs it)
 * in its own process, over HTTPS with the bench's certificate, in front of the loopback emulator: bucket off, one
 * client without a limit, the access log written (to nowhere). Stopped with SIGTERM when the scope closes.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Https from "node:https"
import * as Net from "node:net"
import * as Path from "node:path"
import { BenchError } from "./BenchError.js"

/**
 * The running proxy: the client's inbound-webhook-form URL, and its peak resident memory (Linux `VmHWM`, MB), which
 * `resetPeakRss` starts over.
 *
 * @since 0.1.0
 * @category models
 */
export interface Running {
  readonly clientUrl: string
  readonly peakRssMb: () => number
  readonly resetPeakRss: () => void
}

const secret = "bench-proxy-client-secret"

const freePort = () =>
  Effect.async<number>((resume) => {
    const server = Net.createServer().listen(0, "127.0.0.1", () => {
      const port = (server.address() as Net.AddressInfo).port
      server.close(() => resume(Effect.succeed(port)))
    })
  })

/**
 * Bundles and starts the proxy (see the module docs); answers once `/healthz` answers.
 *
 * @since 0.1.0
 * @category constructors
 */
export const start = (options: {
  readonly bundleDir: string
  readonly upstream: string
  readonly tls: { readonly cert: string; readonly key: string }
  readonly certificate: string
}): Effect.Effect<Running, BenchError, Scope.Scope> =>
  Effect.gen(function*() {
    const script = Path.join(import.meta.dirname, "..", "..", "apps", "proxy", "scripts", "bundle.mjs")
    yield* Effect.try({
      try: () => ChildProcess.execFileSync(process.execPath, [script, "--outdir", options.bundleDir]),
      catch: (cause) => new BenchError({ message: `cannot bundle b24-proxy: ${String(cause)}` })
    })
    Fs.writeFileSync(Path.join(options.bundleDir, "key.pem"), options.tls.key, { mode: 0o600 })
    Fs.writeFileSync(Path.join(options.bundleDir, "cert.pem"), options.tls.cert)
    Fs.writeFileSync(
      Path.join(options.bundleDir, "b24-proxy.yaml"),
      `portals:\n  bench:\n    webhook: { env: BENCH_UPSTREAM }\n    bucket: "off"\n` +
        `clients:\n  - id: 1\n    secret: ${secret}\n    limit: "off"\n`
    )
    const port = yield* freePort()
    const child = yield* Effect.acquireRelease(
      Effect.sync(() =>
        ChildProcess.spawn(process.execPath, [Path.join(options.bundleDir, "b24-proxy.mjs")], {
          cwd: options.bundleDir,
          stdio: ["ignore", "ignore", "inherit"],
          env: {
            ...process.env,
            HOST: "127.0.0.1",
            PORT: String(port),
            B24_PROXY_CONFIG: Path.join(options.bundleDir, "b24-proxy.yaml"),
            BENCH_UPSTREAM: options.upstream,
            B24_PROXY_TLS_CERT: Path.join(options.bundleDir, "cert.pem"),
            B24_PROXY_TLS_KEY: Path.join(options.bundleDir, "key.pem"),
            B24_PROXY_LOG_FORMAT: "json",
            NODE_EXTRA_CA_CERTS: options.certificate
          }
        })
      ),
      (child) =>
        Effect.async<void>((resume) => {
          if (child.exitCode !== null) return resume(Effect.void)
          child.once("exit", () => resume(Effect.void))
          child.kill("SIGTERM")
        })
    )
    const base = `https://127.0.0.1:${port}`
    yield* Effect.tryPromise({
      try: async () => {
        for (let i = 0; i < 300; i++) {
          if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`)
          const ok = await new Promise<boolean>((resolve) =>
            Https.get(`${base}/healthz`, { ca: options.tls.cert }, (response) => {
              response.resume()
              resolve(response.statusCode === 200)
            }).on("error", () => resolve(false))
          )
          if (ok) return
          await new Promise((resolve) => setTimeout(resolve, 100))
        }
        throw new Error("no answer on /healthz within 30 s")
      },
      catch: (cause) => new BenchError({ message: `b24-proxy did not start: ${String(cause)}` })
    })
    const status = () => {
      try {
        return Fs.readFileSync(`/proc/${child.pid}/status`, "utf8")
      } catch {
        return ""
      }
    }
    return {
      clientUrl: `${base}/rest/1/${secret}/`,
      peakRssMb: () => Math.round(Number(/VmHWM:\s+(\d+)/.exec(status())?.[1] ?? 0) / 102.4) / 10,
      resetPeakRss: () => {
        try {
          Fs.writeFileSync(`/proc/${child.pid}/clear_refs`, "5")
        } catch {
          // not Linux: the peak since start
        }
      }
    }
  })
