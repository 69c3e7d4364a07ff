/**
 * `npm start`: the Python exercises dbscope re-implements, run for real on the embedded SQLite
 * database, with output shaped like the originals' (rows as tuples; the open/close lines and the
 * other log lines on stderr, with every other command's). The exercises write (user 1's e-mail, a
 * user added and deleted), so they run on a temporary copy of the database: the user's file is left
 * as it was.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Chunk from "effect/Chunk"
import * as Console from "effect/Console"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { sampleCsv } from "../BundledData.js"
import * as SqliteDatabase from "../client/SqliteDatabase.js"
import * as SqlitePool from "../client/SqlitePool.js"
import * as CacheQuery from "../combinators/CacheQuery.js"
import { cacheQuery } from "../combinators/CacheQuery.js"
import { logQueries } from "../combinators/LogQueries.js"
import { retryOnFailure } from "../combinators/RetryOnFailure.js"
import { transactional } from "../combinators/Transactional.js"
import { withDbConnection } from "../combinators/WithDbConnection.js"
import { ReaderPool } from "../readers/ReaderPool.js"
import { fetchUsers } from "../users/ConcurrentFetch.js"
import { executeQuery, type Row } from "../users/ExecuteQuery.js"
import * as Progress from "../users/Progress.js"
import { setup } from "../users/Setup.js"
import { UserRepo } from "../users/UserRepo.js"
import { averageAge, batchProcessing, lazyPaginate, streamUsers } from "../users/UserStream.js"

const shown = 5

const tuple = (row: Row) => `(${Object.values(row).map((value) => JSON.stringify(value)).join(", ")})`

const printRows = (title: string, rows: ReadonlyArray<Row>) =>
  Console.log(
    [
      `${title} -> ${rows.length} rows`,
      ...rows.slice(0, shown).map(tuple),
      ...(rows.length > shown ? [`... and ${rows.length - shown} more`] : [])
    ].join("\n")
  )

const heading = (text: string) => Console.log(`\n=== ${text} ===`)

const demoEmail = "Crawford_Cartwright@hotmail.com"
const lateUser = { name: "Late Arrival", email: "late.arrival@dbscope.invalid", age: 99 }

const fetchAllUsers = Effect.flatMap(SqlClient.SqlClient, (sql) => sql<Row>`SELECT * FROM users`)

/** The decorators exercises (`python-decorators-0x01`), each as its combinator. */
const decoratorExercises = (options: SqliteDatabase.SqliteOptions) =>
  Effect.gen(function*() {
    const database = SqliteDatabase.layer({ ...options, create: false })
    const withRepo = UserRepo.Default.pipe(Layer.provideMerge(database))

    yield* heading("4.0 @log_queries -> logQueries: every statement as a structured log line")
    yield* Effect.gen(function*() {
      const users = yield* fetchAllUsers.pipe(logQueries())
      yield* Console.log(`fetch_all_users(query="SELECT * FROM users") -> ${users.length} rows`)
    }).pipe(Effect.provide(database))

    yield* heading("4.1 @with_db_connection -> withDbConnection: a connection of its own, always closed")
    const user = yield* UserRepo.pipe(
      Effect.flatMap((repo) => repo.byId(1)),
      Effect.provide(UserRepo.Default),
      withDbConnection({ ...options, create: false })
    )
    yield* Console.log(`get_user_by_id(user_id=1) -> ${Option.match(user, { onNone: () => "None", onSome: tuple })}`)

    yield* heading("4.2 @transactional -> transactional: commit on success, roll back on failure")
    yield* Effect.gen(function*() {
      const repo = yield* UserRepo
      yield* transactional(repo.updateEmail(1, demoEmail))
      const emailOf1 = Effect.map(repo.byId(1), Option.match({ onNone: () => "-", onSome: (u) => u.email }))
      yield* Console.log(
        `update_user_email(user_id=1, new_email=${JSON.stringify(demoEmail)}) -> committed: ${yield* emailOf1}`
      )
      const failed = yield* transactional(
        Effect.zipRight(repo.updateEmail(1, "rolled.back@dbscope.invalid"), Effect.fail("a later step failed"))
      ).pipe(Effect.flip)
      yield* Console.log(`update then fail (${failed}) -> rolled back, still: ${yield* emailOf1}`)
    }).pipe(Effect.provide(withRepo))

    yield* heading("4.3 @retry_on_failure -> retryOnFailure: only transient errors, backoff with jitter")
    yield* Effect.gen(function*() {
      const repo = yield* UserRepo
      // Another connection holds the write lock for 250 ms; this one does not wait (busy timeout 0).
      const lockHeld = yield* Deferred.make<void>()
      yield* transactional(Effect.zipRight(Deferred.succeed(lockHeld, undefined), Effect.sleep("250 millis"))).pipe(
        Effect.provide(database),
        Effect.forkScoped
      )
      yield* Deferred.await(lockHeld)
      const updated = yield* repo.updateEmail(1, demoEmail).pipe(retryOnFailure({ retries: 5 }))
      yield* Console.log(`update_user_email while another connection writes -> ${updated ? "done" : "no such user"}`)
      const duplicate = yield* repo.insert({ name: "Copy", email: demoEmail, age: 30 }).pipe(
        retryOnFailure(),
        Effect.flip
      )
      yield* Console.log(`a duplicate e-mail is not transient -> fails at once: ${duplicate.message}`)
    }).pipe(
      Effect.scoped,
      Effect.provide(
        UserRepo.Default.pipe(Layer.provideMerge(SqliteDatabase.layer({ ...options, create: false, busyTimeout: 0 })))
      )
    )

    yield* heading("4.4 @cache_query -> cacheQuery: keyed by SQL + values, dropped by writes")
    yield* Effect.gen(function*() {
      const repo = yield* UserRepo
      const sql = yield* SqlClient.SqlClient
      const cached = cacheQuery(sql<Row>`SELECT * FROM users`)
      const timedFetch = (label: string) =>
        Effect.gen(function*() {
          const since = performance.now()
          const users = yield* cached
          yield* Console.log(`${label} -> ${users.length} rows in ${(performance.now() - since).toFixed(3)} ms`)
        })
      yield* timedFetch("fetch_users_with_cache(query=\"SELECT * FROM users\"), first call (runs the query)")
      yield* timedFetch("the same call again (served from the cache)")
      yield* repo.insert(lateUser)
      yield* timedFetch("after inserting a user (the write dropped the cached result)")
      yield* sql`DELETE FROM users WHERE email = ${lateUser.email}`
      const stats = yield* CacheQuery.stats
      yield* Console.log(`cache: ${stats.hits} hit, ${stats.misses} misses, ${stats.invalidations} invalidated`)
    }).pipe(Effect.provide(CacheQuery.layer().pipe(Layer.provideMerge(withRepo))))
  })

/** Creates the database `options` names from the bundled sample, as `setup` does, when it is absent. */
const createIfAbsent = (options: SqliteDatabase.SqliteOptions) =>
  Effect.gen(function*() {
    if (fs.existsSync(options.filename)) return
    yield* Console.log(`Creating ${options.filename} from the bundled sample (${sampleCsv})`)
    const result = yield* setup({ csv: sampleCsv }).pipe(
      Effect.provide(Layer.merge(
        UserRepo.Default.pipe(Layer.provideMerge(SqliteDatabase.layer({ ...options, create: true }))),
        Progress.layerSilent
      ))
    )
    yield* Console.log(`Imported ${result.imported?.inserted ?? 0} users`)
  })

/**
 * A copy of the database `options` names, with the same file name, in a private folder removed when
 * the scope closes. `VACUUM INTO` copies what a reader sees, including what is still in the
 * write-ahead log, and writes nothing to the original.
 */
const scratchCopy = (options: SqliteDatabase.SqliteOptions) =>
  Effect.gen(function*() {
    const dir = yield* Effect.acquireRelease(
      Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "dbscope-demo-"))),
      (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
    )
    const filename = path.join(dir, path.basename(options.filename))
    yield* Effect.flatMap(SqlClient.SqlClient, (sql) => sql`VACUUM INTO ${filename}`).pipe(
      Effect.provide(SqliteDatabase.layer({ ...options, create: false }))
    )
    // Private, as dbscope makes its files (a copy readable by others would be warned about).
    yield* Effect.sync(() => fs.chmodSync(filename, 0o600))
    return { ...options, filename }
  })

/** The exercises, on the database `options` names (which they change). */
const exercises = (options: SqliteDatabase.SqliteOptions) =>
  Effect.gen(function*() {
    const database = SqliteDatabase.layer({ ...options, create: false })
    const withRepo = UserRepo.Default.pipe(Layer.provideMerge(database))

    yield* heading("0. DatabaseConnection: a scoped connection, opened and always closed")
    yield* Effect.gen(function*() {
      const rows = yield* executeQuery("SELECT * FROM users")
      yield* printRows("SELECT * FROM users", rows)
    }).pipe(Effect.provide(database))

    yield* heading("1. ExecuteQuery: one parameterized query on a scoped connection")
    yield* Effect.gen(function*() {
      const rows = yield* executeQuery("SELECT * FROM users WHERE age > ?", [25])
      yield* printRows("SELECT * FROM users WHERE age > ? with (25,)", rows)
    }).pipe(Effect.provide(database))

    yield* heading("1b. UserRepo: the same query, typed and validated")
    yield* Effect.gen(function*() {
      const repo = yield* UserRepo
      const older = yield* repo.olderThan(25)
      const first = yield* repo.byId(1)
      yield* Console.log(`UserRepo.olderThan(25) -> ${older.length} users; UserRepo.count -> ${yield* repo.count}`)
      yield* Console.log(`UserRepo.byId(1) -> ${first._tag === "Some" ? tuple(first.value) : "none"}`)
    }).pipe(Effect.provide(withRepo))

    yield* heading("2. asyncio.gather: Effect.all over a reader pool, beside the same queries one by one")
    const pooled = UserRepo.Default.pipe(Layer.provideMerge(SqlitePool.layer({ ...options, create: false })))
    const concurrent = yield* Effect.gen(function*() {
      const pool = yield* ReaderPool
      const result = yield* fetchUsers(40)
      return { result, workers: pool.size }
    }).pipe(Effect.provide(pooled))
    const sequential = yield* fetchUsers(40, { concurrent: false }).pipe(Effect.provide(withRepo))
    yield* Console.log(
      [
        `fetch_users() -> ${concurrent.result.allUsers.value.length} users; fetch_older_users() -> ${concurrent.result.olderUsers.value.length} users older than 40`,
        `concurrently on ${concurrent.workers} reader workers: ${concurrent.result.millis.toFixed(1)} ms`,
        `one after the other on one connection: ${sequential.millis.toFixed(1)} ms`,
        "(on 1000 rows messages between threads cost about what they save; `npm run bench -- --suite concurrency` measures 1M rows)"
      ].join("\n")
    )

    yield* heading("3. Generators as Streams: constant memory, pages fetched only when pulled")
    yield* Effect.gen(function*() {
      const firstUsers = yield* Stream.runCollect(Stream.take(streamUsers(), 3))
      yield* Console.log(["stream_users() -> first 3:", ...Chunk.toReadonlyArray(firstUsers).map(tuple)].join("\n"))
      const batches = yield* Stream.runCollect(batchProcessing(50))
      const kept = Chunk.reduce(batches, 0, (sum, batch) => sum + Chunk.size(batch))
      yield* Console.log(`batch_processing(50) -> ${Chunk.size(batches)} batches, ${kept} users over 25`)
      const pages = yield* Stream.runCollect(lazyPaginate(100))
      yield* Console.log(`lazy_paginate(100) -> ${Chunk.size(pages)} pages of ${Chunk.unsafeHead(pages).length}`)
      yield* Console.log(`Average age of users: ${(yield* averageAge()).toFixed(3)}`)
    }).pipe(Effect.provide(withRepo))

    yield* decoratorExercises(options)

    yield* heading("5. Serving: the same database over HTTP")
    yield* Console.log(
      "dbscope serve --port 8080 -> the dashboard page at http://127.0.0.1:8080/, a JSON API (pages, lookups,\n" +
        "writes, a streamed export, the dashboard's figures) with its OpenAPI document at /api/openapi.json and\n" +
        "docs at /api/docs, Prometheus metrics at /metrics; Ctrl-C stops it gracefully"
    )
  })

/**
 * Runs the demo on a temporary copy of the database `options` names (created from the bundled CSV
 * when absent), with the connections' open/close lines (debug level) shown.
 */
export const runDemo = (options: SqliteDatabase.SqliteOptions) =>
  Effect.gen(function*() {
    yield* createIfAbsent(options)
    yield* exercises(yield* scratchCopy(options))
  }).pipe(Effect.scoped, Logger.withMinimumLogLevel(LogLevel.Debug))
