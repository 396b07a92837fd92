/**
 * `b24` as a process: the layers, composed here once (Node's file system, path and terminal services, the
 * process's streams, and the platform `fetch` as the HttpClient for portal calls, with redirects returned rather
 * than followed: the transport follows a portal's move itself, wire sheet §1.1), and the runtime that exits with
 * `b24`'s exit code (130 when interrupted by Ctrl-C). {@link run} drives `b24` in process, with captured streams.
 *
 * @since 0.1.0
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeTerminal from "@effect/platform-node/NodeTerminal"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Cli from "./Cli.js"
import * as Failure from "./Failure.js"
import * as Stdio from "./Stdio.js"

const HttpLive = FetchHttpClient.layer.pipe(
  Layer.provide(Layer.succeed(FetchHttpClient.RequestInit, { redirect: "manual" }))
)

/**
 * Node's services for `b24` (files, paths, the terminal service @effect/cli's parser asks for) and the HttpClient
 * for portal calls; the streams come separately (`Stdio`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerPlatform = Layer.mergeAll(NodeFileSystem.layer, NodePath.layer, NodeTerminal.layer, HttpLive)

/**
 * Runs `b24` in this process with these words (after the program name), an environment (nothing else is read
 * from the process's) and standard input; answers the exit code and what was printed. Nothing is a terminal.
 *
 * @since 0.1.0
 * @category running
 */
export const run = (
  words: ReadonlyArray<string>,
  options: { readonly env?: Readonly<Record<string, string>> | undefined; readonly stdin?: string | undefined } = {}
): Promise<{ readonly code: number; readonly stdout: string; readonly stderr: string }> => {
  const captured = Stdio.makeCaptured({ stdin: options.stdin })
  return Cli.main(words).pipe(
    Effect.provide(Layer.merge(layerPlatform, Layer.succeed(Stdio.Stdio, captured.service))),
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(options.env ?? {})))),
    Effect.runPromise
  ).then((code) => ({ code, stdout: captured.stdout(), stderr: captured.stderr() }))
}

/**
 * Runs `b24` as this process: its streams, its environment, and its exit code.
 *
 * @since 0.1.0
 * @category running
 */
export const runMain = (words: ReadonlyArray<string>): void => {
  // A reader that went away (`b24 ... | head`) ends the run quietly.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(Failure.ExitCode.ok)
  })
  Cli.main(words).pipe(
    Effect.provide(Layer.merge(layerPlatform, Stdio.layerNode)),
    NodeRuntime.runMain({
      disablePrettyLogger: true,
      // Every failure is printed by Cli.main; only an interruption reaches the end.
      disableErrorReporting: true,
      teardown: (exit, onExit) => {
        const code = Exit.isSuccess(exit)
          ? exit.value as number
          : Exit.isInterrupted(exit)
          ? Failure.ExitCode.interrupted
          : Failure.ExitCode.failure
        // Exit once the output is written, without waiting for idle keep-alive connections to the portal to close
        // (the runtime only exits by itself on failure).
        let pending = 2
        const flushed = () => {
          if (--pending > 0) return
          onExit(code)
          process.exit(code)
        }
        process.stdout.write("", flushed)
        process.stderr.write("", flushed)
      }
    })
  )
}
