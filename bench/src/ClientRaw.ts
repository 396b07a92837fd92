/**
 * A bare client (Node's https module, keep-alive) posting the same call, to measure the emulator alone: no
 * validation, no decoding beyond JSON.parse, nothing between the socket and the emulator. `raw-batch` posts `batch`
 * requests of 50 commands instead (the emulator's throughput for batched commands).
 */
import * as Https from "node:https"
import { inFlight, main, type Outcome, params, range, webhookUrl } from "./Harness.js"

await main(async (scenario, calls): Promise<Outcome> => {
  const batched = scenario.client === "raw-batch"
  const url = new URL(`${webhookUrl()}${batched ? "batch" : "im.chat.mute"}.json`)
  const cmd = Object.fromEntries(range(50).map((i) => [`c${i}`, `im.chat.mute?CHAT_ID=${params.CHAT_ID}`]))
  const body = JSON.stringify(batched ? { halt: 0, cmd } : params)
  const perRequest = batched ? 50 : 1
  const width = scenario.concurrency === "all" ? calls : scenario.concurrency
  const agent = new Https.Agent({ keepAlive: true, maxSockets: width })
  const post = () =>
    new Promise<boolean>((resolve) => {
      const request = Https.request(url, {
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) }
      }, (response) => {
        let text = ""
        response.setEncoding("utf8")
        response.on("data", (chunk) => text += chunk)
        response.on("end", () => {
          const result = (JSON.parse(text) as { readonly result?: unknown }).result
          resolve(batched ? typeof result === "object" && result !== null : result === true)
        })
      })
      request.on("error", () => resolve(false))
      request.end(body)
    })
  const outcome = await inFlight(width, calls, perRequest, post)
  agent.destroy()
  return outcome
})
