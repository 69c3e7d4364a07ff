import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as fs from "node:fs"
import * as path from "node:path"
import { PreparedQueries } from "../../src/client/PreparedQueries.js"
import * as SqliteDatabase from "../../src/client/SqliteDatabase.js"
import * as OpenResources from "../../src/OpenResources.js"
import { tempDirectory } from "../../src/testing/TestDatabase.js"
import { openDescriptors } from "../support/OpenFiles.js"

const openCount = OpenResources.current("connection")

/** Runs `use` with a connection to `file`, returning the exit and the open-connection counts seen. */
const withConnection = <A, E>(file: string, use: Effect.Effect<A, E, SqlClient.SqlClient>) =>
  Effect.gen(function*() {
    const before = yield* openCount
    const exit = yield* Effect.exit(Effect.provide(use, SqliteDatabase.layer({ filename: file })))
    return { exit, before, after: yield* openCount, descriptors: openDescriptors(file) }
  })

const query = Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT 1 AS one`)

describe("SqliteDatabase", () => {
  it.scoped("closes the connection after success", () =>
    Effect.gen(function*() {
      const file = path.join(yield* tempDirectory, "ok.db")
      const seen = yield* withConnection(
        file,
        Effect.zip(query, Effect.sync(() => openDescriptors(file)))
      )
      assert.isTrue(Exit.isSuccess(seen.exit))
      if (Exit.isSuccess(seen.exit)) assert.isAbove(seen.exit.value[1], 0, "the file was open while in use")
      assert.strictEqual(seen.after, seen.before)
      assert.strictEqual(seen.descriptors, 0)
    }))

  it.scoped("closes the connection after a failure", () =>
    Effect.gen(function*() {
      const file = path.join(yield* tempDirectory, "fail.db")
      const seen = yield* withConnection(file, Effect.zipRight(query, Effect.fail("boom" as const)))
      assert.deepStrictEqual(seen.exit, Exit.fail("boom"))
      assert.strictEqual(seen.after, seen.before)
      assert.strictEqual(seen.descriptors, 0)
    }))

  it.scoped("closes the connection after a defect", () =>
    Effect.gen(function*() {
      const file = path.join(yield* tempDirectory, "die.db")
      const seen = yield* withConnection(file, Effect.zipRight(query, Effect.dieMessage("bug")))
      assert.isTrue(Exit.isFailure(seen.exit))
      assert.strictEqual(seen.after, seen.before)
      assert.strictEqual(seen.descriptors, 0)
    }))

  it.scoped("closes the connection when interrupted mid-use", () =>
    Effect.gen(function*() {
      const file = path.join(yield* tempDirectory, "interrupt.db")
      const before = yield* openCount
      const started = yield* Deferred.make<void>()
      const fiber = yield* Effect.fork(
        Effect.provide(
          Effect.zipRight(Effect.zipRight(query, Deferred.succeed(started, undefined)), Effect.never),
          SqliteDatabase.layer({ filename: file })
        )
      )
      yield* Deferred.await(started)
      assert.strictEqual(yield* openCount, before + 1)
      assert.isAbove(openDescriptors(file), 0)
      yield* Fiber.interrupt(fiber)
      assert.strictEqual(yield* openCount, before)
      assert.strictEqual(openDescriptors(file), 0)
    }))

  it.scoped("sets WAL, busy timeout, foreign keys and synchronous=NORMAL", () =>
    Effect.gen(function*() {
      const file = path.join(yield* tempDirectory, "pragmas.db")
      const pragmas = yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const read = (name: string) =>
          Effect.map(sql.unsafe(`PRAGMA ${name}`), (rows) => Object.values(rows[0] ?? {})[0])
        return {
          journal: yield* read("journal_mode"),
          busy: yield* read("busy_timeout"),
          foreignKeys: yield* read("foreign_keys"),
          synchronous: yield* read("synchronous")
        }
      }).pipe(Effect.provide(SqliteDatabase.layer({ filename: file, busyTimeout: "1234 millis" })))
      assert.deepStrictEqual(pragmas, { journal: "wal", busy: 1234, foreignKeys: 1, synchronous: 1 })
    }))

  it.scoped("busy timeout defaults to 5000 ms", () =>
    Effect.gen(function*() {
      const file = path.join(yield* tempDirectory, "default.db")
      const rows = yield* Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe("PRAGMA busy_timeout")).pipe(
        Effect.provide(SqliteDatabase.layer({ filename: file }))
      )
      assert.deepStrictEqual(Object.values(rows[0] ?? {}), [5000])
    }))

  it.scoped("creates the parent folder and a 0600 database file (and 0600 WAL companions)", () =>
    Effect.gen(function*() {
      const dir = yield* tempDirectory
      const file = path.join(dir, "nested", "deeper", "new.db")
      const modes = yield* Effect.flatMap(SqlClient.SqlClient, (sql) =>
        Effect.as(
          sql`CREATE TABLE t (x INTEGER)`,
          [file, `${file}-wal`, `${file}-shm`].map((f) => fs.statSync(f).mode & 0o777)
        )).pipe(Effect.provide(SqliteDatabase.layer({ filename: file })))
      assert.deepStrictEqual(modes, [0o600, 0o600, 0o600])
    }))

  it.scoped("a missing file is a typed error when creation is not allowed, and nothing is created", () =>
    Effect.gen(function*() {
      const file = path.join(yield* tempDirectory, "missing.db")
      const error = yield* Effect.flip(Layer.build(SqliteDatabase.layer({ filename: file, create: false })))
      assert.strictEqual(error._tag, "DatabaseFileError")
      assert.include(error.message, "no such file")
      assert.isFalse(fs.existsSync(file))
    }))

  it.scoped("a directory, a non-SQLite file and a truncated header are typed errors, left unchanged", () =>
    Effect.gen(function*() {
      const dir = yield* tempDirectory
      const text = path.join(dir, "notes.txt")
      fs.writeFileSync(text, "hello, this is not a database at all\n")
      const short = path.join(dir, "short.db")
      fs.writeFileSync(short, "SQLite")
      for (
        const [file, reason] of [[dir, "directory"], [text, "not a SQLite database"], [short, "not a SQLite"]] as const
      ) {
        const before = fs.statSync(file).isFile() ? fs.readFileSync(file) : undefined
        const error = yield* Effect.flip(Layer.build(SqliteDatabase.layer({ filename: file })))
        assert.strictEqual(error._tag, "DatabaseFileError")
        assert.include(error.message, reason)
        if (before !== undefined) assert.isTrue(fs.readFileSync(file).equals(before))
      }
      assert.strictEqual(yield* openCount, 0)
    }))

  it.scoped("a corrupt database file is a typed error", () =>
    Effect.gen(function*() {
      const file = path.join(yield* tempDirectory, "corrupt.db")
      const header = Buffer.from("SQLite format 3\0", "latin1")
      fs.writeFileSync(file, Buffer.concat([header, Buffer.alloc(4096, 0xab)]))
      const error = yield* Effect.flip(Layer.build(SqliteDatabase.layer({ filename: file })))
      assert.strictEqual(error._tag, "DatabaseFileError")
      assert.include(error.message, "corrupt")
    }))

  it.scoped("an empty file becomes a database", () =>
    Effect.gen(function*() {
      const file = path.join(yield* tempDirectory, "empty.db")
      fs.writeFileSync(file, "")
      const rows = yield* Effect.provide(query, SqliteDatabase.layer({ filename: file }))
      assert.deepStrictEqual(rows, [{ one: 1 }])
    }))

  it.scoped("a transaction sees its own writes and rolls back on failure", () =>
    Effect.gen(function*() {
      const file = path.join(yield* tempDirectory, "tx.db")
      const counts = yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* sql`CREATE TABLE t (x INTEGER)`
        const inside = yield* sql.withTransaction(
          Effect.zipRight(sql`INSERT INTO t VALUES (1)`, sql<{ n: number }>`SELECT COUNT(*) AS n FROM t`)
        )
        yield* Effect.exit(sql.withTransaction(Effect.zipRight(sql`INSERT INTO t VALUES (2)`, Effect.fail("no"))))
        const after = yield* sql<{ n: number }>`SELECT COUNT(*) AS n FROM t`
        return [inside[0]?.n, after[0]?.n]
      }).pipe(Effect.provide(SqliteDatabase.layer({ filename: file })))
      assert.deepStrictEqual(counts, [1, 1])
    }))

  it.scoped("a transaction waiting for the connection can be interrupted at once, and holds nothing", () =>
    Effect.gen(function*() {
      const file = path.join(yield* tempDirectory, "wait.db")
      const result = yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const holding = yield* Deferred.make<void>()
        const release = yield* Deferred.make<void>()
        const first = yield* Effect.fork(
          sql.withTransaction(Effect.zipRight(Deferred.succeed(holding, undefined), Deferred.await(release)))
        )
        yield* Deferred.await(holding)
        const waiting = yield* Effect.fork(sql.withTransaction(sql`SELECT 1`))
        yield* Effect.yieldNow()
        // Returns only once the waiting transaction has stopped: it must not wait for the first.
        const interrupted = yield* Fiber.interrupt(waiting)
        yield* Deferred.succeed(release, undefined)
        yield* Fiber.join(first)
        const [row] = yield* sql.withTransaction(sql<{ one: number }>`SELECT 1 AS one`)
        return {
          interrupted: Exit.isInterrupted(interrupted),
          after: row?.one,
          open: yield* OpenResources.current("transaction")
        }
      }).pipe(Effect.provide(SqliteDatabase.layer({ filename: file })))
      assert.deepStrictEqual(result, { interrupted: true, after: 1, open: 0 })
    }))

  it.scoped("concurrent statements from many fibers all run, one at a time, on one connection", () =>
    Effect.gen(function*() {
      const file = path.join(yield* tempDirectory, "fibers.db")
      const total = yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* sql`CREATE TABLE t (x INTEGER)`
        yield* Effect.forEach(
          Array.from({ length: 50 }, (_, i) => i),
          (i) =>
            sql.withTransaction(Effect.zipRight(sql`INSERT INTO t VALUES (${i})`, sql`INSERT INTO t VALUES (${i})`)),
          { concurrency: "unbounded", discard: true }
        )
        return yield* sql<{ n: number }>`SELECT COUNT(*) AS n FROM t`
      }).pipe(Effect.provide(SqliteDatabase.layer({ filename: file })))
      assert.deepStrictEqual(total, [{ n: 100 }])
    }))

  it.scoped("sql.stream yields rows and frees the connection when cut short", () =>
    Effect.gen(function*() {
      const file = path.join(yield* tempDirectory, "stream.db")
      const [firstThree, afterwards] = yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* sql`CREATE TABLE t (x INTEGER)`
        yield* sql`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
                   INSERT INTO t SELECT i FROM n`
        const firstThree = yield* Stream.runCollect(
          Stream.take(sql<{ x: number }>`SELECT x FROM t ORDER BY x`.stream, 3)
        )
        // The connection is free again: a write goes through.
        yield* sql`INSERT INTO t VALUES (0)`
        return [Array.from(firstThree).map((row) => row.x), yield* sql<{ n: number }>`SELECT COUNT(*) AS n FROM t`]
      }).pipe(Effect.provide(SqliteDatabase.layer({ filename: file })))
      assert.deepStrictEqual(firstThree, [1, 2, 3])
      assert.deepStrictEqual(afterwards, [{ n: 5001 }])
    }))

  it.scoped("nested transactions: inner success kept, caught inner failure rolled back alone, outer failure undoes all", () =>
    Effect.gen(function*() {
      const file = path.join(yield* tempDirectory, "nested.db")
      const result = yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* sql`CREATE TABLE t (x INTEGER)`
        const values = sql<{ x: number }>`SELECT x FROM t ORDER BY x`
        yield* sql.withTransaction(Effect.gen(function*() {
          yield* sql`INSERT INTO t VALUES (1)`
          // Many sibling savepoints, each committed: all their rows stay.
          for (let i = 0; i < 300; i++) yield* sql.withTransaction(sql`INSERT INTO t VALUES (${100 + i})`)
          yield* sql.withTransaction(Effect.zipRight(sql`INSERT INTO t VALUES (2)`, sql`INSERT INTO t VALUES (3)`))
          yield* Effect.exit(sql.withTransaction(Effect.zipRight(sql`INSERT INTO t VALUES (4)`, Effect.fail("inner"))))
          yield* sql.withTransaction(Effect.gen(function*() {
            yield* sql`INSERT INTO t VALUES (5)`
            yield* Effect.exit(sql.withTransaction(Effect.zipRight(sql`INSERT INTO t VALUES (6)`, Effect.fail("deep"))))
            yield* sql.withTransaction(sql`INSERT INTO t VALUES (7)`)
          }))
        }))
        const kept = (yield* values).map((row) => row.x)
        yield* Effect.exit(sql.withTransaction(Effect.gen(function*() {
          yield* sql.withTransaction(sql`INSERT INTO t VALUES (8)`)
          return yield* Effect.fail("outer")
        })))
        return { kept, after: (yield* values).length }
      }).pipe(Effect.provide(SqliteDatabase.layer({ filename: file })))
      assert.deepStrictEqual(result.kept.filter((x) => x < 100), [1, 2, 3, 5, 7])
      assert.strictEqual(result.kept.length, 305)
      assert.strictEqual(result.after, 305)
    }))

  it.scoped("a prepared lookup waits for another fiber's open transaction instead of reading inside it", () =>
    Effect.gen(function*() {
      const file = path.join(yield* tempDirectory, "prepared.db")
      const seen = yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const prepared = yield* PreparedQueries
        const lookup = prepared.prepare("SELECT x FROM t WHERE x = ?")
        yield* sql`CREATE TABLE t (x INTEGER)`
        const inserted = yield* Deferred.make<void>()
        const gate = yield* Deferred.make<void>()
        const writer = yield* Effect.fork(sql.withTransaction(Effect.gen(function*() {
          yield* sql`INSERT INTO t VALUES (42)`
          const own = yield* lookup([42]) // inside the transaction: sees its own write
          yield* Deferred.succeed(inserted, undefined)
          yield* Deferred.await(gate)
          return own
        })))
        yield* Deferred.await(inserted)
        const reader = yield* Effect.fork(lookup([42]))
        yield* Effect.yieldNow()
        const whileOpen = yield* Fiber.poll(reader)
        yield* Deferred.succeed(gate, undefined)
        const own = yield* Fiber.join(writer)
        return { own, whileOpen: whileOpen._tag, after: yield* Fiber.join(reader) }
      }).pipe(Effect.provide(SqliteDatabase.layer({ filename: file })))
      assert.deepStrictEqual(seen, { own: [{ x: 42 }], whileOpen: "None", after: [{ x: 42 }] })
    }))
})
