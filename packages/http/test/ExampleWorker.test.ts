/**
 * The README's scale-out example is packages/http/examples/worker.ts, verbatim, and it runs as written: three of it
 * at once, as separate processes against one portal (the emulator) and one Redis, stay inside the portal's bucket.
 */
import { Emulator } from "@bitrix24-effect/emulator"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { limitErrors } from "./emulated.js"
import { redisUrl, uniquePrefix } from "./redis.js"

const root = Path.join(import.meta.dirname, "..", "..", "..")
const file = Path.join(import.meta.dirname, "..", "examples", "worker.ts")

const run = (env: Record<string, string>) =>
  Effect.async<string, Error>((resume) => {
    ChildProcess.execFile(
      Path.join(import.meta.dirname, "..", "node_modules", ".bin", "tsx"),
      [file],
      { env: { ...process.env, ...env } },
      (error, stdout, stderr) =>
        resume(error === null ? Effect.succeed(stdout) : Effect.fail(new Error(`${error.message}\n${stderr}`)))
    )
  })

describe("README scale-out example", () => {
  it("is the example file, verbatim", () => {
    const readme = Fs.readFileSync(Path.join(root, "README.md"), "utf8")
    const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1])
    expect(blocks).toContain(Fs.readFileSync(file, "utf8"))
  })

  it.scopedLive(
    "three workers at once share the bucket through Redis: every call succeeds, no 503 on the wire",
    () =>
      Effect.gen(function*() {
        const bucket = { size: 20, drainPerSecond: 10 }
        const emulator = yield* Emulator.make({ limits: { bucket } })
        const env = {
          B24_WEBHOOK_URL: Redacted.value(emulator.webhookUrl),
          B24_REDIS_URL: Redacted.value(redisUrl()),
          B24_REDIS_PREFIX: uniquePrefix(),
          B24_BUCKET: "20/10",
          CALLS: "20"
        }
        const outputs = yield* Effect.all([run(env), run(env), run(env)], { concurrency: "unbounded" })
        for (const output of outputs) expect(output).toMatch(/^worker \d+: 20 of 20 calls succeeded in [\d.]+ s\n$/)
        expect(limitErrors(emulator)).toEqual([])
        expect(emulator.journal.length).toBe(60)
      }),
    120_000
  )
})
