/**
 * How the benchmark suites measure: timed runs of contenders alternated round by round (so that
 * drift — page cache, CPU clock, GC state — hits each alike) with a full GC before each, medians,
 * the load other processes put on the cores meanwhile, and probes of event-loop lag and peak RSS.
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as fs from "node:fs"
import * as os from "node:os"
import { performance } from "node:perf_hooks"
import * as v8 from "node:v8"
import { runInNewContext } from "node:vm"

/** One timed run: wall time and what it produced (rows written, rows read, lookups that hit). */
export interface Measured {
  readonly ms: number
  readonly count: number
}

/** One side of a comparison: a name and an effect that performs and times one run. */
export interface Contender<R> {
  readonly name: string
  // Contenders fail in different ways; a benchmark only reports failures, so their errors are not told apart.
  readonly run: Effect.Effect<Measured, unknown, R>
}

// A full collection between runs, so one run's garbage is not collected on the next one's clock.
v8.setFlagsFromString("--expose-gc")
export const collectGarbage = runInNewContext("gc") as () => void

/** Times `effect` with `performance.now()`; `count` says how many rows (or hits) it produced. */
export const timed = <A, E, R>(effect: Effect.Effect<A, E, R>, count: (a: A) => number) =>
  Effect.suspend(() => {
    const start = performance.now()
    return Effect.map(effect, (a): Measured => ({ ms: performance.now() - start, count: count(a) }))
  })

/** Times a synchronous call (the raw driver), returning a length or a number as the count. */
export const timedSync = (f: () => number) => timed(Effect.sync(f), (n) => n)

/** Looks up every id in `ids` with `find`, one after another; succeeds with how many found a row. */
export const countHits = <E, R>(
  ids: Iterable<number>,
  find: (id: number) => Effect.Effect<Option.Option<unknown>, E, R>
) =>
  Effect.gen(function*() {
    let hits = 0
    for (const id of ids) if (Option.isSome(yield* find(id))) hits++
    return hits
  })

/**
 * Looks up `ids` with `find`, `concurrency` at a time: each of `concurrency` fibers takes a slice
 * of the ids in turn; succeeds with how many found a row.
 */
export const countHitsConcurrently = <E, R>(
  ids: Int32Array,
  concurrency: number,
  find: (id: number) => Effect.Effect<Option.Option<unknown>, E, R>
) => {
  const slice = Math.ceil(ids.length / concurrency)
  const slices = Array.from({ length: concurrency }, (_, i) => ids.subarray(i * slice, (i + 1) * slice))
  return Effect.map(
    Effect.forEach(slices, (ids) => countHits(ids, find), { concurrency }),
    (hits) => hits.reduce((sum, n) => sum + n, 0)
  )
}

export const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] ?? NaN : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2
}

/** The runs of one contender and their median. */
export interface Runs {
  readonly name: string
  readonly ms: ReadonlyArray<number>
  readonly median: number
  readonly count: number
}

/**
 * Runs the contenders in turn, `reps` rounds (A B C, A B C, ...), and fails if they disagree on
 * the count: a faster wrong answer is not a result.
 */
export const alternate = <R>(label: string, reps: number, contenders: ReadonlyArray<Contender<R>>) =>
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
export const pick = (runs: ReadonlyArray<Runs>, name: string): Runs =>
  runs.find((r) => r.name === name) ?? { name, ms: [], median: NaN, count: 0 }

/** Pseudo-random ids in 1..rows from a fixed seed (xorshift32): every contender looks up the same sequence. */
export const lookupIds = (rows: number, count: number): Int32Array => {
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
// Load of the machine

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
export const withOthersLoad = <A, E, R>(effect: Effect.Effect<A, E, R>, helpers: () => number = () => 0) =>
  Effect.suspend(() => {
    const before = cpuClock(helpers)
    return Effect.map(effect, (a) => {
      const after = cpuClock(helpers)
      const others = (after.machine - before.machine) - (after.own - before.own)
      return [a, Math.max(0, others) / (after.wall - before.wall)] as const
    })
  })

/**
 * CPU time (ms) of this process's ended children (`cutime` + `cstime` of /proc/self/stat), for
 * `withOthersLoad`'s helpers: the work of contenders, servers and load generators that the suite ran
 * as child processes and waited for. A child still running is counted once it has exited.
 */
export const childrenCpu = (ticksPerSecond: number) => () => {
  try {
    const stat = fs.readFileSync("/proc/self/stat", "utf8")
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    const ticks = Number(fields[13]) + Number(fields[14])
    return Number.isFinite(ticks) ? ticks * 1000 / ticksPerSecond : 0
  } catch {
    return 0
  }
}

/** Above this many cores kept busy by others, a section's ratios are flagged as unreliable. */
export const busyCores = 0.1

// ---------------------------------------------------------------------------------------------
// Probes

/** The period (ms) of the event-loop lag probe's timer. */
export const lagTick = 10

/**
 * Runs `effect` under a Node `setInterval` of `lagTick` ms and returns its result with the worst
 * lateness of a tick (ms): a tick still pending when the effect ends counts with its lateness so far.
 */
export const withLagProbe = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
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

/** Rows between two inline RSS samples in synchronous loops, where a timer cannot fire. */
export const rssEvery = 8192
/** The period (ms) of the RSS probe's timer. */
export const rssTick = 20
/** The most a streaming read may grow the RSS, in MB. */
export const rssGoalMb = 50

/**
 * Peak RSS growth over a baseline taken after a full GC. The peak is sampled by a `rssTick` ms
 * timer, by `sample()` calls from synchronous loops (where the timer cannot fire), and from
 * `maxRSS`, the process's high-water mark, which tells about the run only if the run raised it.
 */
export const rssProbe = () => {
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

/** The peak RSS of this process so far, in MB. */
export const peakRssMb = () => process.resourceUsage().maxRSS / 1024
