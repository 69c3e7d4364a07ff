/**
 * Versioned schema migrations, run with `@effect/sql`'s Migrator. Each migration speaks both
 * dialects dbscope supports, so the same history builds the `users` table on SQLite and MySQL.
 * A `users` table dbscope did not create is refused before the Migrator writes anything (it makes
 * its own bookkeeping table first, outside its transaction).
 */
import * as Migrator from "@effect/sql/Migrator"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import { DatabaseError, fromSqlError } from "../client/DatabaseError.js"
import * as UsersTable from "./UsersTable.js"

// `IF NOT EXISTS`: a `users` table already there has passed `UsersTable.checkBeforeMigrating`, so it
// is dbscope's own, made before this history was recorded: it is adopted as it is.
const createUsers = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.onDialectOrElse({
    mysql: () =>
      sql`CREATE TABLE IF NOT EXISTS users (
        user_id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
        name VARCHAR(200) NOT NULL,
        email VARCHAR(254) NOT NULL,
        age INT NOT NULL,
        created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
        CONSTRAINT users_email_unique UNIQUE (email),
        CONSTRAINT users_age_range CHECK (age BETWEEN 0 AND 150)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
    orElse: () =>
      sql`CREATE TABLE IF NOT EXISTS users (
        user_id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        email TEXT NOT NULL UNIQUE,
        age INTEGER NOT NULL CHECK (age BETWEEN 0 AND 150),
        created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
      )`
  })
})

/** Every migration, by `<id>_<name>`. Ids only grow: a lower id added later would be skipped. */
export const migrations = Migrator.fromRecord({
  "1_create_users": createUsers
})

const migrator = Migrator.make({})

/** What `migrate` did. */
export interface Migrated {
  /** The migrations that ran (none when already current). */
  readonly applied: ReadonlyArray<readonly [id: number, name: string]>
  /** Whether a `users` table of dbscope's shape was already there, made before the history recorded it. */
  readonly adopted: boolean
}

const runMigrator = migrator({ loader: migrations, table: "dbscope_migrations" }).pipe(
  Effect.catchTags({
    SqlError: (error) => Effect.fail(fromSqlError("migrating the schema")(error)),
    MigrationError: (error) =>
      Effect.fail(
        new DatabaseError({
          operation: "migrating the schema",
          reason: error.message,
          code: error.reason,
          cause: error
        })
      )
  }),
  Effect.withSpan("Migrations.run")
)

/**
 * Brings the schema up to date, after checking that a `users` table already there is dbscope's:
 * `ForeignUsersTable` otherwise, with nothing written.
 */
export const migrate: Effect.Effect<
  Migrated,
  DatabaseError | UsersTable.ForeignUsersTable,
  SqlClient.SqlClient
> = Effect.gen(function*() {
  const existed = yield* UsersTable.checkBeforeMigrating
  const applied = yield* runMigrator
  return { applied, adopted: existed && applied.some(([id]) => id === 1) }
})

/** Brings the schema up to date; returns the migrations that ran (none when already current). */
export const run: Effect.Effect<
  ReadonlyArray<readonly [id: number, name: string]>,
  DatabaseError | UsersTable.ForeignUsersTable,
  SqlClient.SqlClient
> = Effect.map(migrate, (migrated) => migrated.applied)
