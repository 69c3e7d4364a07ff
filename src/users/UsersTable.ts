/**
 * Whether the database's `users` table is dbscope's: the same columns, of the same kinds, with
 * `user_id` an auto-numbered primary key. Another program may have made a `users` table of its own
 * in the same file or database: migrating over it failed half-way, and reading it failed with
 * "run `dbscope setup`", which could not help. The table is compared before anything is written
 * (`PRAGMA table_info` on SQLite, `information_schema.COLUMNS` on MySQL and PostgreSQL), so that `setup` refuses
 * it without changing anything and the read commands say why they cannot read it.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { type DatabaseError, fromSqlError } from "../client/DatabaseError.js"

/** What a column must hold, whatever the dialect's name for it. */
type Kind = "integer" | "text" | "timestamp"

/** dbscope's columns, in the order the migration creates them. */
const expected: ReadonlyArray<readonly [name: string, kind: Kind]> = [
  ["user_id", "integer"],
  ["name", "text"],
  ["email", "text"],
  ["age", "integer"],
  ["created_at", "timestamp"]
]

const kindWords: Record<Kind, string> = { integer: "an integer", text: "text", timestamp: "a date and time" }

/** A column as the database describes it. */
interface Column {
  readonly name: string
  readonly type: string
  /** Whether it is the table's primary key and numbered by the database itself. */
  readonly autoNumbered: boolean
  /** Whether it is part of the primary key. */
  readonly key: boolean
}

/** How the `users` table compares with dbscope's. */
export type Verdict = Data.TaggedEnum<{
  /** There is no `users` table (yet). */
  Absent: Record<never, never>
  /** The table is dbscope's (or one of the same shape). */
  Matches: Record<never, never>
  /** The table is another one: each difference as a short phrase. */
  Differs: { readonly differences: ReadonlyArray<string> }
}>
export const Verdict = Data.taggedEnum<Verdict>()

/** A `users` table dbscope did not create: `setup` leaves it alone and the read commands cannot read it. */
export class ForeignUsersTable extends Schema.TaggedError<ForeignUsersTable>()("ForeignUsersTable", {
  differences: Schema.Array(Schema.String),
  /** What to do instead, for the backend in use. */
  advice: Schema.String
}) {
  override get message() {
    return `the users table was not created by dbscope (${this.differences.join("; ")}): ${this.advice}`
  }
}

/** No `users` table at all: `setup` creates it. */
export class MissingUsersTable extends Schema.TaggedError<MissingUsersTable>()("MissingUsersTable", {}) {
  override get message() {
    return "there is no users table yet: run `dbscope setup`"
  }
}

/** SQLite's type affinity rules (https://sqlite.org/datatype3.html#determination_of_column_affinity). */
const sqliteKinds = (type: string): ReadonlyArray<Kind> => {
  const upper = type.toUpperCase()
  if (upper.includes("INT")) return ["integer"]
  if (/CHAR|CLOB|TEXT/.test(upper)) return ["text", "timestamp"]
  // DATETIME, TIMESTAMP, DATE: NUMERIC affinity, yet a `YYYY-MM-DD HH:MM:SS` text stays text.
  if (/DATE|TIME/.test(upper)) return ["timestamp"]
  return []
}

const mysqlKinds = (type: string): ReadonlyArray<Kind> => {
  const lower = type.toLowerCase()
  if (/^(tiny|small|medium|big)?int(eger)?$/.test(lower)) return ["integer"]
  if (/^(var)?char$|text$/.test(lower)) return ["text"]
  if (lower === "timestamp" || lower === "datetime") return ["timestamp"]
  return []
}

const postgresKinds = (type: string): ReadonlyArray<Kind> => {
  const lower = type.toLowerCase()
  if (lower === "smallint" || lower === "integer" || lower === "bigint") return ["integer"]
  if (lower === "text" || lower === "character varying" || lower === "character") return ["text"]
  if (lower.startsWith("timestamp")) return ["timestamp"]
  return []
}

/** A name read from someone else's table, safe to print on one line. */
const shown = (name: string) => {
  const text = /^\w{1,40}$/.test(name) ? name : JSON.stringify(name)
  return text.length > 42 ? `${text.slice(0, 39)}..."` : text
}

/** The differences between `columns` and dbscope's table, as short phrases (none: they match). */
export const compare = (
  columns: ReadonlyArray<Column>,
  kindsOf: (type: string) => ReadonlyArray<Kind>
): ReadonlyArray<string> => {
  const byName = new Map(columns.map((column) => [column.name.toLowerCase(), column]))
  const wanted = new Set(expected.map(([name]) => name))
  const missing = expected.filter(([name]) => !byName.has(name)).map(([name]) => name)
  const extra = columns.filter((column) => !wanted.has(column.name.toLowerCase())).map((column) => shown(column.name))
  const differences: Array<string> = []
  if (missing.length > 0) differences.push(`missing columns ${missing.join(", ")}`)
  if (extra.length > 0) {
    const listed = extra.length > 8 ? [...extra.slice(0, 8), `and ${extra.length - 8} more`] : extra
    differences.push(`extra columns ${listed.join(", ")}`)
  }
  for (const [name, kind] of expected) {
    const column = byName.get(name)
    if (column === undefined) continue
    if (!kindsOf(column.type).includes(kind)) {
      differences.push(`${name} is ${shown(column.type.toUpperCase() || "untyped")}, not ${kindWords[kind]}`)
    }
  }
  const userId = byName.get("user_id")
  const keys = columns.filter((column) => column.key)
  if (userId !== undefined && (!userId.autoNumbered || keys.length !== 1)) {
    differences.push("user_id is not the auto-numbered primary key")
  }
  return differences
}

interface SqliteColumn {
  readonly name: string
  readonly type: string
  readonly pk: number
}

interface PostgresColumn {
  readonly name: string
  readonly type: string
  readonly key: boolean
  readonly numbered: boolean
}

interface MysqlColumn {
  readonly name: string
  readonly type: string
  readonly column_key: string
  readonly extra: string
}

/** Compares the database's `users` table with dbscope's. Reads the catalogue only: writes nothing. */
export const inspect: Effect.Effect<Verdict, DatabaseError, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const found = yield* sql.onDialectOrElse({
    mysql: () =>
      Effect.map(
        sql<MysqlColumn>`SELECT COLUMN_NAME AS name, DATA_TYPE AS type, COLUMN_KEY AS column_key, EXTRA AS extra
          FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'users'
          ORDER BY ORDINAL_POSITION`,
        (rows) => ({
          kindsOf: mysqlKinds,
          columns: rows.map((row): Column => ({
            name: String(row.name),
            type: String(row.type),
            key: row.column_key === "PRI",
            autoNumbered: row.column_key === "PRI" && String(row.extra).toLowerCase().includes("auto_increment")
          }))
        })
      ),
    pg: () =>
      Effect.map(
        sql<PostgresColumn>`SELECT c.column_name AS name, c.data_type AS type,
            (c.is_identity = 'YES' OR coalesce(c.column_default, '') LIKE 'nextval(%') AS numbered,
            EXISTS (SELECT 1 FROM pg_index i
                    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
                    WHERE i.indrelid = to_regclass('users') AND i.indisprimary
                      AND a.attname = c.column_name) AS key
          FROM information_schema.columns c
          WHERE c.table_schema = current_schema() AND c.table_name = 'users'
          ORDER BY c.ordinal_position`,
        (rows) => ({
          kindsOf: postgresKinds,
          columns: rows.map((row): Column => ({
            name: String(row.name),
            type: String(row.type),
            key: row.key,
            autoNumbered: row.key && row.numbered
          }))
        })
      ),
    orElse: () =>
      Effect.map(
        sql<SqliteColumn>`SELECT name, type, pk FROM pragma_table_info('users') ORDER BY cid`,
        (rows) => ({
          kindsOf: sqliteKinds,
          columns: rows.map((row): Column => ({
            name: String(row.name),
            type: String(row.type),
            key: row.pk > 0,
            // Only `INTEGER PRIMARY KEY` aliases the rowid, which SQLite numbers by itself.
            autoNumbered: row.pk === 1 && String(row.type).toUpperCase() === "INTEGER"
          }))
        })
      )
  }).pipe(Effect.mapError(fromSqlError("reading the schema")))
  if (found.columns.length === 0) return Verdict.Absent()
  const differences = compare(found.columns, found.kindsOf)
  return differences.length === 0 ? Verdict.Matches() : Verdict.Differs({ differences })
}).pipe(Effect.withSpan("UsersTable.inspect"))

const foreign = (differences: ReadonlyArray<string>) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.fail(
      new ForeignUsersTable({
        differences,
        advice: sql.onDialectOrElse({
          mysql: () => "use another database in --url, or rename that table",
          pg: () => "use another database in --url, or rename that table",
          orElse: () => "use another --db file, or rename that table"
        })
      })
    ))

/**
 * Before migrating: no `users` table, or dbscope's. Fails with `ForeignUsersTable` otherwise.
 * Succeeds with whether a table was already there.
 */
export const checkBeforeMigrating: Effect.Effect<
  boolean,
  ForeignUsersTable | DatabaseError,
  SqlClient.SqlClient
> = Effect.flatMap(inspect, (verdict) =>
  Verdict.$match(verdict, {
    Absent: () => Effect.succeed(false),
    Matches: () => Effect.succeed(true),
    Differs: ({ differences }) => foreign(differences)
  }))

/** Before reading: dbscope's `users` table must be there (`MissingUsersTable` otherwise, or `ForeignUsersTable`). */
export const ensure: Effect.Effect<
  void,
  ForeignUsersTable | MissingUsersTable | DatabaseError,
  SqlClient.SqlClient
> = Effect.flatMap(inspect, (verdict) =>
  Verdict.$match(verdict, {
    Absent: () => Effect.fail(new MissingUsersTable()),
    Matches: () => Effect.void,
    Differs: ({ differences }) => foreign(differences)
  }))
