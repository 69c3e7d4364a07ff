/**
 * Exercise 11, `@retry_on_failure(retries=3, delay=1)`: call again after any exception, sleeping a
 * fixed delay. dbscope's `retryOnFailure` retries only errors that can go away on their own (a
 * database locked by another connection, a deadlock), with exponential backoff and jitter, logs
 * each retry, and returns any other error (a duplicate e-mail, a syntax error) on the first attempt.
 *
 * Run: npm run example -- 11
 */
import { NodeRuntime } from "@effect/platform-node"
import { retryOnFailure, SqliteDatabase, transactional, UserRepo } from "dbscope"
import { Console, Deferred, Effect, Layer, Ref } from "effect"
import { sampleDatabase } from "./sample-database.js"

const program = (filename: string) =>
  Effect.gen(function*() {
    const repo = yield* UserRepo
    const attempts = yield* Ref.make(0)
    const counted = <A, E, R>(attempt: Effect.Effect<A, E, R>) =>
      Effect.zipRight(Ref.update(attempts, (n) => n + 1), attempt)

    // Another connection (think: another process) holds the write lock until we have been refused
    // once, so that this example prints the same on every run.
    const locked = yield* Deferred.make<void>()
    const release = yield* Deferred.make<void>()
    yield* Effect.zipRight(Deferred.succeed(locked, undefined), Deferred.await(release)).pipe(
      transactional,
      Effect.provide(SqliteDatabase.layer({ filename })),
      Effect.forkScoped
    )
    yield* Deferred.await(locked)

    // `@retry_on_failure(retries=3, delay=1)` -- here: 100 ms, doubling, jittered, transient errors only.
    const updated = yield* counted(repo.updateEmail(1, "Crawford_Cartwright@hotmail.com")).pipe(
      Effect.tapError(() => Deferred.succeed(release, undefined)),
      retryOnFailure({ retries: 3, delay: "100 millis" })
    )
    const tries = yield* Ref.getAndSet(attempts, 0)
    yield* Console.log(
      `update while another connection writes -> ${updated ? "updated" : "no such user"}, ${tries} attempts`
    )

    // Not transient: retrying cannot help, so the error comes back at once.
    const duplicate = yield* counted(repo.insert({ name: "Copy", email: "Edmund_Funk@gmail.com", age: 30 })).pipe(
      retryOnFailure({ retries: 3 }),
      Effect.flip
    )
    yield* Console.log(`insert a duplicate e-mail -> ${duplicate._tag} after ${yield* Ref.get(attempts)} attempt`)
  })

NodeRuntime.runMain(
  Effect.gen(function*() {
    const filename = yield* sampleDatabase
    // busyTimeout 0: a locked database fails at once instead of waiting, so the retries show.
    const database = UserRepo.Default.pipe(Layer.provideMerge(SqliteDatabase.layer({ filename, busyTimeout: 0 })))
    yield* program(filename).pipe(Effect.provide(database))
  }).pipe(Effect.scoped)
)
