import * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import { assert, describe, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import { driverCode } from "../../src/client/DatabaseError.js"
import { SqliteDatabase } from "../../src/client/SqliteDatabase.js"
import { isTransient } from "../../src/combinators/RetryOnFailure.js"
import { CommitFailed, transactional } from "../../src/combinators/Transactional.js"
import * as OpenResources from "../../src/OpenResources.js"
import * as TestDatabase from "../../src/testing/TestDatabase.js"
import { UserRepo } from "../../src/users/UserRepo.js"
import { rawConnection } from "../support/Connections.js"

const user = (n: number) => ({ name: `User ${n}`, email: `user${n}@example.com`, age: 30 + n })

const emails = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) => sql<{ readonly email: string }>`SELECT email FROM users ORDER BY user_id`
).pipe(Effect.map((rows) => rows.map((row) => row.email)))

const inTransaction = Effect.flatMap(SqliteDatabase, (db) => db.withHandle((handle) => handle.inTransaction))

const insert = (n: number) => Effect.flatMap(UserRepo, (repo) => repo.insert(user(n)))

describe("transactional", () => {
  it.scoped("commits when the effect succeeds", () =>
    Effect.gen(function*() {
      yield* transactional(Effect.zipRight(insert(1), insert(2)))
      assert.deepStrictEqual(yield* emails, ["user1@example.com", "user2@example.com"])
    }).pipe(Effect.provide(TestDatabase.layer())))

  it.scoped("rolls back when the effect fails", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(transactional(Effect.zipRight(insert(1), Effect.fail("boom" as const))))
      assert.deepStrictEqual(exit, Exit.fail("boom"))
      assert.deepStrictEqual(yield* emails, [])
      assert.isFalse(yield* inTransaction)
    }).pipe(Effect.provide(TestDatabase.layer())))

  it.scoped("rolls back when the effect dies", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(transactional(Effect.zipRight(insert(1), Effect.dieMessage("bug"))))
      assert.isTrue(Exit.isFailure(exit))
      assert.deepStrictEqual(yield* emails, [])
      assert.isFalse(yield* inTransaction)
    }).pipe(Effect.provide(TestDatabase.layer())))

  it.scoped("rolls back when the effect is interrupted, and releases the connection", () =>
    Effect.gen(function*() {
      const written = yield* Deferred.make<void>()
      const fiber = yield* transactional(
        insert(1).pipe(Effect.zipRight(Deferred.succeed(written, undefined)), Effect.zipRight(Effect.never))
      ).pipe(Effect.fork)
      yield* Deferred.await(written)
      yield* Fiber.interrupt(fiber)
      assert.deepStrictEqual(yield* emails, [])
      assert.isFalse(yield* inTransaction)
      // The connection is free again: a new transaction commits.
      yield* transactional(insert(2))
      assert.deepStrictEqual(yield* emails, ["user2@example.com"])
    }).pipe(Effect.provide(TestDatabase.layer())))

  it.scoped("nested: an inner failure the caller catches rolls back only the inner part", () =>
    Effect.gen(function*() {
      yield* transactional(Effect.gen(function*() {
        yield* insert(1)
        const inner = yield* Effect.exit(transactional(Effect.zipRight(insert(2), Effect.fail("inner" as const))))
        assert.deepStrictEqual(inner, Exit.fail("inner"))
        yield* transactional(insert(3))
      }))
      assert.deepStrictEqual(yield* emails, ["user1@example.com", "user3@example.com"])
      assert.isFalse(yield* inTransaction)
    }).pipe(Effect.provide(TestDatabase.layer())))

  it.scoped("nested: an outer failure rolls back the committed inner parts too", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(transactional(Effect.gen(function*() {
        yield* transactional(insert(1))
        yield* transactional(insert(2))
        return yield* Effect.fail("outer" as const)
      })))
      assert.deepStrictEqual(exit, Exit.fail("outer"))
      assert.deepStrictEqual(yield* emails, [])
    }).pipe(Effect.provide(TestDatabase.layer())))

  it.scoped("reads inside see the transaction's own writes, also on the reader pool", () =>
    Effect.gen(function*() {
      const repo = yield* UserRepo
      const seen = yield* transactional(Effect.zipRight(insert(1), repo.count))
      assert.strictEqual(seen, 1)
    }).pipe(Effect.provide(TestDatabase.layerPooled())))

  it.scoped("starts write transactions with BEGIN IMMEDIATE: a held write lock fails them at BEGIN", () =>
    Effect.gen(function*() {
      const raw = yield* rawConnection
      raw.exec("BEGIN IMMEDIATE")
      const failure = yield* Effect.flip(transactional(Effect.void))
      raw.exec("ROLLBACK")
      assert.strictEqual(failure instanceof SqlError ? driverCode(failure) : failure, "SQLITE_BUSY")
      assert.isTrue(isTransient(failure))
    }).pipe(Effect.provide(TestDatabase.layer({ connection: { busyTimeout: 0 } }))))

  it.scoped("a COMMIT that fails on a deferred constraint is a typed, permanent CommitFailed; nothing is written", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL
        REFERENCES users (user_id) DEFERRABLE INITIALLY DEFERRED)`
      const failure = yield* Effect.flip(
        transactional(Effect.zipRight(insert(1), sql`INSERT INTO orders (user_id) VALUES (${999})`))
      )
      assert.instanceOf(failure, CommitFailed)
      if (failure instanceof CommitFailed) {
        assert.strictEqual(failure.code, "SQLITE_CONSTRAINT_FOREIGNKEY")
        assert.isFalse(failure.transient)
        assert.notInclude(failure.message, "INSERT")
      }
      assert.deepStrictEqual(yield* emails, [])
      assert.isFalse(yield* inTransaction)
      yield* transactional(insert(2))
      assert.deepStrictEqual(yield* emails, ["user2@example.com"])
    }).pipe(Effect.provide(TestDatabase.layer())))

  it.scoped("a COMMIT that meets a reader's lock (rollback journal) is a transient CommitFailed", () =>
    Effect.gen(function*() {
      const raw = yield* rawConnection
      raw.exec("BEGIN")
      raw.prepare("SELECT count(*) FROM users").get()
      const failure = yield* Effect.flip(transactional(insert(1)))
      raw.exec("COMMIT")
      assert.instanceOf(failure, CommitFailed)
      if (failure instanceof CommitFailed) {
        assert.strictEqual(failure.code, "SQLITE_BUSY")
        assert.isTrue(failure.transient)
      }
      assert.deepStrictEqual(yield* emails, [])
      assert.isFalse(yield* inTransaction)
      assert.strictEqual(yield* OpenResources.current("connection"), 1)
    }).pipe(Effect.provide(TestDatabase.layer({ connection: { busyTimeout: 0, journalMode: "delete" } }))))
})
