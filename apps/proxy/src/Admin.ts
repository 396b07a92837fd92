/**
 * The proxy's admin API under `/_admin/`, declared once as an `@effect/platform` HttpApi ({@link AdminApi}); the
 * handlers, the OpenAPI document and the docs page all follow from the declaration.
 *
 * - `GET /_admin/clients`: the clients, without secrets: ID, portal, method scope, own bucket, weight, calls queued.
 * - `GET /_admin/portals`: the portals: kind, origin (no credentials), bucket, and their fair queue now
 *   (`Lanes.Snapshot`).
 * - `GET /_admin/config`: the configuration without secrets: its source, the portals' settings, the number of clients,
 *   where the shared state lives and the listener's limits.
 * - `GET /_admin/openapi.json` and `GET /_admin/docs` (Scalar's page, its script served inline: no CDN): the API's
 *   description, generated from the declaration. They hold no data and need no token.
 *
 * The data endpoints need `Authorization: Bearer {B24_PROXY_ADMIN_TOKEN}` (else `401`); with no token configured the
 * admin API is not served at all (`404`).
 *
 * @since 0.1.0
 */
import type { PortalLimits } from "@bitrix24-effect/http"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiError from "@effect/platform/HttpApiError"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiMiddleware from "@effect/platform/HttpApiMiddleware"
import * as HttpApiScalar from "@effect/platform/HttpApiScalar"
import * as HttpApiSecurity from "@effect/platform/HttpApiSecurity"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import type * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as OpenApi from "@effect/platform/OpenApi"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Clients from "./Clients.js"
import * as Operations from "./Operations.js"
import * as Portals from "./Portals.js"
import * as ProxyConfig from "./ProxyConfig.js"
import type * as Server from "./Server.js"

/**
 * A token bucket as written in the configuration: `standard`, `enterprise`, `off` or `SIZE/DRAIN`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const BucketText = Schema.String.annotations({
  description: "standard, enterprise, off, or SIZE/DRAIN (requests, and requests drained per second)"
})

/**
 * A client as the admin API shows it (no secret).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ClientView = Schema.Struct({
  id: Schema.String,
  portal: Schema.String,
  methods: Schema.Array(Schema.String),
  limit: BucketText,
  weight: Schema.Number,
  queued: Schema.Number.annotations({ description: "Calls of this client waiting in its portal's queue now" })
})

/**
 * A portal's fair queue now (`Lanes.Snapshot`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const QueueView = Schema.Struct({
  inflight: Schema.Number,
  active: Schema.Number,
  depth: Schema.Number,
  maxQueue: Schema.Number,
  maxWaitMs: Schema.Number,
  byClient: Schema.Record({ key: Schema.String, value: Schema.Number })
})

/**
 * A portal as the admin API shows it: its origin holds no credentials.
 *
 * @since 0.1.0
 * @category schemas
 */
export const PortalView = Schema.Struct({
  name: Schema.String,
  kind: Schema.Literal("webhook", "oauth", "emulator"),
  origin: Schema.String,
  bucket: BucketText,
  queue: QueueView
})

/**
 * The configuration without secrets.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ConfigView = Schema.Struct({
  source: Schema.String,
  portals: Schema.Array(Schema.Struct({
    name: Schema.String,
    kind: Schema.Literal("webhook", "oauth", "emulator"),
    bucket: BucketText,
    headroom: Schema.optional(Schema.Number),
    batching: Schema.Boolean,
    timeoutMs: Schema.Number,
    inflight: Schema.Number,
    maxQueue: Schema.Number,
    maxWaitMs: Schema.Number
  })),
  clients: Schema.Number,
  sharedState: Schema.String.annotations({ description: "redis, memory, or local (Redis out of reach at start)" }),
  limits: Schema.Struct({
    maxBodyBytes: Schema.Number,
    headersTimeoutMs: Schema.Number,
    requestTimeoutMs: Schema.Number,
    drainSeconds: Schema.Number
  })
})

/**
 * The admin token's check, as the API's security (`Authorization: Bearer`).
 *
 * @since 0.1.0
 * @category security
 */
export class AdminAuth extends HttpApiMiddleware.Tag<AdminAuth>()("@bitrix24-effect/proxy/Admin/AdminAuth", {
  failure: HttpApiError.Unauthorized,
  security: { bearer: HttpApiSecurity.bearer }
}) {}

/**
 * The admin API's declaration.
 *
 * @since 0.1.0
 * @category api
 */
export class AdminApi extends HttpApi.make("b24-proxy-admin").add(
  HttpApiGroup.make("admin")
    .add(HttpApiEndpoint.get("clients", "/clients").addSuccess(Schema.Array(ClientView)))
    .add(HttpApiEndpoint.get("portals", "/portals").addSuccess(Schema.Array(PortalView)))
    .add(HttpApiEndpoint.get("config", "/config").addSuccess(ConfigView))
    .middleware(AdminAuth)
).prefix("/_admin")
  .annotate(OpenApi.Title, "b24-proxy admin API")
  .annotate(
    OpenApi.Description,
    "The clients, portals and configuration of a running b24-proxy, without secrets. Bearer: B24_PROXY_ADMIN_TOKEN."
  )
{}

const bucketText = (bucket: PortalLimits.Bucket): string =>
  typeof bucket === "string" ? bucket : `${bucket.size}/${bucket.drainPerSecond}`

/**
 * What the admin API reports besides the configuration and the running portals: where the shared state lives and the
 * listener's limits.
 *
 * @since 0.1.0
 * @category models
 */
export interface Facts {
  readonly sharedState: string
  readonly limits: Server.Limits
}

const handlers = (token: Redacted.Redacted<string>, facts: Facts) =>
  Layer.provideMerge(
    HttpApiBuilder.group(AdminApi, "admin", (group) =>
      Effect.gen(function*() {
        const config = yield* ProxyConfig.ProxyConfig
        const clients = yield* Clients.Clients
        const portals = yield* Portals.Portals
        return group
          .handle("clients", () =>
            Effect.sync(() =>
              config.clients.map((client) => ({
                id: client.id,
                portal: client.portal,
                methods: [...client.methods],
                limit: bucketText(client.limit),
                weight: client.weight,
                queued: portals.get(client.portal).lanes.queuedOf(client.id)
              }))
            ))
          .handle("portals", () =>
            Effect.sync(() =>
              portals.all.map((portal) => ({
                name: portal.name,
                kind: portal.kind,
                origin: portal.origin,
                bucket: bucketText(config.portals.find((p) => p.name === portal.name)!.limits.bucket ?? "standard"),
                queue: portal.lanes.snapshot()
              }))
            ))
          .handle("config", () =>
            Effect.sync(() => ({
              source: config.source,
              portals: config.portals.map((portal) => ({
                name: portal.name,
                kind: portals.get(portal.name).kind,
                bucket: bucketText(portal.limits.bucket ?? "standard"),
                headroom: portal.limits.headroom,
                batching: portal.batching !== false,
                timeoutMs: Duration.toMillis(portal.timeout),
                inflight: portal.inflight,
                maxQueue: portal.queue.maxQueue,
                maxWaitMs: Duration.toMillis(portal.queue.maxWait)
              })),
              clients: clients.all.length,
              sharedState: facts.sharedState,
              limits: {
                maxBodyBytes: facts.limits.maxBodyBytes,
                headersTimeoutMs: Duration.toMillis(facts.limits.headersTimeout),
                requestTimeoutMs: Duration.toMillis(facts.limits.requestTimeout),
                drainSeconds: Duration.toSeconds(facts.limits.drain)
              }
            })))
      })),
    Layer.succeed(AdminAuth, {
      bearer: (given) =>
        Operations.tokenMatches(Redacted.value(given), token)
          ? Effect.void
          : Effect.fail(new HttpApiError.Unauthorized())
    })
  )

/**
 * Builds the admin API as an HttpApp for the scope: the endpoints, `openapi.json` and the docs page (see the module
 * docs).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  token: Redacted.Redacted<string>,
  facts: Facts
): Effect.Effect<
  Effect.Effect<HttpServerResponse.HttpServerResponse, unknown, HttpServerRequest.HttpServerRequest>,
  never,
  Scope.Scope | ProxyConfig.ProxyConfig | Clients.Clients | Portals.Portals
> =>
  Effect.gen(function*() {
    const handled = handlers(token, facts)
    const api = HttpApiBuilder.api(AdminApi).pipe(Layer.provide(handled))
    const context = yield* Layer.build(
      Layer.mergeAll(
        HttpApiScalar.layer({ path: "/_admin/docs" }),
        HttpApiBuilder.middlewareOpenApi({ path: "/_admin/openapi.json" })
      ).pipe(
        Layer.provideMerge(api),
        Layer.provideMerge(handled),
        Layer.provideMerge(HttpApiBuilder.Router.Live),
        Layer.provideMerge(HttpApiBuilder.Middleware.layer),
        Layer.provideMerge(NodeHttpServer.layerContext)
      )
    )
    const app = yield* Effect.provide(HttpApiBuilder.httpApp, context)
    return Effect.provide(app, context)
  })
