import { assert, describe, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as TestDatabase from "../../src/testing/TestDatabase.js"
import { executeQuery } from "../../src/users/ExecuteQuery.js"
import { UserRepo } from "../../src/users/UserRepo.js"

describe("executeQuery", () => {
  layer(TestDatabase.layer({ sample: true }))("on the sample", (it) => {
    it.effect("binds parameters: SELECT * FROM users WHERE age > ? with 25 gives 804 rows", () =>
      Effect.gen(function*() {
        const rows = yield* executeQuery("SELECT * FROM users WHERE age > ?", [25])
        assert.strictEqual(rows.length, 804)
        assert.hasAllKeys(rows[0], ["user_id", "name", "email", "age", "created_at"])
      }))

    it.effect("a parameter is data, never SQL", () =>
      Effect.gen(function*() {
        const rows = yield* executeQuery("SELECT * FROM users WHERE name = ?", ["' OR 1=1 --"])
        assert.deepStrictEqual(rows, [])
        assert.strictEqual(yield* (yield* UserRepo).count, 1000)
      }))

    it.effect("read-only by default: a write is refused and changes nothing", () =>
      Effect.gen(function*() {
        for (const text of ["DELETE FROM users", "UPDATE users SET age = 1", "DROP TABLE users"]) {
          const error = yield* Effect.flip(executeQuery(text))
          assert.strictEqual(error._tag, "ReadOnlyQuery", text)
        }
        assert.strictEqual(yield* (yield* UserRepo).count, 1000)
        // The connection is writable again afterwards.
        const user = yield* (yield* UserRepo).insert({ name: "After", email: "after@example.com", age: 3 })
        assert.isAbove(user.user_id, 1000)
      }))

    it.effect("with write: true a statement may change the database", () =>
      Effect.gen(function*() {
        yield* executeQuery("DELETE FROM users WHERE email = ?", ["after@example.com"], { write: true })
        assert.strictEqual(yield* (yield* UserRepo).count, 1000)
      }))

    it.effect("syntax errors, unknown tables and several statements are QueryErrors", () =>
      Effect.gen(function*() {
        const messages = yield* Effect.forEach(
          ["SELEC * FROM users", "SELECT * FROM nope", "SELECT 1; DELETE FROM users", ""],
          (text) => Effect.map(Effect.flip(executeQuery(text, [], { write: true })), (e) => `${e._tag}: ${e.message}`)
        )
        assert.include(messages[0], "QueryError")
        assert.include(messages[1], "no such table")
        assert.include(messages[2], "more than one statement")
        assert.include(messages[3], "QueryError")
        assert.strictEqual(yield* (yield* UserRepo).count, 1000)
      }))
  })
})
