/**
 * A stored value the `User` schema refuses (an age of `'forty'` on SQLite, where a table without
 * dbscope's CHECK constraint can hold one; 200 on MySQL once the constraint is dropped): every read
 * fails with `InvalidStoredValue` naming the column, the value and its row, never NaN or a defect.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as RowCheck from "../../src/client/core/RowCheck.js"
import * as TestDatabase from "../../src/testing/TestDatabase.js"
import { fetchUsers } from "../../src/users/ConcurrentFetch.js"
import { Dashboard } from "../../src/users/Dashboard.js"
import { explain, InvalidStoredValue, showValue } from "../../src/users/StoredValue.js"
import { userRules } from "../../src/users/User.js"
import { UserRepo } from "../../src/users/UserRepo.js"
import { averageAge, batchProcessing, lazyPaginate, paginateUsers, streamUsers } from "../../src/users/UserStream.js"
import { backends } from "../support/Backends.js"

const valid = [
  { name: "Ann Example", email: "ann@example.com", age: 30 },
  { name: "Ben Example", email: "ben@example.com", age: 40 }
]

/**
 * Stores a third user (user_id 1000, after the others whatever ids they got: a Galera cluster's
 * ids go in steps of the cluster's size) whose age the schema refuses, as a table without the
 * CHECK constraint would: `'forty'` on SQLite, 200 on MySQL and PostgreSQL (an INT column holds
 * only integers).
 */
const storeBadAge = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const repo = yield* UserRepo
  yield* repo.insertMany(valid)
  // MySQL's and PostgreSQL's INT columns hold only integers: without the CHECK, 200.
  const outOfRange = () =>
    Effect.as(
      Effect.zipRight(
        sql`ALTER TABLE users DROP CONSTRAINT users_age_range`,
        sql`INSERT INTO users (user_id, name, email, age) VALUES (1000, 'Cy Example', 'cy@example.com', 200)`
      ),
      "200"
    )
  return yield* sql.onDialectOrElse({
    mysql: outOfRange,
    pg: outOfRange,
    orElse: () =>
      Effect.as(
        Effect.zipRight(
          sql`PRAGMA ignore_check_constraints = ON`,
          sql`INSERT INTO users (user_id, name, email, age) VALUES (1000, 'Cy Example', 'cy@example.com', 'forty')`
        ),
        "'forty'"
      )
  })
}).pipe(Effect.orDie)

const assertBadAge = (error: unknown, value: string, what: string) => {
  assert.instanceOf(error, InvalidStoredValue, what)
  if (!(error instanceof InvalidStoredValue)) return
  assert.deepStrictEqual([error.column, error.value, error.userId], ["age", value, 1000], what)
  assert.strictEqual(
    error.message,
    `users.age holds a value that is not an integer from 0 to 150 (${value} in user_id 1000)`,
    what
  )
}

for (const backend of backends) {
  describe.skipIf(!backend.available)(`a refused stored value on ${backend.name}`, () => {
    it.scoped("every read names users.age, the value and its user_id", () =>
      Effect.gen(function*() {
        const value = yield* storeBadAge
        const repo = yield* UserRepo
        const dashboard = yield* Dashboard
        const reads: ReadonlyArray<readonly [string, Effect.Effect<unknown, unknown, UserRepo>]> = [
          ["all", repo.all()],
          ["olderThan", repo.olderThan(35)],
          ["byId", repo.byId(1000)],
          ["pageAfter", repo.pageAfter(2, 10)],
          ["paginateUsers", paginateUsers(10)],
          ["streamUsers", Stream.runDrain(streamUsers())],
          ["lazyPaginate", Stream.runDrain(lazyPaginate(1))],
          ["batchProcessing", Stream.runCollect(batchProcessing(2)).pipe(Effect.map(Chunk.toArray))],
          ["averageAge", averageAge()],
          ["fetchUsers", fetchUsers(40)],
          ["fetchUsers one after the other", fetchUsers(40, { concurrent: false })],
          ["dashboard", dashboard.report()],
          ["dashboard one after the other", dashboard.report({ concurrent: false })],
          ["checkStored", repo.checkStored]
        ]
        for (const [what, read] of reads) assertBadAge(yield* Effect.flip(read), value, what)
        // Rows before the bad one still read; a read that does not meet it succeeds.
        assert.strictEqual((yield* repo.all({ limit: 2 })).length, 2)
        assert.strictEqual(yield* repo.count, 3)
      }).pipe(Effect.provide(Layer.provideMerge(Dashboard.Default, backend.layer()))))

    it.scoped("a table of valid users passes the check and the dashboard", () =>
      Effect.gen(function*() {
        const repo = yield* UserRepo
        yield* repo.insertMany(valid)
        yield* repo.checkStored
        const report = yield* (yield* Dashboard).report()
        assert.deepStrictEqual([report.summary.users, report.summary.oldest], [2, 40])
        assert.notProperty(report.summary, "invalid_ages")
      }).pipe(Effect.provide(Layer.provideMerge(Dashboard.Default, backend.layer()))))
  })
}

describe.skipIf(!backends[0]?.available)("a refused stored value inside the age range", () => {
  it.scoped("a real age of 40.5 among integers: the dashboard's figures look fine, yet it names users.age", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* (yield* UserRepo).insertMany(valid)
      yield* sql`INSERT INTO users (user_id, name, email, age) VALUES (1000, 'Cy Example', 'cy@example.com', 40.5)`
      for (const concurrent of [true, false]) {
        assertBadAge(yield* Effect.flip((yield* Dashboard).report({ concurrent })), "40.5", `concurrent: ${concurrent}`)
      }
    }).pipe(Effect.provide(Layer.provideMerge(Dashboard.Default, TestDatabase.layer()))))
})

describe("refused stored values found by the reader workers (SQLite)", () => {
  /** 500 valid users (few distinct names: their chunks travel as dictionaries), then one of `bad`. */
  const storeAmongMany = (bad: { readonly name: string; readonly age: number | string }) =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* (yield* UserRepo).insertMany(Array.from({ length: 500 }, (_, i) => ({
        name: ["Ada Example", "Grace Example"][i % 2]!,
        email: `user${i}@example.com`,
        age: i % 100
      })))
      yield* sql`PRAGMA ignore_check_constraints = ON`
      yield* sql`INSERT INTO users (name, email, age) VALUES (${bad.name}, 'bad@example.com', ${bad.age})`
      yield* sql`INSERT INTO users (name, email, age) VALUES ('After Example', 'after@example.com', 50)`
    }).pipe(Effect.orDie)

  /** Every read on a worker, in chunks of 128 rows (the bad row is in the fourth). */
  const pooled = () => TestDatabase.layerPooled({ readers: { size: 2, mainThreadBelow: 0, chunkRows: 128 } })

  it.scoped("a worker checks the rows it reads: all() is refused at the bad row, named by column and user_id", () =>
    Effect.gen(function*() {
      const cases = [
        [{ name: "Bad\u0007Example", age: 30 }, "name", "'Bad\\u0007Example'"],
        [{ name: "Ada Example", age: 151 }, "age", "151"],
        [{ name: "Ada Example", age: "forty" }, "age", "'forty'"]
      ] as const
      for (const [bad, column, shown] of cases) {
        const error = yield* Effect.flip(
          Effect.flatMap(UserRepo, (repo) => Effect.zipRight(storeAmongMany(bad), repo.all())).pipe(
            Effect.provide(pooled())
          )
        )
        assert.instanceOf(error, InvalidStoredValue)
        if (!(error instanceof InvalidStoredValue)) continue
        assert.deepStrictEqual([error.column, error.value, error.userId], [column, shown, 501], column)
      }
    }))

  it.scoped("rows read by a worker are checked there, and nowhere else; rows read on the main thread are not", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* (yield* UserRepo).insertMany(valid)
      const everyone = sql`SELECT user_id, name, email, age, created_at FROM users`
      const [rows, checked] = yield* RowCheck.checkedBy(userRules)(everyone)
      assert.deepStrictEqual([rows.length, checked], [2, true])
      // A result without one of the ruled columns cannot be checked: the caller checks it.
      const [, partly] = yield* RowCheck.checkedBy(userRules)(sql`SELECT user_id, age FROM users`)
      assert.isFalse(partly)
      const [, inTransaction] = yield* RowCheck.checkedBy(userRules)(sql.withTransaction(everyone))
      assert.isFalse(inTransaction)
    }).pipe(Effect.provide(pooled())))
})

describe("explaining a refused row", () => {
  it("names the first refused column, in the table's order", () => {
    const row = { user_id: 7, name: "", email: "nope", age: 30, created_at: "2026-01-01 00:00:00" }
    assert.strictEqual(
      explain(row).message,
      "users.name holds a value that is not a name of 1 to 200 printable characters ('' in user_id 7)"
    )
    assert.strictEqual(
      explain({ user_id: null, age: 3 }, ["user_id", "age"]).message,
      "users.user_id holds a value that is not an integer (NULL)"
    )
    assert.strictEqual(explain({ ...row, name: "Ann", email: null }).column, "email")
  })

  it("a value stays one short line: control characters escaped, long text cut, blobs not shown", () => {
    assert.strictEqual(showValue("forty\nTWO"), "'forty\\nTWO'")
    assert.strictEqual(showValue("x".repeat(1000)), `'${"x".repeat(35)}...'`)
    assert.strictEqual(showValue(new Uint8Array(16)), "a 16-byte blob")
    assert.strictEqual(showValue(40.5), "40.5")
  })
})
