import { describe, it } from "@effect/vitest"
import { deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Php from "../src/Php.js"

describe("Php.intval (PHP 8 intval, as the portal's handlers read IDs)", () => {
  it("truncates numbers toward zero; NaN and infinities are 0", () => {
    strictEqual(Php.intval(2043), 2043)
    strictEqual(Php.intval(2.9), 2)
    strictEqual(Php.intval(-2.9), -2)
    strictEqual(Object.is(Php.intval(-0.5), 0), true)
    strictEqual(Php.intval(Number.NaN), 0)
    strictEqual(Php.intval(Number.POSITIVE_INFINITY), 0)
  })

  it("reads a string's leading number after white space", () => {
    strictEqual(Php.intval("2043"), 2043)
    strictEqual(Php.intval(" \t\n12abc"), 12)
    strictEqual(Php.intval("+7"), 7)
    strictEqual(Php.intval("-3"), -3)
    strictEqual(Php.intval("2.9"), 2)
    strictEqual(Php.intval("1e3"), 1000)
    strictEqual(Php.intval(".5"), 0)
    strictEqual(Php.intval("abc"), 0)
    strictEqual(Php.intval("0x1A"), 0)
    strictEqual(Php.intval(""), 0)
  })

  it("reads arrays as 1 when they have elements and 0 when empty, lists and maps alike", () => {
    strictEqual(Php.intval([]), 0)
    strictEqual(Php.intval([0]), 1)
    strictEqual(Php.intval({}), 0)
    strictEqual(Php.intval({ a: "5" }), 1)
  })

  it("reads true as 1; false, null and undefined as 0", () => {
    strictEqual(Php.intval(true), 1)
    strictEqual(Php.intval(false), 0)
    strictEqual(Php.intval(null), 0)
    strictEqual(Php.intval(undefined), 0)
  })
})

describe("Php.truthy and Php.empty (wire sheet §1.3: batch.halt)", () => {
  it("is false for null, false, 0, 0.0, \"\", \"0\" and empty arrays", () => {
    for (const value of [undefined, null, false, 0, -0, 0.0, "", "0", [], {}]) {
      strictEqual(Php.truthy(value), false, JSON.stringify(value))
      strictEqual(Php.empty(value), true, JSON.stringify(value))
    }
  })

  it("is true for anything else, including \"false\", \"0.0\" and \" \"", () => {
    for (const value of [true, 1, -1, 0.1, "false", "0.0", " ", "N", [0], { a: 0 }]) {
      strictEqual(Php.truthy(value), true, JSON.stringify(value))
      strictEqual(Php.empty(value), false, JSON.stringify(value))
    }
  })
})

describe("Php.jsonArray (json_encode of a PHP array)", () => {
  it("is [] when empty, a list for keys 0..n-1 in order, an object otherwise", () => {
    deepStrictEqual(Php.jsonArray({}), [])
    deepStrictEqual(Php.jsonArray({ 0: "a", 1: "b" }), ["a", "b"])
    deepStrictEqual(Php.jsonArray({ 0: "a", 2: "c" }), { 0: "a", 2: "c" })
    deepStrictEqual(Php.jsonArray({ a: 1 }), { a: 1 })
  })
})
