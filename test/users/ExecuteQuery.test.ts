import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Mysql from "mysql2"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { MysqlDatabase } from "../../src/client/MysqlDatabase.js"
import { SqliteDatabase } from "../../src/client/SqliteDatabase.js"
import * as TestDatabase from "../../src/testing/TestDatabase.js"
import { executeQuery } from "../../src/users/ExecuteQuery.js"
import { UserRepo } from "../../src/users/UserRepo.js"
import { mysqlAvailable, mysqlServer } from "../support/Backends.js"

/** `text` without --write, which must be refused as a ReadOnlyQuery; gives its message. */
const refused = (text: string) =>
  Effect.flatMap(Effect.either(executeQuery(text)), (result) => {
    assert.strictEqual(result._tag, "Left", `${text} ran`)
    if (result._tag === "Right") return Effect.die(text)
    assert.strictEqual(result.left._tag, "ReadOnlyQuery", `${text}: ${result.left.message}`)
    assert.notInclude(result.left.message, "\n")
    return Effect.succeed(result.left.message)
  })

describe("executeQuery", () => {
  layer(TestDatabase.layer({ sample: true }))("on the sample", (it) => {
    it.effect("binds parameters: SELECT * FROM users WHERE age > ? with 25 gives 804 rows", () =>
      Effect.gen(function*() {
        const rows = yield* executeQuery("SELECT * FROM users WHERE age > ?", [25])
        assert.strictEqual(rows.length, 804)
        assert.hasAllKeys(rows[0], ["user_id", "name", "email", "age", "created_at"])
      }))

    it.effect("a parameter is data, never SQL", () =>
      Effect.gen(function*() {
        const rows = yield* executeQuery("SELECT * FROM users WHERE name = ?", ["' OR 1=1 --"])
        assert.deepStrictEqual(rows, [])
        assert.strictEqual(yield* (yield* UserRepo).count, 1000)
      }))

    it.effect("read-only by default: a write is refused and changes nothing", () =>
      Effect.gen(function*() {
        for (const text of ["DELETE FROM users", "UPDATE users SET age = 1", "DROP TABLE users"]) {
          const error = yield* Effect.flip(executeQuery(text))
          assert.strictEqual(error._tag, "ReadOnlyQuery", text)
        }
        assert.strictEqual(yield* (yield* UserRepo).count, 1000)
        // The connection is writable again afterwards.
        const user = yield* (yield* UserRepo).insert({ name: "After", email: "after@example.com", age: 3 })
        assert.isAbove(user.user_id, 1000)
      }))

    it.effect("with write: true a statement may change the database", () =>
      Effect.gen(function*() {
        yield* executeQuery("DELETE FROM users WHERE email = ?", ["after@example.com"], { write: true })
        assert.strictEqual(yield* (yield* UserRepo).count, 1000)
      }))

    it.effect("syntax errors, unknown tables and several statements are QueryErrors", () =>
      Effect.gen(function*() {
        const messages = yield* Effect.forEach(
          ["SELEC * FROM users", "SELECT * FROM nope", "SELECT 1; DELETE FROM users", ""],
          (text) => Effect.map(Effect.flip(executeQuery(text, [], { write: true })), (e) => `${e._tag}: ${e.message}`)
        )
        assert.include(messages[0], "QueryError")
        assert.include(messages[1], "no such table")
        assert.include(messages[2], "more than one statement")
        assert.include(messages[3], "QueryError")
        assert.strictEqual(yield* (yield* UserRepo).count, 1000)
      }))
  })

  layer(TestDatabase.layer({ sample: true }))("the read-only gate on a SQLite file", (it) => {
    /** The files in the database's folder, and the settings a statement could change. */
    const state = Effect.gen(function*() {
      const database = yield* SqliteDatabase
      const files = fs.readdirSync(path.dirname(database.filename)).sort()
      const settings = yield* database.withHandle((db) => ({
        journal_mode: db.pragma("journal_mode", { simple: true }),
        foreign_keys: db.pragma("foreign_keys", { simple: true }),
        user_version: db.pragma("user_version", { simple: true }),
        query_only: db.pragma("query_only", { simple: true }),
        // "temp" comes and goes with SQLite's own sorting; an attached database would stay.
        databases: (db.pragma("database_list") as Array<{ name: string }>).filter((d) => d.name !== "temp").length,
        inTransaction: db.inTransaction
      }))
      return { files, settings }
    })

    it.effect("side effects that SQLite calls read-only are refused before they run: no file, no setting changed", () =>
      Effect.gen(function*() {
        const dir = path.dirname((yield* SqliteDatabase).filename)
        const before = yield* state
        const texts = [
          `VACUUM INTO '${path.join(dir, "copy.db")}'`,
          `ATTACH '${path.join(dir, "attached.db")}' AS other`,
          "PRAGMA journal_mode=DELETE",
          "PRAGMA journal_mode(DELETE)",
          "pragma main.journal_mode = 'delete'",
          "PRAGMA foreign_keys = OFF",
          "PRAGMA user_version = 7",
          "PRAGMA query_only = 0",
          "EXPLAIN PRAGMA foreign_keys = OFF",
          "/* a comment */ PRAGMA foreign_keys = OFF",
          // SQLite skips empty statements, and compiling this pragma is enough to change the setting.
          "; ;PRAGMA foreign_keys = OFF",
          "PRAGMA optimize",
          "PRAGMA wal_checkpoint(TRUNCATE)",
          "BEGIN",
          "SAVEPOINT s",
          "ANALYZE",
          "DETACH other"
        ]
        const messages = yield* Effect.forEach(texts, refused)
        assert.deepStrictEqual(yield* state, before)
        assert.include(messages[0], "VACUUM")
        assert.include(messages[1], "ATTACH")
        assert.include(messages[2], "PRAGMA")
        assert.include(messages[0], "--write")
      }))

    it.effect("reads run: SELECT, WITH, VALUES, EXPLAIN, reading PRAGMAs, comments", () =>
      Effect.gen(function*() {
        const before = yield* state
        const count = (rows: ReadonlyArray<Record<string, unknown>>) => rows.length
        assert.strictEqual(count(yield* executeQuery("SELECT * FROM users WHERE age > ?", [25])), 804)
        assert.strictEqual(
          count(yield* executeQuery("WITH old AS (SELECT * FROM users WHERE age > 40) SELECT * FROM old")),
          707
        )
        assert.strictEqual(count(yield* executeQuery("VALUES (1), (2)")), 2)
        assert.isAbove(count(yield* executeQuery("EXPLAIN SELECT * FROM users")), 0)
        assert.isAbove(count(yield* executeQuery("EXPLAIN QUERY PLAN SELECT * FROM users WHERE age > 40")), 0)
        assert.strictEqual(count(yield* executeQuery("PRAGMA table_info(users)")), 5)
        assert.strictEqual(count(yield* executeQuery("select * from pragma_table_info('users')")), 5)
        assert.deepStrictEqual(yield* executeQuery("PRAGMA journal_mode"), [{ journal_mode: "wal" }])
        assert.deepStrictEqual(yield* executeQuery("pragma main.user_version"), [{ user_version: 0 }])
        assert.strictEqual(count(yield* executeQuery("PRAGMA integrity_check")), 1)
        assert.strictEqual(
          count(yield* executeQuery("-- who is old?\n/* over 40 */ SELECT name FROM users WHERE age > 40 -- done")),
          707
        )
        assert.deepStrictEqual(yield* state, before)
      }))
  })

  describe.skipIf(!mysqlAvailable)("the read-only gate on MariaDB", () => {
    const server = mysqlServer.replace(/\/+$/, "")

    /** A connection of the test's own, outside dbscope (another client of the server). */
    const otherClient = Effect.acquireRelease(
      Effect.sync(() => {
        const connection = Mysql.createConnection({ uri: server })
        // A connection killed by a statement that should have been refused fails the test, not the run.
        connection.on("error", () => undefined)
        return connection
      }),
      (connection) => Effect.sync(() => connection.destroy())
    )
    const ask = (connection: Mysql.Connection, sql: string, values: ReadonlyArray<unknown> = []) =>
      Effect.async<Array<Record<string, unknown>>, Error>((resume) => {
        connection.query(
          { sql, values: [...values] },
          (error, rows) =>
            resume(error === null ? Effect.succeed(rows as Array<Record<string, unknown>>) : Effect.fail(error))
        )
      })
    const one = (connection: Mysql.Connection, sql: string, values: ReadonlyArray<unknown> = []) =>
      Effect.map(ask(connection, sql, values), (rows) => Object.values(rows[0] ?? {})[0])

    layer(TestDatabase.layerMysql({ sample: true }))("on a database of its own", (it) => {
      it.scoped("SET GLOBAL is refused: @@global.max_connections is unchanged", () =>
        Effect.gen(function*() {
          const admin = yield* otherClient
          const original = Number(yield* one(admin, "SELECT @@global.max_connections"))
          // Restored whatever happens: the server is shared with other tests.
          yield* Effect.addFinalizer(() => Effect.orDie(ask(admin, `SET GLOBAL max_connections = ${original}`)))
          for (
            const text of [
              `SET GLOBAL max_connections = ${original + 1}`,
              `set @@global.max_connections = ${original + 1}`,
              `/*!SET GLOBAL max_connections = ${original + 1}*/`,
              `/*M!100000 SET GLOBAL max_connections = ${original + 1}*/`
            ]
          ) {
            const message = yield* refused(text)
            assert.include(message, "--write", text)
          }
          // A second statement is refused by the server: prepared, a statement is one statement.
          const second = yield* Effect.flip(
            executeQuery(`SELECT 1 /*!; SET GLOBAL max_connections = ${original + 1}*/`)
          )
          assert.strictEqual(second._tag, "QueryError")
          assert.strictEqual(Number(yield* one(admin, "SELECT @@global.max_connections")), original)
        }))

      it.scoped("KILL is refused: the other client's connection is still alive", () =>
        Effect.gen(function*() {
          const other = yield* otherClient
          const id = Number(yield* one(other, "SELECT CONNECTION_ID()"))
          for (const text of [`KILL ${id}`, `KILL QUERY ${id}`, `kill connection ${id}`, `# note\nKILL ${id}`]) {
            assert.include(yield* refused(text), "KILL", text)
          }
          assert.strictEqual(Number(yield* one(other, "SELECT 1")), 1)
        }))

      it.scoped("SELECT ... INTO OUTFILE / DUMPFILE / @var is refused: no file is written on the server", () =>
        Effect.gen(function*() {
          const file = path.join("/tmp", `dbscope-outfile-${crypto.randomBytes(6).toString("hex")}`)
          yield* Effect.addFinalizer(() => Effect.sync(() => fs.rmSync(file, { force: true })))
          for (
            const text of [
              `SELECT * FROM users INTO OUTFILE '${file}'`,
              `select name from users limit 1 into dumpfile '${file}'`,
              `SELECT * FROM users /*! INTO OUTFILE '${file}' */`,
              `(SELECT 1) INTO OUTFILE '${file}'`,
              `SELECT 'it\\'s' INTO OUTFILE '${file}' -- '`,
              "SELECT 1 INTO @x"
            ]
          ) {
            assert.include(yield* refused(text), "INTO", text)
          }
          assert.isFalse(fs.existsSync(file))
        }))

      it.scoped("ANALYZE, OPTIMIZE, CHECK TABLE and other statements that do not only read are refused", () =>
        Effect.gen(function*() {
          const admin = yield* otherClient
          const database = (yield* MysqlDatabase).database
          const stats =
            "SELECT last_update FROM mysql.innodb_table_stats WHERE database_name = ? AND table_name = 'users'"
          yield* ask(
            admin,
            "UPDATE mysql.innodb_table_stats SET last_update = '2001-01-01 00:00:00' WHERE database_name = ? AND table_name = 'users'",
            [database]
          )
          const before = String(yield* one(admin, stats, [database]))
          for (
            const text of [
              "ANALYZE TABLE users",
              "OPTIMIZE TABLE users",
              "CHECK TABLE users",
              "REPAIR TABLE users",
              "DO 1",
              "DO GET_LOCK('dbscope_lock', 0)",
              "SELECT GET_LOCK('dbscope_lock', 0)",
              "HANDLER users OPEN",
              "LOCK TABLES users READ",
              "FLUSH STATUS",
              "CREATE TEMPORARY TABLE t (a INT)",
              "CALL nope()",
              "EXPLAIN ANALYZE SELECT * FROM users",
              "ANALYZE SELECT * FROM users",
              "START TRANSACTION",
              "LOAD DATA INFILE '/etc/hostname' INTO TABLE users",
              "INSERT INTO users (name, email, age) VALUES ('a', 'a@example.com', 1)"
            ]
          ) {
            yield* refused(text)
          }
          assert.strictEqual(String(yield* one(admin, stats, [database])), before)
          assert.strictEqual(Number(yield* one(admin, "SELECT IS_FREE_LOCK('dbscope_lock')")), 1)
          assert.strictEqual(yield* (yield* UserRepo).count, 1000)
        }))

      it.scoped("a sequence's NEXTVAL and SETVAL are refused by the read-only transaction", () =>
        Effect.gen(function*() {
          yield* executeQuery("CREATE SEQUENCE counter", [], { write: true })
          yield* refused("SELECT NEXTVAL(counter)")
          yield* refused("SELECT SETVAL(counter, 100)")
          yield* refused("SELECT NEXT VALUE FOR counter")
          const [row] = yield* executeQuery("SELECT next_not_cached_value AS next FROM counter")
          assert.strictEqual(Number(row?.next), 1)
        }))

      it.scoped("reads run: SELECT, WITH, SHOW, DESCRIBE, EXPLAIN, comments, parentheses; writes still run with write", () =>
        Effect.gen(function*() {
          const count = (rows: ReadonlyArray<unknown>) => rows.length
          assert.strictEqual(count(yield* executeQuery("SELECT * FROM users WHERE age > ?", [25])), 804)
          assert.strictEqual(
            count(yield* executeQuery("WITH old AS (SELECT * FROM users WHERE age > 40) SELECT * FROM old")),
            707
          )
          assert.include(
            (yield* executeQuery("SHOW TABLES")).map((row) => Object.values(row)[0]),
            "users"
          )
          assert.strictEqual(count(yield* executeQuery("DESCRIBE users")), 5)
          assert.strictEqual(count(yield* executeQuery("desc users")), 5)
          assert.isAbove(count(yield* executeQuery("EXPLAIN SELECT * FROM users WHERE age > 40")), 0)
          assert.strictEqual(
            count(yield* executeQuery("# who?\n/* old */ (select name FROM users WHERE age > 40) -- done")),
            707
          )
          assert.strictEqual(count(yield* executeQuery("SELECT 'into outfile' AS `into` FROM users LIMIT 1")), 1)
          assert.strictEqual(count(yield* executeQuery("SELECT SLEEP(0) AS slept")), 1)
          assert.strictEqual(count(yield* executeQuery("SELECT @@global.max_connections AS n")), 1)
          assert.strictEqual(count(yield* executeQuery("VALUES (1), (2)")), 2)
          // Every pooled connection is writable again.
          const sql = yield* SqlClient.SqlClient
          yield* Effect.all(
            Array.from(
              { length: 4 },
              (_, i) => sql`INSERT INTO users (name, email, age) VALUES (${"W"}, ${`w${i}@example.com`}, 3)`
            ),
            { concurrency: 4, discard: true }
          )
          yield* executeQuery("DELETE FROM users WHERE name = ?", ["W"], { write: true })
          assert.strictEqual(yield* (yield* UserRepo).count, 1000)
        }))
    })
  })
})
