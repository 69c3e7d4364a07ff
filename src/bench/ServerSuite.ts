/**
 * What the suites on a database server (`mysql`, `postgres`) share: N synthetic users in a scratch
 * database `dbscope_bench_<pid>` on the server, dropped at the end whatever happens (the suite is
 * skipped when no server answers), and two measurements made alike on each backend, printed alike:
 * 1. the seed's pair on separate pooled connections at once (with reader workers decoding the rows,
 * and on the pool alone) against one after the other; 2. every row streamed (keyset pages, the
 * driver's lazy row stream) against `repo.all()`: peak RSS growth and time, each in a fresh child
 * process like the `streams` suite's probes. A backend says only what differs (`Backend`).
 */
import type * as Reactivity from "@effect/experimental/Reactivity"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { performance } from "node:perf_hooks"
import type { PreparedQueries } from "../client/PreparedQueries.js"
import type { ReaderPoolSettings } from "../readers/ReaderPool.js"
import { fetchUsers } from "../users/ConcurrentFetch.js"
import type * as Progress from "../users/Progress.js"
import { UserRepo } from "../users/UserRepo.js"
import { streamUsers } from "../users/UserStream.js"
import { addAge, type AgeTotal, columns, loadUsers, noAges } from "./BenchDatabase.js"
import { compare, type Comparison, oursAtMost, ratioAtLeast } from "./BenchReport.js"
import { probeRounds, reportProbe, spawnProbe } from "./ChildProbe.js"
import { pairAge, pairCount, poolReaders } from "./ConcurrencySuite.js"
import * as Measure from "./Measure.js"
import type { ServerProcess } from "./ProcessCpu.js"
import { busyWarning, duration, int, mb, mbOf, peakRss, ratio, runRows, table, verdicts } from "./SuiteText.js"

/** Reader workers for the seed pair: as many as `SqlitePool`'s. */
export const serverReaders = { size: poolReaders }

/** The stack a suite measures: the repository, over a backend's client. */
export type BackendServices =
  | UserRepo
  | Progress.Progress
  | SqlClient.SqlClient
  | PreparedQueries
  | Reactivity.Reactivity

/** One backend as the server suites measure it: what differs from one server to another. */
export interface Backend<Services> {
  readonly suite: "mysql" | "postgres"
  /** The backend, in the suite's text: `MySQL`. */
  readonly label: string
  /** The server's software, in the CPU line: `MariaDB/MySQL`. */
  readonly serverKind: string
  /** How the probe processes learn the scratch database's URL (never put on their command line). */
  readonly urlVariable: string
  readonly poolSize: number
  /** The dbscope stack on a pool of `poolSize` connections to `url`, with reader workers if `readers`. */
  readonly layer: (
    url: Redacted.Redacted<string>,
    readers?: ReaderPoolSettings
  ) => Layer.Layer<BackendServices | Services, unknown>
  /** Where the client connects, as it says itself (no password). */
  readonly target: Effect.Effect<string, never, Services>
  /** The server's name and version, as the suite prints it. */
  readonly version: Effect.Effect<string, unknown, SqlClient.SqlClient>
  /** The server, without a database: from the environment, else the bench machine's. */
  readonly server: Config.Config<Redacted.Redacted<string>>
  /** Why the suite cannot run here (no server answers), or none. */
  readonly absent: (server: Redacted.Redacted<string>) => Effect.Effect<Option.Option<string>, unknown>
  /** The scratch database for the suite's scope. */
  readonly scratch: (
    server: Redacted.Redacted<string>
  ) => Effect.Effect<{ readonly name: string; readonly url: Redacted.Redacted<string> }, unknown, Scope.Scope>
  /** The server's process(es) on this machine and their CPU time. */
  readonly process: Effect.Effect<ServerProcess, unknown, SqlClient.SqlClient>
  /** Run once the users are loaded, before anything is measured, and named in the header line. */
  readonly afterLoad?: {
    readonly effect: Effect.Effect<void, unknown, SqlClient.SqlClient>
    readonly name: string
  }
}

/**
 * 1. `fetchUsers(40)`: both queries at once with reader workers decoding the rows, at once on the
 * pool alone, and one after the other on the pool (`withReaders` is the context with workers).
 */
const pairPhase = (
  label: string,
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
    const fetch = (name: string, concurrent: boolean, readers = false): Measure.Contender<UserRepo> => ({
      name,
      run: Effect.provide(
        Measure.timed(
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
    const [runs, load] = yield* Measure.withOthersLoad(
      Measure.alternate(`seed pair (${label})`, reps, [
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
        `seed pair (${label}): expected ${expected.all} + ${expected.older} rows (COUNT(*)), got ${wrong.join(", ")}`
      )
    }
    const each = (name: string) => {
      const seen = fetched.get(name) ?? []
      return { all: Measure.median(seen.map((f) => f.allMs)), older: Measure.median(seen.map((f) => f.olderMs)) }
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

/** A memory probe's work: it returns the ages' total, calling `sample` (RSS) as it goes. */
type ProbeRun = (sample: () => void) => Effect.Effect<AgeTotal, unknown, UserRepo | SqlClient.SqlClient>

const probeKindNames = [
  "streamUsers(), keyset pages",
  "sql`...`.stream, lazy rows",
  "repo.all(), then sum"
] as const
const ProbeKind = Schema.Literal(...probeKindNames)
type ProbeKind = typeof ProbeKind.Type

/** What a memory probe runs, by name. */
const probeKinds: Record<ProbeKind, ProbeRun> = {
  "streamUsers(), keyset pages": (sample: () => void) =>
    Stream.runFold(streamUsers(), noAges, (total, user) => {
      if (total.count % Measure.rssEvery === 0) sample()
      return addAge(total, user.age)
    }),
  "sql`...`.stream, lazy rows": (sample: () => void) =>
    Effect.flatMap(SqlClient.SqlClient, (sql) =>
      Stream.runFold(
        sql<{ readonly age: number }>`SELECT ${sql.literal(columns)} FROM users ORDER BY user_id`.stream,
        noAges,
        (total, row) => {
          if (total.count % Measure.rssEvery === 0) sample()
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
const streamingKinds: ReadonlyArray<ProbeKind> = ["streamUsers(), keyset pages", "sql`...`.stream, lazy rows"]

/** What a memory probe reports to the suite's process. */
const ProbeResult = Schema.Struct({
  kind: ProbeKind,
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
 * The probe `<kind>`, the database URL in the backend's `urlVariable`: one memory and time
 * measurement in this fresh process. The pool is opened (and probed) before the baseline.
 */
const runProbe = <S>(backend: Backend<S>, kind: ProbeKind) =>
  Effect.gen(function*() {
    const url = yield* Config.redacted(backend.urlVariable)
    const context = yield* Layer.build(backend.layer(url))
    const probe = Measure.rssProbe()
    const start = performance.now()
    const total = yield* Effect.provide(probeKinds[kind](probe.sample), context)
    const ms = performance.now() - start
    const { baseline, growth } = probe.stop()
    const usage = process.resourceUsage()
    yield* reportProbe(ProbeResult, {
      kind,
      baseline,
      growth,
      ms,
      sum: total.sum,
      count: total.count,
      cpu: (usage.userCPUTime + usage.systemCPUTime) / 1000
    })
  }).pipe(Effect.scoped)

/** The memory probe of kind `kind`, if it is one (a suite's `probe`). */
export const memoryProbe = <S>(backend: Backend<S>, kind: string) =>
  Schema.is(ProbeKind)(kind) ? Option.some(runProbe(backend, kind)) : Option.none()

/**
 * 2. Each kind in `reps` fresh processes, alternated: median peak RSS growth and time. The probes'
 * CPU is added to `childCpu`, which the caller counts as its own.
 */
const memoryPhase = <S>(backend: Backend<S>, url: Redacted.Redacted<string>, reps: number, childCpu: { ms: number }) =>
  Effect.gen(function*() {
    const results = yield* probeRounds(
      `memory (${backend.label})`,
      probeKindNames,
      reps,
      (kind) =>
        spawnProbe(ProbeResult, { suite: backend.suite, kind, env: { [backend.urlVariable]: Redacted.value(url) } })
          .pipe(
            Effect.tap((result) => {
              childCpu.ms += result.cpu
            })
          )
    )
    return probeKindNames.map((kind) => {
      const runs = results(kind)
      const ms = runs.map((r) => r.ms)
      return {
        kind,
        growth: runs.map((r) => r.growth),
        median: Measure.median(runs.map((r) => r.growth)),
        baseline: Measure.median(runs.map((r) => r.baseline)),
        times: { name: kind, ms, median: Measure.median(ms), count: runs[0]?.count ?? 0 } satisfies Measure.Runs,
        totals: runs.map((r) => `${r.sum}/${r.count}`)
      }
    })
  })

/** The server's work while `effect` ran: how many cores it kept busy, on average. */
const withServerLoad = (server: ServerProcess) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.suspend(() => {
    const [cpu, wall] = [server.cpu(), performance.now()]
    return Effect.map(effect, (a) => [a, (server.cpu() - cpu) / (performance.now() - wall)] as const)
  })

/** A suite's scratch database with its users, and the dbscope stack on it. */
export interface Setup<S> {
  readonly rows: number
  readonly database: { readonly name: string; readonly url: Redacted.Redacted<string> }
  readonly context: Context.Context<BackendServices | S>
  readonly server: ServerProcess
  /** `effect`, and how many cores the server kept busy meanwhile. */
  readonly withServerLoad: ReturnType<typeof withServerLoad>
  /** The line that says which database, server and users the suite measures on. */
  readonly header: string
}

/**
 * The scratch database filled with `rows` users and the dbscope stack on it, for the current
 * scope; a reason to skip when no server answers.
 */
export const setUp = <S>(
  backend: Backend<S>,
  rows: number
): Effect.Effect<Either.Either<Setup<S>, string>, unknown, Scope.Scope> =>
  Effect.gen(function*() {
    const serverUrl = yield* backend.server
    const absent = yield* backend.absent(serverUrl)
    if (Option.isSome(absent)) return Either.left(absent.value)
    const database = yield* backend.scratch(serverUrl)
    const context = yield* Layer.build(backend.layer(database.url))
    const built = yield* Effect.provide(loadUsers(rows), context)
    if (backend.afterLoad !== undefined) yield* Effect.provide(backend.afterLoad.effect, context)
    const target = yield* Effect.provide(backend.target, context)
    const version = yield* Effect.provide(backend.version, context)
    const server = yield* Effect.provide(backend.process, context)
    return Either.right({
      rows,
      database,
      context,
      server,
      withServerLoad: withServerLoad(server),
      header: `database: ${database.name} on ${version} (${target}), ${int(rows)} synthetic ` +
        `users, built in ${duration(built.ms)}${
          backend.afterLoad === undefined ? "" : `, then ${backend.afterLoad.name}`
        }; pool of ${backend.poolSize} connections\n`
    })
  })

/** What the two shared phases measured, checked. */
export type Measured = Effect.Effect.Success<ReturnType<typeof measure>>

/**
 * 1. the seed pair and 2. the memory probes on the set-up database, then the check that every
 * probe summed the ages the server's own SUM gives.
 */
export const measure = <S>(backend: Backend<S>, setup: Setup<S>) =>
  Effect.gen(function*() {
    const { context, database, rows, server } = setup
    const reps = { pair: 5, memory: 3 }
    const withReaders = yield* Layer.build(backend.layer(database.url, serverReaders))
    const [pair, pairServer] = yield* setup.withServerLoad(
      Effect.provide(pairPhase(backend.label, rows, reps.pair, server.cpu, withReaders), context)
    )
    // The probes' own CPU and the server's are the suite's work, not contention.
    const childCpu = { ms: 0 }
    const [[memory, memoryLoad], memoryServer] = yield* setup.withServerLoad(
      Measure.withOthersLoad(
        memoryPhase(backend, database.url, reps.memory, childCpu),
        () => server.cpu() + childCpu.ms
      )
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

    const withWorkers = Measure.pick(pair.runs, "concurrent, readers")
    const sequential = Measure.pick(pair.runs, "sequential")
    const memoryOf = (kind: ProbeKind) => memory.find((m) => m.kind === kind)
    const growthMb = (kind: ProbeKind) => mbOf(memoryOf(kind)?.median ?? NaN)
    return {
      label: backend.label,
      suite: backend.suite,
      rows,
      reps,
      pair,
      pairServer,
      memory,
      memoryLoad,
      memoryServer,
      stored: { ages: Number(stored?.ages), n: Number(stored?.n) },
      probeRuns: totals.length,
      withWorkers,
      sequential,
      concurrent: Measure.pick(pair.runs, "concurrent"),
      pairRatio: ratio(sequential.median, withWorkers.median),
      // The most the concurrent run could gain: the two queries fully overlapped, as long as the longer.
      idealRatio: ratio(
        pair.sequential.all + pair.sequential.older,
        Math.max(pair.sequential.all, pair.sequential.older)
      ),
      growthMb,
      streamMb: Math.max(...streamingKinds.map(growthMb)),
      timeOf: (kind: ProbeKind) => duration(memoryOf(kind)?.times.median ?? NaN),
      pairRows: `${int(pair.expected.all)} + ${int(pair.expected.older)} rows`
    }
  })

/** Sections 1. and 2. as printed. */
export const printSections = (m: Measured) =>
  Effect.gen(function*() {
    const { atLeast, atMost } = verdicts(m.rows)
    const poolOnlyRatio = ratio(m.sequential.median, m.concurrent.median)
    yield* Console.log(table(
      [
        `1. seed pair: all users || age > ${pairAge} (median of ${m.reps.pair} runs)`,
        "concurrent",
        "sequential",
        "speed ratio",
        "goal",
        ""
      ],
      [
        [
          `fetchUsers(${pairAge}), ${m.pairRows}, ${serverReaders.size} reader workers`,
          duration(m.withWorkers.median),
          duration(m.sequential.median),
          m.pairRatio,
          ">= 1.5",
          atLeast(m.pairRatio, 1.5)
        ],
        [
          `same, Effect.all on the pool alone`,
          duration(m.concurrent.median),
          duration(m.sequential.median),
          poolOnlyRatio,
          "",
          ""
        ]
      ]
    ))
    yield* Console.log(
      `(speed ratio = sequential / concurrent: higher is better; concurrent = Effect.all on separate ` +
        `connections; with reader workers each decodes its rows on a core of its own)\n` +
        `each query (median): sequential all ${duration(m.pair.sequential.all)}, age > ${pairAge} ` +
        `${duration(m.pair.sequential.older)}; concurrent all ${duration(m.pair.concurrent.all)}, age > ${pairAge} ` +
        `${duration(m.pair.concurrent.older)}; a perfect overlap would give ${m.idealRatio}x\n` +
        `checked: every run of both returned ${m.pairRows}, as COUNT(*) says\n`
    )
    yield* Console.log(table(
      [
        `2. every user, sum of ages; peak RSS growth over baseline, fresh process each (median of ${m.reps.memory})`,
        "growth",
        "runs (MB)",
        "time",
        "goal",
        ""
      ],
      m.memory.map((probe) => {
        const streaming = streamingKinds.includes(probe.kind)
        return [
          `${probe.kind} (baseline ${mb(probe.baseline)})`,
          mb(probe.median),
          probe.growth.map((g) => mbOf(g).toFixed(0)).join(" "),
          duration(probe.times.median),
          streaming ? `<= ${Measure.rssGoalMb} MB` : "",
          streaming ? atMost(m.growthMb(probe.kind), Measure.rssGoalMb) : ""
        ]
      })
    ))
    yield* Console.log(
      `(time: the read and the fold in the probe process, RSS sampled every ${Measure.rssTick} ms and every ` +
        `${int(Measure.rssEvery)} rows)\n` +
        `checked: all ${m.probeRuns} probe runs summed ${int(m.stored.ages)} ages over ` +
        `${int(m.stored.n)} users, as SELECT SUM(age), COUNT(*) does`
    )
  })

/** The rows of sections 1. and 2. in the "all runs" table. */
export const sectionRunRows = (m: Measured) => [
  ...runRows("1. seed pair", m.pair.runs),
  ...runRows("2. probe", m.memory.map((probe) => probe.times))
]

/**
 * The "all runs" table, the lines on other processes' and the server's CPU in each section
 * (`loads` and `serverLoads`, from 1.), this process's peak RSS; whether the machine was busy.
 */
export const printRunsAndLoads = (
  server: ServerProcess,
  serverKind: string,
  rows: ReadonlyArray<ReadonlyArray<string>>,
  loads: ReadonlyArray<number>,
  serverLoads: ReadonlyArray<number>
) =>
  Effect.gen(function*() {
    const numbered = (values: ReadonlyArray<number>) => values.map((v, i) => `${i + 1}. ${v.toFixed(2)}`).join(", ")
    yield* Console.log("\nall runs, in the order they ran (ms; 2. in fresh processes):")
    yield* Console.log(table(["", "runs"], rows))
    const busy = Math.max(...loads) > Measure.busyCores
    const serverLine = Option.isSome(server.pid)
      ? `${serverKind} server (pid ${server.pid.value}) CPU meanwhile, counted as the benchmark's, in cores: ` +
        numbered(serverLoads)
      : "server CPU: not measurable from here (server process not visible), counted as other processes'"
    yield* Console.log(
      `\nCPU kept busy by other processes, in cores (should be ~0; the probes count as this process): ` +
        numbered(loads) +
        (busy ? busyWarning : "") +
        `\n${serverLine}`
    )
    yield* Console.log(`peak RSS of this process (seed pair): ${peakRss()}`)
    return busy
  })

/** The summary's account of sections 1. and 2. */
export const sectionsSummary = (m: Measured) => {
  const { atLeast, atMost } = verdicts(m.rows)
  return `${m.label} seed pair concurrent (reader workers) vs sequential ` +
    `${m.pairRatio}x (goal >= 1.5, ${atLeast(m.pairRatio, 1.5)}; perfect overlap ${m.idealRatio}x); streaming ` +
    `RSS growth streamUsers() ${m.growthMb("streamUsers(), keyset pages").toFixed(1)} MB in ` +
    `${m.timeOf("streamUsers(), keyset pages")}, sql.stream ${m.growthMb("sql`...`.stream, lazy rows").toFixed(1)} ` +
    `MB in ${m.timeOf("sql`...`.stream, lazy rows")} (goal <= ${Measure.rssGoalMb}, ${
      atMost(m.streamMb, Measure.rssGoalMb)
    }) ` +
    `vs repo.all() ${m.growthMb("repo.all(), then sum").toFixed(1)} MB in ${m.timeOf("repo.all(), then sum")}`
}

/** The comparisons of sections 1. and 2. */
export const sectionComparisons = (m: Measured): ReadonlyArray<Comparison> => {
  const streamed = (kind: ProbeKind, name: string) =>
    compare({
      suite: m.suite,
      name: `RSS growth streaming, ${name}`,
      ours: m.growthMb(kind),
      against: "repo.all()",
      baseline: m.growthMb("repo.all(), then sum"),
      unit: "MB",
      ratio: null,
      better: "lower",
      goal: oursAtMost(Measure.rssGoalMb),
      note: `${m.timeOf(kind)}; repo.all() ${m.timeOf("repo.all(), then sum")}`
    })
  return [
    compare({
      suite: m.suite,
      name: `seed pair, ${m.pairRows}, ${serverReaders.size} reader workers`,
      ours: m.withWorkers.median,
      against: "one after the other",
      baseline: m.sequential.median,
      unit: "ms",
      ratio: Number(m.pairRatio),
      better: "higher",
      goal: ratioAtLeast(1.5),
      note: `perfect overlap ${m.idealRatio}x`
    }),
    streamed("streamUsers(), keyset pages", "streamUsers()"),
    streamed("sql`...`.stream, lazy rows", "sql`...`.stream")
  ]
}
