import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it, layer } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as path from "node:path"
import * as SqliteDatabase from "../../src/client/SqliteDatabase.js"
import * as SqlitePool from "../../src/client/SqlitePool.js"
import * as OpenResources from "../../src/OpenResources.js"
import { ReaderPool } from "../../src/readers/ReaderPool.js"
import * as ReaderPoolModule from "../../src/readers/ReaderPool.js"
import * as TestDatabase from "../../src/testing/TestDatabase.js"
import { UserRepo } from "../../src/users/UserRepo.js"

/** Millions of rows, produced lazily by SQLite: a query that runs for a while on a worker. */
const longQuery = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000000) SELECT i FROM n"

const liveWorkers = OpenResources.current("readerWorker")

/** A new WAL database file (created by a writer, as readers need) in a temp folder of the current scope. */
const newDatabaseFile = (name: string) =>
  Effect.gen(function*() {
    const filename = path.join(yield* TestDatabase.tempDirectory, name)
    yield* Effect.scoped(Layer.build(SqliteDatabase.layer({ filename })))
    return filename
  })

const queries = [
  "SELECT * FROM users ORDER BY user_id",
  "SELECT * FROM users WHERE age > 40 ORDER BY user_id",
  "SELECT age, COUNT(*) AS n, AVG(age) AS avg FROM users GROUP BY age ORDER BY age",
  "SELECT NULL AS empty, 1.5 AS real, x'00ff' AS blob, 'text' AS t, CASE WHEN age > 50 THEN 'old' ELSE age END AS mixed FROM users ORDER BY user_id LIMIT 100",
  "SELECT * FROM users WHERE age > 200"
]

describe("SqlitePool", () => {
  layer(TestDatabase.layerPooled({ sample: true }), { excludeTestServices: true })(
    "on the sample, with 2 readers",
    (it) => {
      it.effect("the pool returns exactly what the single connection returns", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const database = yield* SqliteDatabase.SqliteDatabase
          for (const text of queries) {
            const pooled = yield* sql.unsafe(text)
            const single: ReadonlyArray<unknown> = yield* database.withHandle((db) => db.prepare(text).all())
            assert.deepStrictEqual(pooled, single, text)
          }
        }))

      it.effect("UserRepo runs unchanged: 804, 707, 171", () =>
        Effect.gen(function*() {
          const repo = yield* UserRepo
          const counts = yield* Effect.all(
            [25, 40, 100].map((age) => Effect.map(repo.olderThan(age), (u) => u.length)),
            {
              concurrency: "unbounded"
            }
          )
          assert.deepStrictEqual(counts, [804, 707, 171])
        }))

      it.effect("reads on a reader see writes committed on the writer", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const repo = yield* UserRepo
          const user = yield* repo.insert({ name: "Fresh", email: "fresh@example.com", age: 33 })
          const seen = yield* sql`SELECT name FROM users WHERE user_id = ${user.user_id}`
          assert.deepStrictEqual(seen, [{ name: "Fresh" }])
        }))

      it.effect("a transaction reads its own uncommitted writes; readers outside do not see them", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const pool = yield* ReaderPool
          const count = "SELECT COUNT(*) AS n FROM users WHERE email = ?"
          const [inside, outside] = yield* sql.withTransaction(Effect.gen(function*() {
            yield* sql`INSERT INTO users (name, email, age) VALUES ('Tx', 'tx@example.com', 20)`
            const inside = yield* sql.unsafe(count, ["tx@example.com"])
            const outside = yield* pool.query(count, ["tx@example.com"])
            return [inside, outside]
          }))
          assert.deepStrictEqual(inside, [{ n: 1 }])
          assert.deepStrictEqual(outside, [{ n: 0 }])
          assert.deepStrictEqual(yield* sql.unsafe(count, ["tx@example.com"]), [{ n: 1 }])
        }))

      it.effect("a write sent to a reader is a typed error and changes nothing", () =>
        Effect.gen(function*() {
          const pool = yield* ReaderPool
          const repo = yield* UserRepo
          const before = yield* repo.count
          const error = yield* Effect.flip(pool.query("DELETE FROM users", []))
          assert.strictEqual(error._tag, "ReaderWriteRejected")
          assert.strictEqual(yield* repo.count, before)
        }))

      it.effect("writes through the standard client are routed to the writer", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          yield* sql`UPDATE users SET age = age WHERE user_id = ${1}`
          yield* sql`DELETE FROM users WHERE email = ${"nobody@example.com"}`
          assert.deepStrictEqual(yield* sql`SELECT COUNT(*) AS n FROM users WHERE user_id = 1`, [{ n: 1 }])
        }))

      it.effect("Effect.all really runs two reads at once: a short read finishes while a long one runs", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const finished: Array<string> = []
          const long = yield* Effect.fork(
            Effect.zipRight(sql.unsafe(longQuery), Effect.sync(() => finished.push("long")))
          )
          yield* Effect.sleep("20 millis")
          yield* Effect.zipRight(sql`SELECT COUNT(*) FROM users`, Effect.sync(() => finished.push("short")))
          assert.deepStrictEqual(finished, ["short"])
          yield* Fiber.interrupt(long)
        }))

      it.effect("an interrupted query stops its worker, which serves the next query", () =>
        Effect.gen(function*() {
          const pool = yield* ReaderPool
          for (let i = 0; i < 4; i++) {
            const fiber = yield* Effect.fork(pool.query(longQuery, []))
            yield* Effect.sleep("30 millis")
            yield* Fiber.interrupt(fiber)
          }
          assert.strictEqual(yield* pool.live, 2)
          assert.deepStrictEqual(yield* pool.query("SELECT COUNT(*) AS n FROM users WHERE age > 100", []), [{ n: 171 }])
        }))

      it.effect("a worker that crashes mid-query is a typed error and is replaced", () =>
        Effect.gen(function*() {
          const pool = yield* ReaderPool
          const sql = yield* SqlClient.SqlClient
          const started = yield* Deferred.make<void>()
          const fiber = yield* Effect.fork(Effect.zipRight(Deferred.succeed(started, undefined), sql.unsafe(longQuery)))
          yield* Deferred.await(started)
          yield* Effect.sleep("50 millis")
          yield* pool.terminateOne
          yield* pool.terminateOne
          const exit = yield* Fiber.await(fiber)
          assert.isTrue(Exit.isFailure(exit))
          const failure = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
          const cause = Option.getOrUndefined(failure)?.cause
          assert.strictEqual((cause as { readonly _tag?: string } | undefined)?._tag, "ReaderCrashed")
          // Replacements come up; the pool serves queries again.
          yield* Effect.repeat(pool.live, { until: (n) => n === 2 })
          const rows = yield* pool.query("SELECT COUNT(*) AS n FROM users WHERE age > 40", [])
          assert.isAbove(Number((rows[0] as { n: number }).n), 700)
        }))
    }
  )

  layer(TestDatabase.layerPooled({ readers: { size: 2, mainThreadBelow: 0 } }), { excludeTestServices: true })(
    "with every read offered to the workers",
    (it) => {
      it.effect("a PRAGMA runs on the main connection: the setting it changes or reports is the caller's", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          yield* sql`PRAGMA foreign_keys = OFF`
          assert.deepStrictEqual(yield* sql`PRAGMA foreign_keys`, [{ foreign_keys: 0 }])
          yield* sql`PRAGMA ignore_check_constraints = ON`
          yield* sql`INSERT INTO users (name, email, age) VALUES ('Old Example', 'old@example.com', 151)`
          yield* sql`PRAGMA ignore_check_constraints = OFF`
          yield* sql`PRAGMA foreign_keys = ON`
          assert.deepStrictEqual(yield* sql`SELECT age FROM users`, [{ age: 151 }])
        }))
    }
  )

  // A generous threshold: on a loaded machine the first measurement of a 171-row count can exceed 2 ms.
  layer(TestDatabase.layerPooled({ sample: true, readers: { size: 2, mainThreadBelow: "1 second" } }), {
    excludeTestServices: true
  })("with cheap reads kept on the main thread", (it) => {
    it.effect("a cheap read, once measured, runs on the main thread even while every worker is busy", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const cheap = sql`SELECT COUNT(*) AS n FROM users WHERE age > ${100}`
        yield* cheap // first run: on a reader, which measures it
        const busy = yield* Effect.forkAll([sql.unsafe(longQuery), sql.unsafe(longQuery)])
        yield* Effect.sleep("30 millis")
        assert.deepStrictEqual(yield* cheap, [{ n: 171 }])
        // Had it waited for a worker, the long queries would have finished first.
        assert.isTrue(Option.isNone(yield* Fiber.poll(busy)))
        yield* Fiber.interrupt(busy)
      }))
  })

  it.live("the waiting queue is bounded, and waiting for a worker times out", () =>
    Effect.scoped(Effect.gen(function*() {
      const filename = yield* newDatabaseFile("bounded.db")
      const pool = yield* ReaderPoolModule.make({ filename, size: 1, maxWaiting: 1, acquireTimeout: "200 millis" })
      const long = yield* Effect.fork(pool.query(longQuery, []))
      yield* Effect.sleep("30 millis")
      const waiting = yield* Effect.fork(pool.query("SELECT 1", []))
      yield* Effect.sleep("30 millis")
      const refused = yield* Effect.flip(pool.query("SELECT 1", []))
      assert.strictEqual(refused._tag, "ReaderPoolBusy")
      const timedOut = yield* Effect.flip(Fiber.join(waiting))
      assert.strictEqual(timedOut._tag, "ReaderTimeout")
      yield* Fiber.interrupt(long)
    })))

  it.live("interrupted waiters leave at once and lose no worker: the pool still serves at full size", () =>
    Effect.scoped(Effect.gen(function*() {
      const filename = yield* newDatabaseFile("interrupted-waiters.db")
      // No acquire timeout to fall back on: an interrupted waiter must leave at once, and a lost
      // worker would leave the last query waiting until the test times out.
      const pool = yield* ReaderPoolModule.make({ filename, size: 2, acquireTimeout: "1 hour" })
      // Eight queries contend for two workers and are interrupted after 0..7 scheduler turns: some
      // while waiting, some just as a worker was handed to them, some while running.
      for (let round = 0; round < 200; round++) {
        const fiber = yield* Effect.fork(
          Effect.all(Array.from({ length: 8 }, () => pool.query("SELECT 1 AS one", [])), { concurrency: "unbounded" })
        )
        yield* Effect.repeatN(Effect.yieldNow(), round % 8)
        yield* Fiber.interrupt(fiber)
      }
      // Both workers are still free: while one runs a long query, the other answers at once.
      const long = yield* Effect.fork(pool.query(longQuery, []))
      yield* Effect.sleep("30 millis")
      const quick = yield* pool.query("SELECT 2 AS two", []).pipe(Effect.timeout("1 second"), Effect.option)
      assert.deepStrictEqual(quick, Option.some([{ two: 2 }]))
      yield* Fiber.interrupt(long)
    })))

  it.live("interrupting a long single-step query replaces its stuck worker; the pool keeps serving", () =>
    Effect.scoped(Effect.gen(function*() {
      const filename = yield* newDatabaseFile("stuck.db")
      const pool = yield* ReaderPoolModule.make({ filename, size: 2, cancelTimeout: "100 millis" })
      // One aggregate: SQLite returns nothing until it has counted everything, so no cancel gets in.
      const aggregate = `SELECT COUNT(*) FROM (${longQuery.replace("20000000", "60000000")})`
      const stuck = yield* Effect.fork(pool.query(aggregate, []))
      yield* Effect.sleep("50 millis")
      yield* Fiber.interrupt(stuck)
      // The other worker serves at once; the stuck one is replaced when its thread finally exits.
      assert.deepStrictEqual(yield* pool.query("SELECT 1 AS one", []), [{ one: 1 }])
      yield* Effect.repeat(pool.live, { until: (n) => n === 2, schedule: Schedule.spaced("50 millis") })
      const results = yield* Effect.all([pool.query("SELECT 2 AS two", []), pool.query("SELECT 3 AS three", [])], {
        concurrency: "unbounded"
      })
      assert.deepStrictEqual(results, [[{ two: 2 }], [{ three: 3 }]])
    })))

  it.live("a pool that cannot start fails with a typed error within its timeout and leaves no worker", () =>
    Effect.gen(function*() {
      const before = yield* liveWorkers
      const dir = yield* Effect.scoped(TestDatabase.tempDirectory)
      const missing = yield* Effect.flip(
        Effect.scoped(ReaderPoolModule.make({ filename: path.join(dir, "missing.db"), size: 2 }))
      )
      assert.strictEqual(missing._tag, "ReaderStartError")
      const slow = yield* Effect.scoped(Effect.gen(function*() {
        const filename = yield* newDatabaseFile("slow.db")
        return yield* Effect.flip(Effect.scoped(ReaderPoolModule.make({ filename, size: 2, startTimeout: "1 millis" })))
      }))
      assert.strictEqual(slow._tag, "ReaderStartError")
      assert.include(slow.message, "not ready within")
      yield* Effect.repeat(liveWorkers, { until: (n) => n === before })
    }))

  it.live("releasing the layer terminates every worker, also after an interruption", () =>
    Effect.gen(function*() {
      const before = yield* liveWorkers
      const dir = yield* Effect.scoped(TestDatabase.tempDirectory)
      const filename = path.join(dir, "release.db")
      const started = yield* Deferred.make<void>()
      const fiber = yield* Effect.fork(
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          yield* Deferred.succeed(started, undefined)
          return yield* sql.unsafe(longQuery)
        }).pipe(Effect.provide(SqlitePool.layer({ filename, readers: { size: 3 } })))
      )
      yield* Deferred.await(started)
      assert.strictEqual(yield* liveWorkers, before + 3)
      yield* Fiber.interrupt(fiber)
      assert.strictEqual(yield* liveWorkers, before)
      assert.strictEqual(yield* OpenResources.current("connection"), 0)
    }))
})
