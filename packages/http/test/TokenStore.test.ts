/**
 * The token stores (wire sheet §4: rotated tokens must be persisted before use): the in-memory store and the file
 * store (atomic write through a temporary file and a rename, mode 0600), on a real temporary directory.
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { describe, it } from "@effect/vitest"
import { assertFalse, assertInstanceOf, assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as TokenStore from "../src/TokenStore.js"

const tokens = (n: number): TokenStore.Tokens => ({
  accessToken: Redacted.make(`access-secret-${n}`),
  refreshToken: Redacted.make(`refresh-secret-${n}`),
  expiresAt: 1_000_000 + n,
  restUrl: "https://x.bitrix24.com/rest/",
  memberId: "member-1",
  userId: 1
})

const plain = (value: Option.Option<TokenStore.Tokens>) =>
  Option.map(value, (t) => ({
    ...t,
    accessToken: Redacted.value(t.accessToken),
    refreshToken: Redacted.value(t.refreshToken)
  }))

/** A fresh temporary directory for the test, removed afterwards. */
const tempDir = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "b24-tokens-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
)

describe("TokenStore.makeMemory", () => {
  it.effect("answers None for an unknown key, the seed, and what was set", () =>
    Effect.gen(function*() {
      const store = TokenStore.makeMemory({ a: tokens(1) })
      strictEqual(Option.isNone(yield* store.get("b")), true)
      deepStrictEqual(plain(yield* store.get("a")), plain(Option.some(tokens(1))))
      yield* store.set("b", tokens(2))
      deepStrictEqual(plain(yield* store.get("b")), plain(Option.some(tokens(2))))
      deepStrictEqual(plain(yield* store.get("a")), plain(Option.some(tokens(1))))
    }))
})

describe("TokenStore.makeFile", () => {
  it.scoped("round-trips tokens by key through a JSON file with mode 0600, atomically", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const path = Path.join(dir, "tokens.json")
      const store = yield* TokenStore.makeFile(path)
      strictEqual(Option.isNone(yield* store.get("portal-a")), true)
      assertFalse(Fs.existsSync(path), "nothing is written before the first set")
      yield* store.set("portal-a", tokens(1))
      yield* store.set("portal-b", tokens(2))
      yield* store.set("portal-a", tokens(3))
      strictEqual(Fs.statSync(path).mode & 0o777, 0o600)
      deepStrictEqual(Fs.readdirSync(dir), ["tokens.json"], "no temporary file is left behind")
      const json = JSON.parse(Fs.readFileSync(path, "utf8"))
      strictEqual(json.version, 1)
      deepStrictEqual(Object.keys(json.tokens).sort(), ["portal-a", "portal-b"])
      strictEqual(json.tokens["portal-a"].refreshToken, "refresh-secret-3")
      // A second store on the same file (another process, a restart) reads what the first wrote.
      const again = yield* TokenStore.makeFile(path)
      deepStrictEqual(plain(yield* again.get("portal-a")), plain(Option.some(tokens(3))))
      deepStrictEqual(plain(yield* again.get("portal-b")), plain(Option.some(tokens(2))))
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scoped("concurrent sets within a process are serialized: none is lost", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const path = Path.join(dir, "tokens.json")
      const store = yield* TokenStore.makeFile(path)
      yield* Effect.forEach(Array.from({ length: 20 }, (_, i) => i), (i) => store.set(`k${i}`, tokens(i)), {
        concurrency: "unbounded"
      })
      const all = JSON.parse(Fs.readFileSync(path, "utf8")).tokens
      strictEqual(Object.keys(all).length, 20)
      deepStrictEqual(Fs.readdirSync(dir), ["tokens.json"])
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scoped("a file that is not a token store is a TokenStoreError naming the key, never the contents", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const path = Path.join(dir, "tokens.json")
      Fs.writeFileSync(path, "{\"refresh\":\"leaked-secret-value\"")
      const store = yield* TokenStore.makeFile(path)
      const error = yield* Effect.flip(store.get("portal-a"))
      assertInstanceOf(error, TokenStore.TokenStoreError)
      strictEqual(error.operation, "get")
      strictEqual(error.key, "portal-a")
      assertTrue(error.message.includes("not a token store"))
      assertFalse(JSON.stringify(error).includes("leaked-secret-value"))
      assertFalse(error.message.includes("leaked-secret-value"))
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scoped("a directory that cannot be written is a TokenStoreError on set", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const store = yield* TokenStore.makeFile(Path.join(dir, "missing", "tokens.json"))
      const error = yield* Effect.flip(store.set("portal-a", tokens(1)))
      assertInstanceOf(error, TokenStore.TokenStoreError)
      strictEqual(error.operation, "set")
      assertFalse(error.message.includes("secret"))
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})
