/**
 * How rows reach a person or a program: an aligned text table for terminals, JSON for tools.
 * `json` gives one array of row objects, for `jq` (commands whose JSON is not rows print their own).
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"

const maxCellWidth = 48

const cellText = (value: unknown): string => {
  if (value === null || value === undefined) return "NULL"
  if (value instanceof Uint8Array) return `<${value.length} bytes>`
  const text = typeof value === "string" ? value : String(value)
  const flat = text.replace(/[\u0000-\u001f\u007f]/g, " ")
  return flat.length > maxCellWidth ? `${flat.slice(0, maxCellWidth - 1)}…` : flat
}

/** An aligned text table with a header row; `(0 rows)` when empty. */
export const table = (rows: ReadonlyArray<Readonly<Record<string, unknown>>>): string => {
  const first = rows[0]
  if (first === undefined) return "(0 rows)"
  const columns = Object.keys(first)
  const cells = rows.map((row) => columns.map((column) => cellText(row[column])))
  // A loop, not `Math.max(...cells)`: spreading 300,000 rows overflowed the call stack.
  const widths = columns.map((column, i) =>
    cells.reduce((widest, line) => Math.max(widest, line[i]?.length ?? 0), column.length)
  )
  const format = (line: ReadonlyArray<string>) =>
    line.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  ").trimEnd()
  const rule = widths.map((width) => "-".repeat(width)).join("  ")
  const footer = `(${rows.length} ${rows.length === 1 ? "row" : "rows"})`
  return [format(columns), rule, ...cells.map(format), footer].join("\n")
}

const jsonValue = (_key: string, value: unknown): unknown => {
  if (typeof value === "bigint") return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString()
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64")
  return value
}

/** The rows as one JSON array (bigints as numbers when exact, blobs as base64). */
export const json = (rows: ReadonlyArray<unknown>): string => JSON.stringify(rows, jsonValue)

/** Rows formatted in one step of `print`: a million rows formatted at once kept Ctrl-C out for seconds. */
const slice = 4096

/** `[0, 4096), [4096, 8192), ...` up to `length`. */
const slices = (length: number) =>
  Array.from({ length: Math.ceil(length / slice) }, (_, i) => [i * slice, Math.min(length, (i + 1) * slice)] as const)

/**
 * Prints `table(rows)` or `json(rows)` on stdout, byte for byte, formatted a slice of rows per
 * step so that a signal or a closed pipe can stop a large result between two slices.
 */
export const print = (rows: ReadonlyArray<Readonly<Record<string, unknown>>>, asJson: boolean): Effect.Effect<void> => {
  if (asJson) {
    return Effect.forEach(
      slices(rows.length),
      ([from, to]) => Effect.sync(() => rows.slice(from, to).map((row) => JSON.stringify(row, jsonValue)).join(",")),
      { concurrency: 1 }
    ).pipe(Effect.flatMap((parts) => Console.log(`[${parts.join(",")}]`)))
  }
  const first = rows[0]
  if (first === undefined || rows.length <= slice) return Console.log(table(rows))
  const columns = Object.keys(first)
  const widths = columns.map((column) => column.length)
  return Effect.forEach(
    slices(rows.length),
    ([from, to]) =>
      Effect.sync(() =>
        rows.slice(from, to).map((row) =>
          columns.map((column, i) => {
            const cell = cellText(row[column])
            if (cell.length > (widths[i] ?? 0)) widths[i] = cell.length
            return cell
          })
        )
      ),
    { concurrency: 1 }
  ).pipe(
    Effect.flatMap((parts) => {
      const format = (line: ReadonlyArray<string>) =>
        line.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  ").trimEnd()
      const rule = widths.map((width) => "-".repeat(width)).join("  ")
      return Console.log(`${format(columns)}\n${rule}`).pipe(
        Effect.zipRight(Effect.forEach(parts, (cells) => Console.log(cells.map(format).join("\n")), { discard: true })),
        Effect.zipRight(Console.log(`(${rows.length} rows)`))
      )
    })
  )
}
