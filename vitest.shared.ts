import type { ViteUserConfig } from "vitest/config"

/**
 * Settings every package's vitest.config.ts starts from. Under CI each package also writes a JSON report
 * (test-results.json) that .ci/run sums up.
 */
const config: ViteUserConfig = {
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: [new URL("./vitest.setup.ts", import.meta.url).pathname],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: process.env.CI ? ["default", "json"] : ["default"],
    ...(process.env.CI ? { outputFile: { json: "test-results.json" } } : {})
  }
}

export default config
