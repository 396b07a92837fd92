/**
 * The benchmark client for the official `@bitrix24/b24jssdk` (B24Hook, `restApi:v2` actions), with its own
 * restriction manager set to the scenario's bucket (adaptive control off, so both clients mirror the same numbers).
 * Paths: one call per request (`actions.v2.call`), `actions.v2.batchByChunk` (the SDK's path for many calls:
 * chunks of 50, one after the other) and `actions.v2.batch` chunks of 50 all at once.
 */
import { B24Hook, LoggerFactory } from "@bitrix24/b24jssdk"
import { main, type Outcome, params, range, webhookUrl } from "./Harness.js"

await main(async (scenario, calls): Promise<Outcome> => {
  const bucket = scenario.bucket === "off"
    ? { burstLimit: 1_000_000_000, drainRate: 1_000_000_000 }
    : { burstLimit: scenario.bucket.size, drainRate: scenario.bucket.drain }
  const b24 = B24Hook.fromWebhookUrl(webhookUrl().replace(/\/$/, ""), {
    restrictionParams: { rateLimit: { ...bucket, adaptiveEnabled: false } }
  })
  b24.offClientSideWarning()
  b24.setLogger(LoggerFactory.createNullLogger())
  const count = (flags: ReadonlyArray<boolean>): Outcome => ({
    ok: flags.filter(Boolean).length,
    failed: flags.filter((flag) => !flag).length
  })
  const commands = range(calls).map(() => ["im.chat.mute", params] as [string, typeof params])
  switch (scenario.client) {
    case "official-batch-by-chunk": {
      const result = await b24.actions.v2.batchByChunk.make({ calls: commands, options: { isHaltOnError: false } })
      const data = result.isSuccess ? result.getData() as ReadonlyArray<unknown> : []
      return {
        ok: data.filter((value) => value === true).length,
        failed: calls - data.filter((value) => value === true).length
      }
    }
    case "official-batch-concurrent": {
      const chunks = range(Math.ceil(calls / 50)).map((i) => commands.slice(i * 50, i * 50 + 50))
      const results = await Promise.all(chunks.map(async (chunk) => {
        try {
          const result = await b24.actions.v2.batch.make({ calls: chunk, options: { isHaltOnError: false } })
          const data = result.isSuccess ? Object.values(result.getData() as Record<string, unknown>) : []
          return chunk.map((_, i) => data[i] === true)
        } catch {
          return chunk.map(() => false)
        }
      }))
      return count(results.flat())
    }
    default: {
      const single = async (): Promise<boolean> => {
        try {
          return (await b24.actions.v2.call.make({ method: "im.chat.mute", params })).isSuccess
        } catch {
          return false
        }
      }
      const width = scenario.concurrency === "all" ? calls : scenario.concurrency
      const flags: Array<boolean> = []
      let next = 0
      await Promise.all(
        range(width).map(async () => {
          while (next < calls) {
            next++
            flags.push(await single())
          }
        })
      )
      return count(flags)
    }
  }
})
