/**
 * The proxy's logs: the logger chosen from the environment, and the access log.
 *
 * - **Logger**: `B24_PROXY_LOG_FORMAT` is `json` (one JSON object per line: Effect's `Logger.jsonLogger`),
 *   `pretty` (Effect's `Logger.prettyLogger`) or `logfmt`; by default `pretty` when standard output is a terminal,
 *   else `json`. `B24_PROXY_LOG_LEVEL` is the least level written: `all`, `trace`, `debug`, `info` (the default),
 *   `warning`, `error`, `fatal` or `none`. Every log line of the process goes through it (the transport's warnings
 *   too).
 * - **Access log**: one line per REST request, written where its `Proxy.Answer` is settled: the message is an object
 *   with `verb`, `client`, `portal`, `method`, `status`, `outcome` (the answer's kind, or `client_gone`),
 *   `duration_ms`, `upstream_requests`, `batch_size`, `retries` and, for a 5xx, `cause`; the line's `timestamp` and
 *   `logLevel` come from the logger (`INFO`, `WARN` for a 5xx). Never a path (the webhook form carries the client's
 *   secret in it), a query, a header, a token or a webhook code.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import type * as Proxy from "./Proxy.js"
import * as ProxyConfig from "./ProxyConfig.js"

/**
 * How log lines are written.
 *
 * @since 0.1.0
 * @category models
 */
export type Format = "json" | "pretty" | "logfmt"

/**
 * The log settings: the format and the least level written.
 *
 * @since 0.1.0
 * @category models
 */
export interface Settings {
  readonly format: Format
  readonly level: LogLevel.LogLevel
}

const levels: Readonly<Record<string, LogLevel.LogLevel>> = {
  all: LogLevel.All,
  trace: LogLevel.Trace,
  debug: LogLevel.Debug,
  info: LogLevel.Info,
  warning: LogLevel.Warning,
  error: LogLevel.Error,
  fatal: LogLevel.Fatal,
  none: LogLevel.None
}

const text = (name: string) =>
  Config.option(Config.string(name)).pipe(
    Effect.map(Option.map((value) => value.trim().toLowerCase())),
    Effect.map(Option.filter((value) => value.length > 0)),
    Effect.orElseSucceed(() => Option.none<string>())
  )

/**
 * The log settings from `B24_PROXY_LOG_FORMAT` and `B24_PROXY_LOG_LEVEL` (see the module docs); a value outside the
 * lists fails with `InvalidConfig` naming the variable.
 *
 * @since 0.1.0
 * @category config
 */
export const settings: Effect.Effect<Settings, ProxyConfig.InvalidConfig> = Effect.gen(function*() {
  const format = yield* text("B24_PROXY_LOG_FORMAT")
  const level = yield* text("B24_PROXY_LOG_LEVEL")
  if (Option.isSome(format) && !["json", "pretty", "logfmt"].includes(format.value)) {
    return yield* new ProxyConfig.InvalidConfig({
      key: "B24_PROXY_LOG_FORMAT",
      reason: "expected json, pretty or logfmt"
    })
  }
  if (Option.isSome(level) && levels[level.value] === undefined) {
    return yield* new ProxyConfig.InvalidConfig({
      key: "B24_PROXY_LOG_LEVEL",
      reason: `expected one of ${Object.keys(levels).join(", ")}`
    })
  }
  return {
    format: Option.getOrElse(format, () => process.stdout.isTTY === true ? "pretty" : "json") as Format,
    level: Option.match(level, { onNone: () => LogLevel.Info, onSome: (name) => levels[name]! })
  }
})

/**
 * The logger of these settings, replacing Effect's default one, with its minimum level.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (settings: Settings): Layer.Layer<never> =>
  Layer.merge(
    Logger.replace(
      Logger.defaultLogger,
      settings.format === "pretty"
        ? Logger.prettyLogger()
        : Logger.withConsoleLog(settings.format === "logfmt" ? Logger.logfmtLogger : Logger.jsonLogger)
    ),
    Logger.minimumLogLevel(settings.level)
  )

/**
 * The logger of the environment's settings ({@link settings}).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig: Layer.Layer<never, ProxyConfig.InvalidConfig> = Layer.unwrapEffect(
  Effect.map(settings, layer)
)

/**
 * One access log line's message (see the module docs).
 *
 * @since 0.1.0
 * @category models
 */
export interface Entry {
  readonly verb: string
  readonly client: string | undefined
  readonly portal: string | undefined
  readonly method: string | undefined
  readonly status: number
  readonly outcome: Proxy.Kind | "client_gone"
  readonly duration_ms: number
  readonly upstream_requests: number
  readonly batch_size: number
  readonly retries: number
  readonly cause?: string | undefined
}

const round = (ms: number) => Math.round(ms * 1000) / 1000

/** The description of a 5xx envelope: why the proxy answered it. */
const causeOf = (answer: Proxy.Answer): string | undefined => {
  if (answer.status < 500) return undefined
  if (answer.cause !== undefined) return answer.cause
  const payload = answer.payload as { readonly error?: unknown; readonly error_description?: unknown } | undefined
  if (typeof payload !== "object" || payload === null) return undefined
  return `${String(payload.error ?? "")}: ${String(payload.error_description ?? "")}`
}

/**
 * The access log line of a settled request: `INFO`, or `WARN` with its cause for a 5xx.
 *
 * @since 0.1.0
 * @category access log
 */
export const access = (verb: string, answer: Proxy.Answer, durationMs: number): Effect.Effect<void> => {
  const entry: Entry = {
    verb,
    client: answer.client,
    portal: answer.portal,
    method: answer.method,
    status: answer.status,
    outcome: answer.kind,
    duration_ms: round(durationMs),
    upstream_requests: answer.upstream?.requests ?? 0,
    batch_size: answer.upstream?.batchSize ?? 0,
    retries: answer.upstream?.retries ?? 0,
    cause: causeOf(answer)
  }
  return answer.status >= 500 ? Effect.logWarning(entry) : Effect.logInfo(entry)
}

/**
 * Who a request came from and what it called, as far as it was read.
 *
 * @since 0.1.0
 * @category access log
 */
export interface Who {
  client: string | undefined
  portal: string | undefined
  readonly method: string
}

/**
 * The access log line of a request whose client went away before its answer (status 499, as proxies log it).
 *
 * @since 0.1.0
 * @category access log
 */
export const gone = (verb: string, who: Who, durationMs: number): Effect.Effect<void> =>
  Effect.logInfo(
    {
      verb,
      client: who.client,
      portal: who.portal,
      method: who.method,
      status: 499,
      outcome: "client_gone",
      duration_ms: round(durationMs),
      upstream_requests: 0,
      batch_size: 0,
      retries: 0
    } satisfies Entry
  )
