/**
 * `pnpm start` as a real process: the bridge comes up on its embedded emulator in one command, and a customer's
 * message answered through the demo operator reaches the customer's inbox.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as ChildProcess from "node:child_process"
import * as Path from "node:path"

const post = (url: string, body: unknown) =>
  Effect.promise(() =>
    fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
      .then((response) => response.status)
  )

describe("pnpm start", () => {
  it.live(
    "serves the bridge on an embedded emulator; a customer gets the operator's answer",
    () =>
      Effect.acquireUseRelease(
        Effect.sync(() =>
          ChildProcess.spawn(
            Path.join(import.meta.dirname, "..", "node_modules", ".bin", "tsx"),
            [Path.join(import.meta.dirname, "..", "src", "main.ts")],
            { env: { ...process.env, PORT: "0" } }
          )
        ),
        (child) =>
          Effect.gen(function*() {
            const url = yield* Effect.async<string>((resume) => {
              let out = ""
              child.stdout.on("data", (chunk) => {
                out += String(chunk)
                const found = /connector bridge on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)
                if (found !== null) resume(Effect.succeed(found[1]!))
              })
            }).pipe(Effect.timeout("60 seconds"), Effect.orDie)
            const customer = { user: "bob", chat: "room-2", id: "b-1", text: "Is anyone there?" }
            expect(yield* post(`${url}/chat/send`, customer)).toBe(202)
            expect(yield* post(`${url}/operator/reply`, { chat: "room-2", text: "Yes, hello Bob" })).toBe(201)
            let inbox: any = { entries: [] }
            for (let i = 0; i < 200 && inbox.entries.length === 0; i++) {
              yield* Effect.sleep("10 millis")
              inbox = yield* Effect.promise(() => fetch(`${url}/chat/inbox?chat=room-2`).then((r) => r.json()))
            }
            expect(inbox.entries.map((e: any) => e.type)).toEqual(["message"])
            expect(inbox.entries[0].text).toContain("Yes, hello Bob")
          }),
        (child) => Effect.sync(() => child.kill())
      ),
    90_000
  )
})
