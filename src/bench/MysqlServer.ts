/**
 * The MariaDB/MySQL server the `mysql` suite measures on: where it is (`DBSCOPE_BENCH_MYSQL`, else
 * the local one as root without a password), whether one answers at all (none: the suite is
 * skipped, not failed), a scratch database for the suite's scope, and the server process's CPU
 * time, so that its work for the benchmark is not counted as other processes' load.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Redacted from "effect/Redacted"
import type * as Mysql from "mysql2"
import * as fs from "node:fs"
import * as MysqlDatabase from "../client/MysqlDatabase.js"
import * as OptionalPackage from "../OptionalPackage.js"
import * as DatabaseServer from "./DatabaseServer.js"
import { processCpu, serverProcessOf } from "./ProcessCpu.js"

/**
 * Runs one query on a connection of its own to `serverUrl` (no database), then ends it; a connection
 * that failed is destroyed instead (one that never connected would never call `end`'s callback).
 */
const onServer = (serverUrl: Redacted.Redacted<string>, sql: string, values: ReadonlyArray<unknown> = []) =>
  Effect.acquireUseRelease(
    // mysql2 is an optional peer: without it the suite is skipped (see `serverAbsent`).
    Effect.flatMap(
      OptionalPackage.load(OptionalPackage.mysql, () => import("../client/MysqlDriver.js")),
      (driver) => Effect.sync(() => driver.Mysql.createConnection({ uri: Redacted.value(serverUrl) }))
    ),
    (connection) =>
      Effect.async<unknown, Mysql.QueryError>((resume) => {
        connection.query({ sql, values: [...values] }, (error, results) =>
          resume(error === null ? Effect.succeed(results) : Effect.fail(error)))
      }),
    (connection, exit) =>
      Exit.isSuccess(exit)
        ? Effect.async<void>((resume) => connection.end(() => resume(Effect.void)))
        : Effect.sync(() => connection.destroy())
  )

/** How the suites ask a MariaDB/MySQL server. */
const mysqlServer: DatabaseServer.Server<Mysql.QueryError> = {
  kind: "MariaDB/MySQL",
  variable: "DBSCOPE_BENCH_MYSQL",
  ping: (server) => onServer(server, "SELECT 1"),
  exists: (url) =>
    Effect.gen(function*() {
      const { database, serverUrl } = yield* MysqlDatabase.parseUrl(url)
      const found = yield* onServer(
        serverUrl,
        "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
        [database]
      )
      return Array.isArray(found) && found.length > 0
    }),
  create: (url) => MysqlDatabase.createDatabase({ url }),
  drop: (url) => MysqlDatabase.dropDatabase({ url })
}

/** The server, without a database: `DBSCOPE_BENCH_MYSQL`, else the bench machine's local MariaDB. */
export const serverConfig = DatabaseServer.serverConfig(mysqlServer.variable, "mysql://root@127.0.0.1:3306")

/** Why the suite cannot run here when no server answers at `server` (then it is skipped, not failed); none if one does. */
export const serverAbsent = (server: Redacted.Redacted<string>) => DatabaseServer.serverAbsent(mysqlServer, server)

/**
 * A fresh database `<prefix>_<pid>` (`dbscope_bench_<pid>` by default) on `server` for the suite's
 * scope (see `DatabaseServer.scratchDatabase`), created with `MysqlDatabase.createDatabase` and
 * dropped with `MysqlDatabase.dropDatabase` (`DROP DATABASE IF EXISTS` on a connection without a
 * database). `server` may name several hosts (a cluster, `mysql://root@h1,h2,h3`): the check runs
 * on the first, the rest on the first that answers.
 */
export const scratchDatabase = (server: Redacted.Redacted<string>, prefix = "dbscope_bench") =>
  DatabaseServer.scratchDatabase(mysqlServer, server, prefix)

/**
 * The server's process, from its pid file, when it runs on this machine: its CPU is the benchmark's
 * own work (the queries it answers), not contention. No pid when it is not visible from here.
 */
export const serverProcess = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const [row] = yield* sql<{ readonly pid_file: string | null }>`SELECT @@pid_file AS pid_file`
  const read = Effect.try(() => Number(fs.readFileSync(row?.pid_file ?? "", "utf8").trim()))
  return yield* serverProcessOf(yield* Effect.option(read), processCpu)
})
