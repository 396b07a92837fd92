/**
 * A benchmark scenario: which client, how many calls, how many at once, the leaky bucket both the emulated portal and
 * the client are configured with (`off`: no limit), and the network between them (loopback, or a cloud portal's
 * latency).
 *
 * The child-process contract: a client bundle receives the scenario as JSON in `argv[2]` and reads `client`,
 * `calls`, `concurrency` and `bucket` (with these names and shapes). Bundles built from older commits (the
 * `--baseline` comparison) read the same fields, so they stay as they are; new fields are for the orchestrator.
 *
 * @since 0.1.0
 */

/**
 * The scenario groups, each a letter in the table: (a) limits, (b) throughput on loopback, (c) the emulator alone,
 * (d) a cloud portal (latency and the standard bucket), (e) `b24-proxy` in front of the emulator against the
 * emulator directly (same load generator, bucket off), (f) `b24-proxy` replicas on one Redis, (g) the `b24` command
 * line as whole processes.
 *
 * @since 0.1.0
 * @category models
 */
export type Group = "limits" | "throughput" | "emulator" | "cloud" | "proxy" | "replicas" | "cli"

/**
 * The letter each group has in the table and in the targets.
 *
 * @since 0.1.0
 * @category models
 */
export const groupLetter: Readonly<Record<Group, string>> = {
  limits: "a",
  throughput: "b",
  emulator: "c",
  cloud: "d",
  proxy: "e",
  replicas: "f",
  cli: "g"
}

/**
 * The client and its path: `ours-*` is this transport (`ours-batched`: automatic batching, `ours-explicit`:
 * `Batch.run`, `ours-single`: one request per call), `official-*` the official SDK, `raw*` a bare HTTPS client,
 * `effect-floor` Effect's request batching alone (a resolver that answers at once, no I/O). The (g) clients are
 * whole processes (see {@link isProcess}): `node -e 0` (the floor of a Node process), `b24 --help`, a typed `b24`
 * call and a `b24` bulk run. `proxy-replicas` (f) is a load generator (plain single calls over HTTP, round robin)
 * in front of `b24-proxy` processes (see {@link isReplicas}).
 *
 * @since 0.1.0
 * @category models
 */
export type Client =
  | "ours-batched"
  | "ours-explicit"
  | "ours-single"
  | "official-batch-by-chunk"
  | "official-batch-concurrent"
  | "official-single"
  | "raw"
  | "raw-batch"
  | "effect-floor"
  | "node-e-0"
  | "b24-help"
  | "b24-call"
  | "b24-bulk"
  | "proxy-replicas"

/**
 * `loopback`: the emulator answers as fast as it can. `cloud`: every REST request is answered after the configured
 * latency (`--latency`, default 150 ms plus or minus 30 ms), as a cloud portal seen from elsewhere. `proxy`: the
 * loopback emulator through a `b24-proxy` process (its bundle, HTTPS, bucket off, one client without a limit).
 *
 * @since 0.1.0
 * @category models
 */
export type Network = "loopback" | "cloud" | "proxy"

/**
 * A leaky bucket (wire sheet §3.1): `size` requests at once, draining `drain` per second.
 *
 * @since 0.1.0
 * @category models
 */
export interface Bucket {
  readonly size: number
  readonly drain: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Scenario {
  /** Stable identifier (results.json, `--only`). */
  readonly id: string
  readonly group: Group
  /** The table's label; starts with the client's name (`ours, ...`, `official, ...`). */
  readonly title: string
  readonly client: Client
  readonly calls: number
  /** `1`: one after the other; a number: that many in flight; `all`: every call at once. */
  readonly concurrency: 1 | number | "all"
  readonly bucket: "off" | Bucket
  readonly network: Network
  /** HTTP requests the scenario needs at least (for the bucket's floor): one per call, or one per 50 in a batch. */
  readonly minimumRequests: number
  /** Measured runs; the row keeps the median (short runs are repeated so one hiccup does not decide). */
  readonly repeats: number
  /** (f) only: the `b24-proxy` processes the load generator calls, and whether they share their state in Redis. */
  readonly proxy?: ProxySetup | undefined
}

/**
 * (f) The `b24-proxy` processes of a scenario: how many replicas, and whether they run with `B24_REDIS_URL` (one
 * Redis for all) or on their own memory.
 *
 * @since 0.1.0
 * @category models
 */
export interface ProxySetup {
  readonly replicas: number
  readonly redis: boolean
}

/**
 * Whether the scenario runs `b24-proxy` replicas (f), measured by `Replicas.ts` rather than by the client loop.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isReplicas = (scenario: Scenario): boolean => scenario.group === "replicas"

/**
 * Whether the scenario runs this transport, and so is also run with the `--baseline` bundle.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isOurs = (scenario: Scenario): boolean => scenario.client.startsWith("ours")

/**
 * Whether the scenario runs a whole process per call, measured from outside by `B24.ts`, rather than a client
 * bundle with a warm-up and a measured workload (`Runner.ts`). A `b24` process is the installed command, so there is
 * no baseline variant of it.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isProcess = (scenario: Scenario): boolean =>
  scenario.client === "node-e-0" || scenario.client.startsWith("b24-")

/**
 * The shortest time the bucket allows for the scenario's requests, in seconds: the first `size` at once, the rest
 * at the drain rate. Network latency is not part of it.
 *
 * @since 0.1.0
 * @category utils
 */
export const floorSeconds = (scenario: Scenario): number =>
  scenario.bucket === "off" ? 0 : Math.max(0, (scenario.minimumRequests - scenario.bucket.size) / scenario.bucket.drain)
