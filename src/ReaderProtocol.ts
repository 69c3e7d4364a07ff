/**
 * The messages between the reader pool (main thread) and its workers, and the decoding of the
 * columnar chunks back into row objects.
 */

/**
 * How many chunks a worker may send ahead of the main thread's acknowledgements. Without a bound,
 * a fast worker floods the port and Node drains it in one go, starving the main thread's timers
 * (a 200 ms timeout fired after 12 s); two in flight keep query, transfer and rebuild overlapping.
 */
export const chunksAhead = 2

/** What a worker needs to open its connection (passed as `workerData`). */
export interface ReaderStart {
  readonly filename: string
  readonly busyTimeoutMs: number
}

/** Main thread to worker. */
export type ReaderRequest =
  | {
    readonly _tag: "Query"
    readonly id: number
    readonly sql: string
    readonly params: ReadonlyArray<unknown>
    readonly chunkRows: number
  }
  | { readonly _tag: "Cancel"; readonly id: number }
  /** The main thread has rebuilt one chunk of query `id`: the worker may send one more. */
  | { readonly _tag: "Ack"; readonly id: number }

/** One column of a chunk. */
export type EncodedColumn =
  | { readonly _tag: "Numbers"; readonly values: Float64Array }
  | { readonly _tag: "Strings"; readonly text: string; readonly ends: Uint32Array }
  | { readonly _tag: "Values"; readonly values: ReadonlyArray<unknown> }

/** A run of rows, column by column. */
export interface ColumnChunk {
  readonly length: number
  readonly columns: ReadonlyArray<EncodedColumn>
}

/** Worker to main thread. */
export type ReaderResponse =
  | { readonly _tag: "Ready" }
  | { readonly _tag: "StartFailed"; readonly code: string; readonly message: string }
  | { readonly _tag: "Chunk"; readonly id: number; readonly names: ReadonlyArray<string>; readonly chunk: ColumnChunk }
  | { readonly _tag: "Done"; readonly id: number; readonly names: ReadonlyArray<string> }
  | { readonly _tag: "NotReadOnly"; readonly id: number }
  | { readonly _tag: "Failed"; readonly id: number; readonly code: string; readonly message: string }

const columnValue = (column: EncodedColumn, row: number): unknown => {
  switch (column._tag) {
    case "Numbers":
      return column.values[row]
    case "Strings":
      return column.text.substring(row === 0 ? 0 : column.ends[row - 1] ?? 0, column.ends[row] ?? 0)
    case "Values":
      return column.values[row]
  }
}

type RowBuilder = (
  columns: ReadonlyArray<EncodedColumn>,
  row: number,
  value: typeof columnValue
) => Record<string, unknown>

const builders = new Map<string, RowBuilder>()

/**
 * A function that builds one row as a single object literal with the query's column names. Rows
 * built by `{}` plus keyed stores cost twice the young-generation GCs (every row survives) and 40%
 * more time. Names enter the generated code only as computed keys read from `names`, never as code.
 */
const rowBuilder = (names: ReadonlyArray<string>): RowBuilder => {
  const key = JSON.stringify(names)
  let builder = builders.get(key)
  if (builder === undefined) {
    const fields = names.map((_, c) => `[names[${c}]]: value(columns[${c}], row)`).join(", ")
    builder = new Function("names", `return (columns, row, value) => ({ ${fields} })`)(names) as RowBuilder
    if (builders.size >= 100) builders.clear()
    builders.set(key, builder)
  }
  return builder
}

/** Rebuilds the chunk's rows as objects keyed by column name, appending them to `into`. */
export const appendRows = (names: ReadonlyArray<string>, chunk: ColumnChunk, into: Array<Record<string, unknown>>) => {
  const build = rowBuilder(names)
  for (let row = 0; row < chunk.length; row++) into.push(build(chunk.columns, row, columnValue))
}
