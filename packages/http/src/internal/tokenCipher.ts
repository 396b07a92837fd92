/**
 * Tokens at rest, sealed with AES-256-GCM (`node:crypto`): a random 96-bit IV per record, the 128-bit tag, and the
 * record's store key as additional authenticated data, so a sealed record moved to another key does not open. The
 * key is 32 bytes, given as 64 hex digits or as base64; its id (the first 8 bytes of its SHA-256, in hex) travels
 * with each record, so a record sealed with another key is told apart from a tampered one.
 *
 * @since 0.1.0
 * @internal
 */
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import * as Crypto from "node:crypto"

/**
 * A parsed key: the 32 bytes and their id.
 *
 * @internal
 */
export interface Key {
  readonly bytes: Buffer
  readonly id: string
}

/**
 * Reads a 32-byte key from 64 hex digits or base64 (standard or URL-safe); the reason never echoes the key.
 *
 * @internal
 */
export const parseKey = (text: Redacted.Redacted<string>): Either.Either<Key, string> => {
  const value = Redacted.value(text).trim()
  const bytes = /^[0-9a-fA-F]{64}$/.test(value)
    ? Buffer.from(value, "hex")
    : /^[A-Za-z0-9+/_-]{43}=?$/.test(value)
    ? Buffer.from(value.replace(/-/g, "+").replace(/_/g, "/"), "base64")
    : undefined
  if (bytes === undefined || bytes.length !== 32) {
    return Either.left(`expected 32 bytes as 64 hex digits or base64 (got ${value.length} characters)`)
  }
  return Either.right({ bytes, id: Crypto.createHash("sha256").update(bytes).digest("hex").slice(0, 16) })
}

/**
 * A sealed record as stored: version, algorithm, key id, IV, tag and ciphertext (base64).
 *
 * @internal
 */
export interface Sealed {
  readonly alg: "A256GCM"
  readonly kid: string
  readonly iv: string
  readonly tag: string
  readonly data: string
}

/**
 * Seals `plaintext` for the record at `aad`.
 *
 * @internal
 */
export const seal = (key: Key, aad: string, plaintext: string): Sealed => {
  const iv = Crypto.randomBytes(12)
  const cipher = Crypto.createCipheriv("aes-256-gcm", key.bytes, iv)
  cipher.setAAD(Buffer.from(aad, "utf8"))
  const data = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()])
  return {
    alg: "A256GCM",
    kid: key.id,
    iv: iv.toString("base64"),
    tag: cipher.getAuthTag().toString("base64"),
    data: data.toString("base64")
  }
}

/**
 * Opens a sealed record of `aad`; the reason says why it cannot be, never what it holds.
 *
 * @internal
 */
export const open = (key: Key, aad: string, sealed: Sealed): Either.Either<string, string> => {
  if (sealed.kid !== key.id) {
    return Either.left(`the tokens were sealed with another key (id ${sealed.kid}; the configured key is ${key.id})`)
  }
  try {
    const decipher = Crypto.createDecipheriv("aes-256-gcm", key.bytes, Buffer.from(sealed.iv, "base64"))
    decipher.setAAD(Buffer.from(aad, "utf8"))
    decipher.setAuthTag(Buffer.from(sealed.tag, "base64"))
    const plain = Buffer.concat([decipher.update(Buffer.from(sealed.data, "base64")), decipher.final()])
    return Either.right(plain.toString("utf8"))
  } catch {
    return Either.left("the sealed tokens do not authenticate (altered, or stored under another key)")
  }
}
