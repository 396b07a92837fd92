import { describe, it } from "@effect/vitest"
import { assertInstanceOf, assertSome, assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Bitrix24Client from "../src/Bitrix24Client.js"
import * as ImChat from "../src/ImChat.js"
import * as ImConnector from "../src/ImConnector.js"
import * as ImOpenLines from "../src/ImOpenLines.js"
import * as Method from "../src/Method.js"
import * as PortalError from "../src/PortalError.js"
import * as Wire from "../src/Wire.js"

const time: Wire.Time = {
  start: 1773678966,
  finish: 1773678966.767325,
  duration: 0.7673249244689941,
  processing: 0,
  date_start: "2026-03-16T19:36:06+01:00",
  date_finish: "2026-03-16T19:36:06+01:00",
  operating_reset_at: 1773679566,
  operating: 0
}

const success = (result: unknown): Bitrix24Client.CallResponse => ({
  result,
  time: Option.some(time),
  next: Option.none(),
  total: Option.none()
})

type Answer = (
  request: Bitrix24Client.CallRequest
) => Effect.Effect<Bitrix24Client.CallResponse, Bitrix24Client.WireFailure | PortalError.TransportError>

/** A tiny in-memory transport that records every call it receives. */
const recordingClient = (answer: Answer = () => Effect.succeed(success(true))) => {
  const calls: Array<Bitrix24Client.CallRequest> = []
  const layer = Layer.succeed(Bitrix24Client.Bitrix24Client, {
    call: (request) =>
      Effect.suspend(() => {
        calls.push(request)
        return answer(request)
      })
  })
  return { calls, layer }
}

describe("encodeParams: validation and wire encoding before any I/O", () => {
  it("encodes flags as Y/N and IDs as JSON numbers", () =>
    Effect.gen(function*() {
      deepStrictEqual(yield* ImOpenLines.sessionModeSilent.encodeParams({ CHAT_ID: 2043, ACTIVATE: true }), {
        CHAT_ID: 2043,
        ACTIVATE: "Y"
      })
      deepStrictEqual(yield* ImOpenLines.sessionModeSilent.encodeParams({ CHAT_ID: 2043, ACTIVATE: false }), {
        CHAT_ID: 2043,
        ACTIVATE: "N"
      })
      deepStrictEqual(yield* ImOpenLines.sessionModePin.encodeParams({ CHAT_ID: 2024 }), { CHAT_ID: 2024 })
      deepStrictEqual(yield* ImChat.mute.encodeParams({ DIALOG_ID: "chat1489", MUTE: false }), {
        DIALOG_ID: "chat1489",
        MUTE: "N"
      })
    }).pipe(Effect.runSync))

  it("names a missing field and flags it as missing", () => {
    const error = Effect.runSync(Effect.flip(ImOpenLines.sessionModeSilent.encodeParams({} as any)))
    assertInstanceOf(error, PortalError.InvalidParams)
    strictEqual(error.method, "imopenlines.session.mode.silent")
    strictEqual(error.field, "CHAT_ID")
    strictEqual(error.missing, true)
  })

  it("names an invalid field and flags it as present", () => {
    for (const CHAT_ID of [0, -1, 1.5]) {
      const error = Effect.runSync(Effect.flip(ImOpenLines.sessionStart.encodeParams({ CHAT_ID })))
      strictEqual(error.field, "CHAT_ID")
      strictEqual(error.missing, false)
      strictEqual(error.method, "imopenlines.session.start")
    }
    const flag = Effect.runSync(
      Effect.flip(ImOpenLines.sessionModeSilent.encodeParams({ CHAT_ID: 2043, ACTIVATE: "Y" as any }))
    )
    strictEqual(flag.field, "ACTIVATE")
    strictEqual(flag.missing, false)
  })

  it("im.chat.mute needs CHAT_ID or DIALOG_ID (seeds/003)", () => {
    const error = Effect.runSync(Effect.flip(ImChat.mute.encodeParams({ MUTE: true })))
    strictEqual(error.method, "im.chat.mute")
    strictEqual(error.field, "CHAT_ID")
    strictEqual(error.reason, "one of CHAT_ID or DIALOG_ID is required")
    deepStrictEqual(Effect.runSync(ImChat.mute.encodeParams({ CHAT_ID: 1489 })), { CHAT_ID: 1489 })
    deepStrictEqual(Effect.runSync(ImChat.mute.encodeParams({ DIALOG_ID: "sg7" })), { DIALOG_ID: "sg7" })
  })

  it("rejects a malformed DIALOG_ID", () => {
    const error = Effect.runSync(Effect.flip(ImChat.mute.encodeParams({ DIALOG_ID: "bad" })))
    strictEqual(error.field, "DIALOG_ID")
    strictEqual(error.reason, "must be chat<N>, sg<N> or a user ID")
  })
})

describe("decodeParams: untyped wire params (form strings, CLI, proxy)", () => {
  it("reads decimal strings and Y/N strings", () => {
    deepStrictEqual(
      Effect.runSync(ImOpenLines.sessionModeSilent.decodeParams({ CHAT_ID: "2043", ACTIVATE: "Y" })),
      { CHAT_ID: 2043, ACTIVATE: true }
    )
    deepStrictEqual(
      Effect.runSync(ImChat.mute.decodeParams({ DIALOG_ID: 5, MUTE: "N" })),
      { DIALOG_ID: "5", MUTE: false }
    )
    deepStrictEqual(Effect.runSync(ImOpenLines.sessionStart.decodeParams({ CHAT_ID: 494 })), { CHAT_ID: 494 })
  })

  it("rejects JSON booleans for Y/N flags (wire sheet §1.3)", () => {
    const error = Effect.runSync(
      Effect.flip(ImOpenLines.sessionModePin.decodeParams({ CHAT_ID: 2024, ACTIVATE: false }))
    )
    strictEqual(error.field, "ACTIVATE")
  })

  it("reports a missing CHAT_ID as missing", () => {
    const error = Effect.runSync(Effect.flip(ImOpenLines.sessionModePin.decodeParams({})))
    strictEqual(error.field, "CHAT_ID")
    strictEqual(error.missing, true)
  })
})

describe("decodeParams: hostile input fails with InvalidParams, never with a defect", () => {
  const nested = (levels: number): unknown => {
    let value: unknown = 1
    for (let i = 0; i < levels; i++) value = [value]
    return value
  }

  it("refuses params nested deeper than Wire.maxDepth before decoding, naming the field", () => {
    for (const levels of [5_000, 200_000, Wire.maxDepth]) {
      const exit = Effect.runSyncExit(ImChat.mute.decodeParams({ MUTE: "Y", CHAT_ID: nested(levels) }))
      assertTrue(Exit.isFailure(exit) && Cause.isFailType(exit.cause), `a typed failure at ${levels} levels`)
      const error = Effect.runSync(Effect.flip(ImChat.mute.decodeParams({ CHAT_ID: nested(levels) })))
      strictEqual(error._tag, "InvalidParams")
      strictEqual(error.field, "CHAT_ID")
      strictEqual(error.reason, `nested deeper than ${Wire.maxDepth} levels`)
    }
    // An undeclared param is refused too: nothing deeper than the limit gets past decodeParams.
    strictEqual(Effect.runSync(Effect.flip(ImChat.mute.decodeParams({ CHAT_ID: 1, x: nested(5_000) }))).field, "x")
  })

  it("decodes up to the limit: a value just inside it fails on its type, with a short reason", () => {
    const error = Effect.runSync(Effect.flip(ImChat.mute.decodeParams({ CHAT_ID: nested(Wire.maxDepth - 1) })))
    strictEqual(error.field, "CHAT_ID")
    assertTrue(error.reason.startsWith("Expected "), error.reason.slice(0, 80))
    assertTrue(error.reason.length < 600, `reason of ${error.reason.length} characters`)
  })

  it("never quotes a huge value in full, in the reason or the message", () => {
    const huge = "9".repeat(100_000) + "x"
    const error = Effect.runSync(Effect.flip(ImOpenLines.sessionModePin.decodeParams({ CHAT_ID: huge })))
    strictEqual(error.field, "CHAT_ID")
    assertTrue(error.reason.length < 600, `reason of ${error.reason.length} characters`)
    assertTrue(error.message.length < 700, `message of ${error.message.length} characters`)
  })

  it("refuses a cyclic value as too deep", () => {
    const cycle: Array<unknown> = []
    cycle.push(cycle)
    strictEqual(Effect.runSync(Effect.flip(ImChat.mute.decodeParams({ CHAT_ID: cycle }))).field, "CHAT_ID")
  })
})

describe("paramsOf: what the CLI and the reference docs show", () => {
  const summary = (method: Method.Any) =>
    Method.paramsOf(method).map(({ default: fallback, kind, name, required }) => ({ name, kind, required, fallback }))

  it("imopenlines.session.mode.silent: ACTIVATE defaults to N (seeds/000)", () => {
    deepStrictEqual(summary(ImOpenLines.sessionModeSilent), [
      { name: "CHAT_ID", kind: "integer", required: true, fallback: undefined },
      { name: "ACTIVATE", kind: "flag", required: false, fallback: "N" }
    ])
  })

  it("imopenlines.session.mode.pin: ACTIVATE defaults to Y (new page, wire sheet §6.2)", () => {
    deepStrictEqual(summary(ImOpenLines.sessionModePin), [
      { name: "CHAT_ID", kind: "integer", required: true, fallback: undefined },
      { name: "ACTIVATE", kind: "flag", required: false, fallback: "Y" }
    ])
  })

  it("imopenlines.session.start: CHAT_ID only (seeds/004)", () => {
    deepStrictEqual(summary(ImOpenLines.sessionStart), [
      { name: "CHAT_ID", kind: "integer", required: true, fallback: undefined }
    ])
  })

  it("im.chat.mute: CHAT_ID or DIALOG_ID, MUTE defaults to Y (seeds/003)", () => {
    deepStrictEqual(summary(ImChat.mute), [
      { name: "CHAT_ID", kind: "integer", required: false, fallback: undefined },
      { name: "DIALOG_ID", kind: "text", required: false, fallback: undefined },
      { name: "MUTE", kind: "flag", required: false, fallback: "Y" }
    ])
  })

  it("carries the descriptions", () => {
    for (const method of [ImOpenLines.sessionModeSilent, ImOpenLines.sessionModePin, ImChat.mute]) {
      for (const param of Method.paramsOf(method)) {
        assertTrue(param.description.length > 0, `${method.method} ${param.name}`)
      }
    }
    strictEqual(Method.paramsOf(ImChat.mute)[2]?.description, "Y disables notifications, N enables them")
  })
})

describe("invalidParamsToWire: the envelope the portal itself sends for bad input", () => {
  const answer = (method: Method.Any, params: unknown) =>
    Method.invalidParamsToWire(method, Effect.runSync(Effect.flip(method.decodeParams(params))))

  it("im.chat.mute without CHAT_ID or DIALOG_ID -> CHAT_ID_EMPTY 400 (seeds/003)", () => {
    deepStrictEqual(answer(ImChat.mute, {}), {
      status: 400,
      body: { error: "CHAT_ID_EMPTY", error_description: "Chat ID can't be empty" }
    })
    deepStrictEqual(answer(ImChat.mute, { CHAT_ID: "abc" }), {
      status: 400,
      body: { error: "CHAT_ID_EMPTY", error_description: "Chat ID can't be empty" }
    })
  })

  it("im.chat.mute with DIALOG_ID \"bad\" -> DIALOG_ID_EMPTY 400 (seeds/003)", () => {
    deepStrictEqual(answer(ImChat.mute, { DIALOG_ID: "bad" }), {
      status: 400,
      body: { error: "DIALOG_ID_EMPTY", error_description: "Dialog ID can't be empty" }
    })
  })

  it("imopenlines.session.mode.pin without CHAT_ID -> CHAT_ID_EMPTY, with a bad one -> CHAT_ID (wire sheet §6.2)", () => {
    deepStrictEqual(answer(ImOpenLines.sessionModePin, {}), {
      status: 400,
      body: { error: "CHAT_ID_EMPTY", error_description: "Chat ID can't be empty" }
    })
    deepStrictEqual(answer(ImOpenLines.sessionModePin, { CHAT_ID: -1 }), {
      status: 400,
      body: { error: "CHAT_ID", error_description: "Chat ID is incorrect" }
    })
  })

  it("imopenlines.session.mode.silent with CHAT_ID -1 -> CHAT_ID (seeds/001)", () => {
    deepStrictEqual(answer(ImOpenLines.sessionModeSilent, { CHAT_ID: -1 }), {
      status: 400,
      body: { error: "CHAT_ID", error_description: "Chat ID is incorrect" }
    })
  })

  it("a field without a documented error -> ERROR_ARGUMENT with the argument key (wire sheet §1.5)", () => {
    const error = Effect.runSync(
      Effect.flip(ImOpenLines.sessionModeSilent.decodeParams({ CHAT_ID: 2043, ACTIVATE: "yes" }))
    )
    deepStrictEqual(Method.invalidParamsToWire(ImOpenLines.sessionModeSilent, error), {
      status: 400,
      body: { error: "ERROR_ARGUMENT", error_description: error.reason, argument: "ACTIVATE" }
    })
  })
})

describe("calling a method through the Bitrix24Client seam", () => {
  it.effect("sends the wire-encoded params with the method's idempotency and returns the decoded result", () =>
    Effect.gen(function*() {
      const client = recordingClient()
      const result = yield* ImOpenLines.sessionModeSilent({ CHAT_ID: 2043, ACTIVATE: true }).pipe(
        Effect.provide(client.layer)
      )
      strictEqual(result, true)
      deepStrictEqual(client.calls, [{
        method: "imopenlines.session.mode.silent",
        params: { CHAT_ID: 2043, ACTIVATE: "Y" },
        idempotent: true,
        batchable: true
      }])
      yield* ImOpenLines.sessionStart({ CHAT_ID: 494 }).pipe(Effect.provide(client.layer))
      strictEqual(client.calls[1]?.idempotent, false)
    }))

  it.effect("a validation failure makes zero calls", () =>
    Effect.gen(function*() {
      const client = recordingClient()
      const invalid = yield* Effect.flip(
        ImOpenLines.sessionModeSilent({ CHAT_ID: 0 }).pipe(Effect.provide(client.layer))
      )
      assertInstanceOf(invalid, PortalError.InvalidParams)
      const missing = yield* Effect.flip(ImChat.mute({}).pipe(Effect.provide(client.layer)))
      assertInstanceOf(missing, PortalError.InvalidParams)
      const fromWire = yield* Effect.flip(ImOpenLines.sessionModePin.fromWire({ CHAT_ID: "abc" })).pipe(
        Effect.provide(client.layer)
      )
      assertInstanceOf(fromWire, PortalError.InvalidParams)
      strictEqual(client.calls.length, 0)
    }))

  it.effect("a result that does not match the result schema is TransportError UnexpectedResult", () =>
    Effect.gen(function*() {
      const client = recordingClient(() => Effect.succeed(success({ unexpected: "shape" })))
      const error = yield* Effect.flip(ImChat.mute({ CHAT_ID: 1489 }).pipe(Effect.provide(client.layer)))
      assertInstanceOf(error, PortalError.TransportError)
      strictEqual(error.reason, "UnexpectedResult")
      strictEqual(error.method, "im.chat.mute")
      strictEqual(client.calls.length, 1)
    }))

  it.effect("a result nested too deeply is UnexpectedResult too, described without quoting it", () =>
    Effect.gen(function*() {
      let deep: unknown = "x"
      for (let i = 0; i < 100_000; i++) deep = [deep]
      const client = recordingClient(() => Effect.succeed(success(deep)))
      const error = yield* Effect.flip(ImChat.mute({ CHAT_ID: 1489 }).pipe(Effect.provide(client.layer)))
      assertInstanceOf(error, PortalError.TransportError)
      strictEqual(error.reason, "UnexpectedResult")
      strictEqual(error.description, `the result is nested deeper than ${Wire.maxDepth} levels`)
    }))

  it("unexpectedResult clips a long description (it quotes the result)", () => {
    const result = { chatId: "x".repeat(100_000) }
    const parsed = Schema.decodeUnknownEither(Schema.Struct({ chatId: Schema.Number }))(result)
    assertTrue(Either.isLeft(parsed))
    const error = Method.unexpectedResult("imopenlines.session.open", parsed.left, result)
    strictEqual(error.reason, "UnexpectedResult")
    assertTrue(error.description.length < 600, `description of ${error.description.length} characters`)
  })

  it.effect("a wire failure becomes the method's typed error", () =>
    Effect.gen(function*() {
      const client = recordingClient(() =>
        Effect.fail(
          new Bitrix24Client.WireFailure({
            code: "CHAT_TYPE",
            description: "This chat is not Open Channel",
            status: 400
          })
        )
      )
      const error = yield* Effect.flip(ImOpenLines.sessionStart({ CHAT_ID: 1489 }).pipe(Effect.provide(client.layer)))
      assertInstanceOf(error, PortalError.ChatTypeInvalid)
      strictEqual(error.method, "imopenlines.session.start")
      strictEqual(error.status, 400)
    }))

  it.effect("a transport error passes through unchanged", () =>
    Effect.gen(function*() {
      const failure = new PortalError.TransportError({ method: "im.chat.mute", reason: "Network", description: "x" })
      const client = recordingClient(() => Effect.fail(failure))
      const error = yield* Effect.flip(ImChat.mute({ CHAT_ID: 1489 }).pipe(Effect.provide(client.layer)))
      assertInstanceOf(error, PortalError.TransportError)
      deepStrictEqual(
        { method: error.method, reason: error.reason, description: error.description },
        { method: "im.chat.mute", reason: "Network", description: "x" }
      )
    }))

  it.effect("withResponse keeps the time block", () =>
    Effect.gen(function*() {
      const client = recordingClient()
      const response = yield* ImOpenLines.sessionModePin.withResponse({ CHAT_ID: 2024 }).pipe(
        Effect.provide(client.layer)
      )
      strictEqual(response.result, true)
      assertSome(response.time, time)
    }))

  it.effect("fromWire decodes wire strings, then sends the canonical wire form", () =>
    Effect.gen(function*() {
      const client = recordingClient()
      const response = yield* ImOpenLines.sessionModeSilent.fromWire({ CHAT_ID: "2043", ACTIVATE: "Y" }).pipe(
        Effect.provide(client.layer)
      )
      strictEqual(response.result, true)
      deepStrictEqual(client.calls[0]?.params, { CHAT_ID: 2043, ACTIVATE: "Y" })
    }))

  it.effect("callRaw sends params as given and types only system codes", () =>
    Effect.gen(function*() {
      const client = recordingClient((request) =>
        request.method === "busy.method"
          ? Effect.fail(
            new Bitrix24Client.WireFailure({
              code: "QUERY_LIMIT_EXCEEDED",
              description: "Too many requests",
              status: 503
            })
          )
          : Effect.fail(
            new Bitrix24Client.WireFailure({ code: "CHAT_ID", description: "Chat ID is incorrect", status: 400 })
          )
      )
      const limit = yield* Effect.flip(Bitrix24Client.callRaw("busy.method", { a: 1 })).pipe(
        Effect.provide(client.layer)
      )
      assertInstanceOf(limit, PortalError.QueryLimitExceeded)
      const unknown = yield* Effect.flip(Bitrix24Client.callRaw("imopenlines.session.start", { CHAT_ID: "x" })).pipe(
        Effect.provide(client.layer)
      )
      assertInstanceOf(unknown, PortalError.UnknownPortalError)
      strictEqual(unknown.code, "CHAT_ID")
      deepStrictEqual(client.calls, [
        { method: "busy.method", params: { a: 1 }, idempotent: false, batchable: false },
        { method: "imopenlines.session.start", params: { CHAT_ID: "x" }, idempotent: false, batchable: false }
      ])
    }))
})

describe("isMethod: picking declarations out of a module", () => {
  it("is true for a declaration and false for anything else in a declaring module", () => {
    assertTrue(Method.isMethod(ImChat.mute))
    assertTrue(Method.isMethod(ImOpenLines.sessionModeSilent))
    for (const other of [ImOpenLines.accessErrors, ImOpenLines.Dialog, () => 1, { method: "im.chat.mute" }, null]) {
      strictEqual(Method.isMethod(other), false)
    }
  })
})

describe("CLI naming derived from a declaration", () => {
  it("kebab-cases wire and method names", () => {
    strictEqual(Method.kebab("CHAT_ID"), "chat-id")
    strictEqual(Method.kebab("pinAll"), "pin-all")
    strictEqual(Method.kebab("DIALOG_ID"), "dialog-id")
  })

  it("splits the method name into the subcommand path", () => {
    deepStrictEqual(Method.commandPath(ImOpenLines.sessionModeSilent), ["imopenlines", "session", "mode", "silent"])
    deepStrictEqual(Method.commandPath(ImChat.mute), ["im", "chat", "mute"])
  })

  it("writes typed params as CLI arguments, a false flag as --no-<flag>", () => {
    deepStrictEqual(Method.commandArgs(ImOpenLines.sessionModeSilent, { CHAT_ID: 2043, ACTIVATE: true }), [
      "--chat-id",
      "2043",
      "--activate"
    ])
    deepStrictEqual(Method.commandArgs(ImOpenLines.sessionModePin, { CHAT_ID: 2024, ACTIVATE: false }), [
      "--chat-id",
      "2024",
      "--no-activate"
    ])
    deepStrictEqual(Method.commandArgs(ImChat.mute, { DIALOG_ID: "sg7" }), ["--dialog-id", "sg7"])
  })
})

describe("result-embedded failures and application methods", () => {
  const application = Layer.succeed(Bitrix24Client.ApplicationAuth, { portal: "https://example.bitrix24.com" })

  it.effect("a failure reported inside HTTP 200 is the method's typed error, with the class's status", () =>
    Effect.gen(function*() {
      const client = recordingClient(() =>
        Effect.succeed(success({
          result: false,
          error: "APPLICATION_REGISTRATION_ERROR",
          error_description: "Connector registration failed"
        }))
      )
      const error = yield* Effect.flip(
        ImConnector.register(ImConnector.register.example).pipe(
          Effect.provide(client.layer),
          Effect.provide(application)
        )
      )
      assertInstanceOf(error, PortalError.ApplicationRegistrationError)
      deepStrictEqual([error.code, error.description, error.status], [
        "APPLICATION_REGISTRATION_ERROR",
        "Connector registration failed",
        200
      ])
    }))

  it.effect("an embedded code no class declares is UnknownPortalError; a real success decodes", () =>
    Effect.gen(function*() {
      const odd = recordingClient(() => Effect.succeed(success({ result: false, error: "SOMETHING_NEW" })))
      const unknown = yield* Effect.flip(
        ImConnector.unregister({ ID: "demo" }).pipe(Effect.provide(odd.layer), Effect.provide(application))
      )
      assertInstanceOf(unknown, PortalError.UnknownPortalError)
      strictEqual(unknown.code, "SOMETHING_NEW")
      const fine = recordingClient(() => Effect.succeed(success({ result: true })))
      const result = yield* ImConnector.unregister({ ID: "demo" }).pipe(
        Effect.provide(fine.layer),
        Effect.provide(application)
      )
      deepStrictEqual(result, { result: true })
    }))

  it.effect("ACTIVE travels as 1/0, never as Y/N or a JSON boolean", () =>
    Effect.gen(function*() {
      const client = recordingClient()
      yield* ImConnector.activate({ CONNECTOR: "demo", LINE: 1, ACTIVE: true }).pipe(
        Effect.provide(client.layer),
        Effect.provide(application)
      )
      yield* ImConnector.activate({ CONNECTOR: "demo", LINE: 1, ACTIVE: false }).pipe(
        Effect.provide(client.layer),
        Effect.provide(application)
      )
      deepStrictEqual(client.calls.map((call) => call.params.ACTIVE), [1, 0])
      const refused = yield* Effect.flip(ImConnector.activate.decodeParams({ CONNECTOR: "demo", LINE: 1, ACTIVE: "N" }))
      strictEqual(refused.field, "ACTIVE")
    }))

  it.effect("an application method does not run without ApplicationAuth in context", () =>
    Effect.gen(function*() {
      const client = recordingClient()
      const run = ImConnector.list({}).pipe(Effect.provide(client.layer)) as Effect.Effect<unknown, unknown>
      const exit = yield* Effect.exit(run)
      assertTrue(Exit.isFailure(exit))
      strictEqual(client.calls.length, 0)
    }))
})

describe("Method.checkParams (a command checked before it is sent, references deferred)", () => {
  it("answers the first problem, or undefined for good params", () => {
    strictEqual(Method.checkParams(ImChat.mute, { CHAT_ID: "1489", MUTE: "Y" }), undefined)
    const bad = Method.checkParams(ImChat.mute, { CHAT_ID: "abc" })
    assertInstanceOf(bad, PortalError.InvalidParams)
    deepStrictEqual([bad.method, bad.field, bad.missing], ["im.chat.mute", "CHAT_ID", false])
    // The cross-field check runs without deferred params.
    strictEqual(Method.checkParams(ImChat.mute, {})?.field, "CHAT_ID")
  })

  it("leaves deferred params and the cross-field check unchecked, but not the others", () => {
    const deferred = new Set(["CHAT_ID"])
    strictEqual(Method.checkParams(ImChat.mute, { CHAT_ID: "$result[a][chatId]" }, deferred), undefined)
    strictEqual(Method.checkParams(ImOpenLines.sessionModeSilent, { ACTIVATE: "Y" }, deferred), undefined)
    const flag = Method.checkParams(ImOpenLines.sessionModeSilent, { CHAT_ID: "$result[a]", ACTIVATE: "yes" }, deferred)
    deepStrictEqual([flag?.field, flag?.missing], ["ACTIVATE", false])
  })

  it("refuses params nested deeper than Wire.maxDepth before decoding", () => {
    let deep: unknown = 1
    for (let i = 0; i < Wire.maxDepth + 5; i++) deep = [deep]
    strictEqual(Method.checkParams(ImChat.mute, { CHAT_ID: deep })?.field, "CHAT_ID")
  })
})

describe("a method that declares no params", () => {
  it.effect("decodes and encodes any params to none (Schema's empty struct would let them through)", () =>
    Effect.gen(function*() {
      const decoded = yield* ImOpenLines.sessionModePinAll.decodeParams({ NOISE: { a: [1, 2] }, CHAT_ID: 5 })
      deepStrictEqual(decoded, {})
      deepStrictEqual(yield* ImOpenLines.sessionModePinAll.encodeParams({ NOISE: 1 } as any), {})
    }))
})
