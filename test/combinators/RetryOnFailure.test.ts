import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import * as TestClock from "effect/TestClock"
import { DatabaseError } from "../../src/client/DatabaseError.js"
import { SqliteDatabase } from "../../src/client/SqliteDatabase.js"
import { retryOnFailure } from "../../src/combinators/RetryOnFailure.js"
import { transactional } from "../../src/combinators/Transactional.js"
import * as TestDatabase from "../../src/testing/TestDatabase.js"
import { DuplicateEmail, UserRepo } from "../../src/users/UserRepo.js"
import { counted, rawConnection } from "../support/Connections.js"

const user = { name: "Ada Lovelace", email: "ada@example.com", age: 36 }

/** Lets forked fibers run until one of them sleeps on the test clock. */
const untilSleeping = Effect.repeat(Effect.zipRight(Effect.yieldNow(), TestClock.sleeps()), {
  until: (sleeps) => Chunk.size(sleeps) > 0
})

/** Log lines written at warning level (the retries). */
const warnings = () => {
  const lines: Array<string> = []
  const logger = Logger.make(({ logLevel, message }) => {
    if (logLevel._tag === "Warning") lines.push(String(Array.isArray(message) ? message[0] : message))
  })
  return { lines, layer: Logger.add(logger) }
}

const lockTest = TestDatabase.layer({ connection: { busyTimeout: 0 } })

describe("retryOnFailure", () => {
  it.scoped("retries a write blocked by another connection's lock, and succeeds once it is released", () =>
    Effect.gen(function*() {
      const repo = yield* UserRepo
      const raw = yield* rawConnection
      const log = warnings()
      raw.exec("BEGIN IMMEDIATE")
      const { runs, effect } = counted(repo.insert(user))
      const fiber = yield* effect.pipe(retryOnFailure({ jitter: false }), Effect.provide(log.layer), Effect.fork)
      yield* untilSleeping
      assert.strictEqual(runs.count, 1)
      yield* TestClock.adjust("100 millis")
      yield* untilSleeping
      assert.strictEqual(runs.count, 2, "still locked: the second attempt failed too")
      raw.exec("COMMIT")
      yield* TestClock.adjust("200 millis")
      const stored = yield* Fiber.join(fiber)
      assert.strictEqual(runs.count, 3)
      assert.strictEqual(stored.email, user.email)
      assert.strictEqual(log.lines.length, 2)
      assert.match(log.lines[0] ?? "", /^retry 1 of 3 in 100 ms after: writing users failed: the database is locked/)
      assert.match(log.lines[1] ?? "", /^retry 2 of 3 in 200 ms after/)
    }).pipe(Effect.provide(lockTest)))

  it.scoped("retries=3 means at most 4 attempts, and no delay after the last", () =>
    Effect.gen(function*() {
      const repo = yield* UserRepo
      const raw = yield* rawConnection
      raw.exec("BEGIN IMMEDIATE")
      const { runs, effect } = counted(repo.insert(user))
      const fiber = yield* effect.pipe(retryOnFailure({ retries: 3, jitter: false }), Effect.fork)
      for (const delay of ["100 millis", "200 millis", "400 millis"] as const) {
        yield* untilSleeping
        yield* TestClock.adjust(delay)
      }
      const error = yield* Effect.flip(Fiber.join(fiber))
      raw.exec("ROLLBACK")
      assert.strictEqual(runs.count, 4)
      assert.instanceOf(error, DatabaseError)
      assert.deepStrictEqual(
        Chunk.toReadonlyArray(yield* TestClock.sleeps()),
        [],
        "nothing sleeps after the last attempt"
      )
    }).pipe(Effect.provide(lockTest)))

  it.scoped("does not retry a UNIQUE violation: one attempt, no delay", () =>
    Effect.gen(function*() {
      const repo = yield* UserRepo
      yield* repo.insert(user)
      const { runs, effect } = counted(repo.insert(user))
      const error = yield* Effect.flip(retryOnFailure(effect))
      assert.instanceOf(error, DuplicateEmail)
      assert.strictEqual(runs.count, 1)
      assert.strictEqual(Chunk.size(yield* TestClock.sleeps()), 0)
    }).pipe(Effect.provide(TestDatabase.layer())))

  it.scoped("does not retry a syntax error", () =>
    Effect.gen(function*() {
      const db = yield* SqliteDatabase
      const { runs, effect } = counted(db.withHandle((handle) => handle.prepare("SELEC 1").get()))
      yield* Effect.flip(retryOnFailure(effect))
      assert.strictEqual(runs.count, 1)
    }).pipe(Effect.provide(TestDatabase.layer())))

  it.scoped("retries a whole transaction whose COMMIT met a reader's lock", () =>
    Effect.gen(function*() {
      const repo = yield* UserRepo
      const raw = yield* rawConnection
      raw.exec("BEGIN")
      raw.prepare("SELECT count(*) FROM users").get()
      const { runs, effect } = counted(transactional(repo.insert(user)))
      const fiber = yield* effect.pipe(retryOnFailure({ jitter: false }), Effect.fork)
      yield* untilSleeping
      assert.strictEqual(runs.count, 1)
      assert.strictEqual(yield* repo.count, 0, "the failed attempt left nothing behind")
      raw.exec("COMMIT")
      yield* TestClock.adjust("100 millis")
      yield* Fiber.join(fiber)
      assert.strictEqual(runs.count, 2)
      assert.strictEqual(yield* repo.count, 1)
    }).pipe(Effect.provide(TestDatabase.layer({ connection: { busyTimeout: 0, journalMode: "delete" } }))))

  it.effect("jittered delays stay within 0.8-1.2 of the exponential ones and under maxDelay", () =>
    Effect.gen(function*() {
      const failures = counted(
        Effect.fail(new DatabaseError({ operation: "x", reason: "r", code: "SQLITE_BUSY", cause: 0 }))
      )
      const fiber = yield* failures.effect.pipe(
        retryOnFailure({ retries: 5, delay: "1 second", maxDelay: "3 seconds" }),
        Effect.fork
      )
      const delays: Array<number> = []
      for (let retry = 0; retry < 5; retry++) {
        yield* untilSleeping
        const wake = Chunk.unsafeHead(yield* TestClock.sleeps())
        const delay = wake - (yield* Clock.currentTimeMillis)
        delays.push(delay)
        yield* TestClock.adjust(delay)
      }
      yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(failures.runs.count, 6)
      const expected = [1000, 2000, 3000, 3000, 3000]
      assert.isTrue(delays.slice(0, 2).some((delay, i) => delay !== expected[i]), "jitter spreads the delays")
      delays.forEach((delay, i) => {
        const base = expected[i] ?? 0
        assert.isAtMost(delay, Math.min(base * 1.2, 3000) + 1e-6)
        assert.isAtLeast(delay, Math.min(base * 0.8, 3000) - 1)
      })
    }))
})
