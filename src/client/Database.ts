/**
 * The one place that decides which database dbscope opens: a SQLite file, the same file with
 * reader workers (`SqlitePool`), a MySQL/MariaDB server, or a PostgreSQL server. The choice comes from explicit options
 * (the CLI's `--db`, `--url`, `--sequential`, `setup`) or from `Config`, and an explicit option
 * always wins. Whatever is chosen, the layer provides the standard `SqlClient`, `PreparedQueries`,
 * `Reactivity`, and `Database`: what was opened, so that callers need not know the backends' tags.
 *
 * The MySQL and PostgreSQL drivers are imported only when chosen (`MysqlDatabase` and
 * `PostgresDatabase` load them): they are optional peers, and cost ~0.15 s to load, which a SQLite
 * command would otherwise pay at every start.
 */
import type * as Reactivity from "@effect/experimental/Reactivity"
import type * as SqlClient from "@effect/sql/SqlClient"
import * as Config from "effect/Config"
import type { ConfigError } from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type { MissingPackage } from "../OptionalPackage.js"
import { ReaderPool, type ReaderStartError } from "../readers/ReaderPool.js"
import type { ReadOnlyGate } from "./core/ReadOnlyGate.js"
import type { DatabaseConnectError, DatabaseFileError } from "./DatabaseError.js"
import * as Mysql from "./MysqlDatabase.js"
import * as Postgres from "./PostgresDatabase.js"
import type { PreparedQueries } from "./PreparedQueries.js"
import * as SqliteDatabase from "./SqliteDatabase.js"
import * as SqlitePool from "./SqlitePool.js"

/**
 * Which database: a SQLite file, a MySQL/MariaDB server and database (`mysql://` or `mariadb://`),
 * or a PostgreSQL one (`postgres://` or `postgresql://`).
 */
export type Backend = Data.TaggedEnum<{
  Sqlite: { readonly filename: string }
  Mysql: { readonly url: Redacted.Redacted<string> }
  Postgres: { readonly url: Redacted.Redacted<string> }
}>

/**
 * Constructors and matchers of `Backend`.
 *
 * @example
 * Database.layer({ backend: Database.Backend.Sqlite({ filename: "./data/users.db" }) })
 */
export const Backend = Data.taggedEnum<Backend>()

/** The server backend a URL names by its scheme: PostgreSQL for `postgres(ql)://`, else MySQL (which refuses other schemes). */
export const serverBackend = (url: Redacted.Redacted<string>): Backend =>
  /^postgres(?:ql)?:\/\//i.test(Redacted.value(url)) ? Backend.Postgres({ url }) : Backend.Mysql({ url })

/** What to open; every field left out is read from `Config`. */
export interface DatabaseOptions {
  /** The backend. Default: `backendConfig` (`DATABASE_URL`, else the `DBSCOPE_DB` file). */
  readonly backend?: Backend | undefined
  /**
   * Reader worker threads for concurrent reads (SQLite: `SqlitePool`; MySQL: rows decoded off the
   * main thread), sized by `DBSCOPE_READERS` (default the number of cores). Default: on only when
   * `DBSCOPE_READERS` is set.
   */
  readonly readers?: boolean | undefined
  /** Create the database when missing (the SQLite file and its folder, or the MySQL database). Default false. */
  readonly create?: boolean | undefined
}

/** What was opened: enough to tell the user, never a password. */
export class Database extends Context.Tag("dbscope/Database")<Database, {
  readonly backend: "sqlite" | "mysql" | "postgres"
  /** The SQLite file's absolute path, or `mysql://user@host:port/database` (`postgres://...`). */
  readonly target: string
  /** Reader worker threads (0: none). */
  readonly readers: number
}>() {}

/** Context every database layer provides, whichever the backend. */
export type Services = SqlClient.SqlClient | PreparedQueries | ReadOnlyGate | Reactivity.Reactivity | Database

/** Why opening a database can fail, whichever the backend. */
export type OpenError = DatabaseFileError | DatabaseConnectError | ReaderStartError | ConfigError | MissingPackage

/**
 * The backend the environment names: the server `DATABASE_URL` names when it is set (read as a
 * secret; `postgres://` is PostgreSQL, and a URL that is neither PostgreSQL's nor `mysql://` or
 * `mariadb://` fails when opened, rather than silently opening SQLite),
 * else the SQLite file `DBSCOPE_DB` (default `./data/users.db`).
 */
export const backendConfig: Config.Config<Backend> = Config.map(
  Config.redacted("DATABASE_URL"),
  serverBackend
).pipe(Config.orElse(() => Config.map(SqliteDatabase.config, ({ filename }) => Backend.Sqlite({ filename }))))

/** The complete settings of the database `DatabaseOptions` choose. */
export type Resolved =
  | {
    readonly _tag: "Sqlite"
    /** `readers` is set when reader workers were asked for. */
    readonly options: SqlitePool.SqlitePoolOptions
  }
  | { readonly _tag: "Mysql"; readonly options: Mysql.MysqlOptions; readonly create: boolean }
  | { readonly _tag: "Postgres"; readonly options: Postgres.PostgresOptions; readonly create: boolean }

/**
 * Completes `options` from `Config`: the backend, then that backend's own settings
 * (`DBSCOPE_BUSY_TIMEOUT`, `DBSCOPE_READER_*`, `DBSCOPE_MYSQL_*`, ...).
 *
 * @example
 * const { options } = yield* Database.resolve({ readers: false }) // e.g. to open the file another way
 */
export const resolve = (options: DatabaseOptions = {}): Effect.Effect<Resolved, ConfigError> =>
  Effect.gen(function*() {
    const backend = options.backend ?? (yield* backendConfig)
    const readers = options.readers ?? Option.isSome(yield* Config.option(Config.string("DBSCOPE_READERS")))
    const create = options.create ?? false
    if (backend._tag === "Sqlite") {
      const settings = readers ? yield* SqlitePool.config : yield* SqliteDatabase.config
      return { _tag: "Sqlite", options: { ...settings, filename: backend.filename, create } } as const
    }
    if (backend._tag === "Postgres") {
      const readerSettings = readers ? (yield* SqlitePool.config).readers : undefined
      const pool = yield* Postgres.poolConfig
      return { _tag: "Postgres", options: { ...pool, url: backend.url, readers: readerSettings }, create } as const
    }
    const pool = yield* Mysql.poolConfig
    const readerSettings = readers ? (yield* SqlitePool.config).readers : undefined
    return { _tag: "Mysql", options: { ...pool, url: backend.url, readers: readerSettings }, create } as const
  })

const describeSqlite = (readers: number) =>
  Effect.map(
    SqliteDatabase.SqliteDatabase,
    (opened) => ({ backend: "sqlite" as const, target: opened.filename, readers })
  )

/** The layer for settings already resolved (see `resolve`). */
const open = (resolved: Resolved): Layer.Layer<Services, OpenError> => {
  if (resolved._tag === "Sqlite") {
    if (resolved.options.readers === undefined) {
      return Layer.effect(Database, describeSqlite(0)).pipe(Layer.provideMerge(SqliteDatabase.layer(resolved.options)))
    }
    const pooled = Effect.flatMap(ReaderPool, (pool) => describeSqlite(pool.size))
    return Layer.effect(Database, pooled).pipe(Layer.provideMerge(SqlitePool.layer(resolved.options)))
  }
  if (resolved._tag === "Postgres") {
    const pool = Postgres.layer(resolved.options)
    const opened = resolved.create
      ? Layer.unwrapEffect(Effect.as(Postgres.createDatabase(resolved.options), pool))
      : pool
    const described = Effect.map(
      Postgres.PostgresDatabase,
      (postgres) => ({ backend: "postgres" as const, target: postgres.target, readers: postgres.readers })
    )
    return Layer.effect(Database, described).pipe(Layer.provideMerge(opened))
  }
  const pool = Mysql.layer(resolved.options)
  const opened = resolved.create ? Layer.unwrapEffect(Effect.as(Mysql.createDatabase(resolved.options), pool)) : pool
  const described = Effect.map(
    Mysql.MysqlDatabase,
    (mysql) => ({ backend: "mysql" as const, target: mysql.target, readers: mysql.readers })
  )
  return Layer.effect(Database, described).pipe(Layer.provideMerge(opened))
}

/**
 * A scoped layer holding the database `options` choose (the rest from `Config`, see `resolve`).
 *
 * @example
 * program.pipe(Effect.provide(Database.layer({ backend: Database.Backend.Sqlite({ filename: "users.db" }) })))
 */
export const layer = (options: DatabaseOptions = {}): Layer.Layer<Services, OpenError> =>
  Layer.unwrapEffect(Effect.map(resolve(options), open))

/**
 * The database the environment chooses: `DATABASE_URL`, `DBSCOPE_DB`, `DBSCOPE_READERS` and the
 * backends' own settings.
 *
 * @example
 * program.pipe(Effect.provide(Database.layerConfig()))
 */
export const layerConfig = (): Layer.Layer<Services, OpenError> => layer()
