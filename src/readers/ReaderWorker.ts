/**
 * The code that runs inside each reader worker thread: one read-only SQLite connection, and a loop
 * that answers one query at a time. Rows leave as columnar chunks (numbers in transferable
 * Float64Arrays, strings joined into one string with offsets) posted while the query is still
 * iterating, because building and cloning row objects cost more than the query itself.
 * Plain Node (no Effect) on purpose: it is a small, hot message loop.
 */
import Sqlite from "better-sqlite3"
import { chunksAhead, type ReaderStart } from "./ReaderProtocol.js"
import { type QueryRequest, workerSide } from "./ReaderWorkerLoop.js"

const { checkPlan, errorFields, flow, opened, post, postChunk, serve } = workerSide<
  Extract<ReaderStart, { _tag: "Sqlite" }>
>("ReaderWorker")

let db: Sqlite.Database

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

/** Waits until the main thread acknowledges a chunk (or the query is cancelled). */
const acknowledged = () => new Promise<void>((resolve) => (flow.onAcknowledged = resolve))

const runQuery = async (request: QueryRequest) => {
  const statement = prepare(request.sql)
  if (!statement.readonly) {
    post({ _tag: "NotReadOnly", id: request.id })
    return
  }
  if (!statement.reader) {
    statement.run(...request.params)
    post({ _tag: "Done", id: request.id, names: [], checked: false })
    return
  }
  const names = statement.columns().map((column) => column.name)
  const plan = checkPlan(request, names)
  statement.raw(true)
  const iterator = statement.iterate(...request.params) as IterableIterator<Array<unknown>>
  try {
    for (;;) {
      const rows: Array<Array<unknown>> = []
      for (let next = iterator.next(); next.done !== true; next = iterator.next()) {
        rows.push(next.value)
        if (rows.length === request.chunkRows) break
      }
      if (rows.length > 0 && !postChunk(request, names, rows, plan)) return
      if (rows.length < request.chunkRows) break
      // Wait for the main thread to catch up (a cancel also wakes us).
      while (flow.unacknowledged >= chunksAhead && !flow.cancelled.has(request.id)) await acknowledged()
      if (flow.cancelled.has(request.id)) break
    }
  } finally {
    iterator.return?.()
    statement.raw(false)
  }
  post({ _tag: "Done", id: request.id, names, checked: plan !== undefined })
}

opened((start) => {
  try {
    db = new Sqlite(start.filename, { readonly: true, fileMustExist: true, timeout: start.busyTimeoutMs })
    db.prepare("SELECT count(*) FROM sqlite_schema").get()
  } catch (cause) {
    post({ _tag: "StartFailed", ...errorFields(cause) })
    process.exit(1)
  }
  serve(runQuery)
  post({ _tag: "Ready" })
})
