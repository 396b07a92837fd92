/**
 * The method model: each Bitrix24 REST method is one declaration, and everything else is derived from it.
 *
 * A declaration names the method, its params (a record of Schema fields whose Type is the typed API and whose
 * Encoded side is the wire), its result Schema, the `Schema.TaggedError` classes of its documented codes and its
 * idempotency. `make` turns it into a callable: `method(params)` validates and encodes the params before any I/O,
 * sends them through the {@link Bitrix24Client} seam, types the portal's error and decodes the result.
 * The CLI commands, proxy routes, emulator handler registry and reference docs all read the same declaration.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as AST from "effect/SchemaAST"
import {
  ApplicationAuth,
  Bitrix24Client,
  type CallResponse,
  type Service as Bitrix24ClientService,
  type WireFailure
} from "./Bitrix24Client.js"
import * as Envelope from "./Envelope.js"
import * as ParamsEncoder from "./internal/paramsEncoder.js"
import * as PortalError from "./PortalError.js"
import * as Wire from "./Wire.js"

/**
 * Marks a declared method, so registries can pick declarations out of a module's exports ({@link isMethod}).
 *
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: unique symbol = Symbol.for("@bitrix24-effect/core/Method")

/**
 * @since 0.1.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * The typed params of a declaration with these fields.
 *
 * @since 0.1.0
 * @category models
 */
export type Params<Fields extends Schema.Struct.Fields> = Schema.Schema.Type<Schema.Struct<Fields>>

/**
 * The wire params of a declaration with these fields.
 *
 * @since 0.1.0
 * @category models
 */
export type WireParams<Fields extends Schema.Struct.Fields> = Schema.Schema.Encoded<Schema.Struct<Fields>>

/**
 * Which documented error the portal answers when a param is missing or invalid. The proxy uses it to answer bad
 * input with the envelope the portal itself would send.
 *
 * @since 0.1.0
 * @category models
 */
export interface InvalidParamError {
  readonly missing?: PortalError.PortalErrorClass<any> | undefined
  readonly invalid: PortalError.PortalErrorClass<any>
}

/**
 * What a declaration states about a method.
 *
 * @since 0.1.0
 * @category models
 */
export interface Spec<
  Name extends string,
  Fields extends Schema.Struct.Fields,
  A,
  I,
  Errors extends ReadonlyArray<PortalError.PortalErrorClass<any>>,
  Auth extends AuthKind = "any"
> {
  /** The REST method name, e.g. `imopenlines.session.mode.silent`. */
  readonly method: Name
  /** The permission scope the portal checks (`imopenlines`, `im`). */
  readonly scope: string
  /** One line for help texts. */
  readonly summary: string
  /** What the method does, its semantics and the choices made where sources disagree. */
  readonly description: string
  /** Where the facts come from (seed page, wire sheet section). */
  readonly source: string
  /** The params, keyed by their wire names. */
  readonly params: Fields
  /** A check across params (e.g. "one of CHAT_ID or DIALOG_ID"), reported against the named field. */
  readonly check?: (params: Params<Fields>) => { readonly field: string; readonly message: string } | undefined
  /** The `result` schema: Type is what callers get, Encoded what the portal sends. */
  readonly result: Schema.Schema<A, I>
  /** The method's documented error classes; system errors are added to every method. */
  readonly errors: Errors
  /** Which documented error the portal sends for a missing or invalid param (proxy answers). */
  readonly invalid?: { readonly [K in keyof Fields]?: InvalidParamError }
  /**
   * Whether replaying the call after an ambiguous failure (timeout, dropped connection, 5xx) leaves the portal as a
   * single call would. Non-idempotent calls are never replayed on ambiguity.
   */
  readonly idempotent: boolean
  /** Whether the call may travel inside `batch` (default `true`). */
  readonly batchable?: boolean
  /** A call that works verbatim against the emulator's default fixture (used by docs and tests). */
  readonly example: Params<Fields>
  /** Set when the portal marks the method deprecated. */
  readonly deprecated?: string
  /**
   * Which credentials the portal accepts: `"any"` (the default: an inbound webhook or an OAuth token) or
   * `"application"` (an OAuth application's token only; a webhook is refused with 403 `WRONG_AUTH_TYPE`, events sheet
   * §1, §5.1). An `"application"` method requires `Bitrix24Client.ApplicationAuth` besides the client, so calling it
   * through a webhook transport is a compile error (see {@link Requirements}).
   */
  readonly auth?: Auth
  /**
   * For methods that report failures inside a successful answer (`imconnector.register`:
   * `{"result":{"result":false,"error":…}}` with HTTP 200, events sheet §5.1): reads the raw `result` and returns the
   * wire error it carries, or `undefined` for a real success. The error is typed like any portal error, against
   * {@link errors}, with the status the class declares.
   */
  readonly embeddedError?: (result: unknown) => { readonly code: string; readonly description: string } | undefined
}

/**
 * Which credentials a method accepts (see {@link Spec.auth}).
 *
 * @since 0.1.0
 * @category models
 */
export type AuthKind = "any" | "application"

/**
 * What calling a method with this auth needs: the client, plus the proof of an application context for
 * `"application"` methods.
 *
 * @since 0.1.0
 * @category models
 */
export type Requirements<A extends AuthKind> = A extends "application" ? Bitrix24Client | ApplicationAuth
  : Bitrix24Client

/**
 * The error channel of a declared method: its own codes, the system codes, the unknown-code fallback, bad input and
 * transport failures.
 *
 * @since 0.1.0
 * @category models
 */
export type MethodError<Errors extends ReadonlyArray<PortalError.PortalErrorClass<any>>> =
  | InstanceType<Errors[number]>
  | PortalError.SystemError
  | PortalError.UnknownPortalError
  | PortalError.InvalidParams
  | PortalError.TransportError

/**
 * A declared, callable method. `method(params)` yields the decoded result; `withResponse(params)` also yields the
 * `time` block and list paging; `fromWire(params)` starts from untyped wire params (CLI, proxy). The typed calls
 * need {@link Requirements} of the method's auth; `fromWire` needs only the client (it forwards what it is given and
 * the portal judges the credentials, as a proxy must).
 *
 * @since 0.1.0
 * @category models
 */
export interface Method<
  Name extends string,
  Fields extends Schema.Struct.Fields,
  A,
  I,
  Errors extends ReadonlyArray<PortalError.PortalErrorClass<any>>,
  Auth extends AuthKind = "any"
> extends Spec<Name, Fields, A, I, Errors, Auth> {
  (params: Params<Fields>): Effect.Effect<A, MethodError<Errors>, Requirements<Auth>>
  readonly [TypeId]: TypeId
  /** The params schema: Type is the typed API, Encoded the wire form. Includes the `check`. */
  readonly paramsSchema: Schema.Schema<Params<Fields>, WireParams<Fields>>
  /** Like calling the method, but keeps the envelope's `time`, `next` and `total`. */
  readonly withResponse: (
    params: Params<Fields>
  ) => Effect.Effect<CallResponse<A>, MethodError<Errors>, Requirements<Auth>>
  /** Decodes untyped wire params (strings from a form, a CLI or a proxy client), then calls. */
  readonly fromWire: (params: unknown) => Effect.Effect<CallResponse<A>, MethodError<Errors>, Bitrix24Client>
  /** Validates typed params and encodes them for the wire, with no I/O. */
  readonly encodeParams: (params: Params<Fields>) => Effect.Effect<Wire.Params, PortalError.InvalidParams>
  /** {@link encodeParams} as a synchronous `Either` (no effect to run; for hot paths such as batches). */
  readonly encodeParamsEither: (params: Params<Fields>) => Either.Either<Wire.Params, PortalError.InvalidParams>
  /**
   * Decodes untyped wire params into typed ones, with no I/O. Params nested deeper than `Wire.maxDepth` are refused
   * before decoding; no reason quotes more than a few hundred characters of the input.
   */
  readonly decodeParams: (params: unknown) => Effect.Effect<Params<Fields>, PortalError.InvalidParams>
}

/**
 * Any declared method, for registries.
 *
 * @since 0.1.0
 * @category models
 */
export interface Any
  extends Spec<string, Schema.Struct.Fields, any, any, ReadonlyArray<PortalError.PortalErrorClass<any>>, AuthKind>
{
  (params: any): Effect.Effect<any, any, Bitrix24Client | ApplicationAuth>
  readonly [TypeId]: TypeId
  readonly check?: (params: any) => { readonly field: string; readonly message: string } | undefined
  readonly paramsSchema: Schema.Schema<any, any>
  readonly withResponse: (params: any) => Effect.Effect<CallResponse<any>, any, Bitrix24Client | ApplicationAuth>
  readonly fromWire: (params: unknown) => Effect.Effect<CallResponse<any>, any, Bitrix24Client>
  readonly encodeParams: (params: any) => Effect.Effect<Wire.Params, PortalError.InvalidParams>
  readonly encodeParamsEither: (params: any) => Either.Either<Wire.Params, PortalError.InvalidParams>
  readonly decodeParams: (params: unknown) => Effect.Effect<any, PortalError.InvalidParams>
}

/**
 * Is this value a declared method? Picks the declarations out of a module namespace (see `Catalog`).
 *
 * @since 0.1.0
 * @category guards
 */
export const isMethod = (u: unknown): u is Any => typeof u === "function" && TypeId in u

/** The most characters of a formatted parse error kept in an error: the formatter quotes the offending value. */
const maxReasonLength = 500

const clip = (text: string): string => {
  if (text.length <= maxReasonLength) return text
  const end = /[\uD800-\uDBFF]/.test(text[maxReasonLength - 1]!) ? maxReasonLength - 1 : maxReasonLength
  return `${text.slice(0, end)}… (${text.length - end} more characters)`
}

const toInvalidParams = (method: string) => (error: ParseResult.ParseError): PortalError.InvalidParams => {
  const issue = ParseResult.ArrayFormatter.formatErrorSync(error)[0]
  return new PortalError.InvalidParams({
    method,
    field: issue === undefined ? "" : issue.path.map(String).join("."),
    missing: issue?._tag === "Missing",
    reason: clip(issue?.message ?? error.message)
  })
}

/**
 * The `TransportError` (`UnexpectedResult`) of a result that does not match its schema: the parse error formatted and
 * clipped to a few hundred characters, or, for a result nested deeper than `Wire.maxDepth` levels, not formatted at
 * all (the formatter quotes the result and recurses through it).
 *
 * @since 0.1.0
 * @category errors
 */
export const unexpectedResult = (
  method: string,
  error: ParseResult.ParseError,
  result: unknown
): PortalError.TransportError =>
  new PortalError.TransportError({
    method,
    reason: "UnexpectedResult",
    description: Wire.tooDeep({ result }) === undefined
      ? clip(ParseResult.TreeFormatter.formatErrorSync(error))
      : `the result is nested deeper than ${Wire.maxDepth} levels`
  })

const tooDeep = (method: string, field: string): PortalError.InvalidParams =>
  new PortalError.InvalidParams({
    method,
    field,
    missing: false,
    reason: `nested deeper than ${Wire.maxDepth} levels`
  })

/**
 * Declares a method and returns it as a callable (see {@link Method}).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <
  const Name extends string,
  Fields extends Schema.Struct.Fields,
  A,
  I,
  const Errors extends ReadonlyArray<PortalError.PortalErrorClass<any>>,
  const Auth extends AuthKind = "any"
>(spec: Spec<Name, Fields, A, I, Errors, Auth>): Method<Name, Fields, A, I, Errors, Auth> => {
  const struct = Schema.Struct(spec.params)
  const check = spec.check
  const checked = check === undefined ? struct : struct.pipe(Schema.filter((params) => {
    const failure = check(params)
    return failure === undefined ? true : { path: [failure.field], message: failure.message }
  }))
  // Declared fields carry no context requirements (they are plain wire schemas).
  const paramsSchema = checked as unknown as Schema.Schema<Params<Fields>, WireParams<Fields>>
  // Compiled once per declaration; the synchronous (Either) forms save the effect steps of the effectful ones on
  // the hot path (declared wire schemas have no asynchronous parts).
  const encode = Schema.encodeUnknownEither(paramsSchema)
  // The common params (IDs and Y/N flags) without the schema interpreter; the schema for everything else.
  const encodeDirectly = ParamsEncoder.make(struct.ast)
  const decode = Schema.decodeUnknown(paramsSchema)
  const decodeResult = Schema.decodeUnknownEither(spec.result)
  const invalid = toInvalidParams(spec.method)
  const batchable = spec.batchable ?? true
  const embeddedError = spec.embeddedError
  const typeError = (wire: { readonly code: string; readonly description: string }) =>
    PortalError.fromWire(spec.method, { ...wire, status: undefined }, spec.errors)

  const typed = (failure: WireFailure | PortalError.TransportError) =>
    failure._tag === "WireFailure" ? PortalError.fromWire(spec.method, failure, spec.errors) : failure
  // Sends the wire params and finishes in one continuation per outcome: the result decoded and handed to `finish`
  // (the bare result or the whole response), or the failure typed (an error the portal embeds in a success answer
  // too, for the methods that declare one).
  const send = <B>(
    client: Bitrix24ClientService,
    params: Wire.Params,
    finish: (response: CallResponse, result: A) => B
  ): Effect.Effect<B, MethodError<Errors>> =>
    Effect.matchEffect(client.call({ method: spec.method, params, idempotent: spec.idempotent, batchable }), {
      onFailure: (failure) => Effect.fail(typed(failure)),
      onSuccess: (response): Effect.Effect<B, MethodError<Errors>> => {
        const embedded = embeddedError === undefined ? undefined : embeddedError(response.result)
        if (embedded !== undefined) return Effect.fail(typeError(embedded))
        const result = decodeResult(response.result)
        return result._tag === "Right"
          ? Effect.succeed(finish(response, result.right))
          : Effect.fail(unexpectedResult(spec.method, result.left, response.result))
      }
    })
  const withResult = (response: CallResponse, result: A): CallResponse<A> => ({ ...response, result })
  const resultOnly = (_: CallResponse, result: A): A => result

  // A struct without fields is Schema's `{}`, which lets any object through as it is: a method that declares no
  // params takes none and sends none.
  const none = Object.keys(spec.params).length === 0
  const encodeParamsEither = (params: Params<Fields>): Either.Either<Wire.Params, PortalError.InvalidParams> => {
    if (none) return Either.right({})
    const direct = encodeDirectly?.(params)
    if (direct !== undefined && (check === undefined || check(params) === undefined)) return Either.right(direct)
    const wire = encode(params)
    return wire._tag === "Right" ? Either.right(wire.right as Wire.Params) : Either.left(invalid(wire.left))
  }
  const encodeParams = (params: Params<Fields>) => Effect.suspend(() => encodeParamsEither(params))
  const decodeParams = (params: unknown) =>
    Effect.suspend(() => {
      const field = Wire.tooDeep(params)
      if (field !== undefined) return Effect.fail(tooDeep(spec.method, field))
      const decoded = decode(params).pipe(Effect.mapError(invalid))
      return none ? Effect.as(decoded, {} as Params<Fields>) : decoded
    })
  // The call's span is the transport's (`Bitrix24.http`, with the method, portal, batch size, attempts and waits):
  // one span per call. The params are encoded when the call runs, in the step that reads the client.
  const sendTyped = <B>(
    params: Params<Fields>,
    finish: (response: CallResponse, result: A) => B
  ): Effect.Effect<B, MethodError<Errors>, Bitrix24Client> =>
    // One step of the runtime reads the client from the fiber's context (what `Effect.flatMap(Bitrix24Client, ...)`
    // does in three); the requirement stays in the type.
    Effect.withFiberRuntime<B, MethodError<Errors>>((fiber) => {
      const wire = encodeParamsEither(params)
      return wire._tag === "Right"
        ? send(Context.get(fiber.currentContext as Context.Context<Bitrix24Client>, Bitrix24Client), wire.right, finish)
        : Effect.fail(wire.left)
    })
  // An application method really needs the proof: without it in context the typed call does not run.
  const withApplicationAuth = <B, E>(
    effect: Effect.Effect<B, E, Bitrix24Client>
  ): Effect.Effect<B, E, Bitrix24Client | ApplicationAuth> =>
    spec.auth === "application" ? Effect.zipRight(ApplicationAuth, effect) : effect
  const withResponse = (params: Params<Fields>) => withApplicationAuth(sendTyped(params, withResult))
  const fromWire = (params: unknown) =>
    decodeParams(params).pipe(
      Effect.flatMap(encodeParams),
      Effect.flatMap((wire) => Effect.flatMap(Bitrix24Client, (client) => send(client, wire, withResult)))
    )
  const call = (params: Params<Fields>) => withApplicationAuth(sendTyped(params, resultOnly))

  return Object.assign(call, {
    ...spec,
    [TypeId]: TypeId,
    paramsSchema,
    withResponse,
    fromWire,
    encodeParams,
    encodeParamsEither,
    decodeParams
  }) as unknown as Method<Name, Fields, A, I, Errors, Auth>
}

/**
 * One param of a declaration, as the CLI and the reference docs need it.
 *
 * @since 0.1.0
 * @category models
 */
export interface ParamInfo {
  /** The wire name (`CHAT_ID`). */
  readonly name: string
  /** `json` for a nested param (an object or a list, e.g. `MESSAGES`), given as JSON text on a command line. */
  readonly kind: "integer" | "flag" | "text" | "json"
  readonly required: boolean
  readonly description: string
  /** The documented default, shown as on the wire (`"N"`), if any. */
  readonly default: string | undefined
}

/** Does the wire side nest (an object or a list), as opposed to a scalar? */
const isStructured = (ast: AST.AST): boolean => {
  switch (ast._tag) {
    case "TypeLiteral":
    case "TupleType":
      return true
    case "Union":
      return ast.types.some(isStructured)
    case "Refinement":
      return isStructured(ast.from)
    default:
      return false
  }
}

/**
 * Lists a declaration's params with their kinds, requiredness, descriptions and documented defaults.
 *
 * @since 0.1.0
 * @category introspection
 */
export const paramsOf = (method: Any): ReadonlyArray<ParamInfo> => {
  const ast = Schema.Struct(method.params).ast as AST.TypeLiteral
  return ast.propertySignatures.map((signature) => {
    const type = signature.type
    const kind = isStructured(AST.encodedAST(type)) ? "json" : Wire.kindOf(Schema.make(type))
    const fallback = AST.getDefaultAnnotation(type)
    return {
      name: String(signature.name),
      kind,
      required: !signature.isOptional,
      description: AST.getDescriptionAnnotation(type).pipe((o) => (o._tag === "Some" ? o.value : "")),
      default: fallback._tag === "Some"
        ? (kind === "flag" ? (fallback.value ? "Y" : "N") : String(fallback.value))
        : undefined
    }
  })
}

/**
 * The error envelope the portal itself would send for this bad input: the declared error for the field when there
 * is one (`CHAT_ID` -> `CHAT_ID`, `DIALOG_ID` -> `DIALOG_ID_EMPTY`), otherwise `ERROR_ARGUMENT` (400) with the
 * `argument` key, as the portal's ArgumentException mapping does (wire sheet §1.5).
 *
 * @since 0.1.0
 * @category wire
 */
export const invalidParamsToWire = (method: Any, error: PortalError.InvalidParams): Envelope.ErrorReply => {
  const mapping = (method.invalid as Record<string, InvalidParamError | undefined> | undefined)?.[error.field]
  const Class = mapping === undefined
    ? undefined
    : (error.missing ? mapping.missing ?? mapping.invalid : mapping.invalid)
  return Class === undefined ? Envelope.invalidArgument(error.field, error.reason) : Envelope.error(Class)
}

/**
 * Checks untyped wire params against a declaration without calling it: the first problem as `InvalidParams` (the
 * field, whether it is missing, the reason), or `undefined` when the params are good. The params in `deferred` are
 * left unchecked, and so is the cross-field `check` when there are any: inside a `batch`, a value holding a
 * `$result[...]`-style reference is only known when the portal substitutes it (wire sheet §2), so a server checking a
 * command before sending it (the proxy) defers those. Params nested deeper than `Wire.maxDepth` are refused first.
 *
 * @since 0.1.0
 * @category wire
 */
export const checkParams = (
  method: Any,
  params: Readonly<Record<string, unknown>>,
  deferred: ReadonlySet<string> = new Set()
): PortalError.InvalidParams | undefined => {
  const field = Wire.tooDeep(params)
  if (field !== undefined) return tooDeep(method.method, field)
  let checked: Readonly<Record<string, unknown>> = params
  let schema: Schema.Schema<any, any> = method.paramsSchema
  if (deferred.size > 0) {
    const rest: Record<string, unknown> = {}
    for (const key in params) if (!deferred.has(key)) rest[key] = params[key]
    checked = rest
    // The fields alone: the cross-field check could need a deferred value.
    schema = Schema.Struct(method.params) as unknown as Schema.Schema<any, any>
  }
  const decoded = Schema.decodeUnknownEither(schema, { errors: "all" })(checked)
  if (Either.isRight(decoded)) return undefined
  const issue = ParseResult.ArrayFormatter.formatErrorSync(decoded.left).find((candidate) =>
    candidate.path.length === 0 || !deferred.has(String(candidate.path[0]))
  )
  return issue === undefined ? undefined : new PortalError.InvalidParams({
    method: method.method,
    field: issue.path.map(String).join("."),
    missing: issue._tag === "Missing",
    reason: clip(issue.message)
  })
}

/**
 * The kebab-case form the CLI uses for a name: `CHAT_ID` -> `chat-id`, `pinAll` -> `pin-all`.
 *
 * @since 0.1.0
 * @category naming
 */
export const kebab = (name: string): string =>
  name.replace(/([a-z0-9])([A-Z])/g, "$1-$2").replace(/_/g, "-").toLowerCase()

/**
 * The CLI subcommand path of a method: its name split at the dots, in kebab-case
 * (`imopenlines.session.mode.pinAll` -> `["imopenlines", "session", "mode", "pin-all"]`).
 *
 * @since 0.1.0
 * @category naming
 */
export const commandPath = (method: Any): ReadonlyArray<string> => method.method.split(".").map(kebab)

/**
 * The CLI arguments for typed params: `--chat-id 2043 --activate`; a false flag is `--no-<flag>`.
 *
 * @since 0.1.0
 * @category naming
 */
export const commandArgs = (method: Any, params: Readonly<Record<string, unknown>>): ReadonlyArray<string> =>
  paramsOf(method).flatMap((param) => {
    const value = params[param.name]
    if (value === undefined) return []
    const option = kebab(param.name)
    if (param.kind === "flag") return [value ? `--${option}` : `--no-${option}`]
    if (param.kind === "json") return [`--${option}`, JSON.stringify(value)]
    return [`--${option}`, String(value)]
  })
