/** The messages between the reader pool (main thread) and its workers. */
import type { ColumnChunk } from "./ColumnChunk.js"
import type { RowRules } from "./RowRules.js"

/**
 * How many chunks a worker may send ahead of the main thread's acknowledgements. Without a bound,
 * a fast worker floods the port and Node drains it in one go, starving the main thread's timers
 * (a 200 ms timeout fired after 12 s); two in flight keep query, transfer and rebuild overlapping.
 */
export const chunksAhead = 2

/** What a worker needs to open its connection (passed as `workerData`). */
export type ReaderStart =
  | { readonly _tag: "Sqlite"; readonly filename: string; readonly busyTimeoutMs: number }
  | {
    readonly _tag: "Mysql"
    readonly url: string
    readonly connectTimeoutMs: number
    /** Dates as strings rather than `Date`s (which cross threads as they are). */
    readonly dateStrings: boolean
  }
  | { readonly _tag: "Postgres"; readonly url: string; readonly connectTimeoutMs: number }

/** Main thread to worker. */
export type ReaderRequest =
  /** To a worker started without `workerData` (see `Prestart`): open the connection now. */
  | { readonly _tag: "Open"; readonly start: ReaderStart }
  | {
    readonly _tag: "Query"
    readonly id: number
    readonly sql: string
    readonly params: ReadonlyArray<unknown>
    readonly chunkRows: number
    /** Rules every row must follow, checked by the worker as it reads (see `RowRules`). */
    readonly rules: RowRules | undefined
  }
  | { readonly _tag: "Cancel"; readonly id: number }
  /** The main thread has rebuilt one chunk of query `id`: the worker may send one more. */
  | { readonly _tag: "Ack"; readonly id: number }

/** Worker to main thread. */
export type ReaderResponse =
  | { readonly _tag: "Ready" }
  | { readonly _tag: "StartFailed"; readonly code: string; readonly message: string }
  | { readonly _tag: "Chunk"; readonly id: number; readonly names: ReadonlyArray<string>; readonly chunk: ColumnChunk }
  /** The query is over; `checked`: every row was checked against the query's rules, and followed them. */
  | { readonly _tag: "Done"; readonly id: number; readonly names: ReadonlyArray<string>; readonly checked: boolean }
  /** A row broke the query's rules: the query stopped there. */
  | {
    readonly _tag: "Refused"
    readonly id: number
    readonly names: ReadonlyArray<string>
    readonly row: ReadonlyArray<unknown>
  }
  | { readonly _tag: "NotReadOnly"; readonly id: number }
  | { readonly _tag: "Failed"; readonly id: number; readonly code: string; readonly message: string }
