import { describe, it } from "@effect/vitest"
import { assertTrue, deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Either from "effect/Either"
import * as BatchProtocol from "../src/BatchProtocol.js"
import * as PortalError from "../src/PortalError.js"

describe("BatchProtocol limits (wire sheet §2)", () => {
  it("runs at most 50 commands and refuses batch, download and upload inside a batch", () => {
    strictEqual(BatchProtocol.maxCommands, 50)
    deepStrictEqual([...BatchProtocol.notAllowed].sort(), ["batch", "download", "upload"])
  })

  it("has the portal's texts for both refusals in the PortalError specs", () => {
    strictEqual(PortalError.BatchLengthExceeded.spec.code, "ERROR_BATCH_LENGTH_EXCEEDED")
    strictEqual(PortalError.BatchLengthExceeded.spec.description, "Max batch length exceeded")
    strictEqual(PortalError.BatchMethodNotAllowed.spec.code, "ERROR_BATCH_METHOD_NOT_ALLOWED")
    strictEqual(PortalError.BatchMethodNotAllowed.spec.description, "Method is not allowed for batch usage")
  })

  it("refuses decimal keys, which the portal would answer as a list", () => {
    const refused = BatchProtocol.invalidKey("0")
    strictEqual(refused?._tag, "InvalidParams")
    strictEqual(refused?.field, "cmd.0")
    for (const key of ["a", "c0", "0a", "-1", "1.5"]) strictEqual(BatchProtocol.invalidKey(key), undefined, key)
  })
})

describe("BatchProtocol commands (wire sheet §1.2, §2)", () => {
  it("encodes a command as method?query with PHP bracket keys, and a method alone without params", () => {
    strictEqual(
      BatchProtocol.encodeCommand("m", { a: { b: [1, 2] }, c: "x y" }),
      "m?a%5Bb%5D%5B0%5D=1&a%5Bb%5D%5B1%5D=2&c=x%20y"
    )
    strictEqual(BatchProtocol.encodeCommand("m", {}), "m")
  })

  it("splits a command as parse_url does: the method as written, the query, no fragment", () => {
    deepStrictEqual(BatchProtocol.parseCommand("Im.Chat.Mute?CHAT_ID=1&x=a?b#frag"), {
      method: "Im.Chat.Mute",
      query: "CHAT_ID=1&x=a?b"
    })
    deepStrictEqual(BatchProtocol.parseCommand("user.get#x?y"), { method: "user.get", query: "" })
  })

  it("reads cmd and halt case-insensitively, the last spelling winning, and cmd as a map or a list", () => {
    strictEqual(BatchProtocol.param({ halt: 0, HALT: 1 }, "HALT"), 1)
    deepStrictEqual(BatchProtocol.commands({ CMD: { a: "x", b: 1 } }), [["a", "x"], ["b", 1]])
    deepStrictEqual(BatchProtocol.commands({ cmd: ["x", "y"] }), [["0", "x"], ["1", "y"]])
    deepStrictEqual(BatchProtocol.commands({ cmd: "x" }), [])
  })

  it("names each command's method as the router does, leaving out non-string commands", () => {
    deepStrictEqual(
      BatchProtocol.commandMethods({ cmd: { a: "IM.CHAT.MUTE.json?CHAT_ID=1", b: 5, c: "user.get" } }),
      [["a", "im.chat.mute"], ["c", "user.get"]]
    )
  })
})

describe("BatchProtocol references (wire sheet §2)", () => {
  it("hasReferences finds $result / $next / $total / $time / $error anywhere in params", () => {
    assertTrue(BatchProtocol.hasReferences({ a: "$result[x][ID]" }))
    assertTrue(BatchProtocol.hasReferences({ a: { b: ["x", "$NEXT[y]"] } }))
    assertTrue(BatchProtocol.hasReferences({ "$error[k]": 1 }))
    strictEqual(BatchProtocol.hasReferences({ a: "costs $5", b: 1, c: { d: ["result[x]"] } }), false)
  })

  it("hasReferences walks deep params without recursion", () => {
    let deep: unknown = "$time[a]"
    for (let i = 0; i < 200_000; i++) deep = [deep]
    assertTrue(BatchProtocol.hasReferences({ deep }))
  })

  it("tells a whole reference from one inside a longer string", () => {
    deepStrictEqual(BatchProtocol.wholeReference.exec("$Result[a][0][ID]")?.slice(1), ["Result", "[a][0][ID]"])
    strictEqual(BatchProtocol.wholeReference.exec("id $result[a]"), null)
    strictEqual("id $result[a][ID]!".replace(BatchProtocol.embeddedReference, "5"), "id 5!")
    deepStrictEqual(
      [..."[a][0][ID]".matchAll(BatchProtocol.referencePathElement)].map((match) => match[1]),
      ["a", "0", "ID"]
    )
  })
})

describe("BatchProtocol answers (wire sheet §2)", () => {
  it("outcomeOf reads result, result_error (status unknown) and halted commands; [] is an empty map", () => {
    const decoded = BatchProtocol.decodeResult({
      result: { a: 1 },
      result_error: { b: { error: "CHAT_ID", error_description: "Chat ID is incorrect" } },
      result_total: [],
      result_next: [],
      result_time: []
    })
    assertTrue(Either.isRight(decoded))
    const result = decoded.right
    strictEqual(BatchProtocol.outcomeOf(result, "a")._tag, "Result")
    deepStrictEqual(BatchProtocol.outcomeOf(result, "b"), {
      _tag: "Error",
      error: { code: "CHAT_ID", description: "Chat ID is incorrect", status: undefined }
    })
    deepStrictEqual(BatchProtocol.outcomeOf(result, "c"), { _tag: "NotExecuted" })
  })

  it("reads a list result (a list cmd whose commands all succeeded) by index", () => {
    const decoded = BatchProtocol.decodeResult({ result: ["x", "y"], result_time: [] })
    assertTrue(Either.isRight(decoded))
    const outcome = BatchProtocol.outcomeOf(decoded.right, "1")
    strictEqual(outcome._tag === "Result" ? outcome.response.result : undefined, "y")
  })

  it("refuses an answer that is not the documented maps", () => {
    assertTrue(Either.isLeft(BatchProtocol.decodeResult("oops")))
    assertTrue(Either.isLeft(BatchProtocol.decodeResult({ result: 5 })))
  })
})

describe("BatchProtocol.encodeResult (the answer's five maps as the portal writes them)", () => {
  it("keeps the key order, writes empty maps as [] and sequential keys as lists", () => {
    const result = {
      result: { 0: true, 1: false },
      result_error: {},
      result_total: { b: 3 },
      result_next: {},
      result_time: { 0: { start: 1 }, 2: { start: 2 } }
    }
    deepStrictEqual(BatchProtocol.encodeResult(result), {
      result: [true, false],
      result_error: [],
      result_total: { b: 3 },
      result_next: [],
      result_time: { 0: { start: 1 }, 2: { start: 2 } }
    })
    deepStrictEqual(Object.keys(BatchProtocol.encodeResult(result)), [
      "result",
      "result_error",
      "result_total",
      "result_next",
      "result_time"
    ])
  })
})
