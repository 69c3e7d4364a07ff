import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as path from "node:path"
import { driverCode } from "../../src/client/DatabaseError.js"
import * as SqliteDatabase from "../../src/client/SqliteDatabase.js"
import { tempDirectory } from "../../src/testing/TestDatabase.js"
import * as Migrations from "../../src/users/Migrations.js"

describe("Migrations", () => {
  it.scoped("create the users table once; running again applies nothing and keeps the data", () =>
    Effect.gen(function*() {
      const file = path.join(yield* tempDirectory, "m.db")
      const result = yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const first = yield* Migrations.run
        yield* sql`INSERT INTO users (name, email, age) VALUES ('A', 'a@example.com', 1)`
        const second = yield* Migrations.run
        const rows = yield* sql<{ n: number }>`SELECT COUNT(*) AS n FROM users`
        const columns = yield* sql<{ name: string }>`SELECT name FROM pragma_table_info('users') ORDER BY cid`
        return { first, second, rows, columns: columns.map((c) => c.name) }
      }).pipe(Effect.provide(SqliteDatabase.layer({ filename: file })))
      assert.deepStrictEqual(result.first, [[1, "create_users"]])
      assert.deepStrictEqual(result.second, [])
      assert.deepStrictEqual(result.rows, [{ n: 1 }])
      assert.deepStrictEqual(result.columns, ["user_id", "name", "email", "age", "created_at"])
    }))

  it.scoped("the table enforces the age range and unique e-mails itself", () =>
    Effect.gen(function*() {
      const file = path.join(yield* tempDirectory, "c.db")
      const codes = yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* Migrations.run
        yield* sql`INSERT INTO users (name, email, age) VALUES ('A', 'a@example.com', 1)`
        const code = driverCode
        return [
          code(yield* Effect.flip(sql`INSERT INTO users (name, email, age) VALUES ('B', 'b@example.com', 151)`)),
          code(yield* Effect.flip(sql`INSERT INTO users (name, email, age) VALUES ('C', 'a@example.com', 2)`))
        ]
      }).pipe(Effect.provide(SqliteDatabase.layer({ filename: file })))
      assert.deepStrictEqual(codes, ["SQLITE_CONSTRAINT_CHECK", "SQLITE_CONSTRAINT_UNIQUE"])
    }))
})
