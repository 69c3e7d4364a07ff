/**
 * Reader workers started before the pool asks for them. A worker thread takes ~0.1 s to boot (Node,
 * then better-sqlite3) before it can open its connection: the CLI starts them while its own code
 * is still loading, on another core, and the pool adopts them instead of starting its own. A booted
 * worker waits for an `Open` message with what `workerData` would have told it.
 * The registry lives on `globalThis`: the launcher and the bundled CLI are separate module graphs.
 */
import * as os from "node:os"
import { Worker } from "node:worker_threads"

/** A reader pool's size unless told otherwise: the number of cores, at least 2 (here, the launcher needs it too). */
export const defaultPoolSize = (): number => Math.max(2, os.availableParallelism())

const registryKey = Symbol.for("dbscope/readers/prestarted")

type Registry = Map<string, Array<Worker>>

const registry = (): Registry => {
  const global = globalThis as { [registryKey]?: Registry }
  return (global[registryKey] ??= new Map())
}

/**
 * Starts `count` workers running `script`, waiting for their connection's settings. They keep the
 * process alive only once adopted, and a worker that dies before is forgotten.
 */
export const prestart = (script: string, count: number): void => {
  const workers = registry().get(script) ?? []
  registry().set(script, workers)
  for (let i = 0; i < count; i++) {
    const worker = new Worker(script)
    worker.unref()
    worker.once("exit", () => {
      const at = workers.indexOf(worker)
      if (at >= 0) workers.splice(at, 1)
    })
    workers.push(worker)
  }
}

/** A booted worker running `script`, taken from the registry (it keeps the process alive again), if any. */
export const adopt = (script: string): Worker | undefined => {
  const worker = registry().get(script)?.shift()
  worker?.ref()
  return worker
}
