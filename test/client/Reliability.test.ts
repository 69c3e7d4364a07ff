/**
 * What must hold when processes die or compete: a process killed (`kill -9`) in the middle of a
 * long import leaves a database that passes `PRAGMA integrity_check` with the import all there or
 * not there at all; two processes writing one file at the same time lose and duplicate nothing.
 * `npm test` runs small counts; `npm run test:soak` (DBSCOPE_SOAK=1) runs the full ones.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as path from "node:path"
import { sampleCsv } from "../../src/BundledData.js"
import * as SqliteDatabase from "../../src/client/SqliteDatabase.js"
import { tempDirectory } from "../../src/testing/TestDatabase.js"
import * as Progress from "../../src/users/Progress.js"
import { setup } from "../../src/users/Setup.js"
import { UserRepo } from "../../src/users/UserRepo.js"
import { built, runScript } from "../support/RunCli.js"

const soak = process.env.DBSCOPE_SOAK === "1"
const counts = {
  writers: soak ? 10_000 : 1_000,
  crashes: soak ? 20 : 5,
  importRows: soak ? 1_000_000 : 100_000
}

const child = built("scripts/reliability-child.js")

/** Runs the child program; `killAtRows` sends it SIGKILL once it reports that many rows written. */
const runChild = (args: ReadonlyArray<string>, killAtRows?: number) =>
  runScript(child, args, {
    // Long enough for the soak counts on a loaded 2-core machine.
    timeout: 1_200_000,
    killWhen: killAtRows === undefined ?
      undefined :
      (stdout) =>
        Array.from(stdout.matchAll(/rows (\d+)/g), (match) => Number(match[1])).some((rows) => rows >= killAtRows)
  })

const database = (filename: string) =>
  UserRepo.Default.pipe(Layer.provideMerge(SqliteDatabase.layer({ filename })), Layer.merge(Progress.layerSilent))

/** A migrated database file, with the sample when asked; closed before the children open it. */
const freshFile = (sample: boolean) =>
  Effect.gen(function*() {
    const filename = path.join(yield* tempDirectory, "shared.db")
    yield* setup({ csv: sample ? sampleCsv : undefined }).pipe(Effect.provide(database(filename)))
    return filename
  })

/** What the file holds now, read through a fresh connection that also proves it still works. */
const inspect = (filename: string) =>
  Effect.gen(function*() {
    const db = yield* SqliteDatabase.SqliteDatabase
    const repo = yield* UserRepo
    const integrity = yield* db.withHandle((handle) => handle.pragma("integrity_check", { simple: true }))
    const users = yield* repo.count
    const [emails] = yield* db.withHandle((handle) =>
      handle.prepare("SELECT COUNT(DISTINCT email) AS distinct_emails FROM users").all() as Array<
        { readonly distinct_emails: number }
      >
    )
    // It still takes writes.
    const stored = yield* repo.insert({ name: "After", email: `after-${users}@check.invalid`, age: 1 })
    yield* db.withHandle((handle) => handle.prepare("DELETE FROM users WHERE user_id = ?").run(stored.user_id))
    return { integrity, users, distinctEmails: emails?.distinct_emails ?? -1 }
  }).pipe(Effect.provide(database(filename)))

describe("reliability", () => {
  it.scopedLive(
    `two processes insert ${counts.writers} rows each into one file at once: none lost, none duplicated`,
    () =>
      Effect.gen(function*() {
        const filename = yield* freshFile(false)
        const [a, b] = yield* Effect.all([
          runChild(["insert", filename, String(counts.writers), "a"]),
          runChild(["insert", filename, String(counts.writers), "b"])
        ], { concurrency: "unbounded" })
        assert.deepStrictEqual([a.code, b.code], [0, 0], `${a.stderr}${b.stderr}`)
        assert.strictEqual(a.stderr + b.stderr, "", "no unhandled BUSY (or anything else)")
        const seen = yield* inspect(filename)
        assert.strictEqual(seen.integrity, "ok")
        assert.strictEqual(seen.users, 2 * counts.writers, "no write lost")
        assert.strictEqual(seen.distinctEmails, 2 * counts.writers, "no write duplicated")
        console.info(`concurrent writers: ${2 * counts.writers} inserts attempted, ${seen.users} stored, 0 lost`)
      }),
    600_000
  )

  it.scopedLive(
    `kill -9 during a ${counts.importRows}-row import, ${counts.crashes} times: intact, all or nothing`,
    () =>
      Effect.gen(function*() {
        const filename = yield* freshFile(true)
        let users = (yield* inspect(filename)).users
        const outcomes = { rolledBack: 0, committed: 0, finished: 0 }
        for (let run = 0; run < counts.crashes; run++) {
          // Killed once the child reports a random number of rows written: mostly mid-transaction,
          // and when the pick is the last batch, during or just after the commit.
          const killAtRows = 1 + Math.floor(Math.random() * counts.importRows)
          const ran = yield* runChild(["import", filename, String(counts.importRows)], killAtRows)
          if (ran.signal !== "SIGKILL") assert.strictEqual(ran.code, 0, ran.stderr)
          const seen = yield* inspect(filename)
          const context = `run ${run}, killed at ${killAtRows} rows`
          assert.strictEqual(seen.integrity, "ok", context)
          assert.include([users, users + counts.importRows], seen.users, `${context}: all or nothing`)
          assert.strictEqual(seen.distinctEmails, seen.users)
          if (ran.signal !== "SIGKILL") outcomes.finished++
          else if (seen.users === users) outcomes.rolledBack++
          else outcomes.committed++
          users = seen.users
        }
        assert.isAbove(outcomes.rolledBack, 0, "at least one run was killed mid-transaction")
        console.info(
          `crash consistency: ${counts.crashes} runs, ${outcomes.rolledBack + outcomes.committed} killed by SIGKILL ` +
            `(${outcomes.rolledBack} mid-transaction: nothing kept; ${outcomes.committed} after the commit: all kept), ` +
            `${outcomes.finished} finished first; integrity ok and all-or-nothing every time`
        )
      }),
    1_800_000
  )
})
