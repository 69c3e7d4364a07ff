/**
 * What a benchmark run reports: one record per measured comparison (dbscope's figure, the
 * baseline's, the ratio the suite's summary prints and the goal it is held to), grouped by suite,
 * with the machine it ran on; rendered as a text table, as Markdown (`REPORT.md`) and as JSON.
 * The suites (`src/bench/*Suite.ts`) build the records; `dbscope bench` collects and renders them.
 */
import * as Schema from "effect/Schema"

/** The benchmark suites, in the order `dbscope bench` runs them. */
export const suiteNames = [
  "import",
  "concurrency",
  "seed",
  "streams",
  "combinators",
  "mysql",
  "postgres",
  "serve",
  "cluster"
] as const

/**
 * The suites a run without names runs: all but `cluster`, which kills and restarts nodes of the
 * local Galera cluster (or starts one) and is run by name (`dbscope bench cluster`).
 */
export const defaultSuites = suiteNames.filter((name) => name !== "cluster")

export const SuiteName = Schema.Literal(...suiteNames)
export type SuiteName = typeof SuiteName.Type

/**
 * A goal: a bound on the ratio (`ratio >= 0.8`), or on dbscope's own figure (`ours <= 50` MB), set
 * for a run of at least `rows` rows. A smaller run does not judge it ("n/a"): with fewer rows the fixed
 * costs weigh more and the figures say nothing about the goal.
 */
export const Goal = Schema.Struct({
  of: Schema.Literal("ratio", "ours"),
  op: Schema.Literal(">=", "<="),
  value: Schema.Number,
  rows: Schema.Number
})
export type Goal = typeof Goal.Type

/** One measured comparison: dbscope's figure against a baseline's, as a suite's summary line states it. */
export const Comparison = Schema.Struct({
  suite: SuiteName,
  /** What was measured. */
  name: Schema.String,
  /** dbscope's figure (median of the runs), in `unit`. */
  ours: Schema.Number,
  /** What dbscope is compared with. */
  against: Schema.String,
  /** Its figure, in `unit`. */
  baseline: Schema.Number,
  /** `count`: things that happened (writes lost, updates lost), where the goal is usually none. */
  unit: Schema.Literal("ms", "MB", "per s", "count"),
  /** The ratio exactly as the summary prints it; null where the summary gives the two figures only. */
  ratio: Schema.NullOr(Schema.Number),
  /** Which way the ratio favours dbscope ("higher": baseline time / dbscope time; "lower": the inverse). */
  better: Schema.Literal("higher", "lower"),
  goal: Schema.optional(Goal),
  /** Whether the goal is met; present exactly when there is a goal and the run had the rows it is for. */
  ok: Schema.optional(Schema.Boolean),
  note: Schema.optional(Schema.String)
})
export type Comparison = typeof Comparison.Type

/** What one suite's process reports about itself (`SuiteMain.js <suite> --results FILE` writes it). */
export const SuiteOutcome = Schema.Struct({
  status: Schema.Literal("ok", "skipped", "failed"),
  /** Why it was skipped or failed, in one line. */
  reason: Schema.optional(Schema.String),
  /** Other processes kept the cores busy while it measured: its ratios are not to be trusted. */
  unreliable: Schema.Boolean,
  /** Peak RSS of the suite's process (its probe children not included). */
  peakRssMb: Schema.NullOr(Schema.Number),
  results: Schema.Array(Comparison)
})
export type SuiteOutcome = typeof SuiteOutcome.Type

/** A suite as the report holds it: its outcome, how long it ran and its detailed text output. */
export const SuiteRun = Schema.Struct({
  suite: SuiteName,
  ...SuiteOutcome.fields,
  seconds: Schema.Number,
  output: Schema.String
})
export type SuiteRun = typeof SuiteRun.Type

export const Machine = Schema.Struct({
  cpu: Schema.String,
  cores: Schema.Number,
  node: Schema.String,
  os: Schema.String,
  date: Schema.String
})
export type Machine = typeof Machine.Type

/** A whole run of `dbscope bench`. */
export const BenchReport = Schema.Struct({
  machine: Machine,
  rows: Schema.Number,
  suites: Schema.Array(SuiteRun)
})
export type BenchReport = typeof BenchReport.Type

/** The rows the suites' goals are set for, unless a goal says otherwise: the default `--rows`. */
export const goalRows = 1_000_000

export const ratioAtLeast = (value: number, rows = goalRows): Goal => ({ of: "ratio", op: ">=", value, rows })
export const ratioAtMost = (value: number, rows = goalRows): Goal => ({ of: "ratio", op: "<=", value, rows })
export const oursAtMost = (value: number, rows = goalRows): Goal => ({ of: "ours", op: "<=", value, rows })

/** Whether `value` meets `goal` (a missing ratio meets nothing). */
const meets = (goal: Goal, value: number | null) =>
  value !== null && (goal.op === ">=" ? value >= goal.value : value <= goal.value)

/** A comparison with its verdict: `ok` is computed from the goal, on the same figure the suite judges. */
export const compare = (fields: Omit<Comparison, "ok">): Comparison =>
  fields.goal === undefined
    ? fields
    : { ...fields, ok: meets(fields.goal, fields.goal.of === "ratio" ? fields.ratio : fields.ours) }

/** The comparison as a run of `rows` rows judges it: no verdict ("n/a") on a goal set for more rows. */
export const judgedAt = (rows: number) => (comparison: Comparison): Comparison => {
  if (comparison.goal === undefined || rows >= comparison.goal.rows) return comparison
  const { ok: _, ...unjudged } = comparison
  return unjudged
}

// ---------------------------------------------------------------------------------------------
// Rendering

const int = (n: number) => Math.round(n).toLocaleString("en-US")

/** A figure in its unit: times from µs to s, megabytes, rates, counts. */
export const figure = (value: number, unit: Comparison["unit"]): string => {
  if (unit === "count") return int(value)
  if (unit === "MB") return `${value.toFixed(1)} MB`
  if (unit === "per s") return `${int(value)}/s`
  if (value > 0 && value < 1) return `${(value * 1000).toFixed(value < 0.01 ? 2 : 1)} µs`
  return value < 1000 ? `${value.toFixed(1)} ms` : `${(value / 1000).toFixed(2)} s`
}

const goalText = (comparison: Comparison) => {
  const { goal, unit } = comparison
  if (goal === undefined) return ""
  if (goal.of === "ratio" || unit === "count") return `${goal.op} ${goal.value}`
  return `${goal.op} ${goal.value} ${unit === "per s" ? "/s" : unit}`
}

/** `ok`, `MISSED`, or `n/a` for a goal the run had too few rows for; nothing without a goal. */
const verdict = ({ goal, ok }: Comparison) => goal === undefined ? "" : ok === undefined ? "n/a" : ok ? "ok" : "MISSED"

const header = ["suite", "measurement", "dbscope", "compared with", "its figure", "ratio", "goal", ""] as const
/** The columns of text (left-aligned); the others hold figures (right-aligned). */
const textColumns: ReadonlySet<number> = new Set([0, 1, 3])

/** Every comparison in table order. */
const comparisons = (report: BenchReport): ReadonlyArray<Comparison> =>
  report.suites.flatMap((run) => run.status === "ok" ? run.results : [])

/** The notes, numbered from 1 in table order; the table marks their rows `[n]`. */
const numberedNotes = (report: BenchReport): ReadonlyMap<Comparison, number> =>
  new Map(comparisons(report).filter((c) => c.note !== undefined).map((c, i) => [c, i + 1]))

/** The cells of the side-by-side table: one row per comparison, one per suite without results. */
const cells = (report: BenchReport, notes: ReadonlyMap<Comparison, number>): ReadonlyArray<ReadonlyArray<string>> =>
  report.suites.flatMap((run) =>
    run.status === "ok"
      ? run.results.map((c) => {
        const note = notes.get(c)
        return [
          run.suite,
          note === undefined ? c.name : `${c.name} [${note}]`,
          figure(c.ours, c.unit),
          c.against,
          figure(c.baseline, c.unit),
          c.ratio === null ? "" : c.ratio.toFixed(2),
          goalText(c),
          verdict(c)
        ]
      })
      : [[run.suite, `${run.status.toUpperCase()}: ${run.reason ?? "no reason given"}`, "", "", "", "", "", ""]]
  )

const noteLines = (notes: ReadonlyMap<Comparison, number>) => [...notes].map(([c, n]) => `[${n}] ${c.note ?? ""}`)

/** The machine line: CPU, cores, Node, OS, date and rows. */
export const machineLine = ({ machine, rows }: BenchReport): string =>
  `${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ${machine.os}; ${machine.date}; ${int(rows)} rows`

const suiteLine = (run: SuiteRun) =>
  `${run.suite}: ${run.status}, ${run.seconds.toFixed(1)} s` +
  (run.peakRssMb === null ? "" : `, peak RSS ${run.peakRssMb.toFixed(0)} MB`) +
  (run.unreliable ? " (machine busy: ratios unreliable, run again)" : "")

/** The suites that failed (they make `dbscope bench` exit non-zero; skipped ones do not). */
export const failedSuites = (report: BenchReport): ReadonlyArray<SuiteName> =>
  report.suites.filter((run) => run.status === "failed").map((run) => run.suite)

/** The report for a terminal: the machine line, one aligned table, the notes, a line per suite. */
export const text = (report: BenchReport): string => {
  const notes = numberedNotes(report)
  const rows = [header, ...cells(report, notes)]
  const widths = header.map((_, col) => Math.max(...rows.map((row) => (row[col] ?? "").length)))
  const line = (row: ReadonlyArray<string>) =>
    row.map((cell, col) => textColumns.has(col) ? cell.padEnd(widths[col] ?? 0) : cell.padStart(widths[col] ?? 0))
      .join("  ").trimEnd()
  const [head, ...body] = rows.map(line)
  return [
    `dbscope bench: ${machineLine(report)}`,
    "",
    head,
    widths.map((w) => "-".repeat(w)).join("  "),
    ...body,
    "",
    ...noteLines(notes),
    ...(notes.size > 0 ? [""] : []),
    ...report.suites.map(suiteLine)
  ].join("\n")
}

const markdownCell = (cell: string) => cell.replaceAll("|", "\\|").replaceAll("`", "\\`")

/** `REPORT.md`: the machine line, the table, the notes, then each suite's detailed output. */
export const markdown = (report: BenchReport): string => {
  const notes = numberedNotes(report)
  const row = (cells: ReadonlyArray<string>) => `| ${cells.map(markdownCell).join(" | ")} |`
  return [
    "# dbscope benchmarks",
    "",
    `Machine: ${machineLine(report)}.`,
    "",
    "Ratios as each suite's summary line prints them; the goal says which way is better.",
    "",
    row(header),
    `|${header.map((_, col) => textColumns.has(col) ? "---" : "---:").join("|")}|`,
    ...cells(report, notes).map(row),
    "",
    ...noteLines(notes).map((note) => `${markdownCell(note)}  `),
    "",
    ...report.suites.map((run) => `- ${suiteLine(run)}`),
    "",
    ...report.suites.flatMap((run) => [`## ${run.suite}`, "", "```text", run.output.trimEnd(), "```", ""])
  ].join("\n")
}

/** `report.json`: the report as indented JSON. */
export const json = (report: BenchReport): string => JSON.stringify(Schema.encodeSync(BenchReport)(report), null, 2)
