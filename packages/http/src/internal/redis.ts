/**
 * One ioredis connection for the shared state, its Lua scripts, and how a command waits for Redis.
 *
 * The connection never queues commands while it is down (`enableOfflineQueue: false`) and never sends one again by
 * itself after a reconnection: a command fails at once, and {@link Connection.run} tries it again until Redis answers
 * or the wait bound has passed. So nothing runs late in Redis on behalf of a caller that already gave up, and every
 * script below is safe to run again (taking a bucket token twice only errs on the slow side; the lock, the fenced
 * save and the budget updates are idempotent). Every script reads the time from Redis (`TIME`), one clock for every
 * process, however far their own clocks drift apart.
 *
 * @since 0.1.0
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import { Redis } from "ioredis"

/** The Redis time in ms, shared by the scripts. */
const now = `local clock = redis.call("TIME")
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
`

/**
 * The leaky bucket's token bucket (the `RateLimiterStore.tokenBucket` contract): KEYS bucket (hash `tokens`, `at`),
 * epoch; ARGV tokens to take, ms per token, limit, overflow (1: go below zero, the caller waits). Answers the tokens
 * left (negative: the caller's turn is that many refills away) and the epoch, the Redis time at which this dataset
 * first served the portal's bucket. A bucket with no state (new, or lost with Redis's data) holds only the tokens
 * refilled since the epoch: requests sent before Redis lost its data may still fill the portal's counter, but not
 * those sent longer ago than a full refill. The key lapses once the bucket is full again; the epoch stays.
 */
const tokenBucket = `${now}
local take = tonumber(ARGV[1])
local refill = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local state = redis.call("HMGET", KEYS[1], "tokens", "at")
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  local epoch = tonumber(redis.call("GET", KEYS[2]))
  if epoch == nil then
    epoch = now
    redis.call("SET", KEYS[2], now)
  end
  tokens = math.min(limit, math.floor((now - epoch) / refill))
  at = now
else
  local refilled = math.floor((now - at) / refill)
  if refilled > 0 then
    tokens = math.min(limit, tokens + refilled)
    at = at + refilled * refill
  end
end
local left = tokens - take
local kept = left
if left < 0 and ARGV[4] ~= "1" then kept = tokens end
redis.call("HSET", KEYS[1], "tokens", kept, "at", at)
redis.call("PEXPIRE", KEYS[1], math.max(1, at + (limit - kept) * refill - now) + 1000)
return { left, redis.call("GET", KEYS[2]) }
`

/**
 * A fixed window (the `RateLimiterStore.fixedWindow` contract): KEYS counter; ARGV tokens, ms per token, limit ("" for
 * none). Answers the count after taking the tokens (above the limit: nothing taken) and the counter's time to live.
 */
const fixedWindow = `local count = tonumber(redis.call("GET", KEYS[1]) or "0")
local ttl = redis.call("PTTL", KEYS[1])
if ttl < 0 then ttl = 0 end
local tokens = tonumber(ARGV[1])
local limit = tonumber(ARGV[3])
if limit ~= nil and count + tokens > limit then
  return { count + tokens, ttl }
end
count = count + tokens
ttl = ttl + tonumber(ARGV[2]) * tokens
redis.call("SET", KEYS[1], count, "PX", ttl)
return { count, ttl }
`

/** The operating budget's entry: KEYS entry (hash `used`, `reset`). Answers `{ used, ms until reset }` or nil. */
const budgetGet = `${now}
local state = redis.call("HMGET", KEYS[1], "used", "reset")
local reset = tonumber(state[2])
if state[1] == false or reset == nil or reset <= now then return nil end
return { state[1], reset - now }
`

/**
 * Records a report: KEYS entry; ARGV used (seconds), ms until reset, the same-window tolerance (ms). Within one window
 * the larger sum wins; the entry lapses at its reset.
 */
const budgetRecord = `${now}
local used = tonumber(ARGV[1])
local reset = now + tonumber(ARGV[2])
local state = redis.call("HMGET", KEYS[1], "used", "reset")
local previous = tonumber(state[2])
if previous ~= nil and previous > now and math.abs(previous - reset) < tonumber(ARGV[3]) then
  used = math.max(used, tonumber(state[1]))
end
if reset <= now then
  redis.call("DEL", KEYS[1])
  return 0
end
redis.call("HSET", KEYS[1], "used", tostring(used), "reset", reset)
redis.call("PEXPIREAT", KEYS[1], reset)
return 1
`

/** Blocks a method after a 429: KEYS entry; ARGV used (the limit), ms to block when no reset is known. */
const budgetBlock = `${now}
local previous = tonumber(redis.call("HGET", KEYS[1], "reset"))
local reset = now + tonumber(ARGV[2])
if previous ~= nil and previous > now then reset = previous end
redis.call("HSET", KEYS[1], "used", ARGV[1], "reset", reset)
redis.call("PEXPIREAT", KEYS[1], reset)
return 1
`

/**
 * Takes the refresh lock: KEYS lock, fence counter; ARGV owner (random per acquisition), ttl (ms). Answers
 * `{ fence, 0 }` when taken (again, for a retried acquisition by the same owner), else `{ 0, ms the holder keeps it }`.
 * The lock's value is `{fence}:{owner}`; the fence grows with every acquisition.
 */
const lockAcquire = `local held = redis.call("GET", KEYS[1])
if held then
  local at = string.find(held, ":", 1, true)
  if at ~= nil and string.sub(held, at + 1) == ARGV[1] then
    return { tonumber(string.sub(held, 1, at - 1)), 0 }
  end
  return { 0, redis.call("PTTL", KEYS[1]) }
end
local fence = redis.call("INCR", KEYS[2])
redis.call("SET", KEYS[1], fence .. ":" .. ARGV[1], "PX", ARGV[2])
return { fence, 0 }
`

/** Releases the lock if it is still this holder's: KEYS lock; ARGV the lock's value. */
const lockRelease = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end
return 0
`

/**
 * The fenced save of a refresh: KEYS record (hash `data`, `fence`); ARGV data, the holder's fence. Refused (0) when
 * the stored pair was written under a later fence.
 */
const tokensSave = `local stored = tonumber(redis.call("HGET", KEYS[1], "fence") or "0")
if tonumber(ARGV[2]) < stored then return 0 end
redis.call("HSET", KEYS[1], "data", ARGV[1], "fence", ARGV[2])
return 1
`

/**
 * A new authorization's write: KEYS record, fence counter; ARGV data. It takes a fence of its own, so any refresh
 * holder that took the lock before it cannot overwrite it.
 */
const tokensSet = `local fence = redis.call("INCR", KEYS[2])
redis.call("HSET", KEYS[1], "data", ARGV[1], "fence", fence)
return fence
`

/**
 * Forgets the tokens: KEYS record, fence counter. What stays is a fence of its own, so a refresh that took the lock
 * before cannot write them back.
 */
const tokensRemove = `local fence = redis.call("INCR", KEYS[2])
redis.call("DEL", KEYS[1])
redis.call("HSET", KEYS[1], "fence", fence)
return fence
`

/**
 * The connection with the scripts defined as commands (EVALSHA, and EVAL when Redis lost them in a restart).
 *
 * @internal
 */
export interface Client extends Redis {
  b24TokenBucket(
    bucket: string,
    epoch: string,
    tokens: number,
    refillMs: number,
    limit: number,
    overflow: 0 | 1
  ): Promise<[number, string]>
  b24FixedWindow(key: string, tokens: number, refillMs: number, limit: number | ""): Promise<[number, number]>
  b24BudgetGet(key: string): Promise<[string, number] | null>
  b24BudgetRecord(key: string, used: string, resetInMs: number, sameWindowMs: number): Promise<number>
  b24BudgetBlock(key: string, used: string, blockedForMs: number): Promise<number>
  b24LockAcquire(lock: string, fence: string, owner: string, ttlMs: number): Promise<[number, number]>
  b24LockRelease(lock: string, value: string): Promise<number>
  b24TokensSave(record: string, data: string, fence: number): Promise<number>
  b24TokensSet(record: string, fence: string, data: string): Promise<number>
  b24TokensRemove(record: string, fence: string): Promise<number>
}

const scripts: ReadonlyArray<readonly [keyof Client & `b24${string}`, number, string]> = [
  ["b24TokenBucket", 2, tokenBucket],
  ["b24FixedWindow", 1, fixedWindow],
  ["b24BudgetGet", 1, budgetGet],
  ["b24BudgetRecord", 1, budgetRecord],
  ["b24BudgetBlock", 1, budgetBlock],
  ["b24LockAcquire", 2, lockAcquire],
  ["b24LockRelease", 1, lockRelease],
  ["b24TokensSave", 1, tokensSave],
  ["b24TokensSet", 2, tokensSet],
  ["b24TokensRemove", 2, tokensRemove]
]

/**
 * Where Redis is, safe to print: `host:port` (and `/db`), never the user or the password of the URL.
 *
 * @internal
 */
export const address = (url: Redacted.Redacted<string>): string => {
  try {
    const parsed = new URL(Redacted.value(url))
    const db = parsed.pathname.length > 1 ? parsed.pathname : ""
    return `${parsed.hostname}:${parsed.port === "" ? "6379" : parsed.port}${db}`
  } catch {
    return "(an unreadable URL)"
  }
}

/** Redis answers after which trying again can help: it is loading, busy, or a replica that cannot take writes yet. */
const transientReplies = /^(LOADING|BUSY|READONLY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN)\b/

const transient = (cause: unknown): boolean =>
  !(cause instanceof Error && cause.name === "ReplyError") || transientReplies.test(cause.message)

const describe = (cause: unknown): string => cause instanceof Error ? cause.message.slice(0, 200) : "the command failed"

/**
 * A command that did not succeed: Redis out of reach for the whole wait, or an answer that trying again cannot fix.
 *
 * @internal
 */
export interface Failure {
  readonly description: string
}

/**
 * The connection and how its commands run.
 *
 * @internal
 */
export interface Connection {
  readonly client: Client
  readonly address: string
  /** Whether Redis is connected and ready now. */
  readonly available: Effect.Effect<boolean>
  /**
   * Runs a command, trying it again while Redis is out of reach (backoff from 25 ms to 250 ms, jittered) for at most
   * the wait bound; with `once`, a single try.
   */
  readonly run: <A>(command: (client: Client) => Promise<A>, options?: { readonly once?: boolean }) => Effect.Effect<
    A,
    Failure
  >
}

/**
 * Connects to Redis at `url` within `connectTimeout`, or fails with a description of why not (the URL's password
 * never appears). The connection is closed when the scope closes.
 *
 * @internal
 */
export const connect = (options: {
  readonly url: Redacted.Redacted<string>
  readonly wait: Duration.Duration
  readonly connectTimeout: Duration.Duration
}): Effect.Effect<Connection, Failure, Scope.Scope> =>
  Effect.gen(function*() {
    const where = address(options.url)
    let lastError: string | undefined
    const connectMs = Duration.toMillis(options.connectTimeout)
    const client = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const redis = new Redis(Redacted.value(options.url), {
          lazyConnect: true,
          enableOfflineQueue: false,
          autoResendUnfulfilledCommands: false,
          maxRetriesPerRequest: 0,
          enableAutoPipelining: true,
          connectTimeout: connectMs,
          commandTimeout: Math.max(250, Math.min(2000, Duration.toMillis(options.wait))),
          connectionName: "bitrix24-effect",
          retryStrategy: (times) => Math.min(times * 100, 1000)
        }) as Client
        // Without a listener ioredis prints every connection error; the last one explains a failure.
        redis.on("error", (error: Error) => {
          lastError = describe(error)
        })
        for (const [name, numberOfKeys, lua] of scripts) redis.defineCommand(name, { numberOfKeys, lua })
        return redis
      }),
      (redis) =>
        Effect.promise(() =>
          redis.status === "ready" ? redis.quit().catch(() => redis.disconnect()) : Promise.resolve(redis.disconnect())
        )
    )
    yield* Effect.tryPromise({
      try: () => client.connect(),
      catch: (cause) => ({ description: lastError ?? describe(cause) })
    }).pipe(
      Effect.timeoutFail({
        duration: Duration.millis(connectMs + 1000),
        onTimeout: () => ({ description: lastError ?? `no answer within ${Duration.format(options.connectTimeout)}` })
      }),
      Effect.tapError(() => Effect.sync(() => client.disconnect()))
    )

    const retry = Schedule.exponential("25 millis").pipe(
      Schedule.union(Schedule.spaced("250 millis")),
      Schedule.jittered
    )
    const run: Connection["run"] = (command, runOptions) => {
      const once = Effect.tryPromise({ try: () => command(client), catch: (cause) => cause })
      if (runOptions?.once === true) return Effect.mapError(once, (cause) => ({ description: describe(cause) }))
      let last: unknown
      return once.pipe(
        Effect.tapError((cause) => Effect.sync(() => void (last = cause))),
        Effect.retry({ schedule: retry, while: transient }),
        Effect.mapError((cause): Failure => ({ description: describe(cause) })),
        Effect.timeoutFail({
          duration: options.wait,
          onTimeout: (): Failure => ({
            description: `Redis at ${where} out of reach for ${Duration.format(options.wait)}` +
              (last === undefined ? "" : ` (${describe(last)})`)
          })
        })
      )
    }

    return {
      client,
      address: where,
      available: Effect.sync(() => client.status === "ready"),
      run
    }
  })
