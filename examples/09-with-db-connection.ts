/**
 * Exercise 9, `@with_db_connection`: a decorator that opens a connection, passes it to the function
 * and closes it in `finally`. dbscope's `withDbConnection(options)` gives the wrapped effect a
 * connection of its own (a scoped layer), opened before it runs and closed after it: on success, on
 * failure, and when it is interrupted, which a `finally` around a thread cannot promise.
 *
 * Run: npm run example -- 09
 */
import { NodeRuntime } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { UserRepo, withDbConnection } from "dbscope"
import { OpenResources } from "dbscope/testing"
import { Console, Deferred, Effect, Fiber, Logger, LogLevel, Option } from "effect"
import { sampleDatabase } from "./sample-database.js"

const openConnections = OpenResources.current("connection")

const program = (filename: string) =>
  Effect.gen(function*() {
    // `@with_db_connection def get_user_by_id(conn, user_id)` -- withDbConnection() alone reads DBSCOPE_DB.
    const getUserById = (id: number) =>
      UserRepo.pipe(
        Effect.flatMap((repo) => repo.byId(id)),
        Effect.provide(UserRepo.Default),
        withDbConnection({ filename })
      )
    const user = yield* getUserById(1)
    yield* Console.log(
      `get_user_by_id(user_id=1) -> ${Option.match(user, { onNone: () => "none", onSome: (u) => u.name })}`
    )
    yield* Console.log(`connections open afterwards: ${yield* openConnections}`)

    // A long job on its own connection, interrupted halfway (a timeout, Ctrl-C, a failed sibling...).
    const started = yield* Deferred.make<void>()
    const longJob = Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql`SELECT COUNT(*) FROM users`
      yield* Deferred.succeed(started, undefined)
      return yield* Effect.never
    }).pipe(withDbConnection({ filename }))
    const fiber = yield* Effect.forkScoped(longJob)
    yield* Deferred.await(started)
    yield* Console.log(`while the long job runs: ${yield* openConnections} connection open`)
    yield* Fiber.interrupt(fiber)
    yield* Console.log(`after interrupting it: ${yield* openConnections} connections open`)
  })

NodeRuntime.runMain(
  Effect.scoped(Effect.flatMap(sampleDatabase, program)).pipe(Logger.withMinimumLogLevel(LogLevel.Debug))
)
