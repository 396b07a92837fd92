/**
 * The load generator of the (f) scenarios: plain single calls (`im.chat.mute`, a JSON POST, as any Bitrix24 client
 * sends one) to `b24-proxy` replicas, call `i` to replica `i mod n`, with the scenario's number of calls in flight.
 * Node's http module with one keep-alive pool per replica, so that the generator costs little and the same for
 * every row. The replicas' client URLs (`http://HOST:PORT/rest/<id>/<secret>/`) come space-separated in
 * `BENCH_PROXY_URLS`; the first failed calls of a run (status and body, or the socket's error) are written to the file
 * `BENCH_PROXY_FAILURES` names.
 */
import * as Fs from "node:fs"
import * as Http from "node:http"
import { inFlight, main, type Outcome, params } from "./Harness.js"

await main(async (scenario, calls): Promise<Outcome> => {
  const bases = process.env.BENCH_PROXY_URLS!.split(" ")
  const width = scenario.concurrency === "all" ? calls : scenario.concurrency
  const targets = bases.map((base) => ({
    url: new URL(`${base}im.chat.mute.json`),
    agent: new Http.Agent({ keepAlive: true, maxSockets: Math.ceil(width / bases.length) })
  }))
  const body = JSON.stringify(params)
  const failures: Array<string> = []
  const fail = (replica: number, what: string) => {
    if (failures.length < 5) failures.push(`replica ${replica + 1}: ${what.slice(0, 300)}`)
    return false
  }
  // A keep-alive socket the replica closed as idle just as a request was written to it is reset. The call is an
  // idempotent write, so it is sent again on a fresh socket, once (Node's documented pattern, `request.reusedSocket`).
  const post = (call: number, retried = false): Promise<boolean> =>
    new Promise<boolean>((resolve) => {
      const target = targets[call % targets.length]!
      const request = Http.request(target.url, {
        method: "POST",
        agent: target.agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) }
      }, (response) => {
        let text = ""
        response.setEncoding("utf8")
        response.on("data", (chunk) => text += chunk)
        response.on("end", () => {
          let result: unknown
          try {
            result = (JSON.parse(text) as { readonly result?: unknown }).result
          } catch {
            result = undefined
          }
          resolve(
            response.statusCode === 200 && result === true ||
              fail(call % targets.length, `${response.statusCode} ${text}`)
          )
        })
      })
      request.on("error", (error: NodeJS.ErrnoException) =>
        resolve(
          request.reusedSocket && error.code === "ECONNRESET" && !retried
            ? post(call, true)
            : fail(call % targets.length, error.message)
        ))
      request.end(body)
    })
  const outcome = await inFlight(width, calls, 1, (call) => post(call))
  for (const target of targets) target.agent.destroy()
  if (failures.length > 0 && calls === scenario.calls) {
    Fs.writeFileSync(process.env.BENCH_PROXY_FAILURES!, failures.join("\n"))
  }
  return outcome
})
