/**
 * MySQL/MariaDB behind the same `SqlClient` as SQLite: a mysql2 connection pool, opened (and
 * probed) when its layer is built and ended when the layer's scope closes. It is the MySQL driver
 * of the client core (`core/ClientCore`), which does everything shared; this module says only what
 * MySQL does differently: statements outside a transaction run on any free pooled connection (so
 * `Effect.all` really runs them side by side on the server), a transaction or a stream takes a
 * connection of its own, a deadlock victim's transaction is over, which tables a statement touches
 * (from the database's table names), and reader workers that decode large reads off the main
 * thread.
 *
 * The URL is `Redacted`: errors and logs name the server as `mysql://user@host:port/database`,
 * never with its password.
 */
import type * as Reactivity from "@effect/experimental/Reactivity"
import * as MysqlClient from "@effect/sql-mysql2/MysqlClient"
import type * as Client from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import * as Config from "effect/Config"
import type { ConfigError } from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Mysql from "mysql2"
import { mysqlReaderWorkerScript } from "../BundledData.js"
import * as OpenResources from "../OpenResources.js"
import * as ReaderPool from "../readers/ReaderPool.js"
import * as ClientCore from "./core/ClientCore.js"
import type { DriverConnection, Ran, Request } from "./core/Driver.js"
import { anyTable, everyTable } from "./core/StatementObserver.js"
import { DatabaseConnectError } from "./DatabaseError.js"
import { connectError, connectionOptions, connectReasons, errorCode, parseUrl } from "./MysqlServer.js"
import { streamRows, type StreamSource } from "./MysqlStream.js"
import type { PreparedQueries } from "./PreparedQueries.js"

/** Settings of a MySQL/MariaDB pool. */
export interface MysqlOptions extends ClientCore.ClientOptions {
  /** `mysql://user:password@host:port/database` (also `mariadb://`). */
  readonly url: Redacted.Redacted<string>
  /** At most this many connections (default 10). */
  readonly poolSize?: number | undefined
  /** How long to wait for the server when connecting (default 5 s). */
  readonly connectTimeout?: Duration.DurationInput | undefined
  /** DATE/DATETIME/TIMESTAMP as strings (`2026-12-04 10:00:00`, UTC) instead of `Date`s (the default, as upstream). */
  readonly dateStrings?: boolean | undefined
  /**
   * Reader worker threads, each with a read-only connection of its own. Decoding rows costs more
   * on MySQL than the server's work, and it happens on the one JavaScript thread: without readers,
   * `Effect.all` over large reads waits on the server concurrently but decodes one after the other.
   * With them, reads outside transactions that cost more than `mainThreadBelow` (default 2 ms)
   * are decoded on the workers' cores. Default: none.
   */
  readonly readers?:
    | ReaderPool.ReaderPoolSettings & { readonly mainThreadBelow?: Duration.DurationInput | undefined }
    | undefined
}

/**
 * Settings from the environment: `DATABASE_URL` (read as a secret), `DBSCOPE_MYSQL_POOL_SIZE`
 * (default 10) and `DBSCOPE_MYSQL_CONNECT_TIMEOUT` (default 5 seconds).
 */
export const config: Config.Config<MysqlOptions> = Config.all({
  url: Config.redacted("DATABASE_URL"),
  poolSize: Config.integer("DBSCOPE_MYSQL_POOL_SIZE").pipe(
    Config.validate({ message: "DBSCOPE_MYSQL_POOL_SIZE must be 1 or more", validation: (n) => n >= 1 }),
    Config.withDefault(10)
  ),
  connectTimeout: Config.duration("DBSCOPE_MYSQL_CONNECT_TIMEOUT").pipe(Config.withDefault(Duration.seconds(5)))
})

/** The pool settings of `config` alone, for a URL given some other way (`--url`). */
export const poolConfig: Config.Config<Omit<MysqlOptions, "url">> = Config.map(
  Config.all({
    poolSize: Config.integer("DBSCOPE_MYSQL_POOL_SIZE").pipe(
      Config.validate({ message: "DBSCOPE_MYSQL_POOL_SIZE must be 1 or more", validation: (n) => n >= 1 }),
      Config.withDefault(10)
    ),
    connectTimeout: Config.duration("DBSCOPE_MYSQL_CONNECT_TIMEOUT").pipe(Config.withDefault(Duration.seconds(5)))
  }),
  (settings) => settings
)

/** What the MySQL layer provides besides the `SqlClient`. */
export class MysqlDatabase extends Context.Tag("dbscope/MysqlDatabase")<MysqlDatabase, {
  /** The server and database, without the password. */
  readonly target: string
  /** The database name. */
  readonly database: string
  /** At most this many connections. */
  readonly poolSize: number
  /** Reader worker threads (0: none). */
  readonly readers: number
}>() {}

/**
 * The pool's options: its size, and each connection's. Several statements in one `.unprepared`
 * call are allowed, as upstream (`Model.makeRepository` sends `insert …; select … LAST_INSERT_ID()`);
 * text a user typed is only ever run as a prepared statement, which the server limits to one.
 */
const poolOptions = (url: Redacted.Redacted<string>, options: MysqlOptions): Mysql.PoolOptions => ({
  ...connectionOptions(url, options),
  multipleStatements: true,
  connectionLimit: options.poolSize ?? 10
})

/** Runs `sql` on a pool or one pooled connection; `execute` binds on the server, `query` in the client. */
const runOn = (
  target: Mysql.Pool | Mysql.PoolConnection,
  sql: string,
  params: ReadonlyArray<unknown>,
  method: "execute" | "query",
  rowsAsArray = false
) =>
  Effect.async<unknown, SqlError>((resume) => {
    const options = { sql, values: [...params], rowsAsArray }
    const done = (cause: Mysql.QueryError | null, results: unknown) =>
      resume(
        cause === null
          ? Effect.succeed(results)
          : Effect.fail(new SqlError({ cause, message: "Failed to execute statement" }))
      )
    if (method === "execute") target.execute(options, done)
    else target.query(options, done)
  })

/** Statements a reader worker may be given: plain reads (a locking read needs the writer's pool). */
const readOnlyShape = /^\s*\(?\s*(?:SELECT|WITH)\b/i
const lockingRead = /\bFOR\s+(?:UPDATE|SHARE)\b|\bLOCK\s+IN\s+SHARE\s+MODE\b/i

const schemaChange = /^\s*(?:CREATE|ALTER|DROP|RENAME|TRUNCATE)\b/i

/**
 * Which tables a statement touches, from the names of the database's tables: every table whose
 * name appears in the statement counts (more than it reads, never less). A view, or a table with
 * triggers or foreign keys pointing at it, could reach tables not named: then "any"/"every".
 */
const makeTableNames = (pool: Mysql.Pool) => {
  let tables: ReadonlyArray<string> = []
  let views: ReadonlyArray<string> = []
  let reachesFurther = new Set<string>()
  const load = runOn(
    pool,
    `SELECT t.TABLE_NAME AS name, t.TABLE_TYPE AS type,
       EXISTS (SELECT 1 FROM information_schema.TRIGGERS g
               WHERE g.EVENT_OBJECT_SCHEMA = t.TABLE_SCHEMA AND g.EVENT_OBJECT_TABLE = t.TABLE_NAME) AS triggers,
       EXISTS (SELECT 1 FROM information_schema.REFERENTIAL_CONSTRAINTS r
               WHERE r.UNIQUE_CONSTRAINT_SCHEMA = t.TABLE_SCHEMA AND r.REFERENCED_TABLE_NAME = t.TABLE_NAME) AS referenced
     FROM information_schema.TABLES t WHERE t.TABLE_SCHEMA = DATABASE()`,
    [],
    "query"
  ).pipe(
    Effect.map((rows) => {
      const list = Array.isArray(rows)
        ? rows as Array<{ name: string; type: string; triggers: number; referenced: number }>
        : []
      tables = list.filter((row) => row.type === "BASE TABLE").map((row) => row.name)
      views = list.filter((row) => row.type !== "BASE TABLE").map((row) => row.name)
      reachesFurther = new Set(list.filter((row) => row.triggers > 0 || row.referenced > 0).map((row) => row.name))
    }),
    // Without the list every statement counts as touching everything: still correct, just coarser.
    Effect.ignore
  )
  const named = (sql: string, names: ReadonlyArray<string>) => {
    const words = new Set(sql.toLowerCase().match(/[a-z0-9_$]+/g) ?? [])
    return names.filter((name) => words.has(name.toLowerCase()))
  }
  return {
    load,
    reads: (sql: string): ReadonlyArray<string> => {
      const found = named(sql, tables)
      return found.length === 0 || named(sql, views).length > 0 ? [anyTable] : found
    },
    writes: (sql: string): ReadonlyArray<string> => {
      const found = named(sql, tables)
      return found.length === 0 || found.some((table) => reachesFurther.has(table)) ? [everyTable] : found
    }
  }
}

/** How many rows a write changed, from mysql2's result (one header, or several for several statements). */
const affectedRows = (results: unknown): number => {
  if (Array.isArray(results)) return results.reduce((sum: number, result) => sum + affectedRows(result), 0)
  return typeof results === "object" && results !== null && "affectedRows" in results &&
      typeof results.affectedRows === "number"
    ? results.affectedRows
    : 0
}

/** Whether mysql2's result holds rows (a read), rather than only write headers. */
const isRows = (results: unknown): results is ReadonlyArray<unknown> =>
  Array.isArray(results) && (results.length === 0 || !("affectedRows" in Object(results[0])))

/** Opens the pool in the current scope (probing the server) and builds the client around it. */
export const make = (options: MysqlOptions) =>
  Effect.gen(function*() {
    const where = yield* parseUrl(options.url)
    const pool = yield* Effect.acquireRelease(
      Effect.sync(() => Mysql.createPool(poolOptions(where.url, options))).pipe(
        Effect.tap(OpenResources.opened("mysqlPool")),
        Effect.tap(Effect.logDebug(`Database pool opened: ${where.target}`))
      ),
      (pool) =>
        Effect.async<void>((resume) => pool.end(() => resume(Effect.void))).pipe(
          Effect.zipRight(OpenResources.closed("mysqlPool")),
          Effect.zipRight(Effect.logDebug(`Database pool closed: ${where.target}`))
        )
    )
    yield* runOn(pool, "SELECT 1", [], "query").pipe(
      Effect.mapError((error) => connectError(where.target)(error.cause)),
      Effect.timeoutFail({
        duration: Duration.sum(Duration.decode(options.connectTimeout ?? Duration.seconds(5)), Duration.seconds(1)),
        onTimeout: () => new DatabaseConnectError({ target: where.target, reason: connectReasons.ETIMEDOUT ?? "" })
      })
    )
    const names = makeTableNames(pool)
    yield* names.load

    /** What a statement's writes invalidate; a schema change reloads the table names first. */
    const writtenBy = (sql: string, results: unknown): Effect.Effect<ReadonlyArray<string>> => {
      if (schemaChange.test(sql)) return Effect.as(names.load, [everyTable])
      return Effect.succeed(affectedRows(results) > 0 ? names.writes(sql) : [])
    }

    const run = (target: Mysql.Pool | Mysql.PoolConnection) => (request: Request): Effect.Effect<Ran, SqlError> =>
      Effect.flatMap(
        runOn(
          target,
          request.sql,
          request.params,
          request.unprepared ? "query" : "execute",
          request.shape === "values"
        ),
        (results) => {
          if (request.shape !== "raw" && isRows(results) && !request.unprepared) {
            return Effect.succeed<Ran>({ result: results, count: results.length, written: [] })
          }
          return Effect.map(writtenBy(request.sql, results), (written): Ran => ({
            result: request.shape === "raw" ? results : Array.isArray(results) ? results : [],
            count: isRows(results) ? results.length : affectedRows(results),
            written
          }))
        }
      )

    const getConnection = Effect.async<Mysql.PoolConnection, SqlError>((resume) =>
      pool.getConnection((cause, connection) => {
        if (cause === null) OpenResources.markOpened("mysqlConnection")
        resume(
          cause === null
            ? Effect.succeed(connection)
            : Effect.fail(new SqlError({ cause, message: "Failed to acquire a connection" }))
        )
      })
    )

    const driverConnection = (target: Mysql.Pool | Mysql.PoolConnection, streamOn: StreamSource): DriverConnection => ({
      runner: { _tag: "Async", run: run(target) },
      control: (sql) => Effect.asVoid(runOn(target, sql, [], "query")),
      stream: (sql, params) => streamRows(streamOn, sql, params)
    })

    const readers = options.readers === undefined ? undefined : yield* ReaderPool.makeWith(options.readers, {
      script: mysqlReaderWorkerScript,
      start: {
        _tag: "Mysql",
        url: Redacted.value(where.url),
        connectTimeoutMs: Duration.toMillis(options.connectTimeout ?? Duration.seconds(5)),
        dateStrings: options.dateStrings ?? false
      }
    }).pipe(
      Effect.mapError((error) =>
        new DatabaseConnectError({
          target: where.target,
          reason: `a reader worker could not connect (${error.reason})`
        })
      )
    )

    const core = yield* ClientCore.make({
      system: "mysql",
      makeCompiler: MysqlClient.makeCompiler,
      spanAttributes: [
        ["db.system", "mysql"],
        ["db.system.name", "mysql"],
        ["server.address", where.host],
        ["server.port", where.port],
        ["db.namespace", where.database]
      ],
      beginTransaction: "BEGIN",
      shared: driverConnection(pool, { own: getConnection }),
      connections: {
        _tag: "Pool",
        reserve: Effect.map(
          Effect.acquireRelease(getConnection, (connection) =>
            Effect.sync(() => {
              connection.release()
              OpenResources.markClosed("mysqlConnection")
            })),
          (connection) => driverConnection(connection, { shared: connection })
        )
      },
      tablesRead: names.reads,
      // InnoDB rolls back the whole transaction of a deadlock victim.
      endedTransaction: (error) => errorCode(error.cause) === "ER_LOCK_DEADLOCK",
      readers: readers === undefined ? undefined : {
        size: readers.size,
        query: readers.query,
        mayRun: (sql) => readOnlyShape.test(sql) && !lockingRead.test(sql),
        mainThreadBelow: Duration.toMillis(options.readers?.mainThreadBelow ?? Duration.millis(2))
      }
    }, options)

    return Context.add(core.context, MysqlDatabase, {
      target: where.target,
      database: where.database,
      poolSize: options.poolSize ?? 10,
      readers: readers?.size ?? 0
    })
  })

/** Context the MySQL layer provides: the standard client, prepared queries, `Reactivity`, the target. */
export type Services = Client.SqlClient | PreparedQueries | MysqlDatabase | Reactivity.Reactivity

const layers = ClientCore.layers(make)

/** A scoped layer holding one pool with the given settings. */
export const layer = (options: MysqlOptions): Layer.Layer<Services, DatabaseConnectError> => layers.layer(options)

/** The same layer with settings from `Config` (see `config`). */
export const layerConfig = (
  options: Config.Config<MysqlOptions> = config
): Layer.Layer<Services, DatabaseConnectError | ConfigError> => layers.layerConfig(options)

export { connectError, createDatabase, dropDatabase, parseUrl } from "./MysqlServer.js"
