/**
 * A benchmark scenario: which client, how many calls, how many at once, and the leaky bucket both the emulated portal
 * and the client are configured with (`off`: no limit).
 */
export interface Scenario {
  readonly id: string
  readonly group: "limits" | "throughput" | "emulator"
  readonly title: string
  readonly client:
    | "ours-batched"
    | "ours-explicit"
    | "ours-single"
    | "official-batch-by-chunk"
    | "official-batch-concurrent"
    | "official-single"
    | "raw"
    | "raw-batch"
  readonly calls: number
  /** `1`: one after the other; a number: that many in flight; `all`: every call at once. */
  readonly concurrency: 1 | number | "all"
  readonly bucket: "off" | { readonly size: number; readonly drain: number }
  /** HTTP requests the scenario needs at least (for the bucket's floor): one per call, or one per 50 in a batch. */
  readonly minimumRequests: number
}

/**
 * The shortest time the bucket allows for `requests` requests: the first `size` at once, the rest at the drain rate.
 */
export const floorSeconds = (scenario: Scenario): number =>
  scenario.bucket === "off" ? 0 : Math.max(0, (scenario.minimumRequests - scenario.bucket.size) / scenario.bucket.drain)
