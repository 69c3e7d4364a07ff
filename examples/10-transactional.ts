/**
 * Exercise 10, `@transactional`: commit if the function returns, roll back if it raises. dbscope's
 * `transactional` does the same for any effect, and also rolls back when the effect is interrupted
 * or dies. Nested, it is a savepoint: an inner failure the caller handles undoes only the inner part.
 *
 * Run: npm run example -- 10
 */
import { NodeRuntime } from "@effect/platform-node"
import { SqliteDatabase, transactional, UserRepo } from "dbscope"
import { Console, Deferred, Effect, Fiber, Layer, Option } from "effect"
import { sampleDatabase } from "./sample-database.js"

const program = Effect.gen(function*() {
  const repo = yield* UserRepo
  const emailOf1 = Effect.map(repo.byId(1), Option.match({ onNone: () => "none", onSome: (user) => user.email }))

  // `@transactional def update_user_email(conn, user_id, new_email)`
  yield* repo.updateEmail(1, "Crawford_Cartwright@hotmail.com").pipe(transactional)
  yield* Console.log(`update_user_email(1, ...) committed -> ${yield* emailOf1}`)

  // Two writes, the second fails (that e-mail is user 2's): the first is undone too.
  const failed = yield* Effect.zipRight(
    repo.updateEmail(1, "rolled.back@example.com"),
    repo.updateEmail(1, "Edmund_Funk@gmail.com")
  ).pipe(transactional, Effect.flip)
  yield* Console.log(`update then a failing update -> ${failed._tag}, rolled back: ${yield* emailOf1}`)

  // Nested: the inner insert fails and is handled; only it is undone, the outer insert commits.
  yield* Effect.gen(function*() {
    yield* repo.insert({ name: "Outer Insert", email: "outer@example.com", age: 30 })
    yield* repo.insert({ name: "Inner Insert", email: "inner@example.com", age: 30 }).pipe(
      Effect.zipRight(Effect.fail("inner step failed")),
      transactional,
      Effect.catchAll(() => Effect.void)
    )
  }).pipe(transactional)
  yield* Console.log(`nested, inner part failed -> users: ${yield* repo.count} (the outer insert only)`)

  // Interrupted in the middle (a timeout, Ctrl-C): the write already made is rolled back.
  const written = yield* Deferred.make<void>()
  const fiber = yield* Effect.forkScoped(
    repo.insert({ name: "Never Committed", email: "interrupted@example.com", age: 30 }).pipe(
      Effect.zipRight(Deferred.succeed(written, undefined)),
      Effect.zipRight(Effect.never),
      transactional
    )
  )
  yield* Deferred.await(written)
  yield* Fiber.interrupt(fiber)
  yield* Console.log(`interrupted after its insert -> users: ${yield* repo.count} (rolled back)`)
})

NodeRuntime.runMain(
  Effect.gen(function*() {
    const filename = yield* sampleDatabase
    yield* program.pipe(Effect.provide(UserRepo.Default.pipe(Layer.provideMerge(SqliteDatabase.layer({ filename })))))
  }).pipe(Effect.scoped)
)
