/**
 * Exercise 5, `stream_users_in_batches(n)` + `batch_processing(n)`: fetch users in batches with
 * `fetchmany` and keep those over 25. In dbscope a batch is one keyset page, a `Chunk<User>` in a
 * `Stream`; the processing step is an ordinary function on each chunk. One batch is in memory at a time.
 *
 * Run: npm run example -- 05
 */
import { NodeRuntime } from "@effect/platform-node"
import { SqliteDatabase, UserRepo, UserStream } from "dbscope"
import { Chunk, Console, Effect, Layer, Stream } from "effect"
import { sampleDatabase } from "./sample-database.js"

const program = Effect.gen(function*() {
  // `for batch in stream_users_in_batches(100): [u for u in batch if u["age"] > 25]`
  const kept = yield* UserStream.streamUsersInBatches(100).pipe(
    Stream.map((batch) => ({ size: Chunk.size(batch), over25: Chunk.filter(batch, (user) => user.age > 25) })),
    Stream.zipWithIndex,
    Stream.tap(([{ over25, size }, index]) =>
      index < 3 ? Console.log(`batch ${index + 1}: ${Chunk.size(over25)} of ${size} users over 25`) : Effect.void
    ),
    Stream.runFold(0, (sum, [{ over25 }]) => sum + Chunk.size(over25))
  )
  yield* Console.log(`... ${kept} users over 25 in all`)

  // `batch_processing(50)` ships with dbscope: every batch already filtered.
  const batches = yield* Stream.runCollect(UserStream.batchProcessing(50, { olderThan: 25 }))
  const users = Chunk.reduce(batches, 0, (sum, batch) => sum + Chunk.size(batch))
  yield* Console.log(`batchProcessing(50) -> ${Chunk.size(batches)} batches, ${users} users over 25`)

  // Any stream can be regrouped; the pages below stay the default 1000 rows.
  const sizes = yield* UserStream.streamUsers().pipe(Stream.grouped(300), Stream.map(Chunk.size), Stream.runCollect)
  yield* Console.log(`streamUsers() grouped by 300 -> batches of ${Chunk.join(Chunk.map(sizes, String), ", ")}`)

  // A batch size of 0 is a mistake: a typed error before any query runs.
  const invalid = yield* Stream.runDrain(UserStream.streamUsersInBatches(0)).pipe(Effect.flip)
  yield* Console.log(`streamUsersInBatches(0) -> ${invalid._tag}: ${invalid.message}`)
})

NodeRuntime.runMain(
  Effect.gen(function*() {
    const filename = yield* sampleDatabase
    yield* program.pipe(Effect.provide(UserRepo.Default.pipe(Layer.provideMerge(SqliteDatabase.layer({ filename })))))
  }).pipe(Effect.scoped)
)
