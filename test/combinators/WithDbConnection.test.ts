import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as path from "node:path"
import { withDbConnection } from "../../src/combinators/WithDbConnection.js"
import * as OpenResources from "../../src/OpenResources.js"
import { tempDirectory } from "../../src/testing/TestDatabase.js"
import { openDescriptors } from "../support/OpenFiles.js"

const openCount = OpenResources.current("connection")

const createNotes = Effect.flatMap(SqlClient.SqlClient, (sql) => sql`CREATE TABLE notes (body TEXT)`)

describe("withDbConnection", () => {
  it.scoped("gives the effect its own connection to the file, closed after success", () =>
    Effect.gen(function*() {
      const file = path.join(yield* tempDirectory, "notes.db")
      const before = yield* openCount
      const during = yield* Effect.zipRight(createNotes, openCount).pipe(withDbConnection({ filename: file }))
      assert.strictEqual(during, before + 1)
      assert.strictEqual(yield* openCount, before)
      assert.strictEqual(openDescriptors(file), 0)
      const tables = yield* Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT name FROM sqlite_schema`).pipe(
        withDbConnection({ filename: file })
      )
      assert.deepStrictEqual(tables, [{ name: "notes" }])
    }))

  it.scoped("closes the connection after a failure", () =>
    Effect.gen(function*() {
      const file = path.join(yield* tempDirectory, "fail.db")
      const before = yield* openCount
      const exit = yield* Effect.exit(
        Effect.zipRight(createNotes, Effect.fail("boom" as const)).pipe(withDbConnection({ filename: file }))
      )
      assert.deepStrictEqual(exit, Exit.fail("boom"))
      assert.strictEqual(yield* openCount, before)
      assert.strictEqual(openDescriptors(file), 0)
    }))

  it.scoped("closes the connection after an interruption", () =>
    Effect.gen(function*() {
      const file = path.join(yield* tempDirectory, "interrupt.db")
      const before = yield* openCount
      const opened = yield* Deferred.make<void>()
      const fiber = yield* createNotes.pipe(
        Effect.zipRight(Deferred.succeed(opened, undefined)),
        Effect.zipRight(Effect.never),
        withDbConnection({ filename: file }),
        Effect.fork
      )
      yield* Deferred.await(opened)
      assert.strictEqual(yield* openCount, before + 1)
      yield* Fiber.interrupt(fiber)
      assert.strictEqual(yield* openCount, before)
      assert.strictEqual(openDescriptors(file), 0)
    }))

  it.scoped("a file that cannot be used is a typed error, and nothing stays open", () =>
    Effect.gen(function*() {
      const dir = yield* tempDirectory
      const before = yield* openCount
      const error = yield* Effect.flip(createNotes.pipe(withDbConnection({ filename: dir, create: false })))
      assert.strictEqual(error._tag, "DatabaseFileError")
      assert.strictEqual(yield* openCount, before)
    }))
})
