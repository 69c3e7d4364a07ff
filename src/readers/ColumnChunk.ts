/**
 * Rows in transit from a reader thread: a run of rows encoded column by column in the cheapest form
 * its values allow, and rebuilt into row objects on the main thread.
 *
 * Why columns: building and cloning one object per row cost more than the query. What costs on the
 * main thread is allocation (a million rows, three strings each, kept the young generation busy
 * copying them): integers travel as an `Int32Array` (read back as small integers, where a
 * `Float64Array` gave each row two boxed numbers), and a text column with few distinct values in a
 * chunk (a status, a date of import, a first name) travels as a dictionary, so its rows share one
 * string per value instead of each getting its own.
 * Plain code (no Effect): it runs inside reader threads too.
 */

/** One column of a chunk. */
export type EncodedColumn =
  /** Every value a 32-bit integer (and none -0). */
  | { readonly _tag: "Integers"; readonly values: Int32Array }
  | { readonly _tag: "Numbers"; readonly values: Float64Array }
  /** Few distinct strings: each row's value is `values[codes[row]]`. */
  | { readonly _tag: "Dictionary"; readonly values: ReadonlyArray<string>; readonly codes: Uint16Array }
  /** Strings joined into one, row `i` ending at `ends[i]`. */
  | { readonly _tag: "Strings"; readonly text: string; readonly ends: Uint32Array }
  /** Anything else (mixed types, NULLs, blobs), as they are. */
  | { readonly _tag: "Values"; readonly values: ReadonlyArray<unknown> }

/** A run of rows, column by column. */
export interface ColumnChunk {
  readonly length: number
  readonly columns: ReadonlyArray<EncodedColumn>
}

type Rows = ReadonlyArray<ReadonlyArray<unknown>>

/**
 * A text column is sent as a dictionary while its distinct values stay under these bounds: 64
 * among the first 256 rows (so a column of unique values is given up on early and cheaply), and an
 * eighth of the chunk in all.
 */
const dictionarySample = 256
const dictionarySampleLimit = 64
const dictionaryMinRows = 64

const isInt32 = (value: number) => (value | 0) === value && !(value === 0 && 1 / value < 0)

const valuesOf = (rows: Rows, index: number): EncodedColumn => ({
  _tag: "Values",
  values: rows.map((row) => row[index])
})

const numbersOf = (rows: Rows, index: number, transfer: Array<ArrayBuffer>): EncodedColumn => {
  const integers = new Int32Array(rows.length)
  let row = 0
  for (; row < rows.length; row++) {
    const value = rows[row]![index]
    if (typeof value !== "number") return valuesOf(rows, index)
    if (!isInt32(value)) break
    integers[row] = value
  }
  if (row === rows.length) {
    transfer.push(integers.buffer)
    return { _tag: "Integers", values: integers }
  }
  const numbers = new Float64Array(rows.length)
  numbers.set(integers.subarray(0, row))
  for (; row < rows.length; row++) {
    const value = rows[row]![index]
    if (typeof value !== "number") return valuesOf(rows, index)
    numbers[row] = value
  }
  transfer.push(numbers.buffer)
  return { _tag: "Numbers", values: numbers }
}

/** The column as a dictionary, or `undefined` when it has too many distinct values (or not only strings). */
const dictionaryOf = (rows: Rows, index: number, transfer: Array<ArrayBuffer>): EncodedColumn | undefined => {
  if (rows.length < dictionaryMinRows) return undefined
  const limit = rows.length >> 3
  const codes = new Uint16Array(rows.length)
  const positions = new Map<string, number>()
  const values: Array<string> = []
  for (let row = 0; row < rows.length; row++) {
    const value = rows[row]![index]
    if (typeof value !== "string") return undefined
    let code = positions.get(value)
    if (code === undefined) {
      if (values.length >= (row < dictionarySample ? Math.min(dictionarySampleLimit, limit) : limit)) return undefined
      code = values.length
      values.push(value)
      positions.set(value, code)
    }
    codes[row] = code
  }
  transfer.push(codes.buffer)
  return { _tag: "Dictionary", values, codes }
}

const stringsOf = (rows: Rows, index: number, transfer: Array<ArrayBuffer>): EncodedColumn => {
  const dictionary = dictionaryOf(rows, index, transfer)
  if (dictionary !== undefined) return dictionary
  const ends = new Uint32Array(rows.length)
  const parts = new Array<string>(rows.length)
  let length = 0
  for (let row = 0; row < rows.length; row++) {
    const text = rows[row]![index]
    if (typeof text !== "string") return valuesOf(rows, index)
    parts[row] = text
    length += text.length
    ends[row] = length
  }
  transfer.push(ends.buffer)
  return { _tag: "Strings", text: parts.join(""), ends }
}

/** Encodes one column of a chunk of row arrays, judging by its first value and falling back as others differ. */
const encodeColumn = (rows: Rows, index: number, transfer: Array<ArrayBuffer>): EncodedColumn => {
  const first = rows[0]?.[index]
  if (typeof first === "number") return numbersOf(rows, index, transfer)
  if (typeof first === "string") return stringsOf(rows, index, transfer)
  return valuesOf(rows, index)
}

/** A chunk of row arrays as columns, and the buffers to transfer with it. */
export const encodeChunk = (rows: Rows, columnCount: number) => {
  const transfer: Array<ArrayBuffer> = []
  const columns: Array<EncodedColumn> = []
  for (let c = 0; c < columnCount; c++) columns.push(encodeColumn(rows, c, transfer))
  return { chunk: { length: rows.length, columns } satisfies ColumnChunk, transfer }
}

type ChunkFiller = (columns: ReadonlyArray<EncodedColumn>, into: Array<Record<string, unknown>>, length: number) => void

const fillers = new Map<string, ChunkFiller>()

/** The expression for row `row`'s value of column `c`, by encoding. */
const valueExpression = (tag: EncodedColumn["_tag"], c: number) => {
  switch (tag) {
    case "Strings":
      return `t${c}.substring(row === 0 ? 0 : e${c}[row - 1], e${c}[row])`
    case "Dictionary":
      return `v${c}[k${c}[row]]`
    default:
      return `v${c}[row]`
  }
}

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
        : tag === "Dictionary"
        ? `const v${c} = columns[${c}].values, k${c} = columns[${c}].codes;`
        : `const v${c} = columns[${c}].values;`
    ).join("\n")
    // `"__proto__": x` in a literal would set the prototype: that one name stays a computed key.
    const fields = names.map((name, c) =>
      `${name === "__proto__" ? `[${JSON.stringify(name)}]` : JSON.stringify(name)}: ${valueExpression(tags[c]!, c)}`
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
