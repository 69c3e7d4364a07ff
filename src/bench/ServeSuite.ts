/**
 * Suite `serve`: `dbscope serve` over HTTP on N synthetic users, every server a child process of
 * its own (the compiled CLI, stopped with the suite whatever happens) and every counted request from
 * autocannon in another (`ServeLoad`). 1. the latency of `GET /api/users/{id}` at a bounded rate
 * while the export downloads at full speed and the dashboard is polled uncached (each poll runs its
 * four aggregate queries), on the reader pool and on `--sequential` (one connection, where a lookup
 * waits behind them); 2. lookups per second, closed-loop, against a raw `node:http` + better-sqlite3
 * server (`RawUsersServer`), and against the bare framework dbscope is built on (`EffectUsersServer`:
 * `HttpRouter` on `NodeHttpServer`, same lookup); 3. dashboards per second with the cache and
 * without (`--dashboard-cache 0`); 4. the export's rows per second against the raw server's, and the
 * server's RSS growth while a slow client reads it. Skipped where autocannon or @effect/platform-node
 * is not installed. `DBSCOPE_BENCH_SERVE_SECONDS` (default 10) sets the length of the loads (the
 * tests shorten them).
 */
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { performance } from "node:perf_hooks"
import { benchEffectUsersServer, benchRawUsersServer, cliScript } from "../BundledData.js"
import { defaultPoolSize } from "../readers/Prestart.js"
import { buildUsers, withRaw } from "./BenchDatabase.js"
import { compare, oursAtMost, ratioAtLeast } from "./BenchReport.js"
import { type HttpServerProcess, startServer } from "./HttpServerProcess.js"
import { busyCores, childrenCpu, median, withOthersLoad } from "./Measure.js"
import { clockTicks } from "./ProcessCpu.js"
import {
  autocannonNeeded,
  background,
  fetchAll,
  type Fetched,
  load,
  type LoadResult,
  type LoadSpec,
  missing,
  type Needed,
  runLoad,
  slowRead,
  type Tally,
  withPeakRss
} from "./ServeLoad.js"
import { measured, skipped, type Suite, type SuiteOptions } from "./Suite.js"
import { busyWarning, duration, int, mb, mbOf, peakRss, table, verdicts } from "./SuiteText.js"

/** Seconds of each headline load (`DBSCOPE_BENCH_SERVE_SECONDS`); the other loads are derived from it. */
const loadSeconds = Config.integer("DBSCOPE_BENCH_SERVE_SECONDS").pipe(
  Config.validate({ message: "DBSCOPE_BENCH_SERVE_SECONDS must be 1 or more", validation: (n) => n >= 1 }),
  Config.withDefault(10)
)

/** The headline's bounded load: requests per second over all connections, and the connections. */
const headlineRate = 300
const headlineConnections = 8
/** How long the headline's third client waits after each dashboard before it asks for the next (ms). */
const pollEvery = 250
/** Connections of the closed-loop loads ("a handful"). */
const closedConnections = 4
/** Untimed load before each measured one (s): with 1 s, every server was twice as fast in its second round (JIT). */
const warmup = 3
/** Rounds of the side-by-side closed-loop loads and downloads, alternated. */
const rounds = 2
/** The slow reader: this many bytes every `slowTick` ms. */
const slowBytes = 16 * 1024
const slowTick = 100
/** How often the server's RSS is sampled (ms). */
const rssEvery = 100
/** The headline goal: p99 of a lookup under the mixed load, with the reader pool (ms). */
const p99Goal = 20
/** A lookup through dbscope's HTTP stack against the raw server's: at least this share of its rate. */
const lookupGoal = 0.5
/** The most the server's RSS may grow while a slow client reads the export (MB). */
const slowRssGoal = 50

const lookupPath = "/api/users/{id}"

/** `dbscope serve` on `file`, with `flags`, on a free port; stopped with the scope. */
const dbscopeServe = (file: string, flags: ReadonlyArray<string> = []) =>
  startServer(
    ["dbscope serve", ...flags].join(" "),
    [cliScript, "serve", "--port", "0", "--shutdown-timeout", "1", "--db", file, ...flags]
  )

const rawServer = (file: string) => startServer("raw node:http + better-sqlite3", [benchRawUsersServer, file])

const effectServer = (file: string) =>
  startServer("bare @effect/platform HttpRouter + better-sqlite3", [benchEffectUsersServer, file])

/** The bare Effect server's package: `dbscope serve` has its own copy inside the bundled CLI, this one does not. */
const effectServerNeeded: Needed = {
  name: "@effect/platform-node",
  role: "the bare Effect baseline's HTTP server",
  install: "@effect/platform-node@0.108"
}

/** Requests per second of a closed-loop load. */
const perSecond = (result: LoadResult) => result.ok / result.seconds

/** A snapshot of a background client's tally. */
const snapshot = (counts: Tally) => ({ runs: counts.runs, lines: counts.lines, ms: counts.ms })

/**
 * 1. Lookups at `headlineRate` over `headlineConnections` while the export downloads at full speed
 * (again whenever it ends) and the dashboard is polled, `pollEvery` ms after each answer; the
 * background starts before the load's warm-up.
 */
const headlineRun = (server: HttpServerProcess, rows: number, seconds: number) =>
  Effect.gen(function*() {
    yield* Console.error(`  1. ${server.name}: ${headlineRate} lookups/s with the export and dashboard, ${seconds} s`)
    const { dashboards, exports, since } = yield* background(server.url, pollEvery)
    const spec: LoadSpec = {
      url: server.url,
      path: lookupPath,
      ids: rows,
      connections: headlineConnections,
      warmup,
      seconds,
      rate: headlineRate
    }
    const result = yield* load(spec)
    yield* server.alive
    if (exports.failures + dashboards.failures > 0) {
      return yield* Effect.dieMessage(
        `${server.name}: ${exports.failures} exports and ${dashboards.failures} dashboards failed under the load`
      )
    }
    const ran = (performance.now() - since) / 1000
    return { name: server.name, result, exports: snapshot(exports), dashboards: snapshot(dashboards), seconds: ran }
  }).pipe(Effect.scoped)

/** The dashboard uncached: every poll runs its four aggregate queries over all the users. */
const uncached = ["--dashboard-cache", "0"]

const headlinePhase = (file: string, rows: number, seconds: number) =>
  Effect.gen(function*() {
    const pool = yield* Effect.scoped(
      Effect.flatMap(dbscopeServe(file, uncached), (s) => headlineRun(s, rows, seconds))
    )
    const single = yield* Effect.scoped(
      Effect.flatMap(dbscopeServe(file, ["--sequential", ...uncached]), (s) => headlineRun(s, rows, seconds))
    )
    return { pool, single }
  })

/**
 * Closed-loop loads on each server, `rounds` times alternated (A B, A B); the median rate of each
 * (and every run's, in the order they ran).
 */
const alternateLoads = (label: string, servers: ReadonlyArray<HttpServerProcess>, spec: Omit<LoadSpec, "url">) =>
  Effect.gen(function*() {
    const rates = servers.map(() => [] as Array<number>)
    for (let round = 0; round < rounds; round++) {
      for (const [i, server] of servers.entries()) {
        yield* Console.error(`  ${label}: ${server.name} run ${round + 1}/${rounds}`)
        rates[i]?.push(perSecond(yield* load({ ...spec, url: server.url })))
        yield* server.alive
      }
    }
    return servers.map((server, i) => ({ name: server.name, runs: rates[i] ?? [], median: median(rates[i] ?? []) }))
  })

/** The whole export, downloaded at full speed; dies unless it holds every user. */
const fullExport = (server: HttpServerProcess, rows: number) =>
  Effect.flatMap(fetchAll(`${server.url}/api/users/export.ndjson`), (fetched) =>
    fetched.lines === rows
      ? Effect.succeed(fetched)
      : Effect.dieMessage(`${server.name}: the export held ${fetched.lines} lines, not the ${rows} users`)).pipe(
      Effect.orDie
    )

/**
 * 2. Lookups per second, closed-loop, dbscope against the raw server and the bare Effect one; then
 * 4. the full export from dbscope and the raw server, alternated, with dbscope's RSS sampled during
 * its downloads.
 */
const throughputPhase = (file: string, rows: number, seconds: number) =>
  Effect.gen(function*() {
    const ours = yield* dbscopeServe(file)
    const raw = yield* rawServer(file)
    const bare = yield* effectServer(file)
    const lookups = yield* alternateLoads("2. lookups/s", [ours, raw, bare], {
      path: lookupPath,
      ids: rows,
      connections: closedConnections,
      warmup,
      seconds
    })
    const downloads = { ours: [] as Array<Fetched>, raw: [] as Array<Fetched> }
    const before = ours.rss() ?? 0
    let peak = before
    for (let round = 0; round < rounds; round++) {
      yield* Console.error(`  4. export at full speed: ${ours.name} run ${round + 1}/${rounds}`)
      const [fetched, seen] = yield* withPeakRss(ours.rss, rssEvery, fullExport(ours, rows))
      downloads.ours.push(fetched)
      peak = Math.max(peak, seen)
      yield* Console.error(`  4. export at full speed: ${raw.name} run ${round + 1}/${rounds}`)
      downloads.raw.push(yield* fullExport(raw, rows))
    }
    yield* ours.alive
    yield* raw.alive
    yield* bare.alive
    const rate = (all: ReadonlyArray<Fetched>) => median(all.map((f) => f.lines / (f.ms / 1000)))
    return {
      lookups,
      exports: {
        ours: rate(downloads.ours),
        raw: rate(downloads.raw),
        bytes: downloads.ours[0]?.bytes ?? 0,
        rssGrowth: Math.max(0, peak - before),
        runs: downloads
      }
    }
  }).pipe(Effect.scoped)

/** 3. Dashboards per second, closed-loop, with the cache (the default) and without. */
const dashboardPhase = (file: string, seconds: number) =>
  Effect.gen(function*() {
    const cached = yield* dbscopeServe(file)
    const uncached = yield* dbscopeServe(file, ["--dashboard-cache", "0"])
    return yield* alternateLoads("3. dashboards/s", [cached, uncached], {
      path: "/api/dashboard",
      ids: 1,
      connections: closedConnections,
      warmup,
      seconds
    })
  }).pipe(Effect.scoped)

/**
 * 4. A fresh server, a few requests to settle it, then its RSS sampled while a slow client reads
 * the export for `seconds`: the growth over the RSS just before.
 */
const slowExportPhase = (file: string, seconds: number) =>
  Effect.gen(function*() {
    const server = yield* dbscopeServe(file)
    yield* Console.error(`  4. export read slowly (${slowBytes / 1024} KB every ${slowTick} ms), ${seconds} s`)
    for (const path of ["/api/users/1", "/api/users?limit=1000", "/api/health"]) {
      yield* Effect.orDie(fetchAll(`${server.url}${path}`))
    }
    const before = server.rss() ?? 0
    const [read, peak] = yield* withPeakRss(
      server.rss,
      rssEvery,
      Effect.orDie(slowRead(server.url, { bytesPerTick: slowBytes, tick: slowTick, seconds }))
    )
    yield* server.alive
    return { read, before, growth: Math.max(0, peak - before) }
  }).pipe(Effect.scoped)

const fixed = (n: number, digits = 1) => Number.isFinite(n) ? n.toFixed(digits) : "-"
const ms = (n: number) => `${fixed(n, n < 10 ? 2 : 1)} ms`
const ratioOf = (a: number, b: number) => (a / b).toFixed(2)

const serveSuite = ({ dir, rows }: SuiteOptions) =>
  Effect.gen(function*() {
    const absent = missing([autocannonNeeded, effectServerNeeded])
    if (Option.isSome(absent)) return skipped(absent.value)
    const seconds = yield* loadSeconds
    const shortSeconds = Math.max(1, Math.round(seconds / 2))
    const slowSeconds = Math.max(2, Math.round(seconds * 1.5))
    const { atLeast, atMost } = verdicts(rows)
    const { built, file } = yield* buildUsers(dir, rows)
    const [count, maxId] = withRaw(file, (db) => [
      Number(db.prepare("SELECT COUNT(*) FROM users").pluck().get()),
      Number(db.prepare("SELECT MAX(user_id) FROM users").pluck().get())
    ])
    if (count !== rows || maxId !== rows) {
      return yield* Effect.dieMessage(`expected user ids 1..${rows}, found ${count} users up to id ${maxId}`)
    }
    const helpers = childrenCpu(yield* clockTicks)
    const [headline, headlineLoad] = yield* withOthersLoad(headlinePhase(file, rows, seconds), helpers)
    const [throughput, throughputLoad] = yield* withOthersLoad(throughputPhase(file, rows, shortSeconds), helpers)
    const [dashboards, dashboardLoad] = yield* withOthersLoad(dashboardPhase(file, shortSeconds), helpers)
    const [slow, slowLoad] = yield* withOthersLoad(slowExportPhase(file, slowSeconds), helpers)

    const { pool, single } = headline
    const [ourLookups, rawLookups, bareLookups] = throughput.lookups
    const [cachedDashboards, uncachedDashboards] = dashboards
    const ourLookupRate = ourLookups?.median ?? NaN
    const rawLookupRate = rawLookups?.median ?? NaN
    const bareLookupRate = bareLookups?.median ?? NaN
    const cachedRate = cachedDashboards?.median ?? NaN
    const uncachedRate = uncachedDashboards?.median ?? NaN
    const p99Ratio = ratioOf(single.result.p99, pool.result.p99)
    const p50Ratio = ratioOf(single.result.p50, pool.result.p50)
    const lookupRatio = ratioOf(ourLookupRate, rawLookupRate)
    const bareRatio = ratioOf(ourLookupRate, bareLookupRate)
    const dashboardRatio = ratioOf(cachedRate, uncachedRate)
    const exportRatio = ratioOf(throughput.exports.ours, throughput.exports.raw)
    const slowGrowth = mbOf(slow.growth)
    const fastGrowth = mbOf(throughput.exports.rssGrowth)

    yield* Console.log(
      `database: ${int(rows)} synthetic users, built in ${duration(built.ms)}; servers: dbscope serve ` +
        `(reader pool of ${defaultPoolSize()} workers), dbscope serve --sequential (one connection), a raw ` +
        `node:http + better-sqlite3 server, a bare @effect/platform server (HttpRouter on NodeHttpServer, no ` +
        `HttpApi, no middleware) + better-sqlite3; each a child process, load from autocannon in another`
    )
    yield* Console.log(
      `\n1. GET ${lookupPath}, random ids, ${headlineRate} req/s over ${headlineConnections} connections for ` +
        `${seconds} s (after ${warmup} s of warm-up), while a second client downloads the export at full ` +
        `speed (again when it ends) and a third polls /api/dashboard, ${pollEvery} ms after each answer, ` +
        `uncached (--dashboard-cache 0: every poll runs its four aggregate queries over all the users; on one ` +
        `connection a lookup waits behind them)`
    )
    const exportsSeen = (run: typeof pool) =>
      `${int(run.exports.lines / run.seconds)} rows/s (${run.exports.runs} whole)`
    const dashboardsSeen = (run: typeof pool) =>
      `${run.dashboards.runs}${run.dashboards.runs > 0 ? `, ${ms(run.dashboards.ms / run.dashboards.runs)} each` : ""}`
    yield* Console.log(table(
      ["server", "p50", "p90", "p99", "max", "lookups", "export meanwhile", "dashboards"],
      [pool, single].map((run) => [
        run.name,
        ms(run.result.p50),
        ms(run.result.p90),
        ms(run.result.p99),
        ms(run.result.max),
        int(run.result.ok),
        exportsSeen(run),
        dashboardsSeen(run)
      ])
    ))
    yield* Console.log(
      `(latency: from the request sent to its response read, every 2xx response; each connection sends its ` +
        `share of a second's requests back to back, the connections ${
          Math.round(1000 / headlineConnections)
        } ms apart)\n`
    )
    yield* Console.log(table(
      ["measurement", "dbscope", "compared with", "its figure", "ratio", "goal", ""],
      [
        [
          "1. lookup p99 under load (dashboard uncached), reader pool",
          ms(pool.result.p99),
          "dbscope serve --sequential",
          ms(single.result.p99),
          p99Ratio,
          `<= ${p99Goal} ms`,
          atMost(pool.result.p99, p99Goal)
        ],
        ["   lookup p50 under load", ms(pool.result.p50), "", ms(single.result.p50), p50Ratio, "", ""],
        [
          `2. lookups/s, closed-loop, ${closedConnections} connections (${shortSeconds} s x ${rounds})`,
          `${int(ourLookupRate)}/s`,
          "raw node:http + better-sqlite3",
          `${int(rawLookupRate)}/s`,
          lookupRatio,
          `>= ${lookupGoal}`,
          atLeast(lookupRatio, lookupGoal)
        ],
        [
          "   lookups/s, the same load",
          `${int(ourLookupRate)}/s`,
          "bare @effect/platform HttpRouter",
          `${int(bareLookupRate)}/s`,
          bareRatio,
          "",
          ""
        ],
        [
          `3. dashboards/s, closed-loop, ${closedConnections} connections, cached`,
          `${int(cachedRate)}/s`,
          "--dashboard-cache 0",
          `${fixed(uncachedRate)}/s`,
          dashboardRatio,
          "",
          ""
        ],
        [
          `4. export at full speed, ${int(rows)} rows (${mb(throughput.exports.bytes)}), rows/s`,
          `${int(throughput.exports.ours)}/s`,
          "raw node:http + better-sqlite3",
          `${int(throughput.exports.raw)}/s`,
          exportRatio,
          "",
          ""
        ],
        [
          `   server RSS growth, slow client (${slowBytes / 1024} KB / ${slowTick} ms, ${slowSeconds} s)`,
          `${fixed(slowGrowth)} MB`,
          "full-speed client",
          `${fixed(fastGrowth)} MB`,
          "",
          `<= ${slowRssGoal} MB`,
          atMost(slowGrowth, slowRssGoal)
        ]
      ]
    ))
    yield* Console.log("(ratio: dbscope's figure over the other's for rates, the other's over dbscope's for times)\n")
    yield* Console.log(table(["all runs, in the order they ran", "runs"], [
      ...throughput.lookups.map((r) => [`2. lookups/s: ${r.name}`, r.runs.map((n) => int(n)).join(" ")]),
      ...dashboards.map((r) => [`3. dashboards/s: ${r.name}`, r.runs.map((n) => fixed(n)).join(" ")]),
      ...(["ours", "raw"] as const).map((who) => [
        `4. export, ${who === "ours" ? "dbscope serve" : "raw"} (s)`,
        throughput.exports.runs[who].map((f) => fixed(f.ms / 1000, 2)).join(" ")
      ])
    ]))
    yield* Console.log(
      `\nslow client: read ${mb(slow.read.bytes)} (${int(slow.read.lines)} rows) in ${duration(slow.read.ms)}; ` +
        `server RSS ${mb(slow.before)} before, peak growth ${fixed(slowGrowth)} MB (sampled every ${rssEvery} ms)`
    )
    const loads = [headlineLoad, throughputLoad, dashboardLoad, slowLoad]
    const busy = Math.max(...loads) > busyCores
    yield* Console.log(
      `checked: every request answered 2xx; each full export held all ${int(rows)} users\n` +
        `CPU kept busy by other processes, in cores (should be ~0): ${loads.map((l) => l.toFixed(2)).join(", ")}` +
        (busy ? busyWarning : "")
    )
    yield* Console.log(`peak RSS of this process: ${peakRss()}`)
    yield* Console.log(
      `summary${busy ? " (machine busy, unreliable)" : ""}: lookup p99 under load, dashboard uncached, ` +
        `${ms(pool.result.p99)} on the reader pool (goal <= ${p99Goal} ms, ${atMost(pool.result.p99, p99Goal)}) ` +
        `vs ${ms(single.result.p99)} --sequential (${p99Ratio}x), p50 ${ms(pool.result.p50)} vs ` +
        `${ms(single.result.p50)}; lookups/s vs raw ${lookupRatio}x (goal >= ${lookupGoal}, ` +
        `${atLeast(lookupRatio, lookupGoal)}), vs bare @effect/platform ${bareRatio}x; dashboard cached vs not ` +
        `${dashboardRatio}x; export rows/s vs raw ${exportRatio}x; RSS growth with a slow client ` +
        `${fixed(slowGrowth)} MB (goal <= ${slowRssGoal}, ${atMost(slowGrowth, slowRssGoal)})`
    )
    const rateComparison = (name: string, ours: number, against: string, baseline: number, r: string) =>
      compare({ suite: "serve", name, ours, against, baseline, unit: "per s", ratio: Number(r), better: "higher" })
    const lookups = compare({
      suite: "serve",
      name: "GET /users/{id}, closed-loop",
      ours: ourLookupRate,
      against: "raw node:http",
      baseline: rawLookupRate,
      unit: "per s",
      ratio: Number(lookupRatio),
      better: "higher",
      goal: ratioAtLeast(lookupGoal)
    })
    return measured(busy, [
      compare({
        suite: "serve",
        name: `GET /users/{id} p99, ${headlineRate}/s + export + uncached dashboard, reader pool`,
        ours: pool.result.p99,
        against: "serve --sequential",
        baseline: single.result.p99,
        unit: "ms",
        ratio: Number(p99Ratio),
        better: "higher",
        goal: oursAtMost(p99Goal)
      }),
      compare({
        suite: "serve",
        name: "same load, p50",
        ours: pool.result.p50,
        against: "serve --sequential",
        baseline: single.result.p50,
        unit: "ms",
        ratio: Number(p50Ratio),
        better: "higher"
      }),
      lookups,
      rateComparison("same lookups", ourLookupRate, "bare Effect platform", bareLookupRate, bareRatio),
      rateComparison("GET /dashboard, cached", cachedRate, "--dashboard-cache 0", uncachedRate, dashboardRatio),
      rateComparison(
        "export, rows at full speed",
        throughput.exports.ours,
        "raw node:http",
        throughput.exports.raw,
        exportRatio
      ),
      compare({
        suite: "serve",
        name: "RSS growth, slow export client",
        ours: slowGrowth,
        against: "full-speed client",
        baseline: fastGrowth,
        unit: "MB",
        ratio: null,
        better: "lower",
        goal: oursAtMost(slowRssGoal)
      })
    ])
  })

export const suite: Suite = {
  name: "serve",
  description:
    "dbscope serve over HTTP: lookup latency under a mixed load (pool vs --sequential), rates vs raw node:http " +
    "and bare @effect/platform",
  run: serveSuite,
  probe: (kind, spec) => kind === "load" && spec !== undefined ? Option.some(runLoad(spec)) : Option.none()
}
