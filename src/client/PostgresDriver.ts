/**
 * The PostgreSQL driver of the client core: the part of `PostgresDatabase` that needs pg, pg-cursor
 * and `@effect/sql-pg`, optional peers of dbscope, so it is imported only when PostgreSQL is used
 * (see `PostgresDatabase.layer`).
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as PgClient from "@effect/sql-pg/PgClient"
import { SqlError } from "@effect/sql/SqlError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Pg from "pg"
import { postgresReaderWorkerScript } from "../BundledData.js"
import * as OpenResources from "../OpenResources.js"
import { bigints, numbers } from "../readers/PostgresTypes.js"
import * as ReaderPool from "../readers/ReaderPool.js"
import * as ClientCore from "./core/ClientCore.js"
import type { DriverConnection, Ran, Request } from "./core/Driver.js"
import * as Isolation from "./core/Isolation.js"
import { anyTable, everyTable } from "./core/StatementObserver.js"
import { connectionLostCodes, DatabaseConnectError, readerConnectError } from "./DatabaseError.js"
import * as ExternalWrites from "./ExternalWrites.js"
import { errorCode } from "./MysqlServer.js"
import { PostgresDatabase, type PostgresOptions } from "./PostgresDatabase.js"
import * as PostgresNotify from "./PostgresNotify.js"
import { numberedPlaceholders } from "./PostgresPlaceholders.js"
import { connectBound, connectError, connectionConfig, connectReasons, parseUrl } from "./PostgresServer.js"
import * as PostgresStream from "./PostgresStream.js"
import * as PostgresWrites from "./PostgresWrites.js"
import { postgresRules } from "./ReadingStatements.js"
import * as TableNames from "./TableNames.js"

/** How long an interrupted statement's cancel is waited for (a server gone quiet never answers). */
const cancelWithin = Duration.seconds(5)

/**
 * Asks the server to cancel what backend `pid` runs, on a connection of its own: the pool's may
 * all be busy (a pool of one is busy with the very statement to cancel). Best effort.
 */
const cancelBackend = (pool: Pg.Pool, pid: number): Promise<void> => {
  const canceller = new Pg.Client(pool.options)
  canceller.on("error", () => undefined)
  return canceller.connect()
    .then(() => canceller.query("SELECT pg_cancel_backend($1)", [pid]))
    .then(() => undefined, () => undefined)
    .finally(() => void canceller.end().catch(() => undefined))
}

/**
 * Runs one statement on the pool (any free connection, taken for it) or on one connection. An
 * interrupted statement is cancelled on the server (`cancelBackend`): otherwise it would go on
 * running, holding its connection (and, in a transaction, making the ROLLBACK wait for it). The
 * interruption returns once both the statement and the cancel are over, and a connection the pool
 * gave goes back only then: a cancel that arrived late would hit the connection's next statement.
 */
const runOn = (
  target: Pg.Pool | Pg.PoolClient,
  request: Pick<Request, "sql" | "params" | "shape" | "unprepared" | "safeIntegers">,
  pool: Pg.Pool
) =>
  Effect.async<Pg.QueryResult | Array<Pg.QueryResult>, SqlError>((resume) => {
    const config = {
      text: request.sql,
      values: [...request.params],
      types: request.safeIntegers ? bigints : numbers,
      // One statement per call, always (several only through `executeUnprepared`, as on MySQL).
      ...(request.unprepared ? {} : { queryMode: "extended" as const }),
      ...(request.shape === "values" ? { rowMode: "array" as const } : {})
    } as Pg.QueryConfig
    let client: Pg.PoolClient | undefined
    let interrupted = false
    /** Settled when the statement has ended (its callback ran). */
    let ended: () => void = () => undefined
    const statementEnded = new Promise<void>((resolve) => void (ended = resolve))
    let cancelled: Promise<void> | undefined
    const run = (on: Pg.PoolClient, release?: (error?: Error) => void) => {
      client = on
      on.query(config, (cause: Error | undefined, result: Pg.QueryResult | Array<Pg.QueryResult>) => {
        const failure = cause === undefined || cause === null ? undefined : withCode(cause)
        // A connection that broke is destroyed; any other failure leaves it fit for the next one.
        const giveBack = () =>
          release?.(failure !== undefined && connectionLostCodes.has(errorCode(failure)) ? failure : undefined)
        if (cancelled === undefined) giveBack()
        else void cancelled.then(giveBack)
        ended()
        resume(
          failure === undefined
            ? Effect.succeed(result)
            : Effect.fail(new SqlError({ cause: failure, message: "Failed to execute statement" }))
        )
      })
    }
    if (target !== pool) {
      run(target as Pg.PoolClient)
    } else {
      pool.connect((cause, taken, release) => {
        if (cause !== undefined && cause !== null || taken === undefined) {
          ended()
          resume(
            Effect.fail(
              new SqlError({
                cause: withCode(cause ?? new Error("no connection")),
                message: "Failed to acquire a connection"
              })
            )
          )
        } else if (interrupted) {
          // Interrupted while waiting for the connection: nothing to run.
          release()
        } else {
          run(taken, release)
        }
      })
    }
    return Effect.promise(() => {
      interrupted = true
      const pid = (client as unknown as { processID?: number } | undefined)?.processID
      if (client === undefined || pid === undefined || pool.ending) return Promise.resolve()
      cancelled = cancelBackend(pool, pid)
      return Promise.all([cancelled, statementEnded]).then(() => undefined)
    }).pipe(Effect.timeoutOption(cancelWithin), Effect.asVoid)
  })

/**
 * pg's errors for a connection that broke carry no code: they are given the code the other drivers
 * use for it, so that they read as a lost connection (transient, outcome unknown).
 */
const withCode = (cause: Error): Error =>
  errorCode(cause) === "UNKNOWN" &&
    /connection terminated|connection error|not queryable|terminated by/i.test(cause.message)
    ? Object.assign(cause, { code: "ECONNRESET" })
    : cause

/**
 * Transaction control, run as is. PostgreSQL answers the COMMIT of a transaction a failure aborted
 * with a ROLLBACK and no error (a failure dbscope did not see: a statement given up by a timeout
 * that failed later): that COMMIT fails here, as 25P02, so that nobody is told it committed.
 */
const control = (target: Pg.Pool | Pg.PoolClient, sql: string, pool: Pg.Pool) =>
  Effect.flatMap(
    runOn(target, { sql, params: [], shape: "raw", unprepared: true, safeIntegers: false }, pool),
    (result) =>
      sql === "COMMIT" && !Array.isArray(result) && result.command === "ROLLBACK"
        ? Effect.fail(
          new SqlError({
            cause: Object.assign(new Error("the transaction had been aborted: COMMIT rolled it back"), {
              code: "25P02"
            }),
            message: "Failed to commit"
          })
        )
        : Effect.void
  )

/**
 * The tables and views of the schemas on the search path, and whether a write to one may reach
 * further: a trigger (other than dbscope's own notifying one), a rule, or a foreign key pointing
 * at it (`ON DELETE CASCADE`).
 */
const tableListSql = `SELECT c.relname AS name, c.relkind IN ('v', 'm') AS view,
    EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = c.oid AND NOT g.tgisinternal
            AND g.tgname <> '${PostgresNotify.triggerName}')
    OR EXISTS (SELECT 1 FROM pg_rewrite r WHERE r.ev_class = c.oid AND r.rulename <> '_RETURN')
    OR EXISTS (SELECT 1 FROM pg_constraint f WHERE f.confrelid = c.oid AND f.contype = 'f') AS reaches
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = ANY (current_schemas(false)) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')`

/** Commands that change rows of the tables their statement names. */
const rowWrites = new Set(["INSERT", "UPDATE", "DELETE", "MERGE", "COPY"])
/**
 * Commands that change no table's rows. Anything else not a read (`CALL`, `DO`, `REFRESH
 * MATERIALIZED VIEW`, `CLUSTER`, ...) may write any table: it counts as a write to every one.
 */
const noRowWrites = new Set([
  "SHOW",
  "SET",
  "RESET",
  "BEGIN",
  "START",
  "COMMIT",
  "ROLLBACK",
  "SAVEPOINT",
  "RELEASE",
  "LISTEN",
  "UNLISTEN",
  "NOTIFY",
  "PREPARE",
  "DEALLOCATE",
  "DECLARE",
  "FETCH",
  "MOVE",
  "CLOSE",
  "ANALYZE",
  "VACUUM",
  "CHECKPOINT",
  "DISCARD",
  "LOCK"
])
/** A data-modifying `WITH` (`WITH gone AS (DELETE ...) SELECT ...`) reports itself as a SELECT. */
const writesInside = /\b(?:INSERT|UPDATE|DELETE|MERGE)\b/i
/** Statements a reader worker may be given: plain reads (a locking read needs the pool's connections). */
const readOnlyShape = /^\s*\(?\s*(?:SELECT|WITH|VALUES|TABLE)\b/i
const lockingRead = /\bFOR\s+(?:UPDATE|SHARE|NO\s+KEY\s+UPDATE|KEY\s+SHARE)\b/i

const schemaChange = /^\s*(?:CREATE|ALTER|DROP|TRUNCATE|COMMENT|GRANT|REVOKE)\b/i

/**
 * Codes after which the rest of a transaction cannot run: a serialization failure or a deadlock
 * victim (PostgreSQL aborts the transaction: a retry must start it again), or the connection gone.
 */
const endsTransaction = (code: string) => code === "40001" || code === "40P01" || connectionLostCodes.has(code)

/** The pool, opened in the current scope; every connection is counted while taken out of it. */
const openPool = (url: PostgresOptions["url"], options: PostgresOptions, ownBackends: Set<number>) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const pool = new Pg.Pool({ ...connectionConfig(url, options), max: options.poolSize ?? 10 })
      // An idle connection the server closed is removed by pg; the event must not crash the process.
      pool.on("error", () => undefined)
      pool.on("connect", (client) => {
        const pid = (client as unknown as { processID?: number }).processID
        if (pid !== undefined) ownBackends.add(pid)
      })
      pool.on("remove", (client) => {
        const pid = (client as unknown as { processID?: number }).processID
        if (pid !== undefined) ownBackends.delete(pid)
      })
      return pool
    }).pipe(Effect.tap(OpenResources.opened("postgresPool"))),
    (pool) =>
      Effect.promise(() => pool.end().catch(() => undefined)).pipe(
        Effect.zipRight(OpenResources.closed("postgresPool"))
      )
  )

/** Opens the pool in the current scope (probing the server) and builds the client around it. */
export const make = (options: PostgresOptions) =>
  Effect.gen(function*() {
    const where = yield* parseUrl(options.url)
    /** The server processes of this client's own connections: their notifications are not news. */
    const ownBackends = new Set<number>()
    const pool = yield* openPool(where.url, options, ownBackends)

    yield* control(pool, "SELECT 1", pool).pipe(
      Effect.mapError((error) => connectError(where.target)(error.cause)),
      Effect.timeoutFail({
        duration: connectBound(options),
        onTimeout: () => new DatabaseConnectError({ target: where.target, reason: connectReasons.ETIMEDOUT ?? "" })
      })
    )

    const names = TableNames.make()
    /** Reads the catalogue through the pool, outside any transaction. */
    const loadNames = names.load(Effect.map(
      runOn(pool, { sql: tableListSql, params: [], shape: "rows", unprepared: false, safeIntegers: false }, pool),
      (result): ReadonlyArray<TableNames.TableInfo> =>
        (Array.isArray(result) ? [] : result.rows as Array<{ name: string; view: boolean; reaches: boolean }>)
          .map((row) => ({ name: row.name, view: row.view, reachesFurther: row.reaches }))
    ))
    yield* loadNames
    /**
     * A schema changed on a connection of one's own (in a transaction, maybe): the catalogue is read
     * again when that connection is given back, never inside the transaction (a failed read would
     * abort it unseen, and the new tables are not committed yet); until then, names count coarsely.
     */
    let namesStale = false
    const reactivity = yield* Reactivity.Reactivity

    /** What one statement came to; a schema change reloads the table names first. */
    const ranOne = (request: Request, result: Pg.QueryResult, own: boolean): Effect.Effect<Ran> => {
      const rows: ReadonlyArray<unknown> = result.rows ?? []
      const output = request.shape === "raw" ? result : rows
      // EXPLAIN ANALYZE runs its statement: judged as one.
      const selected = result.command === "SELECT" || result.command === "EXPLAIN"
      const count = selected ? rows.length : result.rowCount ?? rows.length
      if (schemaChange.test(request.sql)) {
        const reload = own ? Effect.sync(() => void (namesStale = true)) : loadNames
        return Effect.as(reload, { result: output, count, written: [everyTable] })
      }
      if (!selected && !rowWrites.has(result.command)) {
        return Effect.succeed({ result: output, count, written: noRowWrites.has(result.command) ? [] : [everyTable] })
      }
      // A data-modifying WITH reports itself as a SELECT (its row count is not the rows it changed).
      const writes = selected ? writesInside.test(request.sql) : count > 0
      return Effect.succeed({ result: output, count, written: writes ? names.writes(request.sql) : [] })
    }

    const run = (target: Pg.Pool | Pg.PoolClient) => (request: Request): Effect.Effect<Ran, SqlError> =>
      Effect.flatMap(
        runOn(target, { ...request, sql: numberedPlaceholders(request.sql, request.params.length) }, pool),
        (results) => {
          const own = target !== pool
          if (!Array.isArray(results)) return ranOne(request, results, own)
          // Several statements in one `executeUnprepared` call: one array of rows each, as upstream; every one's writes count.
          return Effect.map(
            Effect.forEach(results, (result) => ranOne(request, result, own)),
            (ran): Ran => ({
              result: request.shape === "raw" ? results : ran.map((one) => one.result),
              count: ran.reduce((sum, one) => sum + one.count, 0),
              written: [...new Set(ran.flatMap((one) => one.written))]
            })
          )
        }
      )

    const takeConnection = Effect.async<Pg.PoolClient, SqlError>((resume) => {
      pool.connect((cause, client) => {
        if (cause !== undefined && cause !== null || client === undefined) {
          resume(Effect.fail(new SqlError({ cause, message: "Failed to acquire a connection" })))
          return
        }
        OpenResources.markOpened("postgresConnection")
        resume(Effect.succeed(client))
      })
    })

    /** A connection of one's own, given back when the scope closes (destroyed when it was lost). */
    const ownConnection = Effect.acquireRelease(
      Effect.map(takeConnection, (client) => {
        const lost: { error: Error | undefined } = { error: undefined }
        const onError = (error: Error) => void (lost.error = error)
        // An error on an idle reserved connection (the server went away) is told to pg on release.
        client.on("error", onError)
        return { client, lost, onError }
      }),
      ({ client, lost, onError }) =>
        Effect.sync(() => {
          client.off("error", onError)
          client.release(lost.error)
          OpenResources.markClosed("postgresConnection")
        }).pipe(
          Effect.zipRight(Effect.suspend(() => {
            if (!namesStale) return Effect.void
            namesStale = false
            return loadNames
          }))
        )
    )

    const driverConnection = (
      target: Pg.Pool | Pg.PoolClient,
      streamOn: PostgresStream.StreamSource
    ): DriverConnection => ({
      runner: { _tag: "Async", run: run(target) },
      control: (sql) => control(target, sql, pool),
      stream: (sql, params) =>
        PostgresStream.streamRows(streamOn, numberedPlaceholders(sql, params.length), params, numbers)
    })

    const readers = options.readers === undefined ? undefined : yield* ReaderPool.makeWith(options.readers, {
      script: postgresReaderWorkerScript,
      start: {
        _tag: "Postgres",
        url: Redacted.value(where.url),
        connectTimeoutMs: Duration.toMillis(options.connectTimeout ?? Duration.seconds(5))
      }
    }).pipe(Effect.mapError(readerConnectError(where.target)))

    const core = yield* ClientCore.make({
      system: "postgresql",
      makeCompiler: (transform) => PgClient.makeCompiler(transform),
      spanAttributes: [
        ["db.system", "postgresql"],
        ["db.system.name", "postgresql"],
        ["server.address", where.host],
        ["server.port", where.port],
        ["db.namespace", where.database]
      ],
      beginTransaction: (
        level
      ) => [level === undefined ? "BEGIN" : `BEGIN ISOLATION LEVEL ${Isolation.sqlName(level)}`],
      shared: driverConnection(pool, { own: takeConnection }),
      connections: {
        _tag: "Pool",
        reserve: Effect.map(ownConnection, ({ client }) => driverConnection(client, { shared: client }))
      },
      tablesRead: (sql) => names.reads(sql),
      endedTransaction: (error) => endsTransaction(errorCode(error.cause)),
      failureAborts: true,
      readOnly: postgresRules,
      readers: readers === undefined ? undefined : {
        size: readers.size,
        query: (sql, params, check) => readers.query(numberedPlaceholders(sql, params.length), params, check),
        mayRun: (sql) => readOnlyShape.test(sql) && !lockingRead.test(sql) && !writesInside.test(sql),
        mainThreadBelow: Duration.toMillis(options.readers?.mainThreadBelow ?? Duration.millis(2))
      }
    }, options)

    // Other processes' writes arrive as notifications, table by table (see `PostgresWrites`).
    const signal = yield* PostgresWrites.listen({
      config: connectionConfig(where.url, options),
      ownBackends,
      invalidate: (tables) => reactivity.unsafeInvalidate([...tables, anyTable]),
      retryAfter: Duration.seconds(1)
    })
    const context = Context.add(core.context, ExternalWrites.ExternalWrites, signal).pipe(
      Context.add(PostgresDatabase, {
        target: where.target,
        database: where.database,
        poolSize: options.poolSize ?? 10,
        readers: readers?.size ?? 0
      })
    )
    // The pool is there for those who look for it (`/metrics`), as on SQLite; only when asked for.
    return readers === undefined ? context : Context.add(context, ReaderPool.ReaderPool, readers)
  })

/**
 * pg itself, for the modules that load it on use (`PostgresServer`): they import it through this
 * module, so that the bundled CLI keeps `pg` an external package loaded only when PostgreSQL is used.
 */
export { Pg }
