/**
 * Named portals for `b24`: an inbound webhook, or an OAuth application authorized by `b24 login`. They live in
 * `$XDG_CONFIG_HOME/b24/profiles.json` (default `~/.config/b24/`), one of them marked as the default; the OAuth
 * tokens of each application profile are kept beside it, in `tokens.json`, by the http package's file
 * `TokenStore` under the profile's name. The directory is created with mode 0700 and both files are written with
 * mode 0600, atomically (a temporary file, then a rename), because they hold secrets: the webhook URL carries its
 * code, and an application profile its client secret. In memory those stay `Redacted`.
 *
 * @since 0.1.0
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"

/**
 * A portal reached through an inbound webhook (`https://{portal}/rest/{user_id}/{code}/`, wire sheet §1.1).
 *
 * @since 0.1.0
 * @category schemas
 */
export const WebhookProfile = Schema.TaggedStruct("webhook", { webhook: Schema.Redacted(Schema.String) })

/**
 * A portal reached through an OAuth application (wire sheet §4): the portal's address, the application's client id
 * and secret, and the token endpoint of its OAuth server.
 *
 * @since 0.1.0
 * @category schemas
 */
export const OAuthProfile = Schema.TaggedStruct("oauth", {
  portal: Schema.String,
  clientId: Schema.String,
  clientSecret: Schema.Redacted(Schema.String),
  tokenUrl: Schema.String
})

/**
 * @since 0.1.0
 * @category schemas
 */
export const Profile = Schema.Union(WebhookProfile, OAuthProfile)

/**
 * @since 0.1.0
 * @category models
 */
export type Profile = typeof Profile.Type

const Stored = Schema.Struct({
  version: Schema.Literal(1),
  default: Schema.optional(Schema.String),
  profiles: Schema.Record({ key: Schema.String, value: Profile })
})
type Stored = typeof Stored.Type
const StoredJson = Schema.parseJson(Stored)
const decodeStored = Schema.decodeUnknown(StoredJson)
const encodeStored = Schema.encode(StoredJson)

/**
 * Profile names: a letter or digit, then letters, digits, `.`, `_` or `-`; at most 64 characters.
 *
 * @since 0.1.0
 * @category constants
 */
export const namePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

/**
 * No profile has this name. `known` lists the existing ones.
 *
 * @since 0.1.0
 * @category errors
 */
export class ProfileNotFound extends Schema.TaggedError<ProfileNotFound>("b24/ProfileNotFound")("ProfileNotFound", {
  name: Schema.String,
  known: Schema.Array(Schema.String)
}) {
  override get message(): string {
    const known = this.known.length === 0 ? "there are none yet" : `the profiles are ${this.known.join(", ")}`
    return `no profile ${JSON.stringify(this.name.slice(0, 64))}: ${known} (b24 profile list)`
  }
}

/**
 * The profiles file could not be read or written; the message names the file and what went wrong, never a secret.
 *
 * @since 0.1.0
 * @category errors
 */
export class ProfileStoreError extends Schema.TaggedError<ProfileStoreError>("b24/ProfileStoreError")(
  "ProfileStoreError",
  { path: Schema.String, description: Schema.String }
) {
  override get message(): string {
    return `${this.path} ${this.description}`
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** The directory of `profiles.json` and `tokens.json`. */
  readonly directory: string
  /** The file `TokenStore` keeps the OAuth tokens in, keyed by profile name. */
  readonly tokensFile: string
  /** The token file of `b24 events listen`: the application tokens its receiver learns from ONAPPINSTALL. */
  readonly receiverTokensFile: string
  /** Creates the directory (mode 0700) if it is missing. */
  readonly ensureDirectory: Effect.Effect<void, ProfileStoreError>
  /** Every profile by name, and the default's name. */
  readonly all: Effect.Effect<
    { readonly profiles: Readonly<Record<string, Profile>>; readonly default: string | undefined },
    ProfileStoreError
  >
  readonly get: (name: string) => Effect.Effect<Profile, ProfileNotFound | ProfileStoreError>
  /** The default profile, if there is one. */
  readonly current: Effect.Effect<
    Option.Option<{ readonly name: string; readonly profile: Profile }>,
    ProfileStoreError
  >
  /**
   * Adds or replaces a profile; it becomes the default when asked or when it is the only one. Answers whether it
   * replaced one and whether it is the default.
   */
  readonly save: (
    name: string,
    profile: Profile,
    makeDefault: boolean
  ) => Effect.Effect<{ readonly replaced: boolean; readonly isDefault: boolean }, ProfileStoreError>
  readonly use: (name: string) => Effect.Effect<void, ProfileNotFound | ProfileStoreError>
  readonly remove: (name: string) => Effect.Effect<void, ProfileNotFound | ProfileStoreError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Profiles extends Context.Tag("b24/Profiles")<Profiles, Service>() {}

/**
 * The profiles kept in `directory`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (directory: string): Effect.Effect<Service, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const file = path.join(directory, "profiles.json")
    const failed = (description: string) => new ProfileStoreError({ path: `the profiles file ${file}`, description })

    const read: Effect.Effect<Stored, ProfileStoreError> = Effect.gen(function*() {
      if (!(yield* fs.exists(file))) return { version: 1, profiles: {} } as Stored
      const text = yield* fs.readFileString(file)
      return yield* decodeStored(text)
    }).pipe(
      Effect.mapError((error) =>
        error._tag === "ParseError"
          ? failed("is not a b24 profiles file (move it away to start afresh)")
          : failed(`could not be read (${error.message})`)
      )
    )

    const ensureDirectory = fs.makeDirectory(directory, { recursive: true, mode: 0o700 }).pipe(
      Effect.mapError((error) =>
        new ProfileStoreError({ path: directory, description: `cannot be created (${error.message})` })
      )
    )

    const write = (stored: Stored) =>
      Effect.gen(function*() {
        yield* ensureDirectory
        const text = yield* encodeStored(stored)
        const temporary = `${file}.${process.pid}.${Date.now()}.tmp`
        yield* fs.writeFileString(temporary, `${text}\n`, { mode: 0o600 }).pipe(
          Effect.zipRight(fs.chmod(temporary, 0o600)),
          Effect.zipRight(fs.rename(temporary, file)),
          Effect.tapError(() => Effect.ignore(fs.remove(temporary)))
        )
      }).pipe(Effect.mapError((error) => failed(`could not be written (${error.message})`)))

    const find = (stored: Stored, name: string) => {
      const profile = stored.profiles[name]
      return profile === undefined
        ? Effect.fail(new ProfileNotFound({ name, known: Object.keys(stored.profiles) }))
        : Effect.succeed(profile)
    }

    return {
      directory,
      tokensFile: path.join(directory, "tokens.json"),
      receiverTokensFile: path.join(directory, "receiver-tokens.json"),
      ensureDirectory,
      all: Effect.map(read, (stored) => ({ profiles: stored.profiles, default: stored.default })),
      get: (name) => Effect.flatMap(read, (stored) => find(stored, name)),
      current: Effect.map(read, (stored) => {
        const name = stored.default
        const profile = name === undefined ? undefined : stored.profiles[name]
        return name === undefined || profile === undefined ? Option.none() : Option.some({ name, profile })
      }),
      save: (name, profile, makeDefault) =>
        Effect.gen(function*() {
          const stored = yield* read
          const replaced = stored.profiles[name] !== undefined
          const profiles = { ...stored.profiles, [name]: profile }
          const isDefault = makeDefault || stored.default === undefined || stored.profiles[stored.default] === undefined
          yield* write({ version: 1, profiles, default: isDefault ? name : stored.default })
          return { replaced, isDefault: isDefault || stored.default === name }
        }),
      use: (name) =>
        Effect.gen(function*() {
          const stored = yield* read
          yield* find(stored, name)
          yield* write({ ...stored, default: name })
        }),
      remove: (name) =>
        Effect.gen(function*() {
          const stored = yield* read
          yield* find(stored, name)
          const { [name]: _removed, ...profiles } = stored.profiles
          yield* write({ version: 1, profiles, ...(stored.default === name ? {} : { default: stored.default }) })
        })
    }
  })

/**
 * The directory of the profiles: `$XDG_CONFIG_HOME/b24`, else `$HOME/.config/b24`.
 *
 * @since 0.1.0
 * @category config
 */
export const directoryConfig: Config.Config<string> = Config.all({
  xdg: Config.string("XDG_CONFIG_HOME").pipe(Config.option),
  home: Config.string("HOME").pipe(Config.withDefault("."))
}).pipe(Config.map(({ home, xdg }) =>
  Option.match(Option.filter(xdg, (dir) => dir.startsWith("/")), {
    onNone: () => `${home}/.config/b24`,
    onSome: (dir) => `${dir}/b24`
  })
))

/**
 * The profiles in {@link directoryConfig}.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Profiles, never, FileSystem.FileSystem | Path.Path> = Layer.effect(
  Profiles,
  Effect.flatMap(Effect.orElseSucceed(directoryConfig, () => "./.config/b24"), make)
)
