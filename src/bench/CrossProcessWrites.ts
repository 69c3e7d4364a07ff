/**
 * How soon a write that another OS process commits reaches a result cached by `cacheQuery` in this
 * one. Each trial: the cached read is primed, a fresh Node process (the suite entry's `commit-*`
 * probe) inserts one user and reports when its COMMIT returned, and meanwhile this process calls
 * the cached read every ~1 ms until it serves the new row. The time from the commit (the writer's
 * clock) to the first fresh answer (this process's clock; both `performance.timeOrigin +
 * performance.now()`, the machine's clock) is what a reader waits for another process's write:
 * on PostgreSQL the trigger's `NOTIFY` reaching the listening connection, on SQLite the next
 * `PRAGMA data_version`; then the read of the fresh result, timed apart.
 */
import * as Console from "effect/Console"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { performance } from "node:perf_hooks"
import * as CacheQuery from "../combinators/CacheQuery.js"
import { UserRepo } from "../users/UserRepo.js"
import { withRaw } from "./BenchDatabase.js"
import { withConnection } from "./PostgresServer.js"

/** How long the reader waits between two calls of the cached read. */
export const pollEvery = Duration.millis(1)

/** A trial whose write is not seen by then has failed: the cache would serve the old result forever. */
const seenWithin = Duration.seconds(30)

/** What a writer process reports. */
export const Committed = Schema.Struct({
  /** When its COMMIT returned, in ms since the epoch (`performance.timeOrigin + performance.now()`). */
  committedAt: Schema.Number,
  /** CPU time (ms) of the whole writer process, so the parent can count it as its own. */
  cpu: Schema.Number
})
export type Committed = typeof Committed.Type

/** The row a writer inserts: an e-mail address no other writer uses. */
const newRow = () => ["Cross Process", `commit-${process.pid}-${Date.now()}@dbscope.invalid`, 30]

/** Now, on the clock both processes share. */
const now = () => performance.timeOrigin + performance.now()

/** What the writer process reports, once it has committed. */
const committed = (committedAt: number): Committed => {
  const usage = process.resourceUsage()
  return { committedAt, cpu: (usage.userCPUTime + usage.systemCPUTime) / 1000 }
}

/** The SQLite writer: one INSERT (its own transaction) on a connection of its own to `file`. */
export const sqliteCommit = (file: string) =>
  Effect.sync(() =>
    withRaw(file, (db) => {
      db.prepare("INSERT INTO users (name, email, age) VALUES (?, ?, ?)").run(...newRow())
      return committed(now())
    })
  )

/** The PostgreSQL writer: `BEGIN`, one INSERT, `COMMIT` on a plain pg connection of its own to `url`. */
export const postgresCommit = (url: Redacted.Redacted<string>) =>
  Effect.map(
    withConnection(url, async (client) => {
      await client.query("BEGIN")
      await client.query("INSERT INTO users (name, email, age) VALUES ($1, $2, $3)", newRow())
      await client.query("COMMIT")
      return now()
    }),
    committed
  )

/**
 * The number of users after `afterId` (the last synthetic user), read through `cacheQuery`: a
 * keyset page on the primary key, so that the trial times the invalidation, not a table scan.
 */
export const cachedNewRows = (afterId: number) =>
  Effect.flatMap(UserRepo, (repo) => repo.pageAfter(afterId, 1000)).pipe(
    CacheQuery.cacheQuery({ key: ["crossProcessWrites", afterId] }),
    Effect.map((users) => users.length)
  )

/** Calls `read` every `pollEvery` until it no longer gives `before`; when that answer came, and its read's time. */
const firstChange = <E, R>(read: Effect.Effect<number, E, R>, before: number) =>
  Effect.gen(function*() {
    for (;;) {
      const start = performance.now()
      const value = yield* read
      const end = performance.now()
      if (value !== before) return { value, at: performance.timeOrigin + end, readMs: end - start }
      yield* Effect.sleep(pollEvery)
    }
  }).pipe(
    Effect.timeoutFail({
      duration: seenWithin,
      onTimeout: () => new Error(`the cached read still served the old result ${Duration.format(seenWithin)} later`)
    })
  )

/** One trial's times (ms). */
export interface Trial {
  /** From the writer's COMMIT returning to the first fresh answer. */
  readonly seen: number
  /** Of which the read that brought the fresh answer (the cache's miss). */
  readonly read: number
}

/**
 * `trials` trials of `write` (a fresh writer process) against the cached `read` (the rows it
 * sees: one more after each write); the cache's hits and misses meanwhile. Fails if a write is
 * not seen, or seen as anything but one more row.
 */
export const measureTrials = <E, R>(
  label: string,
  trials: number,
  read: Effect.Effect<number, E, R>,
  write: Effect.Effect<Committed, unknown>
) =>
  Effect.gen(function*() {
    const statsBefore = yield* CacheQuery.stats
    const times: Array<Trial> = []
    for (let trial = 0; trial < trials; trial++) {
      yield* Console.error(`  ${label}: trial ${trial + 1}/${trials} (fresh writer process)`)
      const before = yield* read
      const [seen, written] = yield* Effect.all([firstChange(read, before), write], { concurrency: "unbounded" })
      if (seen.value !== before + 1) {
        return yield* Effect.dieMessage(
          `${label}: after one insert the cached read gave ${seen.value}, not ${before + 1}`
        )
      }
      times.push({ seen: seen.at - written.committedAt, read: seen.readMs })
    }
    const statsAfter = yield* CacheQuery.stats
    return {
      times,
      hits: statsAfter.hits - statsBefore.hits,
      misses: statsAfter.misses - statsBefore.misses
    }
  })
