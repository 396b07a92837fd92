/**
 * Every declared method, derived from the modules that declare them. The CLI builds its subcommands, the proxy its
 * routes, the emulator checks its handler registry and the reference docs are generated from {@link methods}: a
 * method declared with `Method.make` in one of the {@link modules} is all the apps need.
 *
 * @since 0.1.0
 */
import * as Event from "./Event.js"
import * as ImChat from "./ImChat.js"
import * as ImConnector from "./ImConnector.js"
import * as ImMessage from "./ImMessage.js"
import * as ImOpenLines from "./ImOpenLines.js"
import * as ImOpenLinesConfig from "./ImOpenLinesConfig.js"
import * as Method from "./Method.js"

/**
 * The modules holding declarations, by their export name, in catalog order.
 *
 * @since 0.1.0
 * @category catalog
 */
export const modules = { ImOpenLines, ImChat, ImOpenLinesConfig, ImConnector, ImMessage, Event } as const

const declared: ReadonlyArray<readonly [exportName: string, method: Method.Any]> = Object.entries(modules).flatMap((
  [moduleName, module]
) =>
  Object.entries(module)
    .flatMap(([name, value]) => Method.isMethod(value) ? [[`${moduleName}.${name}`, value] as const] : [])
    .sort(([, a], [, b]) => a.method < b.method ? -1 : a.method > b.method ? 1 : 0)
)

/**
 * All declared methods: each module's declarations (`Method.isMethod`) in the order of {@link modules}, and within a
 * module by REST method name. The order is stable: adding a method puts it in its place by name.
 *
 * @since 0.1.0
 * @category catalog
 */
export const methods: ReadonlyArray<Method.Any> = declared.map(([, method]) => method)

const byName = new Map(methods.map((method) => [method.method.toLowerCase(), method]))
const exportNames = new Map(declared.map(([name, method]) => [method, name]))

/**
 * Finds a declared method by its REST name, case-insensitively as the portal does (wire sheet §1.1).
 *
 * @since 0.1.0
 * @category catalog
 */
export const find = (name: string): Method.Any | undefined => byName.get(name.toLowerCase())

/**
 * The library path of a declared method, e.g. `ImOpenLines.sessionModeSilent`; the REST name for a method that is not
 * in the catalog.
 *
 * @since 0.1.0
 * @category catalog
 */
export const exportName = (method: Method.Any): string => exportNames.get(method) ?? method.method
