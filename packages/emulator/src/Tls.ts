/**
 * TLS for the emulator: serve HTTPS with a given certificate and key, or with a self-signed pair made at start (by
 * the `selfsigned` package), so clients that insist on `https://` (the official JS SDK) can talk to it. A client
 * trusts the emulator by adding its certificate (PEM) to its CA list.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Selfsigned from "selfsigned"

/**
 * A certificate and its private key, both PEM.
 *
 * @since 0.1.0
 * @category models
 */
export interface KeyPair {
  readonly cert: string
  readonly key: string
}

/**
 * Makes a self-signed certificate (EC P-256, SHA-256, valid for one year) for `localhost`, `127.0.0.1`, `::1` and
 * the given host, usable as its own CA. Dies if generation fails.
 *
 * @since 0.1.0
 * @category constructors
 */
export const selfSigned = (host: string): Effect.Effect<KeyPair> =>
  Effect.promise(async () => {
    const ips = new Set(["127.0.0.1", "::1"])
    const names = new Set(["localhost"])
    if (/^[\d.]+$/.test(host) || host.includes(":")) ips.add(host)
    else names.add(host)
    const pems = await Selfsigned.generate([{ name: "commonName", value: "Bitrix24 emulator" }], {
      keyType: "ec",
      curve: "P-256",
      algorithm: "sha256",
      extensions: [
        { name: "basicConstraints", cA: true },
        { name: "keyUsage", digitalSignature: true, keyCertSign: true },
        { name: "extKeyUsage", serverAuth: true },
        {
          name: "subjectAltName",
          altNames: [
            ...[...names].map((value) => ({ type: 2 as const, value })),
            ...[...ips].filter((ip) => ip !== "0.0.0.0" && ip !== "::").map((ip) => ({ type: 7 as const, ip }))
          ]
        }
      ]
    })
    return { cert: pems.cert, key: pems.private }
  })
