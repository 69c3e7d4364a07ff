/**
 * Exercise 8, `@log_queries`: a decorator that prints the SQL before running the function. In
 * dbscope `logQueries()` wraps any effect and logs every statement it runs (in every fiber it
 * starts) as a structured log line: the SQL, its duration and row count. Bound values are hidden
 * unless `showParams` is set, and a `Redacted` value is never shown even then.
 *
 * Run: npm run example -- 08
 */
import { NodeRuntime } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { logQueries, SqliteDatabase, UserRepo } from "dbscope"
import { Console, Effect, Layer, Option, Redacted } from "effect"
import { sampleDatabase } from "./sample-database.js"

const program = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const repo = yield* UserRepo

  // `@log_queries def fetch_all_users(query)` -- the combinator goes around the effect instead.
  const users = yield* sql`SELECT * FROM users`.pipe(logQueries())
  yield* Console.log(`fetch_all_users(query="SELECT * FROM users") -> ${users.length} rows`)

  // Around a whole block: both statements are logged, their values hidden ("[1 hidden]").
  const [older, over100] = yield* Effect.all([repo.olderThan(40), repo.olderThan(100)]).pipe(logQueries())
  yield* Console.log(`olderThan(40) -> ${older.length} users, olderThan(100) -> ${over100.length} users`)

  // `showParams` shows values, except a `Redacted` one, which is bound as its contents but logged as <redacted>.
  const user = yield* repo.byId(2).pipe(logQueries({ showParams: true }))
  yield* Console.log(`byId(2) -> ${Option.match(user, { onNone: () => "none", onSome: (u) => u.name })}`)
  const email = Redacted.make("Edmund_Funk@gmail.com")
  const [found] = yield* sql<{ name: string }>`SELECT name FROM users WHERE email = ${email}`.pipe(
    logQueries({ showParams: true })
  )
  yield* Console.log(`user with a redacted e-mail -> ${found?.name}`)
})

NodeRuntime.runMain(
  Effect.gen(function*() {
    const filename = yield* sampleDatabase
    yield* program.pipe(Effect.provide(UserRepo.Default.pipe(Layer.provideMerge(SqliteDatabase.layer({ filename })))))
  }).pipe(Effect.scoped)
)
