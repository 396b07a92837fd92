/**
 * What the proxy serves: its upstream portals and its clients, read once at start.
 *
 * - **A configuration file** (`B24_PROXY_CONFIG`, JSON or YAML, told apart by the `.json` suffix) holds several
 *   portals, each an inbound webhook, an OAuth application or the embedded emulator, and the clients, each bound to
 *   one portal with its method scope, its own token bucket and its weight in the portal's fair queue. Secrets are
 *   written in the file or, better, as `{ env: NAME }` to read them from the environment. The file is decoded with
 *   Schema; every error names the bad key (`clients[1].id`) and the reason, and never echoes a secret.
 * - **The environment alone** is the one-portal shortcut: `B24_WEBHOOK_URL`, else an OAuth application
 *   (`B24_CLIENT_ID`, `B24_CLIENT_SECRET`, `B24_OAUTH_URL`, tokens in `B24_TOKEN_FILE`), else the embedded emulator;
 *   the portal limits from `B24_BUCKET`, `B24_BUCKET_HEADROOM` and `B24_OPERATING_LIMIT`; clients from
 *   `B24_PROXY_CLIENTS` (`id:secret` pairs), or one generated for the run.
 *
 * Client IDs are numeric: they stand where a portal's inbound webhook has its user ID (`/rest/{id}/{secret}/`), and
 * the official SDK (`@bitrix24/b24jssdk`) refuses a webhook URL whose user ID is not a number. Secrets are unique
 * per client: in the OAuth form (`/rest/{method}` with `auth`) the secret alone names the client.
 */
import { Bitrix24Http, PortalLimits, type RetryPolicy } from "@bitrix24-effect/http"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as Yaml from "yaml"
import * as MethodScope from "./MethodScope.js"

// ---------------------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------------------

/**
 * The configuration cannot be used: `key` names the setting (`clients[1].id`, `B24_PROXY_CLIENTS`,
 * `portals.sales.webhook`), `reason` says why. Neither ever contains a secret.
 */
export class InvalidConfig extends Schema.TaggedError<InvalidConfig>("@bitrix24-effect/proxy/InvalidConfig")(
  "InvalidConfig",
  { key: Schema.String, reason: Schema.String }
) {
  override get message(): string {
    return `${this.key}: ${this.reason}`
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The resolved configuration
// ---------------------------------------------------------------------------------------------------------------

/** Where a portal is and how the proxy authenticates there. */
export type Upstream =
  | { readonly _tag: "Webhook"; readonly url: Redacted.Redacted<string> }
  | {
    readonly _tag: "OAuth"
    readonly clientId: string
    readonly clientSecret: Redacted.Redacted<string>
    /** The OAuth server's token endpoint; the http package's default (`oauth.bitrix.info`) when absent. */
    readonly tokenUrl: string | undefined
    /** Seeds the token store on the first start, when it holds no tokens for the portal yet. */
    readonly bootstrap: { readonly restUrl: string; readonly refreshToken: Redacted.Redacted<string> } | undefined
  }
  | { readonly _tag: "Emulator" }

/**
 * One upstream portal: its name (clients refer to it), where it is, the limits the proxy mirrors for it, how calls
 * travel (automatic batching, the timeout of each HTTP request), `inflight`, how many calls of its clients may
 * be in the transport at once (waiting for the bucket or on the wire), and the bounds of the fair queue the others
 * wait in (`queue`: at most `maxQueue` calls, each at most `maxWait`; past either the call is answered
 * `503 QUERY_LIMIT_EXCEEDED`).
 */
export interface Portal {
  readonly name: string
  readonly upstream: Upstream
  readonly limits: PortalLimits.Options
  readonly batching: boolean | Bitrix24Http.BatchingOptions
  readonly timeout: Duration.Duration
  readonly inflight: number
  readonly queue: { readonly maxQueue: number; readonly maxWait: Duration.Duration }
}

/**
 * One client of the proxy: its numeric ID and secret, its portal, its method scope, its own token bucket (`limit`)
 * and its weight in the portal's fair queue.
 */
export interface Client {
  readonly id: string
  readonly secret: Redacted.Redacted<string>
  readonly portal: string
  readonly methods: ReadonlyArray<string>
  readonly limit: PortalLimits.Bucket
  readonly weight: number
}

/** The configuration the proxy runs with. */
export interface Resolved {
  readonly portals: ReadonlyArray<Portal>
  readonly clients: ReadonlyArray<Client>
  /** The one client made for this run when none was configured (its secret is printed at start). */
  readonly generated: Client | undefined
  /** The `TokenStore` file of the OAuth portals (keyed by portal name). */
  readonly tokenFile: string
  /** Where it came from: the file's path, or `environment`. */
  readonly source: string
}

/** The proxy's configuration, read at start. */
export class ProxyConfig extends Context.Tag("@bitrix24-effect/proxy/ProxyConfig")<ProxyConfig, Resolved>() {}

/** Defaults of a portal's transport settings. */
export const portalDefaults = {
  batching: true,
  timeout: Duration.seconds(25),
  inflight: 100,
  queue: { maxQueue: 2000, maxWait: Duration.seconds(20) }
} as const

/** A client's default token bucket: a standard portal's (50, draining 2 per second, wire sheet §3.1). */
export const defaultLimit: PortalLimits.Bucket = "standard"

const secretSyntax = /^[A-Za-z0-9_-]{8,128}$/
const secretRule = "8-128 of A-Z a-z 0-9 _ -"
const numericReason = "must be numeric: it stands where an inbound webhook has its user ID " +
  "(/rest/<id>/<secret>/), and the official SDK (@bitrix24/b24jssdk) refuses a webhook URL whose user ID is not"

// ---------------------------------------------------------------------------------------------------------------
// The file's schema
// ---------------------------------------------------------------------------------------------------------------

const Secret = Schema.Union(
  Schema.String,
  Schema.Struct({ env: Schema.String.pipe(Schema.pattern(/^[A-Za-z_][A-Za-z0-9_]*$/)) })
).annotations({ message: () => "expected a string, or { env: NAME } to read it from the environment" })

const DurationText = Schema.String.pipe(
  Schema.filter((text) => Option.isSome(Duration.decodeUnknown(text)), {
    message: () => "expected a duration such as \"25 seconds\" or \"10 millis\""
  })
)

const BucketText = Schema.String.pipe(
  Schema.filter((text) => Option.isSome(PortalLimits.parseBucket(text)), {
    message: () => "expected standard, enterprise, off or SIZE/DRAIN (requests, and requests drained per second)"
  })
)

const PortalFile = Schema.Struct({
  webhook: Schema.optional(Secret),
  oauth: Schema.optional(Schema.Struct({
    clientId: Schema.NonEmptyString,
    clientSecret: Secret,
    tokenUrl: Schema.optional(Schema.String),
    restUrl: Schema.optional(Schema.String),
    refreshToken: Schema.optional(Secret)
  })),
  emulator: Schema.optional(Schema.Literal(true)),
  bucket: Schema.optional(BucketText),
  headroom: Schema.optional(Schema.Int.pipe(Schema.nonNegative())),
  operatingLimit: Schema.optional(Schema.Number.pipe(Schema.nonNegative())),
  batching: Schema.optional(Schema.Union(
    Schema.Boolean,
    Schema.Struct({
      window: Schema.optional(DurationText),
      maxBatchSize: Schema.optional(Schema.Int.pipe(Schema.between(1, 50)))
    })
  )),
  timeout: Schema.optional(DurationText),
  inflight: Schema.optional(Schema.Int.pipe(Schema.positive())),
  queue: Schema.optional(Schema.Struct({
    size: Schema.optional(Schema.Int.pipe(Schema.nonNegative())),
    wait: Schema.optional(DurationText)
  }))
})

const ClientId = Schema.Union(
  Schema.Int.pipe(Schema.positive()),
  Schema.String
).pipe(
  Schema.filter((id) => /^[1-9]\d{0,17}$/.test(String(id)), { message: () => numericReason })
)

const ClientFile = Schema.Struct({
  id: ClientId,
  secret: Secret,
  portal: Schema.optional(Schema.String),
  methods: Schema.optional(Schema.Array(Schema.String)),
  limit: Schema.optional(BucketText),
  weight: Schema.optional(Schema.Int.pipe(Schema.between(1, 100)))
})

const File = Schema.Struct({
  portals: Schema.Record({ key: Schema.String, value: PortalFile }),
  clients: Schema.optional(Schema.Array(ClientFile)),
  tokenFile: Schema.optional(Schema.String)
})

type PortalFile = typeof PortalFile.Type
type SecretValue = typeof Secret.Type

const decodeFile = Schema.decodeUnknownEither(File, { errors: "all", onExcessProperty: "error" })

/** `clients[1].id` from a path `["clients", 1, "id"]`. */
const keyOf = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>(
    (key, part) => typeof part === "number" ? `${key}[${part}]` : key === "" ? String(part) : `${key}.${String(part)}`,
    ""
  )

// ---------------------------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------------------------

const fail = (key: string, reason: string) => Effect.fail(new InvalidConfig({ key, reason }))

/** A secret's value: as written, or from the environment variable it names. */
const secretValue = (key: string, value: SecretValue) =>
  typeof value === "string"
    ? Effect.succeed(Redacted.make(value))
    : Config.redacted(value.env).pipe(
      Effect.mapError(() => new InvalidConfig({ key, reason: `the environment variable ${value.env} is not set` }))
    )

const checkUrl = (key: string, text: string) =>
  Effect.suspend(() => {
    try {
      const url = new URL(text)
      if (url.protocol === "https:" || url.protocol === "http:") return Effect.succeed(text)
    } catch {
      // reported below
    }
    return fail(key, "expected an http(s) URL")
  })

const checkWebhook = (key: string, url: Redacted.Redacted<string>) =>
  Either.match(Bitrix24Http.parseWebhookUrl(url), {
    onLeft: (error) => fail(key, error.message),
    onRight: () => Effect.succeed(url)
  })

const portalLimits = (portal: PortalFile): PortalLimits.Options => ({
  bucket: portal.bucket === undefined ? "standard" : Option.getOrThrow(PortalLimits.parseBucket(portal.bucket)),
  ...(portal.headroom === undefined ? {} : { headroom: portal.headroom }),
  ...(portal.operatingLimit === undefined
    ? {}
    : { operating: portal.operatingLimit === 0 ? "off" : { limitSeconds: portal.operatingLimit } })
})

const readPortal = (name: string, portal: PortalFile): Effect.Effect<Portal, InvalidConfig> =>
  Effect.gen(function*() {
    const key = `portals.${name}`
    const kinds = [portal.webhook, portal.oauth, portal.emulator].filter((kind) => kind !== undefined).length
    if (kinds !== 1) return yield* fail(key, "give exactly one of webhook, oauth or emulator")
    let upstream: Upstream
    if (portal.webhook !== undefined) {
      const url = yield* secretValue(`${key}.webhook`, portal.webhook)
      upstream = { _tag: "Webhook", url: yield* checkWebhook(`${key}.webhook`, url) }
    } else if (portal.oauth !== undefined) {
      const oauth = portal.oauth
      if ((oauth.restUrl === undefined) !== (oauth.refreshToken === undefined)) {
        return yield* fail(`${key}.oauth`, "restUrl and refreshToken go together (they seed the token store)")
      }
      upstream = {
        _tag: "OAuth",
        clientId: oauth.clientId,
        clientSecret: yield* secretValue(`${key}.oauth.clientSecret`, oauth.clientSecret),
        tokenUrl: oauth.tokenUrl === undefined ? undefined : yield* checkUrl(`${key}.oauth.tokenUrl`, oauth.tokenUrl),
        bootstrap: oauth.restUrl === undefined || oauth.refreshToken === undefined ? undefined : {
          restUrl: yield* checkUrl(`${key}.oauth.restUrl`, oauth.restUrl),
          refreshToken: yield* secretValue(`${key}.oauth.refreshToken`, oauth.refreshToken)
        }
      }
    } else {
      upstream = { _tag: "Emulator" }
    }
    const batching = portal.batching
    return {
      name,
      upstream,
      limits: portalLimits(portal),
      batching: typeof batching === "object"
        ? {
          window: batching.window === undefined
            ? undefined
            : Duration.decode(batching.window as Duration.DurationInput),
          maxBatchSize: batching.maxBatchSize
        }
        : batching ?? portalDefaults.batching,
      timeout: portal.timeout === undefined
        ? portalDefaults.timeout
        : Duration.decode(portal.timeout as Duration.DurationInput),
      inflight: portal.inflight ?? portalDefaults.inflight,
      queue: {
        maxQueue: portal.queue?.size ?? portalDefaults.queue.maxQueue,
        maxWait: portal.queue?.wait === undefined
          ? portalDefaults.queue.maxWait
          : Duration.decode(portal.queue.wait as Duration.DurationInput)
      }
    }
  })

/** Checks what the schema cannot: secrets, unique IDs and secrets, portal references, method patterns. */
const checkClients = (clients: ReadonlyArray<Client>, portals: ReadonlyArray<string>, prefix: (i: number) => string) =>
  Effect.gen(function*() {
    const ids = new Map<string, number>()
    const secrets = new Map<string, number>()
    for (const [index, client] of clients.entries()) {
      const key = prefix(index)
      const secret = Redacted.value(client.secret)
      if (!secretSyntax.test(secret)) return yield* fail(`${key}.secret`, `expected ${secretRule}`)
      const sameId = ids.get(client.id)
      if (sameId !== undefined) return yield* fail(`${key}.id`, `${client.id} is also the ID of ${prefix(sameId)}`)
      ids.set(client.id, index)
      const digest = Crypto.createHash("sha256").update(secret).digest("hex")
      const sameSecret = secrets.get(digest)
      if (sameSecret !== undefined) {
        return yield* fail(
          `${key}.secret`,
          `the same secret as ${prefix(sameSecret)}: each client needs its own (in the OAuth form it names the client)`
        )
      }
      secrets.set(digest, index)
      if (!portals.includes(client.portal)) {
        return yield* fail(`${key}.portal`, `no portal named "${client.portal}" (portals: ${portals.join(", ")})`)
      }
      for (const [i, pattern] of client.methods.entries()) {
        const reason = MethodScope.invalid(pattern)
        if (reason !== undefined) return yield* fail(`${key}.methods[${i}]`, reason)
      }
    }
  })

/** A client made for this run: ID 1 and a random secret. */
export const generateClient = (portal: string): Client => ({
  id: "1",
  secret: Redacted.make(Crypto.randomBytes(24).toString("base64url")),
  portal,
  methods: MethodScope.declared,
  limit: defaultLimit,
  weight: 1
})

/**
 * Parses a configuration file's text, JSON or YAML (YAML unless `path` ends in `.json`), relative paths inside it
 * (`tokenFile`) taken from the file's directory.
 */
export const parse = (text: string, path: string): Effect.Effect<Resolved, InvalidConfig> =>
  Effect.gen(function*() {
    let data: unknown
    try {
      data = path.toLowerCase().endsWith(".json") ? JSON.parse(text) : Yaml.parse(text)
    } catch (error) {
      const detail = error instanceof Error ? error.message.split("\n")[0]!.slice(0, 200) : "unreadable"
      return yield* fail(path, `not ${path.toLowerCase().endsWith(".json") ? "JSON" : "YAML"}: ${detail}`)
    }
    const decoded = decodeFile(data)
    if (Either.isLeft(decoded)) {
      const issue = ParseResult.ArrayFormatter.formatErrorSync(decoded.left)[0]
      return yield* fail(
        issue === undefined || issue.path.length === 0 ? path : keyOf(issue.path),
        issue?.message ?? "not a proxy configuration"
      )
    }
    const file = decoded.right
    const names = Object.keys(file.portals)
    if (names.length === 0) return yield* fail("portals", "configure at least one portal")
    const portals: Array<Portal> = []
    for (const name of names) portals.push(yield* readPortal(name, file.portals[name]!))
    const clients: Array<Client> = []
    for (const [index, client] of (file.clients ?? []).entries()) {
      if (client.portal === undefined && names.length > 1) {
        return yield* fail(`clients[${index}].portal`, `name one of the portals (${names.join(", ")})`)
      }
      clients.push({
        id: String(client.id),
        secret: yield* secretValue(`clients[${index}].secret`, client.secret),
        portal: client.portal ?? names[0]!,
        methods: client.methods ?? MethodScope.declared,
        limit: client.limit === undefined ? defaultLimit : Option.getOrThrow(PortalLimits.parseBucket(client.limit)),
        weight: client.weight ?? 1
      })
    }
    yield* checkClients(clients, names, (i) => `clients[${i}]`)
    const generated = clients.length === 0 ? generateClient(names[0]!) : undefined
    return {
      portals,
      clients: generated === undefined ? clients : [generated],
      generated,
      tokenFile: Path.resolve(Path.dirname(path), file.tokenFile ?? "b24-proxy-tokens.json"),
      source: path
    }
  })

/** Reads a configuration file (see {@link parse}). */
export const load = (path: string): Effect.Effect<Resolved, InvalidConfig> =>
  Effect.suspend(() => {
    let text: string
    try {
      text = Fs.readFileSync(path, "utf8")
    } catch (error) {
      const code = (error as { code?: unknown }).code
      return fail("B24_PROXY_CONFIG", `cannot read ${path}${typeof code === "string" ? ` (${code})` : ""}`)
    }
    return parse(text, path)
  })

/**
 * Parses `B24_PROXY_CLIENTS`: `id:secret` pairs separated by commas or white space, IDs numeric. The error names the
 * position of a bad pair, never its secret.
 */
export const parseClients = (
  value: Redacted.Redacted<string>,
  portal: string
): Effect.Effect<ReadonlyArray<Client>, InvalidConfig> =>
  Effect.gen(function*() {
    const entries = Redacted.value(value).split(/[\s,]+/).filter((entry) => entry.length > 0)
    if (entries.length === 0) return yield* fail("B24_PROXY_CLIENTS", "no id:secret pairs")
    const clients: Array<Client> = []
    for (const [index, entry] of entries.entries()) {
      const at = entry.indexOf(":")
      const id = at <= 0 ? "" : entry.slice(0, at)
      if (at <= 0) return yield* fail("B24_PROXY_CLIENTS", `entry ${index + 1} is not id:secret`)
      if (!/^[1-9]\d{0,17}$/.test(id)) {
        return yield* fail("B24_PROXY_CLIENTS", `entry ${index + 1}: the client ID ${numericReason}`)
      }
      clients.push({
        id,
        secret: Redacted.make(entry.slice(at + 1)),
        portal,
        methods: MethodScope.declared,
        limit: defaultLimit,
        weight: 1
      })
    }
    yield* checkClients(clients, [portal], (i) => `B24_PROXY_CLIENTS entry ${i + 1}`)
    return clients
  })

/** The one-portal shortcut of the environment (see the module docs). */
export const fromEnvironment: Effect.Effect<Resolved, InvalidConfig> = Effect.gen(function*() {
  const optional = (name: string) =>
    Config.option(Config.redacted(name)).pipe(
      Effect.map(Option.filter((value) => Redacted.value(value).trim().length > 0)),
      Effect.orElseSucceed(() => Option.none<Redacted.Redacted<string>>())
    )
  const name = "default"
  const limits = yield* PortalLimits.config.pipe(
    Effect.mapError((error) => new InvalidConfig({ key: "environment", reason: String(error) }))
  )
  const webhook = yield* optional("B24_WEBHOOK_URL")
  const clientId = yield* optional("B24_CLIENT_ID")
  let upstream: Upstream
  if (Option.isSome(webhook)) {
    upstream = { _tag: "Webhook", url: yield* checkWebhook("B24_WEBHOOK_URL", webhook.value) }
  } else if (Option.isSome(clientId)) {
    const secret = yield* optional("B24_CLIENT_SECRET")
    if (Option.isNone(secret)) return yield* fail("B24_CLIENT_SECRET", "is not set (B24_CLIENT_ID is)")
    const tokenUrl = yield* optional("B24_OAUTH_URL")
    upstream = {
      _tag: "OAuth",
      clientId: Redacted.value(clientId.value),
      clientSecret: secret.value,
      tokenUrl: Option.isSome(tokenUrl)
        ? yield* checkUrl("B24_OAUTH_URL", Redacted.value(tokenUrl.value))
        : undefined,
      bootstrap: undefined
    }
  } else {
    upstream = { _tag: "Emulator" }
  }
  const portal: Portal = {
    name,
    upstream,
    limits,
    batching: portalDefaults.batching,
    timeout: portalDefaults.timeout,
    inflight: portalDefaults.inflight,
    queue: portalDefaults.queue
  }
  const configured = yield* optional("B24_PROXY_CLIENTS")
  const clients = Option.isSome(configured) ? yield* parseClients(configured.value, name) : []
  const generated = clients.length === 0 ? generateClient(name) : undefined
  const tokenFile = yield* optional("B24_TOKEN_FILE")
  return {
    portals: [portal],
    clients: generated === undefined ? clients : [generated],
    generated,
    tokenFile: Path.resolve(Option.match(tokenFile, { onNone: () => "b24-tokens.json", onSome: Redacted.value })),
    source: "environment"
  }
})

/** The configuration of `B24_PROXY_CONFIG` when set, else {@link fromEnvironment}. */
export const read: Effect.Effect<Resolved, InvalidConfig> = Effect.flatMap(
  Config.option(Config.string("B24_PROXY_CONFIG")).pipe(Effect.orElseSucceed(() => Option.none<string>())),
  (path) => Option.isSome(path) && path.value.trim().length > 0 ? load(path.value.trim()) : fromEnvironment
)

/** The configuration as a Layer. */
export const layer = (resolved: Resolved): Layer.Layer<ProxyConfig> => Layer.succeed(ProxyConfig, resolved)

/** The configuration read from the environment ({@link read}) as a Layer. */
export const layerConfig: Layer.Layer<ProxyConfig, InvalidConfig> = Layer.effect(ProxyConfig, read)

/**
 * The proxy's retry policy defaults, under `B24_RETRY_*` (`RetryPolicy.layerConfig`): the safe policy (refusals,
 * unsent requests, ambiguous failures of idempotent methods), with a client's patience: at most 3 retries, none
 * starting later than 10 s after the first attempt, delays capped at 4 s. The client's SDK has its own timeout (the
 * official one gives up after 30 s) and its own retries.
 */
export const retryDefaults: RetryPolicy.Options = { retries: 3, deadline: "10 seconds", cap: "4 seconds" }
