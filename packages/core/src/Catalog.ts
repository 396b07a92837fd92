/**
 * Every declared method, in one list. The CLI builds its subcommands, the proxy its routes, the emulator checks its
 * handler registry and the reference docs are generated from this list: adding a method here is all the apps need.
 *
 * @since 0.1.0
 */
import * as ImChat from "./ImChat.js"
import * as ImOpenLines from "./ImOpenLines.js"
import type * as Method from "./Method.js"

/**
 * All declared methods.
 *
 * @since 0.1.0
 * @category catalog
 */
export const methods: ReadonlyArray<Method.Any> = [
  ImOpenLines.sessionModeSilent,
  ImOpenLines.sessionModePin,
  ImOpenLines.sessionModeUnpin,
  ImOpenLines.sessionModePinAll,
  ImOpenLines.sessionModeUnpinAll,
  ImOpenLines.sessionStart,
  ImOpenLines.sessionOpen,
  ImOpenLines.sessionJoin,
  ImOpenLines.sessionIntercept,
  ImOpenLines.sessionHistoryGet,
  ImOpenLines.sessionHeadVote,
  ImOpenLines.messageSessionStart,
  ImOpenLines.crmLeadCreate,
  ImOpenLines.dialogGet,
  ImOpenLines.operatorAnswer,
  ImOpenLines.operatorSkip,
  ImOpenLines.operatorSpam,
  ImOpenLines.operatorFinish,
  ImOpenLines.operatorAnotherFinish,
  ImOpenLines.operatorTransfer,
  ImChat.mute
]

/**
 * The modules holding declarations, by their export name (for generated docs and examples).
 *
 * @since 0.1.0
 * @category catalog
 */
export const modules = { ImOpenLines, ImChat } as const

const byName = new Map(methods.map((method) => [method.method.toLowerCase(), method]))

/**
 * Finds a declared method by its REST name, case-insensitively as the portal does (wire sheet §1.1).
 *
 * @since 0.1.0
 * @category catalog
 */
export const find = (name: string): Method.Any | undefined => byName.get(name.toLowerCase())

/**
 * The library path of a declared method, e.g. `ImOpenLines.sessionModeSilent`.
 *
 * @since 0.1.0
 * @category catalog
 */
export const exportName = (method: Method.Any): string => {
  for (const [moduleName, module] of Object.entries(modules)) {
    for (const [name, value] of Object.entries(module)) {
      if (value === method) return `${moduleName}.${name}`
    }
  }
  return method.method
}
