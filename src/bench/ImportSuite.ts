/**
 * Suite `import`: import, scan and point lookups on N synthetic users against the raw driver
 * (better-sqlite3) and plain `@effect/sql-sqlite-node`; then raw scans with and without an index
 * on age: does one pay? Speed ratios are the baseline's time / dbscope's (1.0 = as fast as raw).
 */
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as SqlClient from "@effect/sql/SqlClient"
import * as SqlSchema from "@effect/sql/SqlSchema"
import type Sqlite from "better-sqlite3"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as path from "node:path"
import { performance } from "node:perf_hooks"
import * as Migrations from "../users/Migrations.js"
import { addSynthetic, generate } from "../users/SyntheticUsers.js"
import { User } from "../users/User.js"
import { UserRepo } from "../users/UserRepo.js"
import {
  byIdSql,
  columns,
  dbscopeLayer,
  fileSize,
  fingerprint,
  insertColumns,
  migrate,
  removeDatabase,
  scopedRaw,
  withRaw
} from "./BenchDatabase.js"
import { compare, ratioAtLeast } from "./BenchReport.js"
import { alternate, countHits, lookupIds, type Measured, pick, type Runs, timed, timedSync } from "./Measure.js"
import { measured, type Suite, type SuiteOptions } from "./Suite.js"
import { duration, int, mb, peakRss, rate, ratio, runList, table, verdicts } from "./SuiteText.js"

const insertBatch = 500
const lookupCount = 200_000
const scanAge = 40
const indexAges = [40, 100, 119] as const
const scanSql = `SELECT ${columns} FROM users WHERE age > ? ORDER BY user_id`

/** The raw insert: `NewUser`'s columns, bound by name from each generated user. */
const rawInsertSql = `INSERT INTO users (${insertColumns.join(",")}) VALUES (${
  insertColumns.map((column) => `@${column}`).join(",")
})`

/**
 * Raw import: the schema from dbscope's migrations (untimed, like dbscope's), then the same rows as
 * `addSynthetic`, generated in batches inside the timed loop, in ONE transaction.
 */
const rawImport = (file: string, rows: number) =>
  Effect.zipRight(
    migrate(file),
    Effect.sync(() =>
      withRaw(file, (db): Measured => {
        const start = performance.now()
        const insert = db.prepare(rawInsertSql)
        db.transaction(() => {
          for (let done = 0; done < rows; done += insertBatch) {
            for (const user of generate(1 + done, Math.min(insertBatch, rows - done))) insert.run(user)
          }
        })()
        return { ms: performance.now() - start, count: rows }
      })
    )
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
        execute: (id) => sql`SELECT ${sql.literal(columns)} FROM users WHERE user_id = ${id}`
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
    const { atLeast } = verdicts(rows)
    const small = rows <= 100_000
    const reps = { import: small ? 5 : 3, scan: small ? 7 : 5, lookups: 3 }
    const imported = yield* importPhase(dir, rows, reps.import)
    const raw = yield* scopedRaw(imported.file)
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

export const suite: Suite = {
  name: "import",
  description: "import N synthetic users, scan age > 40, point lookups, index on age or not (SQLite)",
  run: importSuite
}
