/**
 * The seam between the method declarations and a transport. A `Bitrix24Client` sends one call (method name plus
 * wire-encoded params) to a portal and hands back the decoded envelope. `@bitrix24-effect/http` provides it over
 * `@effect/platform` HttpClient for an inbound webhook or an OAuth token; tests and the apps provide the same
 * layers pointed at the emulator.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import * as PortalError from "./PortalError.js"
import type * as Wire from "./Wire.js"

/**
 * One call as the transport sees it. `params` are already wire-encoded (Y/N strings, numbers, nested records).
 * `idempotent` tells the retry policy whether an ambiguous failure may be replayed; `batchable` whether the call may
 * travel inside `batch`.
 *
 * @since 0.1.0
 * @category models
 */
export interface CallRequest {
  readonly method: string
  readonly params: Wire.Params
  readonly idempotent: boolean
  readonly batchable: boolean
}

/**
 * A decoded success envelope: the raw `result`, the `time` block (absent on some self-hosted portals and inside
 * batches), and `next`/`total` for list methods (wire sheet §1.4). `headers` are the portal's `X-Bitrix-Rest-*`
 * response headers of the HTTP request that carried the call (`Envelope.portalHeaders`), when the transport read
 * them; for a call carried inside a `batch` they are the batch request's.
 *
 * @since 0.1.0
 * @category models
 */
export interface CallResponse<A = unknown> {
  readonly result: A
  readonly time: Option.Option<Wire.Time>
  readonly next: Option.Option<number>
  readonly total: Option.Option<number>
  readonly headers?: Readonly<Record<string, string>> | undefined
}

/**
 * The portal answered with an error envelope. Transports fail with this untyped form; the method layer turns it
 * into the typed class with {@link PortalError.fromWire}. A transport that read the answer itself may add
 * `envelope`, the error envelope as the portal sent it (with extra keys such as `argument`, wire sheet §1.5), and
 * `headers`, the portal's `X-Bitrix-Rest-*` response headers; a server that forwards the answer (the proxy) uses
 * them.
 *
 * @since 0.1.0
 * @category errors
 */
export class WireFailure extends Data.TaggedError("WireFailure")<
  PortalError.WireError & {
    readonly envelope?: Readonly<Record<string, unknown>> | undefined
    readonly headers?: Readonly<Record<string, string>> | undefined
  }
> {}

/**
 * The transport service.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly call: (request: CallRequest) => Effect.Effect<CallResponse, WireFailure | PortalError.TransportError>
}

/**
 * The transport Tag every method call needs.
 *
 * @since 0.1.0
 * @category tags
 */
export class Bitrix24Client extends Context.Tag("@bitrix24-effect/core/Bitrix24Client")<Bitrix24Client, Service>() {}

/**
 * Calls any method by name with wire params, without a declaration: no params validation and no result decoding.
 * Errors are typed as far as the system table allows; other codes come back as `UnknownPortalError`.
 * Used by `b24 call` for methods outside the catalog.
 *
 * @since 0.1.0
 * @category calls
 */
export const callRaw = (
  method: string,
  params: Wire.Params,
  options?: { readonly idempotent?: boolean | undefined }
): Effect.Effect<
  CallResponse,
  PortalError.SystemError | PortalError.UnknownPortalError | PortalError.TransportError,
  Bitrix24Client
> =>
  Effect.flatMap(
    Bitrix24Client,
    (client) => client.call({ method, params, idempotent: options?.idempotent ?? false, batchable: false })
  ).pipe(
    Effect.catchTag("WireFailure", (failure) => Effect.fail(PortalError.fromWire(method, failure, [])))
  )

/**
 * Proof that the transport authenticates as an OAuth application (an application's access token), not as an inbound
 * webhook. Methods declared with `auth: "application"` (`event.*`, `imconnector.*`: the portal refuses webhooks with
 * 403 `WRONG_AUTH_TYPE`, events sheet §1, §5.1) require it, so calling them through a webhook transport does not
 * compile. The OAuth transports of `@bitrix24-effect/http` provide it; the webhook transport does not.
 *
 * @since 0.1.0
 * @category tags
 */
export class ApplicationAuth extends Context.Tag("@bitrix24-effect/core/ApplicationAuth")<ApplicationAuth, {
  /** The portal's origin the application context belongs to (safe to log). */
  readonly portal: string
}>() {}
