/**
 * Packaging: the bundle (`scripts/bundle.mjs`) runs with plain node exactly as the Dockerfile's last stage says (its
 * WORKDIR layout, CMD and ENV; only PORT is an ephemeral one here), its HEALTHCHECK command passes, it forwards to the
 * bundled emulator serving the compose file's stand-in fixture at the compose file's webhook path, and SIGTERM
 * drains it to exit 0.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Yaml from "yaml"
import { post, request } from "./helpers.js"
import { spawnProxy } from "./proxyProcess.js"

const app = Path.join(import.meta.dirname, "..")

/** The last stage of the Dockerfile: its WORKDIR, ENV (KEY=VALUE pairs), CMD and HEALTHCHECK CMD (JSON forms). */
const dockerfile = () => {
  const text = Fs.readFileSync(Path.join(app, "Dockerfile"), "utf8")
  const stage = text.slice(text.lastIndexOf("\nFROM "))
  const instruction = (name: string) =>
    [...stage.matchAll(new RegExp(`^${name} (.+)$`, "gm"))].map((match) => match[1]!)
  const env: Record<string, string> = {}
  for (const line of instruction("ENV")) {
    for (const pair of line.split(/\s+/)) {
      const at = pair.indexOf("=")
      env[pair.slice(0, at)] = pair.slice(at + 1)
    }
  }
  const health = instruction("HEALTHCHECK")[0]!
  return {
    workdir: instruction("WORKDIR")[0]!,
    env,
    cmd: JSON.parse(instruction("CMD").at(-1)!) as Array<string>,
    healthcheck: JSON.parse(health.slice(health.indexOf("CMD ") + 4)) as Array<string>
  }
}

const bundled = Effect.sync(() => {
  const workdir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "b24-proxy-image-"))
  ChildProcess.execFileSync(process.execPath, [
    Path.join(app, "scripts", "bundle.mjs"),
    "--outdir",
    Path.join(workdir, "dist")
  ])
  return workdir
})

const compose = () => Yaml.parse(Fs.readFileSync(Path.join(app, "compose.yaml"), "utf8"))

describe("the image's command", () => {
  it.scopedLive(
    "the bundle runs with the Dockerfile's CMD and ENV, passes its HEALTHCHECK, serves and drains",
    () =>
      Effect.gen(function*() {
        const image = dockerfile()
        expect(image.workdir).toBe("/app")
        expect(image.cmd[0]).toBe("node")
        const workdir = yield* bundled
        const services = compose().services
        // The stand-in portal: the bundled emulator with the compose file's fixture.
        const emulator = yield* spawnProxy(
          { HOST: "127.0.0.1", PORT: "0" },
          {
            file: process.execPath,
            args: [
              Path.join(workdir, "dist", "b24-emulator.mjs"),
              "--fixture",
              Path.join(app, "deploy", "emulator-fixture.json")
            ]
          },
          /Bitrix24 emulator listening on (https?:\/\/[^\s]+)/
        )
        const webhook = services.proxy.environment.B24_WEBHOOK_URL.replace("http://emulator:8090", emulator.base)
        const proxy = yield* spawnProxy(
          {
            ...image.env,
            PORT: "0",
            B24_WEBHOOK_URL: webhook,
            B24_PROXY_CLIENTS: services.proxy.environment.B24_PROXY_CLIENTS
          },
          { file: image.cmd[0]!, args: image.cmd.slice(1), cwd: workdir }
        )
        const port = new URL(proxy.base).port
        const health = ChildProcess.spawnSync(image.healthcheck[0]!, image.healthcheck.slice(1), {
          env: { ...process.env, ...image.env, PORT: port }
        })
        expect(health.status).toBe(0)
        const [id, secret] = String(services.proxy.environment.B24_PROXY_CLIENTS).split(":")
        const answer = yield* post(
          `http://127.0.0.1:${port}/rest/${id}/${secret}/imopenlines.session.mode.silent.json`,
          { CHAT_ID: 2043, ACTIVATE: "Y" }
        )
        expect([answer.status, answer.json.result]).toEqual([200, true])
        expect((yield* request(`http://127.0.0.1:${port}/readyz`)).status).toBe(200)
        // JSON log lines, as the image's environment asks.
        proxy.child.kill("SIGTERM")
        expect(yield* proxy.exited).toBe(0)
        const logLine = proxy.stdout().split("\n").find((line) => line.startsWith("{"))
        expect(JSON.parse(logLine!).message.outcome).toBe("ok")
      }),
    300_000
  )
})
