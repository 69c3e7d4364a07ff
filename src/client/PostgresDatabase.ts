/**
 * PostgreSQL behind the same `SqlClient` as SQLite and MySQL: a pg connection pool, opened (and
 * probed) when its layer is built and ended when the layer's scope closes. It is the PostgreSQL
 * driver of the client core (`core/ClientCore`), which does everything shared; this module says
 * only what PostgreSQL does differently: statements outside a transaction run on any free pooled
 * connection, a transaction or a stream takes one of its own, a stream reads a server-side cursor,
 * a failed statement aborts its transaction (a serialization failure or a deadlock ends it), `?`
 * placeholders are numbered, and other processes' writes arrive by `LISTEN`/`NOTIFY`.
 *
 * The URL is `Redacted`: errors and logs name the server as `postgres://user@host:port/database`,
 * never with its password.
 *
 * This module holds the settings and the layers; the driver (`PostgresDriver`) is imported when a
 * pool is opened, because pg, pg-cursor and `@effect/sql-pg` are optional peers of dbscope: without
 * them, opening fails with `MissingPackage`, and nothing else needs them.
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
import * as ClientCore from "./core/ClientCore.js"
import type { ReadOnlyGate } from "./core/ReadOnlyGate.js"
import type { DatabaseConnectError } from "./DatabaseError.js"
import type * as ExternalWrites from "./ExternalWrites.js"
import type { PreparedQueries } from "./PreparedQueries.js"

/** Settings of a PostgreSQL pool. */
export interface PostgresOptions extends ClientCore.ClientOptions {
  /** `postgres://user:password@host:port/database` (also `postgresql://`). */
  readonly url: Redacted.Redacted<string>
  /** At most this many connections (default 10); the listening connection comes on top. */
  readonly poolSize?: number | undefined
  /** How long a connection waits for the server: TCP connect and login (default 5 s). */
  readonly connectTimeout?: Duration.DurationInput | undefined
  /**
   * Reader worker threads, each with a read-only connection of its own. The server scans on cores
   * of its own, but decoding the rows happens on the one JavaScript thread: without readers,
   * `Effect.all` over large reads waits on the server concurrently but decodes one after the
   * other. With them, reads outside transactions that cost more than `mainThreadBelow` (default
   * 2 ms) are decoded on the workers' cores. Default: none.
   */
  readonly readers?:
    | ReaderPool.ReaderPoolSettings & { readonly mainThreadBelow?: Duration.DurationInput | undefined }
    | undefined
}

const poolSize = Config.integer("DBSCOPE_POSTGRES_POOL_SIZE").pipe(
  Config.validate({ message: "DBSCOPE_POSTGRES_POOL_SIZE must be 1 or more", validation: (n) => n >= 1 }),
  Config.withDefault(10)
)

/** `DBSCOPE_POSTGRES_CONNECT_TIMEOUT` (default 5 seconds), more than 0 and at most 24 days. */
const connectTimeout = Config.duration("DBSCOPE_POSTGRES_CONNECT_TIMEOUT").pipe(
  Config.validate({
    message: "must be more than 0 and at most 24 days (e.g. 5 seconds, 500 millis)",
    validation: (duration) =>
      Duration.greaterThan(duration, Duration.zero) &&
      Duration.lessThanOrEqualTo(duration, Duration.millis(2 ** 31 - 1))
  }),
  Config.withDefault(Duration.seconds(5))
)

/** The pool settings from the environment, for a URL given some other way (`--url`). */
export const poolConfig: Config.Config<Omit<PostgresOptions, "url">> = Config.all({ poolSize, connectTimeout })

/**
 * Settings from the environment: `DATABASE_URL` (read as a secret), `DBSCOPE_POSTGRES_POOL_SIZE`
 * (default 10) and `DBSCOPE_POSTGRES_CONNECT_TIMEOUT` (default 5 seconds).
 */
export const config: Config.Config<PostgresOptions> = Config.all({
  url: Config.redacted("DATABASE_URL"),
  poolSize,
  connectTimeout
})

/** What the PostgreSQL layer provides besides the `SqlClient`. */
export class PostgresDatabase extends Context.Tag("dbscope/PostgresDatabase")<PostgresDatabase, {
  /** The server and database, without the password. */
  readonly target: string
  /** The database name. */
  readonly database: string
  /** At most this many connections. */
  readonly poolSize: number
  /** Reader worker threads (0: none). */
  readonly readers: number
}>() {}

/** Context the PostgreSQL layer provides. */
export type Services =
  | Client.SqlClient
  | PreparedQueries
  | ReadOnlyGate
  | PostgresDatabase
  | ExternalWrites.ExternalWrites
  | Reactivity.Reactivity

/** Why opening the pool can fail: the server, or pg / pg-cursor / `@effect/sql-pg` not installed. */
export type OpenError = DatabaseConnectError | OptionalPackage.MissingPackage

/** The driver, imported on first use: pg, pg-cursor and `@effect/sql-pg` are optional peers of dbscope. */
const driver = OptionalPackage.load(OptionalPackage.postgres, () => import("./PostgresDriver.js"))

/** Opens the pool in the current scope (probing the server) and builds the client around it. */
export const make = (
  options: PostgresOptions
): Effect.Effect<
  Context.Context<Exclude<Services, Reactivity.Reactivity>>,
  OpenError,
  Scope.Scope | Reactivity.Reactivity
> => Effect.flatMap(driver, (postgres) => postgres.make(options))

const layers = ClientCore.layers(make)

/** A scoped layer holding one pool with the given settings. */
export const layer = (options: PostgresOptions): Layer.Layer<Services, OpenError> => layers.layer(options)

/** The same layer with settings from `Config` (see `config`). */
export const layerConfig = (
  options: Config.Config<PostgresOptions> = config
): Layer.Layer<Services, OpenError | ConfigError> => layers.layerConfig(options)

export { notifyWritesSql } from "./PostgresNotify.js"
export { connectError, createDatabase, dropDatabase, parseUrl } from "./PostgresServer.js"
