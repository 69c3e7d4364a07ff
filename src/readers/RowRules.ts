/**
 * Rules a query's rows must follow, as data: they cross to a reader thread with the query, so
 * that rows are checked where they are read, on the reader's core, and a column whose chunk is
 * dictionary-encoded is checked once per distinct value instead of once per row. The same rules,
 * compiled to predicates, check rows on the main thread (and back the `User` schema's filters).
 * Plain code (no Effect): it runs inside reader threads too.
 */
import type { EncodedColumn } from "./ColumnChunk.js"

/** What one column must hold. `RegExp`s survive the trip to a worker (structured clone). */
export type ColumnRule =
  /** An integer (a safe one) from `min` to `max`. */
  | { readonly _tag: "Integer"; readonly min: number; readonly max: number }
  /** Text: at most `maxLength` characters, not only blanks, matching `shape`, with nothing that matches `forbidden`. */
  | {
    readonly _tag: "Text"
    readonly maxLength?: number | undefined
    readonly notBlank?: boolean | undefined
    readonly shape?: RegExp | undefined
    readonly forbidden?: RegExp | undefined
  }

/** The rule of each column that has one, by column name. */
export type RowRules = Readonly<Record<string, ColumnRule>>

/**
 * A statement's rules and its receipt: `checked` is set once every row was checked against them
 * (and followed them); rows that break them fail the statement instead.
 */
export interface RowCheck {
  readonly rules: RowRules
  checked: boolean
}

/** A predicate for one rule (the rule's verdict on any value). */
export const valueCheck = (rule: ColumnRule): (value: unknown) => boolean => {
  if (rule._tag === "Integer") {
    const { max, min } = rule
    return (value) => typeof value === "number" && Number.isSafeInteger(value) && value >= min && value <= max
  }
  const maxLength = rule.maxLength ?? Infinity
  const notBlank = rule.notBlank === true
  const { forbidden, shape } = rule
  return (value) =>
    typeof value === "string" && value.length <= maxLength && (!notBlank || value.trim().length > 0) &&
    (shape === undefined || shape.test(value)) && (forbidden === undefined || !forbidden.test(value))
}

/** How one result's columns are checked: each ruled column's position and predicate. */
export type CheckPlan = ReadonlyArray<readonly [column: number, rule: ColumnRule, check: (value: unknown) => boolean]>

/**
 * The plan for a result with these column names, or `undefined` when a ruled column is missing from
 * it (such rows cannot pass, and the caller checks them itself). A name given twice is the last
 * one's, as in the row object.
 */
export const plan = (rules: RowRules, names: ReadonlyArray<string>): CheckPlan | undefined => {
  const steps: Array<readonly [number, ColumnRule, (value: unknown) => boolean]> = []
  for (const [name, rule] of Object.entries(rules)) {
    const column = names.lastIndexOf(name)
    if (column < 0) return undefined
    steps.push([column, rule, valueCheck(rule)])
  }
  return steps
}

/** The first row of `column` (encoded as `encoded`) that `rule` refuses, or -1. */
const firstRefusedIn = (
  rows: ReadonlyArray<ReadonlyArray<unknown>>,
  column: number,
  encoded: EncodedColumn,
  rule: ColumnRule,
  check: (value: unknown) => boolean
): number => {
  switch (encoded._tag) {
    case "Integers": {
      // Int32 values are integers already: only the range is left to check.
      if (rule._tag !== "Integer") return 0
      const values = encoded.values
      for (let row = 0; row < values.length; row++) {
        if (values[row]! < rule.min || values[row]! > rule.max) return row
      }
      return -1
    }
    case "Dictionary": {
      // Each distinct value once, then the first row that holds a refused one.
      const refused = encoded.values.map((value) => !check(value))
      if (!refused.includes(true)) return -1
      return encoded.codes.findIndex((code) => refused[code] === true)
    }
    default: {
      for (let row = 0; row < rows.length; row++) if (!check(rows[row]![column])) return row
      return -1
    }
  }
}

/** The index of the first row of a chunk that breaks a rule, or -1 when every row follows them. */
export const firstRefused = (
  steps: CheckPlan,
  rows: ReadonlyArray<ReadonlyArray<unknown>>,
  columns: ReadonlyArray<EncodedColumn>
): number => {
  let first = -1
  for (const [column, rule, check] of steps) {
    const refused = firstRefusedIn(rows, column, columns[column]!, rule, check)
    if (refused >= 0 && (first < 0 || refused < first)) first = refused
  }
  return first
}
