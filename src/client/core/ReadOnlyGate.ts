/**
 * The read-only gate's contract: how a backend runs a statement its caller may not write with.
 * Before the statement runs, the backend judges it (`check`: only statements that read pass, judged
 * by the database's own analysis where it has one); while it runs, the connection itself refuses
 * writes (`enter` before it, `leave` after it, however it ends). Either guard alone leaves gaps:
 * a read-only transaction still lets `SET GLOBAL`, `KILL` or `INTO OUTFILE` through, and a check of
 * the text cannot see a write hidden in a function.
 */
import type { SqlError } from "@effect/sql/SqlError"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import type * as Effect from "effect/Effect"

/** A statement only reads, or is refused with the reason (one line, naming what it would do). */
export type Verdict = Data.TaggedEnum<{
  Reads: Record<never, never>
  Refused: { readonly reason: string }
}>

export const Verdict = Data.taggedEnum<Verdict>()

/** What a backend tells the core about read-only statements. */
export interface ReadOnlyRules {
  /** Judges `sql` before it runs (synchronously; throws when the statement cannot even be compiled). */
  readonly check: (sql: string) => Verdict
  /** Makes the connection refuse writes (`START TRANSACTION READ ONLY`, `PRAGMA query_only = ON`). */
  readonly enter: string
  /** Undoes `enter`, after the statement, whatever it came to. */
  readonly leave: string
}

/** The gate of the open database, as the core provides it beside the `SqlClient`. */
export class ReadOnlyGate extends Context.Tag("dbscope/ReadOnlyGate")<ReadOnlyGate, {
  /** Judges `sql` before it runs; a statement that does not compile fails as the driver's `SqlError`. */
  readonly check: (sql: string) => Effect.Effect<Verdict, SqlError>
  readonly enter: string
  readonly leave: string
}>() {}
