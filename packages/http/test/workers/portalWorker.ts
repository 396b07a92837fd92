/**
 * A library worker process for the cross-process tests (test/workers.ts spawns it): one portal's transport over
 * `SharedState.layerRedis`, an inbound webhook or an OAuth application whose tokens live in Redis. It builds its
 * layers, says `ready`, waits for `go` on stdin, makes its calls (`im.chat.mute`) with the configured concurrency and
 * reports how they ended. Events are stdout lines starting with `@@` (anything else on stdout is a log line).
 */
import type { Bitrix24Client } from "@bitrix24-effect/core"
import { ImChat } from "@bitrix24-effect/core"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Readline from "node:readline"
import * as Bitrix24Http from "../../src/Bitrix24Http.js"
import * as OAuth from "../../src/OAuth.js"
import * as PortalLimits from "../../src/PortalLimits.js"
import * as RetryPolicy from "../../src/RetryPolicy.js"
import * as SharedState from "../../src/SharedState.js"
import type * as TokenStore from "../../src/TokenStore.js"
import type { WorkerConfig, WorkerEvent } from "../workers.js"

const config: WorkerConfig = JSON.parse(process.env.B24_WORKER_CONFIG ?? "{}")

/** A duration from the config's text, e.g. `2 seconds`. */
const duration = (text: string | undefined) =>
  text === undefined ? undefined : Duration.decode(text as Duration.DurationInput)

const emit = (event: WorkerEvent) => Effect.sync(() => process.stdout.write(`@@${JSON.stringify(event)}\n`))

const go = new Promise<void>((resolve) => {
  const lines = Readline.createInterface({ input: process.stdin })
  lines.on("line", (line) => {
    if (line.trim() === "go") resolve()
  })
})

const transport: Layer.Layer<
  Bitrix24Client.Bitrix24Client,
  Bitrix24Http.InvalidWebhookUrl | OAuth.OAuthError,
  HttpClient.HttpClient | Bitrix24Http.Policies | TokenStore.TokenStore
> = config.portal.kind === "webhook"
  ? Bitrix24Http.layerWebhook(Redacted.make(config.portal.url))
  : Bitrix24Http.layerOAuth({ key: config.portal.key, timeout: duration(config.portal.refreshTimeout) }).pipe(
    Layer.provide(
      OAuth.layer({
        clientId: config.portal.clientId,
        clientSecret: Redacted.make(config.portal.clientSecret),
        tokenUrl: config.portal.tokenUrl
      })
    )
  )

const PortalLive = transport.pipe(
  Layer.provide(
    Layer.mergeAll(
      SharedState.layerRedis({
        url: Redacted.make(config.redisUrl),
        prefix: config.prefix,
        wait: duration(config.wait)
      }),
      PortalLimits.layer({ bucket: config.bucket }),
      RetryPolicy.layerDefault
    )
  ),
  Layer.provide(NodeHttpClient.layerUndici)
)

const program = Effect.gen(function*() {
  yield* emit({ event: "ready" })
  yield* Effect.promise(() => go)
  const started = Date.now()
  const outcomes = yield* Effect.forEach(
    Array.from({ length: config.calls }, (_, i) => i),
    () => Effect.either(ImChat.mute({ CHAT_ID: 1489 })),
    { concurrency: config.concurrency }
  )
  const failed: Record<string, number> = {}
  for (const outcome of outcomes) {
    if (Either.isLeft(outcome)) {
      const name = outcome.left.constructor.name
      failed[name] = (failed[name] ?? 0) + 1
    }
  }
  yield* emit({
    event: "done",
    ok: outcomes.filter(Either.isRight).length,
    failed,
    startedAt: started,
    finishedAt: Date.now()
  })
})

Effect.runPromise(Effect.provide(program, PortalLive)).then(
  () => process.exit(0),
  (error) => {
    process.stdout.write(`@@${JSON.stringify({ event: "error", message: String(error) })}\n`)
    process.exit(1)
  }
)
