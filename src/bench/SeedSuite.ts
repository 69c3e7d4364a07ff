/**
 * Suite `seed`: the seed project's gather against dbscope's, as a user meets them — whole processes
 * on one SQLite file of N synthetic users, each timed from spawn to exit (start-up included), the
 * contenders interleaved round by round, medians compared. The seed's Python (aiosqlite, the two
 * queries by `asyncio.gather` and one after the other), `dbscope concurrent` and `dbscope dashboard`
 * with and without `--sequential`, and a raw better-sqlite3 script as the floor. Without a Python
 * that imports aiosqlite (`DBSCOPE_BENCH_PYTHON`, default /usr/bin/python3) its rows are skipped.
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as path from "node:path"
import { performance } from "node:perf_hooks"
import { cliScript } from "../BundledData.js"
import { buildUsers, withRaw } from "./BenchDatabase.js"
import { compare, ratioAtLeast } from "./BenchReport.js"
import { runProcess } from "./ChildProbe.js"
import {
  alternate,
  busyCores,
  childrenCpu,
  type Contender,
  type Measured,
  pick,
  type Runs,
  withOthersLoad
} from "./Measure.js"
import { clockTicks } from "./ProcessCpu.js"
import { measured, type Suite, type SuiteOptions } from "./Suite.js"
import { busyWarning, duration, int, peakRss, ratio, runRows, table, verdicts } from "./SuiteText.js"

/** The age of the seed's second query. */
const olderThan = 40
/** Runs of each process. */
const reps = 3

/** The Python that runs the seed's script: `DBSCOPE_BENCH_PYTHON`, else Debian's own (with `python3-aiosqlite`). */
const pythonPath = () => process.env["DBSCOPE_BENCH_PYTHON"] ?? "/usr/bin/python3"

/**
 * The seed's `concurrent_asynchronous_db_queries.py`, its two queries as it writes them, with the
 * database from argv and a second mode that awaits them one after the other; prints both row counts.
 */
export const seedPython = `import asyncio
import sys

import aiosqlite

DB = sys.argv[1]


async def async_fetch_users():
    async with aiosqlite.connect(DB) as db:
        async with db.execute("SELECT * FROM users") as cursor:
            return await cursor.fetchall()


async def async_fetch_older_users():
    async with aiosqlite.connect(DB) as db:
        async with db.execute("SELECT * FROM users WHERE age > ?", (${olderThan},)) as cursor:
            return await cursor.fetchall()


async def fetch_concurrently():
    users, older_users = await asyncio.gather(async_fetch_users(), async_fetch_older_users())
    print(len(users), len(older_users))


async def fetch_sequentially():
    users = await async_fetch_users()
    older_users = await async_fetch_older_users()
    print(len(users), len(older_users))


asyncio.run(fetch_sequentially() if sys.argv[2:] == ["sequential"] else fetch_concurrently())
`

/** The floor: the raw driver, both queries `.all()` one after the other; prints both row counts. */
const rawScript = (driver: string) =>
  `const Sqlite = require(${JSON.stringify(driver)})
const db = new Sqlite(process.argv[2], { readonly: true })
const users = db.prepare("SELECT * FROM users").all()
const older = db.prepare("SELECT * FROM users WHERE age > ?").all(${olderThan})
console.log(users.length, older.length)
db.close()
`

/** The versions the header prints (Python's, its aiosqlite's and its sqlite3 module's SQLite), or why there are none. */
const pythonVersions = (python: string) =>
  Effect.map(
    Effect.either(runProcess(python, [
      "-c",
      "import sys, sqlite3, aiosqlite; print(sys.version.split()[0], aiosqlite.__version__, sqlite3.sqlite_version)"
    ])),
    (answer): Either.Either<string, string> => {
      if (Either.isLeft(answer)) return Either.left(`${python} cannot be run (${answer.left.message})`)
      const { code, stderr, stdout } = answer.right
      if (code !== 0) {
        const last = stderr.trim().split("\n").at(-1) ?? `exit code ${code}`
        return Either.left(`${python} cannot import aiosqlite (${last})`)
      }
      const [version, aiosqlite, sqlite] = stdout.trim().split(" ")
      return Either.right(`Python ${version}, aiosqlite ${aiosqlite}, its SQLite ${sqlite}`)
    }
  )

/** What each process must print: both row counts, as `SELECT COUNT(*)` gives them. */
interface Expected {
  readonly users: number
  readonly older: number
}

/**
 * One contender: `command args` timed from spawn to exit; dies unless it exits 0 and its stdout
 * passes `check`. Every contender counts the rows of both queries, so `alternate` compares alike.
 */
const processRun = (
  command: string,
  args: ReadonlyArray<string>,
  expected: Expected,
  check: (stdout: string) => boolean
): Effect.Effect<Measured> =>
  Effect.gen(function*() {
    const start = performance.now()
    const child = yield* Effect.orDie(runProcess(command, args))
    const ms = performance.now() - start
    const what = `${path.basename(command)} ${args.join(" ")}`
    if (child.code !== 0) return yield* Effect.dieMessage(`${what}: exit code ${child.code}: ${child.stderr.trim()}`)
    if (!check(child.stdout)) return yield* Effect.dieMessage(`${what} printed the wrong rows: ${child.stdout.trim()}`)
    return { ms, count: expected.users + expected.older }
  })

/** Whether `stdout` is the two row counts expected. */
const countsLine = (expected: Expected) => (stdout: string) => stdout.trim() === `${expected.users} ${expected.older}`

/** Whether `dbscope concurrent`'s report names both row counts. */
const concurrentReport = (expected: Expected) => (stdout: string) =>
  stdout.includes(`${int(expected.users)} rows`) && stdout.includes(`${int(expected.older)} rows`)

/** Whether `dbscope dashboard`'s report counts all users and those over 40. */
const dashboardReport = (expected: Expected) => (stdout: string) =>
  stdout.includes(`Users: ${expected.users} `) && stdout.includes(`older than ${olderThan}: ${expected.older}`)

const seedSuite = ({ dir, rows }: SuiteOptions) =>
  Effect.gen(function*() {
    const { atLeast } = verdicts(rows)
    const python = pythonPath()
    const versions = yield* pythonVersions(python)
    const { built, file } = yield* buildUsers(dir, rows)
    const [expected, sqliteVersion] = withRaw(file, (db) => {
      const count = (where: string) =>
        Number(db.prepare(`SELECT COUNT(*) FROM users${where}`).pluck().get(...(where === "" ? [] : [olderThan])))
      return [
        { users: count(""), older: count(" WHERE age > ?") },
        String(db.prepare("SELECT sqlite_version()").pluck().get())
      ] as const
    })
    const seedScript = path.join(dir, "concurrent_asynchronous_db_queries.py")
    fs.writeFileSync(seedScript, seedPython)
    const floorScript = path.join(dir, "raw-better-sqlite3.cjs")
    fs.writeFileSync(floorScript, rawScript(createRequire(import.meta.url).resolve("better-sqlite3")))

    const node = process.execPath
    const cli = (...args: ReadonlyArray<string>) => [cliScript, ...args, "--db", file]
    const contenders: ReadonlyArray<Contender<never>> = [
      ...(Either.isRight(versions)
        ? [
          {
            name: "Python aiosqlite, asyncio.gather",
            run: processRun(python, [seedScript, file], expected, countsLine(expected))
          },
          {
            name: "Python aiosqlite, sequential",
            run: processRun(python, [seedScript, file, "sequential"], expected, countsLine(expected))
          }
        ]
        : []),
      { name: "dbscope concurrent", run: processRun(node, cli("concurrent"), expected, concurrentReport(expected)) },
      {
        name: "dbscope concurrent --sequential",
        run: processRun(node, cli("concurrent", "--sequential"), expected, concurrentReport(expected))
      },
      { name: "dbscope dashboard", run: processRun(node, cli("dashboard"), expected, dashboardReport(expected)) },
      {
        name: "dbscope dashboard --sequential",
        run: processRun(node, cli("dashboard", "--sequential"), expected, dashboardReport(expected))
      },
      { name: "raw better-sqlite3", run: processRun(node, [floorScript, file], expected, countsLine(expected)) }
    ]
    const ticks = yield* clockTicks
    const [runs, load] = yield* withOthersLoad(alternate("seed", reps, contenders), childrenCpu(ticks))

    const concurrent = pick(runs, "dbscope concurrent")
    const concurrentSeq = pick(runs, "dbscope concurrent --sequential")
    const dashboard = pick(runs, "dbscope dashboard")
    const dashboardSeq = pick(runs, "dbscope dashboard --sequential")
    const raw = pick(runs, "raw better-sqlite3")
    const gather = pick(runs, "Python aiosqlite, asyncio.gather")
    const pySeq = pick(runs, "Python aiosqlite, sequential")
    const vsPySeq = ratio(pySeq.median, concurrent.median)
    const vsGather = ratio(gather.median, concurrent.median)
    const vsSeq = ratio(concurrentSeq.median, concurrent.median)
    const dashRatio = ratio(dashboardSeq.median, dashboard.median)
    const rawRatio = ratio(raw.median, concurrent.median)
    const pairRows = `${int(expected.users)} + ${int(expected.older)} rows`

    yield* Console.log(
      `database: ${int(rows)} synthetic users, built in ${duration(built.ms)}; ` +
        `SQLite ${sqliteVersion} (better-sqlite3, dbscope's driver)`
    )
    yield* Console.log(
      Either.isRight(versions)
        ? `seed: ${python}: ${versions.right}`
        : `seed: Python rows skipped: ${versions.left}`
    )
    yield* Console.log(
      `whole processes, spawn to exit, ${reps} runs each, interleaved; all users || age > ${olderThan}\n`
    )
    const pythonRows = (name: string, theirs: Runs, r: string, goal: string, verdict: string) =>
      Either.isRight(versions)
        ? [[name, duration(concurrent.median), theirs.name, duration(theirs.median), r, goal, verdict]]
        : []
    yield* Console.log(table(
      ["measurement (median of runs)", "dbscope", "compared with", "its figure", "speed ratio", "goal", ""],
      [
        ...pythonRows(`1. seed pair, ${pairRows}: concurrent`, pySeq, vsPySeq, ">= 1.0", atLeast(vsPySeq, 1)),
        ...pythonRows("", gather, vsGather, ">= 2.0", atLeast(vsGather, 2)),
        [
          Either.isRight(versions) ? "" : `1. seed pair, ${pairRows}: concurrent`,
          duration(concurrent.median),
          concurrentSeq.name,
          duration(concurrentSeq.median),
          vsSeq,
          "",
          ""
        ],
        ["", "", `${raw.name} (the floor)`, duration(raw.median), rawRatio, "", ""],
        [
          "2. dashboard, 4 aggregates",
          duration(dashboard.median),
          dashboardSeq.name,
          duration(dashboardSeq.median),
          dashRatio,
          ">= 1.3",
          atLeast(dashRatio, 1.3)
        ]
      ]
    ))
    yield* Console.log("(speed ratio = the other's time / dbscope's: higher is better)\n")
    yield* Console.log("all runs, in the order they ran (ms):")
    yield* Console.log(table(["", "runs"], runRows("seed", runs)))
    const busy = load > busyCores
    yield* Console.log(
      `\nchecked: every process exited 0; the ${
        Either.isRight(versions) ? "Python and raw scripts" : "raw script"
      } printed ${expected.users} and ${expected.older} rows, ` +
        `dbscope's reports the same counts (SELECT COUNT(*))`
    )
    yield* Console.log(
      `CPU kept busy by other processes, in cores (should be ~0): ${load.toFixed(2)}${busy ? busyWarning : ""}`
    )
    yield* Console.log(`peak RSS: ${peakRss()}`)
    yield* Console.log(
      `summary${busy ? " (machine busy, unreliable)" : ""}: ` +
        (Either.isRight(versions)
          ? `dbscope concurrent vs Python sequential ${vsPySeq}x (goal 1.0, ${atLeast(vsPySeq, 1)}), ` +
            `vs Python gather ${vsGather}x (goal 2.0, ${atLeast(vsGather, 2)}); `
          : "Python skipped; ") +
        `concurrent vs --sequential ${vsSeq}x; raw better-sqlite3 vs concurrent ${rawRatio}x; ` +
        `dashboard vs --sequential ${dashRatio}x (goal 1.3, ${atLeast(dashRatio, 1.3)})`
    )
    const pair = `seed pair, whole process, ${pairRows}: dbscope concurrent`
    const against = (theirs: Runs, r: string, goal?: number) =>
      compare({
        suite: "seed",
        name: pair,
        ours: concurrent.median,
        against: theirs.name,
        baseline: theirs.median,
        unit: "ms",
        ratio: Number(r),
        better: "higher",
        ...(goal === undefined ? {} : { goal: ratioAtLeast(goal) })
      })
    return measured(busy, [
      ...(Either.isRight(versions) ? [against(pySeq, vsPySeq, 1), against(gather, vsGather, 2)] : []),
      against(concurrentSeq, vsSeq),
      compare({
        suite: "seed",
        name: "dashboard, whole process",
        ours: dashboard.median,
        against: dashboardSeq.name,
        baseline: dashboardSeq.median,
        unit: "ms",
        ratio: Number(dashRatio),
        better: "higher",
        goal: ratioAtLeast(1.3)
      }),
      { ...against(raw, rawRatio), note: "the floor: raw better-sqlite3, both .all() one after the other" }
    ])
  })

export const suite: Suite = {
  name: "seed",
  description: "the seed's Python (aiosqlite gather) against dbscope concurrent/dashboard, whole processes",
  run: seedSuite
}
