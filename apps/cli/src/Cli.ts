/**
 * The `b24` command line, derived from the core catalog: every declared method becomes a subcommand mirroring its
 * name (`imopenlines.session.mode.silent` -> `b24 imopenlines session mode silent`), every param an option in
 * kebab-case (`CHAT_ID` -> `--chat-id`; Y/N flags as `--activate` / `--no-activate`). `b24 call <method>
 * [KEY=VALUE ...]` calls any method with PHP bracket keys.
 *
 * Global options (root command): `--webhook URL` (falls back to `B24_WEBHOOK_URL`), `--emulator` (an in-process
 * emulator; also the default when no portal is configured), `--json` (print the whole envelope).
 *
 * Exit codes: 0 success, 1 unexpected failure, 2 usage (bad options or params, found before any I/O),
 * 3 portal error (the portal answered an error code), 4 transport error (network, timeout, unreadable answer).
 */
import { Bitrix24Client, Catalog, Envelope, Method, PortalError, Wire, WireRequest } from "@bitrix24-effect/core"
import { Emulator } from "@bitrix24-effect/emulator"
import { Bitrix24Http, PortalLimits, RetryPolicy, SharedState } from "@bitrix24-effect/http"
import * as Args from "@effect/cli/Args"
import type * as CliApp from "@effect/cli/CliApp"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import type * as ConfigError from "effect/ConfigError"
import * as Console from "effect/Console"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as EventsCli from "./Events.js"

/** Exit codes of `b24`. */
export const ExitCode = { ok: 0, failure: 1, usage: 2, portal: 3, transport: 4 } as const

/** A handler ended with this exit code, after printing what happened. */
export class Exit extends Data.TaggedError("CliExit")<{ readonly code: number }> {}

const webhook = Options.redacted("webhook").pipe(
  Options.withDescription("Inbound webhook URL of the portal (default: $B24_WEBHOOK_URL)"),
  Options.optional
)
const emulator = Options.boolean("emulator").pipe(
  Options.withDescription("Run against an in-process emulated portal (the default when no portal is configured)")
)
const json = Options.boolean("json").pipe(
  Options.withDescription("Print the whole response envelope (result, time) as JSON, and errors as JSON")
)

/** The root command and its global options. */
export const root = Command.make("b24", { webhook, emulator, json })

interface Globals {
  readonly webhook: Option.Option<Redacted.Redacted<string>>
  readonly emulator: boolean
  readonly json: boolean
}

/**
 * The transport's policies: retries (proven refusals; idempotent methods also after ambiguous failures) and the
 * portal's limits, from the environment (`B24_RETRY_*`, `B24_BUCKET`, `B24_OPERATING_LIMIT`), with the leaky bucket
 * and the operating budget in memory, or in Redis shared with every other process when `B24_REDIS_URL` is set
 * (`SharedState.layerConfig`). A person is waiting: by default at most 2 retries, none starting after 10 seconds.
 */
export const TransportPolicies: Layer.Layer<
  Bitrix24Http.Policies,
  ConfigError.ConfigError | SharedState.RedisUnavailable | SharedState.InvalidEncryptionKey
> = Layer.mergeAll(
  RetryPolicy.layerConfig({ base: "250 millis", cap: "2 seconds", retries: 2, deadline: "10 seconds" }),
  PortalLimits.layerConfig(),
  SharedState.layerConfig()
)

/**
 * The transport a command runs on. It may require nothing but an HttpClient: its policies are provided where it is
 * built, and leaving one out is a type error here.
 */
export type PortalLayer = Layer.Layer<
  Bitrix24Client.Bitrix24Client,
  | Bitrix24Http.InvalidWebhookUrl
  | ConfigError.ConfigError
  | HttpServerError.ServeError
  | SharedState.RedisUnavailable
  | SharedState.InvalidEncryptionKey,
  HttpClient.HttpClient
>

/**
 * The portal the command talks to: `--emulator`, else `--webhook`, else `B24_WEBHOOK_URL`, else the embedded
 * emulator (said on stderr). This is the CLI's one place where layers are chosen.
 */
const portalLayer = (globals: Globals): Effect.Effect<PortalLayer> =>
  Effect.gen(function*() {
    const fromEnv = yield* Effect.orElseSucceed(Bitrix24Http.webhookUrlConfig, () => Option.none())
    const configured = Option.orElse(globals.webhook, () => fromEnv)
    if (!globals.emulator && Option.isSome(configured)) {
      return Bitrix24Http.layerWebhook(configured.value).pipe(Layer.provide(TransportPolicies))
    }
    if (!globals.emulator) {
      yield* Console.error("b24: no portal configured (--webhook or B24_WEBHOOK_URL): using the embedded emulator")
    }
    return Layer.unwrapScoped(
      Effect.map(Emulator.make(), (running) => Bitrix24Http.layerWebhook(running.webhookUrl))
    ).pipe(Layer.provide(TransportPolicies))
  })

const print = (globals: Globals, response: Bitrix24Client.CallResponse<unknown>) =>
  Console.log(
    globals.json ? JSON.stringify(Envelope.fromResponse(response)) : JSON.stringify(response.result)
  )

/** Prints an error the way the user asked for and maps it to an exit code. */
const report = (globals: Globals, error: unknown): Effect.Effect<never, Exit> => {
  const say = (text: string, body: Record<string, unknown>, code: number) =>
    Effect.zipRight(Console.error(globals.json ? JSON.stringify(body) : text), Effect.fail(new Exit({ code })))
  if (error instanceof PortalError.InvalidParams) {
    return say(
      `b24: ${error.message}`,
      { error: "INVALID_PARAMS", field: error.field, error_description: error.reason },
      ExitCode.usage
    )
  }
  if (error instanceof Bitrix24Http.InvalidWebhookUrl) {
    return say(
      `b24: ${error.message}`,
      { error: "INVALID_WEBHOOK_URL", error_description: error.message },
      ExitCode.usage
    )
  }
  if (error instanceof PortalError.TransportError) {
    return say(
      `b24: ${error.message}`,
      { error: "TRANSPORT", reason: error.reason, error_description: error.description },
      ExitCode.transport
    )
  }
  if (PortalError.isPortalError(error)) {
    return say(
      `${error.code || "(empty code)"}: ${error.description} (HTTP ${error.status})`,
      { error: error.code, error_description: error.description, status: error.status },
      ExitCode.portal
    )
  }
  return say(`b24: unexpected failure: ${String(error)}`, { error: "UNEXPECTED" }, ExitCode.failure)
}

const run = <E>(
  call: Effect.Effect<Bitrix24Client.CallResponse<unknown>, E, Bitrix24Client.Bitrix24Client>
) =>
  Effect.gen(function*() {
    const globals = yield* root
    const layer = yield* portalLayer(globals)
    yield* call.pipe(
      Effect.provide(layer),
      Effect.flatMap((response) => print(globals, response)),
      Effect.catchAll((error) => report(globals, error)),
      Effect.scoped
    )
  })

const describeParam = (param: Method.ParamInfo) =>
  `${param.name}: ${param.description || param.kind}${param.default === undefined ? "" : ` (default ${param.default})`}`

/** The options of one param; a Y/N flag is a pair `--x` / `--no-x` so that "absent" stays absent. */
const paramOption = (param: Method.ParamInfo): Options.Options<Option.Option<unknown>> => {
  const name = Method.kebab(param.name)
  switch (param.kind) {
    case "flag": {
      const on = Options.boolean(name).pipe(Options.withDescription(`${describeParam(param)}; sends ${param.name}=Y`))
      const off = Options.boolean(`no-${name}`).pipe(Options.withDescription(`sends ${param.name}=N`))
      return Options.map(
        Options.all([on, off]),
        ([yes, no]) => yes ? Option.some(true) : no ? Option.some(false) : Option.none()
      )
    }
    case "integer": {
      const option = Options.integer(name).pipe(Options.withDescription(describeParam(param)))
      return param.required ? Options.map(option, Option.some) : Options.optional(option)
    }
    case "text": {
      const option = Options.text(name).pipe(Options.withDescription(describeParam(param)))
      return param.required ? Options.map(option, Option.some) : Options.optional(option)
    }
    case "json": {
      // A nested param (PARAMS, MESSAGES): JSON text, decoded by the declaration like any other value.
      const option = Options.text(name).pipe(
        Options.withDescription(`${describeParam(param)} (JSON)`),
        Options.withSchema(Schema.parseJson())
      )
      return param.required ? Options.map(option, Option.some) : Options.optional(option)
    }
  }
}

/** The leaf command of one declared method. */
const methodCommand = (method: Method.Any, leaf: string) => {
  const params = Method.paramsOf(method)
  const options = Object.fromEntries(params.map((param) => [param.name, paramOption(param)]))
  const description = `${method.method}: ${method.summary}.${method.deprecated ? " Deprecated by the portal." : ""}`
  return Command.make(Method.kebab(leaf), { params: options }, ({ params: values }) => {
    const typed: Record<string, unknown> = {}
    for (const [name, value] of Object.entries(values as Record<string, Option.Option<unknown>>)) {
      if (Option.isSome(value)) typed[name] = value.value
    }
    // Application methods (event.*, imconnector.*) take the wire path: through a webhook the portal answers
    // WRONG_AUTH_TYPE, a typed portal error (exit 3), instead of a missing Bitrix24Client.ApplicationAuth.
    return run(
      method.auth === "application"
        ? Effect.flatMap(method.encodeParams(typed), method.fromWire)
        : method.withResponse(typed) as Effect.Effect<
          Bitrix24Client.CallResponse,
          unknown,
          Bitrix24Client.Bitrix24Client
        >
    )
  }).pipe(Command.withDescription(description))
}

interface Tree {
  readonly children: Map<string, Tree>
  method?: Method.Any
}

/** Nests the catalog by the dots of the method names. */
const buildTree = (methods: ReadonlyArray<Method.Any>): Tree => {
  const top: Tree = { children: new Map() }
  for (const method of methods) {
    let node = top
    for (const part of method.method.split(".")) {
      let child = node.children.get(part)
      if (child === undefined) {
        child = { children: new Map() }
        node.children.set(part, child)
      }
      node = child
    }
    node.method = method
  }
  return top
}

type AnyCommand = Command.Command<string, any, any, any>

const toCommands = (tree: Tree): Array<AnyCommand> =>
  [...tree.children].map(([name, node]): AnyCommand => {
    if (node.method !== undefined && node.children.size === 0) return methodCommand(node.method, name)
    const group = Command.make(Method.kebab(name)).pipe(
      Command.withDescription(`Subcommands: ${[...node.children.keys()].map(Method.kebab).join(", ")}`)
    )
    const children = toCommands(node)
    if (node.method !== undefined) children.push(methodCommand(node.method, "call"))
    return group.pipe(Command.withSubcommands(children as [AnyCommand, ...Array<AnyCommand>]))
  })

/** `b24 call <method> [KEY=VALUE ...]`: any method, params in PHP bracket syntax (`fields[TITLE]=x`). */
const callCommand = Command.make(
  "call",
  {
    method: Args.text({ name: "method" }).pipe(Args.withDescription("REST method name, e.g. im.chat.mute")),
    pairs: Args.text({ name: "KEY=VALUE" }).pipe(
      Args.withDescription("Params; nested keys in PHP bracket syntax (fields[TITLE]=x, select[]=ID)"),
      Args.repeated
    )
  },
  ({ method, pairs }) =>
    Effect.gen(function*() {
      const malformed = pairs.find((pair) => !pair.includes("="))
      if (malformed !== undefined) {
        return yield* report(
          yield* root,
          new PortalError.InvalidParams({ method, field: malformed, missing: false, reason: "expected KEY=VALUE" })
        )
      }
      const query = pairs.map((pair) => {
        const at = pair.indexOf("=")
        return `${encodeURIComponent(pair.slice(0, at))}=${encodeURIComponent(pair.slice(at + 1))}`
      }).join("&")
      const parsed = WireRequest.parseQuery(query)
      if (Either.isLeft(parsed)) return yield* report(yield* root, WireRequest.toInvalidParams(method, parsed.left))
      const params = parsed.right
      const declared = Catalog.find(Wire.normalizeMethod(method).method)
      return yield* run(
        declared === undefined ? Bitrix24Client.callRaw(method, params) : declared.fromWire(params)
      )
    })
).pipe(Command.withDescription("Call any REST method: b24 call im.chat.mute CHAT_ID=1489 MUTE=Y"))

/** `b24 events ...` (Events.ts); the REST method `events` is its `codes` subcommand. */
const eventsCommand = EventsCli.make({
  emulator: Effect.map(root, (globals) => globals.emulator),
  report: (error) => Effect.flatMap(root, (globals) => report(globals, error))
})

/** The whole command tree. */
export const command = root.pipe(
  Command.withDescription("Bitrix24 REST from the command line: one subcommand per declared method."),
  Command.withSubcommands(
    [
      callCommand,
      eventsCommand,
      ...toCommands(buildTree(Catalog.methods.filter((method) => method.method !== "events")))
    ] as [AnyCommand, ...Array<AnyCommand>]
  )
)

/**
 * Runs `b24` with these arguments (`argv` as in `process.argv`) and answers its exit code. Errors never escape:
 * every failure has been printed by then. Needs an HttpClient for portal calls and the CLI environment.
 */
export const main = (
  argv: ReadonlyArray<string>
): Effect.Effect<number, never, CliApp.CliApp.Environment | HttpClient.HttpClient> => {
  return Command.run(command, { name: "b24", version: "0.1.0", executable: "b24" })(argv).pipe(
    Effect.as(ExitCode.ok as number),
    Effect.catchAll((error) => {
      if (error instanceof Exit) return Effect.succeed(error.code)
      if (ValidationError.isValidationError(error)) return Effect.succeed(ExitCode.usage as number)
      return Effect.as(Console.error(`b24: ${String(error)}`), ExitCode.failure as number)
    })
  )
}
