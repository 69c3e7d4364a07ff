/**
 * A `users` table dbscope did not create: `setup` refuses it before writing anything (no migration
 * history, the same schema), and the read side says so; a table of dbscope's shape made before the
 * history recorded it is adopted. On real SQLite files and a database of its own on MariaDB.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import Sqlite from "better-sqlite3"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as crypto from "node:crypto"
import * as path from "node:path"
import * as MysqlDatabase from "../../src/client/MysqlDatabase.js"
import * as SqliteDatabase from "../../src/client/SqliteDatabase.js"
import { tempDirectory } from "../../src/testing/TestDatabase.js"
import * as Migrations from "../../src/users/Migrations.js"
import * as Progress from "../../src/users/Progress.js"
import { setup } from "../../src/users/Setup.js"
import { UserRepo } from "../../src/users/UserRepo.js"
import * as UsersTable from "../../src/users/UsersTable.js"
import { backends, mysqlAvailable, mysqlServer } from "../support/Backends.js"

const foreignUsers = "CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT, created TEXT)"

/** A SQLite file another program made with `statements` (its own journal mode, a row of its own). */
const otherProgramsFile = (statements: string) =>
  Effect.map(tempDirectory, (dir) => {
    const file = path.join(dir, "other.db")
    const db = new Sqlite(file)
    db.exec(statements)
    db.close()
    return file
  })

/** Every table, index and trigger of a SQLite file, and its rows of `users`, read by another connection. */
const snapshot = (file: string) => {
  const db = new Sqlite(file, { readonly: true })
  try {
    return {
      schema: db.prepare("SELECT type, name, sql FROM sqlite_schema ORDER BY name").all(),
      users: db.prepare("SELECT * FROM users").all()
    }
  } finally {
    db.close()
  }
}

const onFile = (file: string) => Layer.provideMerge(UserRepo.Default, SqliteDatabase.layer({ filename: file }))

const setupOnly = setup({}).pipe(Effect.provide(Progress.layerSilent))

describe("UsersTable on SQLite files", () => {
  it.scoped("setup refuses another program's users table, naming the differences, and writes nothing", () =>
    Effect.gen(function*() {
      const file = yield* otherProgramsFile(`${foreignUsers}; INSERT INTO users (username) VALUES ('ann')`)
      const before = snapshot(file)
      const error = yield* Effect.flip(setupOnly.pipe(Effect.provide(onFile(file))))
      assert.strictEqual(error._tag, "ForeignUsersTable")
      if (error._tag !== "ForeignUsersTable") return
      assert.deepStrictEqual(error.differences, [
        "missing columns user_id, name, email, age, created_at",
        "extra columns id, username, created"
      ])
      assert.strictEqual(
        error.message,
        "the users table was not created by dbscope (missing columns user_id, name, email, age, created_at; " +
          "extra columns id, username, created): use another --db file, or rename that table"
      )
      // No migration history left behind, the other program's table and row as they were.
      assert.deepStrictEqual(snapshot(file), before)
    }))

  it.scoped("a column of another kind, or a user_id that SQLite does not number, is a difference", () =>
    Effect.gen(function*() {
      const file = yield* otherProgramsFile(
        "CREATE TABLE users (user_id INT PRIMARY KEY, name TEXT, email VARCHAR(254), age TEXT, created_at DATETIME)"
      )
      const before = snapshot(file)
      const verdict = yield* UsersTable.inspect.pipe(Effect.provide(SqliteDatabase.layer({ filename: file })))
      assert.deepStrictEqual(
        verdict,
        UsersTable.Verdict.Differs({
          differences: ["age is TEXT, not an integer", "user_id is not the auto-numbered primary key"]
        })
      )
      const error = yield* Effect.flip(Migrations.run.pipe(Effect.provide(SqliteDatabase.layer({ filename: file }))))
      assert.strictEqual(error._tag, "ForeignUsersTable")
      assert.deepStrictEqual(snapshot(file), before)
    }))

  it.scoped("a table of dbscope's shape without a migration history is adopted, its users kept", () =>
    Effect.gen(function*() {
      const file = yield* otherProgramsFile(
        `CREATE TABLE users (user_id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, email TEXT NOT NULL UNIQUE,
           age INTEGER NOT NULL CHECK (age BETWEEN 0 AND 150), created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);
         INSERT INTO users (name, email, age) VALUES ('Ann Example', 'ann@example.com', 30)`
      )
      const [first, second, users] = yield* Effect.all([
        setupOnly,
        setupOnly,
        Effect.flatMap(UserRepo, (repo) => repo.all())
      ]).pipe(Effect.provide(onFile(file)))
      assert.deepStrictEqual([first.migrations, first.adopted], [[[1, "create_users"]], true])
      assert.deepStrictEqual([second.migrations, second.adopted], [[], false])
      assert.deepStrictEqual(users.map((user) => user.email), ["ann@example.com"])
    }))

  it.scoped("before reading: no users table is MissingUsersTable, another program's is ForeignUsersTable", () =>
    Effect.gen(function*() {
      const empty = yield* otherProgramsFile("CREATE TABLE notes (body TEXT)")
      const foreign = yield* otherProgramsFile(foreignUsers)
      const [missing, other] = yield* Effect.all([
        Effect.flip(UsersTable.ensure.pipe(Effect.provide(SqliteDatabase.layer({ filename: empty })))),
        Effect.flip(UsersTable.ensure.pipe(Effect.provide(SqliteDatabase.layer({ filename: foreign }))))
      ])
      assert.strictEqual(missing.message, "there is no users table yet: run `dbscope setup`")
      assert.strictEqual(other._tag, "ForeignUsersTable")
    }))

  it("a column name that would break the line is quoted, and a long list is cut", () => {
    const columns = ["a\nb", ...Array.from({ length: 10 }, (_, i) => `c${i}`)].map((name) => ({
      name,
      type: "TEXT",
      key: false,
      autoNumbered: false
    }))
    const [, extra] = UsersTable.compare(columns, () => ["text"])
    assert.strictEqual(extra, "extra columns \"a\\nb\", c0, c1, c2, c3, c4, c5, c6, and 3 more")
  })
})

for (const backend of backends) {
  describe.skipIf(!backend.available)(`UsersTable on ${backend.name}`, () => {
    it.scoped("dbscope's own migrated table matches", () =>
      Effect.gen(function*() {
        assert.deepStrictEqual(yield* UsersTable.inspect, UsersTable.Verdict.Matches())
        yield* UsersTable.ensure
      }).pipe(Effect.provide(backend.layer())))
  })
}

describe.skipIf(!mysqlAvailable)("UsersTable on MySQL/MariaDB", () => {
  /** A database of its own on the server with `statements` run in it, and its client; dropped afterwards. */
  const serverDatabase = (statements: ReadonlyArray<string>) =>
    Effect.gen(function*() {
      const url = Redacted.make(
        `${mysqlServer.replace(/\/+$/, "")}/dbscope_test_${crypto.randomBytes(6).toString("hex")}`
      )
      yield* Effect.acquireRelease(
        MysqlDatabase.createDatabase({ url }),
        () => Effect.orDie(MysqlDatabase.dropDatabase({ url }))
      )
      const client = MysqlDatabase.layer({ url, poolSize: 2 })
      yield* Effect.forEach(statements, (statement) =>
        Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(statement)).pipe(Effect.provide(client)))
      return client
    })

  const tables = Effect.flatMap(
    SqlClient.SqlClient,
    (sql) =>
      sql<{ readonly name: string }>`SELECT TABLE_NAME AS name FROM information_schema.TABLES
        WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME`
  )

  it.scoped("setup refuses another program's users table and creates no migration history", () =>
    Effect.gen(function*() {
      const client = yield* serverDatabase([
        "CREATE TABLE users (id INT AUTO_INCREMENT PRIMARY KEY, username VARCHAR(50), created DATETIME)"
      ])
      const error = yield* Effect.flip(setupOnly.pipe(Effect.provide(Layer.provideMerge(UserRepo.Default, client))))
      assert.strictEqual(
        error.message,
        "the users table was not created by dbscope (missing columns user_id, name, email, age, created_at; " +
          "extra columns id, username, created): use another database in --url, or rename that table"
      )
      assert.deepStrictEqual(yield* tables.pipe(Effect.provide(client)), [{ name: "users" }])
    }))

  it.scoped("a VARCHAR age is a difference; dbscope's columns with an INT user_id that is not numbered too", () =>
    Effect.gen(function*() {
      const client = yield* serverDatabase([
        `CREATE TABLE users (user_id INT PRIMARY KEY, name VARCHAR(200), email VARCHAR(254), age VARCHAR(10),
          created_at TIMESTAMP)`
      ])
      const verdict = yield* UsersTable.inspect.pipe(Effect.provide(client))
      assert.deepStrictEqual(
        verdict,
        UsersTable.Verdict.Differs({
          differences: ["age is VARCHAR, not an integer", "user_id is not the auto-numbered primary key"]
        })
      )
      const error = yield* Effect.flip(Migrations.run.pipe(Effect.provide(client)))
      assert.strictEqual(error._tag, "ForeignUsersTable")
      assert.deepStrictEqual(yield* tables.pipe(Effect.provide(client)), [{ name: "users" }])
    }))
})
