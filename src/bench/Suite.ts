/**
 * What a benchmark suite is — a name, a run that ends with the comparisons of its summary line
 * (`BenchReport.Comparison` records) or a reason to skip, and the measurements it makes in fresh
 * processes of their own — and how its end becomes the `SuiteOutcome` that `dbscope bench` reads.
 */
import * as Cause from "effect/Cause"
import type * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Option from "effect/Option"
import { type Comparison, judgedAt, type SuiteName, type SuiteOutcome } from "./BenchReport.js"
import { peakRssMb } from "./Measure.js"

export interface SuiteOptions {
  /** Rows to generate (`--rows`). */
  readonly rows: number
  /** A temporary folder for database files, removed after the suite. */
  readonly dir: string
}

/** How a suite ends: the comparisons of its summary line, or why it could not run here. */
export type SuiteResult =
  | { readonly status: "ok"; readonly unreliable: boolean; readonly results: ReadonlyArray<Comparison> }
  | { readonly status: "skipped"; readonly reason: string }

/** A suite's comparisons; `unreliable` when other processes competed for the cores meanwhile. */
export const measured = (unreliable: boolean, results: ReadonlyArray<Comparison>): SuiteResult => ({
  status: "ok",
  unreliable,
  results
})

export const skipped = (reason: string): SuiteResult => ({ status: "skipped", reason })

export interface Suite {
  readonly name: SuiteName
  /** One line for the usage text. */
  readonly description: string
  readonly run: (options: SuiteOptions) => Effect.Effect<SuiteResult, unknown>
  /**
   * The measurement of kind `kind` (on `arg`, if it takes one) that the suite makes in a fresh
   * process (`ChildProbe.spawnProbe`); none for a kind it does not make.
   */
  readonly probe?: (kind: string, arg: string | undefined) => Option.Option<Effect.Effect<void, unknown>>
}

/** One line saying why a suite failed (the whole cause goes to stderr). */
const reasonOf = (cause: Cause.Cause<unknown>): string => {
  if (Cause.isInterruptedOnly(cause)) return "interrupted"
  const error = Cause.squash(cause)
  const message = error instanceof Error ? error.message : String(error)
  return message.trim().split("\n")[0] ?? ""
}

/**
 * What `--results` records: the suite's comparisons (judged for a run of `rows` rows), or why it was
 * skipped or failed, and this process's peak RSS.
 */
export const outcomeOf = (exit: Exit.Exit<SuiteResult, unknown>, rows: number): SuiteOutcome => {
  const peak = peakRssMb()
  if (Exit.isFailure(exit)) {
    return { status: "failed", reason: reasonOf(exit.cause), unreliable: false, peakRssMb: peak, results: [] }
  }
  const result = exit.value
  return result.status === "ok"
    ? { status: "ok", unreliable: result.unreliable, peakRssMb: peak, results: result.results.map(judgedAt(rows)) }
    : { status: "skipped", reason: result.reason, unreliable: false, peakRssMb: peak, results: [] }
}
