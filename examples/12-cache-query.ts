/**
 * Exercise 12, `@cache_query`: a dict keyed by the SQL text, never emptied, so a user inserted after
 * the first call never shows up. dbscope's `cacheQuery` keys a statement by its SQL *and* bound
 * values, keeps results for a time-to-live in a bounded cache, and drops every result read from a
 * table as soon as a write through dbscope changes that table.
 *
 * Run: npm run example -- 12
 */
import { NodeRuntime } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { CacheQuery, cacheQuery, SqliteDatabase, UserRepo } from "dbscope"
import { Console, Effect, Layer } from "effect"
import { sampleDatabase } from "./sample-database.js"

const program = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const repo = yield* UserRepo

  // `@cache_query def fetch_users_with_cache(conn, query)`, called twice: the second answer is cached.
  const fetchUsersWithCache = cacheQuery(sql`SELECT * FROM users`)
  yield* Console.log(`first call -> ${(yield* fetchUsersWithCache).length} users (runs the query)`)
  yield* Console.log(`second call -> ${(yield* fetchUsersWithCache).length} users (from the cache)`)

  // Same SQL text, different values: two entries, never each other's rows.
  const olderThan = (age: number) => cacheQuery(sql`SELECT * FROM users WHERE age > ${age}`)
  yield* Console.log(`age > 40 -> ${(yield* olderThan(40)).length}, age > 100 -> ${(yield* olderThan(100)).length}`)

  // Any effect can be cached under a key compared by value.
  const over100 = repo.olderThan(100).pipe(cacheQuery({ key: ["olderThan", 100], timeToLive: "5 minutes" }))
  yield* Console.log(`repo.olderThan(100), twice -> ${(yield* over100).length}, ${(yield* over100).length}`)

  // A write to `users` drops every result read from it: the next calls see the new user.
  yield* repo.insert({ name: "Late Arrival", email: "late.arrival@example.com", age: 101 })
  yield* Console.log(`after inserting a user aged 101 -> ${(yield* fetchUsersWithCache).length} users`)
  yield* Console.log(`repo.olderThan(100) -> ${(yield* over100).length}`)

  const stats = yield* CacheQuery.stats
  yield* Console.log(`cache: ${stats.hits} hits, ${stats.misses} misses, ${stats.invalidations} invalidated`)
})

NodeRuntime.runMain(
  Effect.gen(function*() {
    const filename = yield* sampleDatabase
    // The cache listens to the connection's writes, so it sits on top of the database layer.
    const database = UserRepo.Default.pipe(Layer.provideMerge(SqliteDatabase.layer({ filename })))
    yield* program.pipe(Effect.provide(CacheQuery.layer({ capacity: 500 }).pipe(Layer.provideMerge(database))))
  }).pipe(Effect.scoped)
)
