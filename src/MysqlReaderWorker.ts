/**
 * The code that runs inside each MySQL reader worker thread: one connection in a read-only
 * session, answering one query at a time. Decoding rows is what costs on MySQL (the server is
 * mostly idle): here it happens on the worker's core, and rows leave as the same columnar chunks
 * as the SQLite readers', with the same flow control (the socket is paused while the main thread
 * is `chunksAhead` chunks behind). Plain Node (no Effect) on purpose: a small, hot message loop.
 */
import * as Mysql from "mysql2"
import { parentPort, workerData } from "node:worker_threads"
import {
  chunksAhead,
  encodeChunk,
  type ReaderRequest,
  type ReaderResponse,
  type ReaderStart
} from "./ReaderProtocol.js"

const port = parentPort
if (port === null) throw new Error("MysqlReaderWorker must run in a worker thread")
const start = workerData as Extract<ReaderStart, { _tag: "Mysql" }>
const post = (message: ReaderResponse, transfer: Array<ArrayBuffer> = []) => port.postMessage(message, transfer)

const errorFields = (cause: unknown) => ({
  code: typeof cause === "object" && cause !== null && "code" in cause ? String(cause.code) : "UNKNOWN",
  message: cause instanceof Error ? cause.message : String(cause)
})

const connection = Mysql.createConnection({
  uri: start.url,
  connectTimeout: start.connectTimeoutMs,
  multipleStatements: false,
  supportBigNumbers: true,
  decimalNumbers: true,
  dateStrings: true,
  timezone: "Z"
})
// A read-only session: a write that reaches this worker fails instead of running.
connection.query("SET SESSION TRANSACTION READ ONLY", (error) => {
  if (error !== null) {
    post({ _tag: "StartFailed", ...errorFields(error) })
    process.exit(1)
  }
  post({ _tag: "Ready" })
})
connection.on("error", (error) => {
  post({ _tag: "StartFailed", ...errorFields(error) })
  process.exit(1)
})

const cancelled = new Set<number>()

/** Chunks of the running query not yet acknowledged, and what to do when one is. */
let unacknowledged = 0
let onAcknowledged: (() => void) | undefined

const readOnlyRefusals = new Set(["ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION", "ER_OPTION_PREVENTS_STATEMENT"])

const runQuery = (request: Extract<ReaderRequest, { _tag: "Query" }>) =>
  new Promise<void>((resolve) => {
    let names: Array<string> = []
    let rows: Array<Array<unknown>> = []
    let failed = false
    const query = connection.query({ sql: request.sql, values: [...request.params], rowsAsArray: true })
    const flush = () => {
      if (rows.length === 0) return
      const { chunk, transfer } = encodeChunk(rows, names.length)
      rows = []
      post({ _tag: "Chunk", id: request.id, names, chunk }, transfer)
      unacknowledged++
    }
    query.on("fields", (fields: Array<{ readonly name: string }>) => {
      names = fields.map((field) => field.name)
    })
    query.on("result", (row: unknown) => {
      if (cancelled.has(request.id) || !Array.isArray(row)) return
      rows.push(row)
      if (rows.length < request.chunkRows) return
      flush()
      if (unacknowledged >= chunksAhead) {
        connection.pause()
        onAcknowledged = () => {
          if (unacknowledged < chunksAhead || cancelled.has(request.id)) {
            onAcknowledged = undefined
            connection.resume()
          }
        }
      }
    })
    query.on("error", (error) => {
      failed = true
      const fields = errorFields(error)
      post(
        readOnlyRefusals.has(fields.code)
          ? { _tag: "NotReadOnly", id: request.id }
          : { _tag: "Failed", id: request.id, ...fields }
      )
    })
    query.on("end", () => {
      if (!failed) {
        if (!cancelled.has(request.id)) flush()
        post({ _tag: "Done", id: request.id, names })
      }
      unacknowledged = 0
      onAcknowledged = undefined
      resolve()
    })
  })

let queue = Promise.resolve()
port.on("message", (request: ReaderRequest) => {
  if (request._tag === "Cancel") {
    cancelled.add(request.id)
    onAcknowledged?.()
    return
  }
  if (request._tag === "Ack") {
    unacknowledged--
    onAcknowledged?.()
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
