/**
 * `Database`: the one place that picks the backend, from explicit options or from `Config`.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as crypto from "node:crypto"
import * as path from "node:path"
import * as Database from "../../src/client/Database.js"
import * as MysqlDatabase from "../../src/client/MysqlDatabase.js"
import { tempDirectory } from "../../src/testing/TestDatabase.js"
import { mysqlAvailable, mysqlServer } from "../support/Backends.js"
import { built, runProcess } from "../support/RunCli.js"

/** What the opened database says about itself, and one statement run on it. */
const opened = Effect.gen(function*() {
  const database = yield* Database.Database
  const sql = yield* SqlClient.SqlClient
  const [row] = yield* sql<{ readonly one: number }>`SELECT 1 AS one`
  return { ...database, one: row?.one }
})

const withEnv = (env: Record<string, string>) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

describe("Database", () => {
  it.scoped("DBSCOPE_DB names the SQLite file; no readers unless DBSCOPE_READERS is set", () =>
    Effect.gen(function*() {
      const file = path.join(yield* tempDirectory, "env.db")
      const plain = yield* opened.pipe(
        Effect.provide(Database.layer({ create: true })),
        withEnv({ DBSCOPE_DB: file })
      )
      assert.deepStrictEqual(plain, { backend: "sqlite", target: file, readers: 0, one: 1 })
      const pooled = yield* opened.pipe(
        Effect.provide(Database.layerConfig()),
        withEnv({ DBSCOPE_DB: file, DBSCOPE_READERS: "2" })
      )
      assert.deepStrictEqual(pooled, { backend: "sqlite", target: file, readers: 2, one: 1 })
    }))

  it.scoped("an explicit backend wins over DATABASE_URL", () =>
    Effect.gen(function*() {
      const file = path.join(yield* tempDirectory, "explicit.db")
      const result = yield* opened.pipe(
        Effect.provide(Database.layer({ backend: Database.Backend.Sqlite({ filename: file }), create: true })),
        withEnv({ DATABASE_URL: "mysql://root:secret@127.0.0.1:1/nowhere" })
      )
      assert.strictEqual(result.backend, "sqlite")
      assert.strictEqual(result.target, file)
    }))

  it.scoped("a DATABASE_URL that is neither MySQL nor PostgreSQL is one clear error, not a silent SQLite file", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        opened.pipe(Effect.provide(Database.layerConfig()), withEnv({ DATABASE_URL: "sqlserver://u@h/db" }))
      )
      assert.strictEqual(error._tag, "DatabaseConnectError")
      assert.include(error.message, "mysql://")
    }))

  it.scoped.skipIf(!mysqlAvailable)(
    "DATABASE_URL opens MySQL; its target never shows the password",
    () =>
      Effect.gen(function*() {
        const url = `${mysqlServer.replace(/\/+$/, "")}/dbscope_db_${crypto.randomBytes(6).toString("hex")}`
        yield* Effect.addFinalizer(() => Effect.orDie(MysqlDatabase.dropDatabase({ url: Redacted.make(url) })))
        const withPassword = url.replace("mysql://root@", "mysql://root:@")
        const result = yield* opened.pipe(
          Effect.provide(Database.layer({ create: true })),
          withEnv({ DATABASE_URL: withPassword })
        )
        assert.strictEqual(result.backend, "mysql")
        assert.strictEqual(result.one, 1)
        assert.notInclude(result.target, ":@")
        assert.match(result.target, /^mysql:\/\/root@/)
      })
  )

  it.scoped("a SQLite program never loads the MySQL driver", () =>
    Effect.gen(function*() {
      const file = path.join(yield* tempDirectory, "lazy.db")
      // Reports whether mysql2 is loaded after opening SQLite through the `Database` module (or, to prove
      // the check sees it, after importing the MySQL client).
      const program = (importMysql: boolean) =>
        [
          `import { createRequire } from "node:module"`,
          `import * as Effect from "effect/Effect"`,
          `const Database = await import(${JSON.stringify(built("src/client/Database.js"))})`,
          `await Effect.runPromise(Effect.provide(Effect.void, Database.layer({`,
          `  backend: Database.Backend.Sqlite({ filename: ${JSON.stringify(file)} }), create: true })))`,
          importMysql ? `await import(${JSON.stringify(built("src/client/MysqlDriver.js"))})` : "",
          `const loaded = Object.keys(createRequire(import.meta.url).cache)`,
          `console.log(JSON.stringify({ mysql2: loaded.some((file) => file.includes("/mysql2/")) }))`
        ].join("\n")
      const loaded = (importMysql: boolean) =>
        Effect.map(runProcess(process.execPath, ["--input-type=module", "-e", program(importMysql)]), (result) => {
          assert.strictEqual(result.code, 0, result.stderr)
          return JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "{}") as unknown
        })
      assert.deepStrictEqual(yield* loaded(false), { mysql2: false })
      assert.deepStrictEqual(yield* loaded(true), { mysql2: true })
    }))

  it.scoped("a library program with Effect's default logger prints nothing: open and close are debug lines", () =>
    Effect.gen(function*() {
      const file = path.join(yield* tempDirectory, "quiet.db")
      // A consumer's program: the default logger, the default minimum level (info), a statement run.
      const program = (backend: string, level: string) =>
        [
          `import * as Effect from "effect/Effect"`,
          `import * as Logger from "effect/Logger"`,
          `import * as LogLevel from "effect/LogLevel"`,
          `import * as SqlClient from "@effect/sql/SqlClient"`,
          `import * as Redacted from "effect/Redacted"`,
          `const Database = await import(${JSON.stringify(built("src/client/Database.js"))})`,
          `const query = Effect.flatMap(SqlClient.SqlClient, (sql) => sql\`SELECT 1 AS one\`)`,
          `await Effect.runPromise(query.pipe(`,
          `  Effect.provide(Database.layer({ backend: ${backend}, create: true })),`,
          `  Logger.withMinimumLogLevel(LogLevel.${level})))`
        ].join("\n")
      const run = (backend: string, level: string) =>
        runProcess(process.execPath, ["--input-type=module", "-e", program(backend, level)])
      const sqlite = `Database.Backend.Sqlite({ filename: ${JSON.stringify(file)} })`
      const quiet = yield* run(sqlite, "Info")
      assert.strictEqual(quiet.code, 0, quiet.stderr)
      assert.deepStrictEqual([quiet.stdout, quiet.stderr], ["", ""])
      // Asked for, the lines are there.
      const asked = yield* run(sqlite, "Debug")
      assert.include(asked.stdout, "Database connection opened: quiet.db")
      assert.include(asked.stdout, "Database connection closed: quiet.db")
      if (mysqlAvailable) {
        const url = `${mysqlServer.replace(/\/+$/, "")}/dbscope_quiet_${crypto.randomBytes(6).toString("hex")}`
        yield* Effect.addFinalizer(() => Effect.orDie(MysqlDatabase.dropDatabase({ url: Redacted.make(url) })))
        const pool = yield* run(`Database.Backend.Mysql({ url: Redacted.make(${JSON.stringify(url)}) })`, "Info")
        assert.strictEqual(pool.code, 0, pool.stderr)
        assert.deepStrictEqual([pool.stdout, pool.stderr], ["", ""])
      }
    }))
})
