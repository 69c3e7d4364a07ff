/**
 * How a suite prints its detailed output (the text `REPORT.md` keeps under the suite's heading):
 * figures with their units, ratios as the summary lines state them, verdicts against goals and
 * aligned tables.
 */
import * as os from "node:os"
import { goalRows } from "./BenchReport.js"
import { peakRssMb, type Runs } from "./Measure.js"

export const int = (n: number) => Math.round(n).toLocaleString("en-US")
export const duration = (ms: number) => ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`
export const rate = (count: number, ms: number) => `${int(count / (ms / 1000))}/s`
/** A speed ratio as printed: the baseline's time over ours. */
export const ratio = (baseline: number, ours: number) => (baseline / ours).toFixed(2)
export const mbOf = (bytes: number) => bytes / 1024 / 1024
export const mb = (bytes: number) => `${mbOf(bytes).toFixed(1)} MB`
export const runList = (runs: Runs) => runs.ms.map((ms) => ms.toFixed(0)).join(" ")
/** The median time of one call (µs) when each run made `calls` calls. */
export const perCall = (runs: Runs, calls: number, digits = 1) => `${(runs.median * 1000 / calls).toFixed(digits)} µs`
/**
 * Verdicts against goals as a run of `rows` rows states them: "n/a" for a goal set for more rows
 * than the run had (`forRows`, by default the 1,000,000 rows the goals are for), as the summary table says.
 */
export const verdicts = (rows: number, forRows = goalRows) => {
  const judged = rows >= forRows
  return {
    atLeast: (value: string | number, goal: number) => !judged ? "n/a" : Number(value) >= goal ? "ok" : "MISSED",
    atMost: (value: string | number, goal: number) => !judged ? "n/a" : Number(value) <= goal ? "ok" : "MISSED"
  }
}
/** Rows of the "all runs" table: one per contender, its runs in the order they ran. */
export const runRows = (section: string, runs: ReadonlyArray<Runs>) =>
  runs.map((r): ReadonlyArray<string> => [`${section}: ${r.name}`, runList(r)])

/** An aligned text table: the first column left-aligned, the others right-aligned. */
export const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const all = [header, ...rows]
  const widths = header.map((_, col) => Math.max(...all.map((row) => (row[col] ?? "").length)))
  const line = (row: ReadonlyArray<string>) =>
    row.map((cell, col) => col === 0 ? cell.padEnd(widths[col] ?? 0) : cell.padStart(widths[col] ?? 0)).join("   ")
      .trimEnd()
  const rule = widths.map((w) => "-".repeat(w)).join("   ")
  return [line(header), rule, ...rows.map(line)].join("\n")
}

export const machine = () => {
  const cpus = os.cpus()
  return `${cpus[0]?.model.trim() ?? "unknown cpu"}, ${cpus.length} cores, node ${process.version}, ${os.platform()}`
}

export const peakRss = () => `${peakRssMb().toFixed(0)} MB`

/** The line a suite prints when other processes kept the cores busy while it measured. */
export const busyWarning = " -- WARNING: the machine was not idle, ratios are unreliable; run again"
