/**
 * `@cache_query`, without its stale reads. The seed keyed results by SQL text alone (so
 * `age > 25` and `age > 60` would share one) and never invalidated them (so a user inserted after
 * the first call never showed up). Here:
 * - the key is the SQL and its bound values (or a key you give, compared by value, not identity);
 * - each result lives at most its time-to-live, and the cache holds at most `capacity` results
 *   (least recently used go first);
 * - concurrent identical misses run the query once; the others wait for its result;
 * - a write made through dbscope to a table drops every cached result read from that table: the
 *   connection tells `Reactivity` which tables each write changed (see `TableAccess`), and the
 *   cache learns which tables a result was read from while it loads it;
 * - a write made outside dbscope (another process, the `sqlite3` shell) is seen where the database
 *   can tell (`ExternalWrites`): on SQLite, `PRAGMA data_version` is read before a result is served,
 *   and any change drops every result; on PostgreSQL, `LISTEN`/`NOTIFY` drops the results of each
 *   table another process wrote (see `PostgresWrites`); on MySQL nothing tells, so results live 5
 *   seconds by default;
 * - `invalidate`, `invalidateTables` and `invalidateAll` drop results explicitly, and `stats`
 *   counts hits, misses, invalidations and evictions.
 * Inside a transaction nothing is cached or served from the cache: reads there must see the
 * transaction's own, uncommitted writes, which nobody else may see.
 *
 * @example
 * const users = yield* cacheQuery(sql`SELECT * FROM users WHERE age > ${40}`)
 * const older = yield* repo.olderThan(40).pipe(cacheQuery({ key: ["olderThan", 40] }))
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Statement from "@effect/sql/Statement"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as StatementObserver from "../client/core/StatementObserver.js"
import * as ExternalWrites from "../client/ExternalWrites.js"

/** Settings of a `QueryCache`. */
export interface QueryCacheOptions {
  /** At most this many results (default 1000); the least recently used go first. */
  readonly capacity?: number | undefined
  /**
   * How long a result stays fresh unless a query says otherwise (default 1 minute; on a database
   * that cannot tell of writes made outside dbscope, MySQL, its `ExternalWrites` time: 5 seconds).
   */
  readonly timeToLive?: Duration.DurationInput | undefined
}

/** What the cache has done so far. */
export interface CacheStats {
  /** Answers served without running the query (including waits on an identical query in flight). */
  readonly hits: number
  /** Queries run because nothing fresh was cached. */
  readonly misses: number
  /** Results dropped because a table they were read from changed, or on request. */
  readonly invalidations: number
  /** Results dropped to stay within `capacity`. */
  readonly evictions: number
  /** Results cached now. */
  readonly size: number
}

/** A cache of query results, invalidated by the writes of the database whose `Reactivity` it listens to. */
export class QueryCache extends Context.Tag("dbscope/QueryCache")<QueryCache, {
  /** The result cached under `key`, or `load`'s, cached for `timeToLive` (the cache's default if undefined). */
  readonly get: <A, E, R>(
    key: string,
    load: Effect.Effect<A, E, R>,
    timeToLive: Duration.Duration | undefined
  ) => Effect.Effect<A, E, R>
  readonly invalidate: (key: string) => Effect.Effect<void>
  /** Drops every result read from one of `tables`. */
  readonly invalidateTables: (tables: ReadonlyArray<string>) => Effect.Effect<void>
  readonly invalidateAll: Effect.Effect<void>
  readonly stats: Effect.Effect<CacheStats>
}>() {}

interface Entry {
  ready: boolean
  value: unknown
  expiresAt: number
  /** Tables the result was read from, learnt while it loads. */
  readonly tables: Set<string>
  readonly done: Deferred.Deferred<unknown, unknown>
}

/** Builds a cache listening to the current `Reactivity`; it stops listening when the scope closes. */
export const make = (
  options: QueryCacheOptions = {}
): Effect.Effect<Context.Tag.Service<QueryCache>, never, Reactivity.Reactivity | Scope.Scope> =>
  Effect.gen(function*() {
    const reactivity = yield* Reactivity.Reactivity
    const external = Option.getOrUndefined(yield* Effect.serviceOption(ExternalWrites.ExternalWrites))
    const capacity = options.capacity ?? 1000
    const defaultTimeToLive = Duration.decode(
      options.timeToLive ?? (external?._tag === "Unseen" ? external.staleFor : Duration.minutes(1))
    )
    const version = external?._tag === "Versioned" ? external.version : () => undefined
    /** The database's version when results were last known fresh (see `ExternalWrites`). */
    let knownVersion = version()
    // Insertion order is recency order: a hit moves its entry to the end.
    const entries = new Map<string, Entry>()
    const keysByTable = new Map<string, Set<string>>()
    const counts = { hits: 0, misses: 0, invalidations: 0, evictions: 0 }
    /** Writes seen so far: a load that recorded no table is only kept if none happened meanwhile. */
    let writes = 0

    const remove = (key: string, entry: Entry) => {
      if (entries.get(key) !== entry) return
      entries.delete(key)
      for (const table of entry.tables) keysByTable.get(table)?.delete(key)
    }

    const dropTable = (table: string) => {
      const keys = keysByTable.get(table)
      if (keys === undefined) return
      keysByTable.delete(table)
      for (const key of keys) {
        const entry = entries.get(key)
        if (entry === undefined) continue
        remove(key, entry)
        counts.invalidations++
      }
    }

    const dropAll = () => {
      counts.invalidations += entries.size
      entries.clear()
      keysByTable.clear()
    }

    const listening = new Map<string, () => void>()
    const listen = (table: string, handler: () => void) => {
      if (!listening.has(table)) listening.set(table, reactivity.unsafeRegister([table], handler))
    }
    listen(StatementObserver.everyTable, dropAll)
    listen(StatementObserver.anyTable, () => {
      writes++
      dropTable(StatementObserver.anyTable)
    })
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        for (const unregister of listening.values()) unregister()
        listening.clear()
      })
    )

    const recordRead = (key: string, entry: Entry, tables: ReadonlyArray<string>) => {
      // An entry already dropped (a write came first) must not be indexed again.
      if (entries.get(key) !== entry) return
      for (const table of tables) {
        entry.tables.add(table)
        let keys = keysByTable.get(table)
        if (keys === undefined) keysByTable.set(table, keys = new Set())
        keys.add(key)
        listen(table, () => dropTable(table))
      }
    }

    /** Drops every result when another process committed since the last look; true if it did. */
    const externalWriteSeen = (): boolean => {
      const now = version()
      if (now === undefined || now === knownVersion) return false
      knownVersion = now
      dropAll()
      return true
    }

    const evictOverCapacity = () => {
      for (const [key, entry] of entries) {
        if (entries.size <= capacity) return
        if (!entry.ready) continue
        remove(key, entry)
        counts.evictions++
      }
    }

    const get = <A, E, R>(
      key: string,
      load: Effect.Effect<A, E, R>,
      timeToLive: Duration.Duration | undefined
    ): Effect.Effect<A, E, R> =>
      Effect.withFiberRuntime<A, E, R>((fiber) => {
        if (Context.getOption(fiber.currentContext, SqlClient.TransactionConnection)._tag === "Some") return load
        const outer = fiber.getFiberRef(StatementObserver.current).recorder
        return Effect.clockWith((clock) => {
          const now = clock.unsafeCurrentTimeMillis()
          externalWriteSeen()
          const cached = entries.get(key)
          if (cached !== undefined) {
            if (cached.ready && cached.expiresAt > now) {
              counts.hits++
              entries.delete(key)
              entries.set(key, cached)
              outer?.read([...cached.tables])
              return Effect.succeed(cached.value as A)
            }
            if (!cached.ready) {
              counts.hits++
              return Effect.flatMap(Effect.exit(Deferred.await(cached.done)), (exit) => {
                // The loading fiber was interrupted: this one loads instead.
                if (Exit.isFailure(exit) && Cause.isInterruptedOnly(exit.cause)) return get(key, load, timeToLive)
                outer?.read([...cached.tables])
                return exit as Exit.Exit<A, E>
              })
            }
            remove(key, cached)
          }
          counts.misses++
          const entry: Entry = {
            ready: false,
            value: undefined,
            expiresAt: 0,
            tables: new Set(),
            done: Deferred.unsafeMake(fiber.id())
          }
          entries.set(key, entry)
          const writesBefore = writes
          const recorder: StatementObserver.ReadRecorder = {
            read: (tables) => {
              recordRead(key, entry, tables)
              outer?.read(tables)
            }
          }
          return Effect.uninterruptibleMask((restore) =>
            restore(StatementObserver.locally(load, { recorder })).pipe(
              Effect.exit,
              Effect.flatMap((exit) => {
                // A result that read no table through dbscope depends on every write.
                if (entry.tables.size === 0 && writes === writesBefore) {
                  recordRead(key, entry, [StatementObserver.anyTable])
                }
                // Another process committed while it loaded: the result may predate that write.
                const stale = externalWriteSeen()
                if (Exit.isSuccess(exit) && !stale && entries.get(key) === entry && entry.tables.size > 0) {
                  entry.ready = true
                  entry.value = exit.value
                  entry.expiresAt = clock.unsafeCurrentTimeMillis() +
                    Duration.toMillis(timeToLive ?? defaultTimeToLive)
                  evictOverCapacity()
                } else {
                  remove(key, entry)
                }
                return Effect.zipRight(Deferred.done(entry.done, exit), exit)
              })
            )
          )
        })
      })

    return {
      get,
      invalidate: (key) =>
        Effect.sync(() => {
          const entry = entries.get(key)
          if (entry === undefined) return
          remove(key, entry)
          counts.invalidations++
        }),
      invalidateTables: (tables) => Effect.sync(() => tables.forEach(dropTable)),
      invalidateAll: Effect.sync(dropAll),
      stats: Effect.sync(() => ({ ...counts, size: entries.size }))
    }
  })

/** A `QueryCache` for the database layer below it (it needs that layer's `Reactivity`). */
export const layer = (options: QueryCacheOptions = {}): Layer.Layer<QueryCache, never, Reactivity.Reactivity> =>
  Layer.scoped(QueryCache, make(options))

/**
 * A string equal for equal values: primitives, `Date`, bytes, arrays and objects compared field by
 * field (key order does not matter), so `["olderThan", 40]` built twice is one key.
 */
export const keyOf = (value: unknown): string => {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value)
    case "number":
      return Object.is(value, -0) ? "-0" : String(value)
    case "bigint":
      return `${value}n`
    case "boolean":
    case "undefined":
      return String(value)
    case "object": {
      if (value === null) return "null"
      if (value instanceof Date) return `Date(${value.toISOString()})`
      if (value instanceof Uint8Array) return `Bytes(${Buffer.from(value).toString("hex")})`
      if (Array.isArray(value)) return `[${value.map(keyOf).join(",")}]`
      const fields = Object.keys(value).sort().map((name) =>
        `${JSON.stringify(name)}:${keyOf((value as Record<string, unknown>)[name])}`
      )
      return `${value.constructor?.name ?? ""}{${fields.join(",")}}`
    }
    default:
      // Functions and symbols have no value to compare: as keys they would never hit, or collide.
      throw new TypeError(`cacheQuery: a key cannot contain a ${typeof value}`)
  }
}

/** The key of a statement: its SQL text and bound values. */
export const statementKey = (statement: Statement.Statement<unknown>): string => {
  const [sql, params] = statement.compile()
  return keyOf(["sql", sql, params])
}

/** Options of one cached query. */
export interface CacheQueryOptions {
  /** How long this result stays fresh (default: the cache's). */
  readonly timeToLive?: Duration.DurationInput | undefined
}

/** Options of a cached effect that is not a single statement: it needs a key. */
export interface KeyedCacheQueryOptions extends CacheQueryOptions {
  /** Compared by value (see `keyOf`): give every argument the result depends on. */
  readonly key: unknown
}

const isStatement = (u: unknown): u is Statement.Statement<unknown> =>
  Statement.isFragment(u) && Effect.isEffect(u) && "compile" in u && typeof u.compile === "function"

const cached = <A, E, R>(self: Effect.Effect<A, E, R>, options: CacheQueryOptions | KeyedCacheQueryOptions) =>
  Effect.flatMap(
    Effect.try({
      try: () =>
        "key" in options
          ? keyOf(["key", options.key])
          : isStatement(self)
          ? statementKey(self)
          : undefined,
      catch: (error) => error
    }).pipe(Effect.orDie),
    (key) =>
      key === undefined
        ? Effect.dieMessage("cacheQuery: give a `key` for an effect that is not a single sql statement")
        : Effect.flatMap(
          QueryCache,
          (cache) =>
            cache.get(key, self, options.timeToLive === undefined ? undefined : Duration.decode(options.timeToLive))
        )
  )

/**
 * Serves `self` from the `QueryCache` (see the module doc). A statement is keyed by its SQL and
 * values; any other effect needs `key`.
 */
export function cacheQuery<A>(
  statement: Statement.Statement<A>,
  options?: CacheQueryOptions
): Effect.Effect<ReadonlyArray<A>, SqlError, QueryCache>
export function cacheQuery<A, E, R>(
  self: Effect.Effect<A, E, R>,
  options: KeyedCacheQueryOptions
): Effect.Effect<A, E, R | QueryCache>
export function cacheQuery(
  options: KeyedCacheQueryOptions
): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R | QueryCache>
export function cacheQuery(
  options?: CacheQueryOptions
): <A>(statement: Statement.Statement<A>) => Effect.Effect<ReadonlyArray<A>, SqlError, QueryCache>
export function cacheQuery(...args: ReadonlyArray<unknown>): unknown {
  const [first, second] = args
  if (Effect.isEffect(first)) return cached(first, (second ?? {}) as CacheQueryOptions)
  const options = (first ?? {}) as CacheQueryOptions
  return <A, E, R>(self: Effect.Effect<A, E, R>) => cached(self, options)
}

/** Drops the result of one statement, or of the effect cached under `key`. */
export const invalidate = (target: Statement.Statement<unknown> | { readonly key: unknown }) =>
  Effect.flatMap(
    QueryCache,
    (cache) => cache.invalidate("key" in target ? keyOf(["key", target.key]) : statementKey(target))
  )

/** Drops every cached result read from one of `tables`. */
export const invalidateTables = (tables: ReadonlyArray<string>) =>
  Effect.flatMap(QueryCache, (cache) => cache.invalidateTables(tables))

/** Drops every cached result. */
export const invalidateAll = Effect.flatMap(QueryCache, (cache) => cache.invalidateAll)

/** The cache's counters and size. */
export const stats = Effect.flatMap(QueryCache, (cache) => cache.stats)
