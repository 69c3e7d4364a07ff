/**
 * One suite, both backends: every library feature gives the same answers on SQLite and on
 * MySQL/MariaDB (each test on a fresh database of its own, dropped afterwards).
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as CacheQuery from "../../src/combinators/CacheQuery.js"
import { cacheQuery } from "../../src/combinators/CacheQuery.js"
import { logQueries } from "../../src/combinators/LogQueries.js"
import { transactional } from "../../src/combinators/Transactional.js"
import { fetchUsers } from "../../src/users/ConcurrentFetch.js"
import { Dashboard } from "../../src/users/Dashboard.js"
import { executeQuery } from "../../src/users/ExecuteQuery.js"
import { DuplicateEmail, UserRepo } from "../../src/users/UserRepo.js"
import { averageAge, lazyPaginate, streamUsers } from "../../src/users/UserStream.js"
import { backends } from "../support/Backends.js"

const newUser = { name: "Grace Hopper", email: "grace@example.com", age: 85 }

for (const backend of backends) {
  describe.skipIf(!backend.available)(`on ${backend.name}`, () => {
    const sample = backend.layer({ sample: true })
    const empty = backend.layer()

    it.scoped("reads the sample: counts, filters, lookups", () =>
      Effect.gen(function*() {
        const repo = yield* UserRepo
        assert.strictEqual(yield* repo.count, 1000)
        assert.strictEqual((yield* repo.olderThan(25)).length, 804)
        assert.strictEqual((yield* repo.olderThan(40)).length, 707)
        assert.strictEqual((yield* repo.all({ limit: 3 })).length, 3)
        const first = yield* repo.byId(1)
        assert.isTrue(Option.isSome(first))
        if (Option.isSome(first)) {
          assert.strictEqual(first.value.name, "Johnnie Mayer")
          assert.match(first.value.created_at, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/)
        }
        assert.isTrue(Option.isNone(yield* repo.byId(5000)))
      }).pipe(Effect.provide(sample)))

    it.scoped("writes: insert, duplicate e-mail, bad age rejected before any SQL", () =>
      Effect.gen(function*() {
        const repo = yield* UserRepo
        const stored = yield* repo.insert(newUser)
        assert.strictEqual(stored.email, newUser.email)
        assert.instanceOf(yield* Effect.flip(repo.insert(newUser)), DuplicateEmail)
        const invalid = yield* Effect.flip(repo.insert({ ...newUser, email: "x@example.com", age: 200 }))
        assert.strictEqual(invalid._tag, "InvalidUser")
        assert.strictEqual(yield* repo.count, 1)
      }).pipe(Effect.provide(empty)))

    it.scoped("the age CHECK constraint holds in the table itself", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const exit = yield* Effect.exit(sql`INSERT INTO users (name, email, age) VALUES (${"A"}, ${"a@b.io"}, ${151})`)
        assert.isTrue(Exit.isFailure(exit))
        assert.strictEqual(yield* (yield* UserRepo).count, 0)
      }).pipe(Effect.provide(empty)))

    it.scoped("transactions: rollback on failure; nested savepoints undo only the inner part", () =>
      Effect.gen(function*() {
        const repo = yield* UserRepo
        const user = (n: number) => ({ name: `User ${n}`, email: `user${n}@example.com`, age: 20 + n })
        yield* Effect.flip(transactional(Effect.zipRight(repo.insert(user(1)), Effect.fail("boom"))))
        assert.strictEqual(yield* repo.count, 0)
        yield* transactional(Effect.gen(function*() {
          yield* repo.insert(user(2))
          yield* Effect.flip(transactional(Effect.zipRight(repo.insert(user(3)), Effect.fail("inner"))))
          yield* transactional(repo.insert(user(4)))
          assert.strictEqual(yield* repo.count, 2, "reads inside see the transaction's own writes")
        }))
        const emails = (yield* repo.all()).map((u) => u.email)
        assert.deepStrictEqual(emails, ["user2@example.com", "user4@example.com"])
      }).pipe(Effect.provide(empty)))

    it.scoped("streams: every user in pages, lazy pagination, the streamed average", () =>
      Effect.gen(function*() {
        assert.strictEqual(Chunk.size(yield* Stream.runCollect(streamUsers(64))), 1000)
        const pages = yield* Stream.runCollect(lazyPaginate(100))
        assert.strictEqual(Chunk.size(pages), 10)
        assert.closeTo(yield* averageAge(), 62.379, 1e-9)
        const sql = yield* SqlClient.SqlClient
        const streamed = yield* Stream.runCount(sql`SELECT user_id FROM users ORDER BY user_id`.stream)
        assert.strictEqual(streamed, 1000)
        const firstFive = yield* Stream.runCollect(
          Stream.take(sql`SELECT user_id FROM users ORDER BY user_id`.stream, 5)
        )
        assert.strictEqual(Chunk.size(firstFive), 5)
      }).pipe(Effect.provide(sample)))

    it.scoped("the seed's gather: all users and users older than 40, concurrently", () =>
      Effect.gen(function*() {
        const result = yield* fetchUsers(40)
        assert.strictEqual(result.allUsers.value.length, 1000)
        assert.strictEqual(result.olderUsers.value.length, 707)
      }).pipe(Effect.provide(sample)))

    it.scoped("the dashboard's four aggregates", () =>
      Effect.gen(function*() {
        const report = yield* (yield* Dashboard).report({ concurrent: true })
        assert.strictEqual(report.summary.users, 1000)
        assert.closeTo(report.summary.average_age ?? 0, 62.379, 1e-9)
        assert.strictEqual(report.usersOver40, 707)
        assert.strictEqual(report.ageBands.reduce((sum, band) => sum + band.users, 0), 1000)
        assert.deepStrictEqual(report.topDomains.map((domain) => domain.domain), [
          "yahoo.com",
          "hotmail.com",
          "gmail.com"
        ])
      }).pipe(Effect.provide(Layer.provideMerge(Dashboard.Default, sample))))

    it.scoped("executeQuery binds parameters and refuses writes unless asked", () =>
      Effect.gen(function*() {
        const rows = yield* executeQuery("SELECT name, age FROM users WHERE age > ? ORDER BY user_id LIMIT 2", [100])
        assert.deepStrictEqual(rows, [{ name: "Brad Sawayn", age: 112 }, { name: "Ellen Hudson", age: 111 }])
        const refused = yield* Effect.flip(executeQuery("DELETE FROM users"))
        assert.strictEqual(refused._tag, "ReadOnlyQuery")
        assert.strictEqual(yield* (yield* UserRepo).count, 1000)
      }).pipe(Effect.provide(sample)))

    it.scoped("executeQuery refuses a second statement in the caller's text, and runs neither", () =>
      Effect.gen(function*() {
        for (const write of [false, true]) {
          const error = yield* Effect.flip(executeQuery("SELECT 1; DELETE FROM users", [], { write }))
          // PostgreSQL's read-only gate refuses it before the server does (the others leave it to the server).
          const expected = !write && backend.name.startsWith("postgres") ? "ReadOnlyQuery" : "QueryError"
          assert.strictEqual(error._tag, expected, `write: ${write}`)
        }
        assert.strictEqual(yield* (yield* UserRepo).count, 1000)
      }).pipe(Effect.provide(sample)))

    it.scoped("cacheQuery: a hit, then an insert drops the cached olderThan result", () =>
      Effect.gen(function*() {
        const repo = yield* UserRepo
        const older = repo.olderThan(80).pipe(cacheQuery({ key: ["olderThan", 80] }))
        const before = (yield* older).length
        yield* older
        yield* repo.insert(newUser)
        assert.strictEqual((yield* older).length, before + 1)
        const stats = yield* CacheQuery.stats
        assert.deepStrictEqual([stats.hits, stats.misses, stats.invalidations], [1, 2, 1])
      }).pipe(Effect.provide(CacheQuery.layer().pipe(Layer.provideMerge(sample)))))

    it.scoped("logQueries logs each statement with its rows, values hidden", () =>
      Effect.gen(function*() {
        const repo = yield* UserRepo
        const lines: Array<{ message: string; rows: unknown; params: unknown }> = []
        const logger = Logger.make(({ annotations, message }) => {
          lines.push({
            message: String(Array.isArray(message) ? message[0] : message),
            rows: Option.getOrUndefined(HashMap.get(annotations, "rows")),
            params: Option.getOrUndefined(HashMap.get(annotations, "params"))
          })
        })
        yield* Effect.zipRight(repo.olderThan(118), repo.insert(newUser)).pipe(
          logQueries(),
          Effect.provide(Logger.add(logger))
        )
        // PostgreSQL numbers its placeholders.
        const select = lines.find((line) => /WHERE age > (?:\?|\$1)/.test(line.message))
        assert.strictEqual(select?.rows, 10)
        assert.strictEqual(select?.params, "[1 hidden]")
        assert.isTrue(lines.some((line) => line.message.startsWith("INSERT INTO users")))
        assert.notInclude(JSON.stringify(lines), newUser.email)
      }).pipe(Effect.provide(sample)))
  })
}
