/**
 * The event receiver: the HTTP endpoint a portal POSTs an application's events to, as an HttpApp and a Layer
 * (docs/bitrix24-events.md §2).
 *
 * For each delivery, in this order, before anything is dispatched:
 * 1. the form body is read with core's `WireRequest` (PHP bracket keys, no silent depth or array limits; at most
 *    `WireRequest.maxBodyBytes`; 413 past that, 400 when it is not a form);
 * 2. `auth[application_token]` is compared in constant time with the token stored for `auth[member_id]` in the
 *    http package's `TokenStore` (its `applicationToken`, §2.5). A missing, unknown or forged token is answered
 *    **401** and nothing is dispatched. The token is learned from ONAPPINSTALL: for a portal with no stored token,
 *    an ONAPPINSTALL is accepted when `trustInstall` allows it (default: always, as the PHP SDK does; restrict it to
 *    the `member_id`s you expect); for a portal with a stored token it must match like any other event;
 * 3. the event is decoded with `Events.Event` (a known code whose `data` has the wrong shape: 400; an unknown code:
 *    `UnknownEvent`, dispatched like the others);
 * 4. duplicates are dropped: a delivery with the same `(member_id, event, event_handler_id, ts, hash of data)` as one
 *    seen within `dedupWindow` (default 10 minutes) is answered 200 and not dispatched again;
 * 5. ONAPPINSTALL stores the portal's tokens and `application_token` under its `member_id` (use that key with
 *    `Bitrix24Http.layerOAuth({ key: memberId })`); ONAPPUNINSTALL removes them (after its token was verified).
 *
 * Then the portal gets its answer (200, within `answerWithin`, default 2 s; a store too slow to answer in time gives
 * 503), and the handler for the event's code runs afterwards on a fiber of the receiver's scope: the queue server
 * slows down handlers that answer slowly (§2.6), so nothing waits for user code. A handler's failure is logged (code
 * and cause, never a token) and counted; the portal never retries (§2.6), so a handler that must not lose events
 * should write them somewhere durable first, or use offline events (`OfflineConsumer`).
 *
 * The dedup memory is per process. Tokens live wherever the `TokenStore` layer keeps them (memory, a file, or a shared
 * store), so several receivers can verify against one store.
 *
 * @since 0.1.0
 */
import { Events, WireRequest } from "@bitrix24-effect/core"
import { TokenStore } from "@bitrix24-effect/http"
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Crypto from "node:crypto"

/**
 * The handlers of a receiver: one Effect per event code (`ONIMCONNECTORMESSAGEADD: (event) => ...`, the event typed
 * by its code), and `UnknownEvent` for codes the library does not type. Codes without a handler are verified and
 * answered, and dropped.
 *
 * @since 0.1.0
 * @category models
 */
export type Handlers =
  & {
    readonly [C in Events.Code]?: (event: Events.Of<C>) => Effect.Effect<void, unknown, any>
  }
  & {
    readonly UnknownEvent?: (event: Events.UnknownEvent) => Effect.Effect<void, unknown, any>
  }

/**
 * What the handlers need from their context.
 *
 * @since 0.1.0
 * @category models
 */
export type Requirements<H extends Handlers> = {
  readonly [K in keyof H]-?: H[K] extends ((event: any) => Effect.Effect<any, any, infer R>) | undefined ? R : never
}[keyof H]

/**
 * Receiver settings (durations as `Duration` inputs):
 * - `answerWithin`: the bound on answering the portal (default 2 seconds); past it the answer is 503 and nothing is
 *   dispatched.
 * - `dedupWindow`: how long a delivery is remembered to drop duplicates (default 10 minutes).
 * - `trustInstall`: whether an ONAPPINSTALL from a portal with no stored token may install the application (default:
 *   yes). Receives the delivery's `auth` (`member_id`, `domain`, ...).
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly answerWithin?: Duration.DurationInput | undefined
  readonly dedupWindow?: Duration.DurationInput | undefined
  readonly trustInstall?: ((auth: Events.Auth) => boolean) | undefined
}

/**
 * A running receiver: its HttpApp, an Effect that waits until every running handler is done, and counters.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly app: HttpApp.Default
  /** Waits until the handlers started so far have finished. */
  readonly drain: Effect.Effect<void>
  /** Counts since start: deliveries dispatched, refused (401), dropped as duplicates, handler failures. */
  readonly stats: Effect.Effect<Stats>
}

/**
 * Counters of a receiver.
 *
 * @since 0.1.0
 * @category models
 */
export interface Stats {
  readonly dispatched: number
  readonly refused: number
  readonly duplicates: number
  readonly failed: number
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Receiver extends Context.Tag("@bitrix24-effect/events/Receiver")<Receiver, Service>() {}

const plain = (status: number, text: string) => HttpServerResponse.text(text, { status })

const digest = (text: string) => Crypto.createHash("sha256").update(text).digest()

/** Constant-time comparison of two secrets (their SHA-256 digests, so lengths never leak). */
const sameSecret = (a: string, b: string): boolean => Crypto.timingSafeEqual(digest(a), digest(b))

const text = (value: unknown): string | undefined => typeof value === "string" && value.length > 0 ? value : undefined

const record = (value: unknown): Readonly<Record<string, unknown>> =>
  value !== null && typeof value === "object" && !Array.isArray(value) ? value as Record<string, unknown> : {}

/**
 * The key a delivery is deduplicated by: `member_id`, event, binding ID, `ts` and a hash of `data`. The `auth` block
 * is left out (each delivery carries fresh tokens).
 *
 * @since 0.1.0
 * @category dedup
 */
export const dedupKey = (params: Readonly<Record<string, unknown>>): string =>
  [
    String(record(params.auth).member_id ?? ""),
    String(params.event ?? "").toUpperCase(),
    String(params.event_handler_id ?? params.eventId ?? params.event_id ?? ""),
    String(params.ts ?? ""),
    digest(JSON.stringify(params.data ?? null)).toString("hex")
  ].join("|")

/** What ONAPPINSTALL's auth block stores (§2.7). */
const installTokens = (auth: Events.Auth, now: number): TokenStore.Tokens | undefined => {
  if (auth.access_token === undefined || auth.refresh_token === undefined || auth.client_endpoint === undefined) {
    return undefined
  }
  return {
    accessToken: auth.access_token,
    refreshToken: auth.refresh_token,
    expiresAt: now + (auth.expires_in ?? 3600) * 1000,
    restUrl: auth.client_endpoint,
    memberId: auth.member_id,
    ...(auth.user_id === undefined ? {} : { userId: auth.user_id }),
    ...(auth.scope === undefined ? {} : { scope: auth.scope }),
    applicationToken: auth.application_token
  }
}

/**
 * Builds a receiver for the lifetime of the scope (see the module docs for what it does per delivery).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <const H extends Handlers>(
  handlers: H,
  options: Options = {}
): Effect.Effect<Service, never, Scope.Scope | TokenStore.TokenStore | Requirements<H>> =>
  Effect.gen(function*() {
    const store = yield* TokenStore.TokenStore
    const context = yield* Effect.context<Requirements<H>>()
    const fibers = yield* FiberSet.make<void, never>()
    const answerWithin = Duration.decode(options.answerWithin ?? "2 seconds")
    const window = Duration.toMillis(Duration.decode(options.dedupWindow ?? "10 minutes"))
    const trustInstall = options.trustInstall ?? (() => true)
    const seen = new Map<string, number>()
    const counts = { dispatched: 0, refused: 0, duplicates: 0, failed: 0 }

    const remember = (key: string, now: number): boolean => {
      const until = seen.get(key)
      if (until !== undefined && until > now) return false
      seen.set(key, now + window)
      if (seen.size > 1000) { for (const [k, t] of seen) if (t <= now) seen.delete(k) }
      return true
    }

    const refuse = (why: string) =>
      Effect.as(
        Effect.sync(() => counts.refused++).pipe(Effect.zipRight(Effect.logWarning(`event refused: ${why}`))),
        plain(401, "Unauthorized")
      )

    const dispatch = (event: Events.Event) => {
      const handler = (handlers as Record<string, ((event: unknown) => Effect.Effect<void, unknown, any>) | undefined>)[
        event._tag
      ]
      if (handler === undefined) return Effect.void
      counts.dispatched++
      const code = Events.code(event)
      const run = Effect.suspend(() => handler(event)).pipe(
        Effect.catchAllCause((cause) =>
          Effect.zipRight(
            Effect.sync(() => counts.failed++),
            Effect.logWarning(`event handler for ${code} failed`, cause)
          )
        ),
        Effect.withSpan("Bitrix24.event.handle", { attributes: { "bitrix24.event": code } }),
        Effect.provide(context)
      ) as Effect.Effect<void>
      return FiberSet.run(fibers, run)
    }

    const receive = (request: HttpServerRequest.HttpServerRequest) =>
      Effect.gen(function*() {
        const body = yield* Effect.orElseSucceed(WireRequest.readBody(request.stream), () => Either.right(""))
        if (Either.isLeft(body)) return plain(413, "Payload Too Large")
        const parsed = WireRequest.requestParams({
          method: "POST",
          search: "",
          contentType: request.headers["content-type"],
          body: body.right
        })
        if (Either.isLeft(parsed)) return plain(400, "Bad Request")
        const params = parsed.right
        const auth = record(params.auth)
        const memberId = text(auth.member_id)
        const presented = text(auth.application_token)
        if (memberId === undefined || presented === undefined) return yield* refuse("no member_id or application_token")
        const code = String(params.event ?? "").toUpperCase()
        const stored = yield* store.get(memberId)
        const known = Option.flatMap(stored, (tokens) => Option.fromNullable(tokens.applicationToken))
        if (Option.isSome(known)) {
          if (!sameSecret(Redacted.value(known.value), presented)) return yield* refuse(`wrong token for ${memberId}`)
        } else if (code !== "ONAPPINSTALL") {
          return yield* refuse(`no application installed for ${memberId}`)
        }
        const decoded = Events.decode(params)
        if (Either.isLeft(decoded)) {
          yield* Effect.logWarning(`event ${code} does not have its documented shape`)
          return plain(400, "Bad Request")
        }
        const event = decoded.right
        if (event._tag === "ONAPPINSTALL" && Option.isNone(known) && !trustInstall(event.auth)) {
          return yield* refuse(`ONAPPINSTALL from an untrusted portal ${memberId}`)
        }
        if (!remember(dedupKey(params), yield* Clock.currentTimeMillis)) {
          counts.duplicates++
          return plain(200, "OK")
        }
        if (event._tag === "ONAPPINSTALL") {
          const tokens = installTokens(event.auth, yield* Clock.currentTimeMillis)
          if (tokens === undefined) return plain(400, "Bad Request")
          yield* store.set(memberId, tokens)
        }
        if (event._tag === "ONAPPUNINSTALL") yield* store.remove(memberId)
        yield* dispatch(event)
        return plain(200, "OK")
      }).pipe(
        Effect.catchTag(
          "TokenStoreError",
          (error) => Effect.as(Effect.logError(`event receiver: ${error.message}`), plain(503, "Service Unavailable"))
        )
      )

    const app: HttpApp.Default = Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
      request.method !== "POST"
        ? Effect.succeed(plain(405, "Method Not Allowed"))
        : receive(request).pipe(
          Effect.timeoutTo({
            duration: answerWithin,
            onTimeout: () =>
              plain(503, "Service Unavailable"),
            onSuccess: (response) => response
          }),
          Effect.withSpan("Bitrix24.event.receive", { kind: "server" })
        ))

    return {
      app,
      drain: FiberSet.awaitEmpty(fibers),
      stats: Effect.sync(() => ({ ...counts }))
    }
  })

/**
 * The receiver as a Layer (the `Receiver` service; serve its `app` with {@link serve} or mount it in a router).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = <const H extends Handlers>(
  handlers: H,
  options?: Options
): Layer.Layer<Receiver, never, TokenStore.TokenStore | Requirements<H>> =>
  Layer.scoped(Receiver, make(handlers, options))

/**
 * Serves the receiver's app on the `HttpServer` in context (every path: point the handler URLs at it).
 *
 * @since 0.1.0
 * @category layers
 */
export const serve: Layer.Layer<never, never, Receiver | HttpServer.HttpServer> = Layer.unwrapEffect(
  Effect.map(Receiver, (receiver) => HttpServer.serve(receiver.app))
)
