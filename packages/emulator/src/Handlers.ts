/**
 * The emulated methods: the registry the server looks handlers up in, keyed by lowercased method name, and the scope
 * each method needs (from its core declaration).
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
import { Catalog } from "@bitrix24-effect/core"
import * as Chats from "./handlers/Chats.js"
import type * as Common from "./handlers/Common.js"
import * as Dialogs from "./handlers/Dialogs.js"
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

export {
  /**
   * Fails with a documented error, optionally with another description.
   *
   * @since 0.1.0
   * @category constructors
   */
  fail,
  /**
   * PHP `intval`.
   *
   * @since 0.1.0
   * @category php
   */
  phpInt,
  /**
   * PHP truthiness.
   *
   * @since 0.1.0
   * @category php
   */
  phpTruthy
} from "./handlers/Common.js"

/**
 * The handlers, keyed by lowercased method name.
 *
 * @since 0.1.0
 * @category handlers
 */
export const handlers: ReadonlyMap<string, Handler> = new Map([
  ...Sessions.handlers,
  ...Dialogs.handlers,
  ...Operators.handlers,
  ...Chats.handlers
])

/**
 * The scope a method needs, from its core declaration.
 *
 * @since 0.1.0
 * @category handlers
 */
export const scopeOf = (method: string): string | undefined => Catalog.find(method)?.scope
