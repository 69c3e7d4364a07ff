/**
 * Leak-freedom, as a property: random programs mix queries, streams cut short, nested
 * transactions, retries, caches, writes and connections of their own, with a failure, a defect
 * or an interruption injected at a random point (or an interruption from outside after a random
 * number of steps). After every program, every count in `OpenResources` (connections, reader
 * workers, open cursors, open transactions) is back where it started, and no transaction is open.
 * `npm test` runs 500 programs on one connection and 100 on the reader pool; `npm run test:soak`
 * runs 10,000 and 1,000.
 */
import type * as Reactivity from "@effect/experimental/Reactivity"
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as fc from "fast-check"
import { DatabaseError } from "../../src/client/DatabaseError.js"
import * as MysqlDatabase from "../../src/client/MysqlDatabase.js"
import * as PostgresDatabase from "../../src/client/PostgresDatabase.js"
import * as SqliteDatabase from "../../src/client/SqliteDatabase.js"
import * as CacheQuery from "../../src/combinators/CacheQuery.js"
import { cacheQuery } from "../../src/combinators/CacheQuery.js"
import { retryOnFailure } from "../../src/combinators/RetryOnFailure.js"
import { transactional } from "../../src/combinators/Transactional.js"
import { withDbConnection } from "../../src/combinators/WithDbConnection.js"
import * as OpenResources from "../../src/OpenResources.js"
import * as TestDatabase from "../../src/testing/TestDatabase.js"
import { UserRepo } from "../../src/users/UserRepo.js"
import { streamUsers } from "../../src/users/UserStream.js"
import { mysqlAvailable, postgresAvailable } from "../support/Backends.js"
import { clusterAvailable, clusterServer, noConnectionsLeft } from "../support/Cluster.js"

const soak = process.env.DBSCOPE_SOAK === "1"
const runs = {
  single: soak ? 10_000 : 500,
  pooled: soak ? 1_000 : 100,
  mysql: soak ? 1_000 : 100,
  postgres: soak ? 1_000 : 100,
  cluster: soak ? 1_000 : 50
}

type Fault = "fail" | "die" | "interrupt"

type Op =
  | { readonly _tag: "query" }
  | { readonly _tag: "stream"; readonly take: number }
  | { readonly _tag: "rawStream"; readonly take: number }
  | { readonly _tag: "transaction"; readonly depth: number; readonly innerFails: boolean }
  | { readonly _tag: "retry"; readonly failures: number }
  | { readonly _tag: "cache"; readonly key: number }
  | { readonly _tag: "write" }
  | { readonly _tag: "ownConnection" }

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.constant({ _tag: "query" as const }),
  fc.record({ _tag: fc.constant("stream" as const), take: fc.integer({ min: 0, max: 3000 }) }),
  fc.record({ _tag: fc.constant("rawStream" as const), take: fc.integer({ min: 0, max: 1200 }) }),
  fc.record({
    _tag: fc.constant("transaction" as const),
    depth: fc.integer({ min: 1, max: 3 }),
    innerFails: fc.boolean()
  }),
  fc.record({ _tag: fc.constant("retry" as const), failures: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ _tag: fc.constant("cache" as const), key: fc.integer({ min: 0, max: 3 }) }),
  fc.constant({ _tag: "write" as const }),
  fc.constant({ _tag: "ownConnection" as const })
)

interface Program {
  readonly ops: ReadonlyArray<Op>
  /** Where a fault is injected (inside that op, where it has something open), and which. */
  readonly fault: { readonly at: number; readonly kind: Fault } | undefined
  /** Interrupt the whole program from outside after this many steps (see `Backend.wait`). */
  readonly interruptAfter: number | undefined
}

const program: fc.Arbitrary<Program> = fc.record({
  ops: fc.array(op, { minLength: 1, maxLength: 8 }),
  fault: fc.option(
    fc.record({ at: fc.nat({ max: 7 }), kind: fc.constantFrom<Fault>("fail", "die", "interrupt") }),
    { nil: undefined }
  ),
  interruptAfter: fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined })
})

const injected = (kind: Fault) =>
  kind === "fail"
    ? Effect.fail("injected failure" as const)
    : kind === "die"
    ? Effect.dieMessage("injected defect")
    : Effect.interrupt

const transient = new DatabaseError({ operation: "test", reason: "locked", code: "SQLITE_BUSY", cause: undefined })

let written = 0

/** Runs an effect on a connection of its own (opened and closed around it), on the backend under test. */
type OwnConnection = <A, E>(effect: Effect.Effect<A, E, SqlClient.SqlClient>) => Effect.Effect<A, unknown>

/** One op, with `fault` (if any) injected where the op holds something open. */
const runOp = (step: Op, fault: Fault | undefined, own: OwnConnection) =>
  Effect.gen(function*() {
    const repo = yield* UserRepo
    const sql = yield* SqlClient.SqlClient
    const maybeFault = fault === undefined ? Effect.void : injected(fault)
    switch (step._tag) {
      case "query":
        yield* repo.olderThan(100)
        return yield* maybeFault
      case "stream":
        // A fault mid-stream: the keyset pages hold nothing between pages, the fault must not leak.
        return yield* streamUsers(250).pipe(
          Stream.take(step.take),
          Stream.tap((user) => user.user_id === 200 ? maybeFault : Effect.void),
          Stream.runDrain
        )
      case "rawStream":
        // The lazy `sql.stream`: an open cursor until the stream ends or is cut short.
        return yield* sql`SELECT user_id FROM users ORDER BY user_id`.stream.pipe(
          Stream.take(step.take),
          Stream.tap((row) => (row as { readonly user_id: number }).user_id === 100 ? maybeFault : Effect.void),
          Stream.runDrain
        )
      case "transaction": {
        const nest = (depth: number): Effect.Effect<void, unknown, SqlClient.SqlClient> =>
          depth === 0
            ? Effect.zipRight(repo.count, maybeFault)
            : transactional(
              Effect.zipRight(
                repo.insert({ name: "Nested", email: `nested-${written++}@leak.invalid`, age: 30 }),
                step.innerFails && depth === 1 ? Effect.ignore(transactional(Effect.fail("inner"))) : nest(depth - 1)
              ).pipe(Effect.asVoid)
            )
        return yield* nest(step.depth)
      }
      case "retry": {
        let left = step.failures
        return yield* Effect.suspend(() =>
          left-- > 0 ? Effect.fail(transient) : Effect.zipRight(repo.count, maybeFault)
        )
          .pipe(retryOnFailure({ delay: "1 millis", jitter: false }))
      }
      case "cache":
        return yield* repo.olderThan(120).pipe(Effect.zipLeft(maybeFault), cacheQuery({ key: ["leak", step.key] }))
      case "write":
        yield* repo.insert({ name: "Writer", email: `write-${written++}@leak.invalid`, age: 40 })
        return yield* maybeFault
      case "ownConnection":
        return yield* own(Effect.flatMap(SqlClient.SqlClient, (sql) => Effect.zipRight(sql`SELECT 1`, maybeFault)))
    }
  })

const runProgram = (p: Program, own: OwnConnection, wait: (steps: number) => Effect.Effect<void>) => {
  const body = Effect.forEach(
    p.ops,
    (step, index) => runOp(step, p.fault?.at === index ? p.fault.kind : undefined, own),
    {
      discard: true
    }
  )
  if (p.interruptAfter === undefined) return Effect.exit(body)
  const steps = p.interruptAfter
  return Effect.gen(function*() {
    const fiber = yield* Effect.fork(body)
    yield* wait(steps)
    yield* Fiber.interrupt(fiber)
    return yield* Fiber.await(fiber)
  })
}

/** What the property needs from a backend, besides its layer (whose services these may use). */
interface Backend<R> {
  /** A connection of its own for the `ownConnection` op. */
  readonly own: Effect.Effect<OwnConnection, never, R>
  /** Whether the driver itself still has a transaction open (beyond dbscope's own count). */
  readonly inTransaction: Effect.Effect<boolean, unknown, R>
  /** How long "N steps" lasts before an outside interruption: most programs must not finish first. */
  readonly wait: (steps: number) => Effect.Effect<void>
}

/** SQLite runs statements synchronously: a program lasts a few scheduler turns. */
const schedulerTurns = (steps: number) =>
  Effect.gen(function*() {
    for (let turn = 0; turn < steps; turn++) yield* Effect.yieldNow()
  })

const sqliteBackend: Backend<SqliteDatabase.SqliteDatabase> = {
  own: Effect.map(
    SqliteDatabase.SqliteDatabase,
    (db): OwnConnection => (effect) => withDbConnection(effect, { filename: db.filename, create: false })
  ),
  inTransaction: Effect.flatMap(SqliteDatabase.SqliteDatabase, (db) => db.withHandle((handle) => handle.inTransaction)),
  wait: schedulerTurns
}

/** The URL of the database the client in context uses, on `server`. */
const databaseUrl = (server: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const [row] = yield* Effect.orDie(sql.onDialectOrElse({
      pg: () => sql<{ readonly name: string }>`SELECT current_database() AS name`,
      orElse: () => sql<{ readonly name: string }>`SELECT DATABASE() AS name`
    }))
    return Redacted.make(`${server.replace(/\/+$/, "")}/${row?.name ?? ""}`)
  })

const mysqlBackend = (server?: string): Backend<SqlClient.SqlClient> => ({
  // A pool of its own on the same database, opened and closed around the op.
  own: Effect.gen(function*() {
    const url = yield* databaseUrl(server ?? (yield* Effect.orDie(TestDatabase.mysqlServer)))
    return (effect) => Effect.provide(effect, MysqlDatabase.layer({ url, poolSize: 1 }))
  }),
  // The server is shared with other test files: dbscope's counts of open transactions and of
  // connections taken out of the pool say it instead.
  inTransaction: Effect.succeed(false),
  // Each statement is a round trip to the server: a step is half a millisecond.
  wait: (steps) => Effect.sleep(`${steps / 2} millis`)
})

const postgresBackend: Backend<SqlClient.SqlClient> = {
  // A pool of its own on the same database, opened and closed around the op.
  own: Effect.gen(function*() {
    const url = yield* databaseUrl(yield* Effect.orDie(TestDatabase.postgresServer))
    return (effect) => Effect.provide(effect, PostgresDatabase.layer({ url, poolSize: 1 }))
  }),
  inTransaction: Effect.succeed(false),
  wait: (steps) => Effect.sleep(`${steps / 2} millis`)
}

/** Runs `count` random programs on `database` (with a query cache); prints what it ran. */
const leakProperty = <R>(
  name: string,
  database: Layer.Layer<NoInfer<R> | UserRepo | SqlClient.SqlClient | Reactivity.Reactivity, unknown>,
  backend: Backend<R>,
  count: number
) =>
  Effect.gen(function*() {
    const context = yield* Layer.build(CacheQuery.layer().pipe(Layer.provideMerge(database)))
    const own = yield* Effect.provide(backend.own, context)
    const baseline = yield* OpenResources.snapshot
    let programs = 0
    let failedOrInterrupted = 0
    yield* Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(program, async (p) => {
          const exit = await Effect.runPromise(runProgram(p, own, backend.wait).pipe(Effect.provide(context)))

          programs++
          if (Exit.isFailure(exit)) failedOrInterrupted++
          const after = await Effect.runPromise(OpenResources.snapshot)
          const open = await Effect.runPromise(Effect.provide(backend.inTransaction, context))
          assert.deepStrictEqual(after, baseline, `counts after ${JSON.stringify(p)}`)
          assert.isFalse(open, "no transaction left open")
          // And every worker and connection came back: two reads at once are still answered.
          const healthy = await Effect.runPromise(
            Effect.all([UserRepo.use((repo) => repo.olderThan(100)), UserRepo.use((repo) => repo.olderThan(110))], {
              concurrency: "unbounded"
            }).pipe(Effect.timeout("5 seconds"), Effect.isSuccess, Effect.provide(context))
          )
          assert.isTrue(healthy, `reads still answered after ${JSON.stringify(p)}`)
        }),
        { numRuns: count }
      )
    )
    console.info(
      `leak-freedom, ${name}: ${programs} programs (${failedOrInterrupted} failed, died or were interrupted), 0 leaks`
    )
  })

describe("leak-freedom", () => {
  const timeout = 1_800_000
  const property = (what: string, count: number) =>
    `${count} random programs on ${what} leave every count at its baseline`

  it.scopedLive.skipIf(!mysqlAvailable)(
    property("MySQL/MariaDB", runs.mysql),
    () => leakProperty("MySQL", TestDatabase.layerMysql({ sample: true }), mysqlBackend(), runs.mysql),
    timeout
  )

  it.scopedLive.skipIf(!postgresAvailable)(
    property("PostgreSQL", runs.postgres),
    () => leakProperty("PostgreSQL", TestDatabase.layerPostgres({ sample: true }), postgresBackend, runs.postgres),
    timeout
  )

  it.scopedLive.skipIf(!postgresAvailable)(
    property("PostgreSQL with reader workers", runs.postgres),
    () =>
      leakProperty(
        "PostgreSQL with reader workers",
        TestDatabase.layerPostgres({ sample: true, readers: { size: 2, mainThreadBelow: 0 } }),
        postgresBackend,
        runs.postgres
      ),
    timeout
  )

  it.scopedLive.skipIf(!clusterAvailable)(
    `${property("a 3-node Galera cluster", runs.cluster)}, and no connection stays open on any node`,
    () =>
      Effect.gen(function*() {
        const database = TestDatabase.layerMysql({ sample: true, server: clusterServer })
        // The database's URL, read while it exists; every node's own count of connections after.
        const url = yield* Effect.scoped(Effect.gen(function*() {
          const context = yield* Layer.build(database)
          yield* leakProperty(
            "Galera cluster",
            Layer.succeedContext(context),
            mysqlBackend(clusterServer),
            runs.cluster
          )
          return yield* Effect.provide(databaseUrl(clusterServer), context)
        }))
        yield* noConnectionsLeft(url)
      }),
    timeout
  )

  it.scopedLive(
    property("one connection", runs.single),
    () => leakProperty("one connection", TestDatabase.layer({ sample: true }), sqliteBackend, runs.single),
    timeout
  )

  it.scopedLive(
    property("the reader pool", runs.pooled),
    () => leakProperty("reader pool", TestDatabase.layerPooled({ sample: true }), sqliteBackend, runs.pooled),
    timeout
  )
})
