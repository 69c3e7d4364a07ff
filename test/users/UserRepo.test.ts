import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as TestDatabase from "../../src/testing/TestDatabase.js"
import { UserRepo } from "../../src/users/UserRepo.js"

const countRows = Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ n: number }>`SELECT COUNT(*) AS n FROM users`)

describe("UserRepo", () => {
  layer(TestDatabase.layer({ sample: true }))("on the 1000-user sample", (it) => {
    it.effect("olderThan gives 804 (>25), 707 (>40) and 171 (>100)", () =>
      Effect.gen(function*() {
        const repo = yield* UserRepo
        const counts = yield* Effect.forEach([25, 40, 100], (age) => Effect.map(repo.olderThan(age), (u) => u.length))
        assert.deepStrictEqual(counts, [804, 707, 171])
      }))

    it.effect("olderThan returns only users strictly older, in id order, decoded", () =>
      Effect.gen(function*() {
        const users = yield* (yield* UserRepo).olderThan(100)
        assert.isTrue(users.every((user) => user.age > 100))
        assert.deepStrictEqual(users.map((u) => u.user_id), [...users.map((u) => u.user_id)].sort((a, b) => a - b))
        assert.hasAllKeys(users[0], ["user_id", "name", "email", "age", "created_at"])
      }))

    it.effect("all, count and limit agree with the sample", () =>
      Effect.gen(function*() {
        const repo = yield* UserRepo
        const all = yield* repo.all()
        assert.strictEqual(all.length, 1000)
        assert.strictEqual(yield* repo.count, 1000)
        const firstThree = yield* repo.all({ limit: 3 })
        assert.deepStrictEqual(firstThree, all.slice(0, 3))
        assert.strictEqual(all[0]?.email, "Ross.Reynolds21@hotmail.com")
      }))

    it.effect("byId finds a user and returns none for an unknown id", () =>
      Effect.gen(function*() {
        const repo = yield* UserRepo
        const first = yield* repo.byId(1)
        assert.strictEqual(Option.getOrThrow(first).name, "Johnnie Mayer")
        assert.isTrue(Option.isNone(yield* repo.byId(99999)))
        const invalid = yield* Effect.flip(repo.byId(0))
        assert.strictEqual(invalid._tag, "InvalidUserId")
      }))

    it.effect("an invalid age is a typed error raised before any SQL runs", () =>
      Effect.gen(function*() {
        const repo = yield* UserRepo
        const sql = yield* SqlClient.SqlClient
        // With the table renamed away, any SQL would fail as a DatabaseError, not InvalidAge.
        yield* sql`ALTER TABLE users RENAME TO users_away`
        const errors = yield* Effect.forEach(
          [-1, 151, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53],
          (age) => Effect.flip(repo.olderThan(age))
        ).pipe(Effect.ensuring(Effect.orDie(sql`ALTER TABLE users_away RENAME TO users`)))
        assert.deepStrictEqual(errors.map((e) => e._tag), Array(6).fill("InvalidAge"))
        assert.include(errors[0]?.message, "between 0 and 150")
      }))

    it.effect("an injection string passed as a parameter matches nothing and leaves the table intact", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const hostile = "x' OR '1'='1'; DROP TABLE users; --"
        const rows = yield* sql`SELECT * FROM users WHERE email = ${hostile}`
        assert.deepStrictEqual(rows, [])
        assert.deepStrictEqual(yield* countRows, [{ n: 1000 }])
      }))
  })

  layer(TestDatabase.layer())("on an empty database", (it) => {
    it.effect("insert stores a validated user and returns it with its id", () =>
      Effect.gen(function*() {
        const repo = yield* UserRepo
        const user = yield* repo.insert({ name: "Ada Lovelace", email: "ada@example.com", age: 36 })
        assert.strictEqual(user.email, "ada@example.com")
        assert.isAbove(user.user_id, 0)
        assert.deepStrictEqual(yield* repo.byId(user.user_id), Option.some(user))
      }))

    it.effect("a duplicate e-mail is a typed error and writes nothing", () =>
      Effect.gen(function*() {
        const repo = yield* UserRepo
        yield* repo.insert({ name: "Grace", email: "grace@example.com", age: 85 })
        const before = yield* repo.count
        const error = yield* Effect.flip(repo.insert({ name: "Grace 2", email: "grace@example.com", age: 40 }))
        assert.strictEqual(error._tag, "DuplicateEmail")
        assert.strictEqual(yield* repo.count, before)
      }))

    it.effect("insertMany is all or nothing: one invalid row writes none", () =>
      Effect.gen(function*() {
        const repo = yield* UserRepo
        const before = yield* repo.count
        const users = Array.from({ length: 1200 }, (_, i) => ({ name: `U${i}`, email: `u${i}@example.com`, age: 30 }))
        const bad = [...users.slice(0, 1100), { name: "Old", email: "old@example.com", age: 200 }]
        const error = yield* Effect.flip(repo.insertMany(bad))
        assert.strictEqual(error._tag, "InvalidUser")
        assert.include(error.message, "#1101")
        assert.strictEqual(yield* repo.count, before)
        // A duplicate in the last chunk (after 1000 rows were already sent) rolls back the earlier chunks too.
        const duplicate = [...users, { name: "Dup", email: "u3@example.com", age: 20 }]
        assert.strictEqual((yield* Effect.flip(repo.insertMany(duplicate)))._tag, "DuplicateEmail")
        assert.strictEqual(yield* repo.count, before)
        assert.strictEqual(yield* repo.insertMany(users), 1200)
        assert.strictEqual(yield* repo.count, before + 1200)
      }))

    it.effect("invalid names and e-mails are rejected with a reason", () =>
      Effect.gen(function*() {
        const repo = yield* UserRepo
        const reasons = yield* Effect.forEach([
          { name: "  ", email: "a@example.com", age: 1 },
          { name: "A", email: "not-an-email", age: 1 },
          { name: "x".repeat(10_000_000), email: "big@example.com", age: 1 }
        ], (user) => Effect.map(Effect.flip(repo.insert(user)), (e) => e.message))
        assert.include(reasons[0], "name")
        assert.include(reasons[1], "email")
        assert.include(reasons[2], "name")
      }))
  })
})
