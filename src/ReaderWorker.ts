/**
 * The code that runs inside each reader worker thread: one read-only SQLite connection, and a loop
 * that answers one query at a time. Rows leave as columnar chunks (numbers in transferable
 * Float64Arrays, strings joined into one string with offsets) posted while the query is still
 * iterating, because building and cloning row objects cost more than the query itself.
 * Plain Node (no Effect) on purpose: it is a small, hot message loop.
 */
import Sqlite from "better-sqlite3"
import { parentPort, workerData } from "node:worker_threads"
import {
  chunksAhead,
  encodeChunk,
  type ReaderRequest,
  type ReaderResponse,
  type ReaderStart
} from "./ReaderProtocol.js"

const port = parentPort
if (port === null) throw new Error("ReaderWorker must run in a worker thread")
const start = workerData as Extract<ReaderStart, { _tag: "Sqlite" }>
const post = (message: ReaderResponse, transfer: Array<ArrayBuffer> = []) => port.postMessage(message, transfer)

const errorFields = (cause: unknown) => ({
  code: typeof cause === "object" && cause !== null && "code" in cause ? String(cause.code) : "UNKNOWN",
  message: cause instanceof Error ? cause.message : String(cause)
})

let db: Sqlite.Database
try {
  db = new Sqlite(start.filename, { readonly: true, fileMustExist: true, timeout: start.busyTimeoutMs })
  db.prepare("SELECT count(*) FROM sqlite_schema").get()
} catch (cause) {
  post({ _tag: "StartFailed", ...errorFields(cause) })
  process.exit(1)
}

const statements = new Map<string, Sqlite.Statement>()
const prepare = (sql: string) => {
  let statement = statements.get(sql)
  if (statement === undefined) {
    statement = db.prepare(sql)
    if (statements.size >= 200) statements.clear()
    statements.set(sql, statement)
  }
  return statement
}

const cancelled = new Set<number>()

/** Chunks of the running query not yet acknowledged, and who waits for the next acknowledgement. */
let unacknowledged = 0
let onAcknowledged: (() => void) | undefined
const acknowledged = () => new Promise<void>((resolve) => (onAcknowledged = resolve))
const wake = () => {
  const resolve = onAcknowledged
  onAcknowledged = undefined
  resolve?.()
}

const runQuery = async (request: Extract<ReaderRequest, { _tag: "Query" }>) => {
  const statement = prepare(request.sql)
  if (!statement.readonly) {
    post({ _tag: "NotReadOnly", id: request.id })
    return
  }
  if (!statement.reader) {
    statement.run(...request.params)
    post({ _tag: "Done", id: request.id, names: [] })
    return
  }
  const names = statement.columns().map((column) => column.name)
  statement.raw(true)
  const iterator = statement.iterate(...request.params) as IterableIterator<Array<unknown>>
  try {
    for (;;) {
      const rows: Array<Array<unknown>> = []
      for (let next = iterator.next(); next.done !== true; next = iterator.next()) {
        rows.push(next.value)
        if (rows.length === request.chunkRows) break
      }
      if (rows.length > 0) {
        const { chunk, transfer } = encodeChunk(rows, names.length)
        post({ _tag: "Chunk", id: request.id, names, chunk }, transfer)
        unacknowledged++
      }
      if (rows.length < request.chunkRows) break
      // Wait for the main thread to catch up (a cancel also wakes us).
      while (unacknowledged >= chunksAhead && !cancelled.has(request.id)) await acknowledged()
      if (cancelled.has(request.id)) break
    }
  } finally {
    iterator.return?.()
    statement.raw(false)
    unacknowledged = 0
  }
  post({ _tag: "Done", id: request.id, names })
}

let queue = Promise.resolve()
port.on("message", (request: ReaderRequest) => {
  if (request._tag === "Cancel") {
    cancelled.add(request.id)
    wake()
    return
  }
  if (request._tag === "Ack") {
    unacknowledged--
    wake()
    return
  }
  queue = queue.then(async () => {
    try {
      if (!cancelled.has(request.id)) await runQuery(request)
      else post({ _tag: "Done", id: request.id, names: [] })
    } catch (cause) {
      post({ _tag: "Failed", id: request.id, ...errorFields(cause) })
    } finally {
      cancelled.delete(request.id)
    }
  })
})

post({ _tag: "Ready" })
