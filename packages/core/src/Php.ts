/**
 * PHP's value rules, as the portal applies them to raw params: `intval`, truthiness (`if ($x)`) and `empty`. The
 * portal's handlers read params with these rules rather than with a schema (wire sheet §1.3: `batch.halt` is PHP
 * truthiness; §6.0: `intval($params['CHAT_ID'])`), so the emulator reads them the same way.
 *
 * Values are the JSON-like trees a request carries: strings from a form or query, numbers, booleans and `null` from a
 * JSON body, arrays for lists and records for maps (PHP has one array type for both).
 *
 * @since 0.1.0
 */

/** A leading numeric string, as PHP 8 reads one: white space, a sign, digits with a fraction, an exponent. */
const leadingNumber = /^[\t\n\v\f\r ]*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/

/**
 * PHP 8 `intval($value)`: numbers truncated toward zero (`NaN` and infinities give 0), `true` 1, a string's leading
 * number after optional white space, truncated (`" 12abc"` -> 12, `"2.9"` -> 2, `"1e3"` -> 1000, `"abc"` -> 0), an
 * array (a list or a map) 1 when it has elements and 0 when empty; anything else 0.
 *
 * @since 0.1.0
 * @category conversions
 */
export const intval = (value: unknown): number => {
  if (typeof value === "number") return truncate(value)
  if (typeof value === "string") {
    const match = leadingNumber.exec(value)
    return match === null ? 0 : truncate(Number(match[0]))
  }
  if (typeof value === "boolean") return value ? 1 : 0
  if (Array.isArray(value)) return value.length > 0 ? 1 : 0
  if (value !== null && typeof value === "object") return hasKeys(value) ? 1 : 0
  return 0
}

/**
 * PHP truthiness (`if ($value)`): `null`, `false`, `0`, `0.0`, `""`, `"0"` and an empty array are false; everything
 * else is true, including the strings `"false"` and `"0.0"` (wire sheet §1.3: `halt=false` halts).
 *
 * @since 0.1.0
 * @category conversions
 */
export const truthy = (value: unknown): boolean => {
  if (value === undefined || value === null || value === false) return false
  if (typeof value === "number") return value !== 0
  if (value === "" || value === "0") return false
  if (Array.isArray(value)) return value.length > 0
  if (typeof value === "object") return hasKeys(value)
  return true
}

/**
 * PHP `empty($value)`: unset, or not {@link truthy}.
 *
 * @since 0.1.0
 * @category conversions
 */
export const empty = (value: unknown): boolean => !truthy(value)

/**
 * A PHP associative array as `json_encode` writes it: a JSON list when its keys are exactly `0..n-1` in order, an
 * object otherwise, and `[]` when empty (wire sheet §1.4: the portal never sends `{}`). The portal's answers follow
 * it wherever it builds a map, such as the five maps of a `batch` answer (§2).
 *
 * @since 0.1.0
 * @category conversions
 */
export const jsonArray = (entries: Readonly<Record<string, unknown>>): unknown => {
  const keys = Object.keys(entries)
  if (keys.length === 0) return []
  for (let i = 0; i < keys.length; i++) if (keys[i] !== String(i)) return entries
  return keys.map((key) => entries[key])
}

/** `-0` is read as 0: `intval` answers PHP integers. */
const truncate = (n: number): number => Number.isFinite(n) ? Math.trunc(n) + 0 : 0

const hasKeys = (value: object): boolean => {
  for (const _ in value) return true
  return false
}
