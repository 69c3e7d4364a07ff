/**
 * `@transactional`: the wrapped effect runs in one transaction. It commits when the effect succeeds
 * and rolls back when it fails, dies or is interrupted; nested inside another, it becomes a
 * savepoint, so an inner failure the caller catches undoes only the inner part. Reads inside see
 * the transaction's own writes (they run on its connection). On dbscope's SQLite client the
 * transaction starts with `BEGIN IMMEDIATE`: two writers cannot deadlock upgrading read locks.
 *
 * A failed COMMIT (which `@effect/sql`'s own clients turn into a defect) reaches the caller as
 * `CommitFailed`, a typed error that says whether trying again may work (`retryOnFailure` retries
 * it when it does). dbscope's clients have rolled the transaction back by then, and say so with
 * a `CommitError` (see `StatementObserver`): nothing of it was written.
 *
 * @example
 * yield* transfer.pipe(transactional, retryOnFailure())
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Isolation from "../client/core/Isolation.js"
import { CommitError } from "../client/core/StatementObserver.js"
import { driverCode, isOutcomeUnknownCode, isTransientCode, reasonFor } from "../client/DatabaseError.js"

/** The transaction's COMMIT failed; it was rolled back, so none of its writes are in the database. */
export class CommitFailed extends Data.TaggedError("CommitFailed")<{
  /** The driver's error code (`SQLITE_BUSY`, `SQLITE_CONSTRAINT_FOREIGNKEY`, ...). */
  readonly code: string
  readonly cause: SqlError
}> {
  /** Whether the same transaction may succeed if run again (the database was locked, a node went away). */
  get transient(): boolean {
    return isTransientCode(this.code)
  }
  /**
   * Whether the COMMIT may have taken effect after all: the connection was lost while it was on
   * its way. Running the transaction again is safe only when it cannot apply twice (a key of its own).
   */
  get outcomeUnknown(): boolean {
    return isOutcomeUnknownCode(this.code)
  }
  override get message() {
    return this.outcomeUnknown
      ? `the connection was lost during COMMIT: the transaction may or may not have been committed (${
        reasonFor(this.code)
      })`
      : `the transaction could not be committed and was rolled back: ${reasonFor(this.code)}`
  }
}

/** Runs `self` in a transaction (or a savepoint, when one is open already); see the module doc. */
export const transactional = <A, E, R>(
  self: Effect.Effect<A, E, R>
): Effect.Effect<A, E | SqlError | CommitFailed, R | SqlClient.SqlClient> =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => sql.withTransaction(self)).pipe(
    Effect.catchIf(
      (error): error is CommitError => error instanceof CommitError,
      (error) => Effect.fail(new CommitFailed({ code: driverCode(error), cause: error }))
    )
  )

/** How `transactionalWith` runs its transaction. */
export interface TransactionOptions {
  /**
   * The isolation level of the outermost transaction (nested in one already open, the effect is a
   * savepoint of it, at its level). SQLite's transactions are serializable whatever is asked.
   * Default: the database's own (SQLite serializable, MySQL/MariaDB repeatable read, PostgreSQL
   * read committed); README's isolation table says what each prevents.
   */
  readonly isolation?: Isolation.IsolationLevel | undefined
}

/**
 * `transactional` at a chosen isolation level.
 *
 * @example
 * yield* moveStock.pipe(transactionalWith({ isolation: "serializable" }), retryOnFailure())
 */
export const transactionalWith = (options: TransactionOptions) =>
<A, E, R>(
  self: Effect.Effect<A, E, R>
): Effect.Effect<A, E | SqlError | CommitFailed, R | SqlClient.SqlClient> =>
  options.isolation === undefined
    ? transactional(self)
    : Effect.locally(transactional(self), Isolation.currentIsolation, options.isolation)
