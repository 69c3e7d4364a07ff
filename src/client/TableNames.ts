/**
 * Which tables a statement touches on a server database (MySQL, PostgreSQL), from the names of the
 * database's tables: every table whose name appears in the statement counts (more than it reads,
 * never less). A view, or a table with triggers or foreign keys pointing at it, could reach tables
 * not named: then "any" (a read) or "every" (a write).
 */
import type { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import { anyTable, everyTable } from "./core/StatementObserver.js"

/** One table or view of the database, as its catalogue describes it. */
export interface TableInfo {
  readonly name: string
  readonly view: boolean
  /** Triggers on it, or foreign keys pointing at it: a write may change other tables too. */
  readonly reachesFurther: boolean
}

/** The names, as `load` last read them from a list; until loaded, everything counts. */
export const make = () => {
  let tables: ReadonlyArray<string> = []
  let views: ReadonlyArray<string> = []
  let reachesFurther = new Set<string>()
  const load = (list: Effect.Effect<ReadonlyArray<TableInfo>, SqlError>) =>
    list.pipe(
      Effect.map((found) => {
        tables = found.filter((table) => !table.view).map((table) => table.name)
        views = found.filter((table) => table.view).map((table) => table.name)
        reachesFurther = new Set(found.filter((table) => table.reachesFurther).map((table) => table.name))
      }),
      // Without the list every statement counts as touching everything: still correct, just coarser.
      Effect.ignore
    )
  const named = (sql: string, names: ReadonlyArray<string>) => {
    const words = new Set(sql.toLowerCase().match(/[a-z0-9_$]+/g) ?? [])
    return names.filter((name) => words.has(name.toLowerCase()))
  }
  return {
    load,
    reads: (sql: string): ReadonlyArray<string> => {
      const found = named(sql, tables)
      return found.length === 0 || named(sql, views).length > 0 ? [anyTable] : found
    },
    writes: (sql: string): ReadonlyArray<string> => {
      const found = named(sql, tables)
      return found.length === 0 || found.some((table) => reachesFurther.has(table)) ? [everyTable] : found
    }
  }
}
