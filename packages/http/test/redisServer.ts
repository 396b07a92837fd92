/**
 * vitest's global setup for this package: the Redis every test uses. `B24_TEST_REDIS_URL` when set (CI starts one),
 * else a private redis-server on a free loopback port, stopped when the run ends.
 */
import type { TestProject } from "vitest/node"
import { startServer } from "./redisProcess.js"

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const given = process.env.B24_TEST_REDIS_URL?.trim()
  if (given !== undefined && given.length > 0) {
    project.provide("redisUrl", given)
    return undefined
  }
  const server = await startServer()
  project.provide("redisUrl", server.url)
  return server.kill
}
