/**
 * Statements compiled once and run many times: the hot path for point lookups. `@effect/sql`
 * builds a span and a scope around every templated statement (~12 µs, two to three times what
 * SQLite itself needs for a primary-key lookup); a prepared query skips both while still
 * running inside the caller's transaction when there is one.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/** A statement with `?` placeholders, ready to run with bound parameters. */
export type PreparedQuery = (params: ReadonlyArray<unknown>) => Effect.Effect<ReadonlyArray<unknown>, SqlError>

/** Prepares statements written with `?` placeholders (the same text works on SQLite and MySQL). */
export class PreparedQueries extends Context.Tag("dbscope/PreparedQueries")<PreparedQueries, {
  readonly prepare: (text: string) => PreparedQuery
}>() {
  /** Works on any `SqlClient`, through the standard (traced) statement path. */
  static readonly layerSqlClient: Layer.Layer<PreparedQueries, never, SqlClient.SqlClient> = Layer.effect(
    PreparedQueries,
    Effect.map(SqlClient.SqlClient, (sql) => ({
      prepare: (text: string) => (params: ReadonlyArray<unknown>) => sql.unsafe(text, params)
    }))
  )
}
