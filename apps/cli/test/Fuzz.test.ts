/**
 * No input crashes `b24`: 1,200 argument vectors generated with fast-check (command paths, their options, global
 * options, values good and bad, stray words, control characters) run against the bundle: through its exported entry
 * point in this process, and a sample as real processes of the binary. Each must exit 0, 2, 3 or 4, within a time
 * bound, without a stack trace or an "unexpected failure".
 *
 * The environment: a fresh home, no portal configured unless the words choose one (`--emulator`, `--webhook`), no
 * retries, and an empty standard input; secrets for `login` can only come from that input, so a login never
 * reaches the point of waiting for a browser. A vector that would start `b24 events listen` for real (its words read
 * well and name a port it could take) is left out: a listener runs until interrupted, by design (its own tests are in
 * Events.test.ts); the vectors with mistakes in its words stay in.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import fc from "fast-check"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Url from "node:url"
import * as Argv from "../src/Argv.js"
import * as Cli from "../src/Cli.js"
import * as Tree from "../src/Tree.js"
import { bundle } from "./helpers.js"

interface Bundle {
  readonly run: (
    words: ReadonlyArray<string>,
    options: { readonly env: Readonly<Record<string, string>>; readonly stdin: string }
  ) => Promise<{ readonly code: number; readonly stdout: string; readonly stderr: string }>
}

const paths = Tree.walk(Cli.tree.node).map(({ path }) => path)
const optionNames = [
  ...new Set(Tree.walk(Cli.tree.node).flatMap(({ node }) => node.options.map((option) => `--${option.name}`)))
]

const scratch = Fs.mkdtempSync(Path.join(Os.tmpdir(), "b24-fuzz-"))
const inputFile = Path.join(scratch, "lines.ndjson")
Fs.writeFileSync(inputFile, `{"CHAT_ID":1489}\n{"CHAT_ID":2043}\nnot json\n{"DIALOG_ID":"chat1489"}\n`)
const csvFile = Path.join(scratch, "lines.csv")
Fs.writeFileSync(csvFile, `CHAT_ID,MUTE\n1489,Y\n"unclosed,N\n`)

const values = [
  "1489",
  "2043",
  "0",
  "-5",
  "abc",
  "",
  "9".repeat(30),
  "chat1489",
  "livechat|1|2043|5",
  "json",
  "table",
  "ndjson",
  "xml",
  "bash",
  "zsh",
  "-",
  "http://[::1/rest/1/x/",
  "http://127.0.0.1:1/rest/1/s3cr3t/",
  "https://example.bitrix24.com",
  "not a url",
  inputFile,
  csvFile,
  scratch,
  "/nonexistent/file",
  `${scratch}/state.ndjson`,
  "im.chat.mute",
  "crm.deal.add",
  "../../oauth/token",
  "CHAT_ID=1489",
  "fields[TITLE]=x",
  "MUTE=Y",
  "=",
  "work",
  "local",
  "../x",
  "[{\"user\":{\"id\":\"a\"},\"message\":{\"id\":\"1\",\"text\":\"hi\"},\"chat\":{\"id\":\"c\"}}]",
  "{\"minTimeout\":1}",
  "[{",
  "ONAPPTEST",
  "http://127.0.0.1:9/handler",
  "offline",
  "65536"
]

const word = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...optionNames, "--json", "--emulator", "--dry-run", "--", "-h", "-x") },
  { weight: 4, arbitrary: fc.constantFrom(...values) },
  { weight: 1, arbitrary: fc.constantFrom(...optionNames).map((name) => `${name}=`) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom(...optionNames), fc.constantFrom(...values)).map(([n, v]) => `${n}=${v}`)
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 6 }) }
)

/** A command path (often valid, sometimes cut short), then words, sometimes with a global option put first. */
const argv = fc.tuple(
  fc.constantFrom(...paths),
  fc.array(word, { maxLength: 8 }),
  fc.option(
    fc.constantFrom(["--emulator"], ["--json"], ["--webhook", "http://127.0.0.1:1/rest/1/x/"], ["--profile", "p"])
  )
).map(([path, words, first]) => [...(first ?? []), ...path, ...words])

/**
 * Calls that reach a portal, the emulated one or one that cannot be reached: a leaf with `--chat-id`, a chat that
 * exists or not, maybe more words.
 */
const chatLeaves = Tree.leaves(Cli.tree.node).filter(({ node }) => node.options.some((o) => o.name === "chat-id"))
const call = fc.tuple(
  fc.constantFrom(["--emulator"], ["--emulator"], ["--webhook", "http://127.0.0.1:1/rest/1/x/"]),
  fc.constantFrom(...chatLeaves.map(({ path }) => path)),
  fc.constantFrom("1489", "2043", "2024", "494", "99999"),
  fc.array(word, { maxLength: 3 })
).map(([portal, path, chat, words]) => [...portal, ...path, "--chat-id", chat, ...words])

/** Whether the words start a listener: `b24 events listen`, read without a mistake, with a port from 0 to 65535. */
const serves = (words: ReadonlyArray<string>): boolean => {
  const request = Argv.read(Cli.tree.node, words)
  if (request._tag !== "Run" || request.path.join(" ") !== "events listen") return false
  const port = Number(request.argv[request.argv.indexOf("--port") + 1])
  return Number.isInteger(port) && port >= 0 && port <= 65535
}

const vectors = fc.sample(fc.oneof({ weight: 4, arbitrary: argv }, { weight: 1, arbitrary: call }), {
  numRuns: 1_400,
  seed: 20_260_412
}).filter((words) => !serves(words)).slice(0, 1_200)

const stackTrace = /^\s+at .+:\d+:\d+\)?$/m

const check = (
  words: ReadonlyArray<string>,
  run: { readonly code: number; readonly stdout: string; readonly stderr: string }
) => {
  const output = run.stdout + run.stderr
  expect({ words, code: [0, 2, 3, 4].includes(run.code) ? "ok" : run.code }).toEqual({ words, code: "ok" })
  expect({ words, trace: stackTrace.test(output) }).toEqual({ words, trace: false })
  expect({ words, unexpected: output.includes("unexpected failure") }).toEqual({ words, unexpected: false })
  expect(output).not.toContain("s3cr3t")
}

const environment = (home: string): Record<string, string> => ({
  HOME: home,
  XDG_CONFIG_HOME: `${home}/config`,
  XDG_STATE_HOME: `${home}/state`,
  B24_RETRY_RETRIES: "0",
  B24_BUCKET: "off"
})

const bound = <A>(promise: Promise<A>, ms: number, words: ReadonlyArray<string>) =>
  Promise.race([
    promise,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`no exit within ${ms} ms: ${JSON.stringify(words)}`)), ms)
    )
  ])

describe("no input crashes b24 (the bundle)", () => {
  it.live("1,200 generated argument vectors through the bundle's entry point", () =>
    Effect.promise(async () => {
      // The bundle's code cache (see Loader) goes to a scratch directory, not this machine's home.
      process.env.XDG_CACHE_HOME = Path.join(scratch, "cache")
      const imported = await import(Url.pathToFileURL(bundle).href) as Bundle & { readonly default?: Bundle }
      const loaded: Bundle = imported.default ?? imported
      const home = Fs.mkdtempSync(Path.join(scratch, "home-"))
      expect(vectors.length).toBe(1_200)
      // Every command group is among them, and `events listen` with mistakes in its words.
      for (const { name } of Cli.tree.node.children) {
        expect({ name, found: vectors.some((v) => v.includes(name)) })
          .toEqual({ name, found: true })
      }
      expect(vectors.some((v) => v.includes("listen"))).toBe(true)
      const codes = new Map<number, number>()
      for (const words of vectors) {
        const run = await bound(loaded.run(words, { env: environment(home), stdin: "" }), 10_000, words)
        check(words, run)
        codes.set(run.code, (codes.get(run.code) ?? 0) + 1)
      }
      // The vectors reach every kind of ending, not only usage errors.
      expect([...codes.keys()].sort()).toEqual([0, 2, 3, 4])
    }), 240_000)

  it.live("a sample of them through the real binary", () =>
    Effect.promise(async () => {
      const home = Fs.mkdtempSync(Path.join(scratch, "home-"))
      const sample = vectors.filter((_, index) => index % 75 === 0)
      const run = (words: ReadonlyArray<string>) =>
        new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
          ChildProcess.execFile(
            process.execPath,
            [bundle, ...words],
            { env: { PATH: process.env.PATH ?? "", ...environment(home) }, timeout: 15_000 },
            (error, stdout, stderr) =>
              resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, stdout, stderr })
          ).stdin?.on("error", () => undefined).end()
        })
      for (let start = 0; start < sample.length; start += 4) {
        const batch = sample.slice(start, start + 4)
        const runs = await Promise.all(batch.map(run))
        runs.forEach((result, index) => check(batch[index]!, result))
      }
    }), 120_000)
})
