import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as TestClock from "effect/TestClock"
import * as SqliteDatabase from "../../src/client/SqliteDatabase.js"
import * as CacheQuery from "../../src/combinators/CacheQuery.js"
import { cacheQuery, QueryCache } from "../../src/combinators/CacheQuery.js"
import { transactional } from "../../src/combinators/Transactional.js"
import * as TestDatabase from "../../src/testing/TestDatabase.js"
import { UserRepo } from "../../src/users/UserRepo.js"
import { mysqlAvailable } from "../support/Backends.js"
import { counted } from "../support/Connections.js"
import { runCli } from "../support/RunCli.js"

const withCache = (options: CacheQuery.QueryCacheOptions = {}) =>
  CacheQuery.layer(options).pipe(Layer.provideMerge(TestDatabase.layer({ sample: true })))

const withPooledCache = CacheQuery.layer().pipe(Layer.provideMerge(TestDatabase.layerPooled({ sample: true })))

const olderThan = (age: number) =>
  Effect.flatMap(UserRepo, (repo) => repo.olderThan(age)).pipe(cacheQuery({ key: ["olderThan", age] }))

const newUser = { name: "Late Arrival", email: "late@example.com", age: 99 }

describe("cacheQuery", () => {
  it.scoped("serves a second identical statement from the cache", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const first = yield* cacheQuery(sql<{ readonly n: number }>`SELECT count(*) AS n FROM users WHERE age > ${40}`)
      const second = yield* cacheQuery(sql<{ readonly n: number }>`SELECT count(*) AS n FROM users WHERE age > ${40}`)
      assert.strictEqual(second, first, "the very same result")
      const stats = yield* CacheQuery.stats
      assert.deepStrictEqual([stats.misses, stats.hits, stats.size], [1, 1, 1])
    }).pipe(Effect.provide(withCache())))

  it.scoped("different parameters are different keys", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const over40 = yield* cacheQuery(sql<{ readonly n: number }>`SELECT count(*) AS n FROM users WHERE age > ${40}`)
      const over60 = yield* cacheQuery(sql<{ readonly n: number }>`SELECT count(*) AS n FROM users WHERE age > ${60}`)
      assert.notStrictEqual(over40[0]?.n, over60[0]?.n)
      assert.strictEqual((yield* CacheQuery.stats).misses, 2)
    }).pipe(Effect.provide(withCache())))

  it.scoped("keys are compared by value, not identity", () =>
    Effect.gen(function*() {
      const { effect, runs } = counted(Effect.succeed(1))
      yield* effect.pipe(cacheQuery({ key: { query: "x", args: [1, 2] } }))
      yield* effect.pipe(cacheQuery({ key: { args: [1, 2], query: "x" } }))
      assert.strictEqual(runs.count, 1)
    }).pipe(Effect.provide(withCache())))

  it.scoped("a result expires after its time-to-live", () =>
    Effect.gen(function*() {
      const { effect, runs } = counted(Effect.flatMap(UserRepo, (repo) => repo.count))
      const cached = effect.pipe(cacheQuery({ key: "count", timeToLive: "1 minute" }))
      yield* cached
      yield* TestClock.adjust("59 seconds")
      yield* cached
      assert.strictEqual(runs.count, 1, "still fresh")
      yield* TestClock.adjust("2 seconds")
      yield* cached
      assert.strictEqual(runs.count, 2, "expired, so run again")
    }).pipe(Effect.provide(withCache())))

  it.scoped("an insert through dbscope invalidates olderThan results: no stale read", () =>
    Effect.gen(function*() {
      const repo = yield* UserRepo
      const before = yield* olderThan(90)
      assert.strictEqual((yield* olderThan(90)).length, before.length)
      yield* repo.insert(newUser)
      const after = yield* olderThan(90)
      assert.strictEqual(after.length, before.length + 1)
      assert.isTrue(after.some((user) => user.email === newUser.email))
      const stats = yield* CacheQuery.stats
      assert.deepStrictEqual([stats.hits, stats.misses, stats.invalidations], [1, 2, 1])
    }).pipe(Effect.provide(withCache())))

  it.scoped("the same holds on the reader pool, where the cached query ran in a worker", () =>
    Effect.gen(function*() {
      const repo = yield* UserRepo
      const before = yield* olderThan(90)
      yield* repo.insert(newUser)
      assert.strictEqual((yield* olderThan(90)).length, before.length + 1)
    }).pipe(Effect.provide(withPooledCache)))

  it.scoped("a write to another table keeps the users results", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)`
      yield* olderThan(90)
      yield* sql`INSERT INTO notes (body) VALUES (${"hello"})`
      yield* olderThan(90)
      const stats = yield* CacheQuery.stats
      assert.deepStrictEqual([stats.hits, stats.invalidations], [1, 0])
    }).pipe(Effect.provide(withCache())))

  it.scoped("a write invalidates what its triggers change too (SQLite plans them into the statement)", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const repo = yield* UserRepo
      yield* sql`CREATE TABLE audit (email TEXT)`
      yield* sql`CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN INSERT INTO audit VALUES (NEW.email); END`
      const audited = () => cacheQuery(sql<{ readonly n: number }>`SELECT count(*) AS n FROM audit`)
      assert.strictEqual((yield* audited())[0]?.n, 0)
      yield* repo.insert(newUser)
      assert.strictEqual((yield* audited())[0]?.n, 1)
    }).pipe(Effect.provide(withCache())))

  it.scoped("a write that changes no row invalidates nothing", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* olderThan(90)
      yield* sql`UPDATE users SET age = 1 WHERE user_id = ${-1}`
      yield* olderThan(90)
      assert.strictEqual((yield* CacheQuery.stats).hits, 1)
    }).pipe(Effect.provide(withCache())))

  it.scoped("10 concurrent identical misses run the query once", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const { effect, runs } = counted(
        Effect.zipRight(Deferred.await(gate), Effect.flatMap(UserRepo, (repo) => repo.olderThan(40)))
      )
      const fiber = yield* Effect.all(
        Array.from({ length: 10 }, () => effect.pipe(cacheQuery({ key: ["olderThan", 40] }))),
        { concurrency: "unbounded" }
      ).pipe(Effect.fork)
      yield* Effect.yieldNow()
      yield* Deferred.succeed(gate, undefined)
      const results = yield* Fiber.join(fiber)
      assert.strictEqual(runs.count, 1)
      assert.isTrue(results.every((result) => result === results[0]))
      const stats = yield* CacheQuery.stats
      assert.deepStrictEqual([stats.misses, stats.hits], [1, 9])
    }).pipe(Effect.provide(withCache())))

  it.scoped("a write while a load is in flight keeps its result out of the cache", () =>
    Effect.gen(function*() {
      const repo = yield* UserRepo
      const read = yield* Deferred.make<void>()
      const written = yield* Deferred.make<void>()
      const { effect, runs } = counted(
        repo.olderThan(90).pipe(
          Effect.zipLeft(Deferred.succeed(read, undefined)),
          Effect.zipLeft(Deferred.await(written))
        )
      )
      const cached = effect.pipe(cacheQuery({ key: "late" }))
      const fiber = yield* Effect.fork(cached)
      yield* Deferred.await(read)
      yield* repo.insert(newUser)
      yield* Deferred.succeed(written, undefined)
      const stale = yield* Fiber.join(fiber)
      const fresh = yield* cached
      assert.strictEqual(runs.count, 2, "the result read before the write was not kept")
      assert.strictEqual(fresh.length, stale.length + 1)
    }).pipe(Effect.provide(withCache())))

  it.scoped("inside a transaction nothing is cached, and reads see the transaction's writes", () =>
    Effect.gen(function*() {
      const repo = yield* UserRepo
      const before = yield* olderThan(90)
      const inside = yield* transactional(Effect.zipRight(repo.insert(newUser), olderThan(90)))
      assert.strictEqual(inside.length, before.length + 1)
      const stats = yield* CacheQuery.stats
      assert.deepStrictEqual([stats.hits, stats.misses], [0, 1])
    }).pipe(Effect.provide(withCache())))

  it.scoped("failures are not cached", () =>
    Effect.gen(function*() {
      const { effect, runs } = counted(Effect.fail("nope" as const))
      const cached = effect.pipe(cacheQuery({ key: "failing" }))
      yield* Effect.flip(cached)
      yield* Effect.flip(cached)
      assert.strictEqual(runs.count, 2)
    }).pipe(Effect.provide(withCache())))

  it.scoped("holds at most `capacity` results, dropping the least recently used", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const byAge = (age: number) => cacheQuery(sql`SELECT count(*) AS n FROM users WHERE age = ${age}`)
      yield* byAge(30)
      yield* byAge(31)
      yield* byAge(30)
      yield* byAge(32)
      const stats = yield* CacheQuery.stats
      assert.deepStrictEqual([stats.size, stats.evictions], [2, 1])
      yield* byAge(30)
      assert.strictEqual((yield* CacheQuery.stats).hits, 2, "30 was used recently, so 31 went")
    }).pipe(Effect.provide(withCache({ capacity: 2 }))))

  it.scoped("invalidate, invalidateTables and invalidateAll drop results on request", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const statement = sql`SELECT count(*) AS n FROM users`
      yield* cacheQuery(statement)
      yield* olderThan(90)
      yield* CacheQuery.invalidate(statement)
      yield* CacheQuery.invalidate({ key: ["olderThan", 90] })
      assert.strictEqual((yield* CacheQuery.stats).size, 0)
      yield* cacheQuery(statement)
      yield* CacheQuery.invalidateTables(["users"])
      assert.strictEqual((yield* CacheQuery.stats).size, 0)
      yield* cacheQuery(statement)
      yield* CacheQuery.invalidateAll
      const stats = yield* CacheQuery.stats
      assert.deepStrictEqual([stats.size, stats.invalidations], [0, 4])
    }).pipe(Effect.provide(withCache())))

  it.scoped("an effect that is not a statement needs a key", () =>
    Effect.gen(function*() {
      const cache = yield* QueryCache
      const exit = yield* Effect.exit(cacheQuery(Effect.succeed(1) as never))
      assert.isTrue(exit._tag === "Failure")
      assert.strictEqual((yield* cache.stats).misses, 0)
    }).pipe(Effect.provide(withCache())))

  it.scopedLive("a write by another process (dbscope query --write) drops the cached results: SQLite's data_version", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const { filename } = yield* SqliteDatabase.SqliteDatabase
      const count = cacheQuery(sql<{ readonly n: number }>`SELECT count(*) AS n FROM users WHERE age > ${40}`)
      const before = (yield* count)[0]!.n
      assert.strictEqual((yield* count)[0]!.n, before, "served from the cache")
      const other = yield* runCli([
        "--db",
        filename,
        "query",
        "--write",
        "--param",
        "Other Process",
        "--param",
        "other@example.com",
        "--param",
        "77",
        "INSERT INTO users (name, email, age) VALUES (?, ?, ?)"
      ])
      assert.strictEqual(other.code, 0, other.stderr)
      assert.strictEqual((yield* count)[0]!.n, before + 1, "the other process's insert is seen")
      const stats = yield* CacheQuery.stats
      assert.deepStrictEqual([stats.hits, stats.misses, stats.invalidations], [1, 2, 1])
    }).pipe(Effect.provide(withCache())))

  it.scoped.skipIf(!mysqlAvailable)(
    "on MySQL, which cannot tell of other clients' writes, a result lives 5 seconds unless told otherwise",
    () =>
      Effect.gen(function*() {
        const count = (sql: SqlClient.SqlClient) =>
          cacheQuery(sql<{ readonly n: number }>`SELECT count(*) AS n FROM users`)
        yield* Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          yield* count(sql)
          yield* TestClock.adjust("4 seconds")
          yield* count(sql)
          yield* TestClock.adjust("2 seconds")
          yield* count(sql)
          assert.deepStrictEqual(
            [(yield* CacheQuery.stats).hits, (yield* CacheQuery.stats).misses],
            [1, 2],
            "expired after 5 s"
          )
        }).pipe(Effect.provide(CacheQuery.layer().pipe(Layer.provideMerge(TestDatabase.layerMysql({ sample: true })))))
        yield* Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          yield* count(sql)
          yield* TestClock.adjust("6 seconds")
          yield* count(sql)
          assert.strictEqual((yield* CacheQuery.stats).hits, 1, "a time the cache was given wins")
        }).pipe(
          Effect.provide(
            CacheQuery.layer({ timeToLive: "1 minute" }).pipe(
              Layer.provideMerge(TestDatabase.layerMysql({ sample: true }))
            )
          )
        )
      })
  )
})
