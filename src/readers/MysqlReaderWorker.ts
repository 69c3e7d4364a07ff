/**
 * The code that runs inside each MySQL reader worker thread: one connection in a read-only
 * session, answering one query at a time. Decoding rows is what costs on MySQL (the server is
 * mostly idle): here it happens on the worker's core, and rows leave as the same columnar chunks
 * as the SQLite readers', with the same flow control (the socket is paused while the main thread
 * is `chunksAhead` chunks behind). Plain Node (no Effect) on purpose: a small, hot message loop.
 */
import * as Mysql from "mysql2"
import { chunksAhead, type ReaderStart } from "./ReaderProtocol.js"
import { type QueryRequest, workerSide } from "./ReaderWorkerLoop.js"

const { checkPlan, errorFields, flow, opened, post, postChunk, serve } = workerSide<
  Extract<ReaderStart, { _tag: "Mysql" }>
>("MysqlReaderWorker")

let connection: Mysql.Connection

opened((start) => {
  connection = Mysql.createConnection({
    uri: start.url,
    connectTimeout: start.connectTimeoutMs,
    multipleStatements: false,
    supportBigNumbers: true,
    decimalNumbers: true,
    dateStrings: start.dateStrings,
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
})

const readOnlyRefusals = new Set(["ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION", "ER_OPTION_PREVENTS_STATEMENT"])

const runQuery = (request: QueryRequest) =>
  new Promise<void>((resolve) => {
    let names: Array<string> = []
    let plan: ReturnType<typeof checkPlan>
    let rows: Array<Array<unknown>> = []
    // Failed, or a row refused by the rules: the rest of the rows are let pass unread.
    let failed = false
    const query = connection.query({ sql: request.sql, values: [...request.params], rowsAsArray: true })
    const flush = () => {
      if (rows.length === 0) return
      const sent = rows
      rows = []
      if (!postChunk(request, names, sent, plan)) failed = true
    }
    query.on("fields", (fields: Array<{ readonly name: string }>) => {
      names = fields.map((field) => field.name)
      plan = checkPlan(request, names)
    })
    query.on("result", (row: unknown) => {
      if (failed || flow.cancelled.has(request.id) || !Array.isArray(row)) return
      rows.push(row)
      if (rows.length < request.chunkRows) return
      flush()
      if (failed) return
      if (flow.unacknowledged >= chunksAhead) {
        connection.pause()
        flow.onAcknowledged = () => {
          if (flow.unacknowledged < chunksAhead || flow.cancelled.has(request.id)) {
            flow.onAcknowledged = undefined
            connection.resume()
          }
        }
      }
    })
    query.on("error", (error) => {
      if (failed) return
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
        if (!flow.cancelled.has(request.id)) flush()
        if (!failed) post({ _tag: "Done", id: request.id, names, checked: plan !== undefined })
      }
      resolve()
    })
  })

serve(runQuery)
