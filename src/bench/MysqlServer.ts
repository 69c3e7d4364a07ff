/**
 * The MariaDB/MySQL server the `mysql` suite measures on: where it is (`DBSCOPE_BENCH_MYSQL`, else
 * the local one as root without a password), whether one answers at all (none: the suite is
 * skipped, not failed), a scratch database for the suite's scope, and the server process's CPU
 * time, so that its work for the benchmark is not counted as other processes' load.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Mysql from "mysql2"
import * as fs from "node:fs"
import * as MysqlDatabase from "../client/MysqlDatabase.js"
import * as OptionalPackage from "../OptionalPackage.js"
import { runProcess } from "./ChildProbe.js"

/** The server, without a database: `DBSCOPE_BENCH_MYSQL`, else the bench machine's local MariaDB. */
export const serverConfig = Config.redacted("DBSCOPE_BENCH_MYSQL").pipe(
  Config.withDefault(Redacted.make("mysql://root@127.0.0.1:3306")),
  Config.map((url) => Redacted.make(Redacted.value(url).replace(/\/+$/, "")))
)

/** Where the server is, for messages: host and port only, never a password. */
export const hostOf = (server: Redacted.Redacted<string>) => {
  const url = Redacted.value(server)
  return URL.canParse(url) ? new URL(url).host : "the server in DBSCOPE_BENCH_MYSQL"
}

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

/** Error codes that mean no server answers at all (a server that answers with an error fails the suite). */
const unreachable: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN"
])

/** Why the suite cannot run here when no server answers at `server` (then it is skipped, not failed); none if one does. */
export const serverAbsent = (server: Redacted.Redacted<string>) =>
  Effect.gen(function*() {
    const answered = yield* Effect.either(onServer(server, "SELECT 1"))
    if (Either.isRight(answered)) return Option.none<string>()
    if (answered.left instanceof OptionalPackage.MissingPackage) return Option.some(answered.left.message)
    const { code } = answered.left
    return unreachable.has(code)
      ? Option.some(`no MariaDB/MySQL server answers at ${hostOf(server)} (${code}): start one to run this suite`)
      : yield* Effect.fail(answered.left)
  })

/**
 * A fresh database `<prefix>_<pid>` (`dbscope_bench_<pid>` by default) on `server` for the suite's scope, created with
 * `MysqlDatabase.createDatabase` and dropped with `MysqlDatabase.dropDatabase` (`DROP DATABASE IF
 * EXISTS` on a connection without a database) when the scope closes, after every pool opened in it
 * has closed: on success, failure or interruption. A database of that name that exists already was
 * not made by this run: the suite stops rather than touch it. `server` may name several hosts (a
 * cluster, `mysql://root@h1,h2,h3`): the check runs on the first, the rest on the first that answers.
 */
export const scratchDatabase = (server: Redacted.Redacted<string>, prefix = "dbscope_bench") =>
  Effect.acquireRelease(
    Effect.gen(function*() {
      // A name this module makes (letters, digits and _ only), so it is safe to quote into DDL.
      const name = `${prefix}_${process.pid}`
      const url = Redacted.make(`${Redacted.value(server)}/${name}`)
      const { serverUrl } = yield* MysqlDatabase.parseUrl(url)
      const found = yield* onServer(
        serverUrl,
        "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
        [name]
      )
      if (Array.isArray(found) && found.length > 0) {
        return yield* Effect.dieMessage(`database ${name} exists already (not made by this run): drop it first`)
      }
      yield* MysqlDatabase.createDatabase({ url })
      yield* Console.error(`  created database ${name}`)
      return { name, url }
    }),
    ({ name, url }) =>
      MysqlDatabase.dropDatabase({ url }).pipe(
        Effect.zipRight(Console.log(`\ndropped database ${name}`)),
        Effect.orDie
      )
  )

/** Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`, 100 on Linux almost always). */
export const clockTicks = Effect.map(Effect.either(runProcess("getconf", ["CLK_TCK"])), (answer) => {
  const ticks = Either.isRight(answer) ? Number(answer.right.stdout.trim()) : NaN
  return Number.isFinite(ticks) && ticks > 0 ? ticks : 100
})

/** CPU time (ms) process `pid` has used so far, from /proc/<pid>/stat; undefined if it cannot be read. */
export const processCpu = (pid: number, ticksPerSecond: number): number | undefined => {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
    // After "pid (name) ": state is field 3; utime and stime are fields 14 and 15, in clock ticks.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    const ticks = Number(fields[11]) + Number(fields[12])
    return Number.isFinite(ticks) ? ticks * 1000 / ticksPerSecond : undefined
  } catch {
    return undefined
  }
}

/** The server's process as this machine sees it: its pid, and its CPU time so far (ms; 0 when not visible). */
export interface ServerProcess {
  readonly pid: Option.Option<number>
  readonly cpu: () => number
}

/**
 * The server's process, from its pid file, when it runs on this machine: its CPU is the benchmark's
 * own work (the queries it answers), not contention. No pid when it is not visible from here.
 */
export const serverProcess = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const ticks = yield* clockTicks
  const [row] = yield* sql<{ readonly pid_file: string | null }>`SELECT @@pid_file AS pid_file`
  const read = Effect.try(() => Number(fs.readFileSync(row?.pid_file ?? "", "utf8").trim()))
  const pid = Option.filter(
    yield* Effect.option(read),
    (pid) => Number.isSafeInteger(pid) && processCpu(pid, ticks) !== undefined
  )
  return {
    pid,
    cpu: () => Option.match(pid, { onNone: () => 0, onSome: (pid) => processCpu(pid, ticks) ?? 0 })
  } satisfies ServerProcess
})
