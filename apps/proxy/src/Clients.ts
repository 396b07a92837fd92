/**
 * The proxy's clients and how they prove who they are, in every form a portal accepts (wire sheet §1.1, §4):
 *
 * - the inbound-webhook form, `/rest/{id}/{secret}/{method}[.json|.xml]`, and its params form (`aplogin`, `ap`);
 * - the OAuth form, `/rest/{method}[.json|.xml]` with the client's secret as the bearer token: the header
 *   `Authorization: Bearer {secret}` (read first, as the portal does), or the `auth` or `access_token` param.
 *
 * Secrets stay `Redacted` and are compared in constant time (SHA-256 digests with `timingSafeEqual`, every client's
 * in the OAuth form, a stand-in for an unknown ID in the webhook form), so the timing tells neither a secret nor
 * which IDs exist. The proxy strips the credential params before anything is forwarded (`WireRequest.credentialParams`)
 * and never echoes them.
 */
import { WireRequest } from "@bitrix24-effect/core"
import type { PortalLimits } from "@bitrix24-effect/http"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Crypto from "node:crypto"
import * as MethodScope from "./MethodScope.js"
import * as ProxyConfig from "./ProxyConfig.js"

/** A client, as the proxy serves it. */
export interface Client {
  readonly id: string
  readonly portal: string
  readonly scope: MethodScope.MethodScope
  readonly limit: PortalLimits.Bucket
  readonly weight: number
}

/** How the client authenticated: the webhook form or the OAuth (bearer token) form. */
export type Form = "webhook" | "token"

/** An authenticated caller. */
export interface Caller {
  readonly client: Client
  readonly form: Form
}

/** The client table. */
export interface Service {
  readonly all: ReadonlyArray<Client>
  /** Authenticates a REST request: its route, its `Authorization` header and its params. */
  readonly authenticate: (request: {
    readonly route: WireRequest.RestPath
    readonly authorization: string | undefined
    readonly params: Readonly<Record<string, unknown>>
  }) => Caller | undefined
}

/** The proxy's clients. */
export class Clients extends Context.Tag("@bitrix24-effect/proxy/Clients")<Clients, Service>() {}

const digest = (value: string) => Crypto.createHash("sha256").update(value).digest()

/** Builds the table over configured clients. */
export const make = (configured: ReadonlyArray<ProxyConfig.Client>): Service => {
  const entries = configured.map((client) => ({
    client: {
      id: client.id,
      portal: client.portal,
      scope: MethodScope.make(client.methods),
      limit: client.limit,
      weight: client.weight
    } satisfies Client,
    digest: digest(Redacted.value(client.secret))
  }))
  const byId = new Map(entries.map((entry) => [entry.client.id, entry]))
  const unknown = digest(Crypto.randomBytes(32).toString("hex"))

  const webhook = (id: string, secret: string): Client | undefined => {
    const entry = byId.get(id)
    // Compare even for an unknown ID, so the timing does not tell which IDs exist.
    const equal = Crypto.timingSafeEqual(entry?.digest ?? unknown, digest(secret))
    return entry !== undefined && equal ? entry.client : undefined
  }
  const token = (secret: string): Client | undefined => {
    const presented = digest(secret)
    let found: Client | undefined
    // Every client's digest is compared: no early exit.
    for (const entry of entries) if (Crypto.timingSafeEqual(entry.digest, presented)) found = entry.client
    return found
  }
  const text = (value: unknown) => typeof value === "string" && value.length > 0 ? value : undefined

  return {
    all: entries.map((entry) => entry.client),
    authenticate: ({ authorization, params, route }) => {
      if (route.kind === "webhook") {
        const client = webhook(route.user, route.code)
        return client === undefined ? undefined : { client, form: "webhook" }
      }
      const bearer = authorization !== undefined && /^Bearer /i.test(authorization)
        ? text(authorization.slice(7).trim())
        : undefined
      const presented = bearer ?? text(params.auth) ?? text(params.access_token)
      if (presented !== undefined) {
        const client = token(presented)
        return client === undefined ? undefined : { client, form: "token" }
      }
      const login = text(params.aplogin)
      const code = text(params.ap)
      if (login === undefined || code === undefined) return undefined
      const client = webhook(login, code)
      return client === undefined ? undefined : { client, form: "webhook" }
    }
  }
}

/** Params without their credentials (`auth`, `access_token`, `aplogin`, `ap`): nothing of the client's goes upstream. */
export const withoutCredentials = (params: Readonly<Record<string, unknown>>): Record<string, unknown> => {
  const rest: Record<string, unknown> = {}
  for (const key in params) if (!WireRequest.credentialParams.has(key)) rest[key] = params[key]
  return rest
}

/** The clients of the configuration. */
export const layer: Layer.Layer<Clients, never, ProxyConfig.ProxyConfig> = Layer.effect(
  Clients,
  Effect.map(ProxyConfig.ProxyConfig, (config) => make(config.clients))
)
