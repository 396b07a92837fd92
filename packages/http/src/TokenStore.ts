/**
 * Where an OAuth application's tokens live between calls and between runs (wire sheet §4). A refresh rotates both
 * tokens and the used refresh token dies, so the new pair must be persisted before it is used: otherwise a crash
 * loses the only valid refresh token and the application has to be re-authorized.
 *
 * The store is keyed (one entry per portal, or per portal and user), so one application can serve many portals, and
 * it is a Tag with `get`/`set` and a refresh lock, so a shared store can replace the in-memory and file-backed ones
 * with a Layer. Token values stay `Redacted` in memory; the file store writes them in clear text to a file with mode
 * 0600, atomically (a temporary file in the same directory, then a rename).
 *
 * The refresh lock makes a refresh single-flight among everyone who uses the store: `OAuth` refreshes only while
 * holding it, and re-reads the store first. The memory and file stores lock within this process ({@link make});
 * `SharedState.layerRedis` keeps the tokens in Redis with a lock every process sees (with an expiry and a fencing
 * value), so N processes holding an expired token make exactly one refresh.
 *
 * @since 0.1.0
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"

/**
 * An OAuth token pair with what the token endpoint answered about it (wire sheet §4).
 * - `expiresAt`: when the access token expires, epoch milliseconds on the local clock.
 * - `restUrl`: the portal's REST base, `client_endpoint` (`https://{portal}/rest/`).
 * - `memberId`: the portal's stable identifier (`member_id`), when known.
 * - `applicationToken`: the portal's `application_token` for this application, learned from ONAPPINSTALL: the only
 *   proof that an event delivery comes from the portal (docs/bitrix24-events.md §2.5). An event receiver compares
 *   every delivery's `auth[application_token]` with it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Tokens = Schema.Struct({
  accessToken: Schema.Redacted(Schema.String),
  refreshToken: Schema.Redacted(Schema.String),
  expiresAt: Schema.Number,
  restUrl: Schema.String,
  memberId: Schema.optional(Schema.String),
  userId: Schema.optional(Schema.Number),
  scope: Schema.optional(Schema.String),
  applicationToken: Schema.optional(Schema.Redacted(Schema.String))
}).annotations({ identifier: "Tokens" })

/**
 * @since 0.1.0
 * @category models
 */
export type Tokens = typeof Tokens.Type

/**
 * The store could not be read or written. The message names the operation and the key, never a token.
 *
 * @since 0.1.0
 * @category errors
 */
export class TokenStoreError extends Schema.TaggedError<TokenStoreError>("@bitrix24-effect/http/TokenStoreError")(
  "TokenStoreError",
  { operation: Schema.Literal("get", "set", "remove", "lock"), key: Schema.String, description: Schema.String }
) {
  override get message(): string {
    return `token store ${this.operation} of "${this.key}" failed: ${this.description}`
  }
}

/**
 * Stores the rotated pair of a refresh, from inside the refresh lock: answers `true` once the pair is stored, or
 * `false`, storing nothing, when the pair stored under the key is newer than this lock (a later holder of the lock,
 * whose own lock came after this one expired, or a `set`, has stored one since). The holder then uses the stored pair.
 *
 * @since 0.1.0
 * @category models
 */
export type Save = (tokens: Tokens) => Effect.Effect<boolean, TokenStoreError>

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** The tokens stored under `key`, if any. */
  readonly get: (key: string) => Effect.Effect<Option.Option<Tokens>, TokenStoreError>
  /** Stores `tokens` under `key`, durably, before answering (a new authorization; a refresh uses `Save`). */
  readonly set: (key: string, tokens: Tokens) => Effect.Effect<void, TokenStoreError>
  /** Forgets what is stored under `key` (an application removed from a portal: ONAPPUNINSTALL). */
  readonly remove: (key: string) => Effect.Effect<void, TokenStoreError>
  /**
   * Runs `use` while holding the refresh lock of `key`, waiting for it as long as another holder keeps it, and hands
   * it the {@link Save} of the rotated pair. `ttl` bounds how long a lock outlives a holder that died: a shared store
   * lets it expire after `ttl`, so a holder must finish (or give up) within it. Fails with {@link TokenStoreError}
   * (operation `lock`) when the lock cannot be taken.
   */
  readonly withRefreshLock: <A, E, R>(
    key: string,
    ttl: Duration.Duration,
    use: (save: Save) => Effect.Effect<A, E, R>
  ) => Effect.Effect<A, E | TokenStoreError, R>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class TokenStore extends Context.Tag("@bitrix24-effect/http/TokenStore")<TokenStore, Service>() {}

/**
 * A store from its other operations, with a refresh lock within this process: one semaphore per key, so fibers of
 * this process refresh one at a time (a process that dies takes its lock with it; `ttl` is not needed), and the
 * rotated pair saved with `set`. Processes sharing the underlying storage do not see each other's lock: use
 * `SharedState.layerRedis` for several processes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (store: Omit<Service, "withRefreshLock">): Service => {
  const locks = new Map<string, Effect.Semaphore>()
  const lockOf = (key: string) => {
    let lock = locks.get(key)
    if (lock === undefined) {
      lock = Effect.unsafeMakeSemaphore(1)
      locks.set(key, lock)
    }
    return lock
  }
  return {
    ...store,
    withRefreshLock: (key, _ttl, use) =>
      Effect.suspend(() => lockOf(key).withPermits(1)(use((tokens) => Effect.as(store.set(key, tokens), true))))
  }
}

/**
 * An in-memory store, optionally seeded. Tokens last as long as the process.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory = (initial: Readonly<Record<string, Tokens>> = {}): Service => {
  const entries = new Map(Object.entries(initial))
  return make({
    get: (key) => Effect.sync(() => Option.fromNullable(entries.get(key))),
    set: (key, tokens) => Effect.sync(() => void entries.set(key, tokens)),
    remove: (key) => Effect.sync(() => void entries.delete(key))
  })
}

/**
 * The in-memory store as a Layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory = (initial?: Readonly<Record<string, Tokens>>): Layer.Layer<TokenStore> =>
  Layer.sync(TokenStore, () => makeMemory(initial))

const FileContents = Schema.parseJson(Schema.Struct({
  version: Schema.Literal(1),
  tokens: Schema.Record({ key: Schema.String, value: Tokens })
}))
const decodeFile = Schema.decodeUnknown(FileContents)
const encodeFile = Schema.encode(FileContents)

/**
 * A store in a JSON file (`{"version":1,"tokens":{key: ...}}`), created on the first `set`. Every `set` writes a
 * temporary file next to it with mode 0600 and renames it over the file, so a crash leaves either the old or the new
 * contents, never a torn file. Writes within the process are serialized, and so are refreshes ({@link make}): one
 * process per file.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeFile = (path: string): Effect.Effect<Service, never, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const lock = yield* Effect.makeSemaphore(1)

    const readAll = (operation: "get" | "set" | "remove", key: string) =>
      Effect.gen(function*() {
        const exists = yield* fs.exists(path)
        if (!exists) return {} as Record<string, Tokens>
        const text = yield* fs.readFileString(path)
        return (yield* decodeFile(text)).tokens
      }).pipe(
        Effect.mapError((error) =>
          new TokenStoreError({
            operation,
            key,
            description: error._tag === "ParseError" ? "the file is not a token store" : error.message
          })
        )
      )

    /** Rewrites the whole file with one entry changed, atomically (temporary file, then rename). */
    const write = (
      operation: "set" | "remove",
      key: string,
      change: (all: Record<string, Tokens>) => Record<string, Tokens>
    ) =>
      lock.withPermits(1)(
        Effect.gen(function*() {
          const all = change({ ...(yield* readAll(operation, key)) })
          const text = yield* encodeFile({ version: 1, tokens: all }).pipe(
            Effect.mapError(() => new TokenStoreError({ operation, key, description: "could not encode" }))
          )
          const temporary = `${path}.${Math.random().toString(36).slice(2)}.tmp`
          yield* fs.writeFileString(temporary, text, { mode: 0o600 }).pipe(
            Effect.zipRight(fs.chmod(temporary, 0o600)),
            Effect.zipRight(fs.rename(temporary, path)),
            Effect.tapError(() => Effect.ignore(fs.remove(temporary))),
            Effect.mapError((error) => new TokenStoreError({ operation, key, description: error.message }))
          )
        })
      )

    return make({
      get: (key) => Effect.map(readAll("get", key), (tokens) => Option.fromNullable(tokens[key])),
      set: (key, tokens) => write("set", key, (all) => ({ ...all, [key]: tokens })),
      remove: (key) =>
        write("remove", key, (all) => {
          delete all[key]
          return all
        })
    })
  })

/**
 * The file store as a Layer (needs a `FileSystem`, e.g. `NodeFileSystem.layer`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFile = (path: string): Layer.Layer<TokenStore, never, FileSystem.FileSystem> =>
  Layer.effect(TokenStore, makeFile(path))

/**
 * The file store at the path in `B24_TOKEN_FILE` (or another config).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFileConfig = (
  path: Config.Config<string> = Config.string("B24_TOKEN_FILE")
): Layer.Layer<TokenStore, ConfigError.ConfigError, FileSystem.FileSystem> =>
  Layer.unwrapEffect(Effect.map(path, layerFile))
