/**
 * Helpers for lock and retry tests: a second, raw connection to the test database (to hold locks
 * the way another process would), and a counter of how many times an effect really ran.
 */
import Sqlite from "better-sqlite3"
import * as Effect from "effect/Effect"
import { SqliteDatabase } from "../../src/client/SqliteDatabase.js"

/** A raw better-sqlite3 connection to the same file, with no busy timeout; closed with the scope. */
export const rawConnection = Effect.flatMap(SqliteDatabase, (db) =>
  Effect.acquireRelease(
    Effect.sync(() => new Sqlite(db.filename, { timeout: 0 })),
    (raw) => Effect.sync(() => raw.close())
  ))

/** `effect`, counting how many times it is run. */
export const counted = <A, E, R>(effect: Effect.Effect<A, E, R>) => {
  const runs = { count: 0 }
  return { runs, effect: Effect.suspend(() => (runs.count++, effect)) }
}
