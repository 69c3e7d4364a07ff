/**
 * Suite `concurrency`: the reader pool (`SqlitePool`) against dbscope's single connection
 * (`SqliteDatabase`) on N synthetic users (dashboard, the seed's pair, event-loop lag) and on the
 * 1000-row sample (latency of small queries). The pool's start-up is timed apart, outside the runs.
 */
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as path from "node:path"
import { performance } from "node:perf_hooks"
import { sampleCsv } from "../BundledData.js"
import * as SqliteDatabase from "../client/SqliteDatabase.js"
import * as SqlitePool from "../client/SqlitePool.js"
import { fetchUsers } from "../users/ConcurrentFetch.js"
import { Dashboard, type DashboardReport } from "../users/Dashboard.js"
import { setup } from "../users/Setup.js"
import { UserRepo } from "../users/UserRepo.js"
import { buildUsers, columns, dbscopeLayer } from "./BenchDatabase.js"
import { compare, oursAtMost, ratioAtLeast, ratioAtMost } from "./BenchReport.js"
import {
  alternate,
  busyCores,
  countHits,
  lagTick,
  lookupIds,
  type Measured,
  median,
  pick,
  type Runs,
  timed,
  withLagProbe,
  withOthersLoad
} from "./Measure.js"
import { measured, type Suite, type SuiteOptions } from "./Suite.js"
import { busyWarning, duration, int, peakRss, perCall, ratio, runRows, table, verdicts } from "./SuiteText.js"

/** The seed's pair: all users, and those older than this. */
export const pairAge = 40
/** Reader workers of the pool (the MySQL suite uses as many). */
export const poolReaders = 2
const sampleScans = 1_000
const sampleLookups = 20_000

/** The repository and the dashboard over a connection layer, as the CLI's `concurrent` and `dashboard` commands build them. */
const withServices = <E>(database: Layer.Layer<SqliteDatabase.Services, E>) =>
  Layer.mergeAll(UserRepo.Default, Dashboard.Default).pipe(Layer.provideMerge(database))

/**
 * Both dbscope stacks on one file, built once in the current scope (closed when it closes); the
 * pool's start-up (writer + readers) is timed and recorded in `startups`.
 */
const openBoth = (filename: string, startups: Array<number>) =>
  Effect.gen(function*() {
    const single = yield* Layer.build(withServices(SqliteDatabase.layer({ filename })))
    const start = performance.now()
    const pool = yield* Layer.build(withServices(SqlitePool.layer({ filename, readers: { size: poolReaders } })))
    startups.push(performance.now() - start)
    return { single, pool }
  })

/** Rows of both halves of the seed's pair. */
export const pairCount = (result: Effect.Effect.Success<ReturnType<typeof fetchUsers>>) =>
  result.allUsers.value.length + result.olderUsers.value.length

/** What a dashboard counted, for `alternate` to check that every contender saw the same rows. */
export const dashboardCount = (report: DashboardReport) =>
  report.summary.users + report.usersOver40 + report.ageBands.length + report.topDomains.length

/** The seed's pair as a user without dbscope writes it: `@effect/sql-sqlite-node` and `Effect.all`. */
const sqliteNodePair = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  return yield* Effect.all([
    sql`SELECT ${sql.literal(columns)} FROM users ORDER BY user_id`,
    sql`SELECT ${sql.literal(columns)} FROM users WHERE age > ${pairAge} ORDER BY user_id`
  ], { concurrency: "unbounded" })
})

/** 1. to 3. on the big database: the dashboard, the seed's pair, and the event-loop lag while the pair runs. */
const bigPhase = (file: string, startups: Array<number>, reps: { dashboard: number; pair: number; lag: number }) =>
  Effect.gen(function*() {
    const dashboard = yield* Effect.scoped(Effect.gen(function*() {
      const { pool, single } = yield* openBoth(file, startups)
      const report = (concurrent: boolean) =>
        timed(Effect.flatMap(Dashboard, (dashboard) => dashboard.report({ concurrent })), dashboardCount)
      return yield* withOthersLoad(alternate("dashboard", reps.dashboard, [
        { name: "pool, concurrent", run: Effect.provide(report(true), pool) },
        { name: "pool, sequential", run: Effect.provide(report(false), pool) },
        { name: "single, sequential", run: Effect.provide(report(false), single) }
      ]))
    }))

    const pair = yield* Effect.scoped(Effect.gen(function*() {
      const { pool, single } = yield* openBoth(file, startups)
      const sqliteNode = yield* Layer.build(SqliteClient.layer({ filename: file }))
      const fetch = (concurrent: boolean) => timed(fetchUsers(pairAge, { concurrent }), pairCount)
      return yield* withOthersLoad(alternate("seed pair", reps.pair, [
        { name: "pool, concurrent", run: Effect.provide(fetch(true), pool) },
        { name: "single, sequential", run: Effect.provide(fetch(false), single) },
        {
          name: "sql-sqlite-node",
          run: Effect.provide(timed(sqliteNodePair, ([all, older]) => all.length + older.length), sqliteNode)
        }
      ]))
    }))

    // Here a run's figure is the worst lag of the 10 ms timer, not the wall time.
    const lag = yield* Effect.scoped(Effect.gen(function*() {
      const { pool, single } = yield* openBoth(file, startups)
      const lagged = Effect.map(
        withLagProbe(fetchUsers(pairAge, { concurrent: true })),
        ([result, worst]): Measured => ({ ms: worst, count: pairCount(result) })
      )
      return yield* withOthersLoad(alternate("event-loop lag", reps.lag, [
        { name: "pool, concurrent", run: Effect.provide(lagged, pool) },
        { name: "single, concurrent", run: Effect.provide(lagged, single) }
      ]))
    }))
    return { dashboard, pair, lag }
  })

/** 4. Small queries on the 1000-row sample, one call after another: olderThan(40) and point lookups. */
const samplePhase = (dir: string, startups: Array<number>, reps: number) =>
  Effect.gen(function*() {
    const file = path.join(dir, "sample.db")
    const created = yield* setup({ csv: sampleCsv }).pipe(Effect.provide(dbscopeLayer(file)))
    const { pool, single } = yield* openBoth(file, startups)
    const scans = timed(
      Effect.flatMap(UserRepo, (repo) =>
        Effect.gen(function*() {
          let rows = 0
          for (let i = 0; i < sampleScans; i++) rows += (yield* repo.olderThan(pairAge)).length
          return rows
        })),
      (rows) => rows
    )
    const ids = lookupIds(created.total, sampleLookups)
    const lookups = timed(Effect.flatMap(UserRepo, (repo) => countHits(ids, repo.byId)), (hits) => hits)
    const [[olderThan, byId], load] = yield* withOthersLoad(Effect.all([
      alternate("sample olderThan", reps, [
        { name: "pool", run: Effect.provide(scans, pool) },
        { name: "single", run: Effect.provide(scans, single) }
      ]),
      alternate("sample byId", reps, [
        { name: "pool", run: Effect.provide(lookups, pool) },
        { name: "single", run: Effect.provide(lookups, single) }
      ])
    ]))
    return { olderThan, byId, load, users: created.total }
  }).pipe(Effect.scoped)

const concurrencySuite = ({ dir, rows }: SuiteOptions) =>
  Effect.gen(function*() {
    const { atLeast, atMost } = verdicts(rows)
    // The 1,000-row sample's latencies are judged at any size.
    const anySize = verdicts(rows, 0)
    const small = rows <= 100_000
    const reps = { dashboard: small ? 7 : 5, pair: small ? 7 : 5, lag: small ? 5 : 3, sample: 5 }
    const { built, file } = yield* buildUsers(dir, rows)
    const startups: Array<number> = []
    const big = yield* bigPhase(file, startups, reps)
    const sample = yield* samplePhase(dir, startups, reps.sample)

    const [dashboard, dashboardLoad] = big.dashboard
    const [pair, pairLoad] = big.pair
    const [lag, lagLoad] = big.lag
    const loads = [dashboardLoad, pairLoad, lagLoad, sample.load]
    const dashPool = pick(dashboard, "pool, concurrent")
    const dashPoolSeq = pick(dashboard, "pool, sequential")
    const dashSingle = pick(dashboard, "single, sequential")
    const pairPool = pick(pair, "pool, concurrent")
    const pairSingle = pick(pair, "single, sequential")
    const pairNode = pick(pair, "sql-sqlite-node")
    const lagPool = pick(lag, "pool, concurrent")
    const lagSingle = pick(lag, "single, concurrent")
    const olderPool = pick(sample.olderThan, "pool")
    const olderSingle = pick(sample.olderThan, "single")
    const byIdPool = pick(sample.byId, "pool")
    const byIdSingle = pick(sample.byId, "single")

    const dashRatio = ratio(dashSingle.median, dashPool.median)
    const dashPoolRatio = ratio(dashPoolSeq.median, dashPool.median)
    const pairRatio = ratio(pairSingle.median, pairPool.median)
    const pairNodeRatio = ratio(pairNode.median, pairPool.median)
    const lagRatio = ratio(lagSingle.median, lagPool.median)
    // Latency ratios: pool / single, lower is better.
    const olderRatio = ratio(olderPool.median, olderSingle.median)
    const byIdRatio = ratio(byIdPool.median, byIdSingle.median)
    const stretch = atLeast(pairRatio, 1.2)
    const pairVerdict = `${atLeast(pairRatio, 1)}; 1.2 ${stretch === "MISSED" ? "missed" : stretch}`
    const pairRows = `${int(pairPool.count)} rows`

    yield* Console.log(
      `database: ${int(rows)} synthetic users, built in ${
        duration(built.ms)
      }; pool: ${poolReaders} reader workers + writer\n`
    )
    yield* Console.log(table(
      ["measurement (median of runs)", "dbscope pool", "compared with", "its figure", "speed ratio", "goal", ""],
      [
        [
          `1. dashboard, 4 aggregates (${reps.dashboard} runs)`,
          duration(dashPool.median),
          "single connection, sequential",
          duration(dashSingle.median),
          dashRatio,
          ">= 1.6",
          atLeast(dashRatio, 1.6)
        ],
        ["", "", "pool, sequential", duration(dashPoolSeq.median), dashPoolRatio, "", ""],
        [
          `2. seed pair, all || age > ${pairAge}, ${pairRows} (${reps.pair} runs)`,
          duration(pairPool.median),
          "single connection, sequential",
          duration(pairSingle.median),
          pairRatio,
          ">= 1.0 (1.2)",
          pairVerdict
        ],
        ["", "", "sql-sqlite-node, Effect.all", duration(pairNode.median), pairNodeRatio, "", ""],
        [
          `3. worst event-loop lag, ${lagTick} ms timer, seed pair (${reps.lag} runs)`,
          duration(lagPool.median),
          "single connection, concurrent",
          duration(lagSingle.median),
          lagRatio,
          "pool <= 50 ms",
          atMost(lagPool.median, 50)
        ]
      ]
    ))
    yield* Console.log("(speed ratio = the other's figure / the pool's: higher is better)\n")
    yield* Console.log(table(
      [
        `4. ${int(sample.users)}-row sample, one call at a time (${reps.sample} runs)`,
        "pool",
        "single connection",
        "latency ratio pool/single (lower is better)",
        "goal",
        ""
      ],
      [
        [
          `UserRepo.olderThan(${pairAge}) x ${int(sampleScans)}, ${int(olderPool.count / sampleScans)} rows each`,
          perCall(olderPool, sampleScans),
          perCall(olderSingle, sampleScans),
          olderRatio,
          "<= 1.5",
          anySize.atMost(olderRatio, 1.5)
        ],
        [
          `UserRepo.byId x ${int(sampleLookups)}, ${int(byIdPool.count)} hits`,
          perCall(byIdPool, sampleLookups),
          perCall(byIdSingle, sampleLookups),
          byIdRatio,
          "<= 1.5",
          anySize.atMost(byIdRatio, 1.5)
        ]
      ]
    ))
    yield* Console.log("\nall runs, in the order they ran (ms; 3. is the worst lag of each run):")
    yield* Console.log(table(["", "runs"], [
      ...runRows("1. dashboard", dashboard),
      ...runRows("2. seed pair", pair),
      ...runRows("3. lag", lag),
      ...runRows("4. olderThan", sample.olderThan),
      ...runRows("4. byId", sample.byId)
    ]))
    yield* Console.log(
      `\npool start-up (writer + ${poolReaders} readers), once per section, outside the runs: ` +
        `${startups.map((ms) => ms.toFixed(0)).join(", ")} ms (median ${duration(median(startups))})`
    )
    const busy = Math.max(...loads) > busyCores
    yield* Console.log(
      `CPU kept busy by other processes, in cores (should be ~0): ` +
        `1. ${dashboardLoad.toFixed(2)}, 2. ${pairLoad.toFixed(2)}, 3. ${lagLoad.toFixed(2)}, 4. ${
          sample.load.toFixed(2)
        }` +
        (busy ? busyWarning : "")
    )
    yield* Console.log(`peak RSS: ${peakRss()}`)
    yield* Console.log(
      `summary${busy ? " (machine busy, unreliable)" : ""}: dashboard pool vs single ${dashRatio}x (goal 1.6, ${
        atLeast(dashRatio, 1.6)
      }; vs pool sequential ` +
        `${dashPoolRatio}x); seed pair vs single ${pairRatio}x (goal 1.0, stretch 1.2: ${pairVerdict}), vs sql-sqlite-node ` +
        `${pairNodeRatio}x; worst lag pool ${duration(lagPool.median)} vs single ${duration(lagSingle.median)} ` +
        `(goal 50 ms, ${atMost(lagPool.median, 50)}); sample latency pool/single olderThan ${olderRatio}, ` +
        `byId ${byIdRatio} (goal <= 1.5, ${anySize.atMost(Math.max(Number(olderRatio), Number(byIdRatio)), 1.5)})`
    )
    /** Latency of one call on the sample, pool against one connection (lower is better). */
    const sampleLatency = (call: string, pool: Runs, single: Runs, calls: number, latencyRatio: string) =>
      compare({
        suite: "concurrency",
        name: `${int(sample.users)}-row sample: ${call} latency, pool`,
        ours: pool.median / calls,
        against: "one connection",
        baseline: single.median / calls,
        unit: "ms",
        ratio: Number(latencyRatio),
        better: "lower",
        // The sample has its 1,000 rows whatever --rows is: its goal holds on any run.
        goal: ratioAtMost(1.5, 0)
      })
    return measured(busy, [
      compare({
        suite: "concurrency",
        name: `dashboard, 4 aggregates, pool of ${poolReaders}`,
        ours: dashPool.median,
        against: "one connection, sequential",
        baseline: dashSingle.median,
        unit: "ms",
        ratio: Number(dashRatio),
        better: "higher",
        goal: ratioAtLeast(1.6)
      }),
      compare({
        suite: "concurrency",
        name: "same dashboard",
        ours: dashPool.median,
        against: "pool, sequential",
        baseline: dashPoolSeq.median,
        unit: "ms",
        ratio: Number(dashPoolRatio),
        better: "higher"
      }),
      compare({
        suite: "concurrency",
        name: `seed pair, ${pairRows}, pool`,
        ours: pairPool.median,
        against: "one connection, sequential",
        baseline: pairSingle.median,
        unit: "ms",
        ratio: Number(pairRatio),
        better: "higher",
        goal: ratioAtLeast(1),
        note: `stretch goal 1.2 ${stretch === "ok" ? "met" : stretch === "n/a" ? "n/a" : "missed"}`
      }),
      compare({
        suite: "concurrency",
        name: "same seed pair",
        ours: pairPool.median,
        against: "sql-sqlite-node Effect.all",
        baseline: pairNode.median,
        unit: "ms",
        ratio: Number(pairNodeRatio),
        better: "higher"
      }),
      compare({
        suite: "concurrency",
        name: "worst event-loop lag, seed pair, pool",
        ours: lagPool.median,
        against: "one connection",
        baseline: lagSingle.median,
        unit: "ms",
        ratio: null,
        better: "lower",
        goal: oursAtMost(50)
      }),
      sampleLatency(`olderThan(${pairAge})`, olderPool, olderSingle, sampleScans, olderRatio),
      sampleLatency("byId", byIdPool, byIdSingle, sampleLookups, byIdRatio)
    ])
  }).pipe(Effect.scoped)

export const suite: Suite = {
  name: "concurrency",
  description: "reader pool vs one connection: dashboard, seed pair, event-loop lag, sample latency (SQLite)",
  run: concurrencySuite
}
