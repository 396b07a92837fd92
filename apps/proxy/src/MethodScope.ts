/**
 * A client's method scope: which REST methods it may call through the proxy, as a list of patterns such as
 * `imopenlines.*`, `im.chat.*`, `user.current` or `crm.lead.list`. `*` stands for any run of characters (dots
 * included), and names compare case-insensitively, as the portal's router reads them (wire sheet §1.1). Without a
 * list, a client may call the methods declared in core's `Catalog` ({@link declared}). `batch` is always allowed:
 * each of its commands is checked against the scope instead.
 */
import { Catalog, Wire } from "@bitrix24-effect/core"

/** A compiled scope. */
export interface MethodScope {
  /** The patterns, as configured. */
  readonly patterns: ReadonlyArray<string>
  /** Whether the scope allows a method name (any case, with or without a `.json` / `.xml` suffix). */
  readonly allows: (method: string) => boolean
}

/** The default scope: the name of every method declared in core's `Catalog`. */
export const declared: ReadonlyArray<string> = Catalog.methods.map((method) => method.method)

const patternSyntax = /^[A-Za-z0-9_.*-]{1,200}$/

/** Why a pattern cannot be used, or `undefined` for a good one. */
export const invalid = (pattern: string): string | undefined =>
  patternSyntax.test(pattern)
    ? undefined
    : "a method pattern is 1-200 of A-Z a-z 0-9 . _ - and * (any run of characters)"

const compile = (pattern: string): RegExp =>
  new RegExp(`^${pattern.toLowerCase().split("*").map((part) => part.replace(/[.\-]/g, "\\$&")).join(".*")}$`)

/** Compiles a list of patterns (checked with {@link invalid} beforehand). */
export const make = (patterns: ReadonlyArray<string>): MethodScope => {
  const exact = new Set(patterns.filter((pattern) => !pattern.includes("*")).map((pattern) => pattern.toLowerCase()))
  const wildcards = patterns.filter((pattern) => pattern.includes("*")).map(compile)
  return {
    patterns,
    allows: (method) => {
      const name = Wire.normalizeMethod(method).method
      return exact.has(name) || wildcards.some((wildcard) => wildcard.test(name))
    }
  }
}
