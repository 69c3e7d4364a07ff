/**
 * Exercise 6, `paginate_users(page_size, offset)` + `lazy_paginate(page_size)`: a generator that
 * fetches the next page only when it is needed. dbscope pages by key instead of by OFFSET
 * (`WHERE user_id > ? ... LIMIT ?`): every page costs the same however deep the walk, where OFFSET
 * re-reads and skips all earlier rows. The page size is bound as a parameter, never put in the SQL text.
 *
 * Run: npm run example -- 06
 */
import { NodeRuntime } from "@effect/platform-node"
import { logQueries, SqliteDatabase, type User, UserRepo, UserStream } from "dbscope"
import { Chunk, Console, Effect, Layer, Option, Stream } from "effect"
import { sampleDatabase } from "./sample-database.js"

const range = (users: ReadonlyArray<User.User>) => `users ${users[0]?.user_id}..${users.at(-1)?.user_id}`

const program = Effect.gen(function*() {
  // `paginate_users(100, 0)`: one page, and the cursor of the next one (the last id seen).
  const first = yield* UserStream.paginateUsers(100)
  yield* Console.log(`page 1: ${range(first.users)}, next cursor: ${Option.getOrElse(first.next, () => "none")}`)
  if (Option.isSome(first.next)) {
    const second = yield* UserStream.paginateUsers(100, first.next.value)
    yield* Console.log(`page 2: ${range(second.users)}, first: ${second.users[0]?.name}`)
  }

  // `for page in lazy_paginate(100)`: the stream ends at the first empty page.
  const pages = yield* Stream.runCollect(UserStream.lazyPaginate(100))
  const sizes = new Set(Chunk.map(pages, (page) => page.length))
  yield* Console.log(`lazyPaginate(100) -> ${Chunk.size(pages)} pages of ${[...sizes].join(", ")} users`)

  // Pages are fetched when pulled: taking two pages runs two page queries, not ten (see the log).
  const two = yield* UserStream.lazyPaginate(100).pipe(Stream.take(2), Stream.runCollect, logQueries())
  yield* Console.log(`the first 2 pages: ${Chunk.join(Chunk.map(two, range), "; ")}`)
})

NodeRuntime.runMain(
  Effect.gen(function*() {
    const filename = yield* sampleDatabase
    yield* program.pipe(Effect.provide(UserRepo.Default.pipe(Layer.provideMerge(SqliteDatabase.layer({ filename })))))
  }).pipe(Effect.scoped)
)
