/**
 * Exercise 4, a generator that yields users one by one from a cursor. In dbscope it is a `Stream`:
 * `UserStream.streamUsers()` reads keyset pages (`WHERE user_id > ? ORDER BY user_id LIMIT ?`) only
 * when the consumer pulls, so memory stays flat however many rows pass, and no connection or cursor
 * is held between pages. Stopping early leaves nothing open.
 *
 * Run: npm run example -- 04
 */
import { NodeRuntime } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { SqliteDatabase, UserRepo, UserStream } from "dbscope"
import { OpenResources } from "dbscope/testing"
import { Console, Effect, Layer, Stream } from "effect"
import { sampleDatabase } from "./sample-database.js"

const program = Effect.gen(function*() {
  // `for user in islice(stream_users(), 3): print(user)` -- only the first page is ever read.
  yield* UserStream.streamUsers().pipe(
    Stream.take(3),
    Stream.runForEach((user) => Console.log(`${user.user_id} ${user.name} <${user.email}> ${user.age}`))
  )

  // The whole table, one user at a time: what is counted is never collected into an array.
  const total = yield* Stream.runCount(UserStream.streamUsers())
  const gmail = yield* UserStream.streamUsers().pipe(
    Stream.filter((user) => user.email.endsWith("@gmail.com")),
    Stream.runCount
  )
  yield* Console.log(`streamed ${total} users, ${gmail} of them at gmail.com`)

  // The other way: one statement iterated lazily by `sql...stream`. Stopping after one row closes
  // the cursor at once; a Python generator left unfinished keeps its cursor until it is collected.
  const sql = yield* SqlClient.SqlClient
  const [first] = yield* sql<{ name: string }>`SELECT name FROM users ORDER BY user_id`.stream.pipe(
    Stream.take(1),
    Stream.runCollect
  )
  yield* Console.log(`sql.stream, first row: ${first?.name}`)
  yield* Console.log(`cursors still open: ${yield* OpenResources.current("iterator")}`)
})

NodeRuntime.runMain(
  Effect.gen(function*() {
    const filename = yield* sampleDatabase
    yield* program.pipe(Effect.provide(UserRepo.Default.pipe(Layer.provideMerge(SqliteDatabase.layer({ filename })))))
  }).pipe(Effect.scoped)
)
