/**
 * The admin API over real HTTP: its endpoints behind the admin token (clients without secrets, portals with their
 * queue, configuration without secrets), its OpenAPI document generated from the declaration, and its docs page
 * rendered by headless Chromium (Debian's `chromium`, driven by playwright-core) with every endpoint on it.
 */
import { Emulator } from "@bitrix24-effect/emulator"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { chromium } from "playwright-core"
import { client, config, portal, request, start, webhookOf } from "./helpers.js"

const token = "admin-token-0123456789"
const bearer = { authorization: `Bearer ${token}` }

describe("admin API", () => {
  it.scopedLive("clients, portals and configuration behind the token; never a secret", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const { base } = yield* start(
        config([portal("main", webhookOf(emulator), { limits: { bucket: { size: 20, drainPerSecond: 4 } } })], [
          client("1", "admin-client-secret-1", "main", { limit: "standard", weight: 3 }),
          client("2", "admin-client-secret-2", "main", { methods: ["im.*"] })
        ]),
        { adminToken: token }
      )
      expect((yield* request(`${base}/_admin/clients`)).status).toBe(401)
      expect((yield* request(`${base}/_admin/clients`, { headers: { authorization: "Bearer nope" } })).status).toBe(401)
      const clients = yield* request(`${base}/_admin/clients`, { headers: bearer })
      expect(clients.status).toBe(200)
      expect(clients.json).toEqual([
        { id: "1", portal: "main", methods: clients.json[0].methods, limit: "standard", weight: 3, queued: 0 },
        { id: "2", portal: "main", methods: ["im.*"], limit: "off", weight: 1, queued: 0 }
      ])
      const portals = yield* request(`${base}/_admin/portals`, { headers: bearer })
      expect(portals.json).toEqual([{
        name: "main",
        kind: "webhook",
        origin: emulator.url,
        bucket: "20/4",
        queue: { inflight: 100, active: 0, depth: 0, maxQueue: 2000, maxWaitMs: 20000, byClient: {} }
      }])
      const configuration = yield* request(`${base}/_admin/config`, { headers: bearer })
      expect(configuration.json).toMatchObject({
        source: "test",
        clients: 2,
        sharedState: "memory",
        limits: { maxBodyBytes: 1048576, drainSeconds: 30 }
      })
      const code = new URL(Redacted.value(emulator.webhookUrl)).pathname.split("/")[3]!
      for (const text of [clients.text, portals.text, configuration.text]) {
        for (const secret of ["admin-client-secret-1", "admin-client-secret-2", code, token]) {
          expect(text).not.toContain(secret)
        }
      }
      const openapi = yield* request(`${base}/_admin/openapi.json`)
      expect(Object.keys(openapi.json.paths).sort()).toEqual(["/_admin/clients", "/_admin/config", "/_admin/portals"])
      expect(openapi.json.components.securitySchemes).toBeDefined()
    }).pipe(Effect.provide(Emulator.layer())))

  it.scopedLive("without B24_PROXY_ADMIN_TOKEN there is no admin API", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const { base } = yield* start(
        config([portal("main", webhookOf(emulator))], [client("1", "no-admin-secret", "main")])
      )
      expect((yield* request(`${base}/_admin/clients`, { headers: bearer })).status).toBe(404)
      expect((yield* request(`${base}/_admin/docs`)).status).toBe(404)
    }).pipe(Effect.provide(Emulator.layer())))

  it.scopedLive("headless Chromium renders the docs page with every endpoint", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const { base } = yield* start(
        config([portal("main", webhookOf(emulator))], [client("1", "docs-client-secret", "main")]),
        { adminToken: token }
      )
      const browser = yield* Effect.acquireRelease(
        Effect.promise(() =>
          chromium.launch({
            executablePath: "/usr/bin/chromium",
            args: [
              "--headless",
              "--no-sandbox",
              "--disable-gpu",
              "--disable-quic",
              "--no-first-run",
              "--disable-background-networking",
              "--disable-component-update",
              "--disable-sync"
            ]
          })
        ),
        (browser) => Effect.promise(() => browser.close())
      )
      const text = yield* Effect.promise(async () => {
        const page = await browser.newPage()
        await page.goto(`${base}/_admin/docs`)
        // Scalar renders the API from the OpenAPI document embedded in the page, after its script ran: the sidebar
        // first, then the title and the operations.
        for (const text of ["/_admin/portals", "b24-proxy admin API", "Operations"]) {
          await page.getByText(text).first().waitFor({ timeout: 60_000 })
        }
        return page.locator("body").innerText()
      })
      expect(text).toContain("b24-proxy admin API")
      expect(text).toContain("Operations")
      for (const path of ["/_admin/clients", "/_admin/portals", "/_admin/config"]) expect(text).toContain(path)
    }).pipe(Effect.provide(Emulator.layer())), 120_000)
})
