/**
 * SQLite with real read concurrency: the writer connection on the main thread plus a pool of
 * reader workers, behind one standard `SqlClient`. A statement outside a transaction goes to a free
 * reader when it only reads (the reader checks; the verdict is remembered per SQL text), anywhere
 * else to the writer; a read measured cheaper than a thread hop (2 ms by default) runs on the main
 * thread when the writer is free, and moves back to the readers if it grows expensive (see
 * `core/ReadRouting`). Transactions run on the writer, so their reads see their own writes;
 * prepared point lookups stay on the writer, where they are cheapest. `Effect.all` over reads then
 * really runs them on several cores.
 */
import * as Config from "effect/Config"
import type { ConfigError } from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as ReaderPool from "../readers/ReaderPool.js"
import * as ClientCore from "./core/ClientCore.js"
import type { DatabaseFileError } from "./DatabaseError.js"
import * as SqliteDatabase from "./SqliteDatabase.js"

/** The plain connection's settings plus the reader pool's. */
export interface SqlitePoolOptions extends SqliteDatabase.SqliteOptions {
  readonly readers?: SqliteDatabase.ReaderOptions | undefined
}

/**
 * Settings from the environment: those of `SqliteDatabase.config`, plus `DBSCOPE_READERS` (pool
 * size; default the number of cores, at least 2), `DBSCOPE_READER_START_TIMEOUT` (10 s),
 * `DBSCOPE_READER_ACQUIRE_TIMEOUT` (30 s) and `DBSCOPE_READER_MAX_WAITING` (1000).
 */
export const config: Config.Config<SqlitePoolOptions> = Config.all({
  sqlite: SqliteDatabase.config,
  readers: Config.all({
    size: Config.integer("DBSCOPE_READERS").pipe(
      Config.validate({ message: "DBSCOPE_READERS must be 1 or more", validation: (n) => n >= 1 }),
      Config.withDefault(ReaderPool.defaultSize())
    ),
    startTimeout: Config.duration("DBSCOPE_READER_START_TIMEOUT").pipe(Config.withDefault(Duration.seconds(10))),
    acquireTimeout: Config.duration("DBSCOPE_READER_ACQUIRE_TIMEOUT").pipe(Config.withDefault(Duration.seconds(30))),
    maxWaiting: Config.integer("DBSCOPE_READER_MAX_WAITING").pipe(Config.withDefault(1000))
  })
}).pipe(Config.map(({ readers, sqlite }) => ({ ...sqlite, readers })))

/** Opens the writer and the reader pool in the current scope and builds the routing client. */
export const make = (options: SqlitePoolOptions) =>
  Effect.flatMap(
    SqliteDatabase.makeWith(
      options,
      (filename) => ReaderPool.make({ ...options.readers, filename, busyTimeout: options.busyTimeout }),
      options.readers?.mainThreadBelow
    ),
    (built) =>
      built.pool === undefined
        ? Effect.dieMessage("SqlitePool: the reader pool did not start")
        : Effect.succeed({ ...built, pool: built.pool })
  )

/** Context the pooled layer provides: everything the plain layer does, plus the `ReaderPool`. */
export type Services = SqliteDatabase.Services | ReaderPool.ReaderPool

const layers = ClientCore.layers((options: SqlitePoolOptions) =>
  Effect.map(make(options), (built) => Context.add(built.context, ReaderPool.ReaderPool, built.pool))
)

/** Writer + reader pool with the given settings, scoped: workers stop and the file closes on release. */
export const layer = (
  options: SqlitePoolOptions
): Layer.Layer<Services, DatabaseFileError | ReaderPool.ReaderStartError> => layers.layer(options)

/** The same layer with settings from `Config` (see `config`). */
export const layerConfig = (
  options: Config.Config<SqlitePoolOptions> = config
): Layer.Layer<Services, DatabaseFileError | ReaderPool.ReaderStartError | ConfigError> => layers.layerConfig(options)
