#!/usr/bin/env -S npx tsx
/**
 * `b24`: the Bitrix24 command line. Layers are composed here, once: Node's platform services for the CLI and
 * undici for portal calls.
 */
import * as CliConfig from "@effect/cli/CliConfig"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Cli from "./Cli.js"

const MainLive = Layer.mergeAll(
  NodeContext.layer,
  NodeHttpClient.layerUndici,
  // --completions, --log-level, --wizard and --version still work; help pages list only b24's own options.
  CliConfig.layer({ showBuiltIns: false })
)

Cli.main(process.argv).pipe(
  Effect.provide(MainLive),
  NodeRuntime.runMain({
    disablePrettyLogger: true,
    teardown: (exit, onExit) => onExit(Exit.isSuccess(exit) ? exit.value as number : Cli.ExitCode.failure)
  })
)
