/**
 * The code that runs inside each PostgreSQL reader worker thread: one connection whose
 * transactions are read-only, answering one query at a time. Decoding rows is what costs on the
 * client (the server scans on cores of its own): here it happens on the worker's core, and rows
 * leave as the same columnar chunks as the other readers'. The query reads a server-side cursor,
 * one chunk per read, and the next read waits while the main thread is `chunksAhead` chunks
 * behind: the server produces rows only as fast as they are used. Plain Node (no Effect) on
 * purpose: a small, hot message loop.
 */
import * as Pg from "pg"
import Cursor from "pg-cursor"
import { sessionUrl } from "./PostgresSession.js"
import { numbers } from "./PostgresTypes.js"
import { chunksAhead, type ReaderStart } from "./ReaderProtocol.js"
import { type QueryRequest, workerSide } from "./ReaderWorkerLoop.js"

const { checkPlan, errorFields, flow, opened, post, postChunk, serve } = workerSide<
  Extract<ReaderStart, { _tag: "Postgres" }>
>("PostgresReaderWorker")

let client: Pg.Client

opened((start) => {
  client = new Pg.Client({
    // A read-only session: a write that reaches this worker fails instead of running.
    connectionString: sessionUrl(start.url, "-c default_transaction_read_only=on"),
    connectionTimeoutMillis: start.connectTimeoutMs,
    application_name: "dbscope reader"
  })
  client.on("error", (error) => {
    post({ _tag: "StartFailed", ...errorFields(error) })
    process.exit(1)
  })
  client.connect().then(
    () => post({ _tag: "Ready" }),
    (error: unknown) => {
      post({ _tag: "StartFailed", ...errorFields(error) })
      process.exit(1)
    }
  )
})

/** PostgreSQL's "cannot execute ... in a read-only transaction". */
const readOnlyRefusal = "25006"

/** Resolves once the main thread is fewer than `chunksAhead` chunks behind (or the query was cancelled). */
const caughtUp = (request: QueryRequest) =>
  new Promise<void>((resolve) => {
    const check = () => {
      if (flow.unacknowledged < chunksAhead || flow.cancelled.has(request.id)) {
        flow.onAcknowledged = undefined
        resolve()
      }
    }
    flow.onAcknowledged = check
    check()
  })

/** The next rows of the cursor, with the result's column descriptions. */
const read = (cursor: Cursor, rows: number) =>
  new Promise<{ readonly rows: Array<unknown>; readonly fields: ReadonlyArray<{ readonly name: string }> }>(
    (resolve, reject) => {
      cursor.read(rows, (error, read, result) => {
        if (error !== undefined && error !== null) reject(error)
        else resolve({ rows: read, fields: result.fields })
      })
    }
  )

const runQuery = async (request: QueryRequest) => {
  const cursor = client.query(new Cursor(request.sql, [...request.params], { rowMode: "array", types: numbers }))
  try {
    let names: Array<string> | undefined
    let plan: ReturnType<typeof checkPlan>
    for (;;) {
      await caughtUp(request)
      if (flow.cancelled.has(request.id)) break
      const { fields, rows } = await read(cursor, request.chunkRows)
      if (names === undefined) {
        names = fields.map((field) => field.name)
        plan = checkPlan(request, names)
      }
      if (rows.length === 0) break
      if (!postChunk(request, names, rows as Array<Array<unknown>>, plan)) return
      if (rows.length < request.chunkRows) break
    }
    post({ _tag: "Done", id: request.id, names: names ?? [], checked: plan !== undefined })
  } catch (error) {
    const fields = errorFields(error)
    post(
      fields.code === readOnlyRefusal
        ? { _tag: "NotReadOnly", id: request.id }
        : { _tag: "Failed", id: request.id, ...fields }
    )
  } finally {
    await cursor.close().catch(() => undefined)
  }
}

serve(runQuery)
