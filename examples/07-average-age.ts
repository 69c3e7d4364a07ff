/**
 * Exercise 7, the average age without SQL `AVG`: a generator yields ages one by one and a loop sums
 * and counts them. In dbscope the ages are a `Stream` of keyset pages and the loop is a
 * `Stream.runFold`: constant memory however big the table, and an empty table is a typed `NoUsers`
 * error instead of a `ZeroDivisionError`.
 *
 * Run: npm run example -- 07
 */
import { NodeRuntime } from "@effect/platform-node"
import { Migrations, SqliteDatabase, UserRepo, UserStream } from "dbscope"
import { Console, Effect, Layer, Stream } from "effect"
import * as path from "node:path"
import { sampleDatabase } from "./sample-database.js"

const withUsers = (filename: string) => UserRepo.Default.pipe(Layer.provideMerge(SqliteDatabase.layer({ filename })))

const program = (filename: string) =>
  Effect.gen(function*() {
    // `for age in stream_user_ages(): total += age; count += 1` -- only the running totals are kept.
    const { count, total } = yield* UserStream.streamUserAges().pipe(
      Stream.runFold({ total: 0, count: 0 }, (sum, age) => ({ total: sum.total + age, count: sum.count + 1 }))
    )
    yield* Console.log(`Average age of users: ${(total / count).toFixed(2)} (${count} users)`)

    // The same fold, shipped with dbscope.
    const average = yield* UserStream.averageAge()
    yield* Console.log(`UserStream.averageAge() -> ${average.toFixed(3)}`)
  }).pipe(Effect.provide(withUsers(filename)))

// On an empty table: Python divides by zero; here the error is a value the caller can handle.
const emptyTable = (filename: string) =>
  Effect.gen(function*() {
    yield* Migrations.run
    const noUsers = yield* UserStream.averageAge().pipe(Effect.flip)
    yield* Console.log(`averageAge() on an empty table -> ${noUsers._tag}: ${noUsers.message}`)
  }).pipe(Effect.provide(withUsers(filename)))

NodeRuntime.runMain(
  Effect.gen(function*() {
    const filename = yield* sampleDatabase
    yield* program(filename)
    yield* emptyTable(path.join(path.dirname(filename), "empty.db"))
  }).pipe(Effect.scoped)
)
