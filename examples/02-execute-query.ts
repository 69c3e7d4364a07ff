/**
 * Exercise 2, `ExecuteQuery`: a context manager that takes a query and its parameters, runs it on
 * a connection of its own and returns the rows. dbscope's `executeQuery(sql, params)` binds every
 * parameter (never formats it into the SQL), is read-only unless asked to write, and fails with
 * typed errors. `UserRepo` is the same query with validated arguments and schema-checked rows.
 *
 * Run: npm run example -- 02
 */
import { NodeRuntime } from "@effect/platform-node"
import { executeQuery, SqliteDatabase, UserRepo } from "dbscope"
import { Console, Effect, Layer } from "effect"
import { sampleDatabase } from "./sample-database.js"

const program = Effect.gen(function*() {
  // `with ExecuteQuery("SELECT * FROM users WHERE age > ?", (25,)) as results:`
  const results = yield* executeQuery("SELECT * FROM users WHERE age > ?", [25])
  yield* Console.log(`SELECT * FROM users WHERE age > ? with [25] -> ${results.length} rows`)

  // Read-only by default: the connection itself refuses the write, and nothing changes.
  const refused = yield* executeQuery("DELETE FROM users").pipe(Effect.flip)
  const [count] = yield* executeQuery("SELECT COUNT(*) AS n FROM users")
  yield* Console.log(`DELETE FROM users -> ${refused._tag}; users left: ${count?.n}`)

  // A mistake in the SQL is a `QueryError` that says what is wrong.
  const wrong = yield* executeQuery("SELECT * FROM userz").pipe(Effect.flip)
  yield* Console.log(`SELECT * FROM userz -> ${wrong._tag}: ${wrong.message}`)

  // The repository: the age is checked before any SQL runs, the rows are typed `User`s.
  const repo = yield* UserRepo
  const older = yield* repo.olderThan(25)
  yield* Console.log(`UserRepo.olderThan(25) -> ${older.length} users, the first: ${older[0]?.name}`)
  const invalid = yield* repo.olderThan(200).pipe(Effect.flip)
  yield* Console.log(`UserRepo.olderThan(200) -> ${invalid._tag}: ${invalid.message}`)
})

NodeRuntime.runMain(
  Effect.gen(function*() {
    const filename = yield* sampleDatabase
    yield* program.pipe(Effect.provide(UserRepo.Default.pipe(Layer.provideMerge(SqliteDatabase.layer({ filename })))))
  }).pipe(Effect.scoped)
)
