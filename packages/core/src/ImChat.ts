/**
 * Chat methods of the messenger (`im.chat.*`, scope `im`).
 * Params, results, errors and semantics: seeds/003 and docs/bitrix24-wire.md §6.14.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as Method from "./Method.js"
import * as PortalError from "./PortalError.js"
import * as Wire from "./Wire.js"

/**
 * `im.chat.mute`: disables (or re-enables) notifications from a chat for the caller.
 *
 * - Params: `CHAT_ID` (positive integer) or `DIALOG_ID` (`chat<N>`, `sg<N>` or a user ID): one of them is required;
 *   `MUTE` (boolean, wire `"Y"`/`"N"`, default `Y`: mute).
 * - Result: `true` (or `false` when the portal could not apply it).
 * - Errors: `CHAT_ID_EMPTY` (400), `DIALOG_ID_EMPTY` (400), `ACCESS_ERROR` (403). Open-line chats can never be
 *   muted: the portal answers `ACCESS_ERROR` for them (wire sheet §6.14).
 * - Idempotent: muting a muted chat changes nothing.
 *
 * Source: seeds/003 (the 2026 page: `MUTE` optional, default `Y`); wire sheet §6.14.
 *
 * @since 0.1.0
 * @category methods
 */
export const mute = Method.make({
  method: "im.chat.mute",
  scope: "im",
  summary: "Disable or enable notifications from a chat",
  description: "Mutes (MUTE=Y, the default) or unmutes (MUTE=N) a chat for the current user. Pass CHAT_ID or " +
    "DIALOG_ID. Open-line chats cannot be muted (ACCESS_ERROR).",
  source: "seeds/003; docs/bitrix24-wire.md §6.14",
  params: {
    CHAT_ID: Schema.optionalWith(
      Wire.Id.annotations({ description: "Identifier of the chat (from im.chat.get)" }),
      { exact: true }
    ),
    DIALOG_ID: Schema.optionalWith(
      Wire.DialogId.annotations({ description: "chat<N> for a chat, sg<N> for a group or project chat, or a user ID" }),
      { exact: true }
    ),
    MUTE: Schema.optionalWith(
      Wire.YesNo.annotations({ description: "Y disables notifications, N enables them", default: true }),
      { exact: true }
    )
  },
  check: (params) =>
    params.CHAT_ID === undefined && params.DIALOG_ID === undefined
      ? { field: "CHAT_ID", message: "one of CHAT_ID or DIALOG_ID is required" }
      : undefined,
  result: Schema.Boolean,
  errors: [PortalError.ChatIdEmpty, PortalError.DialogIdEmpty, PortalError.AccessError],
  invalid: {
    CHAT_ID: { invalid: PortalError.ChatIdEmpty },
    DIALOG_ID: { invalid: PortalError.DialogIdEmpty }
  },
  idempotent: true,
  example: { CHAT_ID: 1489, MUTE: true }
})
