/**
 * Test support: a Tracer that records every span (name, attributes, events, exit) and a Logger that records every
 * log line (message, annotations, cause, level), so tests can assert on what the transport traces and logs, and scan
 * it all for secrets.
 */
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import type * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Tracer from "effect/Tracer"

export interface RecordedSpan {
  readonly name: string
  readonly spanId: string
  readonly parent: string | undefined
  readonly attributes: Map<string, unknown>
  readonly events: Array<{ readonly name: string; readonly attributes: Record<string, unknown> }>
  exit: Exit.Exit<unknown, unknown> | undefined
}

export interface RecordedLog {
  readonly level: string
  readonly message: string
  readonly annotations: Record<string, unknown>
  readonly cause: string
}

let nextId = 0

/** A capturing tracer and logger, with a Layer installing both (log level: all). */
export const make = () => {
  const spans: Array<RecordedSpan> = []
  const logs: Array<RecordedLog> = []
  const tracer = Tracer.make({
    span: (name, parent, context, links, startTime, kind) => {
      const spanId = `span-${++nextId}`
      const record: RecordedSpan = {
        name,
        spanId,
        parent: Option.match(parent, { onNone: () => undefined, onSome: (span) => span.spanId }),
        attributes: new Map(),
        events: [],
        exit: undefined
      }
      spans.push(record)
      const span: Tracer.Span = {
        _tag: "Span",
        name,
        spanId,
        traceId: Option.match(parent, { onNone: () => `trace-${nextId}`, onSome: (span) => span.traceId }),
        parent,
        context: Context.merge(context, Context.empty()),
        get status(): Tracer.SpanStatus {
          return record.exit === undefined
            ? { _tag: "Started", startTime }
            : { _tag: "Ended", startTime, endTime: startTime, exit: record.exit }
        },
        attributes: record.attributes,
        links,
        sampled: true,
        kind,
        end: (_endTime, exit) => {
          record.exit = exit
        },
        attribute: (key, value) => {
          record.attributes.set(key, value)
        },
        event: (eventName, _time, attributes) => {
          record.events.push({ name: eventName, attributes: attributes ?? {} })
        },
        addLinks: () => {}
      }
      return span
    },
    context: (f) => f()
  })
  const logger = Logger.make(({ annotations, cause, logLevel, message }) => {
    logs.push({
      level: logLevel.label,
      message: Array.isArray(message) ? message.map(String).join(" ") : String(message),
      annotations: Object.fromEntries(annotations),
      cause: Cause.isEmpty(cause) ? "" : Cause.pretty(cause, { renderErrorCause: true })
    })
  })
  const layer = Layer.mergeAll(
    Layer.setTracer(tracer),
    Logger.replace(Logger.defaultLogger, logger),
    Logger.minimumLogLevel(LogLevel.All)
  )
  return { spans, logs, layer }
}

/** Everything recorded, as text: span names, attributes, events and exits; log lines with annotations and causes. */
export const renderAll = (captured: ReturnType<typeof make>): ReadonlyArray<string> => [
  ...captured.spans.flatMap((span) => [
    span.name,
    ...[...span.attributes].map(([key, value]) => `${key}=${String(value)}`),
    ...span.events.map((event) => `${event.name} ${JSON.stringify(event.attributes)}`),
    span.exit === undefined ? "" : span.exit._tag === "Failure" ? Cause.pretty(span.exit.cause) : String(span.exit)
  ]),
  ...captured.logs.flatMap((log) => [log.message, JSON.stringify(log.annotations), log.cause])
]
