/**
 * Suite `streams`: `UserStream` on N synthetic users. 1. streaming every user (and the ages only)
 * against the raw driver's iterator and a fully materialised `.all()`, with the peak RSS growth of
 * each, measured in fresh child processes; 2. keyset paging against OFFSET paging and one full scan.
 * Time ratios here are dbscope's time / the other's (lower is better), the way the goals are stated.
 */
import type Sqlite from "better-sqlite3"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { performance } from "node:perf_hooks"
import type { User } from "../users/User.js"
import { UserRepo } from "../users/UserRepo.js"
import { averageAge, lazyPaginate, streamUsers } from "../users/UserStream.js"
import { addAge, type AgeTotal, buildUsers, columns, dbscopeLayer, noAges, scopedRaw } from "./BenchDatabase.js"
import { compare, oursAtMost, ratioAtMost } from "./BenchReport.js"
import { probeRounds, reportProbe, spawnProbe } from "./ChildProbe.js"
import {
  alternate,
  busyCores,
  type Contender,
  median,
  pick,
  rssEvery,
  rssGoalMb,
  rssProbe,
  timed,
  timedSync,
  withOthersLoad
} from "./Measure.js"
import { measured, type Suite, type SuiteOptions } from "./Suite.js"
import { busyWarning, duration, int, mb, mbOf, peakRss, runRows, table, verdicts } from "./SuiteText.js"

const streamSql = `SELECT ${columns} FROM users ORDER BY user_id`
const agesSql = "SELECT age FROM users ORDER BY user_id"
const streamPageSize = 1000
/** OFFSET paging is quadratic: the full walk runs only if the prefix projects it under this budget per run. */
const offsetBudgetMs = 30_000
/** Rows of the OFFSET prefix walk that decides (and, if the full walk is too slow, extrapolates) it. */
const offsetPrefixRows = 200_000

const probeKindNames = ["dbscope streamUsers()", "dbscope averageAge()", "raw .iterate()", "raw .all()"] as const
const ProbeKind = Schema.Literal(...probeKindNames)
type ProbeKind = typeof ProbeKind.Type

/** A memory probe's work: it returns the ages' total, calling `sample` (RSS) as it goes. */
type ProbeRun = (
  raw: Sqlite.Database,
  sample: () => void
) => Effect.Effect<AgeTotal, unknown, Layer.Layer.Success<ReturnType<typeof dbscopeLayer>>>

/** What a memory probe runs, by name. */
const probeKinds: Record<ProbeKind, ProbeRun> = {
  "dbscope streamUsers()": (_raw, sample) =>
    Stream.runFold(streamUsers(), noAges, (total, user) => {
      if (total.count % rssEvery === 0) sample()
      return addAge(total, user.age)
    }),
  "dbscope averageAge()": () => Effect.map(averageAge(), (average) => ({ sum: average, count: 1 })),
  "raw .iterate()": (raw, sample) =>
    Effect.sync(() => {
      let total = noAges
      for (const row of raw.prepare(streamSql).iterate()) {
        if (total.count % rssEvery === 0) sample()
        total = addAge(total, (row as User).age)
      }
      return total
    }),
  "raw .all()": (raw, sample) =>
    Effect.sync(() => {
      const rows = raw.prepare(streamSql).all() as Array<User>
      sample()
      return rows.reduce((total, row) => addAge(total, row.age), noAges)
    })
}

/** What a memory probe reports to the suite's process. */
const ProbeResult = Schema.Struct({
  kind: ProbeKind,
  baseline: Schema.Number,
  growth: Schema.Number,
  average: Schema.Number
})
type ProbeResult = typeof ProbeResult.Type

/**
 * The probe `<kind> <file>`: one memory measurement in this fresh process. Both connections are
 * opened before the baseline, so it holds what every kind needs before it runs.
 */
const runProbe = (kind: ProbeKind, file: string) =>
  Effect.gen(function*() {
    const context = yield* Layer.build(dbscopeLayer(file))
    const raw = yield* scopedRaw(file)
    const probe = rssProbe()
    const total = yield* Effect.provide(probeKinds[kind](raw, probe.sample), context)
    const { baseline, growth } = probe.stop()
    yield* reportProbe(ProbeResult, { kind, baseline, growth, average: total.sum / total.count })
  }).pipe(Effect.scoped)

/** Each kind in `reps` fresh processes, alternated; the median peak growth of each. */
const memoryPhase = (file: string, reps: number) =>
  Effect.gen(function*() {
    const results = yield* probeRounds(
      "memory",
      probeKindNames,
      reps,
      (kind) => spawnProbe(ProbeResult, { suite: "streams", kind, arg: file })
    )
    return probeKindNames.map((kind) => {
      const runs = results(kind)
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
    const { atMost } = verdicts(rows)
    const small = rows <= 100_000
    const reps = { stream: small ? 7 : 5, paging: small ? 5 : 3, memory: 3 }
    const { built, file } = yield* buildUsers(dir, rows)
    // Children first, while this process is idle (their CPU would count as others' load, so none is
    // measured: peak RSS does not depend on it); then the timings, dbscope and raw connections side by side.
    const memory = yield* memoryPhase(file, reps.memory)
    const context = yield* Layer.build(dbscopeLayer(file))
    const raw = yield* scopedRaw(file)
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
    const busy = Math.max(streamLoad, pagingLoad) > busyCores
    yield* Console.log(
      `\nCPU kept busy by other processes during the timings, in cores (should be ~0): ` +
        `1. ${streamLoad.toFixed(2)}, 2. ${pagingLoad.toFixed(2)}` +
        (busy ? busyWarning : "")
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

export const suite: Suite = {
  name: "streams",
  description: "UserStream: streaming and keyset paging vs raw iterate, .all() and OFFSET; peak RSS (SQLite)",
  run: streamsSuite,
  probe: (kind, file) =>
    Schema.is(ProbeKind)(kind) && file !== undefined ? Option.some(runProbe(kind, file)) : Option.none()
}
