/**
 * End-to-end: spawns the real `dbscope` executable (built by `npm test`'s pretest) and checks exit
 * codes, stderr and stdout as a user or a script would see them.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import Sqlite from "better-sqlite3"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import * as MysqlDatabase from "../../src/client/MysqlDatabase.js"
import * as PostgresDatabase from "../../src/client/PostgresDatabase.js"
import { tempDirectory } from "../../src/testing/TestDatabase.js"
import { mysqlAvailable, mysqlServer, postgresAvailable, postgresServer } from "../support/Backends.js"
import { clusterAvailable, clusterDatabase } from "../support/Cluster.js"
import { runCli, runProcess, type RunResult } from "../support/RunCli.js"

const dbscope = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  runCli(args, { env: { ...env, NO_COLOR: "1" } })

const checksum = (file: string) => crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex")

/** Exactly one line on stderr, no stack trace. */
const assertOneLine = (result: RunResult, text: string) => {
  const lines = result.stderr.trimEnd().split("\n")
  assert.strictEqual(lines.length, 1, `one line on stderr, got: ${result.stderr}`)
  assert.include(lines[0], text)
  assert.notInclude(result.stderr, "    at ")
}

/** A temp database set up from the bundled sample. */
const sampleDatabase = Effect.gen(function*() {
  const db = path.join(yield* tempDirectory, "users.db")
  const setup = yield* dbscope(["--db", db, "setup"])
  assert.strictEqual(setup.code, 0, setup.stderr)
  return db
})

/**
 * Tests here run up to fifteen CLI processes of ~1 s each (two at a time), and every run is killed
 * after 120 s: a test's own limit of 3 minutes leaves room for a loaded 2-core machine.
 */
const slow = { timeout: 180_000 }

describe("dbscope CLI", slow, () => {
  it.effect("--help lists the commands and exits 0", () =>
    Effect.gen(function*() {
      const result = yield* dbscope(["--help"])
      assert.strictEqual(result.code, 0)
      for (const command of ["setup", "users", "query", "count", "demo"]) assert.include(result.stdout, command)
    }))

  it.effect("--help never shows the password of a DATABASE_URL or --url", () =>
    Effect.gen(function*() {
      const url = "mysql://root:help-s3cret@127.0.0.1:1/test"
      const argsList = [["--help"], ["users", "--help"], ["--url", url, "users", "--help"]]
      const results = yield* Effect.forEach(argsList, (args) => dbscope(args, { DATABASE_URL: url }), {
        concurrency: 2
      })
      results.forEach((result, i) => {
        assert.strictEqual(result.code, 0, result.stderr)
        assert.notInclude(result.stdout + result.stderr, "help-s3cret", argsList[i]?.join(" "))
      })
    }))

  it.effect("npx dbscope runs the package's own executable inside the checkout", () =>
    Effect.gen(function*() {
      const result = yield* runProcess("npx", ["--yes", "dbscope", "--version"], { timeout: 60_000 })
      assert.strictEqual(result.code, 0, result.stderr)
      assert.include(result.stdout, "0.1.0")
    }))

  it.scoped("setup imports the sample once; running it again skips every row", () =>
    Effect.gen(function*() {
      const db = path.join(yield* tempDirectory, "sub", "users.db")
      const first = yield* dbscope(["--db", db, "setup"])
      assert.strictEqual(first.code, 0, first.stderr)
      assert.include(first.stdout, "1000 inserted, 0 skipped")
      assert.strictEqual(fs.statSync(db).mode & 0o777, 0o600)
      const second = yield* dbscope(["--db", db, "setup"])
      assert.include(second.stdout, "Schema: up to date")
      assert.include(second.stdout, "0 inserted, 1000 skipped")
      assert.strictEqual((yield* dbscope(["--db", db, "count"])).stdout.trim(), "1000")
    }))

  it.scoped("users --older-than 40 --json prints only a JSON array of 707 users", () =>
    Effect.gen(function*() {
      const db = yield* sampleDatabase
      const result = yield* dbscope(["--db", db, "users", "--older-than", "40", "--json"])
      assert.strictEqual(result.code, 0, result.stderr)
      const users = JSON.parse(result.stdout) as Array<{ age: number }>
      assert.strictEqual(users.length, 707)
      assert.isTrue(users.every((user) => user.age > 40))
      assert.strictEqual(result.stderr, "")
    }))

  it.scoped("users prints a readable table; DBSCOPE_DB selects the database", () =>
    Effect.gen(function*() {
      const db = yield* sampleDatabase
      const result = yield* dbscope(["users", "--limit", "2"], { DBSCOPE_DB: db })
      assert.strictEqual(result.code, 0, result.stderr)
      const lines = result.stdout.trimEnd().split("\n")
      assert.match(lines[0] ?? "", /^user_id\s+name\s+email\s+age\s+created_at$/)
      assert.include(lines[2], "Johnnie Mayer")
      assert.strictEqual(lines.at(-1), "(2 rows)")
    }))

  it.scoped("bad option values are usage errors: exit 2, one line, database unchanged", () =>
    Effect.gen(function*() {
      const db = yield* sampleDatabase
      const before = checksum(db)
      const [range, negative, text] = yield* Effect.all([
        dbscope(["--db", db, "users", "--older-than", "200"]),
        dbscope(["--db", db, "users", "--limit", "-1"]),
        dbscope(["--db", db, "users", "--older-than", "abc"])
      ], { concurrency: 2 })
      assert.strictEqual(range.code, 2)
      assertOneLine(range, "between 0 and 150")
      assert.strictEqual(negative.code, 2)
      assertOneLine(negative, "--limit")
      assert.strictEqual(text.code, 2)
      assert.notInclude(text.stderr, "    at ")
      assert.strictEqual(checksum(db), before)
    }))

  it.scoped("query binds --param values and is read-only unless --write", () =>
    Effect.gen(function*() {
      const db = yield* sampleDatabase
      const before = checksum(db)
      // Reads and refused writes only: none of them may change the file, so they can run side by side.
      const [rows, refused, injection, syntax] = yield* Effect.all([
        dbscope(["--db", db, "query", "SELECT name FROM users WHERE age > ?", "--param", "100", "--json"]),
        dbscope(["--db", db, "query", "DELETE FROM users"]),
        dbscope(["--db", db, "query", "SELECT * FROM users WHERE email = ?", "--param", "' OR 1=1; --"]),
        dbscope(["--db", db, "query", "SELEC 1"])
      ], { concurrency: 2 })
      assert.strictEqual(rows.code, 0, rows.stderr)
      assert.strictEqual((JSON.parse(rows.stdout) as Array<unknown>).length, 171)
      assert.strictEqual(refused.code, 1)
      assertOneLine(refused, "--write")
      assert.include(injection.stdout, "(0 rows)")
      assert.strictEqual(syntax.code, 1)
      assertOneLine(syntax, "syntax error")
      assert.strictEqual(checksum(db), before)
      const written = yield* dbscope([
        "--db",
        db,
        "query",
        "DELETE FROM users WHERE age > ?",
        "--param",
        "100",
        "--write"
      ])
      assert.strictEqual(written.code, 0, written.stderr)
      assert.strictEqual((yield* dbscope(["--db", db, "count"])).stdout.trim(), "829")
    }))

  it.scoped("a missing, non-SQLite or directory database is one line and exit 1, nothing created", () =>
    Effect.gen(function*() {
      const dir = yield* tempDirectory
      const missing = path.join(dir, "missing.db")
      const text = path.join(dir, "notes.txt")
      fs.writeFileSync(text, "not a database, just some text that is long enough\n")
      const noSchema = path.join(dir, "empty.db")
      fs.writeFileSync(noSchema, "")
      const [result, notDb, directory, unmigrated] = yield* Effect.all([
        dbscope(["--db", missing, "users"]),
        dbscope(["--db", text, "count"]),
        dbscope(["--db", dir, "count"]),
        dbscope(["--db", noSchema, "count"])
      ], { concurrency: 2 })
      assert.strictEqual(result.code, 1)
      assertOneLine(result, "no such file")
      assert.isFalse(fs.existsSync(missing))
      assert.strictEqual(notDb.code, 1)
      assertOneLine(notDb, "not a SQLite database")
      assert.strictEqual(directory.code, 2)
      assertOneLine(directory, "regular file")
      assert.strictEqual(unmigrated.code, 1)
      assertOneLine(unmigrated, "dbscope setup")
      assert.notInclude(unmigrated.stderr, "no such table")
    }))

  it.scoped("setup on another program's users table: one line naming the columns, exit 1, schema unchanged", () =>
    Effect.gen(function*() {
      const file = path.join(yield* tempDirectory, "other.db")
      const made = new Sqlite(file)
      made.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT, created TEXT)")
      made.exec("INSERT INTO users (username, created) VALUES ('ann', '2020-01-01')")
      made.close()
      fs.chmodSync(file, 0o600)
      const schema = () => {
        const db = new Sqlite(file, { readonly: true })
        const rows = [
          db.prepare("SELECT type, name, sql FROM sqlite_schema ORDER BY name").all(),
          db.prepare("SELECT * FROM users").all()
        ]
        db.close()
        return rows
      }
      const before = schema()
      const said = "the users table was not created by dbscope (missing columns user_id, name, email, age, " +
        "created_at; extra columns id, username, created): use another --db file, or rename that table"
      for (const args of [["setup"], ["setup"], ["users"], ["average-age"]]) {
        const result = yield* dbscope(["--db", file, ...args])
        assert.strictEqual(result.code, 1, args.join(" "))
        assertOneLine(result, said)
      }
      // No migration history, no dbscope table: what the other program made, as it made it.
      assert.deepStrictEqual(schema(), before)
    }))

  it.scoped("setup adopts a users table of dbscope's shape made before the migration history", () =>
    Effect.gen(function*() {
      const file = path.join(yield* tempDirectory, "older.db")
      const made = new Sqlite(file)
      made.exec(`CREATE TABLE users (user_id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL,
        email TEXT NOT NULL UNIQUE, age INTEGER NOT NULL CHECK (age BETWEEN 0 AND 150),
        created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)`)
      made.exec("INSERT INTO users (name, email, age) VALUES ('Ann Example', 'ann@example.com', 30)")
      made.close()
      fs.chmodSync(file, 0o600)
      const first = yield* dbscope(["--db", file, "setup", "--synthetic", "2"])
      assert.strictEqual(first.code, 0, first.stderr)
      assert.include(first.stdout, "Schema: adopted the existing users table")
      assert.include(first.stdout, "Users in database: 3")
      const second = yield* dbscope(["--db", file, "setup", "--synthetic", "0"])
      assert.include(second.stdout, "Schema: up to date")
    }))

  it.scoped("setup with a bad CSV names the line, exits 1 and leaves the database unchanged", () =>
    Effect.gen(function*() {
      const db = yield* sampleDatabase
      const csv = path.join(path.dirname(db), "bad.csv")
      fs.writeFileSync(csv, "name,email,age\nGood,good@example.com,20\nBad,bad@example.com,200\n")
      const before = checksum(db)
      const result = yield* dbscope(["--db", db, "setup", "--csv", csv])
      assert.strictEqual(result.code, 1)
      assertOneLine(result, "line 3")
      assert.strictEqual(checksum(db), before)
    }))

  it.scoped("setup --synthetic adds deterministic users that never collide", () =>
    Effect.gen(function*() {
      const dir = yield* tempDirectory
      const dump = (db: string) =>
        Effect.map(
          dbscope(["--db", db, "query", "SELECT user_id, name, email, age FROM users", "--json"]),
          (result) => result.stdout
        )
      const [a, b] = (yield* Effect.forEach(["a.db", "b.db"], (name) =>
        Effect.gen(function*() {
          const db = path.join(dir, name)
          const result = yield* dbscope(["--db", db, "setup", "--synthetic", "1500"])
          assert.strictEqual(result.code, 0, result.stderr)
          assert.include(result.stdout, "Added 1500 synthetic users")
          return db
        }), { concurrency: 2 })) as [string, string]
      const [dumpA, dumpB] = yield* Effect.all([dump(a), dump(b)], { concurrency: 2 })
      assert.strictEqual(dumpA, dumpB)
      const again = yield* dbscope(["--db", a, "setup", "--csv", "data/user_data.csv", "--synthetic", "700"])
      assert.strictEqual(again.code, 0, again.stderr)
      assert.include(again.stdout, "Users in database: 3200")
      const ages = JSON.parse(yield* dump(a)) as Array<{ age: number }>
      assert.isTrue(ages.every((user) => user.age >= 1 && user.age <= 120))
    }))

  it.scoped("concurrent fetches both result sets on the reader pool, and --sequential on one connection", () =>
    Effect.gen(function*() {
      const db = yield* sampleDatabase
      const [json, pooled, sequential, bad] = yield* Effect.all([
        dbscope(["--db", db, "concurrent", "--json"]),
        dbscope(["--db", db, "concurrent", "--older-than", "100"]),
        dbscope(["--db", db, "concurrent", "--sequential"]),
        dbscope(["--db", db, "concurrent", "--older-than", "-3"])
      ], { concurrency: 2 })
      assert.strictEqual(json.code, 0, json.stderr)
      const parsed = JSON.parse(json.stdout) as { allUsers: Array<unknown>; olderUsers: Array<unknown> }
      assert.deepStrictEqual([parsed.allUsers.length, parsed.olderUsers.length], [1000, 707])
      assert.match(pooled.stdout, /concurrently on \d+ reader workers/)
      assert.match(pooled.stdout, /users older than 100\s+171 rows/)
      assert.match(pooled.stdout, /total\s+[\d.]+ ms/)
      assert.include(sequential.stdout, "one after the other on one connection")
      assert.match(sequential.stdout, /all users\s+1,000 rows/)
      assert.strictEqual(bad.code, 2)
      assertOneLine(bad, "between 0 and 150")
    }))

  it.scoped("dashboard prints the four aggregates, and JSON with --json", () =>
    Effect.gen(function*() {
      const db = yield* sampleDatabase
      const [text, json] = yield* Effect.all([
        dbscope(["--db", db, "dashboard"]),
        dbscope(["--db", db, "dashboard", "--sequential", "--json"])
      ], { concurrency: 2 })
      assert.strictEqual(text.code, 0, text.stderr)
      assert.include(text.stdout, "average age: 62.379")
      assert.include(text.stdout, "older than 40: 707")
      assert.include(text.stdout, "yahoo.com 366, hotmail.com 333, gmail.com 301")
      assert.strictEqual((JSON.parse(json.stdout) as { usersOver40: number }).usersOver40, 707)
    }))

  it.scoped("stream, batches, paginate and average-age give the seed's figures", () =>
    Effect.gen(function*() {
      const db = yield* sampleDatabase
      const [stream, streamLimited, batches, kept, pages, average] = yield* Effect.all([
        dbscope(["--db", db, "stream", "--json"]),
        dbscope(["--db", db, "stream", "--limit", "5"]),
        dbscope(["--db", db, "batches", "--batch-size", "50"]),
        dbscope(["--db", db, "batches", "--batch-size", "50", "--older-than", "40", "--json"]),
        dbscope(["--db", db, "paginate", "--page-size", "100"]),
        dbscope(["--db", db, "average-age"])
      ], { concurrency: 2 })
      const lines = stream.stdout.trimEnd().split("\n")
      assert.strictEqual(lines.length, 1000)
      assert.strictEqual((JSON.parse(lines[999] ?? "{}") as { user_id: number }).user_id, 1000)
      assert.strictEqual(streamLimited.stdout.trimEnd().split("\n").length, 5)
      assert.include(batches.stdout, "20 batches, 804 users older than 25")
      assert.strictEqual(kept.stdout.trimEnd().split("\n").length, 707)
      assert.include(pages.stdout, "page 10: 100 users (ids 901..1000)")
      assert.include(pages.stdout, "10 pages")
      assert.strictEqual(average.stdout.trim(), "Average age of users: 62.379")
      const badSizes = [
        ["paginate", "--page-size", "0"],
        ["paginate", "--page-size", "-5"],
        ["batches", "--batch-size", "100001"]
      ] as const
      const bads = yield* Effect.forEach(
        badSizes,
        ([command, option, value]) => dbscope(["--db", db, command, option, value]),
        { concurrency: 2 }
      )
      bads.forEach((bad, i) => {
        assert.strictEqual(bad.code, 2, badSizes[i]?.join(" "))
        assertOneLine(bad, "from 1 to 100000")
      })
      const fraction = yield* dbscope(["--db", db, "paginate", "--page-size", "1.5"])
      assert.strictEqual(fraction.code, 2)
      assert.notInclude(fraction.stderr, "    at ")
    }))

  it.scoped("demo runs the exercises on a fresh database, its log lines on stderr", () =>
    Effect.gen(function*() {
      const db = path.join(yield* tempDirectory, "demo.db")
      const result = yield* dbscope(["--db", db, "demo"])
      assert.strictEqual(result.code, 0, result.stderr)
      assert.include(result.stdout, "SELECT * FROM users -> 1000 rows")
      assert.include(result.stdout, "with (25,) -> 804 rows")
      assert.include(result.stderr, "Database connection opened: demo.db")
      assert.include(result.stderr, "Database connection closed: demo.db")
      assert.include(result.stdout, "Average age of users: 62.379")
      assert.include(result.stdout, "lazy_paginate(100) -> 10 pages")
      assert.include(result.stdout, "fetch_all_users(query=\"SELECT * FROM users\") -> 1000 rows")
      assert.include(result.stdout, "get_user_by_id(user_id=1) -> (1, ")
      assert.include(result.stdout, "rolled back, still: Crawford_Cartwright@hotmail.com")
      assert.match(result.stderr, /WARN .*retry 1 of 5 in \d+ ms after: writing users failed: the database is locked/)
      assert.include(result.stdout, "update_user_email while another connection writes -> done")
      assert.include(result.stdout, "the same call again (served from the cache) -> 1000 rows")
      assert.include(result.stdout, "after inserting a user (the write dropped the cached result) -> 1001 rows")
      assert.include(result.stdout, "dbscope serve --port 8080")
      // No log line on stdout: no pretty-logger timestamp, no logfmt line, no level.
      assert.notMatch(result.stdout, /^\[\d{2}:\d{2}:\d{2}\.\d{3}\]|^timestamp=|\b(?:DEBUG|INFO|WARN)\b/m)
      const again = yield* dbscope(["--db", db, "demo"])
      assert.strictEqual(again.code, 0, again.stderr)
      assert.include(again.stdout, "SELECT * FROM users -> 1000 rows", "the demo leaves the database as it found it")
    }))

  it.scoped("demo leaves an existing database as it found it, byte for byte (it runs on a temporary copy)", () =>
    Effect.gen(function*() {
      const db = yield* sampleDatabase
      const before = checksum(db)
      const user1 = (yield* dbscope(["--db", db, "users", "--limit", "1", "--json"])).stdout
      assert.include(user1, "Ross.Reynolds21@hotmail.com")
      const result = yield* dbscope(["--db", db, "demo"])
      assert.strictEqual(result.code, 0, result.stderr)
      assert.include(result.stdout, "committed: Crawford_Cartwright@hotmail.com", "the demo changed its copy")
      assert.strictEqual(checksum(db), before)
      assert.strictEqual((yield* dbscope(["--db", db, "users", "--limit", "1", "--json"])).stdout, user1)
      assert.deepStrictEqual(fs.readdirSync(path.dirname(db)), ["users.db"], "no copy left beside it")
    }))

  it.scoped("a database file other users can read opens with a one-line warning on stderr", () =>
    Effect.gen(function*() {
      const db = yield* sampleDatabase
      assert.strictEqual(fs.statSync(db).mode & 0o777, 0o600, "created private")
      assert.strictEqual((yield* dbscope(["--db", db, "count"])).stderr, "")
      fs.chmodSync(db, 0o644)
      const shared = yield* dbscope(["--db", db, "count"])
      assert.strictEqual(shared.code, 0)
      assert.strictEqual(shared.stdout.trim(), "1000")
      assertOneLine(shared, "can be read by other users (mode 0644); `chmod 600")
      fs.chmodSync(db, 0o666)
      assertOneLine(yield* dbscope(["--db", db, "count"]), "can be read and written by other users (mode 0666)")
    }))

  it.scoped("--log-queries logs every statement to stderr as logfmt, values hidden; stdout keeps only data", () =>
    Effect.gen(function*() {
      const db = yield* sampleDatabase
      const [result, quiet] = yield* Effect.all([
        dbscope(["--db", db, "--log-queries", "users", "--older-than", "140", "--json"]),
        dbscope(["--db", db, "count"])
      ], { concurrency: 2 })
      assert.strictEqual(result.code, 0, result.stderr)
      assert.doesNotThrow(() => JSON.parse(result.stdout))
      const line = result.stderr.split("\n").find((entry) => entry.includes("FROM users WHERE age > ?"))
      assert.isDefined(line)
      assert.match(line ?? "", /level=INFO .*durationMs=[\d.]+ params="\[3 hidden\]" rows=\d+/)
      assert.notInclude(result.stderr, "140")
      assert.strictEqual(quiet.stderr, "")
    }))

  it.scoped("query --cache-demo answers the second identical query from the cache", () =>
    Effect.gen(function*() {
      const db = yield* sampleDatabase
      const [result, write] = yield* Effect.all([
        dbscope([
          "--db",
          db,
          "query",
          "SELECT count(*) AS n FROM users WHERE age > ?",
          "--param",
          "40",
          "--cache-demo",
          "--json"
        ]),
        // Refused before it opens the database (a usage error), so it can run beside the read.
        dbscope(["--db", db, "query", "DELETE FROM users", "--write", "--cache-demo"])
      ], { concurrency: 2 })
      assert.strictEqual(result.code, 0, result.stderr)
      assert.deepStrictEqual(JSON.parse(result.stdout), [{ n: 707 }])
      assert.include(result.stderr, "ran the query (cache miss)")
      assert.include(result.stderr, "served from the cache (hit): the same 1 row")
      assert.include(result.stderr, "cache: 1 hit, 1 miss")
      assert.strictEqual(write.code, 2)
      assertOneLine(write, "--cache-demo caches reads")
    }))
})

/** Users as JSON, without the time each was stored (which differs between two databases). */
const withoutTimes = (json: string) =>
  (JSON.parse(json) as Array<Record<string, unknown>>).map(({ created_at: _, ...user }) => user)

/** The read commands print on the server at `url` what they print on the SQLite file `db`. */
const printsAsOnSqlite = (url: string, db: string) =>
  Effect.forEach(
    [
      ["count"],
      ["average-age"],
      ["dashboard"],
      ["paginate", "--page-size", "300"],
      ["batches", "--batch-size", "400"],
      ["query", "--param", "30", "SELECT COUNT(*) AS n FROM users WHERE age < ?"]
    ],
    (args) =>
      Effect.gen(function*() {
        const [onServer, onSqlite] = yield* Effect.all([
          dbscope(["--url", url, ...args]),
          dbscope(["--db", db, ...args])
        ], { concurrency: 2 })
        assert.strictEqual(onServer.code, 0, onServer.stderr)
        // The dashboard's last line says how its queries ran and how long they took.
        const figures = (stdout: string) => args[0] === "dashboard" ? stdout.trim().split("\n").slice(0, -1) : stdout
        assert.deepStrictEqual(figures(onServer.stdout), figures(onSqlite.stdout), args.join(" "))
      }),
    { discard: true }
  )

/** A database server the CLI runs on: how to reach it, and what differs in its SQL. */
interface ServerBackend {
  readonly name: string
  readonly available: boolean
  readonly server: string
  /** A user the server lets in with any password, or none: the login is refused. */
  readonly refusedUser: string
  readonly drop: (url: string) => Effect.Effect<void, unknown>
  readonly create: (url: string) => Effect.Effect<void, unknown>
  readonly client: (url: string) => Layer.Layer<SqlClient.SqlClient, unknown>
  readonly foreignTable: string
  readonly tablesSql: string
  readonly readersSay: string
}

const serverBackends: ReadonlyArray<ServerBackend> = [
  {
    name: "MySQL/MariaDB",
    available: mysqlAvailable,
    server: mysqlServer.replace(/\/+$/, ""),
    refusedUser: "root",
    drop: (url) => MysqlDatabase.dropDatabase({ url: Redacted.make(url) }),
    create: (url) => MysqlDatabase.createDatabase({ url: Redacted.make(url) }),
    client: (url) => MysqlDatabase.layer({ url: Redacted.make(url), poolSize: 1 }),
    foreignTable: "CREATE TABLE users (id INT AUTO_INCREMENT PRIMARY KEY, username VARCHAR(50), created DATETIME)",
    tablesSql: "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()",
    readersSay: "reader workers (MySQL)"
  },
  {
    name: "PostgreSQL",
    available: postgresAvailable,
    server: postgresServer.replace(/\/+$/, ""),
    // The local server trusts its users: a role that does not exist is what it refuses.
    refusedUser: "dbscope_no_such_role",
    drop: (url) => PostgresDatabase.dropDatabase({ url: Redacted.make(url) }),
    create: (url) => PostgresDatabase.createDatabase({ url: Redacted.make(url) }),
    client: (url) => PostgresDatabase.layer({ url: Redacted.make(url), poolSize: 1 }),
    foreignTable: "CREATE TABLE users (id SERIAL PRIMARY KEY, username VARCHAR(50), created TIMESTAMP)",
    tablesSql: "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()",
    readersSay: "reader workers (PostgreSQL)"
  }
]

for (const backend of serverBackends) {
  describe.skipIf(!backend.available)(`dbscope CLI on ${backend.name}`, slow, () => {
    const server = backend.server
    const scheme = server.slice(0, server.indexOf(":"))

    /** A database name of its own on the server, dropped when the test ends. */
    const freshDatabase = Effect.acquireRelease(
      Effect.sync(() => `${server}/dbscope_cli_${crypto.randomBytes(6).toString("hex")}`),
      (url) => Effect.orDie(backend.drop(url))
    )

    it.scoped(
      "setup --url creates the database; the commands print what they print on SQLite",
      () =>
        Effect.gen(function*() {
          const url = yield* freshDatabase
          const setup = yield* dbscope(["--url", url, "setup"])
          assert.strictEqual(setup.code, 0, setup.stderr)
          assert.include(setup.stdout, "Imported")
          assert.include(setup.stdout, "1000 inserted, 0 skipped")
          assert.include((yield* dbscope(["--url", url, "setup"])).stdout, "0 inserted, 1000 skipped")
          const db = yield* sampleDatabase
          yield* printsAsOnSqlite(url, db)
          const [older, olderOnSqlite] = yield* Effect.all([
            dbscope(["--url", url, "users", "--older-than", "40", "--json"]),
            dbscope(["--db", db, "users", "--older-than", "40", "--json"])
          ], { concurrency: 2 })
          assert.deepStrictEqual(withoutTimes(older.stdout), withoutTimes(olderOnSqlite.stdout))
          const [fromEnv, text] = yield* Effect.all([
            dbscope(["concurrent", "--json"], { DATABASE_URL: url }),
            dbscope(["--url", url, "concurrent"])
          ], { concurrency: 2 })
          assert.strictEqual(fromEnv.code, 0, fromEnv.stderr)
          const pair = JSON.parse(fromEnv.stdout) as { allUsers: Array<unknown>; olderUsers: Array<unknown> }
          assert.deepStrictEqual([pair.allUsers.length, pair.olderUsers.length], [1000, 707])
          assert.include(text.stdout, backend.readersSay)
        })
    )

    it.scoped("an unreachable server, a refused login, a missing database: one line, exit 1, no password", () =>
      Effect.gen(function*() {
        const host = new URL(server.replace(/^[a-z]+:/, "http:")).host
        const [refused, denied, missing, both] = yield* Effect.all([
          dbscope(["--url", `${scheme}://root:pw-123@127.0.0.1:1/test`, "count"]),
          dbscope(["--url", `${scheme}://${backend.refusedUser}:pw-123@${host}/test`, "count"]),
          dbscope(["--url", `${server}/dbscope_missing_db`, "users"]),
          dbscope(["--db", "x.db", "--url", `${server}/test`, "count"])
        ], { concurrency: 2 })
        assert.strictEqual(refused.code, 1)
        assertOneLine(refused, `cannot connect to ${scheme}://root@127.0.0.1:1/test: the server is not reachable`)
        assert.strictEqual(denied.code, 1)
        assertOneLine(denied, "access denied")
        assert.strictEqual(missing.code, 1)
        assertOneLine(missing, "the database does not exist")
        for (const result of [refused, denied]) assert.notInclude(result.stderr + result.stdout, "pw-123")
        assert.strictEqual(both.code, 2)
      }))

    /** Runs `statements` in the database at `url` (which must exist). */
    const runOn = (url: string, statements: ReadonlyArray<string>) =>
      Effect.forEach(
        statements,
        (statement) => Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(statement)),
        { discard: true }
      ).pipe(Effect.provide(backend.client(url)), Effect.orDie)

    it.scoped("setup --url on another program's users table: one line, exit 1, no table of dbscope's created", () =>
      Effect.gen(function*() {
        const url = yield* freshDatabase
        yield* backend.create(url).pipe(Effect.orDie)
        yield* runOn(url, [backend.foreignTable])
        const said = "the users table was not created by dbscope (missing columns user_id, name, email, age, " +
          "created_at; extra columns id, username, created): use another database in --url, or rename that table"
        for (const args of [["setup"], ["count"]]) {
          const result = yield* dbscope(["--url", url, ...args])
          assert.strictEqual(result.code, 1, args.join(" "))
          assertOneLine(result, said)
        }
        const tables = yield* Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(backend.tablesSql)).pipe(
          Effect.provide(backend.client(url)),
          Effect.orDie
        )
        assert.deepStrictEqual(tables, [{ name: "users" }])
      }))

    it.scoped("an age the table should not hold: average-age and dashboard name users.age, exit 1", () =>
      Effect.gen(function*() {
        const url = yield* freshDatabase
        assert.strictEqual((yield* dbscope(["--url", url, "setup", "--synthetic", "3"])).code, 0)
        yield* runOn(url, [
          "ALTER TABLE users DROP CONSTRAINT users_age_range",
          "INSERT INTO users (name, email, age) VALUES ('Cy Example', 'cy@example.com', 200)"
        ])
        for (const args of [["average-age"], ["dashboard"], ["users"]]) {
          const result = yield* dbscope(["--url", url, ...args])
          assert.strictEqual(result.code, 1, args.join(" "))
          assertOneLine(result, "users.age holds a value that is not an integer from 0 to 150 (200 in user_id 4)")
        }
      }))
  })
}

describe.skipIf(!clusterAvailable)("dbscope CLI on a Galera cluster (every node in the URL)", slow, () => {
  it.scoped("setup and every read command print what they print on SQLite", () =>
    Effect.gen(function*() {
      const url = Redacted.value(yield* clusterDatabase)
      const setup = yield* dbscope(["--url", url, "setup"])
      assert.strictEqual(setup.code, 0, setup.stderr)
      assert.include(setup.stdout, "1000 inserted, 0 skipped")
      const db = yield* sampleDatabase
      yield* printsAsOnSqlite(url, db)
      const [older, olderOnSqlite] = yield* Effect.all([
        dbscope(["--url", url, "users", "--older-than", "40", "--json"]),
        dbscope(["--db", db, "users", "--older-than", "40", "--json"])
      ], { concurrency: 2 })
      assert.deepStrictEqual(withoutTimes(older.stdout), withoutTimes(olderOnSqlite.stdout))
      const [concurrent, stream] = yield* Effect.all([
        dbscope(["--url", url, "concurrent", "--json"]),
        dbscope(["--url", url, "stream", "--limit", "3", "--json"])
      ], { concurrency: 2 })
      const pair = JSON.parse(concurrent.stdout) as { allUsers: Array<unknown>; olderUsers: Array<unknown> }
      assert.deepStrictEqual([pair.allUsers.length, pair.olderUsers.length], [1000, 707])
      assert.deepStrictEqual(
        stream.stdout.trim().split("\n").map((line) => (JSON.parse(line) as { user_id: number }).user_id),
        [1, 2, 3],
        "ids count up by one, as on one server"
      )
    }))
})
