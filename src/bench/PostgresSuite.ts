/**
 * Suite `postgres`: dbscope on PostgreSQL (`PostgresDatabase`) with N synthetic users in a scratch
 * database `dbscope_bench_<pid>` on the local server, dropped at the end whatever happens (skipped
 * when no server answers). 1. and 2. as on MySQL (`ServerSuite`): the seed's pair at once against
 * one after the other, and every row streamed (keyset pages, the driver's server-side cursor)
 * against `repo.all()` in fresh processes; 3. point lookups through `repo.byId` against
 * `@effect/sql-pg`'s own `PgClient` running the same SELECT on a pool of the same size; 4. how soon
 * a write committed by another OS process reaches a `cacheQuery` result (LISTEN/NOTIFY), beside
 * the same on SQLite (`PRAGMA data_version`).
 */
import type * as Reactivity from "@effect/experimental/Reactivity"
import type * as PgClient from "@effect/sql-pg/PgClient"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as PostgresDatabase from "../client/PostgresDatabase.js"
import * as CacheQuery from "../combinators/CacheQuery.js"
import * as OptionalPackage from "../OptionalPackage.js"
import { UserRepo } from "../users/UserRepo.js"
import { buildUsers, dbscopeLayer, usersLayer } from "./BenchDatabase.js"
import { compare, ratioAtLeast } from "./BenchReport.js"
import { reportProbe, spawnProbe } from "./ChildProbe.js"
import * as CrossProcessWrites from "./CrossProcessWrites.js"
import { alternate, countHitsConcurrently, lookupIds, median, pick, timed, withOthersLoad } from "./Measure.js"
import { scratchDatabase, serverAbsent, serverConfig, serverProcess } from "./PostgresServer.js"
import * as ServerSuite from "./ServerSuite.js"
import { measured, skipped, type Suite, type SuiteOptions } from "./Suite.js"
import { duration, int, rate, ratio, runRows, table, verdicts } from "./SuiteText.js"

/** dbscope on a PostgreSQL pool. */
const postgres: ServerSuite.Backend<PostgresDatabase.PostgresDatabase> = {
  suite: "postgres",
  label: "PostgreSQL",
  serverKind: "PostgreSQL",
  urlVariable: "DBSCOPE_BENCH_POSTGRES_URL",
  poolSize: 4,
  layer: (url, readers) => usersLayer(PostgresDatabase.layer({ url, poolSize: postgres.poolSize, readers })),
  target: Effect.map(PostgresDatabase.PostgresDatabase, (database) => database.target),
  version: Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.map(
      sql<{ readonly v: string }>`SELECT 'PostgreSQL ' || current_setting('server_version') AS v`,
      ([row]) => row?.v ?? "unknown server"
    )),
  server: serverConfig,
  absent: serverAbsent,
  scratch: scratchDatabase,
  process: serverProcess,
  // Statistics as autovacuum takes them soon after a bulk load: without them the planner, expecting
  // few rows, reads all users with two parallel workers and a sort instead of the primary key's order
  // (1.5x the server's CPU), and a server-side cursor (the reader workers', `sql.stream`) does not.
  afterLoad: {
    effect: Effect.flatMap(SqlClient.SqlClient, (sql) => Effect.asVoid(sql`ANALYZE users`)),
    name: "ANALYZE users"
  }
}

/** 3. Point lookups per run, and how many run at once (as the cluster suite's). */
const lookups = 4_000
const lookupConcurrency = 8
/** The columns `UserRepo.byId` selects on PostgreSQL: the baseline does the same work. */
const byIdColumns = "user_id, name, email, age, to_char(created_at, 'YYYY-MM-DD HH24:MI:SS') AS created_at"
/** 4. Writes by another process per backend. */
const writeTrials = 20
/** 4. Users in the SQLite file: its read is a keyset page on the primary key, whatever the size. */
const sqliteUsers = 10_000

/**
 * 3. `repo.byId` through dbscope (no reader workers: a lookup is below their threshold) against
 * `PgClient` alone on a pool of the same size, the same ids in the same order, alternated.
 */
const lookupPhase = (
  url: Redacted.Redacted<string>,
  rows: number,
  reps: number,
  context: Context.Context<UserRepo>,
  helpers: () => number
) =>
  Effect.gen(function*() {
    // `@effect/sql-pg` is an optional peer of dbscope, as pg is: loaded on use.
    const Pg = yield* OptionalPackage.load(OptionalPackage.postgres, () => import("@effect/sql-pg/PgClient"))
    const theirs = yield* Layer.build(Pg.layer({ url, maxConnections: postgres.poolSize }))
    const sql: PgClient.PgClient = Context.get(theirs, Pg.PgClient)
    const ids = lookupIds(rows, lookups)
    const find = (id: number) =>
      Effect.map(
        sql`SELECT ${sql.literal(byIdColumns)} FROM users WHERE user_id = ${id}`,
        (found) => Option.fromNullable(found[0])
      )
    return yield* withOthersLoad(
      alternate("point lookups", reps, [
        {
          name: "dbscope repo.byId",
          run: Effect.provide(
            timed(
              Effect.flatMap(UserRepo, (repo) => countHitsConcurrently(ids, lookupConcurrency, repo.byId)),
              (n) => n
            ),
            context
          )
        },
        { name: "PgClient sql`...`", run: timed(countHitsConcurrently(ids, lookupConcurrency, find), (n) => n) }
      ]),
      helpers
    )
  })

/**
 * 4. Writes by fresh writer processes against a cached read, on PostgreSQL (the suite's database)
 * and on a SQLite file of `sqliteUsers` users in `dir`. The writers' CPU is added to `childCpu`.
 */
const invalidationPhase = (
  url: Redacted.Redacted<string>,
  dir: string,
  context: Context.Context<UserRepo | SqlClient.SqlClient | Reactivity.Reactivity>,
  childCpu: { ms: number }
) =>
  Effect.gen(function*() {
    const writer = (kind: string, options: { arg?: string; env?: Record<string, string> }) =>
      Effect.tap(
        spawnProbe(CrossProcessWrites.Committed, { suite: "postgres", kind, ...options }),
        (result) => Effect.sync(() => void (childCpu.ms += result.cpu))
      )
    /** The trials on a stack with a `QueryCache`, reading the users after the last one there now. */
    const trialsOn = (
      label: string,
      stack: Context.Context<UserRepo | SqlClient.SqlClient | Reactivity.Reactivity>,
      write: typeof pgWrite
    ) =>
      Effect.gen(function*() {
        const cache = yield* Effect.provide(Layer.build(CacheQuery.layer()), stack)
        const [last] = yield* Effect.provide(
          Effect.flatMap(SqlClient.SqlClient, (sql) =>
            sql<{ readonly id: number }>`SELECT MAX(user_id) AS id FROM users`),
          stack
        )
        const read = CrossProcessWrites.cachedNewRows(Number(last?.id))
        return yield* Effect.provide(
          CrossProcessWrites.measureTrials(label, writeTrials, read, write),
          Context.merge(stack, cache)
        )
      })
    const pgWrite = writer("commit-postgres", { env: { [postgres.urlVariable]: Redacted.value(url) } })
    const pg = yield* trialsOn("invalidation (PostgreSQL)", context, pgWrite)
    const { file } = yield* buildUsers(dir, sqliteUsers)
    const sqlite = yield* trialsOn(
      "invalidation (SQLite)",
      yield* Layer.build(dbscopeLayer(file)),
      writer("commit-sqlite", { arg: file })
    )
    return { pg, sqlite }
  })

const postgresSuite = ({ dir, rows }: SuiteOptions) =>
  Effect.gen(function*() {
    const setup = yield* ServerSuite.setUp(postgres, rows)
    if (Either.isLeft(setup)) return skipped(setup.left)
    const { context, database, server, withServerLoad } = setup.right
    const m = yield* ServerSuite.measure(postgres, setup.right)
    const reps = { lookups: 7 }
    const [[lookupRuns, lookupLoad], lookupServer] = yield* withServerLoad(
      lookupPhase(database.url, rows, reps.lookups, context, server.cpu)
    )
    const childCpu = { ms: 0 }
    const [[invalidation, invalidationLoad], invalidationServer] = yield* withServerLoad(
      withOthersLoad(invalidationPhase(database.url, dir, context, childCpu), () => server.cpu() + childCpu.ms)
    )

    const { atLeast } = verdicts(rows)
    const ours = pick(lookupRuns, "dbscope repo.byId")
    const theirs = pick(lookupRuns, "PgClient sql`...`")
    // Throughput ours / theirs: the same lookups, so their time over ours.
    const lookupRatio = ratio(theirs.median, ours.median)
    const seen = (trials: ReadonlyArray<CrossProcessWrites.Trial>) => ({
      median: median(trials.map((t) => t.seen)),
      max: Math.max(...trials.map((t) => t.seen)),
      read: median(trials.map((t) => t.read))
    })
    const pgSeen = seen(invalidation.pg.times)
    const sqliteSeen = seen(invalidation.sqlite.times)

    yield* Console.log(setup.right.header)
    yield* ServerSuite.printSections(m)
    yield* Console.log()
    yield* Console.log(table(
      [
        `3. point lookups: ${int(lookups)} ids, ${lookupConcurrency} at a time, pool of ${postgres.poolSize} ` +
        `(median of ${reps.lookups} runs)`,
        "time",
        "per lookup",
        "lookups/s",
        "ratio",
        "goal",
        ""
      ],
      [
        [
          "dbscope repo.byId(id) (prepared)",
          duration(ours.median),
          `${(ours.median * 1000 / lookups).toFixed(1)} µs`,
          rate(lookups, ours.median),
          lookupRatio,
          ">= 0.9",
          atLeast(lookupRatio, 0.9)
        ],
        [
          `@effect/sql-pg PgClient alone, sql\`SELECT ... WHERE user_id = \${id}\``,
          duration(theirs.median),
          `${(theirs.median * 1000 / lookups).toFixed(1)} µs`,
          rate(lookups, theirs.median),
          "",
          "",
          ""
        ]
      ]
    ))
    yield* Console.log(
      `(ratio = dbscope lookups/s / PgClient's: higher is better; the same SELECT, ids and order)\n` +
        `checked: every run of both found ${int(ours.count)} of ${int(lookups)} ids\n`
    )
    yield* Console.log(table(
      [
        `4. another process's write seen by cacheQuery (${writeTrials} trials, a fresh writer process each)`,
        "median",
        "max",
        "re-read (median)"
      ],
      [
        [
          "PostgreSQL: trigger NOTIFY, LISTEN connection",
          duration(pgSeen.median),
          duration(pgSeen.max),
          duration(pgSeen.read)
        ],
        [
          `SQLite (${int(sqliteUsers)} users): PRAGMA data_version at each look`,
          duration(sqliteSeen.median),
          duration(sqliteSeen.max),
          duration(sqliteSeen.read)
        ]
      ]
    ))
    yield* Console.log(
      `(from the writer's COMMIT returning, on its clock, to cacheQuery's first answer with the new row, on this ` +
        `process's; polled every ${CrossProcessWrites.pollEvery.pipe(Duration.toMillis)} ms; re-read: the miss that ` +
        `fetched it, included; the read is repo.pageAfter(last id) on the primary key)\n` +
        `checked: each write was seen as exactly one more row; meanwhile cacheQuery served ` +
        `${int(invalidation.pg.hits)} hits / ${int(invalidation.pg.misses)} misses on PostgreSQL, ` +
        `${int(invalidation.sqlite.hits)} / ${int(invalidation.sqlite.misses)} on SQLite (a miss per write, ` +
        `plus the first read)`
    )
    const busy = yield* ServerSuite.printRunsAndLoads(
      server,
      postgres.serverKind,
      [
        ...ServerSuite.sectionRunRows(m),
        ...runRows("3. lookups", lookupRuns),
        // A few ms each: to a tenth of one.
        ["4. seen: PostgreSQL", invalidation.pg.times.map((t) => t.seen.toFixed(1)).join(" ")],
        ["4. seen: SQLite", invalidation.sqlite.times.map((t) => t.seen.toFixed(1)).join(" ")]
      ],
      [m.pair.load, m.memoryLoad, lookupLoad, invalidationLoad],
      [m.pairServer, m.memoryServer, lookupServer, invalidationServer]
    )
    yield* Console.log(
      `summary${busy ? " (machine busy, unreliable)" : ""}: ${
        ServerSuite.sectionsSummary(m)
      }; point lookups dbscope vs ` +
        `PgClient ${lookupRatio}x (goal >= 0.9, ${atLeast(lookupRatio, 0.9)}); another process's write seen by ` +
        `cacheQuery in ${duration(pgSeen.median)} (max ${duration(pgSeen.max)}) on PostgreSQL, ` +
        `${duration(sqliteSeen.median)} (max ${duration(sqliteSeen.max)}) on SQLite; row counts and age sums agree`
    )
    return measured(busy, [
      ...ServerSuite.sectionComparisons(m),
      compare({
        suite: "postgres",
        name: `point lookups, repo.byId x ${int(lookups)}, ${lookupConcurrency} at a time`,
        ours: lookups / (ours.median / 1000),
        against: "PgClient alone",
        baseline: lookups / (theirs.median / 1000),
        unit: "per s",
        ratio: Number(lookupRatio),
        better: "higher",
        goal: ratioAtLeast(0.9)
      }),
      compare({
        suite: "postgres",
        name: "another process's write seen by cacheQuery (NOTIFY)",
        ours: pgSeen.median,
        against: "SQLite, PRAGMA data_version",
        baseline: sqliteSeen.median,
        unit: "ms",
        ratio: Number(ratio(sqliteSeen.median, pgSeen.median)),
        better: "higher",
        note: `median of ${writeTrials}; max ${duration(pgSeen.max)}, SQLite ${duration(sqliteSeen.max)}`
      })
    ])
  }).pipe(Effect.scoped)

/** The writer probes of 4.: `commit-postgres` (URL in the environment) and `commit-sqlite <file>`. */
const commitProbe = (kind: string, arg: string | undefined) => {
  const report = (commit: Effect.Effect<CrossProcessWrites.Committed, unknown>) =>
    Option.some<Effect.Effect<void, unknown>>(
      Effect.flatMap(commit, (result) => reportProbe(CrossProcessWrites.Committed, result))
    )
  if (kind === "commit-postgres") {
    return report(Effect.flatMap(Config.redacted(postgres.urlVariable), CrossProcessWrites.postgresCommit))
  }
  return kind === "commit-sqlite" && arg !== undefined ? report(CrossProcessWrites.sqliteCommit(arg)) : Option.none()
}

export const suite: Suite = {
  name: "postgres",
  description: "seed pair, streaming RSS, point lookups vs PgClient, another process's write seen by cacheQuery " +
    "(PostgreSQL at DBSCOPE_BENCH_POSTGRES, default 127.0.0.1:5432)",
  run: postgresSuite,
  probe: (kind, arg) => Option.orElse(commitProbe(kind, arg), () => ServerSuite.memoryProbe(postgres, kind))
}
