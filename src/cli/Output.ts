/**
 * How rows reach a person or a program: an aligned text table for terminals, JSON for tools.
 * `json` gives one array of row objects, for `jq` (commands whose JSON is not rows print their own).
 */

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
  const widths = columns.map((column, i) => Math.max(column.length, ...cells.map((line) => line[i]?.length ?? 0)))
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
