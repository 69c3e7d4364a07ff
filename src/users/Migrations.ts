/**
 * Versioned schema migrations, run with `@effect/sql`'s Migrator. Each migration speaks both
 * dialects dbscope supports, so the same history builds the `users` table on SQLite and MySQL.
 */
import * as Migrator from "@effect/sql/Migrator"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import { DatabaseError, fromSqlError } from "../client/DatabaseError.js"

const createUsers = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.onDialectOrElse({
    mysql: () =>
      sql`CREATE TABLE users (
        user_id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
        name VARCHAR(200) NOT NULL,
        email VARCHAR(254) NOT NULL,
        age INT NOT NULL,
        created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
        CONSTRAINT users_email_unique UNIQUE (email),
        CONSTRAINT users_age_range CHECK (age BETWEEN 0 AND 150)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
    orElse: () =>
      sql`CREATE TABLE users (
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

const migrate = Migrator.make({})

/** Brings the schema up to date; returns the migrations that ran (none when already current). */
export const run: Effect.Effect<
  ReadonlyArray<readonly [id: number, name: string]>,
  DatabaseError,
  SqlClient.SqlClient
> = migrate({ loader: migrations, table: "dbscope_migrations" }).pipe(
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
