/**
 * The proxy's own clients: who may call it. Each client has an ID and a secret and calls
 * `/rest/{id}/{secret}/{method}`, the inbound-webhook form of the wire (so any Bitrix24 SDK works unchanged).
 * Configured as `B24_PROXY_CLIENTS="id:secret,id2:secret2"`; secrets stay `Redacted` and are compared in constant
 * time. With none configured, one client is generated at start.
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Crypto from "node:crypto"

/** One client credential. */
export interface Client {
  readonly id: string
  readonly secret: Redacted.Redacted<string>
}

/** The client table of the proxy. */
export interface Service {
  /** Does this ID and secret belong to a client? Constant time in the secret. */
  readonly verify: (id: string, secret: string) => boolean
  /** The client generated at start when none was configured. */
  readonly generated: Option.Option<Client>
}

/** The proxy's clients (`B24_PROXY_CLIENTS`, or one generated at start). */
export class Clients extends Context.Tag("@bitrix24-effect/proxy/Clients")<Clients, Service>() {}

const digest = (value: string) => Crypto.createHash("sha256").update(value).digest()

const idPattern = /^[A-Za-z0-9_-]{1,64}$/
const secretPattern = /^[A-Za-z0-9_-]{8,128}$/

/**
 * Parses `id:secret` pairs separated by commas or white space. The error names the position of a bad pair, never
 * its secret.
 */
export const parse = (value: Redacted.Redacted<string>): Either.Either<ReadonlyArray<Client>, string> => {
  const entries = Redacted.value(value).split(/[\s,]+/).filter((entry) => entry.length > 0)
  const clients: Array<Client> = []
  for (const [index, entry] of entries.entries()) {
    const at = entry.indexOf(":")
    const id = entry.slice(0, at)
    const secret = entry.slice(at + 1)
    if (at <= 0 || !idPattern.test(id) || !secretPattern.test(secret)) {
      return Either.left(
        `entry ${index + 1} is not id:secret (id: 1-64 of A-Z a-z 0-9 _ -; secret: 8-128 of the same)`
      )
    }
    clients.push({ id, secret: Redacted.make(secret) })
  }
  return clients.length === 0 ? Either.left("no id:secret pairs") : Either.right(clients)
}

/** Builds the service over a list of clients. */
export const make = (clients: ReadonlyArray<Client>, generated: Option.Option<Client> = Option.none()): Service => {
  const table = new Map(clients.map((client) => [client.id, digest(Redacted.value(client.secret))]))
  const unknown = digest(Crypto.randomBytes(32).toString("hex"))
  return {
    verify: (id, secret) => {
      const expected = table.get(id)
      // Compare even for unknown IDs, so the timing does not tell which IDs exist.
      const equal = Crypto.timingSafeEqual(expected ?? unknown, digest(secret))
      return expected !== undefined && equal
    },
    generated
  }
}

/** A fresh client: ID `proxy`, a random 32-character secret. */
export const generate = (): Client => ({
  id: "proxy",
  secret: Redacted.make(Crypto.randomBytes(24).toString("base64url"))
})

/** The clients of `B24_PROXY_CLIENTS`, or one generated client when it is unset or blank. */
export const layerConfig: Layer.Layer<Clients, ConfigError.ConfigError> = Layer.effect(
  Clients,
  Effect.gen(function*() {
    const configured = yield* Config.option(Config.redacted("B24_PROXY_CLIENTS")).pipe(
      Effect.map(Option.filter((value) => Redacted.value(value).trim().length > 0))
    )
    if (Option.isNone(configured)) {
      const client = generate()
      return make([client], Option.some(client))
    }
    return yield* Either.match(parse(configured.value), {
      onLeft: (reason) => Effect.fail(ConfigError.InvalidData(["B24_PROXY_CLIENTS"], reason)),
      onRight: (clients) => Effect.succeed(make(clients))
    })
  })
)
