/**
 * Every failure `b24` can meet, mapped in one table to what it prints and how it exits:
 *
 * | Exit | Meaning |
 * | --- | --- |
 * | 2 | usage: words, options, params (found before any request), webhook URL, profile, input file, configuration |
 * | 3 | the portal (or its OAuth server) answered an error code |
 * | 4 | transport: network failure, timeout, unreadable answer, outcome unknown |
 * | 1 | a defect of `b24` itself (reported without a stack trace) |
 *
 * Configuration includes an application method asked of an inbound webhook and an address `b24 events listen`
 * cannot listen on.
 *
 * The text form is one line for standard error; the JSON form (with `--json`, and for each failed line of a bulk
 * run) is one object with at least `error` (a code) and `error_description`. Neither ever contains a secret: the
 * errors themselves never carry the webhook URL, a token or the client secret.
 *
 * @since 0.1.0
 */
import { PortalError } from "@bitrix24-effect/core"
import { RetryPolicy } from "@bitrix24-effect/http"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as ValidationError from "@effect/cli/ValidationError"
import * as Doc from "@effect/printer/Doc"
import * as ConfigError from "effect/ConfigError"
import * as Schema from "effect/Schema"
import type * as Argv from "./Argv.js"

/**
 * Exit codes of `b24`.
 *
 * @since 0.1.0
 * @category constants
 */
export const ExitCode = { ok: 0, failure: 1, usage: 2, portal: 3, transport: 4, interrupted: 130 } as const

/**
 * The words or values could not be used. `command` is the command they were meant for (`b24 imopenlines`);
 * `suggestions` the closest valid words, if any.
 *
 * @since 0.1.0
 * @category errors
 */
export class UsageError extends Schema.TaggedError<UsageError>("b24/UsageError")("UsageError", {
  description: Schema.String,
  command: Schema.String,
  suggestions: Schema.Array(Schema.String)
}) {
  override get message(): string {
    const hint = this.suggestions.length === 0
      ? ""
      : `; did you mean ${this.suggestions.map((word) => `"${word}"`).join(" or ")}?`
    return `${this.description}${hint}`
  }

  /** The error of a mistake found by `Argv`. */
  static fromMistake(mistake: Argv.Mistake): UsageError {
    return new UsageError({
      description: mistake.description,
      command: mistake.command,
      suggestions: [...mistake.suggestions]
    })
  }
}

/**
 * A usage error about `command`.
 *
 * @since 0.1.0
 * @category errors
 */
export const usage = (description: string, command = "b24"): UsageError =>
  new UsageError({ description, command, suggestions: [] })

/**
 * What a failure prints and how `b24` exits.
 *
 * @since 0.1.0
 * @category models
 */
export interface Failure {
  readonly exit: number
  readonly text: string
  readonly json: Readonly<Record<string, unknown>>
}

const failure = (exit: number, code: string, description: string, extra: Record<string, unknown> = {}): Failure => ({
  exit,
  text: `b24: ${description}`,
  json: { error: code, error_description: description, ...extra }
})

const tagOf = (error: unknown): string | undefined =>
  typeof error === "object" && error !== null && "_tag" in error && typeof error._tag === "string"
    ? error._tag
    : undefined

const messageOf = (error: unknown): string =>
  typeof error === "object" && error !== null && "message" in error && typeof error.message === "string"
    ? error.message
    : String(error)

/**
 * The table: a failure by its tag; portal errors by their code; configuration errors; anything else is a defect.
 *
 * @since 0.1.0
 * @category mapping
 */
export const describe = (error: unknown): Failure => {
  if (ValidationError.isValidationError(error)) {
    // What @effect/cli itself found (the argument checks of `Argv` catch nearly everything before it), without ANSI.
    const text = Doc.render(Doc.unAnnotate(HelpDoc.toAnsiDoc(error.error)), { style: "pretty" }).trim()
    return failure(ExitCode.usage, "USAGE", text.length > 0 ? text : "the command line could not be read")
  }
  const e = error as Record<string, any>
  switch (tagOf(error)) {
    case "UsageError":
      return failure(ExitCode.usage, "USAGE", messageOf(error), { command: e.command, suggestions: e.suggestions })
    case "NotConfigured":
    case "ProfileNotFound":
    case "ProfileStoreError":
    case "InvalidWebhookUrl":
    case "InputError":
    case "ResumeMismatch":
    case "StdinError":
    case "ListenError":
      return failure(ExitCode.usage, "USAGE", messageOf(error))
    case "InvalidParams":
      return {
        exit: ExitCode.usage,
        text: `b24: ${messageOf(error)}`,
        json: { error: "INVALID_PARAMS", error_description: e.reason, field: e.field, method: e.method }
      }
    case "TransportError":
      return RetryPolicy.isOutcomeUnknown(error)
        ? failure(ExitCode.transport, "OUTCOME_UNKNOWN", messageOf(error), { method: e.method, attempts: e.attempts })
        : failure(ExitCode.transport, "TRANSPORT", messageOf(error), { method: e.method, reason: e.reason })
    case "ReauthorizationRequired":
      return failure(
        ExitCode.portal,
        String(e.code),
        `${messageOf(error)}; run b24 login again for this profile`,
        e.status === undefined ? {} : { status: e.status }
      )
    case "TokenRefreshFailed":
      return failure(ExitCode.transport, "TOKEN_REFRESH_FAILED", messageOf(error))
    case "TokenStoreError":
      return failure(ExitCode.usage, "TOKEN_STORE", messageOf(error))
    case "RedisUnavailable":
      return failure(ExitCode.failure, "REDIS_UNAVAILABLE", messageOf(error))
    case "InvalidEncryptionKey":
      return failure(ExitCode.usage, "CONFIGURATION", messageOf(error))
    case "LoginFailed":
      return failure(e.refused ? ExitCode.portal : ExitCode.transport, String(e.code), messageOf(error))
  }
  if (PortalError.isPortalError(error)) {
    const code = error.code || "(empty code)"
    return {
      exit: ExitCode.portal,
      text: `${code}: ${error.description} (HTTP ${error.status})`,
      json: { error: error.code, error_description: error.description, status: error.status }
    }
  }
  if (ConfigError.isConfigError(error)) {
    return failure(ExitCode.usage, "CONFIGURATION", `configuration: ${messageOf(error)}`)
  }
  return failure(ExitCode.failure, "UNEXPECTED", `unexpected failure: ${messageOf(error)}; please report it`)
}
