/**
 * Suite `mysql`: dbscope on MariaDB/MySQL (`MysqlDatabase`) with N synthetic users in a scratch
 * database `dbscope_bench_<pid>` on the local server, dropped at the end whatever happens (skipped
 * when no server answers). 1. the seed's pair on separate pooled connections at once against one
 * after the other; 2. every row streamed (keyset pages, the driver's lazy row stream) against
 * `repo.all()`: peak RSS growth and time, each in a fresh child process like the `streams` suite's probes.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { performance } from "node:perf_hooks"
import * as MysqlDatabase from "../client/MysqlDatabase.js"
import { fetchUsers } from "../users/ConcurrentFetch.js"
import { UserRepo } from "../users/UserRepo.js"
import { streamUsers } from "../users/UserStream.js"
import { addAge, type AgeTotal, columns, loadUsers, noAges, usersLayer } from "./BenchDatabase.js"
import { compare, oursAtMost, ratioAtLeast } from "./BenchReport.js"
import { probeRounds, reportProbe, spawnProbe } from "./ChildProbe.js"
import { pairAge, pairCount, poolReaders } from "./ConcurrencySuite.js"
import {
  alternate,
  busyCores,
  type Contender,
  median,
  pick,
  rssEvery,
  rssGoalMb,
  rssProbe,
  rssTick,
  type Runs,
  timed,
  withOthersLoad
} from "./Measure.js"
import { scratchDatabase, serverAbsent, serverConfig, serverProcess } from "./MysqlServer.js"
import { measured, skipped, type Suite, type SuiteOptions } from "./Suite.js"
import { busyWarning, duration, int, mb, mbOf, peakRss, ratio, runRows, table, verdicts } from "./SuiteText.js"

const mysqlPoolSize = 4
/** How the probe processes learn the scratch database's URL (never put on their command line). */
const mysqlUrlVariable = "DBSCOPE_BENCH_MYSQL_URL"

/** The dbscope stack on a MySQL/MariaDB pool. */
const mysqlLayer = (url: Redacted.Redacted<string>, readers?: MysqlDatabase.MysqlOptions["readers"]) =>
  usersLayer(MysqlDatabase.layer({ url, poolSize: mysqlPoolSize, readers }))

/** Reader workers for the MySQL seed pair: as many as `SqlitePool`'s. */
const mysqlReaders = { size: poolReaders }

/**
 * 1. `fetchUsers(40)`: both queries at once with reader workers decoding the rows, at once on the
 * pool alone, and one after the other on the pool (`withReaders` is the context with workers).
 */
const mysqlPairPhase = (
  rows: number,
  reps: number,
  helpers: () => number,
  withReaders: Context.Context<UserRepo>
) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const [older] = yield* sql<{ readonly n: number }>`SELECT COUNT(*) AS n FROM users WHERE age > ${pairAge}`
    const expected = { all: rows, older: Number(older?.n) }
    interface Fetched {
      readonly all: number
      readonly older: number
      readonly allMs: number
      readonly olderMs: number
    }
    // Only the counts and times of each run are kept, not its rows.
    const fetched = new Map<string, Array<Fetched>>()
    const fetch = (name: string, concurrent: boolean, readers = false): Contender<UserRepo> => ({
      name,
      run: Effect.provide(
        timed(
          Effect.tap(fetchUsers(pairAge, { concurrent }), (result) =>
            Effect.sync(() => {
              const seen = fetched.get(name) ?? []
              seen.push({
                all: result.allUsers.value.length,
                older: result.olderUsers.value.length,
                allMs: result.allUsers.millis,
                olderMs: result.olderUsers.millis
              })
              fetched.set(name, seen)
            })),
          pairCount
        ),
        readers ? withReaders : Context.empty()
      )
    })
    const [runs, load] = yield* withOthersLoad(
      alternate("seed pair (MySQL)", reps, [
        fetch("concurrent, readers", true, true),
        fetch("concurrent", true),
        fetch("sequential", false)
      ]),
      helpers
    )
    const wrong = [...fetched].flatMap(([name, seen]) =>
      seen.filter((f) => f.all !== expected.all || f.older !== expected.older).map((f) =>
        `${name}: ${f.all} + ${f.older}`
      )
    )
    if (wrong.length > 0) {
      return yield* Effect.dieMessage(
        `seed pair (MySQL): expected ${expected.all} + ${expected.older} rows (COUNT(*)), got ${wrong.join(", ")}`
      )
    }
    const each = (name: string) => {
      const seen = fetched.get(name) ?? []
      return { all: median(seen.map((f) => f.allMs)), older: median(seen.map((f) => f.olderMs)) }
    }
    return {
      runs,
      load,
      expected,
      readers: each("concurrent, readers"),
      concurrent: each("concurrent"),
      sequential: each("sequential")
    }
  })

/** A MySQL memory probe's work: it returns the ages' total, calling `sample` (RSS) as it goes. */
type MysqlProbeRun = (sample: () => void) => Effect.Effect<AgeTotal, unknown, UserRepo | SqlClient.SqlClient>

const mysqlProbeKindNames = [
  "streamUsers(), keyset pages",
  "sql`...`.stream, lazy rows",
  "repo.all(), then sum"
] as const
const MysqlProbeKind = Schema.Literal(...mysqlProbeKindNames)
type MysqlProbeKind = typeof MysqlProbeKind.Type

/** What a MySQL memory probe runs, by name. */
const mysqlProbeKinds: Record<MysqlProbeKind, MysqlProbeRun> = {
  "streamUsers(), keyset pages": (sample: () => void) =>
    Stream.runFold(streamUsers(), noAges, (total, user) => {
      if (total.count % rssEvery === 0) sample()
      return addAge(total, user.age)
    }),
  "sql`...`.stream, lazy rows": (sample: () => void) =>
    Effect.flatMap(SqlClient.SqlClient, (sql) =>
      Stream.runFold(
        sql<{ readonly age: number }>`SELECT ${sql.literal(columns)} FROM users ORDER BY user_id`.stream,
        noAges,
        (total, row) => {
          if (total.count % rssEvery === 0) sample()
          return addAge(total, row.age)
        }
      )),
  "repo.all(), then sum": (sample: () => void) =>
    Effect.flatMap(UserRepo, (repo) =>
      Effect.map(repo.all(), (users) => {
        sample()
        return users.reduce((total, user) => addAge(total, user.age), noAges)
      }))
}

/** The kinds that stream, and so have the memory goal. */
const streamingKinds: ReadonlyArray<MysqlProbeKind> = ["streamUsers(), keyset pages", "sql`...`.stream, lazy rows"]

/** What a MySQL memory probe reports to the suite's process. */
const MysqlProbeResult = Schema.Struct({
  kind: MysqlProbeKind,
  baseline: Schema.Number,
  growth: Schema.Number,
  /** Time of the read and the fold, from the first query to the total. */
  ms: Schema.Number,
  sum: Schema.Number,
  count: Schema.Number,
  /** CPU time (ms) of the whole probe process, so the parent can count it as its own. */
  cpu: Schema.Number
})

/**
 * The probe `<kind>`, the database URL in `DBSCOPE_BENCH_MYSQL_URL`: one memory and time
 * measurement in this fresh process. The pool is opened (and probed) before the baseline.
 */
const runMysqlProbe = (kind: MysqlProbeKind) =>
  Effect.gen(function*() {
    const url = yield* Config.redacted(mysqlUrlVariable)
    const context = yield* Layer.build(mysqlLayer(url))
    const probe = rssProbe()
    const start = performance.now()
    const total = yield* Effect.provide(mysqlProbeKinds[kind](probe.sample), context)
    const ms = performance.now() - start
    const { baseline, growth } = probe.stop()
    const usage = process.resourceUsage()
    yield* reportProbe(MysqlProbeResult, {
      kind,
      baseline,
      growth,
      ms,
      sum: total.sum,
      count: total.count,
      cpu: (usage.userCPUTime + usage.systemCPUTime) / 1000
    })
  }).pipe(Effect.scoped)

/**
 * 2. Each kind in `reps` fresh processes, alternated: median peak RSS growth and time. The probes'
 * CPU is added to `childCpu`, which the caller counts as its own.
 */
const mysqlMemoryPhase = (url: Redacted.Redacted<string>, reps: number, childCpu: { ms: number }) =>
  Effect.gen(function*() {
    const results = yield* probeRounds(
      "memory (MySQL)",
      mysqlProbeKindNames,
      reps,
      (kind) =>
        spawnProbe(MysqlProbeResult, { suite: "mysql", kind, env: { [mysqlUrlVariable]: Redacted.value(url) } }).pipe(
          Effect.tap((result) => {
            childCpu.ms += result.cpu
          })
        )
    )
    return mysqlProbeKindNames.map((kind) => {
      const runs = results(kind)
      const ms = runs.map((r) => r.ms)
      return {
        kind,
        growth: runs.map((r) => r.growth),
        median: median(runs.map((r) => r.growth)),
        baseline: median(runs.map((r) => r.baseline)),
        times: { name: kind, ms, median: median(ms), count: runs[0]?.count ?? 0 } satisfies Runs,
        totals: runs.map((r) => `${r.sum}/${r.count}`)
      }
    })
  })

const mysqlSuite = ({ rows }: SuiteOptions) =>
  Effect.gen(function*() {
    const { atLeast, atMost } = verdicts(rows)
    const mysqlServer = yield* serverConfig
    const absent = yield* serverAbsent(mysqlServer)
    if (Option.isSome(absent)) return skipped(absent.value)
    const reps = { pair: 5, memory: 3 }
    const database = yield* scratchDatabase(mysqlServer)
    const context = yield* Layer.build(mysqlLayer(database.url))
    const built = yield* Effect.provide(loadUsers(rows), context)
    const { target } = yield* Effect.provide(MysqlDatabase.MysqlDatabase, context)
    const [version] = yield* Effect.provide(
      Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ readonly v: string }>`SELECT VERSION() AS v`),
      context
    )
    const server = yield* Effect.provide(serverProcess, context)
    const serverCpu = server.cpu
    /** How many cores the server kept busy while `effect` ran, on average. */
    const withServerLoad = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      Effect.suspend(() => {
        const [cpu, wall] = [serverCpu(), performance.now()]
        return Effect.map(effect, (a) => [a, (serverCpu() - cpu) / (performance.now() - wall)] as const)
      })

    const withReaders = yield* Layer.build(mysqlLayer(database.url, mysqlReaders))
    const [pair, pairServer] = yield* withServerLoad(
      Effect.provide(mysqlPairPhase(rows, reps.pair, serverCpu, withReaders), context)
    )
    // The probes' own CPU and the server's are the suite's work, not contention.
    const childCpu = { ms: 0 }
    const [[memory, memoryLoad], memoryServer] = yield* withServerLoad(
      withOthersLoad(mysqlMemoryPhase(database.url, reps.memory, childCpu), () => serverCpu() + childCpu.ms)
    )

    // Every probe must have summed the same ages over every user, as the server's own SUM does.
    const [stored] = yield* Effect.provide(
      Effect.flatMap(
        SqlClient.SqlClient,
        (sql) => sql<{ readonly ages: number; readonly n: number }>`SELECT SUM(age) AS ages, COUNT(*) AS n FROM users`
      ),
      context
    )
    const expectedTotal = `${Number(stored?.ages)}/${Number(stored?.n)}`
    const totals = memory.flatMap((m) => m.totals.map((total) => [m.kind, total] as const))
    if (Number(stored?.n) !== rows || totals.some(([, total]) => total !== expectedTotal)) {
      return yield* Effect.dieMessage(
        `the age sums disagree: SELECT SUM(age), COUNT(*) gives ${expectedTotal}; ` +
          totals.map(([kind, total]) => `${kind}: ${total}`).join(", ")
      )
    }

    const withWorkers = pick(pair.runs, "concurrent, readers")
    const concurrent = pick(pair.runs, "concurrent")
    const sequential = pick(pair.runs, "sequential")
    const pairRatio = ratio(sequential.median, withWorkers.median)
    const poolOnlyRatio = ratio(sequential.median, concurrent.median)
    // The most the concurrent run could gain: the two queries fully overlapped, as long as the longer.
    const idealRatio = ratio(
      pair.sequential.all + pair.sequential.older,
      Math.max(pair.sequential.all, pair.sequential.older)
    )
    const memoryOf = (kind: MysqlProbeKind) => memory.find((m) => m.kind === kind)
    const growthMb = (kind: MysqlProbeKind) => mbOf(memoryOf(kind)?.median ?? NaN)
    const streamMb = Math.max(...streamingKinds.map(growthMb))
    const timeOf = (kind: MysqlProbeKind) => duration(memoryOf(kind)?.times.median ?? NaN)
    const pairRows = `${int(pair.expected.all)} + ${int(pair.expected.older)} rows`

    yield* Console.log(
      `database: ${database.name} on ${version?.v ?? "unknown server"} (${target}), ${int(rows)} synthetic ` +
        `users, built in ${duration(built.ms)}; pool of ${mysqlPoolSize} connections\n`
    )
    yield* Console.log(table(
      [
        `1. seed pair: all users || age > ${pairAge} (median of ${reps.pair} runs)`,
        "concurrent",
        "sequential",
        "speed ratio",
        "goal",
        ""
      ],
      [
        [
          `fetchUsers(${pairAge}), ${pairRows}, ${mysqlReaders.size} reader workers`,
          duration(withWorkers.median),
          duration(sequential.median),
          pairRatio,
          ">= 1.5",
          atLeast(pairRatio, 1.5)
        ],
        [
          `same, Effect.all on the pool alone`,
          duration(concurrent.median),
          duration(sequential.median),
          poolOnlyRatio,
          "",
          ""
        ]
      ]
    ))
    yield* Console.log(
      `(speed ratio = sequential / concurrent: higher is better; concurrent = Effect.all on separate ` +
        `connections; with reader workers each decodes its rows on a core of its own)\n` +
        `each query (median): sequential all ${duration(pair.sequential.all)}, age > ${pairAge} ` +
        `${duration(pair.sequential.older)}; concurrent all ${duration(pair.concurrent.all)}, age > ${pairAge} ` +
        `${duration(pair.concurrent.older)}; a perfect overlap would give ${idealRatio}x\n` +
        `checked: every run of both returned ${pairRows}, as COUNT(*) says\n`
    )
    yield* Console.log(table(
      [
        `2. every user, sum of ages; peak RSS growth over baseline, fresh process each (median of ${reps.memory})`,
        "growth",
        "runs (MB)",
        "time",
        "goal",
        ""
      ],
      memory.map((m) => {
        const streaming = streamingKinds.includes(m.kind)
        return [
          `${m.kind} (baseline ${mb(m.baseline)})`,
          mb(m.median),
          m.growth.map((g) => mbOf(g).toFixed(0)).join(" "),
          duration(m.times.median),
          streaming ? `<= ${rssGoalMb} MB` : "",
          streaming ? atMost(growthMb(m.kind), rssGoalMb) : ""
        ]
      })
    ))
    yield* Console.log(
      `(time: the read and the fold in the probe process, RSS sampled every ${rssTick} ms and every ` +
        `${int(rssEvery)} rows)\n` +
        `checked: all ${totals.length} probe runs summed ${int(Number(stored?.ages))} ages over ` +
        `${int(Number(stored?.n))} users, as SELECT SUM(age), COUNT(*) does`
    )
    yield* Console.log("\nall runs, in the order they ran (ms; 2. in fresh processes):")
    yield* Console.log(table(["", "runs"], [
      ...runRows("1. seed pair", pair.runs),
      ...runRows("2. probe", memory.map((m) => m.times))
    ]))
    const busy = Math.max(pair.load, memoryLoad) > busyCores
    const serverLine = Option.isSome(server.pid)
      ? `MariaDB/MySQL server (pid ${server.pid.value}) CPU meanwhile, counted as the benchmark's, in cores: ` +
        `1. ${pairServer.toFixed(2)}, 2. ${memoryServer.toFixed(2)}`
      : "server CPU: not measurable from here (server process not visible), counted as other processes'"
    yield* Console.log(
      `\nCPU kept busy by other processes, in cores (should be ~0; the probes count as this process): ` +
        `1. ${pair.load.toFixed(2)}, 2. ${memoryLoad.toFixed(2)}` +
        (busy ? busyWarning : "") +
        `\n${serverLine}`
    )
    yield* Console.log(`peak RSS of this process (seed pair): ${peakRss()}`)
    yield* Console.log(
      `summary${
        busy ? " (machine busy, unreliable)" : ""
      }: MySQL seed pair concurrent (reader workers) vs sequential ` +
        `${pairRatio}x (goal >= 1.5, ${atLeast(pairRatio, 1.5)}; perfect overlap ${idealRatio}x); streaming ` +
        `RSS growth streamUsers() ${growthMb("streamUsers(), keyset pages").toFixed(1)} MB in ` +
        `${timeOf("streamUsers(), keyset pages")}, sql.stream ${growthMb("sql`...`.stream, lazy rows").toFixed(1)} ` +
        `MB in ${timeOf("sql`...`.stream, lazy rows")} (goal <= ${rssGoalMb}, ${atMost(streamMb, rssGoalMb)}) ` +
        `vs repo.all() ${growthMb("repo.all(), then sum").toFixed(1)} MB in ${timeOf("repo.all(), then sum")}; ` +
        `row counts and age sums agree`
    )
    const streamed = (kind: MysqlProbeKind, name: string) =>
      compare({
        suite: "mysql",
        name: `RSS growth streaming, ${name}`,
        ours: growthMb(kind),
        against: "repo.all()",
        baseline: growthMb("repo.all(), then sum"),
        unit: "MB",
        ratio: null,
        better: "lower",
        goal: oursAtMost(rssGoalMb),
        note: `${timeOf(kind)}; repo.all() ${timeOf("repo.all(), then sum")}`
      })
    return measured(busy, [
      compare({
        suite: "mysql",
        name: `seed pair, ${pairRows}, ${mysqlReaders.size} reader workers`,
        ours: withWorkers.median,
        against: "one after the other",
        baseline: sequential.median,
        unit: "ms",
        ratio: Number(pairRatio),
        better: "higher",
        goal: ratioAtLeast(1.5),
        note: `perfect overlap ${idealRatio}x`
      }),
      streamed("streamUsers(), keyset pages", "streamUsers()"),
      streamed("sql`...`.stream, lazy rows", "sql`...`.stream")
    ])
  }).pipe(Effect.scoped)

export const suite: Suite = {
  name: "mysql",
  description:
    "seed pair concurrent vs sequential, streaming vs repo.all() RSS (MariaDB/MySQL at DBSCOPE_BENCH_MYSQL, " +
    "default 127.0.0.1:3306)",
  run: mysqlSuite,
  probe: (kind) => Schema.is(MysqlProbeKind)(kind) ? Option.some(runMysqlProbe(kind)) : Option.none()
}
