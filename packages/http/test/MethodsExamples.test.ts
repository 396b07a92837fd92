/**
 * Every declared method's `example` through the typed library, each on a fresh emulator called by the default
 * inbound webhook (user 1), or, for the methods that need an application (`auth: "application"`), by the default
 * application's OAuth token for user 1, over real HTTP: the call succeeds, the result decodes with the method's result schema,
 * and the portal ran exactly that method once (names compared case-insensitively, as the portal does, wire sheet
 * §1.1).
 */
import { type Bitrix24Client, Catalog } from "@bitrix24-effect/core"
import { describe, it } from "@effect/vitest"
import { assertTrue, deepStrictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { withPortal } from "./MethodsHelpers.js"

describe("each catalog example runs on a fresh default portal as user 1", () => {
  for (const method of Catalog.methods) {
    it.effect(`${method.method} ${JSON.stringify(method.example)}`, () =>
      withPortal(({ as, asApplication, emulator }) =>
        Effect.gen(function*() {
          const call = method.withResponse(method.example)
          const response = method.auth === "application"
            ? yield* Effect.provide(call, asApplication())
            // the other methods need only the client (Method.Requirements)
            : yield* Effect.provide(
              call as Effect.Effect<Bitrix24Client.CallResponse, unknown, Bitrix24Client.Bitrix24Client>,
              as()
            )
          assertTrue(Option.isSome(response.time))
          // the decoded result encodes back to a value the schema accepts again
          const wire = Schema.encodeUnknownSync(method.result)(response.result)
          deepStrictEqual(Schema.decodeUnknownSync(method.result)(wire), response.result)
          deepStrictEqual(
            emulator.journal.map((entry) => [entry.method.toLowerCase(), entry.status, entry.executed]),
            [[method.method.toLowerCase(), 200, true]]
          )
        })
      ))
  }
})
