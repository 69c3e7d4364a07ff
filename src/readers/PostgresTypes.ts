/**
 * How dbscope reads PostgreSQL's values, on the main thread and in the reader workers alike:
 * `bigint` (int8, what `COUNT(*)` and `SUM` return) and `numeric` (what `AVG` returns) as numbers,
 * as on SQLite and MySQL, with an integer too large for a number kept as its digits (as mysql2
 * does); with `SafeIntegers`, int8 as `bigint`. A `timestamp` without time zone is UTC (every
 * dbscope connection sets `TimeZone=UTC`), not the client's local time. Plain pg, no Effect: the
 * reader workers load it.
 */
import * as Pg from "pg"

/** pg's type ids of the columns read differently from pg's defaults. */
const oid = { int8: 20, numeric: 1700, timestamp: 1114 } as const

const makeTypes = (safeIntegers: boolean): Pg.CustomTypesConfig => ({
  getTypeParser: ((id: number, format?: "text" | "binary") => {
    if (format === "binary") return Pg.types.getTypeParser(id, "binary")
    switch (id) {
      case oid.int8:
        return safeIntegers
          ? (text: string) => BigInt(text)
          : (text: string) => {
            const value = Number(text)
            return Number.isSafeInteger(value) ? value : text
          }
      case oid.numeric:
        return (text: string) => Number(text)
      case oid.timestamp:
        return (text: string) => new Date(`${text.replace(" ", "T")}Z`)
      default:
        return Pg.types.getTypeParser(id, "text")
    }
  }) as Pg.CustomTypesConfig["getTypeParser"]
})

/** Values as numbers (the default). */
export const numbers: Pg.CustomTypesConfig = makeTypes(false)

/** Integers as `bigint` (`SqlClient.SafeIntegers`). */
export const bigints: Pg.CustomTypesConfig = makeTypes(true)
