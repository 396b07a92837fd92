/**
 * The scenario list of `pnpm bench`, in table order. Adding a scenario is adding an entry here (and, for a new kind
 * of client, a `Client` case and its bundle entry in `Bundle.ts`); the runner, the table and results.json follow.
 *
 * @since 0.1.0
 */
import type { Bucket, Client, Group, Network, ProxySetup, Scenario } from "./Scenario.js"

/**
 * The bucket of the limits scenarios (a): the standard size with a fast drain, so a run takes seconds.
 *
 * @since 0.1.0
 * @category constants
 */
export const fastBucket: Bucket = { size: 50, drain: 500 }

/**
 * The standard plan's bucket (wire sheet §3.1): 50 requests, draining 2 per second. The cloud scenarios (d) use it.
 *
 * @since 0.1.0
 * @category constants
 */
export const standardBucket: Bucket = { size: 50, drain: 2 }

const calls = 2_000
const perBatch = 50

const scenario = (
  group: Group,
  id: string,
  title: string,
  client: Client,
  options: {
    readonly calls: number
    readonly concurrency: Scenario["concurrency"]
    readonly bucket: Scenario["bucket"]
    readonly batched: boolean
    /** Overrides the requests the floor counts (default: one per call, or one per 50 when batched). */
    readonly minimumRequests?: number
    readonly network?: Network
    readonly repeats?: number
    readonly proxy?: ProxySetup
  }
): Scenario => ({
  id,
  group,
  title,
  client,
  calls: options.calls,
  concurrency: options.concurrency,
  bucket: options.bucket,
  network: options.network ?? "loopback",
  minimumRequests: options.minimumRequests ??
    (options.batched ? Math.ceil(options.calls / perBatch) : options.calls),
  repeats: options.repeats ?? 1,
  ...(options.proxy === undefined ? {} : { proxy: options.proxy })
})

// (a) 2,000 independent calls under the fast bucket. Runs the bucket does not hold back are short: five of each.
const limits = (id: string, title: string, client: Client, batched: boolean): Scenario =>
  scenario("limits", `a-${id}`, title, client, {
    calls,
    concurrency: "all",
    bucket: fastBucket,
    batched,
    repeats: batched ? 5 : 1
  })

// (b) Calls per second on loopback with the limits off.
const throughput = (id: string, title: string, client: Client, concurrency: Scenario["concurrency"], n: number) =>
  scenario("throughput", `b-${id}`, title, client, {
    calls: n,
    concurrency,
    bucket: "off",
    batched: false,
    // Automatic batching with n in flight gathers n calls per request.
    ...(client === "ours-batched" && typeof concurrency === "number"
      ? { minimumRequests: Math.ceil(n / concurrency) }
      : {})
  })

// (g) The b24 command line, one process per call: the cold start 15 times (the three interleaved, see B24.ts), and
// 10,000 lines of a bulk run under the standard bucket, once.
const cli = (
  id: string,
  title: string,
  client: Client,
  options: { readonly calls: number; readonly repeats: number }
) =>
  scenario("cli", `g-${id}`, title, client, {
    calls: options.calls,
    concurrency: client === "b24-bulk" ? 100 : 1,
    bucket: client === "b24-bulk" ? standardBucket : "off",
    batched: client === "b24-bulk",
    ...(client === "b24-help" || client === "node-e-0" ? { minimumRequests: 0 } : {}),
    repeats: options.repeats
  })

// (d) 2,000 independent calls to a cloud portal: latency on every request, the standard bucket; five of each.
const cloud = (id: string, title: string, client: Client): Scenario =>
  scenario("cloud", `d-${id}`, title, client, {
    calls,
    concurrency: "all",
    bucket: standardBucket,
    batched: true,
    network: "cloud",
    repeats: 5
  })

// (e) The same bare load generator against the emulator directly and through b24-proxy, bucket off, keep-alive.
const proxy = (id: string, title: string, network: Network, concurrency: number): Scenario =>
  scenario("proxy", `e-${id}`, title, "raw", { calls: 20_000, concurrency, bucket: "off", batched: false, network })

// (f) b24-proxy replicas, each call a plain single call the proxy coalesces into batches, 200 in flight spread round
// robin over the replicas. Bucket off: 3,000 calls, three runs each (the Redis-less replica measures what Redis adds).
// Standard bucket on the portal and the proxy: 2,000 calls, once.
const replicas = (
  id: string,
  title: string,
  proxy: ProxySetup,
  bucket: Scenario["bucket"]
): Scenario =>
  scenario("replicas", `f-${id}`, title, "proxy-replicas", {
    calls: bucket === "off" ? 3_000 : calls,
    concurrency: 200,
    bucket,
    batched: true,
    repeats: bucket === "off" ? 3 : 1,
    proxy
  })

/**
 * Every scenario, in table order.
 *
 * @since 0.1.0
 * @category constants
 */
export const all: ReadonlyArray<Scenario> = [
  limits("ours-batched", "ours, automatic batching", "ours-batched", true),
  limits("ours-explicit", "ours, explicit Batch.run (chunks at once)", "ours-explicit", true),
  limits("ours-single", "ours, one request per call", "ours-single", false),
  limits("official-batch-by-chunk", "official, batchByChunk", "official-batch-by-chunk", true),
  limits("official-batch-concurrent", "official, 40 batch calls at once", "official-batch-concurrent", true),
  limits("official-single", "official, one request per call", "official-single", false),
  limits(
    "effect-floor",
    "Effect alone, request batching with a resolver that answers at once (no I/O): the floor of automatic batching",
    "effect-floor",
    true
  ),
  throughput("ours-sequential", "ours, sequential", "ours-single", 1, 2_000),
  throughput("official-sequential", "official, sequential", "official-single", 1, 2_000),
  throughput("ours-16", "ours, 16 concurrent", "ours-single", 16, 6_000),
  throughput("official-16", "official, 16 concurrent", "official-single", 16, 6_000),
  throughput("ours-16-batched", "ours, 16 concurrent, automatic batching", "ours-batched", 16, 6_000),
  scenario("emulator", "c-emulator", "emulator alone (bare HTTPS client, 64 at once)", "raw", {
    calls: 30_000,
    concurrency: 64,
    bucket: "off",
    batched: false
  }),
  scenario(
    "emulator",
    "c-emulator-batch",
    "emulator alone, batch commands (bare client, 16 batches of 50 at once)",
    "raw-batch",
    { calls: 30_000, concurrency: 16, bucket: "off", batched: true }
  ),
  cloud("ours-batched", "ours, automatic batching (Effect.forEach, batching: true)", "ours-batched"),
  cloud("ours-explicit", "ours, explicit Batch.run", "ours-explicit"),
  cloud("official-batch-by-chunk", "official, batchByChunk", "official-batch-by-chunk"),
  cloud("official-batch-concurrent", "official, 40 batch calls at once", "official-batch-concurrent"),
  proxy("direct-64", "emulator directly (bare HTTPS client, 64 keep-alive at once)", "loopback", 64),
  proxy("proxy-64", "through b24-proxy (same client, 64 keep-alive at once)", "proxy", 64),
  proxy("proxy-1000", "through b24-proxy (same client, 1,000 keep-alive at once)", "proxy", 1_000),
  replicas("1-off", "b24-proxy, 1 replica on Redis, bucket off", { replicas: 1, redis: true }, "off"),
  replicas("3-off", "b24-proxy, 3 replicas on one Redis, bucket off", { replicas: 3, redis: true }, "off"),
  replicas("1-off-memory", "b24-proxy, 1 replica without Redis, bucket off", { replicas: 1, redis: false }, "off"),
  replicas(
    "1-standard",
    "b24-proxy, 1 replica on Redis, standard bucket",
    { replicas: 1, redis: true },
    standardBucket
  ),
  replicas(
    "3-standard",
    "b24-proxy, 3 replicas on one Redis, standard bucket",
    { replicas: 3, redis: true },
    standardBucket
  ),
  cli("node", "node -e 0 (the floor of a process)", "node-e-0", { calls: 1, repeats: 15 }),
  cli("b24-help", "b24 --help", "b24-help", { calls: 1, repeats: 15 }),
  cli("b24-call", "b24 im chat mute --chat-id 1489 (webhook on loopback)", "b24-call", { calls: 1, repeats: 15 }),
  cli("b24-bulk", "b24 im chat mute --input (10,000 lines, standard bucket)", "b24-bulk", {
    calls: 10_000,
    repeats: 1
  })
]
