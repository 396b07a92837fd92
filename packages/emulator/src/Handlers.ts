/**
 * The emulated methods: the registry the server looks handlers up in, keyed by the core declaration each handler
 * implements (`Catalog.find(name)` gives the declaration of a method name, case-insensitively), and the scope each
 * method needs (the declaration's).
 *
 * Each handler reads the raw wire params the way the portal's PHP does (literal `"Y"` comparisons, `intval`, `empty`,
 * loose `!=`, per-method key case), checks rights, changes the portal state and answers a result or a documented
 * error. The method facts (scope, codes, statuses, texts) come from the core declarations; the semantics from
 * docs/bitrix24-wire.md §6 and §7. The handlers live in `handlers/`: `Sessions` (the session family,
 * `message.session.start`, `crm.lead.create`), `Dialogs` (`session.history.get`, `dialog.get`), `Operators`
 * (`imopenlines.operator.*`) and `Chats` (`im.chat.mute`), on the shared contract and checks of `handlers/Common`.
 *
 * @since 0.1.0
 */
import { Catalog, type Method } from "@bitrix24-effect/core"
import * as Chats from "./handlers/Chats.js"
import type * as Common from "./handlers/Common.js"
import * as Connectors from "./handlers/Connectors.js"
import * as Dialogs from "./handlers/Dialogs.js"
import * as Events from "./handlers/Events.js"
import * as Lines from "./handlers/Lines.js"
import * as Messages from "./handlers/Messages.js"
import * as Operators from "./handlers/Operators.js"
import * as Sessions from "./handlers/Sessions.js"

/**
 * What a handler answers: a result, or a wire error.
 *
 * @since 0.1.0
 * @category models
 */
export type Outcome = Common.Outcome

/**
 * One call as a handler sees it: the portal, the authenticated user and the merged wire params.
 *
 * @since 0.1.0
 * @category models
 */
export type CallContext = Common.CallContext

/** @since 0.1.0 @category models */
export type Handler = Common.Handler

/**
 * A served method: its handler and the scope a caller needs (none when absent). Also the form of the stubs of
 * `Emulator.Options.methods`, served by name besides the registry.
 *
 * @since 0.1.0
 * @category models
 */
export interface Entry {
  readonly handler: Handler
  readonly scope?: string | undefined
}

export {
  /**
   * Fails with a documented error, optionally with another description.
   *
   * @since 0.1.0
   * @category constructors
   */
  fail,
  /**
   * Answers a result.
   *
   * @since 0.1.0
   * @category constructors
   */
  succeed
} from "./handlers/Common.js"

/**
 * The handlers, keyed by the declaration they implement.
 *
 * @since 0.1.0
 * @category handlers
 */
export const handlers: ReadonlyMap<Method.Any, Handler> = new Map([
  ...Sessions.handlers,
  ...Dialogs.handlers,
  ...Operators.handlers,
  ...Chats.handlers,
  ...Messages.handlers,
  ...Lines.handlers,
  ...Connectors.handlers,
  ...Events.handlers
])

// `_global` (the `event.*` methods) is every application's scope: nothing to check (docs/bitrix24-events.md §1).
const entries = new Map<Method.Any, Entry>(
  [...handlers].map((
    [method, handler]
  ) => [method, { handler, scope: method.scope === "_global" ? undefined : method.scope }])
)

/**
 * The handler and scope of a method name, case-insensitively as the portal's router reads it (wire sheet §1.1): the
 * declaration's, through `Catalog.find`; `undefined` for a method without one.
 *
 * @since 0.1.0
 * @category handlers
 */
export const find = (name: string): Entry | undefined => {
  const method = Catalog.find(name)
  return method === undefined ? undefined : entries.get(method)
}
