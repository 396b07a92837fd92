/**
 * A synchronous encoder for the params of a declaration, for the hot path of `Method`: it encodes the fields made of
 * the wire primitives whose encoding is a check and at most a mapping (`Wire.Id`: a positive safe integer, sent as
 * it is; `Wire.YesNo`: a boolean, sent as `"Y"` / `"N"`), and answers `undefined` for anything else (another kind
 * of field present in the params, a value the schema would refuse, a missing required field), in which case the
 * declaration's schema encodes them, and reports errors, as before. Where it answers, it answers what the schema
 * would (a property test over every declaration holds the two together).
 *
 * @since 0.1.0
 * @internal
 */
import type * as AST from "effect/SchemaAST"
import * as Wire from "../Wire.js"

/** Answered by a field encoder that cannot tell: the schema decides. */
const unknown: unique symbol = Symbol.for("@bitrix24-effect/core/internal/paramsEncoder/unknown")

type FieldEncoder = (value: unknown) => unknown

/** Is `ast` the schema of `base`, perhaps with other annotations (a description, a default for the docs)? */
const isAnnotated = (ast: AST.AST, base: AST.AST): boolean => {
  if (ast === base) return true
  if (ast._tag === "Refinement" && base._tag === "Refinement") {
    return ast.from === base.from && ast.filter === base.filter
  }
  if (ast._tag === "Transformation" && base._tag === "Transformation") {
    return ast.from === base.from && ast.to === base.to && ast.transformation === base.transformation
  }
  return false
}

/** `Wire.Id`: a positive safe integer, which the schema sends as it is (a JSON number). */
const id: FieldEncoder = (value) =>
  typeof value === "number" && Number.isSafeInteger(value) && value > 0 ? value : unknown

/** `Wire.YesNo`: a boolean, sent as the exact string `"Y"` or `"N"`. */
const yesNo: FieldEncoder = (value) => value === true ? "Y" : value === false ? "N" : unknown

const fieldEncoder = (ast: AST.AST): FieldEncoder | undefined =>
  isAnnotated(ast, Wire.Id.ast) ? id : isAnnotated(ast, Wire.YesNo.ast) ? yesNo : undefined

interface Field {
  readonly name: string
  readonly optional: boolean
  /** `undefined`: a kind of field this encoder leaves to the schema (fine while it is absent). */
  readonly encode: FieldEncoder | undefined
}

const hasOwn = (value: object, key: string) => Object.prototype.hasOwnProperty.call(value, key)

/**
 * The encoder of a params struct (`Schema.Struct(fields).ast`), or `undefined` when the struct is not a plain
 * record of fields (a field with a decoding default makes it a transformation; index signatures; no fields at all,
 * which the schema reads as "any object" and passes on whole): the schema then encodes every call.
 *
 * @internal
 */
export const make = (
  ast: AST.AST
): ((params: unknown) => Readonly<Record<string, unknown>> | undefined) | undefined => {
  if (ast._tag !== "TypeLiteral" || ast.indexSignatures.length > 0 || ast.propertySignatures.length === 0) {
    return undefined
  }
  const fields: Array<Field> = []
  for (const signature of ast.propertySignatures) {
    if (typeof signature.name !== "string") return undefined
    fields.push({ name: signature.name, optional: signature.isOptional, encode: fieldEncoder(signature.type) })
  }
  return (params) => {
    if (typeof params !== "object" || params === null) return undefined
    const input = params as Readonly<Record<string, unknown>>
    const output: Record<string, unknown> = {}
    for (const field of fields) {
      if (!hasOwn(input, field.name)) {
        if (field.optional) continue
        return undefined
      }
      if (field.encode === undefined) return undefined
      const encoded = field.encode(input[field.name])
      if (encoded === unknown) return undefined
      output[field.name] = encoded
    }
    return output
  }
}
