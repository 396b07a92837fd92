/**
 * Typed errors for Bitrix24 REST calls.
 *
 * Every error code the portal documents is one `Schema.TaggedError` class carrying `method`, `code`,
 * `description` (the wire `error_description`) and `status` (the HTTP status). The classes are schemas, so they
 * cross process boundaries (the proxy, a future RPC) intact. Sources: the system-error table of the seed pages
 * (`seeds/001`, `seeds/003`) and docs/bitrix24-wire.md §1.5, §3, §4 and §5; the method-level codes come from the
 * seed pages and wire sheet §6.
 *
 * @since 0.1.0
 */
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"

/**
 * What a documented error code looks like on the wire.
 *
 * @since 0.1.0
 * @category models
 */
export interface Spec {
  /** The literal `error` value the portal sends, e.g. `"CHAT_ID"` or `"expired_token"`. */
  readonly code: string
  /** The HTTP status the portal answers with (cloud docs value where sources disagree, wire sheet §5). */
  readonly status: number
  /** The English `error_description` the portal sends by default. */
  readonly description: string
  /**
   * `method`: documented on a method's page; `system`: can come from any method (seed system-error table).
   */
  readonly kind: "method" | "system"
  /** Where the code, status and text come from. */
  readonly source: string
  /**
   * For codes the portal uses twice (`ACCESS_DENIED`): does this wire error belong to this class?
   * Consulted only when more than one class has the code.
   */
  readonly matches?: (wire: WireError) => boolean
}

/**
 * A portal error as read off the wire: the envelope `{ error, error_description }` plus the HTTP status, which is
 * unknown for the commands of a `batch` (wire sheet §2: sub-call statuses are not exposed).
 *
 * @since 0.1.0
 * @category models
 */
export interface WireError {
  readonly code: string
  readonly description: string
  readonly status: number | undefined
}

const fields = (spec: Spec) => ({
  method: Schema.String,
  code: Schema.String.pipe(Schema.propertySignature, Schema.withConstructorDefault(() => spec.code)),
  description: Schema.String.pipe(Schema.propertySignature, Schema.withConstructorDefault(() => spec.description)),
  status: Schema.Number.pipe(Schema.propertySignature, Schema.withConstructorDefault(() => spec.status))
})

/**
 * The constructor side of a portal error class: `new X({ method })` fills code, description and status from the
 * spec; a decoded wire error passes them explicitly.
 *
 * @since 0.1.0
 * @category models
 */
export interface PortalErrorClass<E = PortalError> {
  new(props: {
    readonly method: string
    readonly code?: string
    readonly description?: string
    readonly status?: number
  }): E
  readonly spec: Spec
}

/**
 * What every portal error instance has.
 *
 * @since 0.1.0
 * @category models
 */
export interface PortalError {
  readonly _tag: string
  readonly method: string
  readonly code: string
  readonly description: string
  readonly status: number
  readonly message: string
}

type Fields = ReturnType<typeof fields>

/**
 * The class a portal error declaration produces: a `Schema.TaggedError` class with the wire spec attached.
 *
 * @since 0.1.0
 * @category models
 */
export type DeclaredClass<Self, Tag extends string> =
  & Schema.TaggedErrorClass<Self, Tag, { readonly _tag: Schema.tag<Tag> } & Fields>
  & { readonly spec: Spec }

const describe = (error: PortalError): string =>
  `${error.method}: ${error.code || "(empty code)"} (HTTP ${error.status}) ${error.description}`

const declare = <Self>() => <const Tag extends string>(tag: Tag, spec: Spec): DeclaredClass<Self, Tag> => {
  const Base: new(props: unknown) => PortalError = Schema.TaggedError<any>(`@bitrix24-effect/core/${tag}`)(
    tag,
    fields(spec)
  ) as any
  class PortalErrorBase extends Base {
    static readonly spec: Spec = spec
    override get message(): string {
      return describe(this)
    }
  }
  return PortalErrorBase as unknown as DeclaredClass<Self, Tag>
}

// ---------------------------------------------------------------------------------------------------------------
// Method-level codes of the open-lines and chat pages (seeds 000-004, wire sheet §6.0-§6.2, §6.14)
// ---------------------------------------------------------------------------------------------------------------

/**
 * `CHAT_ID` (400): the chat identifier is empty or incorrect. Text from the seed's example body (`seeds/001`).
 *
 * @since 0.1.0
 * @category method errors
 */
export class ChatIdInvalid extends declare<ChatIdInvalid>()("ChatIdInvalid", {
  code: "CHAT_ID",
  status: 400,
  description: "Chat ID is incorrect",
  kind: "method",
  source: "seeds/001 (error example); wire sheet §6.0 step 2"
}) {}

/**
 * `CHAT_TYPE` (400): the chat is not an open-line chat.
 *
 * @since 0.1.0
 * @category method errors
 */
export class ChatTypeInvalid extends declare<ChatTypeInvalid>()("ChatTypeInvalid", {
  code: "CHAT_TYPE",
  status: 400,
  description: "This chat is not Open Channel",
  kind: "method",
  source: "seeds/000-002, 004; wire sheet §6.0 step 4"
}) {}

/**
 * `ACCESS_DENIED` (400) as an open-lines method error: the current user has no access to the dialog.
 * Distinct from the plan-level {@link AccessDeniedByPlan} (403) that shares the code.
 *
 * @since 0.1.0
 * @category method errors
 */
export class AccessDenied extends declare<AccessDenied>()("AccessDenied", {
  code: "ACCESS_DENIED",
  status: 400,
  description: "You do not have permission to access this chat.",
  kind: "method",
  source: "seeds/000-002, 004; wire sheet §6.0 step 5",
  matches: (wire) => !isPlanDenial(wire)
}) {}

/**
 * `USER_ID` (400): the user on whose behalf the method runs is not defined.
 *
 * @since 0.1.0
 * @category method errors
 */
export class UserIdInvalid extends declare<UserIdInvalid>()("UserIdInvalid", {
  code: "USER_ID",
  status: 400,
  description: "User ID is invalid.",
  kind: "method",
  source: "seeds/001; wire sheet §6.0 step 3, §6.1"
}) {}

/**
 * `CHAT_ID_EMPTY` (400): neither `CHAT_ID` nor `DIALOG_ID` was given, or `CHAT_ID` is empty or invalid.
 *
 * @since 0.1.0
 * @category method errors
 */
export class ChatIdEmpty extends declare<ChatIdEmpty>()("ChatIdEmpty", {
  code: "CHAT_ID_EMPTY",
  status: 400,
  description: "Chat ID can't be empty",
  kind: "method",
  source: "seeds/003; wire sheet §6.2, §6.14"
}) {}

/**
 * `ERROR_USER_NOT_OPERATOR` (400): the caller is not the operator of the session. The portal uses one code with a
 * text per action: "Attempt to pin / unpin a chat by a user who is not an operator" (pin, unpin; the default text
 * here), "Attempt to save a CRM entity by a user who is not an operator" (`imopenlines.crm.lead.create`) and
 * "Attempt to close the dialog by a user who is not an operator" (`imopenlines.operator.finish`); the received text is
 * kept in `description` (seeds/002; wire sheet §6.2, §6.11, §6.13).
 *
 * @since 0.1.0
 * @category method errors
 */
export class UserNotOperator extends declare<UserNotOperator>()("UserNotOperator", {
  code: "ERROR_USER_NOT_OPERATOR",
  status: 400,
  description: "Attempt to pin / unpin a chat by a user who is not an operator",
  kind: "method",
  source: "seeds/002; wire sheet §6.2"
}) {}

/**
 * `DIALOG_ID_EMPTY` (400): `DIALOG_ID` was given but is empty or not a valid dialog identifier.
 *
 * @since 0.1.0
 * @category method errors
 */
export class DialogIdEmpty extends declare<DialogIdEmpty>()("DialogIdEmpty", {
  code: "DIALOG_ID_EMPTY",
  status: 400,
  description: "Dialog ID can't be empty",
  kind: "method",
  source: "seeds/003; wire sheet §6.14"
}) {}

/**
 * `ACCESS_ERROR` (403) of `im.chat.mute`: the chat cannot be muted (no access, no such chat, or a chat type without
 * muting, which includes every open-line chat). `imopenlines.dialog.get` uses the same code with status 400 for
 * another meaning ({@link DialogAccessError}); the two are told apart by the status, or by the text when there is no
 * status (a `batch` sub-call).
 *
 * @since 0.1.0
 * @category method errors
 */
export class AccessError extends declare<AccessError>()("AccessError", {
  code: "ACCESS_ERROR",
  status: 403,
  description: "This chat cannot be muted",
  kind: "method",
  source: "seeds/003; wire sheet §6.14",
  matches: (wire) => isMuteDenial(wire)
}) {}

// ---------------------------------------------------------------------------------------------------------------
// Method-level codes of the other open-lines session and operator methods (wire sheet §6.3-§6.13)
// ---------------------------------------------------------------------------------------------------------------

/**
 * `ACCESS_ERROR` (400) of `imopenlines.dialog.get`: no identifier was given, it names no chat, or the caller has no
 * access to the dialog. Shares its code with the mute denial {@link AccessError} (403), told apart by status or text
 * (wire sheet §6.12).
 *
 * @since 0.1.0
 * @category method errors
 */
export class DialogAccessError extends declare<DialogAccessError>()("DialogAccessError", {
  code: "ACCESS_ERROR",
  status: 400,
  description: "You do not have access to the specified dialog",
  kind: "method",
  source: "wire sheet §6.12 (new page)",
  matches: (wire) => !isMuteDenial(wire)
}) {}

/**
 * `IM_NOT_INSTALLED` (400): the messenger module is not installed on the portal (`imopenlines.dialog.get`).
 *
 * @since 0.1.0
 * @category method errors
 */
export class ImNotInstalled extends declare<ImNotInstalled>()("ImNotInstalled", {
  code: "IM_NOT_INSTALLED",
  status: 400,
  description: "Messenger is not installed.",
  kind: "method",
  source: "wire sheet §6.12 (new page)"
}) {}

/**
 * `OPERATOR_WRONG` (400): the dialog cannot be taken over (`imopenlines.session.intercept`) or redirected
 * (`imopenlines.operator.transfer`). The portal answers it for every failure after the first parameter checks,
 * including missing rights and a transfer to oneself (wire sheet §6.7, §6.13).
 *
 * @since 0.1.0
 * @category method errors
 */
export class OperatorWrong extends declare<OperatorWrong>()("OperatorWrong", {
  code: "OPERATOR_WRONG",
  status: 400,
  description: "You can not redirect to this operator",
  kind: "method",
  source: "wire sheet §6.7, §6.13 (new pages)"
}) {}

/**
 * `MISSING_REQUIRED_PARAM` (400): `imopenlines.session.history.get` got neither `SESSION_ID` nor `CHAT_ID`.
 *
 * @since 0.1.0
 * @category method errors
 */
export class MissingRequiredParam extends declare<MissingRequiredParam>()("MissingRequiredParam", {
  code: "MISSING_REQUIRED_PARAM",
  status: 400,
  description: "Session ID or Chat ID must be provided",
  kind: "method",
  source: "wire sheet §6.8 (new page)"
}) {}

/**
 * `INVALID_SESSION_ID` (400): `imopenlines.session.history.get` could not find a session from the given
 * `SESSION_ID` or `CHAT_ID` (a chat without sessions, a non-numeric ID).
 *
 * @since 0.1.0
 * @category method errors
 */
export class InvalidSessionId extends declare<InvalidSessionId>()("InvalidSessionId", {
  code: "INVALID_SESSION_ID",
  status: 400,
  description: "Unable to determine session ID from provided parameters",
  kind: "method",
  source: "wire sheet §6.8 (new page)"
}) {}

/**
 * `EMPTY_SESSION_ID` (400): `imopenlines.session.head.vote` without a `SESSION_ID`.
 *
 * @since 0.1.0
 * @category method errors
 */
export class EmptySessionId extends declare<EmptySessionId>()("EmptySessionId", {
  code: "EMPTY_SESSION_ID",
  status: 400,
  description: "Session ID can't be empty",
  kind: "method",
  source: "wire sheet §6.9 (new page)"
}) {}

/**
 * `EMPTY_VOTE_PARAMS` (400): `imopenlines.session.head.vote` with neither `RATING` nor `COMMENT`.
 *
 * @since 0.1.0
 * @category method errors
 */
export class EmptyVoteParams extends declare<EmptyVoteParams>()("EmptyVoteParams", {
  code: "EMPTY_VOTE_PARAMS",
  status: 400,
  description: "At least one of the parameters RATING or COMMENT must be specified",
  kind: "method",
  source: "wire sheet §6.9 (new page)"
}) {}

/**
 * `ACCESS_DENIED_KICK` (400): `imopenlines.operator.skip` could not pass the dialog on, for instance because it is
 * closed. It reaches the wire through the portal's application-exception override (wire sheet §1.5, §6.13).
 *
 * @since 0.1.0
 * @category method errors
 */
export class AccessDeniedKick extends declare<AccessDeniedKick>()("AccessDeniedKick", {
  code: "ACCESS_DENIED_KICK",
  status: 400,
  description: "Insufficient permissions to remove participants from the chat",
  kind: "method",
  source: "wire sheet §6.13 (new page)"
}) {}

/**
 * `USER_ID_EMPTY` (400): `imopenlines.operator.transfer` with a `USER_ID` (or a user `TRANSFER_ID`) that is not a
 * positive integer.
 *
 * @since 0.1.0
 * @category method errors
 */
export class UserIdEmpty extends declare<UserIdEmpty>()("UserIdEmpty", {
  code: "USER_ID_EMPTY",
  status: 400,
  description: "User ID can't be empty",
  kind: "method",
  source: "wire sheet §6.13 (new page)"
}) {}

/**
 * `QUEUE_ID_EMPTY` (400): `imopenlines.operator.transfer` with a `QUEUE_ID` (or a `queue<N>` `TRANSFER_ID`) that is
 * not a positive integer. The portal's text spells "QUEUE ID" in capitals.
 *
 * @since 0.1.0
 * @category method errors
 */
export class QueueIdEmpty extends declare<QueueIdEmpty>()("QueueIdEmpty", {
  code: "QUEUE_ID_EMPTY",
  status: 400,
  description: "QUEUE ID can't be empty",
  kind: "method",
  source: "wire sheet §6.13 (new page)"
}) {}

/**
 * `TRANSFER_ID_EMPTY` (400): `imopenlines.operator.transfer` with none of `TRANSFER_ID`, `USER_ID`, `QUEUE_ID`.
 *
 * @since 0.1.0
 * @category method errors
 */
export class TransferIdEmpty extends declare<TransferIdEmpty>()("TransferIdEmpty", {
  code: "TRANSFER_ID_EMPTY",
  status: 400,
  description: "Queue ID or User ID can't be empty",
  kind: "method",
  source: "wire sheet §6.13 (new page)"
}) {}

/**
 * `IMOL_CHAT_ERROR_NOT_LOAD_CRM` (400): `imopenlines.crm.lead.create` could not load the CRM (module missing or
 * unavailable).
 *
 * @since 0.1.0
 * @category method errors
 */
export class ImolChatErrorNotLoadCrm extends declare<ImolChatErrorNotLoadCrm>()("ImolChatErrorNotLoadCrm", {
  code: "IMOL_CHAT_ERROR_NOT_LOAD_CRM",
  status: 400,
  description: "Failed to load CRM",
  kind: "method",
  source: "wire sheet §6.11 (new page and server source)"
}) {}

/**
 * `IMOL_CHAT_ERROR_NOT_LOAD_DATA` (400): the session found for the chat belongs to another chat (the server's
 * consistency check in `crm.lead.create`, `operator.finish`, `operator.another.finish`). Text from the portal's
 * English language file.
 *
 * @since 0.1.0
 * @category method errors
 */
export class ImolChatErrorNotLoadData extends declare<ImolChatErrorNotLoadData>()("ImolChatErrorNotLoadData", {
  code: "IMOL_CHAT_ERROR_NOT_LOAD_DATA",
  status: 400,
  description: "Unable to load chat data",
  kind: "method",
  source: "wire sheet §6.11, §6.13; text: SRC-old lang/en/lib/chat.php"
}) {}

/**
 * `IMOL_CHAT_ERROR_ANSWER_NOT_LOAD_SESSION` (400): `imopenlines.crm.lead.create` found no session for the chat.
 *
 * @since 0.1.0
 * @category method errors
 */
export class ImolChatErrorAnswerNotLoadSession
  extends declare<ImolChatErrorAnswerNotLoadSession>()("ImolChatErrorAnswerNotLoadSession", {
    code: "IMOL_CHAT_ERROR_ANSWER_NOT_LOAD_SESSION",
    status: 400,
    description: "Cannot load session",
    kind: "method",
    source: "wire sheet §6.11"
  })
{}

/**
 * `IMOL_CHAT_ERROR_NOT_LOAD_CHAT` (400): `imopenlines.crm.lead.create` could not load the chat.
 *
 * @since 0.1.0
 * @category method errors
 */
export class ImolChatErrorNotLoadChat extends declare<ImolChatErrorNotLoadChat>()("ImolChatErrorNotLoadChat", {
  code: "IMOL_CHAT_ERROR_NOT_LOAD_CHAT",
  status: 400,
  description: "Chat failed to load",
  kind: "method",
  source: "wire sheet §6.11"
}) {}

/**
 * `NOT_LOAD_SESSION_OR_CHAT` (400): `imopenlines.operator.finish` / `.another.finish` found no running session in
 * the chat (it is already closed).
 *
 * @since 0.1.0
 * @category method errors
 */
export class NotLoadSessionOrChat extends declare<NotLoadSessionOrChat>()("NotLoadSessionOrChat", {
  code: "NOT_LOAD_SESSION_OR_CHAT",
  status: 400,
  description: "Session or chat failed to load",
  kind: "method",
  source: "wire sheet §6.13"
}) {}

// ---------------------------------------------------------------------------------------------------------------
// Events, connectors and line setup (docs/bitrix24-events.md §1, §3, §5)
// ---------------------------------------------------------------------------------------------------------------

/**
 * `WRONG_AUTH_TYPE` (403): the method needs an OAuth application's context; an inbound webhook (or another auth type)
 * is refused (events sheet §1, §5.1). The status of the `event.*` answer is not documented (§7.7); 403, the status the
 * connector pages list, is assumed for both.
 *
 * @since 0.1.0
 * @category method errors
 */
export class WrongAuthType extends declare<WrongAuthType>()("WrongAuthType", {
  code: "WRONG_AUTH_TYPE",
  status: 403,
  description: "Current authorization type is denied for this method",
  kind: "method",
  source: "docs/bitrix24-events.md §1, §5.1, §7.7"
}) {}

/**
 * `ERROR_ARGUMENT` (400): a required argument is missing or has the wrong type ("Argument 'X' is null or empty").
 * The connector methods and `event.*` answer it (events sheet §1.1, §5.1, §5.2).
 *
 * @since 0.1.0
 * @category method errors
 */
export class ErrorArgument extends declare<ErrorArgument>()("ErrorArgument", {
  code: "ERROR_ARGUMENT",
  status: 400,
  description: "Argument is null or empty",
  kind: "method",
  source: "docs/bitrix24-events.md §1.1, §5.1, §5.2"
}) {}

/**
 * `NOT_ACTIVE_LINE` (400): the connector is not active on the line (never activated, switched off, or the line is
 * gone): the messages methods refuse it (events sheet §5.2, §5.6 step 10).
 *
 * @since 0.1.0
 * @category method errors
 */
export class NotActiveLine extends declare<NotActiveLine>()("NotActiveLine", {
  code: "NOT_ACTIVE_LINE",
  status: 400,
  description: "The connector is not active on this line",
  kind: "method",
  source: "docs/bitrix24-events.md §5.2"
}) {}

/**
 * `IMCONNECTOR_NO_CORRECT_PROVIDER` (400): no connector with that ID is registered (events sheet §5.2).
 *
 * @since 0.1.0
 * @category method errors
 */
export class NoCorrectProvider extends declare<NoCorrectProvider>()("NoCorrectProvider", {
  code: "IMCONNECTOR_NO_CORRECT_PROVIDER",
  status: 400,
  description: "Failed to find a correct provider for the connector",
  kind: "method",
  source: "docs/bitrix24-events.md §5.2"
}) {}

/**
 * `IMCONNECTOR_NOT_SPECIFIED_CORRECT_COMMAND` (400): the connector command could not be run (events sheet §5.2).
 *
 * @since 0.1.0
 * @category method errors
 */
export class NotSpecifiedCorrectCommand extends declare<NotSpecifiedCorrectCommand>()("NotSpecifiedCorrectCommand", {
  code: "IMCONNECTOR_NOT_SPECIFIED_CORRECT_COMMAND",
  status: 400,
  description: "The command for the connector was not specified correctly",
  kind: "method",
  source: "docs/bitrix24-events.md §5.2"
}) {}

/**
 * `CHAT_RENAMING_FAILED` (400): `imconnector.chat.name.set` found no open-line chat for the outside chat (events
 * sheet §5.2).
 *
 * @since 0.1.0
 * @category method errors
 */
export class ChatRenamingFailed extends declare<ChatRenamingFailed>()("ChatRenamingFailed", {
  code: "CHAT_RENAMING_FAILED",
  status: 400,
  description: "Failed to rename the chat",
  kind: "method",
  source: "docs/bitrix24-events.md §5.2"
}) {}

/**
 * A failure `imconnector.register` / `imconnector.unregister` report inside HTTP 200, as
 * `{"result":{"result":false,"error":…,"error_description":…}}` (events sheet §5.1): typed by the method's result
 * hook (`Method.Spec.embeddedError`), so callers never have to look inside a successful answer. Status 200.
 */
const embedded = (code: string, description: string) => ({
  code,
  status: 200,
  description,
  kind: "method" as const,
  source: "docs/bitrix24-events.md §5.1, §5.2 (reported inside HTTP 200)"
})

/**
 * `APPLICATION_REGISTRATION_ERROR_POINT` (inside HTTP 200): the connector ID contains a dot.
 *
 * @since 0.1.0
 * @category method errors
 */
export class RegistrationErrorPoint extends declare<RegistrationErrorPoint>()(
  "RegistrationErrorPoint",
  embedded("APPLICATION_REGISTRATION_ERROR_POINT", "The connector ID must not contain a dot")
) {}

/**
 * `CONNECTOR_ID_REQUIRED` (inside HTTP 200).
 *
 * @since 0.1.0
 * @category method errors
 */
export class ConnectorIdRequired extends declare<ConnectorIdRequired>()(
  "ConnectorIdRequired",
  embedded("CONNECTOR_ID_REQUIRED", "The connector ID is required")
) {}

/**
 * `NAME_REQUIRED` (inside HTTP 200).
 *
 * @since 0.1.0
 * @category method errors
 */
export class NameRequired extends declare<NameRequired>()(
  "NameRequired",
  embedded("NAME_REQUIRED", "The connector name is required")
) {}

/**
 * `ICON_REQUIRED` (inside HTTP 200).
 *
 * @since 0.1.0
 * @category method errors
 */
export class IconRequired extends declare<IconRequired>()(
  "IconRequired",
  embedded("ICON_REQUIRED", "The connector icon is required")
) {}

/**
 * `NO_APPLICATION_ID` (inside HTTP 200): the call does not come from an application.
 *
 * @since 0.1.0
 * @category method errors
 */
export class NoApplicationId extends declare<NoApplicationId>()(
  "NoApplicationId",
  embedded("NO_APPLICATION_ID", "The application ID is missing")
) {}

/**
 * `NO_PLACEMENT_HANDLER` (inside HTTP 200).
 *
 * @since 0.1.0
 * @category method errors
 */
export class NoPlacementHandler extends declare<NoPlacementHandler>()(
  "NoPlacementHandler",
  embedded("NO_PLACEMENT_HANDLER", "The placement handler is required")
) {}

/**
 * `APPLICATION_REGISTRATION_ERROR` (inside HTTP 200).
 *
 * @since 0.1.0
 * @category method errors
 */
export class ApplicationRegistrationError extends declare<ApplicationRegistrationError>()(
  "ApplicationRegistrationError",
  embedded("APPLICATION_REGISTRATION_ERROR", "The connector could not be registered")
) {}

/**
 * `GENERAL_CONNECTOR_REGISTRATION_ERROR` (inside HTTP 200).
 *
 * @since 0.1.0
 * @category method errors
 */
export class GeneralConnectorRegistrationError extends declare<GeneralConnectorRegistrationError>()(
  "GeneralConnectorRegistrationError",
  embedded("GENERAL_CONNECTOR_REGISTRATION_ERROR", "The connector could not be registered")
) {}

/**
 * `APPLICATION_UNREGISTRATION_ERROR` (inside HTTP 200): no connector with that ID is registered by the application.
 *
 * @since 0.1.0
 * @category method errors
 */
export class ApplicationUnregistrationError extends declare<ApplicationUnregistrationError>()(
  "ApplicationUnregistrationError",
  embedded("APPLICATION_UNREGISTRATION_ERROR", "The connector could not be unregistered")
) {}

/**
 * `ERROR_EVENT_NOT_FOUND` (400): the event code is unknown, or not in the application's granted scopes (events sheet
 * §1.1).
 *
 * @since 0.1.0
 * @category method errors
 */
export class EventNotFound extends declare<EventNotFound>()("EventNotFound", {
  code: "ERROR_EVENT_NOT_FOUND",
  status: 400,
  description: "Event not found",
  kind: "method",
  source: "docs/bitrix24-events.md §1.1"
}) {}

/**
 * `ACCESS_DENIED` (403) from `event.*`: offline events, and binding for another user (`auth_type`), need an
 * administrator (events sheet §1.1, §1.2, §3.1). Told apart from the plan denial {@link AccessDeniedByPlan} by its
 * text, which never mentions a plan.
 *
 * @since 0.1.0
 * @category method errors
 */
export class EventAccessDenied extends declare<EventAccessDenied>()("EventAccessDenied", {
  code: "ACCESS_DENIED",
  status: 403,
  description: "Access denied!",
  kind: "method",
  source: "docs/bitrix24-events.md §1.1, §1.2, §3.1",
  matches: (wire) => !/commercial plan|subscription/i.test(wire.description)
}) {}

/**
 * `ERROR_CORE` (400): the handler could not be set, typically because the same event and handler URL are bound
 * already (events sheet §1.1; the status is not documented, 400 is assumed).
 *
 * @since 0.1.0
 * @category method errors
 */
export class ErrorCore extends declare<ErrorCore>()("ErrorCore", {
  code: "ERROR_CORE",
  status: 400,
  description: "Unable to set event handler",
  kind: "method",
  source: "docs/bitrix24-events.md §1.1"
}) {}

/**
 * `ERROR_WRONG_HANDLER_URL` (400): the handler is not an `http`/`https` URL whose host contains a dot (events sheet
 * §1.1; status assumed).
 *
 * @since 0.1.0
 * @category method errors
 */
export class WrongHandlerUrl extends declare<WrongHandlerUrl>()("WrongHandlerUrl", {
  code: "ERROR_WRONG_HANDLER_URL",
  status: 400,
  description: "Wrong handler URL",
  kind: "method",
  source: "docs/bitrix24-events.md §1.1"
}) {}

/**
 * `CONFIG_ID_EMPTY` (400): `imopenlines.config.*` without a `CONFIG_ID` (events sheet §5.5).
 *
 * @since 0.1.0
 * @category method errors
 */
export class ConfigIdEmpty extends declare<ConfigIdEmpty>()("ConfigIdEmpty", {
  code: "CONFIG_ID_EMPTY",
  status: 400,
  description: "Config ID can't be empty",
  kind: "method",
  source: "docs/bitrix24-events.md §5.5"
}) {}

/**
 * `CONFIG_WRONG_USER_PERMISSION` (403): the caller may not change open-line settings (events sheet §5.5).
 *
 * @since 0.1.0
 * @category method errors
 */
export class ConfigWrongUserPermission extends declare<ConfigWrongUserPermission>()("ConfigWrongUserPermission", {
  code: "CONFIG_WRONG_USER_PERMISSION",
  status: 403,
  description: "You do not have permission to change the settings of this open line",
  kind: "method",
  source: "docs/bitrix24-events.md §5.5"
}) {}

/**
 * `MESSAGE_EMPTY` (400): `im.message.add` without text (or attachment).
 *
 * @since 0.1.0
 * @category method errors
 */
export class MessageEmpty extends declare<MessageEmpty>()("MessageEmpty", {
  code: "MESSAGE_EMPTY",
  status: 400,
  description: "Message can't be empty",
  kind: "method",
  source: "im.message.add documentation page (not in the fact sheets)"
}) {}

/**
 * `MESSAGE_ID_ERROR` (400): `im.message.update` / `.delete` without a valid message ID.
 *
 * @since 0.1.0
 * @category method errors
 */
export class MessageIdError extends declare<MessageIdError>()("MessageIdError", {
  code: "MESSAGE_ID_ERROR",
  status: 400,
  description: "Message ID can't be empty",
  kind: "method",
  source: "im.message.update / im.message.delete documentation pages (not in the fact sheets)"
}) {}

/**
 * `CANT_EDIT_MESSAGE` (400): the message is not the caller's, or can no longer be changed.
 *
 * @since 0.1.0
 * @category method errors
 */
export class CantEditMessage extends declare<CantEditMessage>()("CantEditMessage", {
  code: "CANT_EDIT_MESSAGE",
  status: 400,
  description: "Time has expired for modification or you don't have access",
  kind: "method",
  source: "im.message.update / im.message.delete documentation pages (not in the fact sheets)"
}) {}

// ---------------------------------------------------------------------------------------------------------------
// System codes: any method (seed system-error table, wire sheet §3-§5)
// ---------------------------------------------------------------------------------------------------------------

/** @since 0.1.0 @category system errors */
export class InternalServerError extends declare<InternalServerError>()("InternalServerError", {
  code: "INTERNAL_SERVER_ERROR",
  status: 500,
  description: "Internal server error",
  kind: "system",
  source: "seeds/003 system errors; wire sheet §5"
}) {}

/** @since 0.1.0 @category system errors */
export class UnexpectedAnswer extends declare<UnexpectedAnswer>()("UnexpectedAnswer", {
  code: "ERROR_UNEXPECTED_ANSWER",
  status: 500,
  description: "Server returned an unexpected response",
  kind: "system",
  source: "seeds/003 system errors; wire sheet §5"
}) {}

/**
 * `QUERY_LIMIT_EXCEEDED` (503): the portal's leaky bucket is full. The call did not run, so it is always safe to
 * retry. Status 503 per the current docs (the 2024 docs said 429; wire sheet §3.1, §8.1).
 *
 * @since 0.1.0
 * @category system errors
 */
export class QueryLimitExceeded extends declare<QueryLimitExceeded>()("QueryLimitExceeded", {
  code: "QUERY_LIMIT_EXCEEDED",
  status: 503,
  description: "Too many requests",
  kind: "system",
  source: "seeds/003 system errors; wire sheet §3.1"
}) {}

/**
 * `OPERATION_TIME_LIMIT` (429): the method used up its operating time for the 10-minute window. The call did not
 * run (wire sheet §3.2).
 *
 * @since 0.1.0
 * @category system errors
 */
export class OperationTimeLimit extends declare<OperationTimeLimit>()("OperationTimeLimit", {
  code: "OPERATION_TIME_LIMIT",
  status: 429,
  description: "Method is blocked due to operation time limit.",
  kind: "system",
  source: "wire sheet §3.2, §5"
}) {}

/** @since 0.1.0 @category system errors */
export class BatchMethodNotAllowed extends declare<BatchMethodNotAllowed>()("BatchMethodNotAllowed", {
  code: "ERROR_BATCH_METHOD_NOT_ALLOWED",
  status: 405,
  description: "Method is not allowed for batch usage",
  kind: "system",
  source: "seeds/003 system errors; wire sheet §2"
}) {}

/** @since 0.1.0 @category system errors */
export class BatchLengthExceeded extends declare<BatchLengthExceeded>()("BatchLengthExceeded", {
  code: "ERROR_BATCH_LENGTH_EXCEEDED",
  status: 400,
  description: "Max batch length exceeded",
  kind: "system",
  source: "seeds/003 system errors; wire sheet §2"
}) {}

/**
 * `NO_AUTH_FOUND` (401): no auth handler recognised the credentials (a wrong inbound webhook code, for instance).
 *
 * @since 0.1.0
 * @category system errors
 */
export class NoAuthFound extends declare<NoAuthFound>()("NoAuthFound", {
  code: "NO_AUTH_FOUND",
  status: 401,
  description: "Wrong authorization data",
  kind: "system",
  source: "seeds/003 system errors; wire sheet §4, §5"
}) {}

/** `INVALID_REQUEST` (400): an inbound webhook was called over plain HTTP. @since 0.1.0 @category system errors */
export class InvalidRequest extends declare<InvalidRequest>()("InvalidRequest", {
  code: "INVALID_REQUEST",
  status: 400,
  description: "Https required",
  kind: "system",
  source: "seeds/003 system errors; wire sheet §5"
}) {}

/** @since 0.1.0 @category system errors */
export class OverloadLimit extends declare<OverloadLimit>()("OverloadLimit", {
  code: "OVERLOAD_LIMIT",
  status: 503,
  description: "REST API is blocked due to overload",
  kind: "system",
  source: "seeds/003 system errors; wire sheet §3.3"
}) {}

/**
 * `ACCESS_DENIED` (403) from the auth layer: REST is available only on commercial plans. Told apart from the
 * open-lines {@link AccessDenied} (400) by its status and text.
 *
 * @since 0.1.0
 * @category system errors
 */
export class AccessDeniedByPlan extends declare<AccessDeniedByPlan>()("AccessDeniedByPlan", {
  code: "ACCESS_DENIED",
  status: 403,
  description: "REST API is available only on commercial plans",
  kind: "system",
  source: "seeds/003 system errors; wire sheet §5",
  matches: (wire) => isPlanDenial(wire)
}) {}

/** @since 0.1.0 @category system errors */
export class InvalidCredentials extends declare<InvalidCredentials>()("InvalidCredentials", {
  code: "INVALID_CREDENTIALS",
  status: 403,
  description: "Invalid request credentials",
  kind: "system",
  source: "seeds/003 system errors; wire sheet §5"
}) {}

/** @since 0.1.0 @category system errors */
export class ManifestNotAvailable extends declare<ManifestNotAvailable>()("ManifestNotAvailable", {
  code: "ERROR_MANIFEST_IS_NOT_AVAILABLE",
  status: 404,
  description: "Manifest is not available",
  kind: "system",
  source: "seeds/003 system errors; wire sheet §5"
}) {}

/** `insufficient_scope` (403): the webhook or token lacks the method's scope. @since 0.1.0 @category system errors */
export class InsufficientScope extends declare<InsufficientScope>()("InsufficientScope", {
  code: "insufficient_scope",
  status: 403,
  description: "The request requires higher privileges than provided by the webhook token",
  kind: "system",
  source: "seeds/003 system errors; wire sheet §4, §5"
}) {}

/**
 * The `error_description` of `insufficient_scope` when the caller used an OAuth access token; {@link InsufficientScope}
 * carries the inbound webhook's (wire sheet §4). Inside a `batch` the description is empty (§2, step 6).
 *
 * @since 0.1.0
 * @category system errors
 */
export const insufficientScopeForToken = "The request requires higher privileges than provided by the access token"

/**
 * `expired_token` (401): the OAuth access token expired; refresh it and replay the call (wire sheet §4).
 *
 * @since 0.1.0
 * @category system errors
 */
export class ExpiredToken extends declare<ExpiredToken>()("ExpiredToken", {
  code: "expired_token",
  status: 401,
  description: "The access token provided has expired",
  kind: "system",
  source: "seeds/003 system errors; wire sheet §4"
}) {}

/** `invalid_token` (401): the OAuth server does not know the token (wire sheet §4). @since 0.1.0 @category system errors */
export class InvalidToken extends declare<InvalidToken>()("InvalidToken", {
  code: "invalid_token",
  status: 401,
  description: "The access token provided is invalid",
  kind: "system",
  source: "wire sheet §4, §5"
}) {}

/** @since 0.1.0 @category system errors */
export class UserAccessError extends declare<UserAccessError>()("UserAccessError", {
  code: "user_access_error",
  status: 403,
  description: "The user does not have access to the application",
  kind: "system",
  source: "seeds/003 system errors; wire sheet §5"
}) {}

/** @since 0.1.0 @category system errors */
export class PortalDeleted extends declare<PortalDeleted>()("PortalDeleted", {
  code: "PORTAL_DELETED",
  status: 500,
  description: "Portal was deleted",
  kind: "system",
  source: "seeds/003 system errors; wire sheet §5"
}) {}

/** `ERROR_METHOD_NOT_FOUND` (404): no such REST method on the portal. @since 0.1.0 @category system errors */
export class MethodNotFound extends declare<MethodNotFound>()("MethodNotFound", {
  code: "ERROR_METHOD_NOT_FOUND",
  status: 404,
  description: "Method not found!",
  kind: "system",
  source: "wire sheet §1.1, §5"
}) {}

/**
 * `invalid_grant` (400) from the OAuth server: the refresh token is dead (already used, expired or unknown). Terminal:
 * the application must be authorized on the portal again (wire sheet §4).
 *
 * @since 0.1.0
 * @category system errors
 */
export class InvalidGrant extends declare<InvalidGrant>()("InvalidGrant", {
  code: "invalid_grant",
  status: 400,
  description: "The refresh token is invalid or expired: authorize the application on the portal again",
  kind: "system",
  source: "wire sheet §4 (auth-server errors)"
}) {}

/**
 * `invalid_client` (401) from the OAuth server: wrong client id or secret, or the application is not installed.
 * Terminal (wire sheet §4).
 *
 * @since 0.1.0
 * @category system errors
 */
export class InvalidClient extends declare<InvalidClient>()("InvalidClient", {
  code: "invalid_client",
  status: 401,
  description: "Invalid client: wrong client id or secret, or the application is not installed",
  kind: "system",
  source: "wire sheet §4 (auth-server errors)"
}) {}

/**
 * The fallback for a code no class declares, including the empty code `""` some open-lines handlers send
 * (wire sheet §1.5, "Empty-code quirk"). Keeps the code, the description and the status as received.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnknownPortalError extends Schema.TaggedError<UnknownPortalError>(
  "@bitrix24-effect/core/UnknownPortalError"
)("UnknownPortalError", {
  method: Schema.String,
  code: Schema.String,
  description: Schema.String,
  status: Schema.Number
}) {
  override get message(): string {
    return describe(this)
  }
}

/**
 * Every system error class, in the order of the seed table.
 *
 * @since 0.1.0
 * @category system errors
 */
export const systemErrors = [
  InternalServerError,
  UnexpectedAnswer,
  QueryLimitExceeded,
  BatchMethodNotAllowed,
  BatchLengthExceeded,
  NoAuthFound,
  InvalidRequest,
  OverloadLimit,
  AccessDeniedByPlan,
  InvalidCredentials,
  ManifestNotAvailable,
  InsufficientScope,
  ExpiredToken,
  UserAccessError,
  PortalDeleted,
  OperationTimeLimit,
  MethodNotFound,
  InvalidToken,
  InvalidGrant,
  InvalidClient
] as const

/**
 * Any system error: what every method may fail with besides its own codes.
 *
 * @since 0.1.0
 * @category system errors
 */
export type SystemError = InstanceType<typeof systemErrors[number]>

/** The mute denial of `im.chat.mute` (403, "This chat cannot be muted") as opposed to the dialog denial (400). */
function isMuteDenial(wire: WireError): boolean {
  return wire.status === undefined ? /muted/i.test(wire.description) : wire.status === 403
}

function isPlanDenial(wire: WireError): boolean {
  return /commercial plan|subscription/i.test(wire.description) || wire.status === 403
}

/**
 * Turns a wire error into the typed error: the method's own classes first, then the system classes, otherwise
 * {@link UnknownPortalError}. Where a class has `matches` (the codes the portal uses twice: `ACCESS_DENIED` for the
 * open-lines denial and the plan denial, `ACCESS_ERROR` for the mute denial and the dialog denial), it must also
 * agree: a 400 `ACCESS_DENIED` from a method that does not declare it is not the plan-level error, and a 400
 * `ACCESS_ERROR` is never the mute denial.
 * A missing status (batch sub-calls) takes the class's documented status.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromWire = <const Declared extends ReadonlyArray<PortalErrorClass<any>>>(
  method: string,
  wire: WireError,
  declared: Declared
): InstanceType<Declared[number]> | SystemError | UnknownPortalError => {
  const Class = [...declared, ...systemErrors].find((candidate) =>
    candidate.spec.code === wire.code && (candidate.spec.matches === undefined || candidate.spec.matches(wire))
  )
  if (Class === undefined) {
    return new UnknownPortalError({
      method,
      code: wire.code,
      description: wire.description,
      status: wire.status ?? 400
    })
  }
  return new Class({
    method,
    code: wire.code,
    description: wire.description,
    status: wire.status ?? Class.spec.status
  }) as InstanceType<Declared[number]> | SystemError
}

/**
 * Bad input, found before any network I/O: the params did not match the method's declaration.
 * `field` names the offending parameter as sent on the wire (`CHAT_ID`), or `""` for the whole object.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidParams extends Schema.TaggedError<InvalidParams>("@bitrix24-effect/core/InvalidParams")(
  "InvalidParams",
  {
    method: Schema.String,
    field: Schema.String,
    missing: Schema.Boolean,
    reason: Schema.String
  }
) {
  override get message(): string {
    return `${this.method}: invalid parameter ${this.field || "(params)"}: ${this.reason}`
  }
}

/**
 * The call could not be completed at the HTTP level.
 * - `Network`: the request failed before a response arrived (refused, reset, DNS).
 * - `Timeout`: no response within the per-call timeout.
 * - `InvalidBody`: the response was not a Bitrix24 envelope (HTML error page, truncated JSON, wrong shape).
 * - `UnexpectedResult`: the envelope's `result` did not match the method's result schema.
 *
 * The description never contains the request URL, which carries the inbound webhook code.
 *
 * @since 0.1.0
 * @category errors
 */
export class TransportError extends Schema.TaggedError<TransportError>("@bitrix24-effect/core/TransportError")(
  "TransportError",
  {
    method: Schema.String,
    reason: Schema.Literal("Network", "Timeout", "InvalidBody", "UnexpectedResult"),
    description: Schema.String,
    status: Schema.optional(Schema.Number)
  }
) {
  override get message(): string {
    const status = this.status === undefined ? "" : ` (HTTP ${this.status})`
    return `${this.method}: ${this.reason}${status}: ${this.description}`
  }
}

/**
 * Is this value one of the portal error classes (method, system or unknown)?
 *
 * @since 0.1.0
 * @category guards
 */
export const isPortalError = (u: unknown): u is PortalError =>
  Predicate.hasProperty(u, "_tag") && Predicate.hasProperty(u, "code") && Predicate.hasProperty(u, "status") &&
  Predicate.hasProperty(u, "method") && Predicate.hasProperty(u, "description")
