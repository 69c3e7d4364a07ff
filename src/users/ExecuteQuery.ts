/**
 * The `ExecuteQuery` counterpart: run one parameterized statement written by the caller and get
 * its rows. Parameters are always bound, never spliced into the text; a query is read-only unless
 * the caller asks to write, and a rejected query leaves the database as it was. Read-only means
 * the backend's `ReadOnlyGate`: only a statement that reads runs (judged before it runs), on a
 * connection that refuses writes while it does.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { ReadOnlyGate } from "../client/core/ReadOnlyGate.js"
import { type DatabaseError, driverCode, driverMessage, fromSqlError } from "../client/DatabaseError.js"

/** The statement itself is wrong (syntax, unknown table or column, several statements, ...). */
export class QueryError extends Schema.TaggedError<QueryError>()("QueryError", { reason: Schema.String }) {
  override get message() {
    return `query failed: ${this.reason}`
  }
}

/** A statement that does more than read was refused (before it ran) because the caller did not allow writes. */
export class ReadOnlyQuery extends Schema.TaggedError<ReadOnlyQuery>()("ReadOnlyQuery", {
  /** What the statement would have done (`KILL ends a connection or a query`). */
  reason: Schema.String
}) {
  override get message() {
    return `${this.reason}: only statements that read run without --write`
  }
}

/** A row as the driver returns it: column name to value. */
export type Row = Readonly<Record<string, unknown>>

export interface ExecuteQueryOptions {
  /** Allow statements that change the database. Default false. */
  readonly write?: boolean | undefined
}

const userCodes = ["SQLITE_ERROR", "SQLITE_RANGE", "SQLITE_MISMATCH", "SQLITE_CONSTRAINT", "ER_PARSE_ERROR"]

/**
 * PostgreSQL's classes of errors in the statement itself: data (22), a constraint (23), syntax or
 * an unknown name (42, but for 42501, a privilege the user lacks); 08P01 is a parameter count
 * that does not match the placeholders.
 */
const postgresUserCode = (code: string) =>
  /^(?:22|23|42)[0-9A-Z]{3}$/.test(code) && code !== "42501" || code === "08P01"

const classify = (error: SqlError): QueryError | ReadOnlyQuery | DatabaseError => {
  const code = driverCode(error)
  const message = driverMessage(error)
  if (code === "SQLITE_READONLY" || /query_only|read[- ]only transaction/i.test(message)) {
    return new ReadOnlyQuery({ reason: "this statement writes to the database" })
  }
  // Errors about the caller's own statement are shown in full: the caller wrote that SQL.
  if (code === "UNKNOWN" || userCodes.some((prefix) => code.startsWith(prefix)) || postgresUserCode(code)) {
    return new QueryError({ reason: message })
  }
  return fromSqlError("running the query")(error)
}

/**
 * Runs one statement with bound parameters and returns its rows.
 *
 * @example
 * executeQuery("SELECT * FROM users WHERE age > ?", [25])
 */
export const executeQuery = (
  text: string,
  params: ReadonlyArray<unknown> = [],
  options: ExecuteQueryOptions = {}
): Effect.Effect<
  ReadonlyArray<Row>,
  QueryError | ReadOnlyQuery | DatabaseError,
  SqlClient.SqlClient | ReadOnlyGate
> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    if (options.write === true) return yield* sql.unsafe<Row>(text, params)
    const gate = yield* ReadOnlyGate
    const verdict = yield* gate.check(text)
    if (verdict._tag === "Refused") return yield* new ReadOnlyQuery({ reason: verdict.reason })
    // What a statement's text cannot show (a write inside a function), the connection itself refuses.
    return yield* Effect.scoped(Effect.gen(function*() {
      const connection = yield* sql.reserve
      yield* Effect.acquireRelease(
        connection.executeUnprepared(gate.enter, [], undefined),
        () => Effect.orDie(connection.executeUnprepared(gate.leave, [], undefined))
      )
      // Prepared, as with `write`: a prepared statement is one statement, on every backend.
      return (yield* connection.execute(text, params, undefined)) as ReadonlyArray<Row>
    }))
  }).pipe(
    Effect.catchTag("SqlError", (error) => Effect.fail(classify(error))),
    Effect.withSpan("executeQuery")
  )
