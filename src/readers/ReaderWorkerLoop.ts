/**
 * The part every reader worker thread shares, whatever database it reads: its port, error
 * reporting, and the message loop that runs one query at a time and keeps the flow-control state
 * (chunks not yet acknowledged, queries cancelled) for the query that is running.
 * Plain Node (no Effect) on purpose: it is a small, hot message loop.
 */
import { parentPort, workerData } from "node:worker_threads"
import { encodeChunk } from "./ColumnChunk.js"
import type { ReaderRequest, ReaderResponse } from "./ReaderProtocol.js"
import * as RowRules from "./RowRules.js"

/** A query the loop hands to the worker's runner. */
export type QueryRequest = Extract<ReaderRequest, { _tag: "Query" }>

/** Flow control of the running query, updated by the loop as the main thread's messages arrive. */
export interface Flow {
  readonly cancelled: Set<number>
  /** Chunks posted and not yet acknowledged by the main thread. */
  unacknowledged: number
  /** Called when a chunk is acknowledged or a query cancelled: the runner may go on. */
  onAcknowledged: (() => void) | undefined
}

/** This thread's side of the pool: its start data, how to post, and `serve` to answer queries. */
export const workerSide = <Start>(name: string) => {
  const port = parentPort
  if (port === null) throw new Error(`${name} must run in a worker thread`)
  const post = (message: ReaderResponse, transfer: Array<ArrayBuffer> = []) => port.postMessage(message, transfer)
  const errorFields = (cause: unknown) => ({
    code: typeof cause === "object" && cause !== null && "code" in cause ? String(cause.code) : "UNKNOWN",
    message: cause instanceof Error ? cause.message : String(cause)
  })
  const flow: Flow = { cancelled: new Set(), unacknowledged: 0, onAcknowledged: undefined }

  /** Answers queries one at a time with `runQuery`, which posts the chunks and the final `Done`. */
  const serve = (runQuery: (request: QueryRequest) => Promise<void>) => {
    let queue = Promise.resolve()
    port.on("message", (request: ReaderRequest) => {
      if (request._tag === "Open") return
      if (request._tag === "Cancel") {
        flow.cancelled.add(request.id)
        flow.onAcknowledged?.()
        return
      }
      if (request._tag === "Ack") {
        flow.unacknowledged--
        flow.onAcknowledged?.()
        return
      }
      queue = queue.then(async () => {
        try {
          if (!flow.cancelled.has(request.id)) await runQuery(request)
          else post({ _tag: "Done", id: request.id, names: [], checked: false })
        } catch (cause) {
          post({ _tag: "Failed", id: request.id, ...errorFields(cause) })
        } finally {
          flow.cancelled.delete(request.id)
          flow.unacknowledged = 0
          flow.onAcknowledged = undefined
        }
      })
    })
  }

  /** How the rows of `request` are checked, once its column names are known (`undefined`: they are not). */
  const checkPlan = (request: QueryRequest, names: ReadonlyArray<string>) =>
    request.rules === undefined ? undefined : RowRules.plan(request.rules, names)

  /**
   * Checks one chunk of rows against `plan`, then encodes and posts it. A row that breaks a rule
   * is posted instead, and `false` returned: the query stops there.
   */
  const postChunk = (
    request: QueryRequest,
    names: ReadonlyArray<string>,
    rows: ReadonlyArray<ReadonlyArray<unknown>>,
    plan: RowRules.CheckPlan | undefined
  ): boolean => {
    const { chunk, transfer } = encodeChunk(rows, names.length)
    const refused = plan === undefined ? -1 : RowRules.firstRefused(plan, rows, chunk.columns)
    if (refused >= 0) {
      post({ _tag: "Refused", id: request.id, names, row: rows[refused]! })
      return false
    }
    post({ _tag: "Chunk", id: request.id, names, chunk }, transfer)
    flow.unacknowledged++
    return true
  }

  /**
   * Calls `open` with the connection's settings: the thread's `workerData`, or for a worker started
   * ahead of need (see `Prestart`), the `Open` message that adopts it.
   */
  const opened = (open: (start: Start) => void) => {
    if (workerData !== undefined && workerData !== null) return open(workerData as Start)
    const onOpen = (message: ReaderRequest) => {
      if (message._tag !== "Open") return
      port.off("message", onOpen)
      open(message.start as Start)
    }
    port.on("message", onOpen)
  }

  return { opened, post, errorFields, flow, serve, checkPlan, postChunk }
}
