/**
 * What `b24` accepts, written once: every command with its summary, options and positional arguments. Each
 * definition carries both halves: the description as plain data (a {@link Node}), which the help pages (`Help`), the
 * argument checks with their "did you mean" (`Argv`) and the shell completions (`Completions`) read, and the
 * `@effect/cli` command that parses the values and runs the handler. @effect/cli keeps descriptions inside its own
 * help documents, so this module records them where the rest of the CLI can read them.
 *
 * @since 0.1.0
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type { ArgSpec, Node, OptionSpec } from "./Tree.js"

/**
 * An option definition: its description and the @effect/cli option that parses it into an `A`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Opt<A> {
  readonly _tag: "Opt"
  readonly spec: OptionSpec
  readonly cli: Options.Options<A>
}

/**
 * A positional argument definition: its description and the @effect/cli argument that parses it into an `A`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Arg<A> {
  readonly _tag: "Arg"
  readonly spec: ArgSpec
  readonly cli: Args.Args<A>
}

const option = <A>(
  spec: Partial<OptionSpec> & Pick<OptionSpec, "name" | "kind" | "description">,
  cli: Options.Options<A>
): Opt<A> => ({
  _tag: "Opt",
  spec: { placeholder: "", choices: [], required: false, secret: false, ...spec },
  cli: Options.withDescription(cli, spec.description)
})

/**
 * A flag: `--name` is `true`, its absence `false`. A yes/no param is two flags (`--x`, `--no-x`), so that leaving
 * both out sends nothing.
 *
 * @since 0.1.0
 * @category options
 */
export const flag = (name: string, description: string): Opt<boolean> =>
  option({ name, kind: "flag", description }, Options.boolean(name))

/**
 * An optional text option, `--name VALUE`.
 *
 * @since 0.1.0
 * @category options
 */
export const text = (
  name: string,
  description: string,
  settings: { readonly placeholder?: string; readonly required?: boolean; readonly kind?: "text" | "file" } = {}
): Opt<Option.Option<string>> =>
  option({
    name,
    kind: settings.kind ?? "text",
    placeholder: settings.placeholder ?? (settings.kind === "file" ? "FILE" : "TEXT"),
    required: settings.required ?? false,
    description
  }, Options.optional(Options.text(name)))

/**
 * An optional whole-number option, `--name 42`.
 *
 * @since 0.1.0
 * @category options
 */
export const integer = (
  name: string,
  description: string,
  settings: { readonly required?: boolean } = {}
): Opt<Option.Option<number>> =>
  option(
    { name, kind: "integer", placeholder: "INTEGER", required: settings.required ?? false, description },
    Options.optional(Options.integer(name))
  )

/**
 * An optional JSON option, `--messages '[{"user":{"id":"u1"}}]'`: for a nested param (an object or a list), parsed into
 * the value the JSON text stands for.
 *
 * @since 0.1.0
 * @category options
 */
export const json = (
  name: string,
  description: string,
  settings: { readonly required?: boolean } = {}
): Opt<Option.Option<unknown>> =>
  option(
    { name, kind: "json", placeholder: "JSON", required: settings.required ?? false, description },
    Options.optional(Options.withSchema(Options.text(name), Schema.parseJson()))
  )

/**
 * An optional secret option (`--webhook URL`): parsed into a `Redacted`, never echoed in errors, hints or help.
 *
 * @since 0.1.0
 * @category options
 */
export const secret = (
  name: string,
  description: string,
  settings: { readonly placeholder?: string; readonly required?: boolean } = {}
): Opt<Option.Option<Redacted.Redacted<string>>> =>
  option({
    name,
    kind: "text",
    placeholder: settings.placeholder ?? "TEXT",
    required: settings.required ?? false,
    secret: true,
    description
  }, Options.optional(Options.redacted(name)))

/**
 * An option taking one of a few words (`--format json|ndjson|table`), optional.
 *
 * @since 0.1.0
 * @category options
 */
export const choice = <const C extends ReadonlyArray<string>>(
  name: string,
  choices: C,
  description: string
): Opt<Option.Option<C[number]>> =>
  option(
    { name, kind: "choice", placeholder: choices.join("|"), choices, description },
    Options.optional(Options.choice(name, choices))
  )

/**
 * A required positional argument.
 *
 * @since 0.1.0
 * @category arguments
 */
export const arg = (
  name: string,
  description: string,
  settings: { readonly choices?: ReadonlyArray<string> } = {}
): Arg<string> => ({
  _tag: "Arg",
  spec: { name, description, repeated: false, optional: false, choices: settings.choices ?? [] },
  cli: Args.withDescription(Args.text({ name }), description)
})

/**
 * Every remaining positional word (none or more).
 *
 * @since 0.1.0
 * @category arguments
 */
export const rest = (name: string, description: string): Arg<Array<string>> => ({
  _tag: "Arg",
  spec: { name, description, repeated: true, optional: true, choices: [] },
  cli: Args.withDescription(Args.repeated(Args.text({ name })), description)
})

/**
 * What a command definition is made of: options and arguments by key.
 *
 * @since 0.1.0
 * @category models
 */
export type Config = Readonly<Record<string, Opt<any> | Arg<any>>>

/**
 * The values a handler receives for a {@link Config}.
 *
 * @since 0.1.0
 * @category models
 */
export type Values<C extends Config> = {
  readonly [K in keyof C]: C[K] extends Opt<infer A> ? A : C[K] extends Arg<infer A> ? A : never
}

/**
 * A command built from a definition: its description and the @effect/cli command.
 *
 * @since 0.1.0
 * @category models
 */
export interface Built<Name extends string, R, E, A> {
  readonly node: Node
  readonly command: Command.Command<Name, R, E, A>
}

/**
 * Any built command, for lists of subcommands.
 *
 * @since 0.1.0
 * @category models
 */
export type AnyBuilt<R = any, E = any> = Built<any, R, E, any>

/**
 * The services the handlers of some built commands need.
 *
 * @since 0.1.0
 * @category models
 */
export type RequirementsOf<B> = B extends Built<any, infer R, any, any> ? R : never

/**
 * The errors the handlers of some built commands can fail with.
 *
 * @since 0.1.0
 * @category models
 */
export type ErrorsOf<B> = B extends Built<any, any, infer E, any> ? E : never

/**
 * What a command says about itself: a one-line `summary`, paragraphs of `details`, runnable `examples`, and `bulk`
 * when it also reads params from `--input`.
 *
 * @since 0.1.0
 * @category models
 */
export interface About {
  readonly summary: string
  readonly details?: ReadonlyArray<string>
  readonly examples?: ReadonlyArray<string>
  readonly bulk?: boolean
}

const cliConfig = (config: Config) =>
  Object.fromEntries(Object.entries(config).map(([key, value]) => [key, value.cli])) as Record<
    string,
    Options.Options<any> | Args.Args<any>
  >

const nodeOf = (name: string, about: About, config: Config, children: ReadonlyArray<Node>): Node => ({
  name,
  summary: about.summary,
  details: about.details ?? [],
  options: Object.values(config).flatMap((value) => value._tag === "Opt" ? [value.spec] : []),
  args: Object.values(config).flatMap((value) => value._tag === "Arg" ? [value.spec] : []),
  children,
  examples: about.examples ?? [],
  bulk: about.bulk ?? false
})

/**
 * A command that runs `handler` with its parsed values.
 *
 * @since 0.1.0
 * @category constructors
 */
export const leaf = <const Name extends string, const C extends Config, R, E>(
  name: Name,
  about: About,
  config: C,
  handler: (values: Values<C>) => Effect.Effect<void, E, R>
): Built<Name, R, E, Values<C>> => ({
  node: nodeOf(name, about, config, []),
  command: Command.make(name, cliConfig(config), handler as (values: any) => Effect.Effect<void, E, R>) as any
})

/**
 * A command that only chooses among subcommands, made before them so that they can read its options:
 * `yield* parent.command` in a subcommand's handler gives the values of the parent's options (the root's global
 * options).
 *
 * @since 0.1.0
 * @category models
 */
export interface Parent<Name extends string, C extends Config> {
  readonly name: Name
  readonly config: C
  readonly command: Command.Command<Name, never, never, Values<C>>
}

/**
 * A {@link Parent} with these options.
 *
 * @since 0.1.0
 * @category constructors
 */
export const parent = <const Name extends string, const C extends Config>(name: Name, config: C): Parent<Name, C> => ({
  name,
  config,
  command: Command.make(name, cliConfig(config)) as any
})

/**
 * A command whose words pick one of `children`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const group = <
  const Name extends string,
  const C extends Config,
  const Children extends ReadonlyArray<AnyBuilt>
>(
  parent: Parent<Name, C>,
  about: About,
  children: Children
): Built<Name, RequirementsOf<Children[number]>, ErrorsOf<Children[number]>, Values<C>> => ({
  node: nodeOf(parent.name, about, parent.config, children.map((child) => child.node)),
  command: Command.withSubcommands(
    parent.command,
    children.map((child) => child.command) as unknown as [AnyBuilt["command"], ...Array<AnyBuilt["command"]>]
  ) as any
})
