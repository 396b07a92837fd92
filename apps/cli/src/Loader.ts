/**
 * Starting the full CLI fast: the bundle carries it as CommonJS source in a string, compiled here with a V8 code
 * cache. The first run compiles it and, at exit, saves the compiled code (with every function that ran, so also the
 * ones V8 compiles lazily) to `$XDG_CACHE_HOME/b24/` (default `~/.cache/b24/`); later runs hand it to V8 and skip
 * most of the compiling, which is a large part of a short command's start-up. The cache is keyed by the code, the
 * Node version and the architecture; V8 checks it and ignores (and the next exit replaces) one that does not fit.
 * It holds compiled code only, never data of a run. Any failure to read or write it only means compiling as usual.
 *
 * Kept out of the string, the help pages and completions (`Quick`) start without V8 even reading the full CLI.
 *
 * @since 0.1.0
 */
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Module from "node:module"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Vm from "node:vm"

const cacheDirectory = (): string | undefined => {
  const xdg = process.env.XDG_CACHE_HOME
  if (xdg !== undefined && xdg.startsWith("/")) return Path.join(xdg, "b24")
  const home = process.env.HOME ?? Os.homedir()
  return home.length > 0 ? Path.join(home, ".cache", "b24") : undefined
}

const saveCache = (directory: string, file: string, data: Buffer): void => {
  try {
    Fs.mkdirSync(directory, { recursive: true, mode: 0o700 })
    for (const old of Fs.readdirSync(directory)) {
      if (old.startsWith("main-") && old !== Path.basename(file)) Fs.rmSync(Path.join(directory, old), { force: true })
    }
    const temporary = `${file}.${process.pid}.tmp`
    Fs.writeFileSync(temporary, data, { mode: 0o600 })
    Fs.renameSync(temporary, file)
  } catch {
    // Caching is an optimization: without it the next run compiles again.
  }
}

/**
 * Runs CommonJS `code` (a bundle) and answers its exports, with the V8 code cache described above.
 *
 * @since 0.1.0
 * @category loading
 */
export const load = <Exports>(code: string): Exports => {
  const key = Crypto.createHash("sha1").update(code).update(process.version).update(process.arch).digest("hex")
  const directory = cacheDirectory()
  const file = directory === undefined ? undefined : Path.join(directory, `main-${key.slice(0, 20)}.v8`)
  let cachedData: Buffer | undefined
  try {
    cachedData = file === undefined ? undefined : Fs.readFileSync(file)
  } catch {
    cachedData = undefined
  }
  const script = new Vm.Script(`(function (exports, require, module, __filename, __dirname) {${code}\n})`, {
    filename: "b24-main.cjs",
    ...(cachedData === undefined ? {} : { cachedData })
  })
  if (directory !== undefined && file !== undefined && (cachedData === undefined || script.cachedDataRejected)) {
    // At exit every function that ran is compiled: they all go into the cache.
    process.once("exit", () => saveCache(directory, file, script.createCachedData()))
  }
  const module = { exports: {} as Exports }
  const require = Module.createRequire(Path.join(process.cwd(), "b24-main.cjs"))
  script.runInThisContext()(module.exports, require, module, "b24-main.cjs", process.cwd())
  return module.exports
}
