/**
 * Exercise 3, `asyncio.gather`: fetch all users and the users older than 40 at the same time with
 * aiosqlite, which gives each connection a thread of its own. In dbscope
 * `Effect.all(..., { concurrency: "unbounded" })` starts both, and `SqlitePool` runs them on reader
 * worker threads with read-only connections of their own, while the main thread stays free.
 *
 * Run: npm run example -- 03   (or: npm run example -- gather)
 */
import { NodeRuntime } from "@effect/platform-node"
import { fetchConcurrently, ReaderPool, SqlitePool, UserRepo } from "dbscope"
import { Console, Effect, Layer } from "effect"
import { sampleDatabase } from "./sample-database.js"

// `async def async_fetch_users()` / `async def async_fetch_older_users()`: plain effects, not yet run.
const fetchAllUsers = Effect.flatMap(UserRepo, (repo) => repo.all())
const fetchOlderUsers = Effect.flatMap(UserRepo, (repo) => repo.olderThan(40))

const program = Effect.gen(function*() {
  const pool = yield* ReaderPool.ReaderPool

  // `users, older = await asyncio.gather(async_fetch_users(), async_fetch_older_users())`
  const [users, older] = yield* Effect.all([fetchAllUsers, fetchOlderUsers], { concurrency: "unbounded" })
  yield* Console.log(`fetched at once on ${pool.size} reader workers:`)
  yield* Console.log(`async_fetch_users() -> ${users.length} users`)
  yield* Console.log(`async_fetch_older_users() -> ${older.length} users older than 40`)

  // The same pair, packaged by dbscope.
  const [all, over100] = yield* fetchConcurrently(100)
  yield* Console.log(`fetchConcurrently(100) -> ${all.length} users, ${over100.length} older than 100`)

  // If one query fails, Effect.all interrupts the others (a worker stops at its next chunk) and
  // returns the typed error: asyncio.gather would leave the other coroutine running.
  const failed = yield* Effect.all([fetchAllUsers, Effect.flatMap(UserRepo, (repo) => repo.olderThan(-1))], {
    concurrency: "unbounded"
  }).pipe(Effect.flip)
  yield* Console.log(`with an invalid age in one query -> ${failed._tag}: ${failed.message}`)
})

NodeRuntime.runMain(
  Effect.gen(function*() {
    const filename = yield* sampleDatabase
    // Same options as SqliteDatabase.layer, plus the pool's; the workers stop when the layer is released.
    const database = SqlitePool.layer({ filename, readers: { size: 2 } })
    yield* program.pipe(Effect.provide(UserRepo.Default.pipe(Layer.provideMerge(database))))
  }).pipe(Effect.scoped)
)
