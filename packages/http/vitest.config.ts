import { defineConfig, mergeConfig } from "vitest/config"
import shared from "../../vitest.shared.js"

// Every run has a real Redis: B24_TEST_REDIS_URL (CI), else a private redis-server (test/redisServer.ts).
export default mergeConfig(shared, defineConfig({ test: { globalSetup: ["test/redisServer.ts"] } }))
