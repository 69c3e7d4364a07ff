/**
 * Suite `combinators`: what `cacheQuery` saves and what `logQueries` costs, on N synthetic users.
 * 1. a cache hit of `olderThan(40)` against the query itself, then the reload a write forces;
 * 2. point lookups with and without `logQueries()` on each, under a logger that appends logfmt
 * lines to a file: the prepared `UserRepo.byId`, then a templated `sql` lookup; logged around the
 * loop, on each lookup, and with the lines filtered out by the log level (the hook's bare cost).
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as fs from "node:fs"
import * as path from "node:path"
import * as CacheQuery from "../combinators/CacheQuery.js"
import { logfmtLogger } from "../combinators/LogfmtLogger.js"
import { logQueries } from "../combinators/LogQueries.js"
import { UserRepo } from "../users/UserRepo.js"
import { buildUsers, byIdSql, columns, dbscopeLayer } from "./BenchDatabase.js"
import { compare, ratioAtLeast, ratioAtMost } from "./BenchReport.js"
import {
  alternate,
  busyCores,
  type Contender,
  countHits,
  lookupIds,
  pick,
  type Runs,
  timed,
  withOthersLoad
} from "./Measure.js"
import { measured, type Suite, type SuiteOptions } from "./Suite.js"
import { busyWarning, duration, int, peakRss, perCall, ratio, runRows, table, verdicts } from "./SuiteText.js"

const cacheAge = 40
/** Cache hits per timed run: one hit is too short to time alone. */
const cacheHits = 10_000
const cachedName = `cacheQuery, ${int(cacheHits)} hits`
const logLookups = 10_000
/** Log lines kept in memory between two writes to the log file. */
const logBuffer = 256

/** The dbscope stack with a `QueryCache` on top (it listens to the connection's `Reactivity`). */
const cachedLayer = (filename: string) => CacheQuery.layer().pipe(Layer.provideMerge(dbscopeLayer(filename)))

/**
 * 1. `repo.olderThan(40)` against the same call through `cacheQuery` after one load, so that every
 * timed call is a hit; then one `repo.insert` and the miss it causes. Dies if the hits' rows, the
 * cache's counters or the reload are not what they should be.
 */
const cachePhase = (file: string, reps: number) =>
  Effect.gen(function*() {
    const repo = yield* UserRepo
    const cached = repo.olderThan(cacheAge).pipe(CacheQuery.cacheQuery({ key: ["olderThan", cacheAge] }))
    const loaded = yield* cached
    // A batch counts the rows of one hit, or -1 if a hit had other rows than the load.
    const hits = Effect.gen(function*() {
      let rows = loaded.length
      for (let i = 0; i < cacheHits; i++) if ((yield* cached).length !== loaded.length) rows = -1
      return rows
    })
    const runs = yield* alternate(`olderThan(${cacheAge})`, reps, [
      { name: "uncached", run: timed(repo.olderThan(cacheAge), (users) => users.length) },
      { name: cachedName, run: timed(hits, (rows) => rows) }
    ])
    const before = yield* CacheQuery.stats
    if (before.misses !== 1 || before.hits !== reps * cacheHits) {
      return yield* Effect.dieMessage(
        `cacheQuery: expected 1 miss and ${reps * cacheHits} hits, got ${JSON.stringify(before)}`
      )
    }
    yield* repo.insert({ name: "Cache Buster", email: "cache-buster@dbscope.invalid", age: cacheAge + 1 })
    const reload = yield* timed(cached, (users) => users.length)
    const after = yield* CacheQuery.stats
    if (reload.count !== loaded.length + 1 || after.misses !== 2 || after.invalidations <= before.invalidations) {
      return yield* Effect.dieMessage(
        `cacheQuery: after an insert, expected a miss with ${loaded.length + 1} rows, got ${reload.count} rows, ` +
          JSON.stringify(after)
      )
    }
    return { runs, reload, before, after }
  }).pipe(Effect.provide(cachedLayer(file)))

/**
 * A logger that formats each entry with dbscope's `logfmtLogger` (what `--log-queries` writes; the
 * same text as Effect's `Logger.logfmtLogger`) and appends it to `file`, `logBuffer`
 * lines per `fs.writeSync`; `flush` writes the lines still buffered, `lines` counts every line logged.
 */
const openLogFile = (file: string) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const fd = fs.openSync(file, "w")
      const pending: Array<string> = []
      let lines = 0
      const flush = () => {
        if (pending.length === 0) return
        fs.writeSync(fd, pending.join("\n") + "\n")
        pending.length = 0
      }
      const logger = Logger.map(logfmtLogger, (line) => {
        pending.push(line)
        lines++
        if (pending.length >= logBuffer) flush()
      })
      return { fd, flush, lines: () => lines, layer: Logger.replace(Logger.defaultLogger, logger) }
    }),
    ({ fd, flush }) =>
      Effect.sync(() => {
        flush()
        fs.closeSync(fd)
      })
  )

/** Dies unless `file` holds exactly `expected` lines, each logging the point lookup; returns the first. */
const checkLogFile = (file: string, expected: number) =>
  Effect.suspend(() => {
    const lines = fs.readFileSync(file, "utf8").split("\n").slice(0, -1)
    const lookups = lines.filter((line) => line.includes(byIdSql)).length
    return lines.length === expected && lookups === expected
      ? Effect.succeed(lines[0] ?? "")
      : Effect.dieMessage(`${file}: ${lines.length} lines, ${lookups} of them lookups; expected ${expected}`)
  })

/** How `logQueries()` is applied to the lookups of one run. */
const logModes = {
  off: "no logging",
  around: "logQueries() around all",
  each: "logQueries() on each",
  unwritten: "around all, below log level"
} as const
type LogMode = keyof typeof logModes

/**
 * The goal on each logging mode's time ratio (with `logQueries()` / without), by lookup. The
 * prepared `byId` is so short that a log line costs more of it (1.5); a hook installed whose
 * lines the log level filters out must cost next to nothing (1.05).
 */
const logGoals = {
  byId: { around: 1.5, each: 1.2, unwritten: 1.05 },
  sql: { around: 1.2, each: 1.2, unwritten: 1.2 }
} as const satisfies Record<string, Record<Exclude<LogMode, "off">, number>>
type Lookup = keyof typeof logGoals

/**
 * The same point lookups without logging, with `logQueries()` around the whole loop (as
 * `--log-queries` wraps a command) and with `logQueries()` on each lookup, alternated, all under
 * the file logger (the final flush is timed). Dies unless each logged run wrote one line per
 * lookup, each other run none, and the file `<name>.log` holds them all.
 */
const logPair = <E>(
  dir: string,
  name: string,
  ids: Int32Array,
  reps: number,
  find: (id: number) => Effect.Effect<Option.Option<unknown>, E>
) =>
  Effect.gen(function*() {
    const file = path.join(dir, `${name}.log`)
    const log = yield* openLogFile(file)
    const contender = (mode: LogMode): Contender<never> => ({
      name: logModes[mode],
      run: Effect.suspend(() => {
        const before = log.lines()
        const expected = mode === "off" || mode === "unwritten" ? 0 : ids.length
        const lookups = mode === "around"
          ? countHits(ids, find).pipe(logQueries())
          : mode === "unwritten"
          // Spans and hooks without the logger's work: what logQueries costs before any formatting.
          ? countHits(ids, find).pipe(logQueries({ level: LogLevel.Debug }))
          : countHits(ids, mode === "each" ? (id) => find(id).pipe(logQueries()) : find)
        return timed(Effect.zipLeft(lookups, Effect.sync(log.flush)), (hits) => hits).pipe(
          Effect.tap(() => {
            const wrote = log.lines() - before
            return wrote === expected
              ? Effect.void
              : Effect.dieMessage(`${name}: a run logged ${wrote} lines, expected ${expected}`)
          })
        )
      })
    })
    const runs = yield* alternate(
      `${name} lookups`,
      reps,
      [contender("off"), contender("around"), contender("each"), contender("unwritten")]
    ).pipe(Effect.provide(log.layer))
    const sample = yield* checkLogFile(file, 2 * reps * ids.length)
    return { runs, sample, file: path.basename(file) }
  }).pipe(Effect.scoped)

/** 2. `logQueries()` on point lookups spread over the table: the prepared `byId`, then a templated `sql` lookup. */
const logPhase = (dir: string, file: string, rows: number, reps: number) =>
  Effect.gen(function*() {
    const repo = yield* UserRepo
    const sql = yield* SqlClient.SqlClient
    const ids = lookupIds(rows, logLookups)
    const templated = (id: number) =>
      Effect.map(
        sql`SELECT ${sql.literal(columns)} FROM users WHERE user_id = ${id}`,
        (found) => Option.fromNullable(found[0])
      )
    const byId = yield* logPair(dir, "byId", ids, reps, repo.byId)
    const sqlLookups = yield* logPair(dir, "sql", ids, reps, templated)
    return { byId, sql: sqlLookups }
  }).pipe(
    // `main` lets only warnings through, and `logQueries()` logs at Info.
    Logger.withMinimumLogLevel(LogLevel.Info),
    Effect.provide(dbscopeLayer(file))
  )

const combinatorsSuite = ({ dir, rows }: SuiteOptions) =>
  Effect.gen(function*() {
    const { atLeast, atMost } = verdicts(rows)
    const reps = { cache: 5, log: 7 }
    const { built, file } = yield* buildUsers(dir, rows)
    const [cache, cacheLoad] = yield* withOthersLoad(cachePhase(file, reps.cache))
    const [logged, logLoad] = yield* withOthersLoad(logPhase(dir, file, rows, reps.log))

    const uncached = pick(cache.runs, "uncached")
    const hits = pick(cache.runs, cachedName)
    const cacheRatio = ratio(uncached.median, hits.median / cacheHits)
    // Time ratios: logged / unlogged, lower is better.
    const logRatio = (runs: ReadonlyArray<Runs>, mode: LogMode) =>
      ratio(pick(runs, logModes[mode]).median, pick(runs, logModes.off).median)
    const byIdRatio = logRatio(logged.byId.runs, "around")
    const sqlRatio = logRatio(logged.sql.runs, "around")
    const unwrittenRatio = logRatio(logged.byId.runs, "unwritten")
    const logRow = (label: string, lookup: Lookup, mode: Exclude<LogMode, "off">): ReadonlyArray<string> => {
      const runs = logged[lookup].runs
      const goal = logGoals[lookup][mode]
      const plain = pick(runs, logModes.off)
      const withLog = pick(runs, logModes[mode])
      const added = (withLog.median - plain.median) * 1000 / logLookups
      return [
        `${label}, ${logModes[mode]}`,
        duration(plain.median),
        perCall(plain, logLookups),
        duration(withLog.median),
        perCall(withLog, logLookups),
        `${added >= 0 ? "+" : ""}${added.toFixed(1)} µs`,
        logRatio(runs, mode),
        `<= ${goal}`,
        atMost(logRatio(runs, mode), goal)
      ]
    }
    const { after, before, reload } = cache

    yield* Console.log(`database: ${int(rows)} synthetic users, built in ${duration(built.ms)}\n`)
    yield* Console.log(table(
      [
        `1. repo.olderThan(${cacheAge}) (median of ${reps.cache} runs)`,
        "uncached",
        "cached hit",
        "speed ratio",
        "goal",
        ""
      ],
      [[
        `${int(uncached.count)} rows; hits |> cacheQuery({ key }), ${int(cacheHits)} per run`,
        duration(uncached.median),
        perCall(hits, cacheHits, 2),
        cacheRatio,
        ">= 100",
        atLeast(cacheRatio, 100)
      ]]
    ))
    yield* Console.log(
      `(speed ratio = uncached / hit: higher is better)\n` +
        `checked: every hit had the uncached rows; stats ${before.misses} miss (the load), ${int(before.hits)} hits\n` +
        `after repo.insert of one user aged ${cacheAge + 1}: the next cached call missed (invalidations ` +
        `${before.invalidations} -> ${after.invalidations}, misses ${after.misses}) and reloaded ` +
        `${int(reload.count)} rows (+1) in ${duration(reload.ms)}\n`
    )
    yield* Console.log(table(
      [
        `2. point lookups x ${int(logLookups)}, ${int(pick(logged.byId.runs, logModes.around).count)} hits ` +
        `(median of ${reps.log} runs)`,
        "no logging",
        "per lookup",
        "logged",
        "per lookup",
        "added",
        "time ratio",
        "goal",
        ""
      ],
      [
        logRow("repo.byId(id), prepared", "byId", "around"),
        logRow("repo.byId(id), prepared", "byId", "each"),
        logRow("repo.byId(id), prepared", "byId", "unwritten"),
        logRow("sql`... WHERE user_id = ${id}`", "sql", "around"),
        logRow("sql`... WHERE user_id = ${id}`", "sql", "each"),
        logRow("sql`... WHERE user_id = ${id}`", "sql", "unwritten")
      ]
    ))
    yield* Console.log(
      `(time ratio = with logQueries() / without: lower is better; logfmt lines to a file, ` +
        `${logBuffer} lines per fs.writeSync, the last flush timed; "below log level": logQueries at Debug ` +
        `under an Info minimum, so nothing is timed, built or written)\n` +
        `checked: ${logged.byId.file} and ${logged.sql.file} hold ${int(2 * reps.log * logLookups)} lines each, ` +
        `one per logged lookup, none from the unlogged runs; e.g.\n  ${logged.byId.sample}`
    )
    yield* Console.log("\nall runs, in the order they ran (ms; a cacheQuery run is its batch of hits):")
    yield* Console.log(table(["", "runs"], [
      ...runRows("1. olderThan", cache.runs),
      ...runRows("2. byId", logged.byId.runs),
      ...runRows("2. sql", logged.sql.runs)
    ]))
    const busy = Math.max(cacheLoad, logLoad) > busyCores
    yield* Console.log(
      `\nCPU kept busy by other processes, in cores (should be ~0): 1. ${cacheLoad.toFixed(2)}, ` +
        `2. ${logLoad.toFixed(2)}` +
        (busy ? busyWarning : "")
    )
    yield* Console.log(`peak RSS: ${peakRss()}`)
    yield* Console.log(
      `summary${busy ? " (machine busy, unreliable)" : ""}: cacheQuery hit vs uncached olderThan(${cacheAge}) ` +
        `${cacheRatio}x (goal >= 100, ${atLeast(cacheRatio, 100)}), an insert invalidates it (+1 row on reload); ` +
        `logQueries() around ${int(logLookups)} lookups: byId ${byIdRatio}x (goal <= ${logGoals.byId.around}, ${
          atMost(byIdRatio, logGoals.byId.around)
        }), ` +
        `templated sql ${sqlRatio}x (goal <= ${logGoals.sql.around}, ${atMost(sqlRatio, logGoals.sql.around)}); ` +
        `byId with the lines filtered out by the log level ${unwrittenRatio}x (goal <= ${logGoals.byId.unwritten}, ${
          atMost(unwrittenRatio, logGoals.byId.unwritten)
        }); one log line per logged lookup`
    )
    const logComparison = (name: string, lookup: Lookup, mode: "around" | "unwritten", ratio: string) =>
      compare({
        suite: "combinators",
        name,
        ours: pick(logged[lookup].runs, logModes[mode]).median,
        against: "no logging",
        baseline: pick(logged[lookup].runs, logModes.off).median,
        unit: "ms",
        ratio: Number(ratio),
        better: "lower",
        goal: ratioAtMost(logGoals[lookup][mode])
      })
    return measured(busy, [
      compare({
        suite: "combinators",
        name: `cacheQuery hit, olderThan(${cacheAge}), ${int(uncached.count)} rows`,
        ours: hits.median / cacheHits,
        against: "uncached",
        baseline: uncached.median,
        unit: "ms",
        ratio: Number(cacheRatio),
        better: "higher",
        goal: ratioAtLeast(100),
        note: "an insert invalidated it: +1 row on reload"
      }),
      logComparison(`logQueries() around ${int(logLookups)} byId`, "byId", "around", byIdRatio),
      logComparison(`logQueries() around ${int(logLookups)} sql lookups`, "sql", "around", sqlRatio),
      logComparison(
        `logQueries() with its lines filtered out by the log level (hook installed, nothing written), ` +
          `${int(logLookups)} byId`,
        "byId",
        "unwritten",
        unwrittenRatio
      )
    ])
  }).pipe(Effect.scoped)

export const suite: Suite = {
  name: "combinators",
  description: "cacheQuery hit vs uncached olderThan(40), invalidation; logQueries() cost on point lookups (SQLite)",
  run: combinatorsSuite
}
