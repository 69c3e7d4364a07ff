/**
 * Suite `cluster`: dbscope on the local MariaDB Galera cluster (`npm run cluster -- start`; started
 * here, and stopped afterwards, when none runs; skipped where none can be made), in a scratch
 * database `dbscope_bench_cluster_<pid>` dropped at the end whatever happens.
 * 1. kill trials (`DBSCOPE_BENCH_KILLS`, default 10): 4 writers through node 1, node 1 SIGKILLed
 *    after 1 s, 5 s more of writes, the node restarted: acknowledged writes lost or doubled (goal 0),
 *    time from the kill to the first write that succeeds;
 * 2. a conflict storm (`DBSCOPE_BENCH_STORM_SECONDS`, default 10): clients through nodes 1 and 2
 *    on the same 100 rows: lost updates (goal 0);
 * 3. reads on min(--rows, 200,000) users (32 MB buffer pool per node, every node on this machine):
 *    the seed pair, the dashboard and point lookups on node 1 alone against the cluster URL with
 *    causal and with stale reads.
 * The cluster's manager and workloads (`src/cluster`) are not in the published package: they are
 * imported when the suite runs, and without them the suite is skipped.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as os from "node:os"
import { performance } from "node:perf_hooks"
import * as MysqlDatabase from "../client/MysqlDatabase.js"
import type * as ClusterTrials from "../cluster/ClusterTrials.js"
import type * as GaleraCluster from "../cluster/GaleraCluster.js"
import { fetchUsers } from "../users/ConcurrentFetch.js"
import { Dashboard } from "../users/Dashboard.js"
import { UserRepo } from "../users/UserRepo.js"
import { loadUsers, usersLayer } from "./BenchDatabase.js"
import { compare, oursAtMost } from "./BenchReport.js"
import { dashboardCount, pairAge, pairCount } from "./ConcurrencySuite.js"
import {
  alternate,
  busyCores,
  type Contender,
  countHitsConcurrently,
  lookupIds,
  type Measured,
  median,
  pick,
  type Runs,
  timed,
  withOthersLoad
} from "./Measure.js"
import { scratchDatabase } from "./MysqlServer.js"
import { clockTicks, processCpu } from "./ProcessCpu.js"
import { measured, skipped, type Suite, type SuiteOptions } from "./Suite.js"
import { busyWarning, duration, int, perCall, ratio, runRows, table, verdicts } from "./SuiteText.js"

/** Kill trials to run (`DBSCOPE_BENCH_KILLS`). */
const killsConfig = Config.integer("DBSCOPE_BENCH_KILLS").pipe(
  Config.validate({ message: "DBSCOPE_BENCH_KILLS must be 1 or more", validation: (n) => n >= 1 }),
  Config.withDefault(10)
)

/** Length of the conflict storm in seconds (`DBSCOPE_BENCH_STORM_SECONDS`; the tests shorten it). */
const stormConfig = Config.integer("DBSCOPE_BENCH_STORM_SECONDS").pipe(
  Config.validate({ message: "DBSCOPE_BENCH_STORM_SECONDS must be 1 or more", validation: (n) => n >= 1 }),
  Config.withDefault(10)
)

/** Every kill trial: writers, load before and after the kill, and how soon the client notices. */
const trial = {
  writers: 4,
  before: Duration.seconds(1),
  after: Duration.seconds(5),
  checkInterval: Duration.millis(250)
}
/** Rows both storm clients increment. */
const stormRows = 100
/**
 * At most this many users for the reads: each node has a 32 MB buffer pool and the nodes share this
 * machine's cores, so a million rows would measure the disk and the swap, not the routing.
 */
const readRowCap = 200_000
/** Connections per node of each reading client. */
const readPoolSize = 8
const lookups = 2_000
const lookupConcurrency = 8
const reps = { pair: 5, dashboard: 5, lookups: 5 }

/** The cluster's manager and its workloads, imported when the suite runs. */
interface Tooling {
  readonly galera: typeof GaleraCluster
  readonly trials: typeof ClusterTrials
}

const isModuleNotFound = (error: unknown) =>
  typeof error === "object" && error !== null && "code" in error && error.code === "ERR_MODULE_NOT_FOUND"

/** The tooling, or why this installation has none (a published package ships no `src/cluster`). */
const loadTooling = Effect.tryPromise({
  try: () => Promise.all([import("../cluster/GaleraCluster.js"), import("../cluster/ClusterTrials.js")]),
  catch: (error) => error
}).pipe(
  Effect.map(([galera, trials]): Either.Either<Tooling, string> => Either.right({ galera, trials })),
  Effect.catchIf(isModuleNotFound, (error) =>
    Effect.succeed(Either.left(
      `the Galera cluster tooling is not in this installation (${
        String(error instanceof Error ? error.message : error).split("\n")[0]
      }): run the suite from a checkout`
    ))),
  Effect.orDie
)

/** The first line of an error's message. */
const firstLine = (error: unknown) => String(error instanceof Error ? error.message : error).split("\n")[0] ?? ""

/**
 * A healthy cluster for the suite's scope: the running one, else one started now and stopped when
 * the scope closes (only when no node ran before: nodes this suite did not start are left alone).
 * Why there is none, when one cannot be started here (no Galera provider, ports taken, ...).
 */
const usableCluster = ({ galera }: Tooling, settings: GaleraCluster.ClusterSettings) =>
  Effect.gen(function*() {
    const nodes = yield* galera.status(settings)
    if (galera.healthy(nodes)) return Either.right("already running")
    const noneRan = nodes.every((node) => Option.isNone(node.pid))
    yield* Console.error(`  no healthy Galera cluster: starting ${noneRan ? "one" : "its missing nodes"}`)
    // Stopped when the scope closes if no node ran before: also whatever a failed start left running.
    const started = yield* Effect.acquireRelease(
      Effect.either(galera.start(settings)),
      (started) =>
        noneRan
          ? galera.stop(settings).pipe(
            Effect.zipRight(
              Either.isRight(started) ? Console.log("stopped the Galera cluster this suite started") : Effect.void
            ),
            Effect.orDie
          )
          : Effect.void
    )
    return Either.isRight(started)
      ? Either.right(noneRan ? "started by this suite" : "its missing nodes restarted by this suite")
      : Either.left(
        `no healthy Galera cluster at ${galera.url(settings)}, and none could be started: ${firstLine(started.left)}`
      )
  })

/** Warnings counted while an effect ran (not printed), and the first of them. */
interface Warnings {
  count: number
  first: Option.Option<string>
}

const messageText = (message: unknown) => (Array.isArray(message) ? message : [message]).map(String).join(" ")

/**
 * Runs `effect` counting its warnings instead of printing them: the cluster client says "taken out
 * of service" and "back in service" on every kill, which would bury the suite's own output. Errors
 * still print.
 */
const countingWarnings = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.suspend(() => {
    const warnings: Warnings = { count: 0, first: Option.none() }
    const counting = Logger.make<unknown, void>((options) => {
      if (LogLevel.greaterThanEqual(options.logLevel, LogLevel.Error)) Logger.defaultLogger.log(options)
      else if (options.logLevel._tag === "Warning") {
        warnings.count++
        if (Option.isNone(warnings.first)) warnings.first = Option.some(messageText(options.message))
      }
    })
    return effect.pipe(
      Effect.provide(Logger.replace(Logger.defaultLogger, counting)),
      Effect.map((a) => [a, warnings] as const)
    )
  })

/**
 * 1. `kills` kill trials, one after the other, each with a fresh client writing through node 1; every
 * node is running again after each (the trial restarts the node it killed; a failed trial too).
 */
const killPhase = (
  { galera, trials }: Tooling,
  settings: GaleraCluster.ClusterSettings,
  url: Redacted.Redacted<string>,
  kills: number
) =>
  Effect.gen(function*() {
    const nodeLayers = yield* trials.nodeLayers(url)
    const everyNodeUp = Effect.orDie(
      Effect.forEach(galera.nodeNumbers(settings), (node) => galera.restart(settings, node), { discard: true })
    )
    const results: Array<ClusterTrials.KillTrialResult & { readonly restartMs: number }> = []
    for (let n = 1; n <= kills; n++) {
      let restartMs = NaN
      yield* Console.error(`  1. kill trial ${n}/${kills}`)
      const result = yield* trials.killTrial({
        trial: `trial${n}`,
        writers: trial.writers,
        before: trial.before,
        after: trial.after,
        kill: (node) => galera.kill(settings, node),
        restart: (node) =>
          Effect.map(Effect.timed(galera.restart(settings, node)), ([took]) => {
            restartMs = Duration.toMillis(took)
          }),
        nodeLayers
      }).pipe(
        Effect.provide(Layer.fresh(trials.clusterLayer(url, { checkInterval: trial.checkInterval }))),
        Effect.ensuring(everyNodeUp)
      )
      results.push({ ...result, restartMs })
    }
    return results
  })

/** The kill trials' totals and the figures of their summary. */
const killTotals = (results: ReadonlyArray<ClusterTrials.KillTrialResult>) => {
  const sum = (f: (r: ClusterTrials.KillTrialResult) => number) => results.reduce((total, r) => total + f(r), 0)
  const recovered = results.flatMap((r) => r.recoveredMs === undefined ? [] : [r.recoveredMs])
  return {
    acknowledged: sum((r) => r.acknowledged),
    failed: sum((r) => r.failed),
    lost: sum((r) => r.lost),
    duplicated: sum((r) => r.duplicated),
    retries: sum((r) => r.retries),
    disagreeing: results.filter((r) => new Set(r.rowsPerNode).size !== 1).length,
    recoveredMedian: median(recovered),
    recoveredMax: Math.max(...recovered),
    unrecovered: results.length - recovered.length,
    slowest: Math.max(...results.map((r) => r.slowestMs))
  }
}

/** The dbscope stack with the dashboard on a MySQL client of `url` (one server, or a cluster). */
const readLayer = (url: Redacted.Redacted<string>, cluster?: MysqlDatabase.MysqlOptions["cluster"]) =>
  Dashboard.Default.pipe(
    Layer.provideMerge(usersLayer(MysqlDatabase.layer({ url, poolSize: readPoolSize, cluster })))
  )

const oneNode = "node 1 alone"
const causal = "cluster, causal reads"
const stale = "cluster, stale reads"

/** What every client of the reads provides. */
type ReadServices = Layer.Layer.Success<ReturnType<typeof readLayer>>

/**
 * Fails unless every node has applied all `users`: a node still applying the load (one 200,000-row
 * transaction takes it a second or more) would give a stale client fewer rows than the others. The
 * read waits for every write committed before it; `SET STATEMENT ... FOR` because MariaDB skips that
 * wait inside a transaction (after BEGIN), so `SET SESSION` + SELECT in one would read 0 rows here.
 */
const everyNodeHas = (nodeLayers: ReadonlyArray<Layer.Layer<SqlClient.SqlClient, unknown>>, users: number) =>
  Effect.forEach(nodeLayers, (layer, index) =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const [row] = yield* sql<{ readonly n: number }>`
        SET STATEMENT wsrep_sync_wait = 1 FOR SELECT COUNT(*) AS n FROM users`
      if (Number(row?.n) !== users) {
        return yield* Effect.dieMessage(`3. node ${index + 1} holds ${Number(row?.n)} users, not ${users}`)
      }
    }).pipe(Effect.provide(layer)), { discard: true })

/**
 * 3. The seed pair, the dashboard and point lookups, each on node 1 alone and on the cluster URL with
 * causal and with stale reads, alternated round by round. `nodesCpu` is the nodes' work, not contention.
 */
const readPhase = (
  url: Redacted.Redacted<string>,
  node1: Redacted.Redacted<string>,
  users: number,
  nodesCpu: () => number
) =>
  Effect.gen(function*() {
    const clients = [
      [oneNode, yield* Layer.build(readLayer(node1))],
      [causal, yield* Layer.build(readLayer(url, { reads: "causal" }))],
      [stale, yield* Layer.build(readLayer(url, { reads: "stale" }))]
    ] as const
    const onEach = (run: Effect.Effect<Measured, unknown, ReadServices>): ReadonlyArray<Contender<never>> =>
      clients.map(([name, context]) => ({ name, run: Effect.provide(run, context) }))

    const [older] = yield* Effect.provide(
      Effect.flatMap(
        SqlClient.SqlClient,
        (sql) => sql<{ readonly n: number }>`SELECT COUNT(*) AS n FROM users WHERE age > ${pairAge}`
      ),
      clients[0][1]
    )
    const expected = users + Number(older?.n)
    const pair = timed(fetchUsers(pairAge, { concurrent: true }), pairCount)
    const dashboard = timed(
      Effect.flatMap(Dashboard, (dashboard) => dashboard.report({ concurrent: true })),
      dashboardCount
    )
    const ids = lookupIds(users, lookups)
    const lookup = timed(
      Effect.flatMap(UserRepo, (repo) => countHitsConcurrently(ids, lookupConcurrency, repo.byId)),
      (hits) => hits
    )

    const cpuBefore = nodesCpu()
    const wallBefore = performance.now()
    const [[pairRuns, dashboardRuns, lookupRuns], load] = yield* withOthersLoad(
      Effect.all([
        alternate("3. seed pair", reps.pair, onEach(pair)),
        alternate("3. dashboard", reps.dashboard, onEach(dashboard)),
        alternate("3. lookups", reps.lookups, onEach(lookup))
      ]),
      nodesCpu
    )
    const nodesCores = (nodesCpu() - cpuBefore) / (performance.now() - wallBefore)
    const fetched = pick(pairRuns, oneNode).count
    if (fetched !== expected) {
      return yield* Effect.dieMessage(`3. seed pair: expected ${expected} rows (COUNT(*)), got ${fetched}`)
    }
    return { pair: pairRuns, dashboard: dashboardRuns, lookup: lookupRuns, load, nodesCores, expected }
  }).pipe(Effect.scoped)

const clusterSuite = ({ rows }: SuiteOptions) =>
  Effect.gen(function*() {
    const tooling = yield* loadTooling
    if (Either.isLeft(tooling)) return skipped(tooling.left)
    const { galera, trials } = tooling.right
    const settings = yield* galera.settingsConfig
    const kills = yield* killsConfig
    const stormSeconds = yield* stormConfig
    const how = yield* usableCluster(tooling.right, settings)
    if (Either.isLeft(how)) return skipped(how.left)
    const { atMost } = verdicts(rows, 0)
    const cores = os.cpus().length
    const nodes = settings.nodes
    const users = Math.min(rows, readRowCap)

    // The URL without its database names every node: `mysql://root@h1,h2,h3`.
    const server = Redacted.make(galera.url(settings).replace(/\/[^/,]*$/, ""))
    const database = yield* scratchDatabase(server, "dbscope_bench_cluster")
    const where = yield* MysqlDatabase.parseUrl(database.url)
    const node1 = where.nodes[0]?.url ?? database.url
    yield* Effect.provide(trials.createTables, trials.clusterLayer(database.url))

    // 1. and 2., the client's warnings counted rather than printed.
    const [[killResults, storm], warnings] = yield* countingWarnings(Effect.all([
      killPhase(tooling.right, settings, database.url, kills),
      Effect.zipRight(
        Console.error(`  2. conflict storm, ${stormSeconds} s`),
        trials.conflictStorm(
          Layer.fresh(trials.clusterLayer(database.url, { writer: 1 })),
          Layer.fresh(trials.clusterLayer(database.url, { writer: 2 })),
          { duration: Duration.seconds(stormSeconds), rows: stormRows }
        )
      )
    ]))
    const kill = killTotals(killResults)

    // 3. The users, written through the cluster (node 1), then read three ways.
    const built = yield* Effect.provide(
      loadUsers(users),
      usersLayer(MysqlDatabase.layer({ url: database.url, poolSize: readPoolSize }))
    )
    yield* everyNodeHas(yield* trials.nodeLayers(database.url), users)
    const ticks = yield* clockTicks
    const pids = (yield* galera.status(settings)).flatMap((node) => Option.toArray(node.pid))
    const nodesCpu = () => pids.reduce((sum, pid) => sum + (processCpu(pid, ticks) ?? 0), 0)
    const reads = yield* readPhase(database.url, node1, users, nodesCpu)

    // ----------------------------------------------------------------------------------------
    // Output
    const committed = storm.commits[0] + storm.commits[1]
    const lostVerdict = atMost(kill.lost, 0)
    const duplicatedVerdict = atMost(kill.duplicated, 0)
    const agreeVerdict = atMost(kill.disagreeing, 0)
    const lostUpdatesVerdict = atMost(storm.lostUpdates, 0)
    const rowsVerdict = storm.rowIncrements === storm.expectedRowIncrements ? "ok" : "MISSED"
    const recoveredText = kill.unrecovered === kills
      ? "none: no write succeeded after any kill"
      : `median ${duration(kill.recoveredMedian)}, max ${duration(kill.recoveredMax)}` +
        (kill.unrecovered > 0 ? ` (${kill.unrecovered} trials without one)` : "")

    yield* Console.log(
      `cluster: ${nodes} MariaDB Galera nodes on this machine (${where.nodes.map((node) => node.name).join(", ")}), ` +
        `${how.right}; database ${database.name}\n`
    )
    const seconds = (d: Duration.Duration) => `${Duration.toSeconds(d)} s`
    yield* Console.log(
      `1. kill trials: ${trial.writers} writers through node 1 (health check every ` +
        `${Duration.toMillis(trial.checkInterval)} ms); node 1 SIGKILLed after ${seconds(trial.before)} of writes, ` +
        `the writes go on ${seconds(trial.after)}, then the node is restarted (IST) and every node is read`
    )
    yield* Console.log(table(
      [
        "trial",
        "acked",
        "failed",
        "lost",
        "doubled",
        "kill -> 1st write",
        "slowest write",
        "retries",
        "rows per node",
        "node back in"
      ],
      killResults.map((r, i) => [
        `${i + 1}: node ${r.killed} killed`,
        int(r.acknowledged),
        int(r.failed),
        int(r.lost),
        int(r.duplicated),
        r.recoveredMs === undefined ? "none" : duration(r.recoveredMs),
        duration(r.slowestMs),
        int(r.retries),
        r.rowsPerNode.map(int).join(" / "),
        duration(r.restartMs)
      ])
    ))
    yield* Console.log(
      `(acked: writes the client was told succeeded; failed: not acknowledged within 20 s, so they may or may ` +
        `not be there; lost: acknowledged but missing on some node; doubled: on some node twice; rows per node: ` +
        `read after the restart with wsrep_sync_wait = 1; node back in: restart until Synced)\n` +
        `total over ${kills} ${kills === 1 ? "trial" : "trials"}: ${int(kill.acknowledged)} writes acknowledged, ${
          int(kill.failed)
        } failed, ` +
        `${int(kill.retries)} retries; lost ${int(kill.lost)} (goal 0, ${lostVerdict}), duplicated ` +
        `${int(kill.duplicated)} (goal 0, ${duplicatedVerdict}); the nodes hold the same rows in ` +
        `${kills - kill.disagreeing} of ${kills} trials (${agreeVerdict})\n` +
        `time from the kill to the first acknowledged write: ${recoveredText}; slowest acknowledged write ` +
        `${duration(kill.slowest)}\n`
    )
    yield* Console.log(table(
      [
        `2. conflict storm, ${stormSeconds} s: clients through node 1 and node 2, 2 writers each, ` +
        `${stormRows} rows`,
        "figure",
        "goal",
        ""
      ],
      [
        ["commits through node 1 / node 2", `${int(storm.commits[0])} / ${int(storm.commits[1])}`, "", ""],
        ["certification conflicts, retried", int(storm.retried), "", ""],
        ["transactions that gave up", int(storm.failed), "", ""],
        ["counter at the end, against commits", `${int(storm.counter)} / ${int(committed)}`, "", ""],
        ["lost updates (commits - counter)", int(storm.lostUpdates), "0", lostUpdatesVerdict],
        [
          "row increments at the end, against 5 x commits",
          `${int(storm.rowIncrements)} / ${int(storm.expectedRowIncrements)}`,
          "equal",
          rowsVerdict
        ]
      ]
    ))
    yield* Console.log(
      "(each transaction increments 5 of the rows and the shared counter; a certification conflict is retried, " +
        "so the counter must end equal to the commits)"
    )
    yield* Console.log(
      `\nclient warnings during 1. and 2., counted, not printed: ${warnings.count}` +
        Option.match(warnings.first, { onNone: () => "", onSome: (first) => ` (the first: ${first})` }) + "\n"
    )

    const ratios = (runs: ReadonlyArray<Runs>) => {
      const [one, c, s] = [pick(runs, oneNode), pick(runs, causal), pick(runs, stale)]
      return {
        one,
        causal: c,
        stale: s,
        causalRatio: ratio(one.median, c.median),
        staleRatio: ratio(one.median, s.median)
      }
    }
    const pair = ratios(reads.pair)
    const dashboard = ratios(reads.dashboard)
    const lookup = ratios(reads.lookup)
    const pairRows = `${int(pair.one.count)} rows`
    const capped = rows > users ?
      ` (--rows ${int(rows)} capped at ${int(readRowCap)}: each node has a 32 MB ` +
      `buffer pool and all ${nodes} share this machine)` :
      ""
    yield* Console.log(
      `3. reads: ${int(users)} synthetic users${capped}, written through the cluster in ${duration(built.ms)}; ` +
        `every client has ${readPoolSize} connections per node`
    )
    yield* Console.log(table(
      ["measurement (median of runs)", oneNode, causal, "ratio", stale, "ratio"],
      [
        [
          `seed pair, all || age > ${pairAge}, ${pairRows}, concurrent (${reps.pair} runs)`,
          duration(pair.one.median),
          duration(pair.causal.median),
          pair.causalRatio,
          duration(pair.stale.median),
          pair.staleRatio
        ],
        [
          `dashboard, 4 aggregates, concurrent (${reps.dashboard} runs)`,
          duration(dashboard.one.median),
          duration(dashboard.causal.median),
          dashboard.causalRatio,
          duration(dashboard.stale.median),
          dashboard.staleRatio
        ],
        [
          `repo.byId x ${int(lookups)}, ${lookupConcurrency} at a time, per lookup (${reps.lookups} runs)`,
          perCall(lookup.one, lookups),
          perCall(lookup.causal, lookups),
          lookup.causalRatio,
          perCall(lookup.stale, lookups),
          lookup.staleRatio
        ]
      ]
    ))
    const syncWaitUs = (lookup.causal.median - lookup.stale.median) * 1000 / lookups
    yield* Console.log(
      `(ratio = node 1 alone / the cluster: above 1 the cluster is faster; causal = wsrep_sync_wait = 1 on every ` +
        `read, so a read sees every write committed before it; stale = reads answer from what their node has applied)\n` +
        `what causal reads cost here: ${
          syncWaitUs.toFixed(1)
        } µs per lookup (causal - stale, ${lookupConcurrency} at a time)\n` +
        `note: all ${nodes} nodes run on this machine and share its ${cores} cores, so spreading reads over them ` +
        `cannot add CPU here: these ratios show what routing and causal reads cost, not what spreading gains. On ` +
        `${nodes} machines each node's reads run on its own cores: up to ~${nodes}x the read throughput for ` +
        `read-bound work, while each causal read still pays one group round trip (wsrep_sync_wait) before it runs.\n` +
        `checked: every node holds the ${int(users)} users; every run of every client returned ${pairRows} for ` +
        `the pair (as COUNT(*) says), the same dashboard and ${int(lookup.one.count)} hits of ${int(lookups)} lookups`
    )
    yield* Console.log("\nall runs, in the order they ran (ms):")
    yield* Console.log(table(["", "runs"], [
      ...runRows("3. seed pair", reads.pair),
      ...runRows("3. dashboard", reads.dashboard),
      ...runRows("3. lookups", reads.lookup)
    ]))
    const busy = reads.load > busyCores
    yield* Console.log(
      `\nCPU kept busy by other processes during 3., in cores (should be ~0; the ${nodes} nodes count as the ` +
        `benchmark's): ${reads.load.toFixed(2)}${busy ? busyWarning : ""}\n` +
        `the ${nodes} nodes' CPU during 3., in cores: ${reads.nodesCores.toFixed(2)} of ${cores}`
    )
    yield* Console.log(
      `summary${busy ? " (machine busy, reads unreliable)" : ""}: ${kills} kill ` +
        `${kills === 1 ? "trial" : "trials"} of node 1: ` +
        `${int(kill.acknowledged)} writes acknowledged, lost ${int(kill.lost)} (goal 0, ${lostVerdict}), ` +
        `duplicated ${int(kill.duplicated)} (goal 0, ${duplicatedVerdict}), failed ${int(kill.failed)}, kill to ` +
        `first write ${recoveredText}; storm: ${int(committed)} commits, ${int(storm.retried)} conflicts retried, ` +
        `lost updates ${int(storm.lostUpdates)} (goal 0, ${lostUpdatesVerdict}); reads, cluster vs node 1 alone ` +
        `(causal / stale): pair ${pair.causalRatio} / ${pair.staleRatio}, dashboard ${dashboard.causalRatio} / ` +
        `${dashboard.staleRatio}, lookups ${lookup.causalRatio} / ${lookup.staleRatio} (${nodes} nodes on ${cores} cores)`
    )

    const killNote = `${kills} ${kills === 1 ? "trial" : "trials"}; failed (not acknowledged) ${
      int(kill.failed)
    }; kill to first write ${recoveredText}`
    const counted = (name: string, ours: number, against: string, baseline: number, note: string) =>
      compare({
        suite: "cluster",
        name,
        ours,
        against,
        baseline,
        unit: "count",
        ratio: null,
        better: "lower",
        // A count of lost or doubled writes means the same at any size: judged on every run.
        goal: oursAtMost(0, 0),
        note
      })
    const read = (name: string, runs: ReturnType<typeof ratios>, note?: string) => [
      compare({
        suite: "cluster",
        name: `${name}, cluster, causal reads`,
        ours: runs.causal.median,
        against: oneNode,
        baseline: runs.one.median,
        unit: "ms",
        ratio: Number(runs.causalRatio),
        better: "higher",
        ...(note === undefined ? {} : { note })
      }),
      compare({
        suite: "cluster",
        name: `${name}, cluster, stale reads`,
        ours: runs.stale.median,
        against: oneNode,
        baseline: runs.one.median,
        unit: "ms",
        ratio: Number(runs.staleRatio),
        better: "higher"
      })
    ]
    return measured(busy, [
      counted("kill trials: acknowledged writes lost", kill.lost, "writes acknowledged", kill.acknowledged, killNote),
      counted(
        "kill trials: writes found twice",
        kill.duplicated,
        "writes acknowledged",
        kill.acknowledged,
        `slowest acknowledged write ${duration(kill.slowest)}`
      ),
      counted(
        "kill trials where the nodes disagree",
        kill.disagreeing,
        "trials",
        kills,
        "rows of the trial on each node after the restart"
      ),
      counted(
        "conflict storm, nodes 1 and 2: lost updates",
        storm.lostUpdates,
        "commits",
        committed,
        `${int(storm.retried)} conflicts retried, ${int(storm.failed)} gave up; row increments ` +
          `${int(storm.rowIncrements)} of ${int(storm.expectedRowIncrements)}`
      ),
      ...read(
        `seed pair, ${pairRows}`,
        pair,
        `${nodes} nodes share this machine's ${cores} cores: spreading reads adds no CPU here`
      ),
      ...read("dashboard", dashboard),
      ...read(`byId x ${int(lookups)}, ${lookupConcurrency} at a time`, lookup)
    ])
  }).pipe(Effect.scoped)

export const suite: Suite = {
  name: "cluster",
  description: "3-node Galera cluster: writer killed mid-write (lost/doubled writes), conflict storm (lost " +
    "updates), reads on one node vs spread with causal/stale reads (local cluster, npm run cluster -- start)",
  run: clusterSuite
}
