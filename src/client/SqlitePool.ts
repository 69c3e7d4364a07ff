/**
 * SQLite with real read concurrency: the writer connection on the main thread plus a pool of
 * reader workers, behind one standard `SqlClient`. A statement outside a transaction goes to a free
 * reader when it only reads (the reader checks; the verdict is remembered per SQL text), anywhere
 * else to the writer; a read measured cheaper than a thread hop (2 ms by default) runs on the main
 * thread when the writer is free, and moves back to the readers if it grows expensive. Transactions run on the writer, so their reads see their own writes; prepared
 * point lookups stay on the writer, where they are cheapest. `Effect.all` over reads then really
 * runs them on several cores.
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import type { Connection } from "@effect/sql/SqlConnection"
import { SqlError } from "@effect/sql/SqlError"
import * as Config from "effect/Config"
import type { ConfigError } from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as ReaderPool from "../readers/ReaderPool.js"
import type { DatabaseFileError } from "./DatabaseError.js"
import * as QueryHooks from "./QueryHooks.js"
import * as SqliteDatabase from "./SqliteDatabase.js"

/** The plain connection's settings plus the reader pool's. */
export interface SqlitePoolOptions extends SqliteDatabase.SqliteOptions {
  readonly readers?:
    | Omit<ReaderPool.ReaderPoolOptions, "filename" | "busyTimeout"> & {
      /** Reads measured cheaper than this run on the main thread when the writer is free. Default 2 ms. */
      readonly mainThreadBelow?: Duration.DurationInput | undefined
    }
    | undefined
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

const toSqlError = (error: ReaderPool.ReaderError) => new SqlError({ cause: error, message: error.message })

/** How many SQL texts' routes to remember. */
const routeCapacity = 1000

/** Opens the writer and the reader pool in the current scope and builds the routing client. */
export const make = (options: SqlitePoolOptions) =>
  Effect.gen(function*() {
    const writer = yield* SqliteDatabase.makeWriter(options)
    const pool = yield* ReaderPool.make({ ...options.readers, filename: writer.file, busyTimeout: options.busyTimeout })
    const onWriter = <A>(effect: Effect.Effect<A, SqlError>) => writer.withConnection(effect)

    // Per SQL text: whether it only reads, and what it costs (a moving average, in ms). Cheap reads
    // run on the main thread when the writer is free: a thread hop costs more than they do.
    const cheapMillis = options.readers?.mainThreadBelow === undefined
      ? 2
      : Duration.toMillis(options.readers.mainThreadBelow)
    const routes = new Map<string, { readonly readOnly: boolean; cost: number }>()
    const remember = (sql: string, readOnly: boolean, millis: number) => {
      const route = routes.get(sql)
      if (route !== undefined && route.readOnly === readOnly) {
        route.cost = route.cost * 0.7 + millis * 0.3
        return
      }
      if (routes.size >= routeCapacity) routes.clear()
      routes.set(sql, { readOnly, cost: millis })
    }
    const elapsed = (since: number) => performance.now() - since

    const routed: Connection = {
      execute: (sql, params, transformRows) => {
        const transform = (rows: ReadonlyArray<object>) => transformRows === undefined ? rows : transformRows(rows)
        const onWriterNow = () => onWriter(writer.connection.execute(sql, params, transformRows))
        const onReader = QueryHooks.observe(
          "sqlite",
          sql,
          params,
          () => writer.tablesRead(sql, params),
          Effect.suspend(() => {
            const since = performance.now()
            return Effect.map(pool.query(sql, QueryHooks.bindable(params)), (rows) => {
              remember(sql, true, elapsed(since))
              return transform(rows)
            })
          }),
          (error) => error._tag === "ReaderWriteRejected"
        ).pipe(
          Effect.catchTag("ReaderWriteRejected", () => {
            remember(sql, false, 0)
            return onWriterNow()
          }),
          Effect.mapError((error) => error instanceof SqlError ? error : toSqlError(error))
        )
        const route = routes.get(sql)
        if (route?.readOnly === false) return onWriterNow()
        if (route === undefined || route.cost >= cheapMillis) return onReader
        return Effect.suspend(() => {
          const since = performance.now()
          return Effect.flatMap(
            writer.runIfFree(sql, params),
            Option.match({
              onNone: () => onReader,
              onSome: (rows) => {
                remember(sql, true, elapsed(since))
                return Effect.succeed(transform(rows))
              }
            })
          )
        })
      },
      executeRaw: (sql, params) => onWriter(writer.connection.executeRaw(sql, params)),
      executeValues: (sql, params) => onWriter(writer.connection.executeValues(sql, params)),
      executeUnprepared: (sql, params, transformRows) =>
        onWriter(writer.connection.executeUnprepared(sql, params, transformRows)),
      executeStream: (sql, params, transformRows) =>
        Stream.unwrapScoped(
          Effect.as(writer.holdConnection, writer.connection.executeStream(sql, params, transformRows))
        )
    }

    const client = yield* SqliteDatabase.makeClient(writer, Effect.succeed(routed))
    return { client, prepared: writer.prepared, database: writer.database, pool }
  })

/** Context the pooled layer provides: everything the plain layer does, plus the `ReaderPool`. */
export type Services = SqliteDatabase.Services | ReaderPool.ReaderPool

const toContext = (built: Effect.Effect.Success<ReturnType<typeof make>>) =>
  SqliteDatabase.toContext(built).pipe(Context.add(ReaderPool.ReaderPool, built.pool))

/** Writer + reader pool with the given settings, scoped: workers stop and the file closes on release. */
export const layer = (
  options: SqlitePoolOptions
): Layer.Layer<Services, DatabaseFileError | ReaderPool.ReaderStartError> =>
  Layer.scopedContext(Effect.map(make(options), toContext)).pipe(Layer.provideMerge(Reactivity.layer))

/** The same layer with settings from `Config` (see `config`). */
export const layerConfig = (
  options: Config.Config<SqlitePoolOptions> = config
): Layer.Layer<Services, DatabaseFileError | ReaderPool.ReaderStartError | ConfigError> =>
  Layer.scopedContext(Effect.flatMap(options, (resolved) => Effect.map(make(resolved), toContext))).pipe(
    Layer.provideMerge(Reactivity.layer)
  )
