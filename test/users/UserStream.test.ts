import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it, layer } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { PreparedQueries } from "../../src/client/PreparedQueries.js"
import * as OpenResources from "../../src/OpenResources.js"
import * as TestDatabase from "../../src/testing/TestDatabase.js"
import { UserRepo } from "../../src/users/UserRepo.js"
import {
  averageAge,
  batchProcessing,
  lazyPaginate,
  paginateUsers,
  streamUsers,
  streamUsersInBatches,
  streamUsersWhere
} from "../../src/users/UserStream.js"

/**
 * Runs `effect` with a `UserRepo` whose prepared statements are counted on their way to the real
 * database: how many keyset page queries (`user_id > ?`) it issued.
 */
const countingPages = <A, E>(effect: Effect.Effect<A, E, UserRepo>) =>
  Effect.gen(function*() {
    let pages = 0
    const real = yield* PreparedQueries
    const counting = {
      prepare: (text: string) => {
        const query = real.prepare(text)
        return (params: ReadonlyArray<unknown>) =>
          Effect.suspend(() => {
            if (text.includes("WHERE user_id > ?")) pages++
            return query(params)
          })
      }
    }
    const result = yield* effect.pipe(
      Effect.provide(UserRepo.Default),
      Effect.provideService(PreparedQueries, counting)
    )
    return { result, pages }
  })

describe("UserStream", () => {
  layer(TestDatabase.layer({ sample: true }))("on the 1000-user sample", (it) => {
    it.effect("streamUsers yields all 1000 users in id order", () =>
      Effect.gen(function*() {
        const users = Chunk.toReadonlyArray(yield* Stream.runCollect(streamUsers(64)))
        assert.strictEqual(users.length, 1000)
        assert.deepStrictEqual(users.map((u) => u.user_id), Array.from({ length: 1000 }, (_, i) => i + 1))
        assert.deepStrictEqual(users, yield* (yield* UserRepo).all())
      }))

    it.effect("streamUsersWhere gives what repo.all() and repo.olderThan() give, a page at a time", () =>
      Effect.gen(function*() {
        const repo = yield* UserRepo
        const collect = (options: Parameters<typeof streamUsersWhere>[0]) =>
          Effect.map(Stream.runCollect(streamUsersWhere(options)), Chunk.toReadonlyArray)
        assert.deepStrictEqual(yield* collect({ pageSize: 7 }), yield* repo.all())
        for (const age of [0, 40, 119, 150]) {
          for (const pageSize of [1, 64, 5000]) {
            assert.deepStrictEqual(
              yield* collect({ olderThan: age, pageSize }),
              yield* repo.olderThan(age),
              `${age}/${pageSize}`
            )
          }
        }
        const refused = yield* Effect.flip(collect({ olderThan: 151 }))
        assert.strictEqual(refused._tag, "InvalidAge")
      }))

    it.effect("taking 5 users issues one page query, not a table read", () =>
      Effect.gen(function*() {
        const { pages, result } = yield* countingPages(Stream.runCollect(Stream.take(streamUsers(), 5)))
        assert.strictEqual(Chunk.size(result), 5)
        assert.strictEqual(pages, 1)
      }))

    it.effect("batches of 50: 20 batches; batch processing keeps the 804 users older than 25", () =>
      Effect.gen(function*() {
        const batches = yield* Stream.runCollect(streamUsersInBatches(50))
        assert.strictEqual(Chunk.size(batches), 20)
        assert.isTrue(Chunk.every(batches, (batch) => Chunk.size(batch) === 50))
        const kept = yield* Stream.runCollect(batchProcessing(50))
        assert.strictEqual(Chunk.size(kept), 20)
        const users = Chunk.flatten(kept)
        assert.strictEqual(Chunk.size(users), 804)
        assert.isTrue(Chunk.every(users, (user) => user.age > 25))
        const over40 = Chunk.flatten(yield* Stream.runCollect(batchProcessing(50, { olderThan: 40 })))
        assert.strictEqual(Chunk.size(over40), 707)
      }))

    it.effect("lazyPaginate(100): 10 pages of 100, ending after the first empty page", () =>
      Effect.gen(function*() {
        const { pages, result } = yield* countingPages(Stream.runCollect(lazyPaginate(100)))
        const sizes = Chunk.toReadonlyArray(result).map((page) => page.length)
        assert.deepStrictEqual(sizes, Array(10).fill(100))
        assert.strictEqual(pages, 11)
        const first = yield* paginateUsers(100)
        assert.deepStrictEqual(first.users.map((u) => u.user_id), Array.from({ length: 100 }, (_, i) => i + 1))
        assert.deepStrictEqual(first.next, Option.some(100))
        const last = yield* paginateUsers(100, 1000)
        assert.deepStrictEqual([last.users.length, last.next], [0, Option.none()])
      }))

    it.effect("averageAge equals SELECT AVG(age): 62.379", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const [row] = yield* sql<{ avg: number }>`SELECT AVG(age) AS avg FROM users`
        const average = yield* averageAge(97)
        assert.closeTo(average, row?.avg ?? 0, 1e-9)
        assert.closeTo(average, 62.379, 1e-9)
      }))

    it.effect("bad page and batch sizes are typed errors, and no query runs", () =>
      Effect.gen(function*() {
        for (const size of [0, -1, 1.5, 100_001, Number.NaN]) {
          const { pages, result } = yield* countingPages(Effect.flip(Stream.runDrain(lazyPaginate(size))))
          assert.strictEqual(result._tag, "InvalidPageSize")
          assert.strictEqual(pages, 0)
          assert.strictEqual((yield* Effect.flip(Stream.runDrain(streamUsersInBatches(size))))._tag, "InvalidPageSize")
        }
        assert.include((yield* Effect.flip(paginateUsers(0))).message, "from 1 to 100000")
      }))

    it.effect("no connection is held between pages: writes go through while a stream is consumed", () =>
      Effect.gen(function*() {
        const repo = yield* UserRepo
        // Bounded: a keyset walk also reaches rows committed while it runs, so it would chase its own inserts.
        const inserted = yield* streamUsersInBatches(250).pipe(
          Stream.take(4),
          Stream.mapEffect((batch) =>
            repo.insert({ name: "Mid Stream", email: `mid${Chunk.unsafeHead(batch).user_id}@example.com`, age: 9 })
          ),
          Stream.runCount
        )
        assert.strictEqual(inserted, 4)
        assert.strictEqual(yield* repo.count, 1000 + inserted)
      }))
  })

  it.scoped("interrupting or failing a stream midway leaves no connection open and the database usable", () =>
    Effect.gen(function*() {
      const before = yield* OpenResources.current("connection")
      const program = Effect.gen(function*() {
        const cut = yield* Stream.runCollect(Stream.take(streamUsers(100), 150))
        const failed = yield* Effect.exit(
          Stream.runDrain(
            Stream.mapEffect(streamUsers(100), (u) => u.user_id === 250 ? Effect.fail("stop") : Effect.void)
          )
        )
        const fiber = yield* Effect.fork(Stream.runDrain(Stream.tap(streamUsers(10), () => Effect.sleep("1 millis"))))
        yield* Effect.yieldNow()
        yield* fiber.interruptAsFork(fiber.id())
        yield* fiber.await
        const sql = yield* SqlClient.SqlClient
        yield* sql`INSERT INTO users (name, email, age) VALUES ('After', 'after@example.com', 1)`
        return { cut: Chunk.size(cut), failed: failed._tag }
      }).pipe(Effect.provide(TestDatabase.layer({ sample: true })))
      assert.deepStrictEqual(yield* program, { cut: 150, failed: "Failure" })
      assert.strictEqual(yield* OpenResources.current("connection"), before)
    }))

  layer(TestDatabase.layer())("on an empty table", (it) => {
    it.effect("streams are empty and the average is a typed NoUsers error, not NaN", () =>
      Effect.gen(function*() {
        assert.strictEqual(Chunk.size(yield* Stream.runCollect(streamUsers())), 0)
        assert.strictEqual(Chunk.size(yield* Stream.runCollect(lazyPaginate(10))), 0)
        assert.strictEqual((yield* Effect.flip(averageAge()))._tag, "NoUsers")
      }))
  })

  void it
})
