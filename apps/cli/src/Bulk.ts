/**
 * Bulk runs: `b24 call METHOD --input FILE` and `b24 <typed command> --input FILE` (`-` for standard input). Each
 * line of the input is one call: NDJSON (one JSON object of params per line) or CSV (a header row of param names,
 * then one record per line; an empty cell leaves the param out). Params given on the command line apply to every
 * line; the line's own win. In NDJSON, `true` / `false` for a yes/no param travel as `Y` / `N` (wire sheet §1.3).
 *
 * The calls go out concurrently through automatic batching and the portal's limits (wire sheet §2, §3), and the
 * output is NDJSON on standard output in input order: `{"line":N,"result":...}` or `{"line":N,"error":{...}}`, `N`
 * being the line's number in the input. A progress line is drawn on standard error when it is a terminal. The run
 * exits 0 when every line succeeded, else with the highest exit code among the failed lines (2 bad line or params,
 * 3 portal error, 4 transport or unknown outcome).
 *
 * Resume: the run records each line in a state file (append-only NDJSON, mode 0600): `sent` with a hash of the line
 * before its call leaves, `done` with its output after. `--resume STATEFILE` names the file (created when absent);
 * without it the state goes to `$XDG_STATE_HOME/b24/` and is removed when the run completes. Resuming with the same
 * input prints every line again in order: finished lines from the state file, the others as they complete. A line
 * that was sent but not finished is sent again only when its method is idempotent; otherwise it is reported as
 * `OUTCOME_UNKNOWN` (it may have run) and never replayed. A line whose text changed since the state was written stops
 * the run. Ctrl-C stops taking new lines, lets the calls in flight settle (their outcomes are recorded) and prints
 * the command that continues the run.
 *
 * @since 0.1.0
 */
import type { Bitrix24Client, PortalError, Wire } from "@bitrix24-effect/core"
import * as FileSystem from "@effect/platform/FileSystem"
import { parse as parseCsv } from "csv-parse/sync"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Crypto from "node:crypto"
import * as Failure from "./Failure.js"
import type * as Output from "./Output.js"
import * as Progress from "./Progress.js"
import * as Stdio from "./Stdio.js"

/**
 * The input (or the state file) cannot be read or written.
 *
 * @since 0.1.0
 * @category errors
 */
export class InputError extends Schema.TaggedError<InputError>("b24/InputError")("InputError", {
  description: Schema.String
}) {
  override get message(): string {
    return this.description
  }
}

/**
 * The state file does not belong to this run: another command, or an input that changed.
 *
 * @since 0.1.0
 * @category errors
 */
export class ResumeMismatch extends Schema.TaggedError<ResumeMismatch>("b24/ResumeMismatch")("ResumeMismatch", {
  description: Schema.String
}) {
  override get message(): string {
    return this.description
  }
}

/**
 * What each line runs.
 * - `command`: the command's words (`im chat mute`), recorded in the state file;
 * - `idempotent`: whether a line sent before an interruption may be sent again;
 * - `flags`: the yes/no params, with the wire values their JSON booleans travel as (`Y` / `N`, or `1` / `0`);
 * - `json`: the nested params (objects, lists), whose CSV cells are JSON text;
 * - `base`: params from the command line, under each line's;
 * - `request`: checks and encodes a line's params, without I/O;
 * - `send`: the call.
 *
 * @since 0.1.0
 * @category models
 */
export interface Job {
  readonly command: string
  readonly method: string
  readonly idempotent: boolean
  readonly flags: Readonly<Record<string, { readonly on: unknown; readonly off: unknown }>>
  readonly json: ReadonlyArray<string>
  readonly base: Readonly<Record<string, unknown>>
  readonly request: (params: Readonly<Record<string, unknown>>) => Effect.Effect<Wire.Params, PortalError.InvalidParams>
  readonly send: (
    params: Readonly<Record<string, unknown>>
  ) => Effect.Effect<Bitrix24Client.CallResponse<unknown>, unknown, Bitrix24Client.Bitrix24Client>
}

/**
 * How to run: the `input` (`-` for standard input), the state file, how many calls may be in flight, the
 * destination to print instead of calling (`--dry-run`), and the command line that continues the run from a state
 * file (for the message after Ctrl-C).
 *
 * @since 0.1.0
 * @category models
 */
export interface Settings {
  readonly input: string
  readonly resume: Option.Option<string>
  readonly concurrency: number
  readonly dryRun: Option.Option<Output.Destination>
  readonly continueWith: (stateFile: string) => string
}

/** One input line that is a call. */
interface Entry {
  readonly line: number
  readonly text: string
  readonly params: Either.Either<Record<string, unknown>, string>
}

/** A line's outcome as printed, with its exit code (0 for success). */
interface Outcome {
  readonly out: Readonly<Record<string, unknown>>
  readonly exit: number
}

type Format = "csv" | "ndjson"

const formatOf = (input: string): Format | undefined =>
  /\.csv$/i.test(input) ? "csv" : /\.(ndjson|jsonl|json)$/i.test(input) ? "ndjson" : undefined

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** A CSV record of one line, or why it is not one. */
const csvFields = (text: string): Either.Either<ReadonlyArray<string>, string> => {
  try {
    const records = parseCsv(text, { relax_column_count: true })
    const record = records[0]
    if (records.length !== 1 || record === undefined) return Either.left("expected one CSV record on the line")
    return Either.right(record)
  } catch (error) {
    const reason = error instanceof Error ? error.message.split(":")[0] ?? "" : ""
    return Either.left(`not a CSV record${reason.length > 0 ? ` (${reason.slice(0, 60)})` : ""}`)
  }
}

const ndjsonParams = (text: string, flags: Job["flags"]): Either.Either<Record<string, unknown>, string> => {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return Either.left("not a JSON object (NDJSON expects one object of params per line)")
  }
  if (!isRecord(value)) return Either.left("expected a JSON object of params")
  const params: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(value)) {
    const flag = typeof item === "boolean" && Object.hasOwn(flags, key) ? flags[key] : undefined
    params[key] = flag === undefined ? item : item ? flag.on : flag.off
  }
  return Either.right(params)
}

/** While reading lines: the format (known from the name, else from the first line) and CSV's header row. */
interface Reading {
  readonly format: Format | undefined
  readonly header: ReadonlyArray<string> | undefined
}

/** A CSV cell of a nested param: JSON text, as on the command line. */
const jsonCell = (name: string, text: string): Either.Either<unknown, string> => {
  try {
    return Either.right(JSON.parse(text))
  } catch {
    return Either.left(
      `${name} expects JSON, got ${JSON.stringify(text.length > 40 ? `${text.slice(0, 37)}...` : text)}`
    )
  }
}

/** Turns numbered lines into calls: the format from the name or the first line, CSV's header row, blank lines out. */
const entries = <E, R>(
  lines: Stream.Stream<readonly [string, number], E, R>,
  known: Format | undefined,
  job: Pick<Job, "flags" | "json">
): Stream.Stream<Entry, E, R> =>
  lines.pipe(
    Stream.mapAccum(
      { format: known, header: undefined } as Reading,
      (state, [raw, index]): readonly [Reading, ReadonlyArray<Entry>] => {
        const text = index === 0 ? raw.replace(/^\uFEFF/, "") : raw
        if (text.trim().length === 0) return [state, []]
        const format = state.format ?? (text.trimStart().startsWith("{") ? "ndjson" : "csv")
        const line = index + 1
        if (format === "ndjson") {
          return [{ ...state, format }, [{ line, text, params: ndjsonParams(text, job.flags) }]]
        }
        const fields = csvFields(text)
        if (state.header === undefined) {
          // The header row names the params; a malformed one makes every line fail with the reason.
          return [{ format, header: Either.getOrElse(fields, () => [] as ReadonlyArray<string>) }, []]
        }
        const header = state.header
        const params = Either.flatMap(fields, (values) => {
          if (header.length === 0) return Either.left("the CSV header row (the first line) is not valid CSV")
          if (values.length !== header.length) {
            return Either.left(`expected ${header.length} CSV fields as in the header, got ${values.length}`)
          }
          const record: Record<string, unknown> = {}
          for (const [column, name] of header.entries()) {
            const value = values[column]!
            if (value === "") continue
            if (!job.json.includes(name)) {
              record[name] = value
              continue
            }
            const parsed = jsonCell(name, value)
            if (Either.isLeft(parsed)) return Either.left(parsed.left)
            record[name] = parsed.right
          }
          return Either.right(record)
        })
        return [state, [{ line, text, params }]]
      }
    ),
    Stream.flattenIterables
  )

/** The input's bytes, its format if its name says it, and its number of lines when it is a file. */
const open = (input: string) =>
  Effect.gen(function*() {
    if (input === "-") {
      const stdio = yield* Stdio.Stdio
      return {
        bytes: Stream.mapError(stdio.stdin, (error) => new InputError({ description: error.message })),
        format: undefined,
        total: undefined
      }
    }
    const fs = yield* FileSystem.FileSystem
    const unreadable = (reason: string) =>
      new InputError({ description: `the input file ${JSON.stringify(input)} cannot be read (${reason})` })
    const info = yield* fs.stat(input).pipe(Effect.mapError((error) => unreadable(error.message)))
    if (info.type !== "File") return yield* unreadable(`it is a ${info.type.toLowerCase()}`)
    const bytes = Stream.mapError(fs.stream(input), (error) => unreadable(error.message))
    const counted = yield* bytes.pipe(
      Stream.decodeText(),
      Stream.splitLines,
      Stream.runFold({ lines: 0, first: "" }, (acc, line) =>
        line.trim().length === 0
          ? acc
          : { lines: acc.lines + 1, first: acc.lines === 0 ? line.replace(/^\uFEFF/, "") : acc.first })
    )
    const format = formatOf(input) ?? (counted.first.trimStart().startsWith("{") ? "ndjson" : "csv")
    // A CSV file's first line is its header, not a call.
    return { bytes, format, total: format === "csv" ? Math.max(0, counted.lines - 1) : counted.lines }
  })

const digest = (text: string) => Crypto.createHash("sha1").update(text).digest("hex").slice(0, 16)

/** What the state file remembers of a line. */
interface Remembered {
  sent?: string
  done?: { readonly hash: string; readonly outcome: Outcome }
}

const StateRecord = Schema.Union(
  Schema.Struct({ b24: Schema.Literal("bulk"), version: Schema.Literal(1), command: Schema.String }),
  Schema.Struct({ sent: Schema.Number, hash: Schema.String }),
  Schema.Struct({
    done: Schema.Number,
    hash: Schema.String,
    exit: Schema.Number,
    out: Schema.Record({ key: Schema.String, value: Schema.Unknown })
  })
)
const decodeRecord = Schema.decodeUnknownOption(Schema.parseJson(StateRecord))

/** Opens (or creates) the state file: what it remembers, and how to append to it. */
const openState = (path: string, command: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const failed = (reason: string) =>
      new InputError({ description: `the state file ${JSON.stringify(path)} cannot be used (${reason})` })
    const remembered = new Map<number, Remembered>()
    const exists = yield* fs.exists(path).pipe(Effect.mapError((error) => failed(error.message)))
    const text = exists ? yield* fs.readFileString(path).pipe(Effect.mapError((error) => failed(error.message))) : ""
    const records = text.split("\n").filter((line) => line.length > 0)
    for (const [index, line] of records.entries()) {
      // A run killed while writing leaves at most a torn last line, which is ignored.
      const record = decodeRecord(line)
      if (Option.isNone(record)) {
        if (index === records.length - 1 && index > 0) continue
        return yield* new ResumeMismatch({ description: `${path} is not a b24 state file` })
      }
      const value = record.value
      if ("b24" in value) {
        if (value.command !== command) {
          return yield* new ResumeMismatch({
            description: `${path} belongs to another run ("b24 ${value.command}"), not to "b24 ${command}"`
          })
        }
      } else if (index === 0) {
        return yield* new ResumeMismatch({ description: `${path} is not a b24 state file` })
      } else if ("sent" in value) {
        remembered.set(value.sent, { ...remembered.get(value.sent), sent: value.hash })
      } else {
        remembered.set(value.done, {
          ...remembered.get(value.done),
          done: { hash: value.hash, outcome: { out: value.out, exit: value.exit } }
        })
      }
    }
    const file = yield* fs.open(path, { flag: "a", mode: 0o600 }).pipe(
      Effect.mapError((error) => failed(error.message))
    )
    yield* fs.chmod(path, 0o600).pipe(Effect.ignore)
    const lock = yield* Effect.makeSemaphore(1)
    const encoder = new TextEncoder()
    const append = (entries: ReadonlyArray<Record<string, unknown>>) =>
      entries.length === 0 ? Effect.void : lock.withPermits(1)(
        file.writeAll(encoder.encode(entries.map((record) => `${JSON.stringify(record)}\n`).join("")))
      ).pipe(Effect.asVoid, Effect.mapError((error) => failed(error.message)))
    if (records.length === 0) yield* append([{ b24: "bulk", version: 1, command }])
    return { remembered, append }
  })

/** The default state file of a run without `--resume`, in `$XDG_STATE_HOME/b24` (default `~/.local/state/b24`). */
const defaultStateFile = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const xdg = yield* Config.string("XDG_STATE_HOME").pipe(Config.option, Effect.orElseSucceed(() => Option.none()))
  const home = yield* Config.string("HOME").pipe(Config.withDefault("."), Effect.orElseSucceed(() => "."))
  const directory = Option.match(Option.filter(xdg, (dir) => dir.startsWith("/")), {
    onNone: () => `${home}/.local/state/b24`,
    onSome: (dir) => `${dir}/b24`
  })
  yield* fs.makeDirectory(directory, { recursive: true, mode: 0o700 }).pipe(
    Effect.mapError((error) => new InputError({ description: `cannot create ${directory} (${error.message})` }))
  )
  const stamp = new Date().toISOString().replace(/[:.]/g, "-")
  return `${directory}/bulk-${stamp}-${process.pid}.ndjson`
})

const lineError = (line: number, exit: number, error: Readonly<Record<string, unknown>>): Outcome => ({
  out: { line, error },
  exit
})

/**
 * Runs every line of the input; answers the run's exit code. Fails before any call when the input or the state
 * file cannot be used.
 *
 * @since 0.1.0
 * @category running
 */
export const run = (
  job: Job,
  settings: Settings
): Effect.Effect<
  number,
  InputError | ResumeMismatch,
  Bitrix24Client.Bitrix24Client | FileSystem.FileSystem | Stdio.Stdio | Scope.Scope
> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const stdio = yield* Stdio.Stdio
    const input = yield* open(settings.input)
    const lines = input.bytes.pipe(Stream.decodeText(), Stream.splitLines, Stream.zipWithIndex)
    const calls = entries(lines, input.format, job)
    const merge = (params: Record<string, unknown>) => ({ ...job.base, ...params })

    if (Option.isSome(settings.dryRun)) {
      const to = settings.dryRun.value
      let worst = 0
      yield* calls.pipe(
        Stream.mapEffect((entry) =>
          Either.match(entry.params, {
            onLeft: (reason) =>
              Effect.succeed(lineError(entry.line, 2, { error: "INVALID_LINE", error_description: reason })),
            onRight: (params) =>
              job.request(merge(params)).pipe(
                Effect.match({
                  onFailure: (error) => lineError(entry.line, 2, Failure.describe(error).json),
                  onSuccess: (wire): Outcome => ({
                    out: { line: entry.line, method: job.method, url: to.shown(job.method), body: wire },
                    exit: 0
                  })
                })
              )
          })
        ),
        Stream.runForEach((outcome) => {
          worst = Math.max(worst, outcome.exit)
          return stdio.out(`${JSON.stringify(outcome.out)}\n`)
        })
      )
      return worst
    }

    const automatic = Option.isNone(settings.resume)
    const statePath = Option.isSome(settings.resume) ? settings.resume.value : yield* defaultStateFile
    const state = yield* openState(statePath, job.command)
    const counters: Progress.Counters = { done: 0, failed: 0, total: input.total, started: Date.now() }
    const screen = yield* Stdio.screen
    if (stdio.stderrIsTTY) yield* Progress.show(counters, screen.width)

    const changed = (line: number) =>
      new ResumeMismatch({
        description: `line ${line} of the input is not the line the state file ${statePath} recorded: ` +
          "resume with the same input"
      })

    /** What a line needs: nothing more (its outcome is known), or a call with these params. */
    type Plan =
      | { readonly _tag: "Known"; readonly outcome: Outcome; readonly record: boolean; readonly hash: string }
      | { readonly _tag: "Call"; readonly params: Record<string, unknown>; readonly hash: string }

    const plan = (entry: Entry): Effect.Effect<Plan, ResumeMismatch> =>
      Effect.gen(function*() {
        const hash = digest(entry.text)
        const before = state.remembered.get(entry.line)
        if (before?.done !== undefined) {
          if (before.done.hash !== hash) return yield* changed(entry.line)
          return { _tag: "Known", outcome: before.done.outcome, record: false, hash }
        }
        if (before?.sent !== undefined && before.sent !== hash) return yield* changed(entry.line)
        if (Either.isLeft(entry.params)) {
          const outcome = lineError(entry.line, Failure.ExitCode.usage, {
            error: "INVALID_LINE",
            error_description: entry.params.left
          })
          return { _tag: "Known", outcome, record: false, hash }
        }
        if (before?.sent !== undefined && !job.idempotent) {
          const outcome = lineError(entry.line, Failure.ExitCode.transport, {
            error: "OUTCOME_UNKNOWN",
            error_description: `${job.method} was sent before the earlier run stopped and its outcome is unknown; ` +
              "it is not sent again (the method is not idempotent): check the portal before acting on this line"
          })
          return { _tag: "Known", outcome, record: true, hash }
        }
        const params = merge(entry.params.right)
        const checked = yield* Effect.either(job.request(params))
        if (Either.isLeft(checked)) {
          const failure = Failure.describe(checked.left)
          return { _tag: "Known", outcome: lineError(entry.line, failure.exit, failure.json), record: false, hash }
        }
        return { _tag: "Call", params, hash }
      })

    const doneRecord = (line: number, hash: string, outcome: Outcome) => ({
      done: line,
      hash,
      exit: outcome.exit,
      out: outcome.out
    })

    /**
     * A group of lines: their `sent` records in one write, then their calls all at once (so that they travel in one
     * `batch`), then their `done` records in one write. Once the records are written the group runs to its end, even
     * when the run is being interrupted, so that every call sent has its outcome recorded.
     */
    const runGroup = (
      group: ReadonlyArray<Entry>
    ): Effect.Effect<ReadonlyArray<Outcome>, InputError | ResumeMismatch, Bitrix24Client.Bitrix24Client> =>
      Effect.gen(function*() {
        const plans = yield* Effect.forEach(group, plan)
        const sends = plans.flatMap((p, index) => p._tag === "Call" ? [{ ...p, entry: group[index]! }] : [])
        const send = Effect.gen(function*() {
          yield* state.append(sends.map(({ entry, hash }) => ({ sent: entry.line, hash })))
          const answers = yield* Effect.forEach(
            sends,
            ({ entry, params }) =>
              job.send(params).pipe(
                Effect.match({
                  onFailure: (error) => {
                    const failure = Failure.describe(error)
                    return lineError(entry.line, failure.exit, failure.json)
                  },
                  onSuccess: (response): Outcome => ({ out: { line: entry.line, result: response.result }, exit: 0 })
                })
              ),
            { concurrency: "unbounded", batching: true }
          )
          const known = plans.flatMap((p, index) =>
            p._tag === "Known" && p.record ? [doneRecord(group[index]!.line, p.hash, p.outcome)] : []
          )
          yield* state.append([
            ...known,
            ...sends.map(({ entry, hash }, i) => doneRecord(entry.line, hash, answers[i]!))
          ])
          return answers
        })
        const answers = yield* Effect.uninterruptible(send)
        let next = 0
        return plans.map((p) => p._tag === "Known" ? p.outcome : answers[next++]!)
      })

    let worst = 0
    const stopped = Effect.suspend(() => {
      const total = counters.total === undefined ? "" : ` of ${counters.total}`
      return stdio.err(
        `b24: stopped after ${counters.done}${total} lines (${counters.failed} failed); the calls in flight have ` +
          `settled and are recorded in ${statePath}.\n` +
          `b24: to go on, run: ${settings.continueWith(statePath)}` +
          `${settings.input === "-" ? " (with the same standard input)" : ""}\n`
      )
    })
    // Groups of at most 50 lines (one `batch`, wire sheet §2), as many in flight as the concurrency allows; a
    // group leaves early when the input is slow to come.
    const size = Math.min(50, settings.concurrency)
    yield* calls.pipe(
      Stream.groupedWithin(size, "20 millis"),
      Stream.mapEffect((group) => runGroup([...group]), { concurrency: Math.ceil(settings.concurrency / size) }),
      Stream.flattenIterables,
      Stream.runForEach((outcome) =>
        Effect.suspend(() => {
          counters.done++
          if (outcome.exit !== 0) counters.failed++
          worst = Math.max(worst, outcome.exit)
          return stdio.out(`${JSON.stringify(outcome.out)}\n`)
        })
      ),
      Effect.onInterrupt(() => stopped)
    )
    if (automatic) yield* Effect.ignore(fs.remove(statePath))
    return worst
  })
