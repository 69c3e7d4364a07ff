/**
 * The PostgreSQL server the `postgres` suite measures on: where it is (`DBSCOPE_BENCH_POSTGRES`,
 * else the local one as `postgres` without a password), whether one answers at all (none: the
 * suite is skipped, not failed), a scratch database for the suite's scope, and the CPU time of the
 * server's processes (one per connection, forked by the postmaster), so that its work for the
 * benchmark is not counted as other processes' load.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Pg from "pg"
import * as PostgresDatabase from "../client/PostgresDatabase.js"
import * as OptionalPackage from "../OptionalPackage.js"
import * as DatabaseServer from "./DatabaseServer.js"
import { commandName, parentPid, processTreeCpu, serverProcessOf } from "./ProcessCpu.js"

/** pg, loaded on use: it is an optional peer of dbscope (without it the suite is skipped). */
export const loadPg = Effect.map(
  OptionalPackage.load(OptionalPackage.postgres, () => import("../client/PostgresDriver.js")),
  (driver) => driver.Pg
)

/** Runs `use` on a plain pg connection of its own to `url` (no pool, no dbscope), then ends it. */
export const withConnection = <A>(url: Redacted.Redacted<string>, use: (client: Pg.Client) => Promise<A>) =>
  Effect.acquireUseRelease(
    Effect.flatMap(loadPg, (pg) =>
      Effect.sync(() => {
        const client = new pg.Client({ connectionString: Redacted.value(url), connectionTimeoutMillis: 5_000 })
        // An error after connecting (the server going away) must not crash the process.
        client.on("error", () => undefined)
        return client
      })),
    (client) => Effect.tryPromise({ try: () => client.connect().then(() => use(client)), catch: (cause) => cause }),
    (client) => Effect.promise(() => client.end().catch(() => undefined))
  )

/** Runs one query on a connection of its own to `url`, then ends it. */
const onDatabase = (url: Redacted.Redacted<string>, text: string, values: ReadonlyArray<unknown> = []) =>
  withConnection(url, (client) => client.query(text, [...values]))

/** How the suites ask a PostgreSQL server. */
const postgresServer: DatabaseServer.Server<unknown> = {
  kind: "PostgreSQL",
  variable: "DBSCOPE_BENCH_POSTGRES",
  ping: (server) => onDatabase(Redacted.make(`${Redacted.value(server)}/postgres`), "SELECT 1"),
  exists: (url) =>
    Effect.gen(function*() {
      const where = yield* PostgresDatabase.parseUrl(url)
      const found = yield* onDatabase(where.maintenanceUrl, "SELECT 1 FROM pg_database WHERE datname = $1", [
        where.database
      ])
      return found.rows.length > 0
    }),
  create: (url) => PostgresDatabase.createDatabase({ url }),
  drop: (url) => PostgresDatabase.dropDatabase({ url })
}

/** The server, without a database: `DBSCOPE_BENCH_POSTGRES`, else the bench machine's local PostgreSQL. */
export const serverConfig = DatabaseServer.serverConfig(postgresServer.variable, "postgres://postgres@127.0.0.1:5432")

/** Why the suite cannot run here when no server answers at `server` (then it is skipped, not failed); none if one does. */
export const serverAbsent = (server: Redacted.Redacted<string>) => DatabaseServer.serverAbsent(postgresServer, server)

/**
 * A fresh database `dbscope_bench_<pid>` on `server` for the suite's scope (see
 * `DatabaseServer.scratchDatabase`), created with `PostgresDatabase.createDatabase` and dropped
 * with `PostgresDatabase.dropDatabase` (`DROP DATABASE ... WITH (FORCE)`).
 */
export const scratchDatabase = (server: Redacted.Redacted<string>) =>
  DatabaseServer.scratchDatabase(postgresServer, server, "dbscope_bench")

/**
 * The server's processes, when it runs on this machine: the postmaster (the parent of this
 * connection's server process) and every process it forked, the connections' and the parallel
 * query workers', live or ended. No pid when they are not visible from here.
 */
export const serverProcess = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const [row] = yield* sql<{ readonly pid: number }>`SELECT pg_backend_pid() AS pid`
  const backend = Number(row?.pid)
  const postmaster = commandName(backend) === "postgres" ? parentPid(backend) : undefined
  return yield* serverProcessOf(
    Option.filter(Option.fromNullable(postmaster), (pid) => commandName(pid) === "postgres"),
    processTreeCpu
  )
})
