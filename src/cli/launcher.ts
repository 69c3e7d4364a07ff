#!/usr/bin/env node
/**
 * The installed `dbscope` executable (`dist/bin/dbscope.js`): runs the bundled CLI
 * (`dist/bin/dbscope.cjs`, see `scripts/build-cli.mjs`) with a V8 code cache kept beside it.
 *
 * Why: even bundled, compiling ~600 kB of Effect and @effect/cli made up about a third of a command's
 * start-up (~70 ms of CPU of ~215 ms for `dbscope count`). Node 20 caches no compiled ES modules
 * (`module.enableCompileCache` arrives in Node 22), but `vm.Script` accepts V8's cached data, so the
 * bundle is a CommonJS script run here the way Node's loader runs one. The cache is written after
 * the first run (and again whenever V8 rejects it: another Node version or other V8 flags), beside
 * the bundle only, never in a shared temporary folder: it is code, trusted as much as the bundle.
 * Where that folder is read-only, dbscope still runs, only without the cache. V8 checks the cache
 * against the Node version and flags but, for the source, only its length: the cache starts with
 * a digest of the bundle, and one made for another bundle is ignored.
 */
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import Module, { createRequire } from "node:module"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as vm from "node:vm"
import * as Prestart from "../readers/Prestart.js"
import { readerCount } from "./ReaderPrestart.js"

// A Ctrl-C while the bundle loads (~0.1-0.2 s) would end the process at once with no message: with
// a listener, the signal waits for the event loop, where the CLI's own handler (installed while the
// bundle loads) says `dbscope: interrupted` and stops the command cleanly.
const signalWhileLoading = () => undefined
process.on("SIGINT", signalWhileLoading)
process.on("SIGTERM", signalWhileLoading)

// Reader workers boot (~0.1 s each) on other cores while this thread loads the CLI.
Prestart.prestart(
  fileURLToPath(new URL("../src/readers/ReaderWorker.js", import.meta.url)),
  readerCount(process.argv.slice(2), process.env)
)

const bundle = fileURLToPath(new URL("./dbscope.cjs", import.meta.url))
const cacheFile = `${bundle}.cache`

// The hashbang becomes a comment: the source is wrapped in a function, where `#!` is a syntax error.
const source = fs.readFileSync(bundle, "utf8").replace(/^#!/, "//")
const digest = crypto.createHash("sha1").update(source).digest()

const readCache = (): Buffer | undefined => {
  try {
    const file = fs.readFileSync(cacheFile)
    return file.subarray(0, digest.length).equals(digest) ? file.subarray(digest.length) : undefined
  } catch {
    return undefined
  }
}

/** Writes the cache atomically (concurrent first runs each rename a whole file into place); best effort. */
const writeCache = (script: vm.Script) => {
  const partial = `${cacheFile}.${process.pid}.tmp`
  try {
    fs.writeFileSync(partial, Buffer.concat([digest, script.createCachedData()]))
    fs.renameSync(partial, cacheFile)
  } catch {
    fs.rmSync(partial, { force: true })
  }
}

const cachedData = readCache()
const script = new vm.Script(Module.wrap(source), { filename: bundle, cachedData })
if (cachedData === undefined || script.cachedDataRejected === true) {
  // At exit, the cache also holds the functions this run compiled, not only the top level.
  process.once("exit", () => writeCache(script))
}
const module = { exports: {} }
const run: unknown = script.runInThisContext()
if (typeof run === "function") {
  run.call(module.exports, module.exports, createRequire(bundle), module, bundle, path.dirname(bundle))
}
process.removeListener("SIGINT", signalWhileLoading)
process.removeListener("SIGTERM", signalWhileLoading)
