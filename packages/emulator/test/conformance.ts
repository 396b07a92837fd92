/**
 * Helpers for the conformance suites: an emulator on the manual clock, HTTPS requests that trust a given
 * certificate, and a few extra methods (served through `Emulator.Options.methods`) whose results exercise the
 * envelope rules of wire sheet §1.4.
 */
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Https from "node:https"
import type * as Tls from "node:tls"
import type * as Emulator from "../src/Emulator.js"
import * as Envelope from "../src/Envelope.js"
import type * as Handlers from "../src/Handlers.js"
import { type Answer, postJson, webhook, withEmulator } from "./helpers.js"

/**
 * Methods the conformance suites add to the emulated portal:
 * - `conformance.paged`: a page of three items with `next` 3 and `total` 7 (`Envelope.paged`);
 * - `conformance.phparray`: a plain object with its own `next` and `total` keys, hoisted as PHP does;
 * - `conformance.rawerror`: a result holding `error` and `error_description` (emitted as-is, HTTP 200);
 * - `conformance.echo`: answers its params (`{}` params answer `[]`, as PHP encodes an empty array);
 * - `conformance.scoped`: needs the scope `crm`, which no default credential has.
 */
export const methods: Readonly<Record<string, { readonly handler: Handlers.Handler; readonly scope?: string }>> = {
  "conformance.paged": {
    handler: () => ({
      _tag: "Success",
      result: Envelope.paged([{ ID: "1" }, { ID: "2" }, { ID: "3" }], { next: 3, total: 7 })
    })
  },
  "conformance.phparray": {
    handler: () => ({ _tag: "Success", result: { "0": "a", "1": "b", next: "2", total: 9 } })
  },
  "conformance.rawerror": {
    handler: () => ({ _tag: "Success", result: { error: "SOME_CODE", error_description: "Some text" } })
  },
  "conformance.echo": {
    handler: ({ params }) => ({ _tag: "Success", result: Envelope.phpArray(params) })
  },
  "conformance.scoped": {
    handler: () => ({ _tag: "Success", result: true }),
    scope: "crm"
  }
}

/** Runs `f` against a fresh emulator on the manual clock with the conformance methods, plus any other options. */
export const withPortal = <A, E>(
  f: (emulator: Emulator.Service) => Effect.Effect<A, E>,
  options: Emulator.Options = {}
) => withEmulator(f, { clock: "manual", methods, ...options })

/** POSTs JSON params to a method through user 1's inbound webhook. */
export const call = (emulator: Emulator.Service, method: string, params: unknown = {}): Effect.Effect<Answer> =>
  postJson(`${webhook(emulator)}${method}`, params)

/** POSTs JSON params to a method at `/rest/` with an OAuth access token in `auth`. */
export const callOAuth = (
  emulator: Emulator.Service,
  token: Redacted.Redacted<string> | string,
  method: string,
  params: Record<string, unknown> = {}
): Effect.Effect<Answer> =>
  postJson(`${emulator.url}/rest/${method}`, {
    ...params,
    auth: typeof token === "string" ? token : Redacted.value(token)
  })

/** One HTTPS request trusting `ca` (a PEM certificate), read as text and, when possible, as JSON. */
export const httpsRequest = (
  url: string,
  options: { readonly ca?: string | undefined; readonly method?: string; readonly body?: string } = {}
): Effect.Effect<Answer & { readonly authorized: boolean }, Error> =>
  Effect.async((resume) => {
    const request = Https.request(url, {
      method: options.method ?? "GET",
      ...(options.ca === undefined ? {} : { ca: options.ca }),
      headers: options.body === undefined ? {} : { "content-type": "application/json" }
    }, (response) => {
      const authorized = (response.socket as Tls.TLSSocket).authorized
      const chunks: Array<Buffer> = []
      response.on("data", (chunk: Buffer) => chunks.push(chunk))
      response.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8")
        let body: unknown
        try {
          body = JSON.parse(text)
        } catch {
          body = undefined
        }
        const headers = new Headers()
        for (const [key, value] of Object.entries(response.headers)) {
          if (typeof value === "string") headers.set(key, value)
        }
        resume(Effect.succeed({
          status: response.statusCode ?? 0,
          headers,
          text,
          body,
          authorized
        }))
      })
    })
    request.on("error", (error) => resume(Effect.fail(error)))
    if (options.body !== undefined) request.write(options.body)
    request.end()
  })

/** A request whose connection is dropped: the fetch error, or the answer if one came. */
export const attempt = (url: string, init: RequestInit = {}): Effect.Effect<
  { readonly _tag: "Answered"; readonly status: number; readonly text: string } | {
    readonly _tag: "Dropped"
    readonly message: string
  }
> =>
  Effect.promise(async () => {
    try {
      const response = await fetch(url, init)
      return { _tag: "Answered" as const, status: response.status, text: await response.text() }
    } catch (error) {
      return { _tag: "Dropped" as const, message: String(error) }
    }
  })
