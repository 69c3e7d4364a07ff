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
 *
 * This module holds the settings and the layers; the driver (`MysqlDriver`) is imported when a pool
 * is opened, because mysql2 and `@effect/sql-mysql2` are optional peers of dbscope: without them,
 * opening fails with `MissingPackage`, and nothing else needs them.
 */
import type * as Reactivity from "@effect/experimental/Reactivity"
import type * as Client from "@effect/sql/SqlClient"
import * as Config from "effect/Config"
import type { ConfigError } from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as OptionalPackage from "../OptionalPackage.js"
import type * as ReaderPool from "../readers/ReaderPool.js"
import type { NodeStatus } from "./ClusterNodes.js"
import * as ClusterSettings from "./ClusterSettings.js"
import * as ClientCore from "./core/ClientCore.js"
import type { ReadOnlyGate } from "./core/ReadOnlyGate.js"
import type { DatabaseConnectError } from "./DatabaseError.js"
import type * as ExternalWrites from "./ExternalWrites.js"
import type { PreparedQueries } from "./PreparedQueries.js"

/** Settings of a MySQL/MariaDB pool. */
export interface MysqlOptions extends ClientCore.ClientOptions {
  /** `mysql://user:password@host:port/database` (also `mariadb://`). */
  readonly url: Redacted.Redacted<string>
  /** At most this many connections (default 10). */
  readonly poolSize?: number | undefined
  /** How long a connection waits for the server: TCP connect, greeting, login (default 5 s; 0 is no limit in mysql2). */
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
  /** How a URL with several hosts (a cluster) is used; defaults in `ClusterSettings.defaults`. */
  readonly cluster?: Partial<ClusterSettings.ClusterSettings> | undefined
}

/**
 * `DBSCOPE_MYSQL_CONNECT_TIMEOUT` (default 5 seconds): how long a connection waits for the server
 * (TCP connect, greeting and login). Zero would mean no limit in mysql2, and a wait for ever on an
 * address that never answers; above 2^31-1 ms Node's timers fire at once. Both are refused.
 */
const connectTimeoutConfig: Config.Config<Duration.Duration> = Config.duration("DBSCOPE_MYSQL_CONNECT_TIMEOUT").pipe(
  Config.validate({
    message: "must be more than 0 and at most 24 days (e.g. 5 seconds, 500 millis)",
    validation: (duration) =>
      Duration.greaterThan(duration, Duration.zero) &&
      Duration.lessThanOrEqualTo(duration, Duration.millis(2 ** 31 - 1))
  }),
  Config.withDefault(Duration.seconds(5))
)

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
  connectTimeout: connectTimeoutConfig,
  cluster: ClusterSettings.config
})

/** The pool settings of `config` alone, for a URL given some other way (`--url`). */
export const poolConfig: Config.Config<Omit<MysqlOptions, "url">> = Config.map(
  Config.all({
    poolSize: Config.integer("DBSCOPE_MYSQL_POOL_SIZE").pipe(
      Config.validate({ message: "DBSCOPE_MYSQL_POOL_SIZE must be 1 or more", validation: (n) => n >= 1 }),
      Config.withDefault(10)
    ),
    connectTimeout: connectTimeoutConfig,
    cluster: ClusterSettings.config
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
  /** The servers, in the URL's order: in service or not, busy, which one takes writes (one, for one server). */
  readonly nodes: Effect.Effect<ReadonlyArray<NodeStatus>>
}>() {}

/** Context the MySQL layer provides: the standard client, prepared queries, `Reactivity`, the target. */
export type Services =
  | Client.SqlClient
  | PreparedQueries
  | ReadOnlyGate
  | MysqlDatabase
  | ExternalWrites.ExternalWrites
  | Reactivity.Reactivity

/** Why opening the pool can fail: the server, or mysql2 / `@effect/sql-mysql2` not installed. */
export type OpenError = DatabaseConnectError | OptionalPackage.MissingPackage

/** The driver, imported on first use: mysql2 and `@effect/sql-mysql2` are optional peers of dbscope. */
const driver = OptionalPackage.load(OptionalPackage.mysql, () => import("./MysqlDriver.js"))

/** Opens the pool in the current scope (probing the server) and builds the client around it. */
export const make = (
  options: MysqlOptions
): Effect.Effect<
  Context.Context<Exclude<Services, Reactivity.Reactivity>>,
  OpenError,
  Scope.Scope | Reactivity.Reactivity
> => Effect.flatMap(driver, (mysql) => mysql.make(options))

const layers = ClientCore.layers(make)

/** A scoped layer holding one pool with the given settings. */
export const layer = (options: MysqlOptions): Layer.Layer<Services, OpenError> => layers.layer(options)

/** The same layer with settings from `Config` (see `config`). */
export const layerConfig = (
  options: Config.Config<MysqlOptions> = config
): Layer.Layer<Services, OpenError | ConfigError> => layers.layerConfig(options)

export { connectError, createDatabase, dropDatabase, parseUrl } from "./MysqlServer.js"
