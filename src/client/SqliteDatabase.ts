/**
 * The `DatabaseConnection` counterpart: one SQLite connection (better-sqlite3) opened when its
 * layer is built and closed when the layer's scope closes, on success, failure and interruption.
 * It is exposed as a standard `@effect/sql` `SqlClient`, so `sql` templates, `SqlSchema` and
 * migrations run on it; it adds what `@effect/sql-sqlite-node` lacks: the pragmas dbscope needs,
 * `BEGIN IMMEDIATE` transactions, a lazy `.stream`, typed open errors and a cheap statement cache.
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqlClient from "@effect/sql/SqlClient"
import type { Connection } from "@effect/sql/SqlConnection"
import { SqlError } from "@effect/sql/SqlError"
import * as Statement from "@effect/sql/Statement"
import Sqlite from "better-sqlite3"
import * as Chunk from "effect/Chunk"
import * as Config from "effect/Config"
import type { ConfigError } from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as path from "node:path"
import { commitFailed, DatabaseFileError } from "./DatabaseError.js"
import * as DatabaseFile from "./DatabaseFile.js"
import * as OpenResources from "./OpenResources.js"
import { PreparedQueries } from "./PreparedQueries.js"
import * as QueryHooks from "./QueryHooks.js"
import * as TableAccess from "./TableAccess.js"

/** Settings of a SQLite connection. */
export interface SqliteOptions {
  /** Path of the database file. */
  readonly filename: string
  /** How long a statement waits for another connection's lock before failing with SQLITE_BUSY. */
  readonly busyTimeout?: Duration.DurationInput | undefined
  /** Create the file (and its folder) when missing; otherwise a missing file is an error. Default true. */
  readonly create?: boolean | undefined
  /** Open read-only (no WAL switch, no writes). Default false. */
  readonly readonly?: boolean | undefined
  /** How many prepared statements to keep. Default 200. */
  readonly statementCacheSize?: number | undefined
  /**
   * `wal` (default): readers never block the writer. `delete`, the rollback journal, for file
   * systems without shared memory (network drives): a COMMIT then waits for readers to finish.
   */
  readonly journalMode?: "wal" | "delete" | undefined
}

/** What the connection layer provides besides the `SqlClient`. */
export class SqliteDatabase extends Context.Tag("dbscope/SqliteDatabase")<SqliteDatabase, {
  /** Absolute path of the open database file. */
  readonly filename: string
  /** Runs `f` on the underlying better-sqlite3 handle, holding the connection (no other statement runs). */
  readonly withHandle: <A>(f: (db: Sqlite.Database) => A) => Effect.Effect<A, SqlError>
}>() {}

/** Settings read from the environment: `DBSCOPE_DB` (default `./data/users.db`), `DBSCOPE_BUSY_TIMEOUT`. */
export const config: Config.Config<SqliteOptions> = Config.all({
  filename: Config.string("DBSCOPE_DB").pipe(Config.withDefault("./data/users.db")),
  busyTimeout: Config.duration("DBSCOPE_BUSY_TIMEOUT").pipe(Config.withDefault(Duration.millis(5000)))
})

const defaultBusyTimeout = Duration.millis(5000)

const executeFailed = (cause: unknown) => new SqlError({ cause, message: "Failed to execute statement" })

const openHandle = (file: string, shown: string, options: SqliteOptions) =>
  Effect.try({
    try: () => {
      const db = new Sqlite(file, {
        fileMustExist: true,
        readonly: options.readonly ?? false,
        timeout: Duration.toMillis(options.busyTimeout ?? defaultBusyTimeout)
      })
      try {
        if (options.readonly !== true) {
          db.pragma(options.journalMode === "delete" ? "journal_mode = DELETE" : "journal_mode = WAL")
        }
        db.pragma("foreign_keys = ON")
        db.pragma("synchronous = NORMAL")
        // Reading the schema proves the file is a usable database now rather than at the first query.
        db.prepare("SELECT count(*) FROM sqlite_schema").get()
        return db
      } catch (error) {
        db.close()
        throw error
      }
    },
    catch: (cause) => {
      const code = typeof cause === "object" && cause !== null && "code" in cause ? String(cause.code) : ""
      const reason = code.startsWith("SQLITE_NOTADB") || code.startsWith("SQLITE_CORRUPT")
        ? "the file is not a SQLite database or is corrupt"
        : code.startsWith("SQLITE_READONLY") || code.startsWith("SQLITE_CANTOPEN")
        ? "the database cannot be opened for writing"
        : `the database cannot be opened (${code || "unknown error"})`
      return new DatabaseFileError({ path: shown, reason, cause })
    }
  })

/** A least-recently-used cache of prepared statements, keyed by SQL text. */
const statementCache = (db: Sqlite.Database, capacity: number) => {
  const statements = new Map<string, Sqlite.Statement>()
  return (sql: string): Sqlite.Statement => {
    const cached = statements.get(sql)
    if (cached !== undefined) {
      statements.delete(sql)
      statements.set(sql, cached)
      return cached
    }
    const statement = db.prepare(sql)
    statements.set(sql, statement)
    if (statements.size > capacity) {
      const oldest = statements.keys().next()
      if (oldest.done !== true) statements.delete(oldest.value)
    }
    return statement
  }
}

const streamChunkSize = 512

/** A statement run synchronously: its rows, or the error it failed with. */
type Ran = { readonly rows: number; readonly result: ReadonlyArray<object> } | { readonly error: SqlError }

const transactionControl = /^\s*(?:BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE)\b/i

/** Thrown by a failed COMMIT once the transaction has been rolled back. */
class CommitFailure {
  constructor(readonly cause: unknown) {}
}

const failedUnprepared = (cause: unknown) =>
  cause instanceof CommitFailure
    ? new SqlError({ cause: cause.cause, message: commitFailed })
    : executeFailed(cause)

/**
 * `@effect/sql` opens a savepoint for each nested transaction but never releases it on success, so
 * a loop of nested writes stacks thousands of open savepoints, which SQLite checks on every page
 * written (an import got quadratically slower). Before a savepoint name is reused, the earlier,
 * finished one (and any opened after it) is released: its changes stay in the outer transaction.
 */
const savepointTracker = (db: Sqlite.Database) => {
  const open: Array<string> = []
  return {
    before: (sql: string) => {
      const savepoint = /^SAVEPOINT (\w+)$/.exec(sql)?.[1]
      if (savepoint !== undefined) {
        const index = open.indexOf(savepoint)
        if (index >= 0) {
          db.prepare(`RELEASE SAVEPOINT ${savepoint}`).run()
          open.length = index
        }
        open.push(savepoint)
      } else if (/^(BEGIN|COMMIT|ROLLBACK)\b/.test(sql) && !sql.startsWith("ROLLBACK TO")) {
        open.length = 0
      }
    }
  }
}

/**
 * Opens the writer connection in the current scope: the raw `Connection`, the means to hold it
 * exclusively, and the prepared-query fast path. `make` and the reader pool build clients on it.
 * The file is prepared (folder, 0600 mode, header check) before the driver sees it.
 */
export const makeWriter = (options: SqliteOptions) =>
  Effect.gen(function*() {
    const shown = options.filename
    const file = yield* DatabaseFile.prepare(shown, {
      create: options.create ?? true,
      readonly: options.readonly ?? false
    })
    const name = path.basename(file)
    const db = yield* Effect.acquireRelease(
      openHandle(file, shown, options).pipe(
        Effect.tap(OpenResources.opened("connection")),
        Effect.tap(Effect.log(`Database connection opened: ${name}`))
      ),
      (db) =>
        Effect.sync(() => db.close()).pipe(
          Effect.zipRight(OpenResources.closed("connection")),
          Effect.zipRight(Effect.log(`Database connection closed: ${name}`))
        )
    )
    const prepare = statementCache(db, options.statementCacheSize ?? 200)
    const tables = TableAccess.make(db)
    const reactivity = yield* Reactivity.Reactivity

    // Tables written inside the open transaction: told again once it ends, so a result cached from
    // another connection's (older) snapshot meanwhile does not outlive the commit.
    const pendingInvalidation = new Set<string>()
    const written = (access: TableAccess.Access) => {
      if (access.changesSchema) tables.schemaChanged()
      const keys = [...access.writes, TableAccess.anyTable]
      if (db.inTransaction) { for (const key of keys) pendingInvalidation.add(key) }
      reactivity.unsafeInvalidate(keys)
    }
    const transactionEnded = () => {
      if (pendingInvalidation.size === 0) return
      const keys = [...pendingInvalidation]
      pendingInvalidation.clear()
      reactivity.unsafeInvalidate(keys)
    }

    /** Rows returned (reads) or changed (writes) by the last statement `runNow` ran. */
    let lastCount = 0

    /** Runs one statement synchronously; throws what the driver throws. */
    const runNow = (sql: string, params: ReadonlyArray<unknown>, raw: boolean, safeIntegers: boolean) => {
      const statement = prepare(sql)
      if (statement.reader) {
        statement.safeIntegers(safeIntegers)
        const rows = statement.all(...params) as Array<object>
        lastCount = rows.length
        return rows
      }
      // Worked out before the statement runs: a schema change would hide what it touched.
      const access = tables.of(sql, params, false)
      const result = statement.run(...params)
      lastCount = result.changes
      if (result.changes > 0 || access.changesSchema) written(access)
      return raw ? [result] : []
    }

    const tryRun = (
      sql: string,
      params: ReadonlyArray<unknown>,
      raw: boolean,
      safeIntegers: boolean,
      recorder: QueryHooks.ReadRecorder | undefined
    ): Ran => {
      try {
        if (recorder !== undefined && prepare(sql).reader) recorder.read(tables.of(sql, params, true).reads)
        const result = runNow(sql, params, raw, safeIntegers)
        return { rows: lastCount, result }
      } catch (cause) {
        return { error: executeFailed(cause) }
      }
    }

    const settle = (outcome: Ran) =>
      "error" in outcome ? Effect.fail(outcome.error) : Effect.succeedSome(outcome.result)

    /**
     * The statement under the fiber's hooks (see `QueryHooks`), run in the caller's synchronous
     * step (from `withFiberRuntime`): `whenFree` gives `None` when another fiber holds the connection.
     */
    const runHooked = (
      sql: string,
      shownParams: ReadonlyArray<unknown>,
      raw: boolean,
      fiber: Fiber.RuntimeFiber<unknown, unknown>,
      whenFree: boolean
    ): Effect.Effect<Option.Option<ReadonlyArray<object>>, SqlError> => {
      const safeIntegers = Context.get(fiber.currentContext, SqlClient.SafeIntegers)
      const params = QueryHooks.bindable(shownParams)
      const recorder = fiber.getFiberRef(QueryHooks.currentRecorder)
      if (!QueryHooks.observed(fiber)) {
        return whenFree && held > 0 ? Effect.succeedNone : settle(tryRun(sql, params, raw, safeIntegers, recorder))
      }
      if (whenFree && held > 0) return Effect.succeedNone
      const started = QueryHooks.startSpan(fiber, "sqlite", sql)
      const since = performance.now()
      const outcome = tryRun(sql, params, raw, safeIntegers, recorder)
      const millis = performance.now() - since
      QueryHooks.endSpan(fiber, started, outcome)
      const logging = fiber.getFiberRef(QueryHooks.currentLogging)
      if (logging !== undefined) QueryHooks.emitLog(fiber, logging, sql, shownParams, millis, outcome)
      return settle(outcome)
    }

    const hooked = (fiber: Fiber.RuntimeFiber<unknown, unknown>) =>
      QueryHooks.observed(fiber) || fiber.getFiberRef(QueryHooks.currentRecorder) !== undefined

    const run = (sql: string, rawParams: ReadonlyArray<unknown>, raw: boolean) =>
      Effect.withFiberRuntime<ReadonlyArray<object>, SqlError>((fiber) => {
        if (hooked(fiber)) return Effect.map(runHooked(sql, rawParams, raw, fiber, false), Option.getOrElse(() => []))
        const params = QueryHooks.bindable(rawParams)
        try {
          return Effect.succeed(runNow(sql, params, raw, Context.get(fiber.currentContext, SqlClient.SafeIntegers)))
        } catch (cause) {
          return Effect.fail(executeFailed(cause))
        }
      })

    // One connection: a permit is held for each statement and for a whole transaction, so no
    // statement of another fiber can run inside someone else's transaction.
    // `held` mirrors the permit synchronously, so the prepared-query hot path can see "nobody holds
    // the connection" and run its statement in the same synchronous step, with no permit round trip.
    const semaphore = yield* Effect.makeSemaphore(1)
    let held = 0
    const holdConnection = Effect.uninterruptibleMask((restore) =>
      Effect.zipRight(
        restore(Effect.zipRight(semaphore.take(1), Effect.sync(() => void held++))),
        Effect.flatMap(
          Effect.scope,
          (scope) => Scope.addFinalizer(scope, Effect.zipRight(Effect.sync(() => void held--), semaphore.release(1)))
        )
      )
    )
    const withConnection = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      Effect.scoped(Effect.zipRight(holdConnection, effect))
    const savepoints = savepointTracker(db)

    /**
     * SQLite keeps a transaction open after a failed COMMIT (BUSY, a deferred constraint): it is
     * rolled back here, so the connection is clean and the failure is all-or-nothing.
     */
    const commit = (): Array<object> => {
      try {
        db.prepare("COMMIT").run()
      } catch (cause) {
        if (db.inTransaction) db.prepare("ROLLBACK").run()
        throw new CommitFailure(cause)
      } finally {
        if (!db.inTransaction) transactionEnded()
      }
      return []
    }

    /** Transaction control (and anything run with `executeUnprepared`), prepared afresh each time. */
    const runUnprepared = (sql: string, params: ReadonlyArray<unknown>): Array<object> => {
      const wasOpen = db.inTransaction
      try {
        return runUnpreparedNow(sql, params)
      } finally {
        if (!wasOpen && db.inTransaction) OpenResources.markOpened("transaction")
        if (wasOpen && !db.inTransaction) OpenResources.markClosed("transaction")
      }
    }

    const runUnpreparedNow = (sql: string, params: ReadonlyArray<unknown>): Array<object> => {
      savepoints.before(sql)
      if (sql === "COMMIT") return commit()
      // `@effect/sql` rolls back after a failed BEGIN too; with no transaction open that would turn
      // the BEGIN's (typed, often transient) error into a defect.
      if (sql === "ROLLBACK" && !db.inTransaction) return []
      const statement = db.prepare(sql)
      if (statement.reader) return statement.all(...params) as Array<object>
      const control = transactionControl.test(sql)
      const access = control ? undefined : tables.of(sql, params, false)
      const result = statement.run(...params)
      if (access !== undefined && (result.changes > 0 || access.changesSchema)) written(access)
      if (control && !db.inTransaction) transactionEnded()
      return []
    }

    const connection: Connection = {
      execute: (sql, params, transformRows) =>
        transformRows === undefined ? run(sql, params, false) : Effect.map(run(sql, params, false), transformRows),
      executeRaw: (sql, params) => run(sql, params, true),
      executeValues: (sql, params) =>
        QueryHooks.observe(
          "sqlite",
          sql,
          params,
          () => tables.of(sql, params, true).reads,
          Effect.try({
            try: () => {
              const statement = prepare(sql)
              if (!statement.reader) {
                runNow(sql, QueryHooks.bindable(params), false, false)
                return []
              }
              try {
                return statement.raw(true).all(...QueryHooks.bindable(params)) as ReadonlyArray<ReadonlyArray<unknown>>
              } finally {
                statement.raw(false)
              }
            },
            catch: executeFailed
          })
        ),
      executeUnprepared: (sql, params, transformRows) => {
        const rows = QueryHooks.observe(
          "sqlite",
          sql,
          params,
          () => [TableAccess.anyTable],
          Effect.try({ try: () => runUnprepared(sql, QueryHooks.bindable(params)), catch: failedUnprepared })
        )
        return transformRows === undefined ? rows : Effect.map(rows, transformRows)
      },
      executeStream: (sql, params, transformRows) =>
        Stream.unwrapScoped(Effect.gen(function*() {
          // better-sqlite3 runs no other statement while an iterator is open: the acquirer's permit,
          // taken in the stream's scope, keeps every other fiber off the connection until it ends.
          const logging = yield* FiberRef.get(QueryHooks.currentLogging)
          const countRows = yield* QueryHooks.streamSpan("sqlite", sql)
          const since = performance.now()
          let streamed = 0
          const iterator = yield* Effect.acquireRelease(
            Effect.try({ try: () => prepare(sql).iterate(...QueryHooks.bindable(params)), catch: executeFailed }).pipe(
              Effect.tap(OpenResources.opened("iterator"))
            ),
            (iterator) =>
              Effect.withFiberRuntime<void>((fiber) => {
                iterator.return?.()
                OpenResources.markClosed("iterator")
                countRows(streamed)
                // One line for the whole stream, when it ends: how long it ran, how many rows it gave.
                if (logging !== undefined) {
                  QueryHooks.emitLog(fiber, logging, sql, params, performance.now() - since, { rows: streamed })
                }
                return Effect.void
              })
          )
          const pull = Effect.try({
            try: () => {
              const rows: Array<object> = []
              for (let next = iterator.next(); next.done !== true; next = iterator.next()) {
                rows.push(next.value as object)
                if (rows.length === streamChunkSize) break
              }
              streamed += rows.length
              return rows
            },
            catch: executeFailed
          }).pipe(
            Effect.mapError(Option.some),
            Effect.flatMap((rows) =>
              rows.length === 0
                ? Effect.fail(Option.none())
                : Effect.succeed(Chunk.unsafeFromArray(transformRows ? transformRows(rows) : rows))
            )
          )
          return Stream.repeatEffectChunkOption(pull)
        }))
    }

    /**
     * Runs a statement at once if nobody holds the connection, else gives `None`. The check and
     * the statement run in one synchronous step: no other fiber can start a transaction between.
     */
    const runIfFree = (sql: string, rawParams: ReadonlyArray<unknown>) =>
      Effect.withFiberRuntime<Option.Option<ReadonlyArray<object>>, SqlError>((fiber) => {
        if (held > 0) return Effect.succeedNone
        if (hooked(fiber)) return runHooked(sql, rawParams, false, fiber, true)
        const params = QueryHooks.bindable(rawParams)
        try {
          return Effect.succeedSome(
            runNow(sql, params, false, Context.get(fiber.currentContext, SqlClient.SafeIntegers))
          )
        } catch (cause) {
          return Effect.fail(executeFailed(cause))
        }
      })

    const prepared = {
      prepare: (sql: string) => (params: ReadonlyArray<unknown>) =>
        Effect.flatMap(
          Effect.serviceOption(SqlClient.TransactionConnection),
          (transaction): Effect.Effect<ReadonlyArray<unknown>, SqlError> =>
            Option.isSome(transaction)
              ? transaction.value[0].execute(sql, params, undefined)
              : Effect.flatMap(
                runIfFree(sql, params),
                Option.match({ onNone: () => withConnection(run(sql, params, false)), onSome: Effect.succeed })
              )
        )
    }

    const database = {
      filename: file,
      withHandle: <A>(f: (db: Sqlite.Database) => A) =>
        withConnection(Effect.try({ try: () => f(db), catch: executeFailed }))
    }
    /** The tables a read reads, for statements run elsewhere (the reader pool) on this file. */
    const tablesRead = (sql: string, params: ReadonlyArray<unknown>) => tables.of(sql, params, true).reads
    return { file, connection, holdConnection, withConnection, runIfFree, prepared, database, tablesRead } as const
  })

/** The writer as `makeWriter` returns it. */
export type Writer = Effect.Effect.Success<ReturnType<typeof makeWriter>>

/**
 * Builds a `SqlClient` over the writer: transactions hold the writer, start with `BEGIN IMMEDIATE`
 * (a writer that starts deferred and upgrades later can deadlock with another writer), and nest as
 * savepoints. `acquirer` decides where statements outside transactions go.
 */
export const makeClient = (writer: Writer, acquirer: Effect.Effect<Connection, never, Scope.Scope>) =>
  SqlClient.make({
    acquirer,
    transactionAcquirer: Effect.as(writer.holdConnection, writer.connection),
    compiler: Statement.makeCompilerSqlite(),
    beginTransaction: "BEGIN IMMEDIATE",
    spanAttributes: [["db.system", "sqlite"], ["db.system.name", "sqlite"]]
  })

/** Opens one connection in the current scope and builds the client around it. */
export const make = (options: SqliteOptions) =>
  Effect.gen(function*() {
    const writer = yield* makeWriter(options)
    const client = yield* makeClient(writer, Effect.as(writer.holdConnection, writer.connection))
    return { client, prepared: writer.prepared, database: writer.database }
  })

/**
 * Context the SQLite layers provide: the standard client, prepared queries, the handle, and the
 * `Reactivity` the connection tells about every write (a `QueryCache` must listen to this one).
 */
export type Services = SqlClient.SqlClient | PreparedQueries | SqliteDatabase | Reactivity.Reactivity

/** The services of a built client, as a context. */
export const toContext = (built: Effect.Effect.Success<ReturnType<typeof make>>) =>
  Context.make(SqlClient.SqlClient, built.client).pipe(
    Context.add(PreparedQueries, built.prepared),
    Context.add(SqliteDatabase, built.database)
  )

/** A scoped layer holding one SQLite connection with the given settings. */
export const layer = (options: SqliteOptions): Layer.Layer<Services, DatabaseFileError> =>
  Layer.scopedContext(Effect.map(make(options), toContext)).pipe(Layer.provideMerge(Reactivity.layer))

/** The same layer with settings from `Config` (see `config`). */
export const layerConfig = (
  options: Config.Config<SqliteOptions> = config
): Layer.Layer<Services, DatabaseFileError | ConfigError> =>
  Layer.scopedContext(Effect.flatMap(options, (resolved) => Effect.map(make(resolved), toContext))).pipe(
    Layer.provideMerge(Reactivity.layer)
  )
