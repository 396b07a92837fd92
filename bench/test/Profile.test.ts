/**
 * The profile summary on a made-up profile and bundle: only samples inside the window count, idle time is left out,
 * functions are placed in the module esbuild's path comments name, and self time adds up by package.
 */
import { describe, it } from "@effect/vitest"
import { deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Profile from "../src/Profile.js"

const bundle = [
  "import { createRequire } from \"node:module\"",
  "// ../node_modules/.pnpm/effect@3.22.4/node_modules/effect/dist/esm/internal/fiberRuntime.js",
  "function runLoop() {}",
  "// ../node_modules/.pnpm/@effect+platform@0.97.2/node_modules/@effect/platform/dist/esm/HttpClient.js",
  "function execute() {}",
  "// ../packages/http/src/Batch.ts",
  "function sendChunk() {}",
  "// src/ClientOurs.ts",
  "main()"
].join("\n")

const url = "file:///bench/build/clients/ClientOurs.mjs"
const lines = Profile.moduleLines(bundle)
const moduleOf = (_: string, line: number) => lines(line)

const frame = (functionName: string, lineNumber: number, script = url) => ({ functionName, url: script, lineNumber })

const profile: Profile.CpuProfile = {
  startTime: 1_000,
  nodes: [
    { id: 1, callFrame: frame("runLoop", 2) },
    { id: 2, callFrame: frame("execute", 4) },
    { id: 3, callFrame: frame("sendChunk", 6) },
    { id: 4, callFrame: frame("(idle)", -1, "") },
    { id: 5, callFrame: frame("(garbage collector)", -1, "") },
    { id: 6, callFrame: frame("writev", -1, "") },
    { id: 7, callFrame: frame("", 8) }
  ],
  // Sample times: 1100 (before the window), then 2000..2600 every 100 µs, then 9000 (after it).
  samples: [1, 1, 1, 2, 4, 3, 5, 6, 7, 1],
  timeDeltas: [100, 900, 100, 100, 100, 100, 100, 100, 100, 6400]
}

describe("Profile.moduleLines", () => {
  it("places each line in the module of the nearest path comment above it", () => {
    strictEqual(lines(0), "(bundle)")
    strictEqual(lines(2), "effect/dist/esm/internal/fiberRuntime.js")
    strictEqual(lines(4), "@effect/platform/dist/esm/HttpClient.js")
    strictEqual(lines(6), "packages/http/src/Batch.ts")
    strictEqual(lines(8), "src/ClientOurs.ts")
  })
})

describe("Profile.summarize", () => {
  it("sums self time inside the window, without idle samples, most first", () => {
    const entries = Profile.summarize(profile, { startMicros: 2_000, endMicros: 2_600 }, moduleOf)
    deepStrictEqual(
      entries.map((entry) => [entry.functionName, entry.module, entry.selfMs]),
      [
        ["runLoop", "effect/dist/esm/internal/fiberRuntime.js", 0.9 + 0.1],
        ["execute", "@effect/platform/dist/esm/HttpClient.js", 0.1],
        ["sendChunk", "packages/http/src/Batch.ts", 0.1],
        ["(garbage collector)", "", 0.1],
        ["writev", "", 0.1]
      ]
    )
    strictEqual(entries[0]!.share, 1.0 / 1.4)
  })

  it("keeps the top entries only when asked", () => {
    strictEqual(Profile.summarize(profile, { startMicros: 0, endMicros: 10_000 }, moduleOf, 2).length, 2)
  })
})

describe("Profile.byPackage", () => {
  it("adds self time up by npm package, workspace folder and V8's own names", () => {
    const entries = Profile.summarize(profile, { startMicros: 0, endMicros: 10_000 }, moduleOf)
    deepStrictEqual(
      Profile.byPackage(entries).map((entry) => [entry.module, Number(entry.selfMs.toFixed(1))]),
      [
        ["effect", 0.1 + 0.9 + 0.1 + 6.4],
        ["@effect/platform", 0.1],
        ["packages/http", 0.1],
        ["(garbage collector)", 0.1],
        ["(native)", 0.1],
        ["bench", 0.1]
      ]
    )
  })
})
