import { describe, it } from "@effect/vitest"
import { assertFalse, assertInstanceOf, assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Schema from "effect/Schema"
import * as Catalog from "../src/Catalog.js"
import * as ImChat from "../src/ImChat.js"
import * as ImOpenLines from "../src/ImOpenLines.js"
import * as PortalError from "../src/PortalError.js"

const wireOf = (Class: PortalError.PortalErrorClass<any>, status: number | undefined = Class.spec.status) => ({
  code: Class.spec.code,
  description: Class.spec.description,
  status
})

/** The error tables of the seed pages and wire sheet §6, as [code, status, description], for every declared method. */
const documented: Record<string, ReadonlyArray<readonly [string, number, string]>> = {
  // seeds/000, seeds/001 (statuses and the CHAT_ID text from the 2026 page), wire sheet §6.0 texts
  "imopenlines.session.mode.silent": [
    ["CHAT_ID", 400, "Chat ID is incorrect"],
    ["CHAT_TYPE", 400, "This chat is not Open Channel"],
    ["ACCESS_DENIED", 400, "You do not have permission to access this chat."],
    ["USER_ID", 400, "User ID is invalid."]
  ],
  // seeds/002, wire sheet §6.2
  "imopenlines.session.mode.pin": [
    ["CHAT_ID_EMPTY", 400, "Chat ID can't be empty"],
    ["CHAT_ID", 400, "Chat ID is incorrect"],
    ["CHAT_TYPE", 400, "This chat is not Open Channel"],
    ["ACCESS_DENIED", 400, "You do not have permission to access this chat."],
    ["USER_ID", 400, "User ID is invalid."],
    ["ERROR_USER_NOT_OPERATOR", 400, "Attempt to pin / unpin a chat by a user who is not an operator"]
  ],
  // seeds/004, wire sheet §6.4
  "imopenlines.session.start": [
    ["CHAT_ID", 400, "Chat ID is incorrect"],
    ["CHAT_TYPE", 400, "This chat is not Open Channel"],
    ["ACCESS_DENIED", 400, "You do not have permission to access this chat."],
    ["USER_ID", 400, "User ID is invalid."]
  ],
  // wire sheet §6.2 (undocumented sibling of pin: the same errors)
  "imopenlines.session.mode.unpin": [
    ["CHAT_ID_EMPTY", 400, "Chat ID can't be empty"],
    ["CHAT_ID", 400, "Chat ID is incorrect"],
    ["CHAT_TYPE", 400, "This chat is not Open Channel"],
    ["ACCESS_DENIED", 400, "You do not have permission to access this chat."],
    ["USER_ID", 400, "User ID is invalid."],
    ["ERROR_USER_NOT_OPERATOR", 400, "Attempt to pin / unpin a chat by a user who is not an operator"]
  ],
  // wire sheet §6.3: no method-level errors
  "imopenlines.session.mode.pinAll": [],
  "imopenlines.session.mode.unpinAll": [],
  // wire sheet §6.5
  "imopenlines.session.open": [["ACCESS_DENIED", 400, "You do not have permission to access this chat."]],
  // wire sheet §6.6
  "imopenlines.session.join": [
    ["CHAT_ID", 400, "Chat ID is incorrect"],
    ["CHAT_TYPE", 400, "This chat is not Open Channel"],
    ["ACCESS_DENIED", 400, "You do not have permission to access this chat."],
    ["USER_ID", 400, "User ID is invalid."]
  ],
  // wire sheet §6.7
  "imopenlines.session.intercept": [
    ["CHAT_ID_EMPTY", 400, "Chat ID can't be empty"],
    ["OPERATOR_WRONG", 400, "You can not redirect to this operator"]
  ],
  // wire sheet §6.8
  "imopenlines.session.history.get": [
    ["MISSING_REQUIRED_PARAM", 400, "Session ID or Chat ID must be provided"],
    ["INVALID_SESSION_ID", 400, "Unable to determine session ID from provided parameters"],
    ["ACCESS_DENIED", 400, "You do not have permission to access this chat."]
  ],
  // wire sheet §6.9
  "imopenlines.session.head.vote": [
    ["EMPTY_SESSION_ID", 400, "Session ID can't be empty"],
    ["EMPTY_VOTE_PARAMS", 400, "At least one of the parameters RATING or COMMENT must be specified"],
    ["ACCESS_DENIED", 400, "You do not have permission to access this chat."]
  ],
  // wire sheet §6.10
  "imopenlines.message.session.start": [
    ["CHAT_ID", 400, "Chat ID is incorrect"],
    ["CHAT_TYPE", 400, "This chat is not Open Channel"],
    ["ACCESS_DENIED", 400, "You do not have permission to access this chat."],
    ["USER_ID", 400, "User ID is invalid."]
  ],
  // wire sheet §6.11 (the new page's five, then the server source's four)
  "imopenlines.crm.lead.create": [
    ["CHAT_ID", 400, "Chat ID is incorrect"],
    ["CHAT_TYPE", 400, "This chat is not Open Channel"],
    ["ACCESS_DENIED", 400, "You do not have permission to access this chat."],
    ["USER_ID", 400, "User ID is invalid."],
    ["ERROR_USER_NOT_OPERATOR", 400, "Attempt to pin / unpin a chat by a user who is not an operator"],
    ["IMOL_CHAT_ERROR_NOT_LOAD_CRM", 400, "Failed to load CRM"],
    ["IMOL_CHAT_ERROR_NOT_LOAD_DATA", 400, "Unable to load chat data"],
    ["IMOL_CHAT_ERROR_ANSWER_NOT_LOAD_SESSION", 400, "Cannot load session"],
    ["IMOL_CHAT_ERROR_NOT_LOAD_CHAT", 400, "Chat failed to load"]
  ],
  // wire sheet §6.12
  "imopenlines.dialog.get": [
    ["IM_NOT_INSTALLED", 400, "Messenger is not installed."],
    ["ACCESS_ERROR", 400, "You do not have access to the specified dialog"]
  ],
  // wire sheet §6.13
  "imopenlines.operator.answer": [
    ["CHAT_ID", 400, "Chat ID is incorrect"],
    ["CHAT_TYPE", 400, "This chat is not Open Channel"],
    ["ACCESS_DENIED", 400, "You do not have permission to access this chat."],
    ["USER_ID", 400, "User ID is invalid."]
  ],
  "imopenlines.operator.skip": [
    ["CHAT_ID", 400, "Chat ID is incorrect"],
    ["CHAT_TYPE", 400, "This chat is not Open Channel"],
    ["ACCESS_DENIED", 400, "You do not have permission to access this chat."],
    ["USER_ID", 400, "User ID is invalid."],
    ["ACCESS_DENIED_KICK", 400, "Insufficient permissions to remove participants from the chat"]
  ],
  "imopenlines.operator.spam": [
    ["CHAT_ID", 400, "Chat ID is incorrect"],
    ["CHAT_TYPE", 400, "This chat is not Open Channel"],
    ["ACCESS_DENIED", 400, "You do not have permission to access this chat."],
    ["USER_ID", 400, "User ID is invalid."]
  ],
  "imopenlines.operator.finish": [
    ["CHAT_ID", 400, "Chat ID is incorrect"],
    ["CHAT_TYPE", 400, "This chat is not Open Channel"],
    ["ACCESS_DENIED", 400, "You do not have permission to access this chat."],
    ["USER_ID", 400, "User ID is invalid."],
    ["ERROR_USER_NOT_OPERATOR", 400, "Attempt to pin / unpin a chat by a user who is not an operator"],
    ["IMOL_CHAT_ERROR_NOT_LOAD_DATA", 400, "Unable to load chat data"],
    ["NOT_LOAD_SESSION_OR_CHAT", 400, "Session or chat failed to load"]
  ],
  "imopenlines.operator.another.finish": [
    ["CHAT_ID", 400, "Chat ID is incorrect"],
    ["CHAT_TYPE", 400, "This chat is not Open Channel"],
    ["ACCESS_DENIED", 400, "You do not have permission to access this chat."],
    ["USER_ID", 400, "User ID is invalid."],
    ["IMOL_CHAT_ERROR_NOT_LOAD_DATA", 400, "Unable to load chat data"],
    ["NOT_LOAD_SESSION_OR_CHAT", 400, "Session or chat failed to load"]
  ],
  "imopenlines.operator.transfer": [
    ["CHAT_ID_EMPTY", 400, "Chat ID can't be empty"],
    ["USER_ID_EMPTY", 400, "User ID can't be empty"],
    ["QUEUE_ID_EMPTY", 400, "QUEUE ID can't be empty"],
    ["TRANSFER_ID_EMPTY", 400, "Queue ID or User ID can't be empty"],
    ["OPERATOR_WRONG", 400, "You can not redirect to this operator"]
  ],
  // seeds/003
  "im.chat.mute": [
    ["CHAT_ID_EMPTY", 400, "Chat ID can't be empty"],
    ["DIALOG_ID_EMPTY", 400, "Dialog ID can't be empty"],
    ["ACCESS_ERROR", 403, "This chat cannot be muted"]
  ]
}

const connectorMessages = [
  ["ERROR_ARGUMENT", 400],
  ["NOT_ACTIVE_LINE", 400],
  ["IMCONNECTOR_NO_CORRECT_PROVIDER", 400],
  ["IMCONNECTOR_NOT_SPECIFIED_CORRECT_COMMAND", 400],
  ["WRONG_AUTH_TYPE", 403]
] as const
const connectorStatus = [["ERROR_ARGUMENT", 400], ["IMCONNECTOR_NO_CORRECT_PROVIDER", 400], [
  "WRONG_AUTH_TYPE",
  403
]] as const
const offline = [["ACCESS_DENIED", 403], ["ERROR_ARGUMENT", 400], ["WRONG_AUTH_TYPE", 403]] as const

/**
 * The error tables of docs/bitrix24-events.md §1, §3 and §5.2 (codes and statuses; the sheet gives few texts), and of
 * the im.message.* pages. Register/unregister failures arrive inside HTTP 200 (§5.1), hence status 200.
 */
const documentedCodes: Record<string, ReadonlyArray<readonly [string, number]>> = {
  "imconnector.register": [
    ["APPLICATION_REGISTRATION_ERROR_POINT", 200],
    ["CONNECTOR_ID_REQUIRED", 200],
    ["NAME_REQUIRED", 200],
    ["ICON_REQUIRED", 200],
    ["NO_APPLICATION_ID", 200],
    ["NO_PLACEMENT_HANDLER", 200],
    ["APPLICATION_REGISTRATION_ERROR", 200],
    ["GENERAL_CONNECTOR_REGISTRATION_ERROR", 200],
    ["WRONG_AUTH_TYPE", 403]
  ],
  "imconnector.unregister": [
    ["APPLICATION_UNREGISTRATION_ERROR", 200],
    ["NO_APPLICATION_ID", 200],
    ["WRONG_AUTH_TYPE", 403]
  ],
  "imconnector.list": [["ACCESS_DENIED", 400], ["WRONG_AUTH_TYPE", 403]],
  "imconnector.activate": [["ERROR_ARGUMENT", 400], ["WRONG_AUTH_TYPE", 403]],
  "imconnector.status": [["ERROR_ARGUMENT", 400], ["WRONG_AUTH_TYPE", 403]],
  "imconnector.connector.data.set": [["ERROR_ARGUMENT", 400], ["WRONG_AUTH_TYPE", 403]],
  "imconnector.send.messages": connectorMessages,
  "imconnector.update.messages": connectorMessages,
  "imconnector.delete.messages": connectorMessages,
  "imconnector.send.status.delivery": connectorStatus,
  "imconnector.send.status.reading": connectorStatus,
  "imconnector.set.error": [["ERROR_ARGUMENT", 400], ["WRONG_AUTH_TYPE", 403]],
  "imconnector.chat.name.set": [
    ["NOT_ACTIVE_LINE", 400],
    ["IMCONNECTOR_NO_CORRECT_PROVIDER", 400],
    ["ERROR_ARGUMENT", 400],
    ["CHAT_RENAMING_FAILED", 400],
    ["WRONG_AUTH_TYPE", 403]
  ],
  "imopenlines.config.add": [["CONFIG_WRONG_USER_PERMISSION", 403]],
  "imopenlines.config.get": [["CONFIG_ID_EMPTY", 400]],
  "imopenlines.config.list.get": [],
  "imopenlines.config.update": [["CONFIG_ID_EMPTY", 400], ["CONFIG_WRONG_USER_PERMISSION", 403]],
  "imopenlines.config.delete": [["CONFIG_ID_EMPTY", 400], ["CONFIG_WRONG_USER_PERMISSION", 403]],
  "imopenlines.config.path.get": [],
  "im.message.add": [["DIALOG_ID_EMPTY", 400], ["MESSAGE_EMPTY", 400], ["ACCESS_ERROR", 403]],
  "im.message.update": [["MESSAGE_ID_ERROR", 400], ["CANT_EDIT_MESSAGE", 400]],
  "im.message.delete": [["MESSAGE_ID_ERROR", 400], ["CANT_EDIT_MESSAGE", 400]],
  "event.bind": [
    ["ERROR_EVENT_NOT_FOUND", 400],
    ["ACCESS_DENIED", 403],
    ["ERROR_CORE", 400],
    ["ERROR_ARGUMENT", 400],
    ["ERROR_WRONG_HANDLER_URL", 400],
    ["WRONG_AUTH_TYPE", 403]
  ],
  "event.unbind": offline,
  "event.get": [["WRONG_AUTH_TYPE", 403]],
  "events": [["WRONG_AUTH_TYPE", 403]],
  "event.test": [["WRONG_AUTH_TYPE", 403]],
  "event.offline.get": offline,
  "event.offline.clear": offline,
  "event.offline.error": offline,
  "event.offline.list": offline
}

describe("method-level codes of the declared methods", () => {
  it("each method declares exactly the documented codes, statuses and texts", () => {
    for (const method of Catalog.methods) {
      if (method.method in documentedCodes) {
        deepStrictEqual(
          method.errors.map((Class) => [Class.spec.code, Class.spec.status] as const),
          documentedCodes[method.method],
          method.method
        )
        continue
      }
      deepStrictEqual(
        method.errors.map((Class) => [Class.spec.code, Class.spec.status, Class.spec.description] as const),
        documented[method.method],
        method.method
      )
      assertTrue(method.errors.every((Class) => Class.spec.kind === "method"), method.method)
    }
  })

  // pinAll and unpinAll declare no method-level codes (wire sheet §6.3): nothing to map for them
  for (const method of Catalog.methods.filter((declared) => declared.errors.length > 0)) {
    describe(method.method, () => {
      for (const Class of method.errors) {
        it(`${Class.spec.code} maps to ${Class.name} with code, description, status and method`, () => {
          const error = PortalError.fromWire(method.method, wireOf(Class), method.errors)
          assertInstanceOf(error, Class)
          strictEqual(error.method, method.method)
          strictEqual(error.code, Class.spec.code)
          strictEqual(error.description, Class.spec.description)
          strictEqual(error.status, Class.spec.status)
          strictEqual(
            error.message,
            `${method.method}: ${Class.spec.code} (HTTP ${Class.spec.status}) ${error.description}`
          )
        })
      }
    })
  }

  it("keeps the description as received (localized portals)", () => {
    const error = PortalError.fromWire(
      ImOpenLines.sessionModeSilent.method,
      { code: "USER_ID", description: "Указан не корректный идентификатор пользователя", status: 400 },
      ImOpenLines.sessionModeSilent.errors
    )
    assertInstanceOf(error, PortalError.UserIdInvalid)
    strictEqual(error.description, "Указан не корректный идентификатор пользователя")
  })
})

/** The system-error table of seeds/003, plus the codes wire sheet §5 adds and the OAuth server's (§4). */
const systemTable: ReadonlyArray<readonly [string, number, string]> = [
  ["INTERNAL_SERVER_ERROR", 500, "Internal server error"],
  ["ERROR_UNEXPECTED_ANSWER", 500, "Server returned an unexpected response"],
  ["QUERY_LIMIT_EXCEEDED", 503, "Too many requests"],
  ["ERROR_BATCH_METHOD_NOT_ALLOWED", 405, "Method is not allowed for batch usage"],
  ["ERROR_BATCH_LENGTH_EXCEEDED", 400, "Max batch length exceeded"],
  ["NO_AUTH_FOUND", 401, "Wrong authorization data"],
  ["INVALID_REQUEST", 400, "Https required"],
  ["OVERLOAD_LIMIT", 503, "REST API is blocked due to overload"],
  ["ACCESS_DENIED", 403, "REST API is available only on commercial plans"],
  ["INVALID_CREDENTIALS", 403, "Invalid request credentials"],
  ["ERROR_MANIFEST_IS_NOT_AVAILABLE", 404, "Manifest is not available"],
  ["insufficient_scope", 403, "The request requires higher privileges than provided by the webhook token"],
  ["expired_token", 401, "The access token provided has expired"],
  ["user_access_error", 403, "The user does not have access to the application"],
  ["PORTAL_DELETED", 500, "Portal was deleted"],
  ["OPERATION_TIME_LIMIT", 429, "Method is blocked due to operation time limit."],
  ["ERROR_METHOD_NOT_FOUND", 404, "Method not found!"],
  ["invalid_token", 401, "The access token provided is invalid"],
  ["invalid_grant", 400, "The refresh token is invalid or expired: authorize the application on the portal again"],
  ["invalid_client", 401, "Invalid client: wrong client id or secret, or the application is not installed"]
]

describe("system codes (seeds/003 system-error table, wire sheet §5)", () => {
  it("systemErrors declares the table's codes, statuses and texts", () => {
    deepStrictEqual(
      PortalError.systemErrors.map((Class) => [Class.spec.code, Class.spec.status, Class.spec.description] as const),
      systemTable
    )
    assertTrue(PortalError.systemErrors.every((Class) => Class.spec.kind === "system"))
  })

  for (const Class of PortalError.systemErrors) {
    it(`${JSON.stringify(Class.spec.code)} maps to ${Class.name}, from any method`, () => {
      for (const declared of [[], ...Catalog.methods.map((method) => method.errors)]) {
        const error = PortalError.fromWire("any.method", wireOf(Class), declared)
        assertInstanceOf(error, Class)
        strictEqual(error.method, "any.method")
        strictEqual(error.code, Class.spec.code)
        strictEqual(error.description, Class.spec.description)
        strictEqual(error.status, Class.spec.status)
      }
    })
  }
})

describe("ACCESS_DENIED: open-lines method error vs plan denial (wire sheet §5, §6.0 step 5)", () => {
  const errors = ImOpenLines.sessionModeSilent.errors
  const method = ImOpenLines.sessionModeSilent.method

  it("400 with the open-lines text is AccessDenied", () => {
    const error = PortalError.fromWire(
      method,
      { code: "ACCESS_DENIED", description: "You do not have permission to access this chat.", status: 400 },
      errors
    )
    assertInstanceOf(error, PortalError.AccessDenied)
    strictEqual(error.status, 400)
    strictEqual(PortalError.AccessDenied.spec.kind, "method")
  })

  it("403 is AccessDeniedByPlan, whatever the text", () => {
    const error = PortalError.fromWire(
      method,
      { code: "ACCESS_DENIED", description: "REST API is available only on commercial plans", status: 403 },
      errors
    )
    assertInstanceOf(error, PortalError.AccessDeniedByPlan)
    strictEqual(error.status, 403)
    assertInstanceOf(
      PortalError.fromWire(method, { code: "ACCESS_DENIED", description: "Access denied!", status: 403 }, errors),
      PortalError.AccessDeniedByPlan
    )
  })

  it("a text about commercial plans or a subscription is AccessDeniedByPlan, whatever the status", () => {
    assertInstanceOf(
      PortalError.fromWire(
        method,
        { code: "ACCESS_DENIED", description: "REST is available only on commercial plans.", status: 401 },
        errors
      ),
      PortalError.AccessDeniedByPlan
    )
    assertInstanceOf(
      PortalError.fromWire(
        method,
        { code: "ACCESS_DENIED", description: "REST is available only by subscription.", status: 401 },
        errors
      ),
      PortalError.AccessDeniedByPlan
    )
  })

  it("without a status (batch) the text decides, and the class supplies the status", () => {
    const denied = PortalError.fromWire(
      method,
      { code: "ACCESS_DENIED", description: "You do not have permission to access this chat.", status: undefined },
      errors
    )
    assertInstanceOf(denied, PortalError.AccessDenied)
    strictEqual(denied.status, 400)
    const plan = PortalError.fromWire(
      method,
      { code: "ACCESS_DENIED", description: "REST API is available only on commercial plans", status: undefined },
      errors
    )
    assertInstanceOf(plan, PortalError.AccessDeniedByPlan)
    strictEqual(plan.status, 403)
  })
})

describe("ACCESS_ERROR: the mute denial (403) vs the dialog denial (400) (wire sheet §6.12, §6.14)", () => {
  const mute = { code: "ACCESS_ERROR", description: "This chat cannot be muted", status: 403 }
  const dialog = { code: "ACCESS_ERROR", description: "You do not have access to the specified dialog", status: 400 }

  it("each method's own declaration classifies its ACCESS_ERROR", () => {
    const muted = PortalError.fromWire(ImChat.mute.method, mute, ImChat.mute.errors)
    assertInstanceOf(muted, PortalError.AccessError)
    deepStrictEqual([muted._tag, muted.code, muted.status], ["AccessError", "ACCESS_ERROR", 403])
    const denied = PortalError.fromWire(ImOpenLines.dialogGet.method, dialog, ImOpenLines.dialogGet.errors)
    assertInstanceOf(denied, PortalError.DialogAccessError)
    deepStrictEqual(
      [denied._tag, denied.method, denied.code, denied.status],
      ["DialogAccessError", "imopenlines.dialog.get", "ACCESS_ERROR", 400]
    )
  })

  it("with both classes declared, the status decides, whatever the order", () => {
    for (
      const declared of [[PortalError.AccessError, PortalError.DialogAccessError], [
        PortalError.DialogAccessError,
        PortalError.AccessError
      ]] as const
    ) {
      assertInstanceOf(PortalError.fromWire("x.y", mute, declared), PortalError.AccessError)
      assertInstanceOf(PortalError.fromWire("x.y", dialog, declared), PortalError.DialogAccessError)
      assertInstanceOf(
        PortalError.fromWire("x.y", { ...dialog, description: "This chat cannot be muted" }, declared),
        PortalError.DialogAccessError
      )
    }
  })

  it("without a status (batch) the text decides, and the class supplies the status", () => {
    const declared = [PortalError.DialogAccessError, PortalError.AccessError] as const
    const muted = PortalError.fromWire("x.y", { ...mute, status: undefined }, declared)
    assertInstanceOf(muted, PortalError.AccessError)
    strictEqual(muted.status, 403)
    const denied = PortalError.fromWire("x.y", { ...dialog, status: undefined }, declared)
    assertInstanceOf(denied, PortalError.DialogAccessError)
    strictEqual(denied.status, 400)
  })

  it("a 400 ACCESS_ERROR is never the mute denial: im.chat.mute gets UnknownPortalError for it", () => {
    assertInstanceOf(
      PortalError.fromWire(ImChat.mute.method, dialog, ImChat.mute.errors),
      PortalError.UnknownPortalError
    )
    assertInstanceOf(
      PortalError.fromWire(ImOpenLines.dialogGet.method, mute, ImOpenLines.dialogGet.errors),
      PortalError.UnknownPortalError
    )
  })
})

describe("unknown codes (wire sheet §1.5: the empty-code quirk)", () => {
  it("an undeclared code becomes UnknownPortalError with code, description and status kept", () => {
    const error = PortalError.fromWire(
      "imopenlines.session.mode.pin",
      { code: "IMOL_CHAT_ERROR_NOT_LOAD_DATA", description: "Could not load chat data", status: 418 },
      ImOpenLines.sessionModePin.errors
    )
    assertInstanceOf(error, PortalError.UnknownPortalError)
    deepStrictEqual(
      { method: error.method, code: error.code, description: error.description, status: error.status },
      {
        method: "imopenlines.session.mode.pin",
        code: "IMOL_CHAT_ERROR_NOT_LOAD_DATA",
        description: "Could not load chat data",
        status: 418
      }
    )
  })

  it("the empty code becomes UnknownPortalError with code \"\"", () => {
    const error = PortalError.fromWire(
      "imopenlines.session.mode.pin",
      { code: "", description: "", status: 400 },
      ImOpenLines.sessionModePin.errors
    )
    assertInstanceOf(error, PortalError.UnknownPortalError)
    strictEqual(error.code, "")
    strictEqual(error.description, "")
    strictEqual(error.status, 400)
    assertTrue(error.message.includes("(empty code)"))
  })

  it("an unknown code without a status gets 400 (the portal's default status)", () => {
    const error = PortalError.fromWire("x.y", { code: "SOMETHING", description: "d", status: undefined }, [])
    assertInstanceOf(error, PortalError.UnknownPortalError)
    strictEqual(error.status, 400)
  })

  it("a method code of another method is unknown to a method that does not declare it", () => {
    const error = PortalError.fromWire(
      ImChat.mute.method,
      { code: "CHAT_TYPE", description: "This chat is not Open Channel", status: 400 },
      ImChat.mute.errors
    )
    assertInstanceOf(error, PortalError.UnknownPortalError)
  })
})

describe("missing status (batch sub-calls, wire sheet §2)", () => {
  it("takes the class's documented status", () => {
    const chatType = PortalError.fromWire(
      ImOpenLines.sessionStart.method,
      wireOf(PortalError.ChatTypeInvalid, undefined),
      ImOpenLines.sessionStart.errors
    )
    assertInstanceOf(chatType, PortalError.ChatTypeInvalid)
    strictEqual(chatType.status, 400)
    const accessError = PortalError.fromWire(
      ImChat.mute.method,
      wireOf(PortalError.AccessError, undefined),
      ImChat.mute.errors
    )
    assertInstanceOf(accessError, PortalError.AccessError)
    strictEqual(accessError.status, 403)
    const limit = PortalError.fromWire("batch", wireOf(PortalError.QueryLimitExceeded, undefined), [])
    assertInstanceOf(limit, PortalError.QueryLimitExceeded)
    strictEqual(limit.status, 503)
  })

  it("a status that is present wins over the class default", () => {
    const error = PortalError.fromWire("batch", wireOf(PortalError.QueryLimitExceeded, 429), [])
    assertInstanceOf(error, PortalError.QueryLimitExceeded)
    strictEqual(error.status, 429)
  })
})

describe("the error classes", () => {
  it("fill code, description and status from the spec when constructed by hand", () => {
    const error = new PortalError.ChatIdInvalid({ method: "imopenlines.session.start" })
    strictEqual(error._tag, "ChatIdInvalid")
    strictEqual(error.code, "CHAT_ID")
    strictEqual(error.description, "Chat ID is incorrect")
    strictEqual(error.status, 400)
  })

  it("are schemas, so they cross process boundaries intact", () => {
    const error = new PortalError.AccessError({ method: "im.chat.mute" })
    const encoded = Schema.encodeSync(PortalError.AccessError)(error)
    const decoded = Schema.decodeUnknownSync(PortalError.AccessError)(JSON.parse(JSON.stringify(encoded)))
    assertInstanceOf(decoded, PortalError.AccessError)
    deepStrictEqual(decoded, error)
  })

  it("isPortalError recognises portal errors and nothing else", () => {
    assertTrue(PortalError.isPortalError(new PortalError.NoAuthFound({ method: "x" })))
    assertTrue(
      PortalError.isPortalError(
        new PortalError.UnknownPortalError({ method: "x", code: "", description: "", status: 400 })
      )
    )
    assertFalse(
      PortalError.isPortalError(new PortalError.InvalidParams({ method: "x", field: "", missing: false, reason: "r" }))
    )
    assertFalse(
      PortalError.isPortalError(new PortalError.TransportError({ method: "x", reason: "Network", description: "" }))
    )
    assertFalse(PortalError.isPortalError({ code: "CHAT_ID" }))
  })

  it("TransportError and InvalidParams say what happened", () => {
    strictEqual(
      new PortalError.TransportError({ method: "m", reason: "InvalidBody", description: "not JSON", status: 502 })
        .message,
      "m: InvalidBody (HTTP 502): not JSON"
    )
    strictEqual(
      new PortalError.InvalidParams({ method: "m", field: "CHAT_ID", missing: true, reason: "is missing" }).message,
      "m: invalid parameter CHAT_ID: is missing"
    )
  })
})
