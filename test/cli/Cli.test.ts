/**
 * End-to-end: spawns the real `dbscope` executable (built by `npm test`'s pretest) and checks exit
 * codes, stderr and stdout as a user or a script would see them.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { spawnSync } from "node:child_process"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as MysqlDatabase from "../../src/client/MysqlDatabase.js"
import { tempDirectory } from "../../src/testing/TestDatabase.js"
import { mysqlAvailable, mysqlServer } from "../support/Backends.js"

const bin = fileURLToPath(new URL("../../dist/src/cli/bin.js", import.meta.url))

interface Result {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

const dbscope = (args: ReadonlyArray<string>, env: Record<string, string> = {}): Result => {
  const result = spawnSync(process.execPath, [bin, ...args], {
    encoding: "utf8",
    env: { ...process.env, ...env, NO_COLOR: "1" },
    timeout: 120_000
  })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

const checksum = (file: string) => crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex")

/** Exactly one line on stderr, no stack trace. */
const assertOneLine = (result: Result, text: string) => {
  const lines = result.stderr.trimEnd().split("\n")
  assert.strictEqual(lines.length, 1, `one line on stderr, got: ${result.stderr}`)
  assert.include(lines[0], text)
  assert.notInclude(result.stderr, "    at ")
}

/** A temp database set up from the bundled sample. */
const sampleDatabase = Effect.map(tempDirectory, (dir) => {
  const db = path.join(dir, "users.db")
  const setup = dbscope(["--db", db, "setup"])
  assert.strictEqual(setup.code, 0, setup.stderr)
  return db
})

describe("dbscope CLI", () => {
  it("--help lists the commands and exits 0", () => {
    const result = dbscope(["--help"])
    assert.strictEqual(result.code, 0)
    for (const command of ["setup", "users", "query", "count", "demo"]) assert.include(result.stdout, command)
  })

  it("--help never shows the password of a DATABASE_URL or --url", () => {
    const url = "mysql://root:help-s3cret@127.0.0.1:1/test"
    for (const args of [["--help"], ["users", "--help"], ["--url", url, "users", "--help"]]) {
      const result = dbscope(args, { DATABASE_URL: url })
      assert.strictEqual(result.code, 0, result.stderr)
      assert.notInclude(result.stdout + result.stderr, "help-s3cret", args.join(" "))
    }
  })

  it("npx dbscope runs the package's own executable inside the checkout", () => {
    const result = spawnSync("npx", ["--yes", "dbscope", "--version"], { encoding: "utf8", timeout: 60_000 })
    assert.strictEqual(result.status, 0, result.stderr)
    assert.include(result.stdout, "0.1.0")
  })

  it.scoped("setup imports the sample once; running it again skips every row", () =>
    Effect.gen(function*() {
      const db = path.join(yield* tempDirectory, "sub", "users.db")
      const first = dbscope(["--db", db, "setup"])
      assert.strictEqual(first.code, 0, first.stderr)
      assert.include(first.stdout, "1000 inserted, 0 skipped")
      assert.strictEqual(fs.statSync(db).mode & 0o777, 0o600)
      const second = dbscope(["--db", db, "setup"])
      assert.include(second.stdout, "Schema: up to date")
      assert.include(second.stdout, "0 inserted, 1000 skipped")
      assert.strictEqual(dbscope(["--db", db, "count"]).stdout.trim(), "1000")
    }))

  it.scoped("users --older-than 40 --json prints only a JSON array of 707 users", () =>
    Effect.gen(function*() {
      const db = yield* sampleDatabase
      const result = dbscope(["--db", db, "users", "--older-than", "40", "--json"])
      assert.strictEqual(result.code, 0, result.stderr)
      const users = JSON.parse(result.stdout) as Array<{ age: number }>
      assert.strictEqual(users.length, 707)
      assert.isTrue(users.every((user) => user.age > 40))
      assert.strictEqual(result.stderr, "")
    }))

  it.scoped("users prints a readable table; DBSCOPE_DB selects the database", () =>
    Effect.gen(function*() {
      const db = yield* sampleDatabase
      const result = dbscope(["users", "--limit", "2"], { DBSCOPE_DB: db })
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
      const range = dbscope(["--db", db, "users", "--older-than", "200"])
      assert.strictEqual(range.code, 2)
      assertOneLine(range, "between 0 and 150")
      const negative = dbscope(["--db", db, "users", "--limit", "-1"])
      assert.strictEqual(negative.code, 2)
      assertOneLine(negative, "--limit")
      const text = dbscope(["--db", db, "users", "--older-than", "abc"])
      assert.strictEqual(text.code, 2)
      assert.notInclude(text.stderr, "    at ")
      assert.strictEqual(checksum(db), before)
    }))

  it.scoped("query binds --param values and is read-only unless --write", () =>
    Effect.gen(function*() {
      const db = yield* sampleDatabase
      const rows = dbscope(["--db", db, "query", "SELECT name FROM users WHERE age > ?", "--param", "100", "--json"])
      assert.strictEqual(rows.code, 0, rows.stderr)
      assert.strictEqual((JSON.parse(rows.stdout) as Array<unknown>).length, 171)
      const before = checksum(db)
      const refused = dbscope(["--db", db, "query", "DELETE FROM users"])
      assert.strictEqual(refused.code, 1)
      assertOneLine(refused, "--write")
      const injection = dbscope(["--db", db, "query", "SELECT * FROM users WHERE email = ?", "--param", "' OR 1=1; --"])
      assert.include(injection.stdout, "(0 rows)")
      const syntax = dbscope(["--db", db, "query", "SELEC 1"])
      assert.strictEqual(syntax.code, 1)
      assertOneLine(syntax, "syntax error")
      assert.strictEqual(checksum(db), before)
      const written = dbscope(["--db", db, "query", "DELETE FROM users WHERE age > ?", "--param", "100", "--write"])
      assert.strictEqual(written.code, 0, written.stderr)
      assert.strictEqual(dbscope(["--db", db, "count"]).stdout.trim(), "829")
    }))

  it.scoped("a missing, non-SQLite or directory database is one line and exit 1, nothing created", () =>
    Effect.gen(function*() {
      const dir = yield* tempDirectory
      const missing = path.join(dir, "missing.db")
      const result = dbscope(["--db", missing, "users"])
      assert.strictEqual(result.code, 1)
      assertOneLine(result, "no such file")
      assert.isFalse(fs.existsSync(missing))
      const text = path.join(dir, "notes.txt")
      fs.writeFileSync(text, "not a database, just some text that is long enough\n")
      const notDb = dbscope(["--db", text, "count"])
      assert.strictEqual(notDb.code, 1)
      assertOneLine(notDb, "not a SQLite database")
      const directory = dbscope(["--db", dir, "count"])
      assert.strictEqual(directory.code, 2)
      assertOneLine(directory, "regular file")
      const noSchema = path.join(dir, "empty.db")
      fs.writeFileSync(noSchema, "")
      const unmigrated = dbscope(["--db", noSchema, "count"])
      assert.strictEqual(unmigrated.code, 1)
      assertOneLine(unmigrated, "dbscope setup")
      assert.notInclude(unmigrated.stderr, "no such table")
    }))

  it.scoped("setup with a bad CSV names the line, exits 1 and leaves the database unchanged", () =>
    Effect.gen(function*() {
      const db = yield* sampleDatabase
      const csv = path.join(path.dirname(db), "bad.csv")
      fs.writeFileSync(csv, "name,email,age\nGood,good@example.com,20\nBad,bad@example.com,200\n")
      const before = checksum(db)
      const result = dbscope(["--db", db, "setup", "--csv", csv])
      assert.strictEqual(result.code, 1)
      assertOneLine(result, "line 3")
      assert.strictEqual(checksum(db), before)
    }))

  it.scoped("setup --synthetic adds deterministic users that never collide", () =>
    Effect.gen(function*() {
      const dir = yield* tempDirectory
      const dump = (db: string) =>
        dbscope(["--db", db, "query", "SELECT user_id, name, email, age FROM users", "--json"])
      const [a, b] = ["a.db", "b.db"].map((name) => {
        const db = path.join(dir, name)
        const result = dbscope(["--db", db, "setup", "--synthetic", "1500"])
        assert.strictEqual(result.code, 0, result.stderr)
        assert.include(result.stdout, "Added 1500 synthetic users")
        return db
      }) as [string, string]
      assert.strictEqual(dump(a).stdout, dump(b).stdout)
      const again = dbscope(["--db", a, "setup", "--csv", "data/user_data.csv", "--synthetic", "700"])
      assert.strictEqual(again.code, 0, again.stderr)
      assert.include(again.stdout, "Users in database: 3200")
      const ages = JSON.parse(dump(a).stdout) as Array<{ age: number }>
      assert.isTrue(ages.every((user) => user.age >= 1 && user.age <= 120))
    }))

  it.scoped("concurrent fetches both result sets on the reader pool, and --sequential on one connection", () =>
    Effect.gen(function*() {
      const db = yield* sampleDatabase
      const json = dbscope(["--db", db, "concurrent", "--json"])
      assert.strictEqual(json.code, 0, json.stderr)
      const parsed = JSON.parse(json.stdout) as { allUsers: Array<unknown>; olderUsers: Array<unknown> }
      assert.deepStrictEqual([parsed.allUsers.length, parsed.olderUsers.length], [1000, 707])
      const pooled = dbscope(["--db", db, "concurrent", "--older-than", "100"])
      assert.match(pooled.stdout, /concurrently on \d+ reader workers/)
      assert.match(pooled.stdout, /users older than 100\s+171 rows/)
      assert.match(pooled.stdout, /total\s+[\d.]+ ms/)
      const sequential = dbscope(["--db", db, "concurrent", "--sequential"])
      assert.include(sequential.stdout, "one after the other on one connection")
      assert.match(sequential.stdout, /all users\s+1,000 rows/)
      const bad = dbscope(["--db", db, "concurrent", "--older-than", "-3"])
      assert.strictEqual(bad.code, 2)
      assertOneLine(bad, "between 0 and 150")
    }))

  it.scoped("dashboard prints the four aggregates, and JSON with --json", () =>
    Effect.gen(function*() {
      const db = yield* sampleDatabase
      const text = dbscope(["--db", db, "dashboard"])
      assert.strictEqual(text.code, 0, text.stderr)
      assert.include(text.stdout, "average age: 62.379")
      assert.include(text.stdout, "older than 40: 707")
      assert.include(text.stdout, "yahoo.com 366, hotmail.com 333, gmail.com 301")
      const json = JSON.parse(dbscope(["--db", db, "dashboard", "--sequential", "--json"]).stdout) as {
        usersOver40: number
      }
      assert.strictEqual(json.usersOver40, 707)
    }))

  it.scoped("stream, batches, paginate and average-age give the seed's figures", () =>
    Effect.gen(function*() {
      const db = yield* sampleDatabase
      const lines = dbscope(["--db", db, "stream", "--json"]).stdout.trimEnd().split("\n")
      assert.strictEqual(lines.length, 1000)
      assert.strictEqual((JSON.parse(lines[999] ?? "{}") as { user_id: number }).user_id, 1000)
      assert.strictEqual(dbscope(["--db", db, "stream", "--limit", "5"]).stdout.trimEnd().split("\n").length, 5)
      const batches = dbscope(["--db", db, "batches", "--batch-size", "50"]).stdout
      assert.include(batches, "20 batches, 804 users older than 25")
      const kept = dbscope(["--db", db, "batches", "--batch-size", "50", "--older-than", "40", "--json"]).stdout
      assert.strictEqual(kept.trimEnd().split("\n").length, 707)
      const pages = dbscope(["--db", db, "paginate", "--page-size", "100"]).stdout
      assert.include(pages, "page 10: 100 users (ids 901..1000)")
      assert.include(pages, "10 pages")
      assert.strictEqual(dbscope(["--db", db, "average-age"]).stdout.trim(), "Average age of users: 62.379")
      for (
        const [command, option, value] of [
          ["paginate", "--page-size", "0"],
          ["paginate", "--page-size", "-5"],
          ["batches", "--batch-size", "100001"]
        ] as const
      ) {
        const bad = dbscope(["--db", db, command, option, value])
        assert.strictEqual(bad.code, 2, `${command} ${option} ${value}`)
        assertOneLine(bad, "from 1 to 100000")
      }
      const fraction = dbscope(["--db", db, "paginate", "--page-size", "1.5"])
      assert.strictEqual(fraction.code, 2)
      assert.notInclude(fraction.stderr, "    at ")
    }))

  it.scoped("demo runs the exercises on a fresh database", () =>
    Effect.gen(function*() {
      const db = path.join(yield* tempDirectory, "demo.db")
      const result = dbscope(["--db", db, "demo"])
      assert.strictEqual(result.code, 0, result.stderr)
      assert.include(result.stdout, "SELECT * FROM users -> 1000 rows")
      assert.include(result.stdout, "with (25,) -> 804 rows")
      assert.include(result.stdout, "Database connection opened: demo.db")
      assert.include(result.stdout, "Database connection closed: demo.db")
      assert.include(result.stdout, "Average age of users: 62.379")
      assert.include(result.stdout, "lazy_paginate(100) -> 10 pages")
      assert.include(result.stdout, "fetch_all_users(query=\"SELECT * FROM users\") -> 1000 rows")
      assert.include(result.stdout, "get_user_by_id(user_id=1) -> (1, ")
      assert.include(result.stdout, "rolled back, still: Crawford_Cartwright@hotmail.com")
      assert.match(result.stdout, /WARN .*retry 1 of 5 in \d+ ms after: writing users failed: the database is locked/)
      assert.include(result.stdout, "update_user_email while another connection writes -> done")
      assert.include(result.stdout, "the same call again (served from the cache) -> 1000 rows")
      assert.include(result.stdout, "after inserting a user (the write dropped the cached result) -> 1001 rows")
      const again = dbscope(["--db", db, "demo"])
      assert.strictEqual(again.code, 0, again.stderr)
      assert.include(again.stdout, "SELECT * FROM users -> 1000 rows", "the demo leaves the database as it found it")
    }))

  it.scoped("a database file other users can read opens with a one-line warning on stderr", () =>
    Effect.gen(function*() {
      const db = yield* sampleDatabase
      assert.strictEqual(fs.statSync(db).mode & 0o777, 0o600, "created private")
      assert.strictEqual(dbscope(["--db", db, "count"]).stderr, "")
      fs.chmodSync(db, 0o644)
      const shared = dbscope(["--db", db, "count"])
      assert.strictEqual(shared.code, 0)
      assert.strictEqual(shared.stdout.trim(), "1000")
      assertOneLine(shared, "can be read by other users (mode 0644); `chmod 600")
      fs.chmodSync(db, 0o666)
      assertOneLine(dbscope(["--db", db, "count"]), "can be read and written by other users (mode 0666)")
    }))

  it.scoped("--log-queries logs every statement to stderr as logfmt, values hidden; stdout keeps only data", () =>
    Effect.gen(function*() {
      const db = yield* sampleDatabase
      const result = dbscope(["--db", db, "--log-queries", "users", "--older-than", "140", "--json"])
      assert.strictEqual(result.code, 0, result.stderr)
      assert.doesNotThrow(() => JSON.parse(result.stdout))
      const line = result.stderr.split("\n").find((entry) => entry.includes("FROM users WHERE age > ?"))
      assert.isDefined(line)
      assert.match(line ?? "", /level=INFO .*durationMs=[\d.]+ params="\[1 hidden\]" rows=\d+/)
      assert.notInclude(result.stderr, "140")
      const quiet = dbscope(["--db", db, "count"])
      assert.strictEqual(quiet.stderr, "")
    }))

  it.scoped("query --cache-demo answers the second identical query from the cache", () =>
    Effect.gen(function*() {
      const db = yield* sampleDatabase
      const result = dbscope([
        "--db",
        db,
        "query",
        "SELECT count(*) AS n FROM users WHERE age > ?",
        "--param",
        "40",
        "--cache-demo",
        "--json"
      ])
      assert.strictEqual(result.code, 0, result.stderr)
      assert.deepStrictEqual(JSON.parse(result.stdout), [{ n: 707 }])
      assert.include(result.stderr, "ran the query (cache miss)")
      assert.include(result.stderr, "served from the cache (hit): the same 1 row")
      assert.include(result.stderr, "cache: 1 hit, 1 miss")
      const write = dbscope(["--db", db, "query", "DELETE FROM users", "--write", "--cache-demo"])
      assert.strictEqual(write.code, 2)
      assertOneLine(write, "--cache-demo caches reads")
    }))
})

describe.skipIf(!mysqlAvailable)("dbscope CLI on MySQL/MariaDB", () => {
  const server = mysqlServer.replace(/\/+$/, "")

  /** A database name of its own on the server, dropped when the test ends. */
  const freshDatabase = Effect.acquireRelease(
    Effect.sync(() => `${server}/dbscope_cli_${crypto.randomBytes(6).toString("hex")}`),
    (url) => Effect.orDie(MysqlDatabase.dropDatabase({ url: Redacted.make(url) }))
  )

  const withoutTimes = (json: string) =>
    (JSON.parse(json) as Array<Record<string, unknown>>).map(({ created_at: _, ...user }) => user)

  it.scoped("setup --url creates the database; the commands print what they print on SQLite", () =>
    Effect.gen(function*() {
      const url = yield* freshDatabase
      const setup = dbscope(["--url", url, "setup"])
      assert.strictEqual(setup.code, 0, setup.stderr)
      assert.include(setup.stdout, "Imported")
      assert.include(setup.stdout, "1000 inserted, 0 skipped")
      assert.include(dbscope(["--url", url, "setup"]).stdout, "0 inserted, 1000 skipped")
      const db = yield* sampleDatabase
      for (
        const args of [["count"], ["average-age"], ["paginate", "--page-size", "300"], [
          "batches",
          "--batch-size",
          "400"
        ]]
      ) {
        const onMysql = dbscope(["--url", url, ...args])
        assert.strictEqual(onMysql.code, 0, onMysql.stderr)
        assert.strictEqual(onMysql.stdout, dbscope(["--db", db, ...args]).stdout, args.join(" "))
      }
      const older = dbscope(["--url", url, "users", "--older-than", "40", "--json"])
      assert.deepStrictEqual(
        withoutTimes(older.stdout),
        withoutTimes(dbscope(["--db", db, "users", "--older-than", "40", "--json"]).stdout)
      )
      const fromEnv = dbscope(["concurrent", "--json"], { DATABASE_URL: url })
      assert.strictEqual(fromEnv.code, 0, fromEnv.stderr)
      const pair = JSON.parse(fromEnv.stdout) as { allUsers: Array<unknown>; olderUsers: Array<unknown> }
      assert.deepStrictEqual([pair.allUsers.length, pair.olderUsers.length], [1000, 707])
      const text = dbscope(["--url", url, "concurrent"])
      assert.include(text.stdout, "reader workers (MySQL)")
    }))

  it.scoped("an unreachable server, a wrong password, a missing database: one line, exit 1, no password", () =>
    Effect.gen(function*() {
      const refused = dbscope(["--url", "mysql://root:pw-123@127.0.0.1:1/test", "count"])
      assert.strictEqual(refused.code, 1)
      assertOneLine(refused, "cannot connect to mysql://root@127.0.0.1:1/test: the server is not reachable")
      const host = new URL(server.replace(/^mysql:/, "http:")).host
      const denied = dbscope(["--url", `mysql://root:pw-123@${host}/test`, "count"])
      assert.strictEqual(denied.code, 1)
      assertOneLine(denied, "access denied")
      const missing = dbscope(["--url", `${server}/dbscope_missing_db`, "users"])
      assert.strictEqual(missing.code, 1)
      assertOneLine(missing, "the database does not exist")
      for (const result of [refused, denied]) assert.notInclude(result.stderr + result.stdout, "pw-123")
      const both = dbscope(["--db", "x.db", "--url", `${server}/test`, "count"])
      assert.strictEqual(both.code, 2)
    }))
})
