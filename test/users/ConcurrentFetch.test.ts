import { assert, describe, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as TestDatabase from "../../src/testing/TestDatabase.js"
import { fetchConcurrently, fetchUsers } from "../../src/users/ConcurrentFetch.js"

describe("ConcurrentFetch", () => {
  for (
    const [name, database] of [
      ["on the reader pool", TestDatabase.layerPooled({ sample: true })],
      ["on one connection", TestDatabase.layer({ sample: true })]
    ] as const
  ) {
    layer(database)(name, (it) => {
      it.effect("fetchConcurrently gives all 1000 users and the 707 older than 40", () =>
        Effect.gen(function*() {
          const [all, older] = yield* fetchConcurrently(40)
          assert.strictEqual(all.length, 1000)
          assert.strictEqual(older.length, 707)
          assert.isTrue(older.every((user) => user.age > 40))
        }))

      it.effect("concurrent and sequential fetches return the same rows", () =>
        Effect.gen(function*() {
          const concurrent = yield* fetchUsers(25)
          const sequential = yield* fetchUsers(25, { concurrent: false })
          assert.deepStrictEqual(concurrent.allUsers.value, sequential.allUsers.value)
          assert.deepStrictEqual(concurrent.olderUsers.value, sequential.olderUsers.value)
          assert.strictEqual(concurrent.olderUsers.value.length, 804)
          assert.isAtLeast(concurrent.millis, 0)
        }))

      it.effect("an invalid age fails before any query runs", () =>
        Effect.gen(function*() {
          const error = yield* Effect.flip(fetchUsers(151))
          assert.strictEqual(error._tag, "InvalidAge")
        }))
    })
  }
})
