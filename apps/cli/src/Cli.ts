/**
 * The `b24` command line: one subcommand per declared method, derived from the core catalog
 * (`imopenlines.session.mode.silent` -> `b24 imopenlines session mode silent`, `CHAT_ID` -> `--chat-id`, Y/N params
 * as `--activate` / `--no-activate`, nested params as JSON text), `b24 call METHOD [KEY=VALUE ...]` for any method,
 * bulk runs from `--input`, profiles, `b24 login` for OAuth applications, `b24 events` (a listener for verified,
 * typed events, and the subscription methods under short names), and shell completions. Methods that need an OAuth
 * application (`auth: "application"`) run through an application profile or `--emulator`; on an inbound webhook they
 * are refused before any request (the portal would answer `WRONG_AUTH_TYPE`, events sheet §1, §5.1).
 *
 * How a run goes: `Argv` reads the words against the command descriptions (reporting mistakes where they are);
 * `--help` and `--version` are answered from those descriptions; anything else is parsed by @effect/cli
 * (`CommandDescriptor.parse`) and its handler runs. Every failure ends in {@link main}, which prints it through the
 * one table of `Failure` (as text, or as one JSON object with `--json`) and answers the exit code.
 *
 * @since 0.1.0
 */
import { Bitrix24Client, Catalog, Event, Method, PortalError, Wire, WireRequest } from "@bitrix24-effect/core"
import { Bitrix24Http, OAuth, TokenStore } from "@bitrix24-effect/http"
import * as CliConfig from "@effect/cli/CliConfig"
import * as CommandDescriptor from "@effect/cli/CommandDescriptor"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Path from "@effect/platform/Path"
import type * as Terminal from "@effect/platform/Terminal"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import type * as AST from "effect/SchemaAST"
import * as Stream from "effect/Stream"
import * as Argv from "./Argv.js"
import type * as Bulk from "./Bulk.js"
import * as Completions from "./Completions.js"
import * as Failure from "./Failure.js"
import * as Output from "./Output.js"
import * as Portal from "./Portal.js"
import * as Profiles from "./Profiles.js"
import * as Quick from "./Quick.js"
import * as Spec from "./Spec.js"
import * as Stdio from "./Stdio.js"
import * as Tree from "./Tree.js"

/**
 * This run: the words it was given (for the command that continues a stopped bulk run) and the exit code a handler
 * sets when it ends without failing (a bulk run with failed lines).
 *
 * @since 0.1.0
 * @category tags
 */
export class Invocation extends Context.Tag("b24/Invocation")<Invocation, {
  readonly words: ReadonlyArray<string>
  readonly exit: Ref.Ref<number>
}>() {}

// -----------------------------------------------------------------------------------------------------------------
// Global options
// -----------------------------------------------------------------------------------------------------------------

/**
 * The root command and its global options (accepted anywhere before `--`).
 *
 * @since 0.1.0
 * @category commands
 */
export const root = Spec.parent("b24", {
  profile: Spec.text("profile", "Use this profile (default: $B24_PROFILE, else the default profile)", {
    placeholder: "NAME"
  }),
  webhook: Spec.secret("webhook", "Use this inbound webhook URL instead of a profile (default: $B24_WEBHOOK_URL)", {
    placeholder: "URL"
  }),
  emulator: Spec.flag("emulator", "Run against an emulated portal in this process (fresh each run; no network)"),
  json: Spec.flag("json", "Print the whole response envelope (result, time), and errors as one JSON object each"),
  format: Spec.choice(
    "format",
    Output.formats,
    "How results are printed: json (the default), ndjson (one line per item of a list) or table"
  ),
  dryRun: Spec.flag("dry-run", "Print the request instead of sending it (secrets as placeholders) and a curl line")
})

type Globals = Spec.Values<typeof root.config>

const formatOf = (globals: Globals, fallback: Output.Format = "json"): Output.Format =>
  Option.getOrElse(globals.format, () => fallback)

const print = (text: string) => Effect.flatMap(Stdio.Stdio, (stdio) => stdio.out(text))
const say = (text: string) => Stdio.errorLine(`b24: ${text}`)

const usage = Failure.usage

// -----------------------------------------------------------------------------------------------------------------
// Calls: one, dry-run, or bulk
// -----------------------------------------------------------------------------------------------------------------

const bulkOptions = {
  input: Spec.text(
    "input",
    "Run one call per line of FILE (- for standard input): NDJSON objects of params, or CSV with a header row",
    { kind: "file", placeholder: "FILE" }
  ),
  resume: Spec.text("resume", "Record the bulk run in STATEFILE, and continue from it when it exists", {
    kind: "file",
    placeholder: "STATEFILE"
  }),
  concurrency: Spec.integer("concurrency", "Calls in flight at once in a bulk run, 1 to 1000 (default 100)")
}

type BulkValues = Spec.Values<typeof bulkOptions>

/**
 * A call as the handlers describe it: how to check and encode params, and how to send them; `application` when the
 * method needs an OAuth application's token (`auth: "application"`).
 */
interface Call {
  readonly command: string
  readonly method: string
  readonly idempotent: boolean
  readonly application: boolean
  readonly flags: Bulk.Job["flags"]
  readonly json: ReadonlyArray<string>
  readonly request: Bulk.Job["request"]
  readonly send: Bulk.Job["send"]
}

const shellWord = (word: string) => /^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`

/** The words of this run with secret values hidden and `--resume STATEFILE` added, as one shell line. */
const continueWith = (words: ReadonlyArray<string>) => (stateFile: string): string => {
  const secrets = Tree.walk(rootNode()).flatMap(({ node }) => node.options.filter((option) => option.secret))
    .map((option) => `--${option.name}`)
  const out: Array<string> = []
  let hide = false
  let resumed = false
  for (const word of words) {
    if (hide) {
      out.push("'<secret>'")
      hide = false
      continue
    }
    const name = word.split("=")[0]!
    if (secrets.includes(name)) {
      if (word.includes("=")) out.push(`${name}='<secret>'`)
      else {
        out.push(word)
        hide = true
      }
      continue
    }
    if (name === "--resume") resumed = true
    out.push(shellWord(word))
  }
  return ["b24", ...out, ...(resumed ? [] : ["--resume", shellWord(stateFile)])].join(" ")
}

/**
 * The portal a call goes to (`Portal.choose`); a dry run without one prints a placeholder destination. A method that
 * needs an OAuth application is refused before any request when the portal is an inbound webhook: the portal would
 * answer 403 `WRONG_AUTH_TYPE` to every such call (events sheet §1, §5.1).
 */
const targetOf = (call: Call, globals: Globals) =>
  Effect.gen(function*() {
    const chosen = Portal.choose(globals)
    const target = globals.dryRun
      ? yield* Effect.catchTag(chosen, "NotConfigured", () => Effect.succeed<Portal.Target>({ _tag: "Emulator" }))
      : yield* chosen
    if (call.application && target._tag === "Webhook") {
      return yield* usage(
        `${call.method} needs an OAuth application, and the portal refuses inbound webhooks for it ` +
          `(WRONG_AUTH_TYPE; the webhook is from ${target.source}): use a profile made by b24 login ` +
          "(--profile NAME), or --emulator",
        `b24 ${call.command}`
      )
    }
    return target
  })

/** Runs a call the way the global options ask: bulk from `--input`, a dry run, or one call printed. */
const runCall = (call: Call, base: Record<string, unknown>, bulk: BulkValues) =>
  Effect.gen(function*() {
    const globals = yield* root.command
    const transport = (target: Portal.Target, batching: boolean) =>
      Portal.layer(target, { batching, application: call.application })
    if (Option.isSome(bulk.input)) {
      const concurrency = Option.getOrElse(bulk.concurrency, () => 100)
      if (concurrency < 1 || concurrency > 1000) return yield* usage("--concurrency must be between 1 and 1000")
      const target = yield* targetOf(call, globals)
      const invocation = yield* Invocation
      const settings: Bulk.Settings = {
        input: bulk.input.value,
        resume: bulk.resume,
        concurrency,
        dryRun: globals.dryRun ? Option.some(Output.destination(target, call)) : Option.none(),
        continueWith: continueWith(invocation.words)
      }
      const job: Bulk.Job = { ...call, base }
      // Loaded on demand, with the CSV parser: single calls do not need them.
      const { run } = yield* Effect.promise(() => import("./Bulk.js"))
      const exit = globals.dryRun
        ? yield* run(job, settings).pipe(Effect.provide(Layer.succeed(Bitrix24Client.Bitrix24Client, unused)))
        : yield* run(job, settings).pipe(Effect.provide(transport(target, true)))
      return yield* Ref.set(invocation.exit, exit)
    }
    if (Option.isSome(bulk.resume) || Option.isSome(bulk.concurrency)) {
      return yield* usage("--resume and --concurrency go with --input")
    }
    const wire = yield* call.request(base)
    const target = yield* targetOf(call, globals)
    if (globals.dryRun) return yield* print(Output.dryRun(call.method, wire, Output.destination(target, call)))
    const response = yield* call.send(base).pipe(Effect.provide(transport(target, false)))
    yield* print(Output.response(response, { json: globals.json, format: formatOf(globals) }))
  })

/** A dry run never calls: a transport that says so if it is ever asked. */
const unused: Bitrix24Client.Service = {
  call: (request) =>
    Effect.fail(
      new PortalError.TransportError({ method: request.method, reason: "Network", description: "dry run: not sent" })
    )
}

// -----------------------------------------------------------------------------------------------------------------
// The declared methods
// -----------------------------------------------------------------------------------------------------------------

/**
 * A declaration as its command needs it, worked out once per method (the tree has a command for each): its params
 * (`Method.paramsOf`) and the wire values of each yes/no param's `true` and `false`, as its schema encodes them: `Y` /
 * `N` (`Wire.YesNo`), or `1` / `0` where the portal reads the param with PHP's `empty()` (`Wire.OneZero`,
 * `imconnector.activate`'s `ACTIVE`: `N` would switch it on, events sheet §5.2).
 */
const shapeOf = (() => {
  const shapes = new WeakMap<Method.Any, {
    readonly params: ReadonlyArray<Method.ParamInfo>
    readonly flags: Bulk.Job["flags"]
  }>()
  return (method: Method.Any) => {
    const known = shapes.get(method)
    if (known !== undefined) return known
    const params = Method.paramsOf(method)
    const flagNames = new Set(params.filter((param) => param.kind === "flag").map((param) => param.name))
    const flags = Object.fromEntries(
      (Schema.Struct(method.params).ast as AST.TypeLiteral).propertySignatures
        .filter((signature) => flagNames.has(String(signature.name)))
        .map((signature) => {
          const encode = Schema.encodeSync(Schema.make<boolean, unknown, never>(signature.type))
          return [String(signature.name), { on: encode(true), off: encode(false) }] as const
        })
    )
    const shape = { params, flags }
    shapes.set(method, shape)
    return shape
  }
})()

const paramOptions = (method: Method.Any) => {
  const { flags, params } = shapeOf(method)
  return Object.fromEntries(
    params.flatMap((param): Array<readonly [string, Spec.Opt<any>]> => {
      const name = Method.kebab(param.name)
      const about = `${param.name}: ${param.description || param.kind}${
        param.default === undefined ? "" : ` (default ${param.default})`
      }`
      switch (param.kind) {
        case "flag":
          return [
            [param.name, Spec.flag(name, `${about}; sends ${param.name}=${flags[param.name]!.on}`)],
            [`!${param.name}`, Spec.flag(`no-${name}`, `Sends ${param.name}=${flags[param.name]!.off}`)]
          ]
        case "integer":
          return [[param.name, Spec.integer(name, about, { required: param.required })]]
        case "text":
          return [[param.name, Spec.text(name, about, { required: param.required })]]
        case "json":
          return [[param.name, Spec.json(name, about, { required: param.required })]]
      }
    })
  )
}

/** The wire params of the options given: the flag pairs' wire values (see {@link shapeOf}). */
const wireParams = (method: Method.Any, values: Readonly<Record<string, unknown>>): Record<string, unknown> => {
  const params: Record<string, unknown> = {}
  const { flags } = shapeOf(method)
  for (const param of shapeOf(method).params) {
    if (param.kind === "flag") {
      if (values[param.name] === true) params[param.name] = flags[param.name]!.on
      else if (values[`!${param.name}`] === true) params[param.name] = flags[param.name]!.off
      continue
    }
    const value = values[param.name] as Option.Option<unknown>
    if (Option.isSome(value)) params[param.name] = value.value
  }
  return params
}

const callOf = (method: Method.Any, command: string): Call => ({
  command,
  method: method.method,
  idempotent: method.idempotent,
  application: method.auth === "application",
  flags: shapeOf(method).flags,
  json: shapeOf(method).params.filter((param) => param.kind === "json").map((param) => param.name),
  request: (params) => Effect.flatMap(method.decodeParams(params), method.encodeParams),
  send: (params) => method.fromWire(params)
})

/**
 * The typed command of a declared method: named `leaf`, at `path` (the method's own by default; `b24 events bind` is
 * `event.bind` under another name).
 */
const methodCommand = (method: Method.Any, leaf: string, path = Method.commandPath(method)) => {
  const { params } = shapeOf(method)
  const flagPair = params.find((param) => param.kind === "flag")
  const required = params.filter((param) => param.required)
  const example = Method.commandArgs(method, method.example)
  return Spec.leaf(
    Method.kebab(leaf),
    {
      summary: `${method.summary}${method.deprecated ? " (deprecated by the portal)" : ""}`,
      details: [
        `Calls ${method.method}${
          method.idempotent ? "" : " (not idempotent: never replayed after an ambiguous failure)"
        }.`,
        method.description,
        ...(method.auth === "application"
          ? [
            "Needs an OAuth application: a profile made by b24 login, or --emulator (the emulated portal's " +
            "application). The portal refuses inbound webhooks for it (WRONG_AUTH_TYPE)."
          ]
          : []),
        ...(params.some((param) => param.kind === "json")
          ? ["A nested param (an object or a list) is given as JSON text, in single quotes for the shell."]
          : []),
        ...(flagPair === undefined
          ? []
          : [
            `A yes/no param is a pair of flags (--${Method.kebab(flagPair.name)} / --no-${
              Method.kebab(flagPair.name)
            }); with neither, nothing is sent and the portal's default applies.`
          ]),
        ...(required.length === 0 ? [] : [
          "With --input, each line gives the params (its keys are the wire names, e.g. " +
          `${required.map((param) => param.name).join(", ")}); the options given here apply to every line.`
        ])
      ],
      examples: [`b24 ${[...path, ...example.map(shellWord)].join(" ")}`],
      bulk: true
    },
    { ...paramOptions(method), ...bulkOptions },
    (values) => {
      const { concurrency, input, resume, ...options } = values as Record<string, unknown> & BulkValues
      return runCall(callOf(method, path.join(" ")), wireParams(method, options), { concurrency, input, resume })
    }
  )
}

interface Tree {
  readonly children: Map<string, Tree>
  method?: Method.Any
}

/** Nests the catalog by the dots of the method names. */
const nest = (methods: ReadonlyArray<Method.Any>): Tree => {
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

const groupSummaries: Readonly<Record<string, string>> = {
  imopenlines: "Open lines: sessions, dialogs, operators and the lines' setup (imopenlines.*)",
  "imopenlines.config": "Open lines' setup: add, get, list, update, delete (imopenlines.config.*)",
  im: "Chats and messages (im.*)",
  imconnector: "Connectors: an outside channel's messages in an open line (imconnector.*; OAuth application only)",
  event: "Event bindings and the offline queue (event.*; OAuth application only); see also b24 events"
}

const toCommands = (tree: Tree, prefix: ReadonlyArray<string>): Array<Spec.AnyBuilt> =>
  [...tree.children].map(([name, node]) => {
    if (node.method !== undefined && node.children.size === 0) return methodCommand(node.method, name)
    const path = [...prefix, name]
    const children = toCommands(node, path)
    if (node.method !== undefined) children.push(methodCommand(node.method, "call"))
    return Spec.group(
      Spec.parent(Method.kebab(name), {}),
      { summary: groupSummaries[path.join(".")] ?? `${path.join(".")}.* methods` },
      children
    )
  })

// -----------------------------------------------------------------------------------------------------------------
// b24 call
// -----------------------------------------------------------------------------------------------------------------

const methodNamePattern = /^[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*$/

const callCommand = Spec.leaf(
  "call",
  {
    summary: "Call any REST method, with params as KEY=VALUE",
    details: [
      "Params use the portal's names and PHP bracket syntax for nested values (fields[TITLE]=x, select[]=ID). A " +
      "declared method checks and types its params as its own subcommand does; any other method is sent as given " +
      "and never replayed.",
      "With --input, each line gives the params; the KEY=VALUE params here apply to every line."
    ],
    examples: ["b24 call im.chat.mute CHAT_ID=1489 MUTE=Y"],
    bulk: true
  },
  {
    method: Spec.arg("METHOD", "REST method name, e.g. im.chat.mute"),
    pairs: Spec.rest("KEY=VALUE", "Params; nested keys in PHP bracket syntax (fields[TITLE]=x, select[]=ID)"),
    ...bulkOptions
  },
  ({ concurrency, input, method, pairs, resume }) =>
    Effect.gen(function*() {
      const name = Wire.normalizeMethod(method).method
      if (!methodNamePattern.test(method) || name.length > 200) {
        return yield* usage(`${Argv.quote(method)} is not a REST method name (like im.chat.mute)`, "b24 call")
      }
      const malformed = pairs.find((pair) => !pair.includes("=") || pair.startsWith("="))
      if (malformed !== undefined) {
        return yield* usage(`expected KEY=VALUE, got ${Argv.quote(malformed)}`, "b24 call")
      }
      const query = pairs.map((pair) => {
        const at = pair.indexOf("=")
        return `${encodeURIComponent(pair.slice(0, at))}=${encodeURIComponent(pair.slice(at + 1))}`
      }).join("&")
      const parsed = WireRequest.parseQuery(query)
      if (Either.isLeft(parsed)) return yield* WireRequest.toInvalidParams(name, parsed.left)
      const params = parsed.right
      const declared = Catalog.find(name)
      const call: Call = declared === undefined
        ? {
          command: `call ${name}`,
          method: name,
          idempotent: false,
          application: false,
          flags: {},
          json: [],
          request: (given) => Effect.succeed(given as Wire.Params),
          send: (given) => Bitrix24Client.callRaw(name, given as Wire.Params)
        }
        : callOf(declared, `call ${declared.method}`)
      return yield* runCall(call, params, { concurrency, input, resume })
    })
)

// -----------------------------------------------------------------------------------------------------------------
// b24 events
// -----------------------------------------------------------------------------------------------------------------

const listenCommand = Spec.leaf(
  "listen",
  {
    summary: "Receive the portal's events: each verified one as a JSON line on standard output",
    details: [
      "Serves an event receiver on ADDRESS:PORT (default address 127.0.0.1; port 0 picks a free one, printed on " +
      "standard error): point an application's handler URLs at it (b24 events bind --handler URL). Each event " +
      "whose auth[application_token] matches the portal's is decoded, typed by its code (_tag) and printed as one " +
      "JSON line, tokens as <redacted>; a forged or unknown token is answered 401 and prints nothing. An event " +
      "delivered twice within 10 minutes prints once.",
      "The token is learned from the application's ONAPPINSTALL and kept in the token file (mode 0600; default " +
      "receiver-tokens.json beside the profiles), so a restarted listener still knows the portal. Runs until " +
      "interrupted (Ctrl-C)."
    ],
    examples: ["b24 events listen --port 8091"]
  },
  {
    port: Spec.integer("port", "The port to listen on, 0 to 65535 (0: any free port)", { required: true }),
    host: Spec.text("host", "The address to listen on (default 127.0.0.1)", { placeholder: "ADDRESS" }),
    tokenFile: Spec.text(
      "token-file",
      "Where the application tokens learned from ONAPPINSTALL are kept (default: receiver-tokens.json beside the " +
        "profiles)",
      { kind: "file" }
    )
  },
  (values) =>
    Effect.gen(function*() {
      const port = Option.getOrElse(values.port, () => 0)
      if (port < 0 || port > 65535) return yield* usage("--port must be between 0 and 65535", "b24 events listen")
      const profiles = yield* Profiles.Profiles
      const tokenFile = Option.isSome(values.tokenFile)
        ? values.tokenFile.value
        : yield* Effect.as(profiles.ensureDirectory, profiles.receiverTokensFile)
      // Loaded on demand: only this command serves anything.
      const Events = yield* Effect.promise(() => import("./Events.js"))
      return yield* Events.listen({ port, host: Option.getOrElse(values.host, () => "127.0.0.1"), tokenFile })
    })
)

/**
 * `b24 events`: the listener, and the subscription methods under the names a person looks for (`bind`, `unbind`,
 * `list` for `event.get`, `codes` for the REST method `events`, which the catalog's tree leaves out: its name is this
 * group's).
 */
const eventsCommand = Spec.group(
  Spec.parent("events", {}),
  {
    summary: "Receive events (listen) and manage the application's bindings (bind, unbind, list, codes)",
    details: [
      "bind, unbind and list are event.bind, event.unbind and event.get (also under b24 event); codes is the REST " +
      "method events. They need an OAuth application: a profile made by b24 login, or --emulator."
    ]
  },
  [
    listenCommand,
    methodCommand(Event.bind, "bind", ["events", "bind"]),
    methodCommand(Event.unbind, "unbind", ["events", "unbind"]),
    methodCommand(Event.get, "list", ["events", "list"]),
    methodCommand(Event.events, "codes", ["events", "codes"])
  ]
)

// -----------------------------------------------------------------------------------------------------------------
// Profiles and login
// -----------------------------------------------------------------------------------------------------------------

/** A secret from an option, `-` for the first line of standard input. Never echoed. */
const secretValue = (value: Redacted.Redacted<string>, what: string) =>
  Redacted.value(value) !== "-" ? Effect.succeed(value) : Effect.gen(function*() {
    const stdio = yield* Stdio.Stdio
    if (stdio.stderrIsTTY) yield* stdio.err(`Paste ${what} and press Enter: `)
    const line = yield* stdio.stdin.pipe(
      Stream.decodeText(),
      Stream.splitLines,
      Stream.runHead,
      Effect.mapError((error) => usage(error.message))
    )
    const text = Option.getOrElse(line, () => "").trim()
    if (text.length === 0) return yield* usage(`expected ${what} on standard input (one line)`)
    return Redacted.make(text)
  })

const checkName = (name: string, command: string) =>
  Profiles.namePattern.test(name)
    ? Effect.void
    : Effect.fail(
      usage(`${Argv.quote(name)} is not a profile name (letters, digits, ".", "_" and "-", at most 64)`, command)
    )

const profileAdd = Spec.leaf(
  "add",
  {
    summary: "Add (or replace) a profile for an inbound webhook",
    details: [
      "The URL is the inbound webhook of the portal, https://<portal>/rest/<user_id>/<code>/; pass - to paste it on " +
      "standard input instead of the command line. It is stored in the profiles file with mode 0600 and never " +
      "printed. The first profile becomes the default."
    ],
    examples: ["b24 profile add work --webhook https://example.bitrix24.com/rest/1/abc123def456/"]
  },
  {
    name: Spec.arg("NAME", "the profile's name"),
    webhook: Spec.secret("webhook", "The inbound webhook URL, or - to read it from standard input", {
      placeholder: "URL",
      required: true
    }),
    makeDefault: Spec.flag("default", "Make it the default profile")
  },
  ({ makeDefault, name, webhook }) =>
    Effect.gen(function*() {
      yield* checkName(name, "b24 profile add")
      if (Option.isNone(webhook)) return yield* usage("needs --webhook URL", "b24 profile add")
      const url = yield* secretValue(webhook.value, "the inbound webhook URL")
      const parsed = yield* Bitrix24Http.parseWebhookUrl(url)
      const profiles = yield* Profiles.Profiles
      const saved = yield* profiles.save(name, { _tag: "webhook", webhook: url }, makeDefault)
      yield* say(
        `profile ${name} ${saved.replaced ? "replaced" : "added"} (inbound webhook of ${parsed.portal}, user ` +
          `${parsed.userId})${saved.isDefault ? "; it is the default" : ""}`
      )
    })
)

const profileList = Spec.leaf(
  "list",
  {
    summary: "List the profiles (no secrets)",
    details: ["Prints a table; with --format json or ndjson, the profiles as JSON objects."],
    examples: ["b24 profile list"]
  },
  {},
  () =>
    Effect.gen(function*() {
      const globals = yield* root.command
      const profiles = yield* Profiles.Profiles
      const all = yield* profiles.all
      const rows = Object.entries(all.profiles).map(([name, profile]) => ({
        name,
        kind: profile._tag,
        portal: profile._tag === "webhook"
          ? Either.match(Bitrix24Http.parseWebhookUrl(profile.webhook), {
            onLeft: () => "(unreadable URL)",
            onRight: (webhook) => `${webhook.portal} (user ${webhook.userId})`
          })
          : `${profile.portal} (${profile.clientId})`,
        default: all.default === name
      }))
      const format = globals.json ? "json" : formatOf(globals, "table")
      if (format === "table" && rows.length === 0) {
        return yield* say("no profiles yet: b24 profile add NAME --webhook URL, or b24 login NAME ...")
      }
      yield* print(
        format === "table"
          ? Output.table(rows.map((row) => ({ ...row, default: row.default ? "*" : "" })))
          : Output.response({ result: rows, time: Option.none(), next: Option.none(), total: Option.none() }, {
            json: false,
            format
          })
      )
    })
)

const profileUse = Spec.leaf(
  "use",
  { summary: "Make a profile the default", examples: ["b24 profile use work"] },
  { name: Spec.arg("NAME", "the profile's name") },
  ({ name }) =>
    Effect.gen(function*() {
      const profiles = yield* Profiles.Profiles
      yield* profiles.use(name)
      yield* say(`profile ${name} is the default`)
    })
)

const profileRemove = Spec.leaf(
  "remove",
  { summary: "Remove a profile", examples: ["b24 profile remove work"] },
  { name: Spec.arg("NAME", "the profile's name") },
  ({ name }) =>
    Effect.gen(function*() {
      const profiles = yield* Profiles.Profiles
      yield* profiles.remove(name)
      yield* say(`profile ${name} removed`)
    })
)

const profileCommand = Spec.group(
  Spec.parent("profile", {}),
  { summary: "Manage the portals b24 knows (stored with mode 0600 under $XDG_CONFIG_HOME/b24)" },
  [profileAdd, profileList, profileUse, profileRemove]
)

const loginCommand = Spec.leaf(
  "login",
  {
    summary: "Authorize an OAuth application on a portal and save it as a profile",
    details: [
      "Runs the authorization-code grant: prints the address of the portal's authorize page to open in a browser, " +
      "waits for the portal's redirect on a loopback listener (127.0.0.1), then exchanges the code for tokens at the " +
      "OAuth server. The tokens are kept in tokens.json beside the profiles (mode 0600) and refreshed on use.",
      "The application's handler URL must accept the listener's address: with a fixed --redirect-port, register " +
      "http://127.0.0.1:PORT/ in the application. The client secret may be given as - to paste it on standard input " +
      "(default: $B24_CLIENT_SECRET); it only ever goes to the OAuth server."
    ],
    examples: [
      "b24 login app --portal https://example.bitrix24.com --client-id local.5f1a2b3c4d5e6f.12345678 --client-secret -"
    ]
  },
  {
    name: Spec.arg("NAME", "the profile's name"),
    portal: Spec.text("portal", "The portal's address, e.g. https://example.bitrix24.com", {
      placeholder: "URL",
      required: true
    }),
    clientId: Spec.text("client-id", "The application's client_id", { placeholder: "ID", required: true }),
    clientSecret: Spec.secret(
      "client-secret",
      "The application's client_secret, or - to read it from standard input",
      { placeholder: "SECRET" }
    ),
    oauthUrl: Spec.text(
      "oauth-url",
      "The OAuth server's token endpoint (default: $B24_OAUTH_URL, else oauth.bitrix.info)",
      {
        placeholder: "URL"
      }
    ),
    redirectPort: Spec.integer("redirect-port", "The loopback listener's port (default: any free port)"),
    timeout: Spec.integer("timeout", "Seconds to wait for the portal's redirect (default 300)"),
    makeDefault: Spec.flag("default", "Make it the default profile")
  },
  (values) =>
    Effect.gen(function*() {
      yield* checkName(values.name, "b24 login")
      const portal = Option.getOrElse(values.portal, () => "")
      const origin = yield* Effect.try({
        try: () => new URL(portal),
        catch: () => usage(`--portal expects an address like https://example.bitrix24.com`, "b24 login")
      }).pipe(Effect.filterOrFail(
        (url) => url.protocol === "https:" || url.protocol === "http:",
        () => usage("--portal expects an http(s) address", "b24 login")
      ))
      const clientId = Option.getOrElse(values.clientId, () => "")
      const given = Option.isSome(values.clientSecret)
        ? Option.some(values.clientSecret.value)
        : yield* Config.redacted("B24_CLIENT_SECRET").pipe(Config.option, Effect.orElseSucceed(() => Option.none()))
      if (Option.isNone(given)) return yield* usage("needs --client-secret (or B24_CLIENT_SECRET)", "b24 login")
      const clientSecret = yield* secretValue(given.value, "the client secret")
      const tokenUrl = Option.isSome(values.oauthUrl)
        ? values.oauthUrl.value
        : yield* Config.string("B24_OAUTH_URL").pipe(Config.withDefault(OAuth.defaultTokenUrl))
      const port = Option.getOrElse(values.redirectPort, () => 0)
      if (port < 0 || port > 65535) return yield* usage("--redirect-port must be between 0 and 65535", "b24 login")
      const seconds = Option.getOrElse(values.timeout, () => 300)
      if (seconds < 1 || seconds > 3600) return yield* usage("--timeout must be between 1 and 3600", "b24 login")
      // Loaded on demand: the loopback listener is only needed here.
      const Login = yield* Effect.promise(() => import("./Login.js"))
      const tokens = yield* Login.authorize({
        portal: origin.origin,
        clientId,
        clientSecret,
        tokenUrl,
        port,
        timeout: `${seconds} seconds`
      })
      const profiles = yield* Profiles.Profiles
      yield* profiles.ensureDirectory
      const store = yield* TokenStore.makeFile(profiles.tokensFile)
      yield* store.set(values.name, tokens)
      const saved = yield* profiles.save(
        values.name,
        { _tag: "oauth", portal: origin.origin, clientId, clientSecret, tokenUrl },
        values.makeDefault
      )
      yield* say(
        `logged in to ${origin.origin}${tokens.userId === undefined ? "" : ` as user ${tokens.userId}`}; profile ` +
          `${values.name} ${saved.replaced ? "replaced" : "saved"}${saved.isDefault ? " (the default)" : ""}`
      )
    })
)

const completionsCommand = Spec.leaf(
  "completions",
  {
    summary: "Print the shell completion script for bash, zsh or fish",
    details: [
      "bash: source <(b24 completions bash), or save it as ~/.local/share/bash-completion/completions/b24. " +
      "zsh: source <(b24 completions zsh), or save it as _b24 in a directory of $fpath. " +
      "fish: b24 completions fish > ~/.config/fish/completions/b24.fish"
    ],
    examples: ["b24 completions bash"]
  },
  { shell: Spec.arg("SHELL", "bash, zsh or fish", { choices: Completions.shells }) },
  ({ shell }) => print(Completions.script(shell as Completions.Shell, rootNode()))
)

// -----------------------------------------------------------------------------------------------------------------
// The tree and the run
// -----------------------------------------------------------------------------------------------------------------

/**
 * Every command of `b24`.
 *
 * @since 0.1.0
 * @category commands
 */
export const tree = Spec.group(
  root,
  {
    summary: "Bitrix24 REST from the command line",
    details: [
      "The portal is, in this order: --emulator, --webhook URL, --profile NAME, $B24_PROFILE, $B24_WEBHOOK_URL, " +
      "the default profile. Results go to standard output as JSON; errors to standard error (as JSON with --json). " +
      "Exit codes: 0 success, 2 usage (found before any request), 3 the portal answered an error, 4 transport " +
      "(network, timeout, unknown outcome), 1 a defect of b24, 130 interrupted."
    ],
    examples: [
      "b24 profile add work --webhook https://example.bitrix24.com/rest/1/abc123def456/",
      "b24 imopenlines session mode silent --chat-id 2043 --activate",
      "b24 --json im chat mute --dialog-id chat1489"
    ]
  },
  [
    callCommand,
    ...toCommands(nest(Catalog.methods.filter((method) => method !== Event.events)), []),
    eventsCommand,
    profileCommand,
    loginCommand,
    completionsCommand
  ]
)

/** The description of every command (a function, so that commands defined before the tree can read it). */
const rootNode = (): Tree.Node => tree.node

const parseConfig = CliConfig.make({ isCaseSensitive: true, showBuiltIns: false, finalCheckBuiltIn: false })

/**
 * What `b24` needs from its surroundings: files (profiles, inputs, state), the terminal service @effect/cli's parser
 * asks for, the streams, and an HttpClient for portal calls.
 *
 * @since 0.1.0
 * @category models
 */
export type Environment =
  | FileSystem.FileSystem
  | Path.Path
  | Terminal.Terminal
  | HttpClient.HttpClient
  | Stdio.Stdio

const report = (error: unknown, json: boolean) => {
  const failure = Failure.describe(error)
  return Effect.as(Stdio.errorLine(json ? JSON.stringify(failure.json) : failure.text), failure.exit)
}

/**
 * Runs `b24` with the words after the program name and answers its exit code. Never fails: every failure has been
 * printed by then (defects too, without a stack trace).
 *
 * @since 0.1.0
 * @category running
 */
export const main = (words: ReadonlyArray<string>): Effect.Effect<number, never, Environment> => {
  const json = Argv.wantsJson(words)
  return Effect.gen(function*() {
    const request = Argv.read(tree.node, words)
    switch (request._tag) {
      case "Mistake":
        return yield* report(Failure.UsageError.fromMistake(request), json)
      case "Version":
        yield* print(`${Quick.version}\n`)
        return Failure.ExitCode.ok
      case "Help": {
        const screen = yield* Stdio.screen
        yield* print(yield* Effect.promise(() => Quick.helpText(tree.node, request.path, request.node, screen)))
        return Failure.ExitCode.ok
      }
      case "Run": {
        const exit = yield* Ref.make<number>(Failure.ExitCode.ok)
        const command = tree.command
        return yield* CommandDescriptor.parse(command.descriptor, request.argv, parseConfig).pipe(
          Effect.flatMap((directive) =>
            directive._tag === "UserDefined" && directive.leftover.length === 0
              ? command.transform(command.handler(directive.value), directive.value)
              : Effect.fail(usage("the command line could not be read"))
          ),
          Effect.zipRight(Ref.get(exit)),
          Effect.provideService(Invocation, { words, exit }),
          Effect.provide(Profiles.layer),
          Effect.scoped,
          Effect.catchAll((error) => report(error, json))
        )
      }
    }
  }).pipe(Effect.catchAllDefect((defect) => report(defect, json)))
}
