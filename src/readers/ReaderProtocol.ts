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
export type ReaderStart =
  | { readonly _tag: "Sqlite"; readonly filename: string; readonly busyTimeoutMs: number }
  | {
    readonly _tag: "Mysql"
    readonly url: string
    readonly connectTimeoutMs: number
    /** Dates as strings rather than `Date`s (which cross threads as they are). */
    readonly dateStrings: boolean
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

type ChunkFiller = (columns: ReadonlyArray<EncodedColumn>, into: Array<Record<string, unknown>>, length: number) => void

const fillers = new Map<string, ChunkFiller>()

/**
 * A function that rebuilds a whole chunk, specialised for its column names and encodings: one
 * object literal per row with the names as literal keys, so V8 builds every row from one
 * boilerplate shape. (Computed keys made each row take the slow path: the rebuild cost as much as
 * decoding the rows did.) Names enter the code only as JSON string literals, which cannot be
 * anything but a string, whatever the database called the column.
 */
const chunkFiller = (names: ReadonlyArray<string>, columns: ReadonlyArray<EncodedColumn>): ChunkFiller => {
  const tags = columns.map((column) => column._tag)
  const key = JSON.stringify([names, tags])
  let filler = fillers.get(key)
  if (filler === undefined) {
    const locals = tags.map((tag, c) =>
      tag === "Strings"
        ? `const t${c} = columns[${c}].text, e${c} = columns[${c}].ends;`
        : `const v${c} = columns[${c}].values;`
    ).join("\n")
    // `"__proto__": x` in a literal would set the prototype: that one name stays a computed key.
    const fields = names.map((name, c) =>
      `${name === "__proto__" ? `[${JSON.stringify(name)}]` : JSON.stringify(name)}: ${
        tags[c] === "Strings" ? `t${c}.substring(row === 0 ? 0 : e${c}[row - 1], e${c}[row])` : `v${c}[row]`
      }`
    ).join(", ")
    filler = new Function(
      "columns",
      "into",
      "length",
      `${locals}\nfor (let row = 0; row < length; row++) into.push({ ${fields} })`
    ) as ChunkFiller
    if (fillers.size >= 100) fillers.clear()
    fillers.set(key, filler)
  }
  return filler
}

/** Rebuilds the chunk's rows as objects keyed by column name, appending them to `into`. */
export const appendRows = (names: ReadonlyArray<string>, chunk: ColumnChunk, into: Array<Record<string, unknown>>) =>
  chunkFiller(names, chunk.columns)(chunk.columns, into, chunk.length)

/** Encodes one column of a chunk of row arrays in the cheapest form its values allow. */
const encodeColumn = (rows: ReadonlyArray<ReadonlyArray<unknown>>, index: number, transfer: Array<ArrayBuffer>) => {
  let numbers = true
  let strings = true
  for (const row of rows) {
    const value = row[index]
    if (typeof value !== "number") numbers = false
    if (typeof value !== "string") strings = false
    if (!numbers && !strings) break
  }
  if (numbers) {
    const values = new Float64Array(rows.length)
    let i = 0
    for (const row of rows) values[i++] = row[index] as number
    transfer.push(values.buffer)
    return { _tag: "Numbers", values } satisfies EncodedColumn
  }
  if (strings) {
    const ends = new Uint32Array(rows.length)
    const parts = new Array<string>(rows.length)
    let i = 0
    let length = 0
    for (const row of rows) {
      const text = row[index] as string
      parts[i] = text
      length += text.length
      ends[i++] = length
    }
    transfer.push(ends.buffer)
    return { _tag: "Strings", text: parts.join(""), ends } satisfies EncodedColumn
  }
  return { _tag: "Values", values: rows.map((row) => row[index]) } satisfies EncodedColumn
}

/** A chunk of row arrays as columns, and the buffers to transfer with it. */
export const encodeChunk = (rows: ReadonlyArray<ReadonlyArray<unknown>>, columnCount: number) => {
  const transfer: Array<ArrayBuffer> = []
  const columns: Array<EncodedColumn> = []
  for (let c = 0; c < columnCount; c++) columns.push(encodeColumn(rows, c, transfer))
  return { chunk: { length: rows.length, columns } satisfies ColumnChunk, transfer }
}
