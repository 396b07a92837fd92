/**
 * Messenger messages (`im.message.*`, scope `im`): what an operator does in an open-line chat without a browser. An
 * operator's message in a connector's chat goes out to the outside channel as `ONIMCONNECTORMESSAGEADD`; an edit as
 * `ONIMCONNECTORMESSAGEUPDATE`, a delete as `ONIMCONNECTORMESSAGEDELETE` (docs/bitrix24-events.md §4, §5.6 steps 7
 * and 9). The params, results and codes are those of the public `im.message.*` pages; the fact sheets do not cover
 * these methods.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as Method from "./Method.js"
import * as PortalError from "./PortalError.js"
import * as Wire from "./Wire.js"

const messageId = Wire.Id.annotations({ description: "The message's ID" })

/**
 * `im.message.add`: posts a message to a dialog (`DIALOG_ID`: `chat<N>`, `sg<N>` or a user ID) as the caller; answers
 * the new message's ID. In an open-line chat this is the operator's reply, and a connector's application receives it
 * (§4). `SYSTEM` posts it as a system notice. Not idempotent (a replay posts it twice).
 *
 * @since 0.1.0
 * @category methods
 */
export const add = Method.make({
  method: "im.message.add",
  scope: "im",
  summary: "Post a message to a dialog",
  description: "DIALOG_ID (chat<N>, sg<N> or a user ID) and MESSAGE (BB-code); answers the message ID. In an " +
    "open-line chat this is an operator's reply.",
  source: "im.message.add page; docs/bitrix24-events.md §4, §5.6",
  params: {
    DIALOG_ID: Wire.DialogId.annotations({ description: "chat<N> for a chat, sg<N> for a project, or a user ID" }),
    MESSAGE: Schema.String.pipe(Schema.minLength(1)).annotations({ description: "The text (BB-code)" }),
    SYSTEM: Schema.optionalWith(Wire.YesNo.annotations({ description: "Post as a system notice", default: false }), {
      exact: true
    })
  },
  result: Wire.Numeric,
  errors: [PortalError.DialogIdEmpty, PortalError.MessageEmpty, PortalError.AccessError],
  invalid: { DIALOG_ID: { invalid: PortalError.DialogIdEmpty }, MESSAGE: { invalid: PortalError.MessageEmpty } },
  idempotent: false,
  example: { DIALOG_ID: "chat2043", MESSAGE: "Hello! How can I help?" }
})

/**
 * `im.message.update`: changes the text of the caller's message; answers `true`. Idempotent.
 *
 * @since 0.1.0
 * @category methods
 */
export const update = Method.make({
  method: "im.message.update",
  scope: "im",
  summary: "Edit a message",
  description: "MESSAGE_ID and the new MESSAGE. Only the author may edit.",
  source: "im.message.update page; docs/bitrix24-events.md §4",
  params: {
    MESSAGE_ID: messageId,
    MESSAGE: Schema.String.pipe(Schema.minLength(1)).annotations({ description: "The new text" })
  },
  result: Schema.Boolean,
  errors: [PortalError.MessageIdError, PortalError.CantEditMessage],
  invalid: { MESSAGE_ID: { invalid: PortalError.MessageIdError } },
  idempotent: true,
  example: { MESSAGE_ID: 18972, MESSAGE: "Open the task card and click Observers (top right)" }
})

/**
 * `im.message.delete`: deletes the caller's message; answers `true`. Idempotent in effect.
 *
 * @since 0.1.0
 * @category methods
 */
export const remove = Method.make({
  method: "im.message.delete",
  scope: "im",
  summary: "Delete a message",
  description: "MESSAGE_ID. Only the author may delete.",
  source: "im.message.delete page; docs/bitrix24-events.md §4",
  params: { MESSAGE_ID: messageId },
  result: Schema.Boolean,
  errors: [PortalError.MessageIdError, PortalError.CantEditMessage],
  invalid: { MESSAGE_ID: { invalid: PortalError.MessageIdError } },
  idempotent: true,
  example: { MESSAGE_ID: 18972 }
})
