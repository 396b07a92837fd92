/**
 * `b24 login`: authorizes an OAuth application on a portal with the authorization-code grant (wire sheet §4) and
 * answers its first tokens.
 *
 * A listener on the loopback interface (`127.0.0.1`, a free port or `--redirect-port`) waits for the portal's
 * redirect; the address of the portal's authorize page, carrying the application's `client_id`, a random `state` and
 * the listener as `redirect_uri`, is printed for the user to open. The redirect must bring back the same `state`
 * (anything else on the listener is answered 400 and ignored); its `code` (valid 30 seconds) is then exchanged at the
 * OAuth server's token endpoint with the client secret, which goes there and nowhere else.
 *
 * @since 0.1.0
 */
import { OAuth, type TokenStore } from "@bitrix24-effect/http"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Deferred from "effect/Deferred"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Crypto from "node:crypto"
import * as Http from "node:http"
import * as Stdio from "./Stdio.js"

/**
 * The authorization did not complete: the portal refused it (`refused`, with the portal's code), the redirect
 * never came, or the loopback listener could not start.
 *
 * @since 0.1.0
 * @category errors
 */
export class LoginFailed extends Schema.TaggedError<LoginFailed>("b24/LoginFailed")("LoginFailed", {
  code: Schema.String,
  description: Schema.String,
  refused: Schema.Boolean
}) {
  override get message(): string {
    return `login failed: ${this.description}`
  }
}

/**
 * What to authorize: the portal's address, the application, its OAuth server's token endpoint, the listener's port
 * (0: any free one) and how long to wait for the redirect.
 *
 * @since 0.1.0
 * @category models
 */
export interface Request {
  readonly portal: string
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  readonly tokenUrl: string
  readonly port: number
  readonly timeout: Duration.DurationInput
}

const htmlPage = (title: string, text: string, status: number) =>
  HttpServerResponse.text(
    `<!doctype html><meta charset="utf-8"><title>${title}</title><h1>${title}</h1><p>${text}</p>`,
    {
      status,
      contentType: "text/html; charset=utf-8"
    }
  )

/** What the redirect brought: a code, or the portal's refusal. */
type Redirect =
  | { readonly _tag: "Code"; readonly code: Redacted.Redacted<string> }
  | { readonly _tag: "Refused"; readonly code: string; readonly description: string }

/**
 * Runs the authorization: prints the address to open on standard error, waits for the redirect, exchanges the
 * code. Answers the tokens.
 *
 * @since 0.1.0
 * @category login
 */
export const authorize = (
  request: Request
): Effect.Effect<
  TokenStore.Tokens,
  LoginFailed | OAuth.OAuthError,
  HttpClient.HttpClient | Stdio.Stdio | Scope.Scope
> =>
  Effect.gen(function*() {
    const state = Crypto.randomBytes(16).toString("hex")
    const arrived = yield* Deferred.make<Redirect>()
    const server = yield* NodeHttpServer.make(() => Http.createServer(), { port: request.port, host: "127.0.0.1" })
      .pipe(
        Effect.mapError((error) =>
          new LoginFailed({
            code: "LISTENER",
            description: `the loopback listener could not start on port ${request.port} (${error.message})`,
            refused: false
          })
        )
      )
    const port = server.address._tag === "TcpAddress" ? server.address.port : request.port
    const redirectUri = `http://127.0.0.1:${port}/`
    const app = Effect.gen(function*() {
      const incoming = yield* HttpServerRequest.HttpServerRequest
      const query = new URL(incoming.url, redirectUri).searchParams
      if (query.get("state") !== state) {
        return htmlPage("b24", "This request was not expected.", 400)
      }
      const error = query.get("error")
      const code = query.get("code")
      if (error !== null || code === null) {
        yield* Deferred.succeed(arrived, {
          _tag: "Refused",
          code: error ?? "no_code",
          description: query.get("error_description") ?? "the portal sent no authorization code"
        })
        return htmlPage("b24 was not authorized", "You can close this tab.", 200)
      }
      yield* Deferred.succeed(arrived, { _tag: "Code", code: Redacted.make(code) })
      return htmlPage("b24 is authorized", "You can close this tab and return to the terminal.", 200)
    })
    yield* server.serve(app)
    const address = OAuth.authorizeUrl(request.portal, { clientId: request.clientId, state, redirectUri })
    yield* Stdio.errorLine(
      `Open this address in a browser and approve the application:\n  ${address}\n` +
        `Waiting for the portal to redirect to ${redirectUri} ... (Ctrl-C to stop)`
    )
    const redirect = yield* Deferred.await(arrived).pipe(
      Effect.timeoutFail({
        duration: request.timeout,
        onTimeout: () =>
          new LoginFailed({
            code: "TIMEOUT",
            description: "the portal did not redirect back in time; run b24 login again",
            refused: false
          })
      })
    )
    if (redirect._tag === "Refused") {
      return yield* new LoginFailed({
        code: redirect.code,
        description: `the portal refused the authorization (${redirect.code}: ${redirect.description})`,
        refused: true
      })
    }
    return yield* OAuth.exchangeCode(
      { clientId: request.clientId, clientSecret: request.clientSecret, tokenUrl: request.tokenUrl },
      redirect.code
    )
  })
