/**
 * Real Redis for the tests, never a mock: the server CI starts (`B24_TEST_REDIS_URL`), else a private
 * `redis-server` this package's test run starts on a free loopback port (test/redisServer.ts, vitest's global setup),
 * so the suite runs wherever redis-server is installed and never shares a server with another work tree. Tests that
 * stop or restart Redis start one of their own ({@link privateServer}). Each test works under its own key prefix.
 */
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { Redis } from "ioredis"
import * as Crypto from "node:crypto"
import { inject } from "vitest"
import { type Server, startServer } from "./redisProcess.js"

declare module "vitest" {
  export interface ProvidedContext {
    readonly redisUrl: string
  }
}

/** The Redis server of this test run. */
export const redisUrl = (): Redacted.Redacted<string> => Redacted.make(inject("redisUrl"))

export { freePort, type Server } from "./redisProcess.js"

/** A key prefix no other test uses. */
export const uniquePrefix = (): string => `test:${Crypto.randomUUID()}:`

/** A private redis-server for one test, killed when its scope closes. */
export const privateServer: Effect.Effect<Server, never, Scope.Scope> = Effect.acquireRelease(
  Effect.promise(startServer),
  (server) => Effect.promise(server.kill)
)

/** A plain client on a server, for looking at what the stores wrote; closed with the scope. */
export const rawClient = (url: Redacted.Redacted<string>): Effect.Effect<Redis, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => new Redis(Redacted.value(url), { maxRetriesPerRequest: 1 })),
    (client) => Effect.promise(() => client.quit().catch(() => client.disconnect()))
  )

/** Every key under `prefix` with its contents (hashes as objects, strings as they are). */
export const dump = (client: Redis, prefix: string) =>
  Effect.promise(async () => {
    const keys = await client.keys(`${prefix}*`)
    const entries: Array<readonly [string, unknown]> = []
    for (const key of keys.sort()) {
      const type = await client.type(key)
      entries.push([key, type === "hash" ? await client.hgetall(key) : await client.get(key)])
    }
    return entries
  })
