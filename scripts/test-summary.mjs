// Sums the vitest JSON reports written under CI (see vitest.shared.ts) into one line: "tests: N passed, M failed".
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"

const files = ["packages", "apps", "examples"]
  .flatMap((dir) => (existsSync(dir) ? readdirSync(dir).map((name) => join(dir, name, "test-results.json")) : []))
  .filter((file) => existsSync(file))
let passed = 0
let failed = 0
for (const file of files) {
  const report = JSON.parse(readFileSync(file, "utf8"))
  passed += report.numPassedTests
  failed += report.numFailedTests
}
console.log(`tests: ${passed} passed, ${failed} failed`)
process.exit(failed > 0 || passed === 0 ? 1 : 0)
