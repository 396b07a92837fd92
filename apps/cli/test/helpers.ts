/**
 * Test support for b24: running the command line in-process and capturing what it prints.
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Cli from "../src/Cli.js"

/** Runs `b24 ...args` in-process, capturing what it prints. */
export const b24 = (...args: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const out: Array<string> = []
    const err: Array<string> = []
    const console = new Proxy({} as Console.Console, {
      get: (_target, key) => {
        if (key === Console.TypeId) return Console.TypeId
        if (key === "log") return (...xs: ReadonlyArray<unknown>) => Effect.sync(() => out.push(xs.join(" ")))
        if (key === "error") return (...xs: ReadonlyArray<unknown>) => Effect.sync(() => err.push(xs.join(" ")))
        if (key === "unsafe") return globalThis.console
        return () => Effect.void
      }
    })
    const code = yield* Cli.main(["node", "b24", ...args]).pipe(Effect.withConsole(console))
    return { code, stdout: out.join("\n"), stderr: err.join("\n") }
  })
