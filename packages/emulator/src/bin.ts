#!/usr/bin/env -S npx tsx
/**
 * `pnpm emulator`: serves the emulated portal on 127.0.0.1:8090 (`PORT` and `HOST` override; `--fixture FILE`
 * loads a portal from JSON) and prints its inbound webhook URL and an OAuth access token, so both curl forms of the
 * documentation can be tried.
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Fs from "node:fs"
import { parseArgs } from "node:util"
import * as Emulator from "./Emulator.js"

const program = Effect.gen(function*() {
  const { values } = parseArgs({ options: { fixture: { type: "string" } }, allowPositionals: false })
  const port = yield* Config.integer("PORT").pipe(Config.withDefault(8090))
  const host = yield* Config.string("HOST").pipe(Config.withDefault("127.0.0.1"))
  const fixture = values.fixture === undefined
    ? undefined
    : yield* Effect.try(() => JSON.parse(Fs.readFileSync(values.fixture!, "utf8")))
  const emulator = yield* Emulator.make({ port, host, fixture })
  const webhook = Redacted.value(emulator.webhookUrl)
  yield* Console.log(
    [
      `Bitrix24 emulator listening on ${emulator.url}`,
      `  inbound webhook (user 1):       ${webhook}`,
      `  OAuth access token (1 hour):    ${
        Redacted.value(emulator.accessToken)
      }   (POST to ${emulator.url}/rest/<method> with "auth")`,
      ``,
      `  try: curl -X POST -H "Content-Type: application/json" -d '{"CHAT_ID":2043,"ACTIVATE":"Y"}' \\`,
      `         ${webhook}imopenlines.session.mode.silent.json`
    ].join("\n")
  )
  return yield* Effect.never
})

NodeRuntime.runMain(Effect.scoped(program))
