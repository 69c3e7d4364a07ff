/**
 * Exercise 1, `DatabaseConnection`: a class-based context manager that opens a connection in
 * `__enter__` and closes it in `__exit__`. In dbscope the connection is a scoped `Layer`: opened when
 * the layer is built, closed when it is released, on success, failure and interruption alike.
 *
 * Run: npm run example -- 01
 */
import { NodeRuntime } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { SqliteDatabase, type User } from "dbscope"
import { OpenResources } from "dbscope/testing"
import { Console, Effect, Logger, LogLevel } from "effect"
import { sampleDatabase } from "./sample-database.js"

const program = Effect.gen(function*() {
  const filename = yield* sampleDatabase

  // `with DatabaseConnection("users.db") as conn:` -- the block is the effect the layer is provided to.
  yield* Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const users = yield* sql<User.User>`SELECT * FROM users`
    yield* Console.log(`SELECT * FROM users -> ${users.length} rows`)
    for (const user of users.slice(0, 2)) {
      yield* Console.log(`(${user.user_id}, ${user.name}, ${user.email}, ${user.age})`)
    }
  }).pipe(Effect.provide(SqliteDatabase.layer({ filename })))

  // A failing block: the error comes back as a value, and the connection is closed all the same.
  const failure = yield* Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return yield* sql`SELECT * FROM no_such_table`
  }).pipe(Effect.provide(SqliteDatabase.layer({ filename })), Effect.flip)
  yield* Console.log(`a failing query -> ${failure._tag}, and its connection was closed too`)

  // A missing file is a typed `DatabaseFileError` when the layer is built, not an exception later.
  const missing = yield* Effect.void.pipe(
    Effect.provide(SqliteDatabase.layer({ filename: `${filename}.missing`, create: false })),
    Effect.flip
  )
  yield* Console.log(`opening a missing file with create: false -> ${missing._tag}`)

  // dbscope counts what it holds open: every connection above has been released.
  yield* Console.log(`connections still open: ${yield* OpenResources.current("connection")}`)
})

// dbscope logs each open and close at debug level (a library is quiet unless asked): shown here.
NodeRuntime.runMain(Effect.scoped(program).pipe(Logger.withMinimumLogLevel(LogLevel.Debug)))
