/**
 * The journal of every call the emulated portal received, in order.
 *
 * @since 0.1.0
 */

/**
 * One call as the portal saw it. `params` have credentials removed; `executed` says whether the method's handler ran
 * (so a test can prove that nothing reached the portal, or that a write happened exactly once).
 *
 * @since 0.1.0
 * @category models
 */
export interface Entry {
  readonly seq: number
  /** When the call arrived, epoch milliseconds on the portal's clock. */
  readonly at: number
  readonly method: string
  readonly params: Readonly<Record<string, unknown>>
  /** `webhook:<userId>`, `oauth:<userId>` or `none`. */
  readonly auth: string
  readonly status: number
  /** The error code answered, or `undefined` on success. */
  readonly error: string | undefined
  readonly executed: boolean
}

/**
 * The journal: appended to by the server, read by tests and the control API.
 *
 * @since 0.1.0
 * @category models
 */
export type Journal = Array<Entry>
