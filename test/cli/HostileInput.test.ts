/**
 * The hostile input catalogue: every case goes through the real `dbscope` binary (or the library)
 * and must give one line on stderr naming the problem, a non-zero exit, no stack trace, no SQL or
 * schema detail the user did not write, and a database file unchanged byte for byte.
 */
import { assert, describe, it } from "@effect/vitest"
import Sqlite from "better-sqlite3"
import * as Effect from "effect/Effect"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { tempDirectory } from "../../src/testing/TestDatabase.js"
import * as TestDatabase from "../../src/testing/TestDatabase.js"
import { UserRepo } from "../../src/users/UserRepo.js"
import { mysqlAvailable, mysqlServer } from "../support/Backends.js"
import { cliPath, runCli, runProcess } from "../support/RunCli.js"

/**
 * Root may write any file: a read-only file is only read-only to another user. Under root the
 * cases that need one run as `nobody` (uid 65534) on a file given to it with mode 0400.
 */
const otherUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : undefined

/** Whether `nobody` can run the CLI here (a checkout under a private home folder would stop it). */
const otherUserCanRun = otherUser === undefined ||
  (await Effect.runPromise(
      runProcess(process.execPath, ["-e", "require('node:fs').accessSync(process.argv[1], 4)", cliPath], otherUser)
    )).code === 0

/** `host:port` of the test server (for a case that needs a server that answers). */
const mysqlHost = new URL(mysqlServer.replace(/^mysql:/, "http:")).host

const run = (args: ReadonlyArray<string>, env: Record<string, string> = {}, asOtherUser = false) =>
  runCli(args, { env: { ...env, NO_COLOR: "1" }, ...(asOtherUser ? otherUser : undefined) })

/** A file's bytes, hashed (a missing file hashes as "missing"). */
const checksum = (file: string) =>
  fs.existsSync(file) && fs.statSync(file).isFile()
    ? crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex")
    : "missing"

/** Words that would leak SQL or the schema the user did not write. */
const leaks = /\b(?:INSERT|SELECT|CREATE|sqlite_|SQLITE_|dbscope_migrations|effect_sql|at \w+ \()/

interface Case {
  readonly name: string
  readonly args: (files: Files) => ReadonlyArray<string>
  /** The text stderr must contain. */
  readonly says: string
  readonly exit?: number
  readonly env?: Record<string, string>
  /** SQL in the case's own arguments: the user wrote it, so it may be echoed. */
  readonly ownSql?: boolean
  /** Run as the user `readOnlyCopy` files are read-only to (see `otherUser`). */
  readonly asOtherUser?: boolean
  /** A file the case must not create. */
  readonly creates?: (files: Files) => string
  /** Runs against the MySQL/MariaDB server (skipped when it does not answer). */
  readonly mysql?: boolean
}

/** A case's own folder, holding its own copy of the set-up database: cases run two at a time. */
interface Files {
  readonly db: string
  readonly dir: string
  readonly csv: (name: string, content: string | Buffer) => string
  /** A copy of the database that the user running the case may read but not write. */
  readonly readOnlyCopy: () => string
  /** A SQLite file (in WAL mode, as dbscope leaves its own) made by another program running `statements`. */
  readonly sqlite: (name: string, statements: string) => string
  /** The set-up database with `statements` run on it, CHECK constraints off (as a table without them would be). */
  readonly tampered: (statements: string) => string
}

const header = "name,email,age\n"
const row = (age: string, name = "Ann Example", email = "ann@example.com") => `${header}"${name}",${email},${age}\n`
const injection = "Robert'); DROP TABLE users; --"

/**
 * A database on the server that the read-only cases may be pointed at: nothing there is written,
 * and the statements are harmless even if they ran (the catalogue checks the refusal).
 */
const mysqlUrl = `${mysqlServer.replace(/\/+$/, "")}/information_schema`

/** A `users` table another program made: none of dbscope's columns. */
const foreignUsers = "CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT, created TEXT)"
/** A text age among the sample's users (user_id 1001). */
const fortyInText = "INSERT INTO users (name, email, age) VALUES ('Ann Example', 'ann@example.com', 'forty')"
const notAnInteger = "users.age holds a value that is not an integer from 0 to 150 ('forty' in user_id 1001)"

const cases: ReadonlyArray<Case> = [
  // Ages on the command line.
  { name: "age -1", args: ({ db }) => ["--db", db, "users", "--older-than", "-1"], says: "between 0 and 150", exit: 2 },
  {
    name: "age 151",
    args: ({ db }) => ["--db", db, "users", "--older-than", "151"],
    says: "between 0 and 150",
    exit: 2
  },
  { name: "age 1e309", args: ({ db }) => ["--db", db, "users", "--older-than", "1e309"], says: "'1e309'", exit: 2 },
  { name: "age NaN", args: ({ db }) => ["--db", db, "users", "--older-than", "NaN"], says: "'NaN'", exit: 2 },
  { name: "age abc", args: ({ db }) => ["--db", db, "users", "--older-than", "abc"], says: "'abc'", exit: 2 },
  {
    name: "age 2^53",
    args: ({ db }) => ["--db", db, "users", "--older-than", "9007199254740992"],
    says: "'9007199254740992'",
    exit: 2
  },
  { name: "negative limit", args: ({ db }) => ["--db", db, "users", "--limit", "-5"], says: "--limit", exit: 2 },
  { name: "page size 0", args: ({ db }) => ["--db", db, "paginate", "--page-size", "0"], says: "page size", exit: 2 },
  {
    name: "batch size 100001",
    args: ({ db }) => ["--db", db, "batches", "--batch-size", "100001"],
    says: "batch size",
    exit: 2
  },
  { name: "synthetic -3", args: ({ db }) => ["--db", db, "setup", "--synthetic", "-3"], says: "--synthetic", exit: 2 },
  // SQL the user wrote.
  {
    name: "two statements, one an injection",
    args: ({ db }) => ["--db", db, "query", "SELECT 1; DROP TABLE users", "--write"],
    says: "more than one statement",
    ownSql: true
  },
  {
    name: "a write without --write",
    args: ({ db }) => ["--db", db, "query", "DROP TABLE users"],
    says: "--write",
    ownSql: true
  },
  {
    name: "VACUUM INTO without --write",
    args: ({ db, dir }) => ["--db", db, "query", `VACUUM INTO '${path.join(dir, "copy.db")}'`],
    says: "VACUUM",
    ownSql: true,
    creates: ({ dir }) => path.join(dir, "copy.db")
  },
  {
    name: "ATTACH without --write",
    args: ({ db, dir }) => ["--db", db, "query", `ATTACH '${path.join(dir, "other.db")}' AS other`],
    says: "ATTACH",
    ownSql: true,
    creates: ({ dir }) => path.join(dir, "other.db")
  },
  {
    name: "a setting PRAGMA without --write",
    args: ({ db }) => ["--db", db, "query", "PRAGMA journal_mode=DELETE"],
    says: "PRAGMA journal_mode with a value changes a setting",
    ownSql: true
  },
  {
    name: "BEGIN without --write",
    args: ({ db }) => ["--db", db, "query", "begin immediate"],
    says: "BEGIN controls transactions",
    ownSql: true
  },
  {
    name: "SET GLOBAL without --write (MariaDB)",
    args: () => ["--url", mysqlUrl, "query", "SET GLOBAL max_connections = @@global.max_connections"],
    says: "SET changes a setting",
    ownSql: true,
    mysql: true
  },
  {
    name: "KILL without --write (MariaDB)",
    args: () => ["--url", mysqlUrl, "query", "/* who? */ KILL 999999999"],
    says: "KILL ends a connection",
    ownSql: true,
    mysql: true
  },
  {
    name: "INTO OUTFILE in an executable comment without --write (MariaDB)",
    args: ({ dir }) => ["--url", mysqlUrl, "query", `SELECT 1 /*! INTO OUTFILE '${path.join(dir, "out.txt")}' */`],
    says: "INTO writes a file",
    ownSql: true,
    mysql: true,
    creates: ({ dir }) => path.join(dir, "out.txt")
  },
  {
    name: "a syntax error",
    args: ({ db }) => ["--db", db, "query", "SELEC name FROM users"],
    says: "syntax error",
    ownSql: true
  },
  {
    name: "a missing table",
    args: ({ db }) => ["--db", db, "query", "SELECT * FROM nope"],
    says: "no such table",
    ownSql: true
  },
  // CSV files.
  {
    name: "CSV age -1",
    args: ({ csv, db }) => ["--db", db, "setup", "--csv", csv("a.csv", row("-1"))],
    says: "line 2"
  },
  {
    name: "CSV age 151",
    args: ({ csv, db }) => ["--db", db, "setup", "--csv", csv("a.csv", row("151"))],
    says: "line 2"
  },
  {
    name: "CSV age 1e309",
    args: ({ csv, db }) => ["--db", db, "setup", "--csv", csv("a.csv", row("1e309"))],
    says: "line 2"
  },
  {
    name: "CSV age NaN",
    args: ({ csv, db }) => ["--db", db, "setup", "--csv", csv("a.csv", row("NaN"))],
    says: "line 2"
  },
  {
    name: "CSV age abc",
    args: ({ csv, db }) => ["--db", db, "setup", "--csv", csv("a.csv", row("abc"))],
    says: "line 2"
  },
  {
    name: "CSV age 2^53",
    args: ({ csv, db }) => ["--db", db, "setup", "--csv", csv("a.csv", row("9007199254740992"))],
    says: "line 2"
  },
  {
    name: "CSV injection strings in the fields of a file that fails later",
    args: ({ csv, db }) => [
      "--db",
      db,
      "setup",
      "--csv",
      csv("a.csv", `${header}"${injection.replaceAll("\"", "\"\"")}",bobby@example.com,20\nAnn,ann@example.com,-1\n`)
    ],
    says: "line 3"
  },
  {
    name: "CSV 10 MB name",
    args: ({ csv, db }) => ["--db", db, "setup", "--csv", csv("a.csv", row("30", "x".repeat(10 * 1024 * 1024)))],
    says: "name must be 1 to 200 printable characters"
  },
  {
    name: "CSV NUL byte in a name",
    args: ({ csv, db }) => ["--db", db, "setup", "--csv", csv("a.csv", row("30", "Ann\u0000Example"))],
    says: "line 2"
  },
  {
    name: "CSV NUL byte in an e-mail",
    args: ({ csv, db }) => ["--db", db, "setup", "--csv", csv("a.csv", row("30", "Ann", "ann\u0000@example.com"))],
    says: "line 2"
  },
  {
    name: "CSV invalid UTF-8",
    args: ({ csv, db }) => [
      "--db",
      db,
      "setup",
      "--csv",
      csv(
        "a.csv",
        Buffer.concat([
          Buffer.from(`${header}Ann,ann@example.com,30\n"B`),
          Buffer.from([0xc3, 0x28]),
          Buffer.from("b\",b@example.com,40\n")
        ])
      )
    ],
    says: "not valid UTF-8"
  },
  {
    name: "CSV wrong header",
    args: (
      { csv, db }
    ) => ["--db", db, "setup", "--csv", csv("a.csv", "full_name,mail,years\nAnn,ann@example.com,30\n")],
    says: "header"
  },
  {
    name: "CSV unbalanced quotes",
    args: ({ csv, db }) => ["--db", db, "setup", "--csv", csv("a.csv", `${header}"Ann,ann@example.com,30\n`)],
    says: "quoted field is not closed"
  },
  {
    name: "CSV duplicate e-mails",
    args: ({ csv, db }) => [
      "--db",
      db,
      "setup",
      "--csv",
      csv("a.csv", "name,email,age\r\nAnn,dup@example.com,30\r\nBen,dup@example.com,40\r\n")
    ],
    says: "line 3: e-mail dup@example.com already appears on line 2"
  },
  {
    name: "CSV missing",
    args: ({ db, dir }) => ["--db", db, "setup", "--csv", path.join(dir, "nope.csv")],
    says: "nope.csv",
    exit: 2
  },
  // Database files.
  {
    name: "database missing",
    args: ({ dir }) => ["--db", path.join(dir, "missing.db"), "count"],
    says: "no such file"
  },
  // The command-line parser checks --db itself (a usage error).
  { name: "database is a directory", args: ({ dir }) => ["--db", dir, "count"], says: "to be a regular file", exit: 2 },
  {
    name: "database is not SQLite",
    args: ({ csv }) => ["--db", csv("text.db", "hello, not a database\n"), "count"],
    says: "not a SQLite database"
  },
  {
    name: "database is read-only",
    args: ({ readOnlyCopy }) => ["--db", readOnlyCopy(), "setup", "--synthetic", "10"],
    says: "the file is read-only for this user",
    asOtherUser: true
  },
  { name: "database is empty", args: ({ csv }) => ["--db", csv("empty.db", ""), "count"], says: "the file is empty" },
  {
    name: "database corrupt",
    args: (
      { csv }
    ) => [
      "--db",
      csv("corrupt.db", Buffer.concat([Buffer.from("SQLite format 3\u0000"), crypto.randomBytes(8192)])),
      "count"
    ],
    says: "not a SQLite database or is corrupt"
  },
  // A users table dbscope did not create: setup changes nothing, reads say why they cannot.
  {
    name: "setup on a foreign users table",
    args: ({ sqlite }) => ["--db", sqlite("foreign.db", foreignUsers), "setup"],
    says: "missing columns user_id, name, email, age, created_at; extra columns id, username, created"
  },
  {
    name: "users on a foreign users table",
    args: ({ sqlite }) => ["--db", sqlite("foreign.db", foreignUsers), "users"],
    says: "the users table was not created by dbscope"
  },
  {
    name: "count on a foreign users table",
    args: ({ sqlite }) => ["--db", sqlite("foreign.db", foreignUsers), "count"],
    says: "the users table was not created by dbscope"
  },
  {
    name: "setup on a users table with a text age column",
    args: ({ sqlite }) => [
      "--db",
      sqlite(
        "text-age.db",
        "CREATE TABLE users (user_id INTEGER PRIMARY KEY, name TEXT, email TEXT, age TEXT, created_at TEXT)"
      ),
      "setup"
    ],
    says: "age is TEXT, not an integer"
  },
  // A stored value the User schema refuses: one line naming the column, never NaN or an internal error.
  ...[
    ["users"],
    ["users", "--older-than", "100"],
    ["stream"],
    ["batches", "--batch-size", "100"],
    ["paginate", "--page-size", "100"],
    ["average-age"],
    ["dashboard"],
    ["dashboard", "--sequential"],
    ["concurrent"]
  ].map((command): Case => ({
    name: `${command.join(" ")} with a text age stored`,
    args: ({ tampered }) => ["--db", tampered(fortyInText), ...command],
    says: notAnInteger
  })),
  // Servers.
  {
    name: "DATABASE_URL not a URL",
    args: () => ["count"],
    env: { DATABASE_URL: "not a url" },
    says: "not a valid URL"
  },
  {
    name: "DATABASE_URL another scheme",
    args: () => ["count"],
    env: { DATABASE_URL: "sqlserver://root@127.0.0.1:1433/test" },
    says: "must start with mysql://, mariadb:// or postgres://"
  },
  {
    name: "MariaDB down (nothing listening)",
    args: () => ["--url", "mysql://root:hunter2@127.0.0.1:1/test", "count"],
    says: "the server is not reachable"
  },
  {
    name: "DBSCOPE_MYSQL_CONNECT_TIMEOUT of 0 (no limit in mysql2: a wait for ever)",
    args: () => ["--url", "mysql://root:hunter2@127.0.0.1:1/test", "count"],
    env: { DBSCOPE_MYSQL_CONNECT_TIMEOUT: "0 seconds" },
    says: "DBSCOPE_MYSQL_CONNECT_TIMEOUT"
  },
  // Used to hang forever (the admin connection that creates the database waited on mysql2's `end`).
  ...(mysqlAvailable
    ? [{
      name: "setup with a refused login (no such user)",
      args: () => ["--url", `mysql://dbscope_nobody:hunter2@${mysqlHost}/test`, "setup"],
      says: "access denied"
    }]
    : []),
  // The command line itself (the parser's errors, and the global options typed anywhere).
  { name: "an unknown command", args: ({ db }) => ["--db", db, "explode"], says: "unknown command 'explode'", exit: 2 },
  { name: "an unknown option", args: ({ db }) => ["--db", db, "users", "--bogus"], says: "'--bogus'", exit: 2 },
  {
    name: "an option without its value",
    args: ({ db }) => ["--db", db, "users", "--older-than"],
    says: "--older-than needs a value",
    exit: 2
  },
  { name: "--db without its value", args: () => ["count", "--db"], says: "--db needs a value", exit: 2 },
  {
    name: "an unknown log level",
    args: ({ db }) => ["count", "--db", db, "--log-level", "loud"],
    says: "'loud'",
    exit: 2
  },
  { name: "--db twice", args: ({ db }) => ["--db", db, "count", "--db", db], says: "more than once", exit: 2 },
  { name: "a required option missing", args: ({ db }) => ["--db", db, "paginate"], says: "'--page-size'", exit: 2 },
  { name: "a stray argument", args: ({ db }) => ["--db", db, "count", "extra"], says: "'extra'", exit: 2 },
  { name: "an unknown option before the command", args: ({ db }) => ["-x", "--db", db, "count"], says: "'-x'", exit: 2 }
]

describe("hostile input catalogue", () => {
  it.scoped(
    `${cases.length} cases: one line, non-zero exit, no leak, database unchanged`,
    () =>
      Effect.gen(function*() {
        const root = yield* tempDirectory
        const setUp = path.join(root, "users.db")
        assert.strictEqual((yield* run(["--db", setUp, "setup"])).code, 0)
        /** A folder of the case's own, with a private copy of the set-up database in it. */
        const filesFor = (index: number): Files => {
          const dir = path.join(root, `case-${index}`)
          fs.mkdirSync(dir)
          const db = path.join(dir, "users.db")
          fs.copyFileSync(setUp, db)
          fs.chmodSync(db, 0o600)
          const csv = (name: string, content: string | Buffer) => {
            const file = path.join(dir, name)
            // Private, as dbscope makes its own files: a shared one would (rightly) add a warning line.
            fs.writeFileSync(file, content, { mode: 0o600 })
            return file
          }
          const readOnlyCopy = () => {
            const file = path.join(dir, "read-only.db")
            fs.copyFileSync(db, file)
            fs.chmodSync(file, 0o400)
            if (otherUser !== undefined) {
              fs.chownSync(file, otherUser.uid, otherUser.gid)
              // So that the other user can reach the file.
              fs.chmodSync(root, 0o755)
              fs.chmodSync(dir, 0o755)
            }
            return file
          }
          const sqlite = (name: string, statements: string) => {
            const file = path.join(dir, name)
            const made = new Sqlite(file)
            made.pragma("journal_mode = WAL")
            made.exec(statements)
            made.close()
            fs.chmodSync(file, 0o600)
            return file
          }
          const tampered = (statements: string) => {
            const changed = new Sqlite(db)
            changed.pragma("ignore_check_constraints = ON")
            changed.exec(statements)
            changed.close()
            return db
          }
          return { db, dir, csv, readOnlyCopy, sqlite, tampered }
        }
        if (!otherUserCanRun) {
          console.warn(`hostile input: skipping the read-only file case: user nobody cannot read ${cliPath}`)
        }
        const runnable = cases.filter((hostile) =>
          (otherUserCanRun || hostile.asOtherUser !== true) && (mysqlAvailable || hostile.mysql !== true)
        )
        const verdicts = yield* Effect.forEach(runnable, (hostile, index) =>
          Effect.gen(function*() {
            const files = filesFor(index)
            const args = hostile.args(files)
            const target = args[args.indexOf("--db") + 1] ?? files.db
            const before = [checksum(files.db), checksum(target)]
            const result = yield* run(args, hostile.env, hostile.asOtherUser)
            const lines = result.stderr.trim().split("\n")
            const problems = [
              result.code === (hostile.exit ?? 1) ? undefined : `exit ${result.code}`,
              lines.length === 1 ? undefined : `${lines.length} lines on stderr`,
              /^dbscope: [^\n]+\n$/.test(result.stderr) ? undefined : "not exactly one `dbscope: ` line",
              result.stderr.includes(hostile.says) ? undefined : `stderr does not say "${hostile.says}"`,
              result.stderr.includes("    at ") ? "a stack trace" : undefined,
              hostile.ownSql === true || !leaks.test(result.stderr) ? undefined : "SQL or schema detail",
              result.stderr.includes("hunter2") ? "the password" : undefined,
              [checksum(files.db), checksum(target)].join() === before.join() ? undefined : "the database changed",
              hostile.creates === undefined || !fs.existsSync(hostile.creates(files)) ? undefined : "a file was created"
            ].filter((problem) => problem !== undefined)
            return problems.length > 0
              ? `${hostile.name}: ${problems.join(", ")} -- ${result.stderr.trim()}`
              : undefined
          }), { concurrency: 2 })
        const failed = verdicts.filter((verdict) => verdict !== undefined)
        assert.isAtLeast(runnable.length, 30)
        assert.deepStrictEqual(failed, [])
        console.info(`hostile input: ${runnable.length} cases, ${failed.length} broke the contract`)
      }),
    600_000
  )

  it.scoped("CRLF, LF and a byte-order mark import the same users", () =>
    Effect.gen(function*() {
      const dir = yield* tempDirectory
      const rows = ["name,email,age", "\"Ann, Jr.\",ann@example.com,30", "Ben,ben@example.com,40"]
      const stored = (name: string, content: string) =>
        Effect.gen(function*() {
          const csv = path.join(dir, `${name}.csv`)
          fs.writeFileSync(csv, content)
          const db = path.join(dir, `${name}.db`)
          assert.strictEqual((yield* run(["--db", db, "setup", "--csv", csv])).code, 0)
          const listed = yield* run(["--db", db, "users", "--json"])
          const users = JSON.parse(listed.stdout) as Array<Record<string, unknown>>
          return users.map(({ created_at: _, ...user }) => user)
        })
      const [lf, crlf, bom] = yield* Effect.all([
        stored("lf", `${rows.join("\n")}\n`),
        stored("crlf", `${rows.join("\r\n")}\r\n`),
        stored("bom", `\uFEFF${rows.join("\r\n")}`)
      ], { concurrency: 2 })
      assert.strictEqual(lf.length, 2)
      assert.deepStrictEqual(crlf, lf)
      assert.deepStrictEqual(bom, lf)
    }))

  it.scoped("injection strings are data: bound as parameters they match nothing and change nothing", () =>
    Effect.gen(function*() {
      const dir = yield* tempDirectory
      const db = path.join(dir, "users.db")
      assert.strictEqual((yield* run(["--db", db, "setup"])).code, 0)
      const before = checksum(db)
      const texts = [injection, "' OR '1'='1", "1; DELETE FROM users", "\" OR 1=1 --"]
      const results = yield* Effect.forEach(
        texts,
        (text) => run(["--db", db, "query", "SELECT name FROM users WHERE name = ?", "--param", text, "--json"]),
        { concurrency: 2 }
      )
      results.forEach((result, i) => {
        assert.strictEqual(result.code, 0, `${texts[i]}: ${result.stderr}`)
        assert.deepStrictEqual(JSON.parse(result.stdout), [])
      })
      assert.strictEqual(checksum(db), before)
    }))

  it.scoped("the library refuses bad users before any SQL: nothing is written", () =>
    Effect.gen(function*() {
      const repo = yield* UserRepo
      const bad = [
        { name: "Ann", email: "ann@example.com", age: -1 },
        { name: "Ann", email: "ann@example.com", age: 151 },
        { name: "Ann", email: "ann@example.com", age: Number.NaN },
        { name: "Ann", email: "ann@example.com", age: Number.POSITIVE_INFINITY },
        { name: "Ann", email: "ann@example.com", age: 2 ** 53 },
        { name: "x".repeat(10 * 1024 * 1024), email: "ann@example.com", age: 30 },
        { name: "Ann\u0000", email: "ann@example.com", age: 30 },
        { name: "Ann", email: "ann\u0000@example.com", age: 30 },
        { name: injection, email: "not-an-email", age: 30 }
      ]
      for (const user of bad) {
        const error = yield* Effect.flip(repo.insert(user))
        assert.strictEqual(error._tag, "InvalidUser")
      }
      // An injection string that is otherwise a valid name is stored as written, the table intact.
      const stored = yield* repo.insert({ name: injection, email: "bobby@example.com", age: 20 })
      assert.strictEqual(stored.name, injection)
      assert.strictEqual(yield* repo.count, 1)
    }).pipe(Effect.provide(TestDatabase.layer())))
})
