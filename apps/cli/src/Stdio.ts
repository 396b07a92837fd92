/**
 * Where `b24` reads and writes: standard output and error (raw text, with back-pressure), standard input as bytes,
 * and what it knows of the terminal (whether each stream is a TTY, its width). The binary provides the process's
 * streams (`layerNode`); tests and the in-process entry point provide captured ones (`makeCaptured`).
 *
 * Colour and width follow the conventions of `Help.screen`.
 *
 * @since 0.1.0
 */
import * as NodeStream from "@effect/platform-node/NodeStream"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as Help from "./Help.js"

/**
 * Standard input could not be read.
 *
 * @since 0.1.0
 * @category errors
 */
export class StdinError extends Data.TaggedError("StdinError")<{ readonly description: string }> {
  override get message(): string {
    return `standard input could not be read: ${this.description}`
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Writes text to standard output as is (add the newline yourself); waits when the reader is slower. */
  readonly out: (text: string) => Effect.Effect<void>
  /** Writes text to standard error as is. */
  readonly err: (text: string) => Effect.Effect<void>
  /** Standard input, as it arrives. */
  readonly stdin: Stream.Stream<Uint8Array, StdinError>
  readonly stdoutIsTTY: boolean
  readonly stderrIsTTY: boolean
  /** The terminal's width in columns, when standard output is one. */
  readonly columns: number | undefined
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Stdio extends Context.Tag("b24/Stdio")<Stdio, Service>() {}

const write = (stream: NodeJS.WriteStream, text: string): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    if (text.length === 0 || stream.write(text)) return resume(Effect.void)
    stream.once("drain", () => resume(Effect.void))
  })

/**
 * The process's own streams.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerNode: Layer.Layer<Stdio> = Layer.sync(Stdio, () => ({
  out: (text) => write(process.stdout, text),
  err: (text) => write(process.stderr, text),
  stdin: NodeStream.fromReadable(
    () => process.stdin,
    (error) => new StdinError({ description: error instanceof Error ? error.message : String(error) })
  ),
  stdoutIsTTY: process.stdout.isTTY === true,
  stderrIsTTY: process.stderr.isTTY === true,
  columns: process.stdout.isTTY === true ? process.stdout.columns : undefined
}))

/**
 * Captured streams: what is written is collected, standard input is the given text, nothing is a TTY unless said.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeCaptured = (options: {
  readonly stdin?: string | undefined
  readonly tty?: boolean | undefined
  readonly columns?: number | undefined
} = {}): { readonly service: Service; readonly stdout: () => string; readonly stderr: () => string } => {
  const out: Array<string> = []
  const err: Array<string> = []
  return {
    service: {
      out: (text) => Effect.sync(() => void out.push(text)),
      err: (text) => Effect.sync(() => void err.push(text)),
      stdin: options.stdin === undefined ? Stream.empty : Stream.make(new TextEncoder().encode(options.stdin)),
      stdoutIsTTY: options.tty ?? false,
      stderrIsTTY: options.tty ?? false,
      columns: options.columns
    },
    stdout: () => out.join(""),
    stderr: () => err.join("")
  }
}

/**
 * The layout for this run (see `Help.screen`), from the streams and the environment (`NO_COLOR`, `COLUMNS`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const screen: Effect.Effect<Help.Screen, never, Stdio> = Effect.gen(function*() {
  const stdio = yield* Stdio
  const setting = (name: string) =>
    Config.string(name).pipe(Config.option, Effect.map(Option.getOrUndefined), Effect.orElseSucceed(() => undefined))
  return Help.screen({
    stdoutIsTTY: stdio.stdoutIsTTY,
    stderrIsTTY: stdio.stderrIsTTY,
    columns: stdio.columns,
    noColor: yield* setting("NO_COLOR"),
    columnsSetting: yield* setting("COLUMNS")
  })
})

/**
 * Writes one line to standard output.
 *
 * @since 0.1.0
 * @category output
 */
export const line = (text: string): Effect.Effect<void, never, Stdio> =>
  Effect.flatMap(Stdio, (stdio) => stdio.out(`${text}\n`))

/**
 * Writes one line to standard error.
 *
 * @since 0.1.0
 * @category output
 */
export const errorLine = (text: string): Effect.Effect<void, never, Stdio> =>
  Effect.flatMap(Stdio, (stdio) => stdio.err(`${text}\n`))
