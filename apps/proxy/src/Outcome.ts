/**
 * What the proxy answers when the upstream call did not succeed: one table, the same for idempotent and
 * non-idempotent methods except where replay safety demands otherwise (an ambiguous failure is replayed only for an
 * idempotent method, by the transport's `RetryPolicy`, before it gets here; a non-idempotent one arrives at once and
 * says that the call may have run). The README's outcome table is this module.
 *
 * | Upstream outcome | Client's status | Envelope |
 * | --- | --- | --- |
 * | the portal's error envelope (method error, `insufficient_scope`, `ERROR_METHOD_NOT_FOUND`, 503 `QUERY_LIMIT_EXCEEDED` after the retries, a 5xx) | the portal's | the portal's, as sent |
 * | the portal refused the proxy's own credentials (401: `NO_AUTH_FOUND`, `expired_token` after a refresh, `invalid_grant`, ...) | 502 | `ERROR_UNEXPECTED_ANSWER` naming the code |
 * | an answer that is not a Bitrix24 envelope (a gateway's HTML page, truncated JSON) | 502 | `ERROR_UNEXPECTED_ANSWER` |
 * | the connection dropped, or the portal could not be reached | 502 | `ERROR_UNEXPECTED_ANSWER` |
 * | no answer within the portal's `timeout` | 504 | `ERROR_UNEXPECTED_ANSWER` |
 *
 * A 401 from upstream is never passed on as a 401: the client's own credentials were good (the proxy checked them),
 * and an SDK meeting `expired_token` or `invalid_token` would try to refresh credentials that are not the problem.
 * When the method is not idempotent and the failure left its outcome unknown (`RetryPolicy.OutcomeUnknown`), the
 * status and code are the same; for a 5xx envelope it is the portal's, and otherwise the description ends with
 * "the call may have run on the portal".
 */
import { type Bitrix24Client, Envelope, PortalError } from "@bitrix24-effect/core"
import { RetryPolicy } from "@bitrix24-effect/http"

/** An answer before it is written: status, envelope, and the portal's headers to pass on. */
export interface Reply {
  readonly status: number
  readonly body: Readonly<Record<string, unknown>>
  readonly headers: Readonly<Record<string, string>>
}

const mayHaveRun = "; the call may have run on the portal: it was not replayed because the method is not idempotent"

const unexpected = (status: number, description: string): Reply => ({
  status,
  body: Envelope.error(PortalError.UnexpectedAnswer, { description }).body,
  headers: {}
})

/**
 * The reply to an upstream failure of `method` (see the module's table). `documented` gives the status of a code the
 * portal sent without one (a command inside a `batch`).
 */
export const fromFailure = (
  method: string,
  failure: Bitrix24Client.WireFailure | PortalError.TransportError,
  documented: (wire: PortalError.WireError) => number
): Reply => {
  if (failure._tag === "WireFailure") {
    const status = failure.status ?? documented(failure)
    if (status === 401) {
      return unexpected(
        502,
        `${PortalError.UnexpectedAnswer.spec.description}: the portal refused the proxy's credentials ` +
          `(${failure.code || "an empty code"})`
      )
    }
    return {
      status,
      body: failure.envelope ?? { error: failure.code, error_description: failure.description },
      headers: failure.headers ?? {}
    }
  }
  const unknown = RetryPolicy.isOutcomeUnknown(failure)
  if (unknown && failure.wire !== undefined && failure.status !== undefined) {
    return {
      status: failure.status,
      body: { error: failure.wire.code, error_description: failure.wire.description },
      headers: {}
    }
  }
  const what = failure.reason === "InvalidBody" && failure.status !== undefined
    ? `the portal answered HTTP ${failure.status} with a body that is not a Bitrix24 envelope`
    : failure.description
  return unexpected(
    failure.reason === "Timeout" ? 504 : 502,
    `${PortalError.UnexpectedAnswer.spec.description}: ${what} (${method})${unknown ? mayHaveRun : ""}`
  )
}
