/**
 * Rules for the rows a statement reads, checked where they are read: a statement run on a reader
 * worker has its rows checked there, on the worker's core (a text column with few distinct values
 * once per value), instead of row by row on the main thread after they arrive. The caller learns
 * whether that happened, and checks the rows itself when it did not (a statement that ran on the
 * main connection, or in a transaction).
 */
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import { globalValue } from "effect/GlobalValue"
import type { RowCheck, RowRules } from "../../readers/RowRules.js"

/** The check of the statements the current fiber runs (none by default). */
export const current: FiberRef.FiberRef<RowCheck | undefined> = globalValue(
  Symbol.for("dbscope/RowCheck/current"),
  () => FiberRef.unsafeMake<RowCheck | undefined>(undefined)
)

/**
 * Runs one statement with its rows checked against `rules` where they are read. Gives the result
 * and whether every row was checked (and followed the rules); a row that breaks them fails the
 * statement with a `ReaderRowRefused` cause.
 */
export const checkedBy =
  (rules: RowRules) =>
  <A, E, R>(statement: Effect.Effect<A, E, R>): Effect.Effect<readonly [result: A, checked: boolean], E, R> =>
    Effect.suspend(() => {
      const check: RowCheck = { rules, checked: false }
      return Effect.map(Effect.locally(statement, current, check), (result) => [result, check.checked] as const)
    })
