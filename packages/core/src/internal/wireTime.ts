/**
 * A synchronous check of a `time` block (`Wire.Time`, wire sheet §1.4, §3.2) for the hot path of `BatchProtocol`,
 * where every command of a `batch` answer carries one: a plain object (as `JSON.parse` makes it) is checked field by
 * field without the schema interpreter; anything else is left to `Schema.is(Wire.Time)`. It answers what the schema
 * answers (a property test holds the two together).
 *
 * @since 0.1.0
 * @internal
 */
import * as Schema from "effect/Schema"
import * as Wire from "../Wire.js"

const bySchema = Schema.is(Wire.Time)

const hasOwn = (value: object, key: string) => Object.prototype.hasOwnProperty.call(value, key)

/** The fields the schema requires, with their `typeof`. */
const required = [
  ["start", "number"],
  ["finish", "number"],
  ["duration", "number"],
  ["processing", "number"],
  ["date_start", "string"],
  ["date_finish", "string"]
] as const

/** The optional fields: absent, `undefined`, or a number. */
const optional = ["operating_reset_at", "operating"] as const

/**
 * Is `value` a `Wire.Time`? Extra keys are allowed, as the schema allows them.
 *
 * @internal
 */
export const isTime = (value: unknown): value is Wire.Time => {
  if (typeof value !== "object" || value === null || Object.getPrototypeOf(value) !== Object.prototype) {
    return bySchema(value)
  }
  const time = value as Readonly<Record<string, unknown>>
  for (const [key, type] of required) {
    if (!hasOwn(time, key) || typeof time[key] !== type) return false
  }
  for (const key of optional) {
    if (hasOwn(time, key) && time[key] !== undefined && typeof time[key] !== "number") return false
  }
  return true
}
