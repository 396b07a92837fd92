/**
 * redis-server processes for the tests: started on a free loopback port without persistence, killed with SIGKILL (the
 * data is gone, as after a crash), started again on the same port. No vitest import: vitest's global setup uses it.
 */
import * as ChildProcess from "node:child_process"
import * as Net from "node:net"

/** A port free on 127.0.0.1 right now. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = Net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as Net.AddressInfo).port
      server.close(() => resolve(port))
    })
  })

/** A running redis-server. */
export interface Server {
  readonly url: string
  readonly port: number
  /** SIGKILL: the data (never saved) is gone. */
  readonly kill: () => Promise<void>
  /** Starts again on the same port, with an empty dataset. */
  readonly start: () => Promise<void>
}

const spawnServer = (port: number): Promise<ChildProcess.ChildProcess> =>
  new Promise((resolve, reject) => {
    const child = ChildProcess.spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      { stdio: ["ignore", "pipe", "pipe"] }
    )
    let output = ""
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`redis-server did not start on port ${port} within 10 s:\n${output}`))
    }, 10_000)
    child.once("error", (error) => {
      clearTimeout(timer)
      reject(
        new Error(
          `cannot run redis-server (${error.message}): install it (apt-get install -y redis-server) ` +
            `or set B24_TEST_REDIS_URL to a Redis the tests may use`
        )
      )
    })
    child.once("exit", (code) => {
      clearTimeout(timer)
      reject(new Error(`redis-server exited with ${code} before it was ready:\n${output}`))
    })
    child.stdout!.on("data", (chunk) => {
      output += String(chunk)
      if (output.includes("Ready to accept connections")) {
        clearTimeout(timer)
        child.removeAllListeners("exit")
        resolve(child)
      }
    })
    child.stderr!.on("data", (chunk) => {
      output += String(chunk)
    })
  })

const killed = (child: ChildProcess.ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => {
      child.once("exit", () => resolve())
      child.kill("SIGKILL")
    })

/** Starts a redis-server on a free loopback port, without persistence. */
export const startServer = async (): Promise<Server> => {
  const port = await freePort()
  let child = await spawnServer(port)
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill: () => killed(child),
    start: async () => {
      child = await spawnServer(port)
    }
  }
}
