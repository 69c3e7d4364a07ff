/**
 * Benchmarks of dbscope against the raw driver, run as `npm run bench -- <suite> [--rows N]`.
 * Each suite measures dbscope and its baseline side by side in one process, alternating the runs so
 * that drift (page cache, CPU clock, GC state) hits both alike, and prints an aligned table whose
 * "speed ratio" is baseline time / dbscope time (1.0 = as fast as the raw driver; the `streams` suite
 * and the logging half of `combinators` print time ratios, dbscope / baseline, the way their goals are stated).
 * A suite is one entry in `suites`; everything runs in a temporary folder removed at the end (the
 * `mysql` suite's rows in a scratch database on the local MariaDB/MySQL server, dropped at the end).
 * Each suite also returns the comparisons of its summary line as records (`src/bench/BenchReport.ts`);
 * `--results FILE` writes them, with the suite's status and peak RSS, for `dbscope bench`.
 */
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as SqlClient from "@effect/sql/SqlClient"
import * as SqlSchema from "@effect/sql/SqlSchema"
import Sqlite from "better-sqlite3"
import * as Cause from "effect/Cause"
import * as Console from "effect/Console"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Mysql from "mysql2"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import * as v8 from "node:v8"
import { runInNewContext } from "node:vm"
import {
  compare,
  type Comparison,
  oursAtMost,
  ratioAtLeast,
  ratioAtMost,
  SuiteName,
  SuiteOutcome
} from "../src/bench/BenchReport.js"
import { sampleCsv } from "../src/BundledData.js"
import * as MysqlDatabase from "../src/client/MysqlDatabase.js"
import type { PreparedQueries } from "../src/client/PreparedQueries.js"
import * as SqliteDatabase from "../src/client/SqliteDatabase.js"
import * as SqlitePool from "../src/client/SqlitePool.js"
import * as CacheQuery from "../src/combinators/CacheQuery.js"
import { logQueries } from "../src/combinators/LogQueries.js"
import { fetchUsers } from "../src/users/ConcurrentFetch.js"
import { Dashboard } from "../src/users/Dashboard.js"
import * as Migrations from "../src/users/Migrations.js"
import * as Progress from "../src/users/Progress.js"
import { setup } from "../src/users/Setup.js"
import { addSynthetic, generate } from "../src/users/SyntheticUsers.js"
import { User } from "../src/users/User.js"
import { UserRepo } from "../src/users/UserRepo.js"
import { averageAge, lazyPaginate, streamUsers } from "../src/users/UserStream.js"

// ---------------------------------------------------------------------------------------------
// Measuring

/** One timed run: wall time and what it produced (rows written, rows read, lookups that hit). */
interface Measured {
  readonly ms: number
  readonly count: number
}

/** One side of a comparison: a name and an effect that performs and times one run. */
interface Contender<R> {
  readonly name: string
  // Contenders fail in different ways; a benchmark only reports failures, so their errors are not told apart.
  readonly run: Effect.Effect<Measured, unknown, R>
}

// A full collection between runs, so one run's garbage is not collected on the next one's clock.
v8.setFlagsFromString("--expose-gc")
const collectGarbage = runInNewContext("gc") as () => void

/** Times `effect` with `performance.now()`; `count` says how many rows (or hits) it produced. */
const timed = <A, E, R>(effect: Effect.Effect<A, E, R>, count: (a: A) => number) =>
  Effect.suspend(() => {
    const start = performance.now()
    return Effect.map(effect, (a): Measured => ({ ms: performance.now() - start, count: count(a) }))
  })

/** Times a synchronous call (the raw driver), returning a length or a number as the count. */
const timedSync = (f: () => number) => timed(Effect.sync(f), (n) => n)

/** Looks up every id in `ids` with `find`, one after another; succeeds with how many found a row. */
const countHits = <E, R>(ids: Iterable<number>, find: (id: number) => Effect.Effect<Option.Option<unknown>, E, R>) =>
  Effect.gen(function*() {
    let hits = 0
    for (const id of ids) if (Option.isSome(yield* find(id))) hits++
    return hits
  })

const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] ?? NaN : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2
}

/** The runs of one contender and their median. */
interface Runs {
  readonly name: string
  readonly ms: ReadonlyArray<number>
  readonly median: number
  readonly count: number
}

/**
 * Runs the contenders in turn, `reps` rounds (A B C, A B C, ...), and fails if they disagree on
 * the count: a faster wrong answer is not a result.
 */
const alternate = <R>(label: string, reps: number, contenders: ReadonlyArray<Contender<R>>) =>
  Effect.gen(function*() {
    const runs = contenders.map(() => [] as Array<Measured>)
    for (let rep = 0; rep < reps; rep++) {
      for (const [i, contender] of contenders.entries()) {
        yield* Console.error(`  ${label}: ${contender.name} run ${rep + 1}/${reps}`)
        collectGarbage()
        runs[i]?.push(yield* contender.run)
      }
    }
    const result = contenders.map((contender, i): Runs => {
      const measured = runs[i] ?? []
      const ms = measured.map((m) => m.ms)
      return { name: contender.name, ms, median: median(ms), count: measured[0]?.count ?? 0 }
    })
    const counts = new Set(runs.flat().map((m) => m.count))
    if (counts.size > 1) return yield* Effect.dieMessage(`${label}: contenders disagree on the count (${[...counts]})`)
    return result
  })

/** The runs of the contender called `name` (empty if none ran). */
const pick = (runs: ReadonlyArray<Runs>, name: string): Runs =>
  runs.find((r) => r.name === name) ?? { name, ms: [], median: NaN, count: 0 }

// ---------------------------------------------------------------------------------------------
// Printing

const int = (n: number) => Math.round(n).toLocaleString("en-US")
const duration = (ms: number) => ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`
const rate = (count: number, ms: number) => `${int(count / (ms / 1000))}/s`
const ratio = (baseline: number, ours: number) => (baseline / ours).toFixed(2)
const runList = (runs: Runs) => runs.ms.map((ms) => ms.toFixed(0)).join(" ")
/** The median time of one call (µs) when each run made `calls` calls. */
const perCall = (runs: Runs, calls: number, digits = 1) => `${(runs.median * 1000 / calls).toFixed(digits)} µs`
const atLeast = (value: string | number, goal: number) => Number(value) >= goal ? "ok" : "MISSED"
const atMost = (value: string | number, goal: number) => Number(value) <= goal ? "ok" : "MISSED"
/** Rows of the "all runs" table: one per contender, its runs in the order they ran. */
const runRows = (section: string, runs: ReadonlyArray<Runs>) =>
  runs.map((r): ReadonlyArray<string> => [`${section}: ${r.name}`, runList(r)])

/** An aligned text table: the first column left-aligned, the others right-aligned. */
const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const all = [header, ...rows]
  const widths = header.map((_, col) => Math.max(...all.map((row) => (row[col] ?? "").length)))
  const line = (row: ReadonlyArray<string>) =>
    row.map((cell, col) => col === 0 ? cell.padEnd(widths[col] ?? 0) : cell.padStart(widths[col] ?? 0)).join("   ")
      .trimEnd()
  const rule = widths.map((w) => "-".repeat(w)).join("   ")
  return [line(header), rule, ...rows.map(line)].join("\n")
}

const machine = () => {
  const cpus = os.cpus()
  return `${cpus[0]?.model.trim() ?? "unknown cpu"}, ${cpus.length} cores, node ${process.version}, ${os.platform()}`
}

const peakRss = () => `${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`

/**
 * CPU time (ms) used so far by the whole machine (all cores) and by this process (all its threads),
 * plus `helpers`: the CPU time of processes that work for this one (a database server, probe children).
 */
const cpuClock = (helpers: () => number) => {
  const machine = os.cpus().reduce((sum, { times }) => sum + times.user + times.nice + times.sys + times.irq, 0)
  const own = process.cpuUsage()
  return { machine, own: (own.user + own.system) / 1000 + helpers(), wall: performance.now() }
}

/**
 * Runs `effect` and measures how many cores other processes kept busy meanwhile, on average. On a
 * small machine a parallel test run or build next to the benchmark wipes out any concurrency gain,
 * so a figure well above 0 means the section's ratios are not to be trusted. `helpers` (CPU ms so
 * far) counts processes doing the benchmark's own work as not "other".
 */
const withOthersLoad = <A, E, R>(effect: Effect.Effect<A, E, R>, helpers: () => number = () => 0) =>
  Effect.suspend(() => {
    const before = cpuClock(helpers)
    return Effect.map(effect, (a) => {
      const after = cpuClock(helpers)
      const others = (after.machine - before.machine) - (after.own - before.own)
      return [a, Math.max(0, others) / (after.wall - before.wall)] as const
    })
  })

// ---------------------------------------------------------------------------------------------
// Databases

/** The SQLite branch of `src/Migrations.ts` (`1_create_users`), for the raw baseline. */
const usersDdl = `CREATE TABLE users (
  user_id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  email TEXT NOT NULL UNIQUE,
  age INTEGER NOT NULL CHECK (age BETWEEN 0 AND 150),
  created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
)`
const columns = "user_id, name, email, age, created_at"
/** The point lookup, as `UserRepo.byId` prepares it and as a templated `sql` lookup compiles. */
const byIdSql = `SELECT ${columns} FROM users WHERE user_id = ?`

/** A better-sqlite3 connection with the pragmas `src/SqliteDatabase.ts` sets. */
const openRaw = (file: string): Sqlite.Database => {
  const db = new Sqlite(file)
  db.pragma("journal_mode = WAL")
  db.pragma("synchronous = NORMAL")
  db.pragma("foreign_keys = ON")
  return db
}

const withRaw = <A>(file: string, f: (db: Sqlite.Database) => A): A => {
  const db = openRaw(file)
  try {
    return f(db)
  } finally {
    db.close()
  }
}

/** The dbscope stack the CLI builds: repository over a connection layer, silent progress. */
const usersLayer = <ROut, E>(database: Layer.Layer<ROut | SqlClient.SqlClient | PreparedQueries, E>) =>
  Layer.mergeAll(UserRepo.Default, Progress.layerSilent).pipe(Layer.provideMerge(database))

/** The dbscope stack on a SQLite file. */
const dbscopeLayer = (filename: string) => usersLayer(SqliteDatabase.layer({ filename }))

/** Migrations, then `addSynthetic(rows)`, timed, on whichever database is provided (the users a suite reads). */
const loadUsers = (rows: number) =>
  Effect.zipRight(
    Console.error(`  building ${int(rows)} synthetic users`),
    timed(Effect.zipRight(Migrations.run, addSynthetic(rows)), (n) => n)
  )

/** `users.db` in `dir`, loaded by `loadUsers`. */
const buildUsers = (dir: string, rows: number) =>
  Effect.gen(function*() {
    const file = path.join(dir, "users.db")
    const built = yield* loadUsers(rows).pipe(Effect.provide(dbscopeLayer(file)))
    return { file, built }
  })

const removeDatabase = (file: string) => {
  for (const suffix of ["", "-wal", "-shm", "-journal"]) fs.rmSync(file + suffix, { force: true })
}

/** What two imports must agree on to count as the same rows. */
const fingerprint = (file: string) =>
  withRaw(file, (db) =>
    JSON.stringify(
      db.prepare("SELECT count(*) AS n, sum(age) AS ages, max(email) AS email, total(length(name)) AS names FROM users")
        .get()
    ))

const fileSize = (db: Sqlite.Database) =>
  Number(db.pragma("page_count", { simple: true })) * Number(db.pragma("page_size", { simple: true }))

/** Pseudo-random ids in 1..rows from a fixed seed (xorshift32): every contender looks up the same sequence. */
const lookupIds = (rows: number, count: number): Int32Array => {
  const ids = new Int32Array(count)
  let state = 0x9e3779b9 | 0
  for (let i = 0; i < count; i++) {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    ids[i] = 1 + ((state >>> 0) % rows)
  }
  return ids
}

// ---------------------------------------------------------------------------------------------
// Suite `import`: import, scan and point lookups on N synthetic users; does an index on age pay?

const insertBatch = 500
const lookupCount = 200_000
const scanAge = 40
const indexAges = [40, 100, 119] as const
const scanSql = `SELECT ${columns} FROM users WHERE age > ? ORDER BY user_id`

/** Raw import: the same rows as `addSynthetic`, generated in batches inside the timed loop, in ONE transaction. */
const rawImport = (file: string, rows: number) =>
  Effect.sync(() =>
    withRaw(file, (db): Measured => {
      db.exec(usersDdl)
      const start = performance.now()
      const insert = db.prepare("INSERT INTO users (name,email,age) VALUES (?,?,?)")
      db.transaction(() => {
        for (let done = 0; done < rows; done += insertBatch) {
          for (const user of generate(1 + done, Math.min(insertBatch, rows - done))) {
            insert.run(user.name, user.email, user.age)
          }
        }
      })()
      return { ms: performance.now() - start, count: rows }
    })
  )

/** dbscope import: migrations (untimed, like the raw DDL), then `addSynthetic(rows)`. */
const ourImport = (file: string, rows: number) =>
  Effect.gen(function*() {
    yield* Migrations.run
    return yield* timed(addSynthetic(rows), (n) => n)
  }).pipe(Effect.provide(dbscopeLayer(file)))

/**
 * 1. Imports into fresh files, alternating dbscope / raw. The first raw file is checked against the
 * dbscope file before it; raw files are removed at once and only the latest dbscope file is kept, for the reads.
 */
const importPhase = (dir: string, rows: number, reps: number) =>
  Effect.gen(function*() {
    let made = 0
    let kept: string | undefined
    let checked = false
    const fresh = (name: string) => Effect.sync(() => path.join(dir, `${name}-${made++}.db`))
    const runs = yield* alternate("import", reps, [
      {
        name: "dbscope",
        run: Effect.flatMap(fresh("dbscope"), (file) =>
          Effect.tap(ourImport(file, rows), () => {
            if (kept !== undefined) removeDatabase(kept)
            kept = file
          }))
      },
      {
        name: "raw",
        run: Effect.flatMap(fresh("raw"), (file) =>
          Effect.tap(rawImport(file, rows), () => {
            const same = checked || (kept !== undefined && fingerprint(kept) === fingerprint(file))
            removeDatabase(file)
            checked = true
            return same ? Effect.void : Effect.dieMessage("dbscope and raw imports wrote different rows")
          }))
      }
    ])
    if (kept === undefined) return yield* Effect.dieMessage("no import ran")
    return { runs, file: kept }
  })

/** 2. and 3. Scan and point lookups: dbscope, raw and plain sql-sqlite-node connections open side by side. */
const readPhase = (file: string, rows: number, raw: Sqlite.Database, reps: { scan: number; lookups: number }) =>
  Effect.gen(function*() {
    const repo = yield* UserRepo
    const rawScan = raw.prepare(scanSql)
    const scan = yield* alternate(`scan age > ${scanAge}`, reps.scan, [
      { name: "dbscope", run: timed(repo.olderThan(scanAge), (users) => users.length) },
      { name: "raw", run: timedSync(() => rawScan.all(scanAge).length) }
    ])

    const ids = lookupIds(rows, lookupCount)
    const lookups = <E>(find: (id: number) => Effect.Effect<Option.Option<unknown>, E>) =>
      timed(countHits(ids, find), (hits) => hits)
    const rawById = raw.prepare(byIdSql)
    // The plain path for comparison: @effect/sql-sqlite-node's client, decoded with SqlSchema.findOne.
    const plain = yield* Layer.build(SqliteClient.layer({ filename: file }))
    const plainFindOne = yield* Effect.map(SqlClient.SqlClient, (sql) =>
      SqlSchema.findOne({
        Request: Schema.Number,
        Result: User,
        execute: (id) => sql`SELECT user_id, name, email, age, created_at FROM users WHERE user_id = ${id}`
      })).pipe(Effect.provide(plain))
    const lookup = yield* alternate("point lookups", reps.lookups, [
      { name: "dbscope", run: lookups(repo.byId) },
      {
        name: "raw",
        run: timedSync(() => {
          let hits = 0
          for (const id of ids) if (rawById.get(id) !== undefined) hits++
          return hits
        })
      },
      { name: "plain", run: lookups(plainFindOne) }
    ])
    return { scan, lookup, lookups: ids.length }
  }).pipe(Effect.provide(dbscopeLayer(file)))

/** A state of the schema for the index comparison: how to reach it (timed) and the scan to run in it. */
interface IndexStep {
  readonly label: string
  readonly setup: string | undefined
  readonly scan: string
}

const indexSteps: ReadonlyArray<IndexStep> = [
  { label: "no index", setup: undefined, scan: scanSql },
  { label: "index", setup: "CREATE INDEX users_age ON users(age)", scan: scanSql },
  { label: "index+ANALYZE", setup: "ANALYZE", scan: scanSql },
  { label: "INDEXED BY", setup: undefined, scan: scanSql.replace("FROM users", "FROM users INDEXED BY users_age") }
]

/** The query plan in a word: a full scan in id order, or the index (plus a sort for ORDER BY). */
const planOf = (raw: Sqlite.Database, sql: string, age: number) => {
  const steps = raw.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(age).map((step) =>
    (step as { readonly detail: string }).detail
  )
  const index = steps.some((detail) => detail.includes("INDEX users_age")) ? "index" : "scan"
  return steps.some((detail) => detail.includes("TEMP B-TREE")) ? `${index}+sort` : index
}

/**
 * 4. Raw scans in each schema state (no index, index, index with statistics, index forced), in
 * order, on the raw connection; each step's setup (index build, ANALYZE) is timed once.
 */
const indexPhase = (raw: Sqlite.Database, reps: number) =>
  Effect.forEach(indexSteps, (step) =>
    Effect.gen(function*() {
      const sizeBefore = fileSize(raw)
      const setup = step.setup
      const setupMs = setup === undefined ? undefined : (yield* timedSync(() => {
        raw.exec(setup)
        return 0
      })).ms
      // Prepared after the setup, so the plan is chosen for the schema as it is now.
      const statement = raw.prepare(step.scan)
      const scans = yield* Effect.forEach(indexAges, (age) =>
        Effect.map(
          alternate(`raw scan age > ${age}, ${step.label}`, reps, [
            { name: step.label, run: timedSync(() => statement.all(age).length) }
          ]),
          ([runs]) => ({ age, count: runs?.count ?? 0, median: runs?.median ?? NaN, plan: planOf(raw, step.scan, age) })
        ))
      return { step, setupMs, grown: fileSize(raw) - sizeBefore, scans }
    }))

const importSuite = ({ dir, rows }: SuiteOptions) =>
  Effect.gen(function*() {
    const small = rows <= 100_000
    const reps = { import: small ? 5 : 3, scan: small ? 7 : 5, lookups: 3 }
    const imported = yield* importPhase(dir, rows, reps.import)
    const raw = yield* Effect.acquireRelease(Effect.sync(() => openRaw(imported.file)), (db) =>
      Effect.sync(() => db.close()))
    const read = yield* readPhase(imported.file, rows, raw, reps)
    const dbSize = fileSize(raw)
    const index = yield* indexPhase(raw, reps.scan)

    const ourImportRuns = pick(imported.runs, "dbscope")
    const rawImportRuns = pick(imported.runs, "raw")
    const ourScan = pick(read.scan, "dbscope")
    const rawScan = pick(read.scan, "raw")
    const ourLookups = pick(read.lookup, "dbscope")
    const rawLookups = pick(read.lookup, "raw")
    const plainLookups = pick(read.lookup, "plain")
    const importRatio = ratio(rawImportRuns.median, ourImportRuns.median)
    const scanRatio = ratio(rawScan.median, ourScan.median)
    const lookupRatio = ratio(rawLookups.median, ourLookups.median)
    const plainRatio = ratio(rawLookups.median, plainLookups.median)
    const mb = (bytes: number) =>
      `${(bytes / 1024 / 1024).toFixed(1)} MB`

    yield* Console.log(table(
      ["measurement", "dbscope", "raw better-sqlite3", "speed ratio", "goal", "", "plain sql-sqlite-node (ratio)"],
      [
        [
          `1. import ${int(rows)} rows (median of ${reps.import})`,
          duration(ourImportRuns.median),
          duration(rawImportRuns.median),
          importRatio,
          ">= 0.8",
          atLeast(importRatio, 0.8),
          "-"
        ],
        [
          `2. scan age > ${scanAge}, ${int(ourScan.count)} rows (median of ${reps.scan})`,
          duration(ourScan.median),
          duration(rawScan.median),
          scanRatio,
          ">= 0.8",
          atLeast(scanRatio, 0.8),
          "-"
        ],
        [
          `3. point lookups x ${int(read.lookups)}, ${int(ourLookups.count)} hits (median of ${reps.lookups})`,
          rate(read.lookups, ourLookups.median),
          rate(read.lookups, rawLookups.median),
          lookupRatio,
          ">= 0.5",
          atLeast(lookupRatio, 0.5),
          `${rate(read.lookups, plainLookups.median)} (${plainRatio})`
        ]
      ]
    ))
    yield* Console.log("\nall runs, in the order they ran (ms):")
    yield* Console.log(table(["", "dbscope", "raw", "plain"], [
      ["import", runList(ourImportRuns), runList(rawImportRuns), ""],
      ["scan", runList(ourScan), runList(rawScan), ""],
      ["lookups", runList(ourLookups), runList(rawLookups), runList(plainLookups)]
    ]))
    yield* Console.log("")
    const [noIndex] = index
    yield* Console.log(table(
      ["4. raw scan, ORDER BY user_id", "rows", ...index.map(({ step }) => step.label)],
      indexAges.map((age, i) => [
        `age > ${age}`,
        int(noIndex?.scans[i]?.count ?? 0),
        ...index.map(({ scans }) => {
          const scan = scans[i]
          const base = noIndex?.scans[i]?.median ?? NaN
          return scan === undefined ? "" : `${duration(scan.median)} ${scan.plan} ${ratio(base, scan.median)}x`
        })
      ])
    ))
    yield* Console.log(
      "(each cell: median of " + reps.scan + " runs, plan, speed vs no index)\n" +
        index.filter(({ setupMs }) => setupMs !== undefined)
          .map(({ grown, setupMs, step }) => `${step.setup}: ${duration(setupMs ?? NaN)}, file +${mb(grown)}`)
          .join("; ") +
        `; file without index ${mb(dbSize)}\n`
    )
    yield* Console.log(`peak RSS: ${peakRss()}`)
    yield* Console.log(
      `summary: speed ratio vs raw better-sqlite3: import ${importRatio} (goal 0.8), scan ${scanRatio} (goal 0.8), ` +
        `lookups ${lookupRatio} (goal 0.5); plain sql-sqlite-node lookups ${plainRatio}`
    )
    const lookupRate = (runs: Runs) => read.lookups / (runs.median / 1000)
    const lookupsName = `byId x ${int(read.lookups)}`
    return measured(false, [
      compare({
        suite: "import",
        name: `import ${int(rows)} rows, one transaction`,
        ours: ourImportRuns.median,
        against: "raw, single-row inserts",
        baseline: rawImportRuns.median,
        unit: "ms",
        ratio: Number(importRatio),
        better: "higher",
        goal: ratioAtLeast(0.8)
      }),
      compare({
        suite: "import",
        name: `scan age > ${scanAge}, ${int(ourScan.count)} rows`,
        ours: ourScan.median,
        against: "raw .all()",
        baseline: rawScan.median,
        unit: "ms",
        ratio: Number(scanRatio),
        better: "higher",
        goal: ratioAtLeast(0.8)
      }),
      compare({
        suite: "import",
        name: `UserRepo.${lookupsName}`,
        ours: lookupRate(ourLookups),
        against: "raw .get()",
        baseline: lookupRate(rawLookups),
        unit: "per s",
        ratio: Number(lookupRatio),
        better: "higher",
        goal: ratioAtLeast(0.5)
      }),
      compare({
        suite: "import",
        name: `plain sql-sqlite-node ${lookupsName}`,
        ours: lookupRate(plainLookups),
        against: "raw .get()",
        baseline: lookupRate(rawLookups),
        unit: "per s",
        ratio: Number(plainRatio),
        better: "higher",
        note: "not dbscope: the lookups through @effect/sql-sqlite-node alone"
      })
    ])
  }).pipe(Effect.scoped)

// ---------------------------------------------------------------------------------------------
// Suite `concurrency`: the reader pool (`SqlitePool`) against dbscope's single connection
// (`SqliteDatabase`) on N synthetic users (dashboard, the seed's pair, event-loop lag) and on the
// 1000-row sample (latency of small queries). The pool's start-up is timed apart, outside the runs.

const pairAge = 40
const poolReaders = 2
const lagTick = 10
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

/**
 * Runs `effect` under a Node `setInterval` of `lagTick` ms and returns its result with the worst
 * lateness of a tick (ms): a tick still pending when the effect ends counts with its lateness so far.
 */
const withLagProbe = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      let worst = 0
      let expected = performance.now() + lagTick
      const timer = setInterval(() => {
        const now = performance.now()
        worst = Math.max(worst, now - expected)
        expected = now + lagTick
      }, lagTick)
      return { timer, worst: () => Math.max(worst, performance.now() - expected) }
    }),
    (probe) => Effect.map(effect, (a) => [a, probe.worst()] as const),
    (probe) => Effect.sync(() => clearInterval(probe.timer))
  )

const pairCount = (result: Effect.Effect.Success<ReturnType<typeof fetchUsers>>) =>
  result.allUsers.value.length + result.olderUsers.value.length

/** The seed's pair as a user without dbscope writes it: `@effect/sql-sqlite-node` and `Effect.all`. */
const sqliteNodePair = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  return yield* Effect.all([
    sql`SELECT user_id, name, email, age, created_at FROM users ORDER BY user_id`,
    sql`SELECT user_id, name, email, age, created_at FROM users WHERE age > ${pairAge} ORDER BY user_id`
  ], { concurrency: "unbounded" })
})

/** 1. to 3. on the big database: the dashboard, the seed's pair, and the event-loop lag while the pair runs. */
const bigPhase = (file: string, startups: Array<number>, reps: { dashboard: number; pair: number; lag: number }) =>
  Effect.gen(function*() {
    const dashboard = yield* Effect.scoped(Effect.gen(function*() {
      const { pool, single } = yield* openBoth(file, startups)
      const report = (concurrent: boolean) =>
        timed(
          Effect.flatMap(Dashboard, (dashboard) => dashboard.report({ concurrent })),
          (report) => report.summary.users + report.usersOver40 + report.ageBands.length + report.topDomains.length
        )
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
    const pairVerdict = `${atLeast(pairRatio, 1)}; 1.2 ${atLeast(pairRatio, 1.2) === "ok" ? "ok" : "missed"}`
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
          atMost(olderRatio, 1.5)
        ],
        [
          `UserRepo.byId x ${int(sampleLookups)}, ${int(byIdPool.count)} hits`,
          perCall(byIdPool, sampleLookups),
          perCall(byIdSingle, sampleLookups),
          byIdRatio,
          "<= 1.5",
          atMost(byIdRatio, 1.5)
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
    const busy = Math.max(...loads) > 0.1
    yield* Console.log(
      `CPU kept busy by other processes, in cores (should be ~0): ` +
        `1. ${dashboardLoad.toFixed(2)}, 2. ${pairLoad.toFixed(2)}, 3. ${lagLoad.toFixed(2)}, 4. ${
          sample.load.toFixed(2)
        }` +
        (busy ? ` -- WARNING: the machine was not idle, ratios are unreliable; run again` : "")
    )
    yield* Console.log(`peak RSS: ${peakRss()}`)
    yield* Console.log(
      `summary${busy ? " (machine busy, unreliable)" : ""}: dashboard pool vs single ${dashRatio}x (goal 1.6, ${
        atLeast(dashRatio, 1.6)
      }; vs pool sequential ` +
        `${dashPoolRatio}x); seed pair vs single ${pairRatio}x (goal 1.0, stretch 1.2: ${pairVerdict}), vs sql-sqlite-node ` +
        `${pairNodeRatio}x; worst lag pool ${duration(lagPool.median)} vs single ${duration(lagSingle.median)} ` +
        `(goal 50 ms, ${atMost(lagPool.median, 50)}); sample latency pool/single olderThan ${olderRatio}, ` +
        `byId ${byIdRatio} (goal <= 1.5, ${atMost(Math.max(Number(olderRatio), Number(byIdRatio)), 1.5)})`
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
        goal: ratioAtMost(1.5)
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
        note: `stretch goal 1.2 ${atLeast(pairRatio, 1.2) === "ok" ? "met" : "missed"}`
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

// ---------------------------------------------------------------------------------------------
// Suite `streams`: `src/UserStream.ts` on N synthetic users. 1. streaming every user (and the ages
// only) against the raw driver's iterator and a fully materialised `.all()`, with the peak RSS growth
// of each, measured in fresh child processes; 2. keyset paging against OFFSET paging and one full scan.

const streamSql = `SELECT ${columns} FROM users ORDER BY user_id`
const agesSql = "SELECT age FROM users ORDER BY user_id"
const streamPageSize = 1000
/** OFFSET paging is quadratic: the full walk runs only if the prefix projects it under this budget per run. */
const offsetBudgetMs = 30_000
/** Rows of the OFFSET prefix walk that decides (and, if the full walk is too slow, extrapolates) it. */
const offsetPrefixRows = 200_000
/** Rows between two inline RSS samples in synchronous loops, where a timer cannot fire. */
const rssEvery = 8192
const rssTick = 20
const rssGoalMb = 50
const probeMode = "streams-probe"

interface AgeTotal {
  readonly sum: number
  readonly count: number
}

const addAge = (total: AgeTotal, age: number): AgeTotal => ({ sum: total.sum + age, count: total.count + 1 })
const noAges: AgeTotal = { sum: 0, count: 0 }

/**
 * Peak RSS growth over a baseline taken after a full GC. The peak is sampled by a `rssTick` ms
 * timer, by `sample()` calls from synchronous loops (where the timer cannot fire), and from
 * `maxRSS`, the process's high-water mark, which tells about the run only if the run raised it.
 */
const rssProbe = () => {
  collectGarbage()
  const baseline = process.memoryUsage.rss()
  const maxBefore = process.resourceUsage().maxRSS * 1024
  let peak = baseline
  const sample = () => {
    const rss = process.memoryUsage.rss()
    if (rss > peak) peak = rss
  }
  const timer = setInterval(sample, rssTick)
  return {
    sample,
    stop: () => {
      sample()
      clearInterval(timer)
      const maxAfter = process.resourceUsage().maxRSS * 1024
      return { baseline, growth: (maxAfter > maxBefore ? Math.max(peak, maxAfter) : peak) - baseline }
    }
  }
}

/** What a memory probe runs, by name: each returns the ages' total, sampling RSS as it goes. */
const probeKinds = {
  "dbscope streamUsers()": (_raw: Sqlite.Database, sample: () => void) =>
    Stream.runFold(streamUsers(), noAges, (total, user) => {
      if (total.count % rssEvery === 0) sample()
      return addAge(total, user.age)
    }),
  "dbscope averageAge()": () => Effect.map(averageAge(), (average) => ({ sum: average, count: 1 })),
  "raw .iterate()": (raw: Sqlite.Database, sample: () => void) =>
    Effect.sync(() => {
      let total = noAges
      for (const row of raw.prepare(streamSql).iterate()) {
        if (total.count % rssEvery === 0) sample()
        total = addAge(total, (row as User).age)
      }
      return total
    }),
  "raw .all()": (raw: Sqlite.Database, sample: () => void) =>
    Effect.sync(() => {
      const rows = raw.prepare(streamSql).all() as Array<User>
      sample()
      return rows.reduce((total, row) => addAge(total, row.age), noAges)
    })
} as const

type ProbeKind = keyof typeof probeKinds
const isProbeKind = (kind: string): kind is ProbeKind => Object.hasOwn(probeKinds, kind)

interface ProbeResult {
  readonly kind: ProbeKind
  readonly baseline: number
  readonly growth: number
  readonly average: number
}

/**
 * The hidden `streams-probe <kind> <file>` mode: one memory measurement in this fresh process. Both
 * connections are opened before the baseline, so it holds what every kind needs before it runs.
 */
const runProbe = (kind: ProbeKind, file: string) =>
  Effect.gen(function*() {
    const context = yield* Layer.build(dbscopeLayer(file))
    const raw = yield* Effect.acquireRelease(Effect.sync(() => openRaw(file)), (db) => Effect.sync(() => db.close()))
    const probe = rssProbe()
    const total = yield* Effect.provide(probeKinds[kind](raw, probe.sample), context)
    const { baseline, growth } = probe.stop()
    const result: ProbeResult = { kind, baseline, growth, average: total.sum / total.count }
    yield* Console.log(JSON.stringify(result))
  }).pipe(Effect.scoped)

const scriptPath = fileURLToPath(import.meta.url)

/**
 * Runs this script with `args` in a fresh Node process (`env` added to this one's) and reads its
 * result: the last line it prints, a JSON object.
 */
const spawnJson = <A>(what: string, args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  Effect.suspend(() => {
    const child = spawnSync(process.execPath, [scriptPath, ...args], {
      encoding: "utf8",
      env: { ...process.env, ...env }
    })
    const last = child.stdout.trim().split("\n").at(-1) ?? ""
    return child.status === 0 && last.startsWith("{")
      ? Effect.succeed(JSON.parse(last) as A)
      : Effect.dieMessage(`${what} failed (exit ${child.status}): ${child.stderr.trim()}`)
  })

/** Runs one memory probe in a fresh Node process and reads its result. */
const spawnProbe = (kind: ProbeKind, file: string) =>
  spawnJson<ProbeResult>(`memory probe ${kind}`, [probeMode, kind, file])

/** Each kind in `reps` fresh processes, alternated; the median peak growth of each. */
const memoryPhase = (file: string, reps: number) =>
  Effect.gen(function*() {
    const kinds = Object.keys(probeKinds).filter(isProbeKind)
    const results = new Map(kinds.map((kind) => [kind, [] as Array<ProbeResult>]))
    for (let rep = 0; rep < reps; rep++) {
      for (const kind of kinds) {
        yield* Console.error(`  memory: ${kind} run ${rep + 1}/${reps} (fresh process)`)
        results.get(kind)?.push(yield* spawnProbe(kind, file))
      }
    }
    return kinds.map((kind) => {
      const runs = results.get(kind) ?? []
      return {
        kind,
        growth: runs.map((r) => r.growth),
        median: median(runs.map((r) => r.growth)),
        baseline: median(runs.map((r) => r.baseline)),
        averages: runs.map((r) => r.average)
      }
    })
  })

/**
 * A contender that computes an average: its result is kept in `averages` (under its name) so that
 * the suite can check they all agree. `count` is what `alternate` compares.
 */
const averaging = <E, R>(
  averages: Map<string, Array<number>>,
  name: string,
  effect: Effect.Effect<AgeTotal, E, R>,
  count: (total: AgeTotal) => number = (total) => total.count
): Contender<R> => ({
  name,
  run: timed(
    Effect.tap(effect, (total) => {
      const seen = averages.get(name) ?? []
      seen.push(total.sum / total.count)
      averages.set(name, seen)
    }),
    count
  )
})

const rawAges = (raw: Sqlite.Database, sql: string) =>
  Effect.sync(() => {
    let total = noAges
    for (const row of raw.prepare(sql).iterate()) total = addAge(total, (row as { readonly age: number }).age)
    return total
  })

/** 1. Time: every user streamed and folded, the raw iterator, the raw `.all()`; then the ages only. */
const streamPhase = (raw: Sqlite.Database, reps: number, averages: Map<string, Array<number>>) =>
  Effect.gen(function*() {
    const users = yield* alternate("stream all users", reps, [
      averaging(averages, "dbscope streamUsers()", Stream.runFold(streamUsers(), noAges, (t, u) => addAge(t, u.age))),
      averaging(averages, "raw .iterate()", rawAges(raw, streamSql)),
      averaging(
        averages,
        "raw .all()",
        Effect.sync(() => (raw.prepare(streamSql).all() as Array<User>).reduce((t, u) => addAge(t, u.age), noAges))
      )
    ])
    // averageAge gives no count: these two are compared on the average, in millionths.
    const inMillionths = (total: AgeTotal) => Math.round(total.sum / total.count * 1e6)
    const ages = yield* alternate("average age", reps, [
      averaging(
        averages,
        "dbscope averageAge()",
        Effect.map(averageAge(), (average) => ({ sum: average, count: 1 })),
        inMillionths
      ),
      averaging(averages, "raw .iterate() ages", rawAges(raw, agesSql), inMillionths)
    ])
    return { users, ages }
  })

/** OFFSET paging with `pageAt` until an empty page, or until `maxRows`; each page's offset and time is kept. */
const offsetWalk = (maxRows: number, pages: Array<readonly [offset: number, ms: number]>) =>
  Effect.gen(function*() {
    const repo = yield* UserRepo
    let rows = 0
    for (let offset = 0; offset < maxRows; offset += streamPageSize) {
      const start = performance.now()
      const page = yield* repo.pageAt(offset, streamPageSize)
      if (page.length === 0) break
      pages.push([offset, performance.now() - start])
      rows += page.length
    }
    return rows
  })

/**
 * The cost of the OFFSET walk over `rows` rows, extrapolated from measured pages: a page at offset
 * k costs a + b k (SQLite steps over the k skipped rows), fitted by least squares.
 */
const extrapolateOffset = (pages: ReadonlyArray<readonly [number, number]>, rows: number) => {
  const n = pages.length
  const mx = pages.reduce((s, [x]) => s + x, 0) / n
  const my = pages.reduce((s, [, y]) => s + y, 0) / n
  const sxx = pages.reduce((s, [x]) => s + (x - mx) ** 2, 0)
  const b = sxx === 0 ? 0 : pages.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0) / sxx
  const a = my - b * mx
  let total = 0
  // The full pages, then the empty page that ends the walk.
  for (let offset = 0; offset < rows; offset += streamPageSize) total += a + b * offset
  return total + a + b * rows
}

const countPages = (pages: Stream.Stream<ReadonlyArray<User>, unknown, UserRepo>) =>
  Stream.runFold(pages, 0, (rows, page) => rows + page.length)

/**
 * 2. Paging over every row: keyset pages, OFFSET pages, one raw `.all()`, `streamUsers()` drained.
 * Two untimed OFFSET walks over the first `offsetPrefixRows` rows come first: one to warm up, one to
 * project the full walk; when that is over budget, OFFSET runs on the prefix only (against keyset
 * on the same prefix) and its full walk is extrapolated. The projection is a lower bound: deep
 * pages cost more per skipped row than the prefix (past SQLite's page cache), ~3x under on 1M rows.
 */
const pagingPhase = (raw: Sqlite.Database, rows: number, reps: number) =>
  Effect.gen(function*() {
    const prefixRows = Math.min(rows, offsetPrefixRows)
    const prefixPages: Array<readonly [number, number]> = []
    yield* Console.error(
      `  paging: OFFSET walks over the first ${int(prefixRows)} rows (untimed, project the full walk)`
    )
    yield* offsetWalk(prefixRows, [])
    yield* offsetWalk(prefixRows, prefixPages)
    const projected = extrapolateOffset(prefixPages, rows)
    const fullOffset = projected <= offsetBudgetMs
    const keyset = countPages(lazyPaginate(streamPageSize))
    const full = yield* alternate("paging", reps, [
      { name: "keyset lazyPaginate", run: timed(keyset, (n) => n) },
      ...(fullOffset ? [{ name: "OFFSET pageAt", run: timed(offsetWalk(Infinity, []), (n) => n) }] : []),
      { name: "raw .all()", run: timedSync(() => raw.prepare(streamSql).all().length) },
      { name: "streamUsers() drained", run: timed(Stream.runCount(streamUsers()), (n) => n) }
    ])
    const cappedPages: Array<readonly [number, number]> = []
    const capped = fullOffset ? undefined : yield* alternate(`paging, first ${int(prefixRows)} rows`, reps, [
      {
        name: "keyset lazyPaginate",
        run: timed(countPages(Stream.take(lazyPaginate(streamPageSize), prefixRows / streamPageSize)), (n) => n)
      },
      { name: "OFFSET pageAt", run: timed(offsetWalk(prefixRows, cappedPages), (n) => n) }
    ])
    const estimate = capped === undefined ? undefined : extrapolateOffset(cappedPages, rows)
    return { full, capped, projected, estimate, prefixRows }
  })

const streamsSuite = ({ dir, rows }: SuiteOptions) =>
  Effect.gen(function*() {
    const small = rows <= 100_000
    const reps = { stream: small ? 7 : 5, paging: small ? 5 : 3, memory: 3 }
    const { built, file } = yield* buildUsers(dir, rows)
    // Children first, while this process is idle (their CPU would count as others' load, so none is
    // measured: peak RSS does not depend on it); then the timings, dbscope and raw connections side by side.
    const memory = yield* memoryPhase(file, reps.memory)
    const context = yield* Layer.build(dbscopeLayer(file))
    const raw = yield* Effect.acquireRelease(Effect.sync(() => openRaw(file)), (db) => Effect.sync(() => db.close()))
    const averages = new Map<string, Array<number>>()
    const [streamed, streamLoad] = yield* withOthersLoad(
      Effect.provide(streamPhase(raw, reps.stream, averages), context)
    )
    const [paging, pagingLoad] = yield* withOthersLoad(Effect.provide(pagingPhase(raw, rows, reps.paging), context))

    // Averages of every run and every probe must be one number (sums of integers are exact in doubles).
    for (const m of memory) averages.set(`memory: ${m.kind}`, m.averages)
    const distinct = new Set([...averages.values()].flat())
    const [average] = distinct
    if (distinct.size !== 1 || average === undefined) {
      const all = [...averages].map(([name, values]) => `${name}: ${[...new Set(values)].join(", ")}`).join("; ")
      return yield* Effect.dieMessage(`the averages disagree: ${all}`)
    }

    const ours = pick(streamed.users, "dbscope streamUsers()")
    const rawIterate = pick(streamed.users, "raw .iterate()")
    const rawAll = pick(streamed.users, "raw .all()")
    const ourAges = pick(streamed.ages, "dbscope averageAge()")
    const rawIterateAges = pick(streamed.ages, "raw .iterate() ages")
    const keyset = pick(paging.full, "keyset lazyPaginate")
    const offset = pick(paging.full, "OFFSET pageAt")
    const scan = pick(paging.full, "raw .all()")
    const drained = pick(paging.full, "streamUsers() drained")
    const mbOf = (bytes: number) => bytes / 1024 / 1024
    const mb = (bytes: number) => `${mbOf(bytes).toFixed(1)} MB`
    const memoryOf = (kind: ProbeKind) => memory.find((m) => m.kind === kind)
    const ourMemory = mbOf(memoryOf("dbscope streamUsers()")?.median ?? NaN)
    // Time ratios here: ours / the other's, lower is better.
    const over = (ours: number, other: number) => (ours / other).toFixed(2)
    const streamRatio = over(ours.median, rawIterate.median)
    const pagingRatio = over(keyset.median, scan.median)
    const offsetMs = paging.estimate ?? offset.median
    const offsetLabel = paging.estimate === undefined
      ? "OFFSET pageAt(offset, 1000) to an empty page"
      : `OFFSET pageAt, EXTRAPOLATED from first ${int(paging.prefixRows)} rows`

    yield* Console.log(
      `database: ${int(rows)} synthetic users, built in ${duration(built.ms)}; average age ${average}\n`
    )
    yield* Console.log(table(
      ["measurement (median of runs)", "dbscope", "compared with", "its figure", "time ratio", "goal", ""],
      [
        [
          `1. streamUsers() |> runFold sum of ages, ${int(ours.count)} users (${reps.stream} runs)`,
          duration(ours.median),
          "raw .iterate(), all columns",
          duration(rawIterate.median),
          streamRatio,
          "<= 1.3",
          atMost(streamRatio, 1.3)
        ],
        ["", "", "raw .all(), then average", duration(rawAll.median), over(ours.median, rawAll.median), "", ""],
        [
          `   averageAge(), ages only (${reps.stream} runs)`,
          duration(ourAges.median),
          "raw .iterate(), SELECT age",
          duration(rawIterateAges.median),
          over(ourAges.median, rawIterateAges.median),
          "",
          ""
        ],
        [
          `2. keyset lazyPaginate(1000), drained, ${int(keyset.count)} rows (${reps.paging} runs)`,
          duration(keyset.median),
          "one full scan: raw .all()",
          duration(scan.median),
          pagingRatio,
          "<= 1.5",
          atMost(pagingRatio, 1.5)
        ],
        ["", "", "streamUsers() drained", duration(drained.median), over(keyset.median, drained.median), "", ""],
        ["", "", offsetLabel, duration(offsetMs), over(keyset.median, offsetMs), "", ""]
      ]
    ))
    yield* Console.log("(time ratio = dbscope's time / the other's: lower is better, 1.0 = as fast)\n")

    yield* Console.log(table(
      [
        `1. peak RSS growth over baseline, fresh process each (median of ${reps.memory})`,
        "growth",
        "runs (MB)",
        "goal",
        ""
      ],
      memory.map((m) => [
        `${m.kind} (baseline ${mb(m.baseline)})`,
        mb(m.median),
        m.growth.map((g) => mbOf(g).toFixed(0)).join(" "),
        m.kind === "dbscope streamUsers()" ? `<= ${rssGoalMb} MB` : "",
        m.kind === "dbscope streamUsers()" ? atMost(ourMemory, rssGoalMb) : ""
      ])
    ))

    const cappedKeyset = paging.capped && pick(paging.capped, "keyset lazyPaginate")
    const cappedOffset = paging.capped && pick(paging.capped, "OFFSET pageAt")
    yield* Console.log(
      `\nOFFSET walk: an untimed walk over the first ${
        int(paging.prefixRows)
      } rows (after a warm-up) projected the full walk at ` +
        `${duration(paging.projected)}` +
        (paging.estimate === undefined
          ? `; measured ${duration(offset.median)} (${
            (offset.median / paging.projected).toFixed(1)
          }x the projection; ` +
            `run in full: under the ${duration(offsetBudgetMs)} budget)`
          : `: over the ${duration(offsetBudgetMs)} budget, so OFFSET ran on the first ${int(paging.prefixRows)} ` +
            `rows only: ${duration(cappedOffset?.median ?? NaN)} vs keyset ${duration(cappedKeyset?.median ?? NaN)}, ` +
            `full walk extrapolated (a + b*offset per page) to ${duration(paging.estimate)}, a lower bound`)
    )
    yield* Console.log("\nall runs, in the order they ran (ms):")
    yield* Console.log(table(["", "runs"], [
      ...runRows("1. stream", streamed.users),
      ...runRows("1. ages", streamed.ages),
      ...runRows("2. paging", paging.full),
      ...runRows(`2. first ${int(paging.prefixRows)}`, paging.capped ?? [])
    ]))
    const busy = Math.max(streamLoad, pagingLoad) > 0.1
    yield* Console.log(
      `\nCPU kept busy by other processes during the timings, in cores (should be ~0): ` +
        `1. ${streamLoad.toFixed(2)}, 2. ${pagingLoad.toFixed(2)}` +
        (busy ? " -- WARNING: the machine was not idle, ratios are unreliable; run again" : "")
    )
    yield* Console.log(`peak RSS of this process (timings): ${peakRss()}`)
    yield* Console.log(
      `summary${busy ? " (machine busy, unreliable)" : ""}: streamUsers vs raw iterate ${streamRatio}x ` +
        `(goal <= 1.3, ${atMost(streamRatio, 1.3)}), vs raw .all() ${over(ours.median, rawAll.median)}x; ` +
        `averageAge vs raw ${over(ourAges.median, rawIterateAges.median)}x; streaming RSS growth ` +
        `${ourMemory.toFixed(1)} MB (goal <= ${rssGoalMb}, ${atMost(ourMemory, rssGoalMb)}) vs .all() ` +
        `${mb(memoryOf("raw .all()")?.median ?? NaN)}; keyset paging vs full scan ${pagingRatio}x ` +
        `(goal <= 1.5, ${atMost(pagingRatio, 1.5)}), OFFSET ${over(offsetMs, keyset.median)}x keyset` +
        (paging.estimate === undefined ? "" : " (extrapolated)") + "; averages agree"
    )
    return measured(busy, [
      compare({
        suite: "streams",
        name: `streamUsers() folded, ${int(ours.count)} users`,
        ours: ours.median,
        against: "raw .iterate()",
        baseline: rawIterate.median,
        unit: "ms",
        ratio: Number(streamRatio),
        better: "lower",
        goal: ratioAtMost(1.3)
      }),
      compare({
        suite: "streams",
        name: "same stream",
        ours: ours.median,
        against: "raw .all()",
        baseline: rawAll.median,
        unit: "ms",
        ratio: Number(over(ours.median, rawAll.median)),
        better: "lower"
      }),
      compare({
        suite: "streams",
        name: "averageAge(), ages only",
        ours: ourAges.median,
        against: "raw .iterate() of ages",
        baseline: rawIterateAges.median,
        unit: "ms",
        ratio: Number(over(ourAges.median, rawIterateAges.median)),
        better: "lower"
      }),
      compare({
        suite: "streams",
        name: "RSS growth streaming, streamUsers()",
        ours: ourMemory,
        against: "raw .all()",
        baseline: mbOf(memoryOf("raw .all()")?.median ?? NaN),
        unit: "MB",
        ratio: null,
        better: "lower",
        goal: oursAtMost(rssGoalMb)
      }),
      compare({
        suite: "streams",
        name: `keyset lazyPaginate(${streamPageSize}), ${int(keyset.count)} rows`,
        ours: keyset.median,
        against: "one scan, raw .all()",
        baseline: scan.median,
        unit: "ms",
        ratio: Number(pagingRatio),
        better: "lower",
        goal: ratioAtMost(1.5)
      }),
      compare({
        suite: "streams",
        name: "same keyset paging",
        ours: keyset.median,
        against: "OFFSET paging",
        baseline: offsetMs,
        unit: "ms",
        ratio: Number(over(offsetMs, keyset.median)),
        better: "higher",
        ...(paging.estimate === undefined ? {} : { note: "OFFSET extrapolated from a prefix: a lower bound" })
      })
    ])
  }).pipe(Effect.scoped)

// ---------------------------------------------------------------------------------------------
// Suite `combinators`: what `cacheQuery` saves and what `logQueries` costs, on N synthetic users.
// 1. a cache hit of `olderThan(40)` against the query itself, then the reload a write forces;
// 2. point lookups with and without `logQueries()` on each, under a logger that appends logfmt
// lines to a file: the prepared `UserRepo.byId`, then a templated `sql` lookup.

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
 * A logger that formats each entry with `Logger.logfmtLogger` and appends it to `file`, `logBuffer`
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
      const logger = Logger.map(Logger.logfmtLogger, (line) => {
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
        sql`SELECT user_id, name, email, age, created_at FROM users WHERE user_id = ${id}`,
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
    const logRow = (label: string, runs: ReadonlyArray<Runs>, mode: LogMode): ReadonlyArray<string> => {
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
        "<= 1.2",
        atMost(logRatio(runs, mode), 1.2)
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
        logRow("repo.byId(id), prepared", logged.byId.runs, "around"),
        logRow("repo.byId(id), prepared", logged.byId.runs, "each"),
        logRow("repo.byId(id), prepared", logged.byId.runs, "unwritten"),
        logRow("sql`... WHERE user_id = ${id}`", logged.sql.runs, "around"),
        logRow("sql`... WHERE user_id = ${id}`", logged.sql.runs, "each"),
        logRow("sql`... WHERE user_id = ${id}`", logged.sql.runs, "unwritten")
      ]
    ))
    yield* Console.log(
      `(time ratio = with logQueries() / without: lower is better; logfmt lines to a file, ` +
        `${logBuffer} lines per fs.writeSync, the last flush timed; "below log level": logQueries at Debug ` +
        `under an Info minimum, so spans and hooks run but no line is built or written)\n` +
        `checked: ${logged.byId.file} and ${logged.sql.file} hold ${int(2 * reps.log * logLookups)} lines each, ` +
        `one per logged lookup, none from the unlogged runs; e.g.\n  ${logged.byId.sample}`
    )
    yield* Console.log("\nall runs, in the order they ran (ms; a cacheQuery run is its batch of hits):")
    yield* Console.log(table(["", "runs"], [
      ...runRows("1. olderThan", cache.runs),
      ...runRows("2. byId", logged.byId.runs),
      ...runRows("2. sql", logged.sql.runs)
    ]))
    const busy = Math.max(cacheLoad, logLoad) > 0.1
    yield* Console.log(
      `\nCPU kept busy by other processes, in cores (should be ~0): 1. ${cacheLoad.toFixed(2)}, ` +
        `2. ${logLoad.toFixed(2)}` +
        (busy ? " -- WARNING: the machine was not idle, ratios are unreliable; run again" : "")
    )
    yield* Console.log(`peak RSS: ${peakRss()}`)
    yield* Console.log(
      `summary${busy ? " (machine busy, unreliable)" : ""}: cacheQuery hit vs uncached olderThan(${cacheAge}) ` +
        `${cacheRatio}x (goal >= 100, ${atLeast(cacheRatio, 100)}), an insert invalidates it (+1 row on reload); ` +
        `logQueries() around ${int(logLookups)} lookups: byId ${byIdRatio}x (goal <= 1.2, ${
          atMost(byIdRatio, 1.2)
        }), ` +
        `templated sql ${sqlRatio}x (goal <= 1.2, ${atMost(sqlRatio, 1.2)}); one log line per logged lookup`
    )
    const logComparison = (name: string, runs: ReadonlyArray<Runs>, ratio: string) =>
      compare({
        suite: "combinators",
        name: `logQueries() around ${int(logLookups)} ${name}`,
        ours: pick(runs, logModes.around).median,
        against: "no logging",
        baseline: pick(runs, logModes.off).median,
        unit: "ms",
        ratio: Number(ratio),
        better: "lower",
        goal: ratioAtMost(1.2)
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
      logComparison("byId", logged.byId.runs, byIdRatio),
      logComparison("sql lookups", logged.sql.runs, sqlRatio)
    ])
  }).pipe(Effect.scoped)

// ---------------------------------------------------------------------------------------------
// Suite `mysql`: dbscope on MariaDB/MySQL (`src/MysqlDatabase.ts`) with N synthetic users in a
// scratch database `dbscope_bench_<pid>` on the local server, dropped at the end whatever happens.
// 1. the seed's pair on separate pooled connections at once against one after the other; 2. every
// row streamed (keyset pages, the driver's lazy row stream) against `repo.all()`: peak RSS growth
// and time, each in a fresh child process like the `streams` suite's probes.

/** The server: `DBSCOPE_BENCH_MYSQL`, else the local one as root without a password (the bench machine's MariaDB). */
const mysqlServer = (process.env.DBSCOPE_BENCH_MYSQL ?? "mysql://root@127.0.0.1:3306").replace(/\/+$/, "")
/** Where the server is, for messages: host and port only, never a password. */
const mysqlHost = URL.canParse(mysqlServer) ? new URL(mysqlServer).host : "the server in DBSCOPE_BENCH_MYSQL"
const mysqlPoolSize = 4
const mysqlProbeMode = "mysql-probe"
/** How the probe processes learn the scratch database's URL (never put on their command line). */
const mysqlUrlVariable = "DBSCOPE_BENCH_MYSQL_URL"

/** The dbscope stack on a MySQL/MariaDB pool. */
const mysqlLayer = (url: Redacted.Redacted<string>, readers?: MysqlDatabase.MysqlOptions["readers"]) =>
  usersLayer(MysqlDatabase.layer({ url, poolSize: mysqlPoolSize, readers }))

/** Reader workers for the MySQL seed pair: as many as `SqlitePool`'s. */
const mysqlReaders = { size: poolReaders }

/**
 * Runs one query on a connection of its own to `serverUrl` (no database), then ends it; a connection
 * that failed is destroyed instead (one that never connected would never call `end`'s callback).
 */
const onServer = (serverUrl: Redacted.Redacted<string>, sql: string, values: ReadonlyArray<unknown> = []) =>
  Effect.acquireUseRelease(
    Effect.sync(() => Mysql.createConnection({ uri: Redacted.value(serverUrl) })),
    (connection) =>
      Effect.async<unknown, Mysql.QueryError>((resume) => {
        connection.query({ sql, values: [...values] }, (error, results) =>
          resume(error === null ? Effect.succeed(results) : Effect.fail(error)))
      }),
    (connection, exit) =>
      Exit.isSuccess(exit)
        ? Effect.async<void>((resume) => connection.end(() => resume(Effect.void)))
        : Effect.sync(() => connection.destroy())
  )

/** Error codes that mean no server answers at all (a server that answers with an error fails the suite). */
const unreachable: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN"
])

/** Why the suite cannot run here when no server answers (then it is skipped, not failed); none if one does. */
const serverAbsent = Effect.gen(function*() {
  const answered = yield* Effect.either(onServer(Redacted.make(mysqlServer), "SELECT 1"))
  if (Either.isRight(answered)) return Option.none<string>()
  const { code } = answered.left
  return unreachable.has(code)
    ? Option.some(`no MariaDB/MySQL server answers at ${mysqlHost} (${code}): start one to run this suite`)
    : yield* Effect.fail(answered.left)
})

/**
 * A fresh database `dbscope_bench_<pid>` for the suite's scope, created with
 * `MysqlDatabase.createDatabase` and dropped with `MysqlDatabase.dropDatabase` (`DROP DATABASE IF
 * EXISTS` on a connection without a database) when the scope closes, after every pool opened in it
 * has closed: on success, failure or interruption. A database of that name that exists already was
 * not made by this run: the suite stops rather than touch it.
 */
const scratchDatabase = Effect.acquireRelease(
  Effect.gen(function*() {
    // A name this script makes (letters, digits and _ only), so it is safe to quote into DDL.
    const name = `dbscope_bench_${process.pid}`
    const url = Redacted.make(`${mysqlServer}/${name}`)
    const { serverUrl } = yield* MysqlDatabase.parseUrl(url)
    const found = yield* onServer(
      serverUrl,
      "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
      [name]
    )
    if (Array.isArray(found) && found.length > 0) {
      return yield* Effect.dieMessage(`database ${name} exists already (not made by this run): drop it first`)
    }
    yield* MysqlDatabase.createDatabase({ url })
    yield* Console.error(`  created database ${name}`)
    return { name, url }
  }),
  ({ name, url }) =>
    MysqlDatabase.dropDatabase({ url }).pipe(
      Effect.zipRight(Console.log(`\ndropped database ${name}`)),
      Effect.orDie
    )
)

/** Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`, 100 on Linux almost always). */
const clockTicks = (() => {
  const ticks = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout?.trim())
  return Number.isFinite(ticks) && ticks > 0 ? ticks : 100
})()

/** CPU time (ms) process `pid` has used so far, from /proc/<pid>/stat; undefined if it cannot be read. */
const processCpu = (pid: number): number | undefined => {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
    // After "pid (name) ": state is field 3; utime and stime are fields 14 and 15, in clock ticks.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    const ticks = Number(fields[11]) + Number(fields[12])
    return Number.isFinite(ticks) ? ticks * 1000 / clockTicks : undefined
  } catch {
    return undefined
  }
}

/**
 * The server's process, from its pid file, when it runs on this machine: its CPU is the benchmark's
 * own work (the queries it answers), not contention. Undefined when it is not visible from here.
 */
const serverProcess = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const [row] = yield* sql<{ readonly pid_file: string | null }>`SELECT @@pid_file AS pid_file`
  const pid = Effect.try(() => Number(fs.readFileSync(row?.pid_file ?? "", "utf8").trim()))
  return yield* Effect.map(
    Effect.option(pid),
    (found) => Option.filter(found, (pid) => Number.isSafeInteger(pid) && processCpu(pid) !== undefined)
  )
})

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

/** What a MySQL memory probe runs, by name. */
const mysqlProbeKinds = {
  "streamUsers(), keyset pages": (sample: () => void) =>
    Stream.runFold(streamUsers(), noAges, (total, user) => {
      if (total.count % rssEvery === 0) sample()
      return addAge(total, user.age)
    }),
  "sql`...`.stream, lazy rows": (sample: () => void) =>
    Effect.flatMap(SqlClient.SqlClient, (sql) =>
      Stream.runFold(
        sql<{ readonly age: number }>`SELECT user_id, name, email, age, created_at FROM users ORDER BY user_id`.stream,
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
} as const satisfies Record<string, MysqlProbeRun>

type MysqlProbeKind = keyof typeof mysqlProbeKinds
const isMysqlProbeKind = (kind: string): kind is MysqlProbeKind => Object.hasOwn(mysqlProbeKinds, kind)
/** The kinds that stream, and so have the memory goal. */
const streamingKinds: ReadonlyArray<MysqlProbeKind> = ["streamUsers(), keyset pages", "sql`...`.stream, lazy rows"]

interface MysqlProbeResult {
  readonly kind: MysqlProbeKind
  readonly baseline: number
  readonly growth: number
  /** Time of the read and the fold, from the first query to the total. */
  readonly ms: number
  readonly sum: number
  readonly count: number
  /** CPU time (ms) of the whole probe process, so the parent can count it as its own. */
  readonly cpu: number
}

/**
 * The hidden `mysql-probe <kind>` mode, the database URL in `DBSCOPE_BENCH_MYSQL_URL`: one memory
 * and time measurement in this fresh process. The pool is opened (and probed) before the baseline.
 */
const runMysqlProbe = (kind: MysqlProbeKind, url: Redacted.Redacted<string>) =>
  Effect.gen(function*() {
    const context = yield* Layer.build(mysqlLayer(url))
    const probe = rssProbe()
    const start = performance.now()
    const run: MysqlProbeRun = mysqlProbeKinds[kind]
    const total = yield* Effect.provide(run(probe.sample), context)
    const ms = performance.now() - start
    const { baseline, growth } = probe.stop()
    const usage = process.resourceUsage()
    const result: MysqlProbeResult = {
      kind,
      baseline,
      growth,
      ms,
      sum: total.sum,
      count: total.count,
      cpu: (usage.userCPUTime + usage.systemCPUTime) / 1000
    }
    yield* Console.log(JSON.stringify(result))
  }).pipe(Effect.scoped)

/**
 * 2. Each kind in `reps` fresh processes, alternated: median peak RSS growth and time. The probes'
 * CPU is added to `childCpu`, which the caller counts as its own.
 */
const mysqlMemoryPhase = (url: Redacted.Redacted<string>, reps: number, childCpu: { ms: number }) =>
  Effect.gen(function*() {
    const kinds = Object.keys(mysqlProbeKinds).filter(isMysqlProbeKind)
    const results = new Map(kinds.map((kind) => [kind, [] as Array<MysqlProbeResult>]))
    for (let rep = 0; rep < reps; rep++) {
      for (const kind of kinds) {
        yield* Console.error(`  memory (MySQL): ${kind} run ${rep + 1}/${reps} (fresh process)`)
        const result = yield* spawnJson<MysqlProbeResult>(
          `MySQL memory probe ${kind}`,
          [mysqlProbeMode, kind],
          { [mysqlUrlVariable]: Redacted.value(url) }
        )
        childCpu.ms += result.cpu
        results.get(kind)?.push(result)
      }
    }
    return kinds.map((kind) => {
      const runs = results.get(kind) ?? []
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
    const absent = yield* serverAbsent
    if (Option.isSome(absent)) return skipped(absent.value)
    const reps = { pair: 5, memory: 3 }
    const database = yield* scratchDatabase
    const context = yield* Layer.build(mysqlLayer(database.url))
    const built = yield* Effect.provide(loadUsers(rows), context)
    const { target } = yield* Effect.provide(MysqlDatabase.MysqlDatabase, context)
    const [version] = yield* Effect.provide(
      Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ readonly v: string }>`SELECT VERSION() AS v`),
      context
    )
    const server = yield* Effect.provide(serverProcess, context)
    const serverCpu = () => Option.match(server, { onNone: () => 0, onSome: (pid) => processCpu(pid) ?? 0 })
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
    const mbOf = (bytes: number) => bytes / 1024 / 1024
    const mb = (bytes: number) => `${mbOf(bytes).toFixed(1)} MB`
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
    const busy = Math.max(pair.load, memoryLoad) > 0.1
    const serverLine = Option.isSome(server)
      ? `MariaDB/MySQL server (pid ${server.value}) CPU meanwhile, counted as the benchmark's, in cores: ` +
        `1. ${pairServer.toFixed(2)}, 2. ${memoryServer.toFixed(2)}`
      : "server CPU: not measurable from here (server process not visible), counted as other processes'"
    yield* Console.log(
      `\nCPU kept busy by other processes, in cores (should be ~0; the probes count as this process): ` +
        `1. ${pair.load.toFixed(2)}, 2. ${memoryLoad.toFixed(2)}` +
        (busy ? " -- WARNING: the machine was not idle, ratios are unreliable; run again" : "") +
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

// ---------------------------------------------------------------------------------------------
// Suites and the command line

interface SuiteOptions {
  /** Rows to generate (`--rows`). */
  readonly rows: number
  /** A temporary folder for database files, removed after the suite. */
  readonly dir: string
}

/** How a suite ends: the comparisons of its summary line, or why it could not run here. */
type SuiteResult =
  | { readonly status: "ok"; readonly unreliable: boolean; readonly results: ReadonlyArray<Comparison> }
  | { readonly status: "skipped"; readonly reason: string }

/** A suite's comparisons; `unreliable` when other processes competed for the cores meanwhile. */
const measured = (unreliable: boolean, results: ReadonlyArray<Comparison>): SuiteResult => ({
  status: "ok",
  unreliable,
  results
})

const skipped = (reason: string): SuiteResult => ({ status: "skipped", reason })

interface Suite {
  readonly description: string
  readonly run: (options: SuiteOptions) => Effect.Effect<SuiteResult, unknown>
}

/** Every suite, by the name given on the command line (the names `dbscope bench` runs). */
const suites: Record<SuiteName, Suite> = {
  import: {
    description: "import N synthetic users, scan age > 40, point lookups, index on age or not (SQLite)",
    run: importSuite
  },
  concurrency: {
    description: "reader pool vs one connection: dashboard, seed pair, event-loop lag, sample latency (SQLite)",
    run: concurrencySuite
  },
  streams: {
    description: "UserStream: streaming and keyset paging vs raw iterate, .all() and OFFSET; peak RSS (SQLite)",
    run: streamsSuite
  },
  combinators: {
    description: "cacheQuery hit vs uncached olderThan(40), invalidation; logQueries() cost on point lookups (SQLite)",
    run: combinatorsSuite
  },
  mysql: {
    description: `seed pair concurrent vs sequential, streaming vs repo.all() RSS (MariaDB at ${mysqlHost})`,
    run: mysqlSuite
  }
}

const isSuiteName = Schema.is(SuiteName)

/** One line saying why a suite failed (the whole cause goes to stderr). */
const reasonOf = (cause: Cause.Cause<unknown>): string => {
  if (Cause.isInterruptedOnly(cause)) return "interrupted"
  const error = Cause.squash(cause)
  const message = error instanceof Error ? error.message : String(error)
  return message.trim().split("\n")[0] ?? ""
}

/** What `--results` records: the suite's comparisons, or why it was skipped or failed, and this process's peak RSS. */
const outcomeOf = (exit: Exit.Exit<SuiteResult, unknown>): SuiteOutcome => {
  const peakRssMb = process.resourceUsage().maxRSS / 1024
  if (Exit.isFailure(exit)) {
    return { status: "failed", reason: reasonOf(exit.cause), unreliable: false, peakRssMb, results: [] }
  }
  const result = exit.value
  return result.status === "ok"
    ? { status: "ok", unreliable: result.unreliable, peakRssMb, results: result.results }
    : { status: "skipped", reason: result.reason, unreliable: false, peakRssMb, results: [] }
}

const usage = () =>
  [
    "usage: npm run bench -- <suite> [--rows N] [--results FILE]",
    "suites:",
    ...Object.entries(suites).map(([name, suite]) => `  ${name.padEnd(12)} ${suite.description}`),
    "options:",
    "  --rows N        rows to generate (default 1,000,000)",
    "  --results FILE  also write the suite's comparisons (or why it was skipped or failed) to FILE as JSON",
    "environment:",
    "  DBSCOPE_BENCH_MYSQL  the mysql suite's server (default mysql://root@127.0.0.1:3306; none answering: skipped)"
  ].join("\n")

const main = async () => {
  const { positionals, values } = parseArgs({
    args: process.argv.slice(2),
    options: { rows: { type: "string", default: "1000000" }, results: { type: "string" } },
    allowPositionals: true
  })
  const [name] = positionals
  const [, kind, file] = positionals
  if (name === probeMode && kind !== undefined && isProbeKind(kind) && file !== undefined) {
    await Effect.runPromise(runProbe(kind, file).pipe(Logger.withMinimumLogLevel(LogLevel.Warning)))
    return
  }
  const mysqlUrl = process.env[mysqlUrlVariable]
  if (name === mysqlProbeMode && kind !== undefined && isMysqlProbeKind(kind) && mysqlUrl !== undefined) {
    await Effect.runPromise(
      runMysqlProbe(kind, Redacted.make(mysqlUrl)).pipe(Logger.withMinimumLogLevel(LogLevel.Warning))
    )
    return
  }
  const suite = name !== undefined && isSuiteName(name) ? suites[name] : undefined
  const rows = Number(values.rows.replaceAll(/[_,]/g, ""))
  if (suite === undefined || positionals.length !== 1 || !Number.isSafeInteger(rows) || rows < 1) {
    console.error(name !== undefined && suite === undefined ? `unknown suite: ${name}\n${usage()}` : usage())
    process.exitCode = 2
    return
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dbscope-bench-"))
  // Ctrl-C or a kill interrupts the suite, so that its finalizers run (the mysql suite drops its database).
  const abort = new AbortController()
  const stop = () => abort.abort()
  process.once("SIGINT", stop)
  process.once("SIGTERM", stop)
  try {
    console.log(`dbscope bench: suite ${name}, ${int(rows)} rows`)
    console.log(`machine: ${machine()}\n`)
    const exit = await Effect.runPromiseExit(
      suite.run({ rows, dir }).pipe(Logger.withMinimumLogLevel(LogLevel.Warning)),
      { signal: abort.signal }
    )
    const outcome = outcomeOf(exit)
    if (outcome.status === "skipped") console.log(`${name}: SKIPPED: ${outcome.reason}`)
    if (Exit.isFailure(exit)) {
      console.error(Cause.pretty(exit.cause))
      process.exitCode = 1
    }
    if (values.results !== undefined) {
      fs.writeFileSync(values.results, JSON.stringify(Schema.encodeSync(SuiteOutcome)(outcome)) + "\n")
    }
  } finally {
    process.off("SIGINT", stop)
    process.off("SIGTERM", stop)
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

await main()
