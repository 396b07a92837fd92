/**
 * Generates packages/core/REFERENCE.md from the declarations in the catalog: params with types and defaults,
 * result, errors with statuses, idempotency, and a library, CLI and curl example per method.
 * `pnpm run reference` writes it; `pnpm run reference --check` fails when the committed file is out of date (CI runs
 * that). `--file PATH` checks or writes another file (the gate's own test points it at a stale copy).
 */
import * as Schema from "effect/Schema"
import * as AST from "effect/SchemaAST"
import * as Fs from "node:fs"
import * as Url from "node:url"
import * as Catalog from "../src/Catalog.js"
import * as Events from "../src/Events.js"
import * as Method from "../src/Method.js"
import * as PortalError from "../src/PortalError.js"

const fileFlag = process.argv.indexOf("--file")
const target = fileFlag === -1
  ? Url.fileURLToPath(new URL("../REFERENCE.md", import.meta.url))
  : process.argv[fileFlag + 1]!

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ")

/** Quotes a shell word when it needs it (`livechat|1|2043|5`, JSON with quotes). */
const shellQuote = (word: string) => /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`

/** The wire shape of a result: a field table for objects, the type otherwise. */
const describeResult = (schema: Schema.Schema.Any): Array<string> => {
  const wire = AST.encodedAST(schema.ast)
  const literal = wire._tag === "TypeLiteral" ? wire : undefined
  if (literal === undefined) return [`\`${cell(String(wire))}\``]
  return [
    "An object:",
    "",
    "| Field | Wire type | Always present |",
    "| --- | --- | --- |",
    ...literal.propertySignatures.map((p) =>
      `| \`${String(p.name)}\` | \`${cell(String(p.type))}\` | ${p.isOptional ? "no" : "yes"} |`
    ),
    ...(literal.indexSignatures.length > 0 ? ["", "Other keys the portal sends are kept as they are."] : [])
  ]
}

const kindLabel = {
  integer: "integer",
  flag: "boolean (`Y`/`N` on the wire)",
  text: "string",
  json: "object or list (JSON on the command line)"
} as const

const section = (method: Method.Any): string => {
  const params = Method.paramsOf(method)
  const wire = Schema.encodeSync(method.paramsSchema)(method.example)
  const lines = [
    `## \`${method.method}\``,
    "",
    `${method.summary}.`,
    "",
    method.description,
    "",
    ...(method.deprecated ? [`> **Deprecated by the portal.** ${method.deprecated}`, ""] : []),
    `- Scope: \`${method.scope}\``,
    `- Idempotent: ${
      method.idempotent ? "yes (replayed after an ambiguous failure)" : "no (never replayed after an ambiguous failure)"
    }`,
    `- Batchable: ${method.batchable === false ? "no" : "yes"}`,
    ...(method.auth === "application"
      ? [
        "- Auth: an OAuth application only (an inbound webhook gets 403 `WRONG_AUTH_TYPE`); the typed call requires " +
        "`Bitrix24Client.ApplicationAuth`, which only the OAuth transports provide"
      ]
      : []),
    ...(method.embeddedError === undefined
      ? []
      : ["- Failures are reported inside HTTP 200 (`result.result: false`); the library types them (status 200)"]),
    `- Source: ${method.source}`,
    "",
    "### Params",
    "",
    ...(params.length === 0
      ? ["None."]
      : [
        "| Name | Type | Required | Default | Description |",
        "| --- | --- | --- | --- | --- |",
        ...params.map((p) =>
          `| \`${p.name}\` | ${kindLabel[p.kind]} | ${p.required ? "yes" : "no"} | ${
            p.default === undefined ? "" : `\`${p.default}\``
          } | ${cell(p.description)} |`
        )
      ]),
    ...(method.check === undefined ? [] : ["", `Also checked before any I/O: ${method.check({})?.message ?? ""}.`]),
    "",
    "### Result",
    "",
    ...describeResult(method.result),
    "",
    "### Errors",
    "",
    ...(method.errors.length === 0 ? ["None of its own."] : [
      "| HTTP | Code | Class | Default description |",
      "| --- | --- | --- | --- |",
      ...method.errors.map((E) =>
        `| ${E.spec.status} | \`${E.spec.code}\` | \`${E.name}\` | ${cell(E.spec.description)} |`
      )
    ]),
    "",
    "Plus the [system errors](#system-errors), `UnknownPortalError` for other codes, `InvalidParams` (before any I/O)" +
    " and `TransportError`.",
    "",
    "### Examples",
    "",
    "```ts",
    `yield* ${Catalog.exportName(method)}(${JSON.stringify(method.example)})`,
    "```",
    "",
    "```sh",
    `pnpm b24 ${
      [...Method.commandPath(method), ...Method.commandArgs(method, method.example)].map(shellQuote).join(" ")
    }`,
    "```",
    "",
    "```sh",
    method.auth === "application"
      ? `curl -X POST -H "Content-Type: application/json" -d '${
        JSON.stringify({ ...wire, auth: "ACCESS_TOKEN" })
      }' "\${B24_REST_URL}${method.method}.json"`
      : `curl -X POST -H "Content-Type: application/json" -d '${
        JSON.stringify(wire)
      }' "\${B24_WEBHOOK_URL}${method.method}.json"`,
    "```",
    ""
  ]
  return lines.join("\n")
}

/** The top-level keys of an event's decoded `data`, or its type when it is not an object. */
const dataShape = (schema: Schema.Schema.Any): string => {
  const wire = AST.typeAST(schema.ast)
  const literals = (wire._tag === "Union" ? wire.types : [wire]).flatMap((ast) =>
    ast._tag === "TypeLiteral" ? [ast] : []
  )
  const keys = [...new Set(literals.flatMap((ast) => ast.propertySignatures.map((p) => String(p.name))))]
  if (keys.length > 0) return keys.map((key) => `\`${key}\``).join(", ")
  return literals.length > 0 ? "none" : `\`${cell(String(wire))}\``
}

const eventsSection = (): Array<string> => [
  "## Events",
  "",
  "Deliveries decode with `Events.Event` (docs/bitrix24-events.md §2.2-§2.4): `event`, the binding ID from " +
  "`event_handler_id`, `eventId` or `event_id`, `ts` (Unix seconds), `auth` (tokens `Redacted`) and `data` as below. " +
  "Any other event code decodes to `UnknownEvent` with its `data` as received.",
  "",
  "| Event | Scope | Delivered to | `data` keys (decoded) | What it means | Source |",
  "| --- | --- | --- | --- | --- | --- |",
  ...Events.codes.map((code) => {
    const definition: {
      readonly data: Schema.Schema.Any
      readonly scope: string
      readonly summary: string
      readonly source: string
      readonly appOnly?: boolean
    } = Events.definitions[code]
    return `| \`${code}\` | \`${definition.scope}\` | ${
      definition.appOnly === true ? "the application that registered the connector" : "every bound application"
    } | ${dataShape(definition.data)} | ${cell(definition.summary)} | ${definition.source} |`
  }),
  ""
]

const render = (): string =>
  [
    "# Method reference",
    "",
    "Generated from the declarations in `packages/core` by `pnpm run reference`; do not edit by hand.",
    "",
    ...Catalog.methods.map((m) => `- [\`${m.method}\`](#${m.method.replace(/\./g, "")})`),
    "- [Events](#events)",
    "",
    ...Catalog.methods.map(section),
    ...eventsSection(),
    "## System errors",
    "",
    "Any method may fail with these (the seed pages' system-error table, docs/bitrix24-wire.md §3-§5).",
    "",
    "| HTTP | Code | Class | Default description |",
    "| --- | --- | --- | --- |",
    ...PortalError.systemErrors.map((E) =>
      `| ${E.spec.status} | \`${E.spec.code}\` | \`${E.name}\` | ${cell(E.spec.description)} |`
    ),
    ""
  ].join("\n")

const text = render()
if (process.argv.includes("--check")) {
  const current = Fs.existsSync(target) ? Fs.readFileSync(target, "utf8") : ""
  if (current !== text) {
    console.error(`${target} is out of date: run \`pnpm run reference\` and commit it`)
    process.exit(1)
  }
  console.log(`${target} is in sync with the declarations`)
} else {
  Fs.writeFileSync(target, text)
  console.log(`wrote ${target} (${Catalog.methods.length} methods)`)
}
