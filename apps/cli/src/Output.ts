/**
 * How `b24` prints results and requests:
 * - `--format json` (the default): the result as one line of JSON; `--json` prints the whole envelope instead
 *   (core's `Envelope.fromResponse`: `result`, `time`, and `next` / `total` for lists; wire sheet §1.4);
 * - `--format ndjson`: one line of JSON per item of a list result (other results: one line);
 * - `--format table`: aligned columns, one row per item (objects: their keys as columns; a single object: one row
 *   per key); nested values as JSON, long cells shortened;
 * - `--dry-run`: the exact request (method, URL with the webhook code or token as a placeholder, body), then a curl
 *   line that runs it once the secret is in an environment variable.
 *
 * @since 0.1.0
 */
import { type Bitrix24Client, Envelope, type Wire } from "@bitrix24-effect/core"
import { Bitrix24Http } from "@bitrix24-effect/http"
import * as Either from "effect/Either"
import type * as Portal from "./Portal.js"

/**
 * @since 0.1.0
 * @category models
 */
export type Format = "json" | "ndjson" | "table"

/**
 * The formats `--format` accepts.
 *
 * @since 0.1.0
 * @category constants
 */
export const formats = ["json", "ndjson", "table"] as const

const cell = (value: unknown): string => {
  const text = value === undefined || value === null
    ? ""
    : typeof value === "object"
    ? JSON.stringify(value)
    : String(value)
  const flat = text.replace(/[\r\n\t]+/g, " ")
  return flat.length > 60 ? `${flat.slice(0, 59)}…` : flat
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/**
 * A result as aligned columns.
 *
 * @since 0.1.0
 * @category rendering
 */
export const table = (result: unknown): string => {
  let header: ReadonlyArray<string>
  let rows: ReadonlyArray<ReadonlyArray<string>>
  if (Array.isArray(result) && result.length > 0 && result.every(isRecord)) {
    const keys = [...new Set(result.flatMap((item) => Object.keys(item)))]
    header = keys
    rows = result.map((item) => keys.map((key) => cell(item[key])))
  } else if (Array.isArray(result)) {
    header = ["VALUE"]
    rows = result.map((item) => [cell(item)])
  } else if (isRecord(result)) {
    header = ["KEY", "VALUE"]
    rows = Object.entries(result).map(([key, value]) => [key, cell(value)])
  } else {
    return `${cell(result)}\n`
  }
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)))
  const format = (row: ReadonlyArray<string>) =>
    row.map((text, column) => column === row.length - 1 ? text : text.padEnd(widths[column]!)).join("  ").trimEnd()
  return [header, ...rows].map(format).join("\n") + "\n"
}

/**
 * A response as the user asked: the envelope with `json`, else the result in `format`.
 *
 * @since 0.1.0
 * @category rendering
 */
export const response = (
  value: Bitrix24Client.CallResponse<unknown>,
  options: { readonly json: boolean; readonly format: Format }
): string => {
  if (options.json) return `${JSON.stringify(Envelope.fromResponse(value))}\n`
  switch (options.format) {
    case "json":
      return `${JSON.stringify(value.result) ?? "null"}\n`
    case "ndjson":
      return Array.isArray(value.result)
        ? value.result.map((item) => `${JSON.stringify(item) ?? "null"}\n`).join("")
        : `${JSON.stringify(value.result) ?? "null"}\n`
    case "table":
      return table(value.result)
  }
}

/**
 * The body the transport sends for these wire params (a JSON object; `HttpClientRequest.bodyUnsafeJson`).
 *
 * @since 0.1.0
 * @category requests
 */
export const wireBody = (params: Wire.Params): string => JSON.stringify(params)

/**
 * Where a request goes, with its secret replaced: the URL as printed, the same URL for a shell (the secret as an
 * environment variable), the variable's name and what it holds, and, for OAuth, the body's token field.
 *
 * @since 0.1.0
 * @category models
 */
export interface Destination {
  readonly shown: (method: string) => string
  readonly shell: (method: string) => string
  readonly variable: string
  readonly holds: string
  readonly oauth: boolean
}

const shellDouble = (text: string) => text.replace(/[\\"$`]/g, (c) => `\\${c}`)
const shellSingle = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`

/**
 * The destination of a request to this portal, without its secret. Without a portal of its own (no portal
 * configured, or `--emulator`) it is a placeholder: any inbound webhook, or, for a method that needs an OAuth
 * application (`application`), any portal's REST address with an application's token.
 *
 * @since 0.1.0
 * @category requests
 */
export const destination = (target: Portal.Target, options: { readonly application: boolean }): Destination => {
  const anyWebhook: Destination = {
    shown: (method) => `<inbound webhook URL>${method}.json`,
    shell: (method) => `\${B24_WEBHOOK_URL}${method}.json`,
    variable: "B24_WEBHOOK_URL",
    holds: "the inbound webhook URL (ending in /)",
    oauth: false
  }
  const anyApplication: Destination = {
    shown: (method) => `<portal address>/rest/${method}.json`,
    shell: (method) => `\${B24_PORTAL}/rest/${shellDouble(method)}.json`,
    variable: "B24_ACCESS_TOKEN",
    holds: "the portal's address in B24_PORTAL and an application's OAuth access token",
    oauth: true
  }
  switch (target._tag) {
    case "Emulator":
      return options.application ? anyApplication : anyWebhook
    case "Webhook":
      return Either.match(Bitrix24Http.parseWebhookUrl(target.url), {
        onLeft: () => anyWebhook,
        onRight: (webhook) => ({
          shown: (method) => `${webhook.portal}/rest/${webhook.userId}/<webhook code>/${method}.json`,
          shell: (method) =>
            `${shellDouble(`${webhook.portal}/rest/${webhook.userId}/`)}\${B24_WEBHOOK_CODE}/${
              shellDouble(method)
            }.json`,
          variable: "B24_WEBHOOK_CODE",
          holds: "the inbound webhook's code",
          oauth: false
        })
      })
    case "OAuth": {
      const base = new URL("/rest/", target.profile.portal).toString()
      return {
        shown: (method) => `${base}${method}.json`,
        shell: (method) => shellDouble(`${base}${method}.json`),
        variable: "B24_ACCESS_TOKEN",
        holds: "an OAuth access token",
        oauth: true
      }
    }
  }
}

/**
 * A dry run of one call: the request as it would be sent, then a curl line for it.
 *
 * @since 0.1.0
 * @category requests
 */
export const dryRun = (method: string, params: Wire.Params, to: Destination): string => {
  const body = wireBody(params)
  const shownBody = to.oauth ? wireBody({ ...params, auth: "<access token>" }) : body
  return [
    `POST ${to.shown(method)}`,
    "Content-Type: application/json",
    "Accept: application/json",
    "",
    shownBody,
    "",
    `# with ${to.holds} in ${to.variable}:`,
    `curl -X POST -H 'Content-Type: application/json' -H 'Accept: application/json' ` +
    (to.oauth ? `-H "Authorization: Bearer \${${to.variable}}" ` : "") +
    `-d ${shellSingle(body)} "${to.shell(method)}"`,
    ""
  ].join("\n")
}
