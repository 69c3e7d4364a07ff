/**
 * The `DatabaseConnection` counterpart: one SQLite connection (better-sqlite3) opened when its
 * layer is built and closed when the layer's scope closes, on success, failure and interruption.
 * It is the SQLite driver of the client core (`core/ClientCore`), so it is a standard
 * `@effect/sql` `SqlClient` with everything the core adds; this module says only what SQLite does
 * differently: the pragmas dbscope needs, `BEGIN IMMEDIATE`, a cheap statement cache, statements
 * run synchronously in the caller's step, a lazy `.stream` over `.iterate()`, which tables a
 * statement touches (`TableAccess`, from SQLite's own plan) and typed open errors. With `readers`,
 * reads also run on reader workers (see `SqlitePool`).
 */
import type * as Reactivity from "@effect/experimental/Reactivity"
import type * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import * as Statement from "@effect/sql/Statement"
import Sqlite from "better-sqlite3"
import * as Chunk from "effect/Chunk"
import * as Config from "effect/Config"
import type { ConfigError } from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as path from "node:path"
import * as OpenResources from "../OpenResources.js"
import type * as ReaderPool from "../readers/ReaderPool.js"
import * as ClientCore from "./core/ClientCore.js"
import type { Driver, Ran, Request } from "./core/Driver.js"
import type { ReadOnlyGate } from "./core/ReadOnlyGate.js"
import { anyTable } from "./core/StatementObserver.js"
import { DatabaseFileError } from "./DatabaseError.js"
import * as DatabaseFile from "./DatabaseFile.js"
import * as ExternalWrites from "./ExternalWrites.js"
import type { PreparedQueries } from "./PreparedQueries.js"
import { sqliteReaderMayRun, sqliteRules } from "./ReadingStatements.js"
import * as TableAccess from "./TableAccess.js"

/** Settings of a SQLite connection. */
export interface SqliteOptions extends ClientCore.ClientOptions {
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

/**
 * The better-sqlite3 `Database` behind the connection, described by the members most used, so that
 * dbscope's public types need no `@types/better-sqlite3` (a development package). With those types
 * installed, `handle as Sqlite.Database` gives all of it.
 */
export interface SqliteHandle {
  readonly name: string
  readonly open: boolean
  readonly inTransaction: boolean
  readonly prepare: (source: string) => {
    // Methods, not function properties: better-sqlite3 types each statement's own parameters.
    run(...params: Array<unknown>): { readonly changes: number; readonly lastInsertRowid: number | bigint }
    get(...params: Array<unknown>): unknown
    all(...params: Array<unknown>): Array<unknown>
  }
  readonly exec: (source: string) => unknown
  readonly pragma: (source: string, options?: { readonly simple?: boolean }) => unknown
}

/** What the connection layer provides besides the `SqlClient`. */
export class SqliteDatabase extends Context.Tag("dbscope/SqliteDatabase")<SqliteDatabase, {
  /** Absolute path of the open database file. */
  readonly filename: string
  /** Runs `f` on the underlying better-sqlite3 handle, holding the connection (no other statement runs). */
  readonly withHandle: <A>(f: (db: SqliteHandle) => A) => Effect.Effect<A, SqlError>
}>() {}

/** Settings read from the environment: `DBSCOPE_DB` (default `./data/users.db`), `DBSCOPE_BUSY_TIMEOUT`. */
export const config: Config.Config<SqliteOptions> = Config.all({
  filename: Config.string("DBSCOPE_DB").pipe(Config.withDefault("./data/users.db")),
  busyTimeout: Config.duration("DBSCOPE_BUSY_TIMEOUT").pipe(Config.withDefault(Duration.millis(5000)))
})

const defaultBusyTimeout = Duration.millis(5000)

/** Which statements a reader may run, remembered per SQL text (the same few texts come back). */
const readerVerdicts = new Map<string, boolean>()
const readerMayRun = (sql: string): boolean => {
  let verdict = readerVerdicts.get(sql)
  if (verdict === undefined) {
    verdict = sqliteReaderMayRun(sql)
    if (readerVerdicts.size >= 500) readerVerdicts.clear()
    readerVerdicts.set(sql, verdict)
  }
  return verdict
}

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

/** Reader workers beside the connection (see `SqlitePool`). */
export type ReaderOptions = Omit<ReaderPool.ReaderPoolOptions, "filename" | "busyTimeout"> & {
  /** Reads measured cheaper than this run on the main thread when the writer is free. Default 2 ms. */
  readonly mainThreadBelow?: Duration.DurationInput | undefined
}

/** The SQLite driver over one open handle. */
const makeDriver = (db: Sqlite.Database, options: SqliteOptions, readers: Driver["readers"]): Driver => {
  const prepare = statementCache(db, options.statementCacheSize ?? 200)
  const tables = TableAccess.make(db)

  const run = (request: Request): Ran => {
    const { params, sql } = request
    const statement = request.unprepared ? db.prepare(sql) : prepare(sql)
    if (statement.reader) {
      statement.safeIntegers(request.safeIntegers)
      if (request.shape !== "values") {
        const rows = statement.all(...params)
        return { result: rows, count: rows.length, written: [] }
      }
      statement.raw(true)
      try {
        const rows = statement.all(...params)
        return { result: rows, count: rows.length, written: [] }
      } finally {
        statement.raw(false)
      }
    }
    // Worked out before the statement runs: a schema change would hide what it touched.
    const access = tables.of(sql, params, false)
    const result = statement.run(...params)
    if (access.changesSchema) tables.schemaChanged()
    return {
      result: request.shape === "raw" ? result : [],
      count: result.changes,
      written: result.changes > 0 || access.changesSchema ? access.writes : []
    }
  }

  const stream = (sql: string, params: ReadonlyArray<unknown>) =>
    Stream.unwrapScoped(Effect.map(
      Effect.acquireRelease(
        Effect.try({ try: () => prepare(sql).iterate(...params), catch: executeFailed }),
        (iterator) => Effect.sync(() => iterator.return?.())
      ),
      (iterator) =>
        Stream.repeatEffectChunkOption(
          Effect.try({
            try: () => {
              const rows: Array<object> = []
              for (let next = iterator.next(); next.done !== true; next = iterator.next()) {
                rows.push(next.value as object)
                if (rows.length === streamChunkSize) break
              }
              return rows
            },
            catch: executeFailed
          }).pipe(
            Effect.mapError(Option.some),
            Effect.flatMap((rows) =>
              rows.length === 0 ? Effect.fail(Option.none()) : Effect.succeed(Chunk.unsafeFromArray(rows))
            )
          )
        )
    ))

  return {
    system: "sqlite",
    makeCompiler: Statement.makeCompilerSqlite,
    spanAttributes: [["db.system", "sqlite"], ["db.system.name", "sqlite"]],
    // A writer that starts deferred and upgrades later can deadlock with another writer. Every
    // SQLite transaction is serializable (one writer at a time, readers on a snapshot): no level to set.
    beginTransaction: () => ["BEGIN IMMEDIATE"],
    shared: {
      runner: { _tag: "Sync", run },
      control: (sql) => Effect.try({ try: () => void prepare(sql).run(), catch: executeFailed }),
      stream
    },
    connections: { _tag: "Single" },
    tablesRead: (sql, params) => {
      try {
        return prepare(sql).reader ? tables.of(sql, params, true).reads : []
      } catch {
        // The statement cannot even be prepared: it will fail by itself.
        return [anyTable]
      }
    },
    // SQLite rolls a transaction back by itself after some errors (a full disk, an I/O error).
    endedTransaction: () => !db.inTransaction,
    readOnly: sqliteRules(prepare),
    readers
  }
}

/**
 * Opens the connection in the current scope (and the reader workers, if asked) and builds the
 * client around it. The file is prepared (folder, 0600 mode, header check) before the driver sees it.
 */
export const makeWith = <E>(
  options: SqliteOptions,
  startReaders: (file: string) => Effect.Effect<ReaderPool.Readers | undefined, E, Scope.Scope>,
  mainThreadBelow: Duration.DurationInput = Duration.millis(2)
) =>
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
        Effect.tap(Effect.logDebug(`Database connection opened: ${name}`))
      ),
      (db) =>
        Effect.sync(() => db.close()).pipe(
          Effect.zipRight(OpenResources.closed("connection")),
          Effect.zipRight(Effect.logDebug(`Database connection closed: ${name}`))
        )
    )
    const pool = yield* startReaders(file)
    const readers = pool === undefined ? undefined : {
      size: pool.size,
      query: pool.query,
      mayRun: readerMayRun,
      mainThreadBelow: Duration.toMillis(mainThreadBelow)
    }
    const core = yield* ClientCore.make(makeDriver(db, options, readers), options)
    const database = {
      filename: file,
      withHandle: <A>(f: (db: SqliteHandle) => A) =>
        core.exclusive(Effect.try({ try: () => f(db), catch: executeFailed }))
    }
    // Changes when another connection (another process, the sqlite3 shell) commits to the file.
    const dataVersion = db.prepare("PRAGMA data_version").pluck()
    const external = ExternalWrites.Signal.Versioned({
      version: () => {
        try {
          return dataVersion.get() as number
        } catch {
          // The connection is busy (an open cursor): no reading now, the next one tells.
          return undefined
        }
      }
    })
    const context = Context.add(core.context, SqliteDatabase, database).pipe(
      Context.add(ExternalWrites.ExternalWrites, external)
    )
    return { context, pool }
  })

/** Opens one connection in the current scope and builds the client around it. */
export const make = (options: SqliteOptions) => makeWith(options, () => Effect.succeed(undefined))

/**
 * Context the SQLite layers provide: the standard client, prepared queries, the handle, and the
 * `Reactivity` the connection tells about every write (a `QueryCache` must listen to this one).
 */
export type Services =
  | ExternalWrites.ExternalWrites
  | SqlClient.SqlClient
  | PreparedQueries
  | ReadOnlyGate
  | SqliteDatabase
  | Reactivity.Reactivity

const layers = ClientCore.layers((options: SqliteOptions) => Effect.map(make(options), (built) => built.context))

/** A scoped layer holding one SQLite connection with the given settings. */
export const layer = (options: SqliteOptions): Layer.Layer<Services, DatabaseFileError> => layers.layer(options)

/** The same layer with settings from `Config` (see `config`). */
export const layerConfig = (
  options: Config.Config<SqliteOptions> = config
): Layer.Layer<Services, DatabaseFileError | ConfigError> => layers.layerConfig(options)
