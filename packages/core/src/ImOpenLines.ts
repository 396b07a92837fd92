/**
 * The open-lines session methods (`imopenlines.session.*`, scope `imopenlines`).
 * Params, results, errors and semantics: seeds/000-002, 004 and docs/bitrix24-wire.md §6.0-§6.4, §7.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as Method from "./Method.js"
import * as PortalError from "./PortalError.js"
import * as Wire from "./Wire.js"

const chatId = Wire.Id.annotations({
  description: "Identifier of the open-line chat (from imopenlines.session.open or imopenlines.dialog.get)"
})

/** The four checks every open-lines method runs first (wire sheet §6.0). */
const accessErrors = [
  PortalError.ChatIdInvalid,
  PortalError.ChatTypeInvalid,
  PortalError.AccessDenied,
  PortalError.UserIdInvalid
] as const

/**
 * `imopenlines.session.mode.silent`: switches silent ("whisper") mode of an open-line dialog on or off. While on,
 * operator messages are not forwarded to the client's connector (wire sheet §7.2).
 *
 * - Params: `CHAT_ID` (positive integer, required); `ACTIVATE` (boolean, wire `"Y"`/`"N"`, default `N`). Only the
 *   exact string `"Y"` switches it on; JSON `true` would switch it off, which is why the flag is always sent as a
 *   string (wire sheet §1.3).
 * - Result: `true`.
 * - Errors: `CHAT_ID`, `CHAT_TYPE`, `ACCESS_DENIED`, `USER_ID` (all 400).
 * - Idempotent: setting the same state twice leaves it as once (no second system message).
 * - Deprecated by the portal: "Development of the method has been halted, but it continues to function".
 *
 * Source: seeds/000 and seeds/001; wire sheet §6.1.
 *
 * @since 0.1.0
 * @category methods
 */
export const sessionModeSilent = Method.make({
  method: "imopenlines.session.mode.silent",
  scope: "imopenlines",
  summary: "Switch the dialog to silent mode, or back",
  description: "Enables or disables silent messaging mode in an open-line dialog. Only ACTIVATE=Y enables it; " +
    "anything else, or no ACTIVATE, disables it.",
  source: "seeds/000, seeds/001; docs/bitrix24-wire.md §6.1, §7.2",
  params: {
    CHAT_ID: chatId,
    ACTIVATE: Schema.optionalWith(
      Wire.YesNo.annotations({ description: "Y switches silent mode on, N off", default: false }),
      { exact: true }
    )
  },
  result: Schema.Boolean,
  errors: accessErrors,
  invalid: { CHAT_ID: { invalid: PortalError.ChatIdInvalid } },
  idempotent: true,
  example: { CHAT_ID: 2043, ACTIVATE: true },
  deprecated: "Development of the method has been halted, but it continues to function (seeds/001)."
})

/**
 * `imopenlines.session.mode.pin`: pins the dialog to its current operator (no auto-close or re-queue; auto-close
 * moves a week ahead) or unpins it (wire sheet §7.3).
 *
 * - Params: `CHAT_ID` (positive integer, required); `ACTIVATE` (boolean, wire `"Y"`/`"N"`, default `Y`). The old
 *   page (seeds/002) said default `N`; the new page and the server (`ACTIVATE !== 'N'` pins) say `Y`, which is
 *   followed here (wire sheet §6.2, §8.7).
 * - Result: `true`.
 * - Errors: `CHAT_ID_EMPTY`, `CHAT_ID`, `CHAT_TYPE`, `ACCESS_DENIED`, `USER_ID`, and `ERROR_USER_NOT_OPERATOR` when
 *   the caller is not the session's operator (seeds/002; the server may send that case with an empty code, which
 *   arrives as `UnknownPortalError`).
 * - Idempotent: pinning a pinned dialog is a no-op.
 *
 * Source: seeds/002; wire sheet §6.2, §7.3.
 *
 * @since 0.1.0
 * @category methods
 */
export const sessionModePin = Method.make({
  method: "imopenlines.session.mode.pin",
  scope: "imopenlines",
  summary: "Pin the dialog to the current operator, or unpin it",
  description: "Pins or unpins the dialog for the current operator. ACTIVATE=N unpins; anything else, or no " +
    "ACTIVATE, pins (the new page's default Y; the old page said N). Only the session's operator may pin.",
  source: "seeds/002; docs/bitrix24-wire.md §6.2, §7.3, §8.7",
  params: {
    CHAT_ID: chatId,
    ACTIVATE: Schema.optionalWith(
      Wire.YesNo.annotations({ description: "Y pins the dialog, N unpins it", default: true }),
      { exact: true }
    )
  },
  result: Schema.Boolean,
  errors: [PortalError.ChatIdEmpty, ...accessErrors, PortalError.UserNotOperator],
  invalid: { CHAT_ID: { missing: PortalError.ChatIdEmpty, invalid: PortalError.ChatIdInvalid } },
  idempotent: true,
  example: { CHAT_ID: 2024, ACTIVATE: true }
})

/**
 * `imopenlines.session.start`: starts a new session in the open-line chat with the caller as operator, or joins the
 * caller to the running one (wire sheet §6.4).
 *
 * - Params: `CHAT_ID` (positive integer, required).
 * - Result: `true`.
 * - Errors: `CHAT_ID`, `CHAT_TYPE`, `ACCESS_DENIED`, `USER_ID` (all 400).
 * - Not idempotent: it may create a session and post system messages, so an ambiguous failure is not replayed.
 *
 * Source: seeds/004; wire sheet §6.4.
 *
 * @since 0.1.0
 * @category methods
 */
export const sessionStart = Method.make({
  method: "imopenlines.session.start",
  scope: "imopenlines",
  summary: "Start a new dialog (session) in an open-line chat",
  description: "Starts a session in the open-line chat with the caller as its operator; when a session is already " +
    "running, the caller joins it.",
  source: "seeds/004; docs/bitrix24-wire.md §6.4",
  params: { CHAT_ID: chatId },
  result: Schema.Boolean,
  errors: accessErrors,
  invalid: { CHAT_ID: { invalid: PortalError.ChatIdInvalid } },
  idempotent: false,
  example: { CHAT_ID: 494 }
})
