/**
 * The one contract between dbscope's combinators and its clients. A combinator says what it wants
 * to know about the statements run inside it by installing an observer for the fiber (and the
 * fibers it starts): `logQueries` a log line per statement, the `Tracing` layer a span per
 * statement, `cacheQuery` the tables a result was read from. The client core reads the observer
 * in one place for every backend; a fiber that installed nothing pays one fiber-ref lookup.
 *
 * The other direction: a write tells `Reactivity` the tables it changed (plus `anyTable`), under
 * the keys named here, and a COMMIT that fails comes back as `CommitError` after the rollback.
 */
import * as SqlError from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import type * as LogLevel from "effect/LogLevel"

/** How `logQueries` wants statements logged. */
export interface QueryLogging {
  /** Show bound values (a `Redacted` value still shows as `<redacted>`). */
  readonly showParams: boolean
  readonly level: LogLevel.LogLevel
}

/** Told, before a statement runs, which tables it reads. */
export interface ReadRecorder {
  readonly read: (tables: ReadonlyArray<string>) => void
}

/** What the running fiber wants to know about its statements. */
export interface StatementObserver {
  /** Set by `logQueries`: a log line per statement (when its level is not filtered out). */
  readonly logging: QueryLogging | undefined
  /** Set by the `Tracing` layer: a span per statement (`dbscope.statement`, or `@effect/sql`'s own). */
  readonly tracing: boolean
  /** Set by `cacheQuery` while it loads a result: the tables each statement reads. */
  readonly recorder: ReadRecorder | undefined
}

/** Nobody is listening: statements run bare. */
export const none: StatementObserver = { logging: undefined, tracing: false, recorder: undefined }

/** The observer of the running fiber. */
export const current: FiberRef.FiberRef<StatementObserver> = FiberRef.unsafeMake(none)

/** Runs `self` with the observer changed by `patch` (on top of whatever an outer combinator set). */
export const locally = <A, E, R>(
  self: Effect.Effect<A, E, R>,
  patch: Partial<StatementObserver>
): Effect.Effect<A, E, R> => Effect.locallyWith(self, current, (observer) => ({ ...observer, ...patch }))

/** `Reactivity` key invalidated with every write: results whose tables are unknown depend on it. */
export const anyTable = "dbscope:any-table"

/**
 * `Reactivity` key invalidated by writes whose tables are unknown (schema changes, statements the
 * backend cannot explain): every cached result depends on it.
 */
export const everyTable = "dbscope:every-table"

/**
 * The transaction's COMMIT failed and the transaction was rolled back: nothing of it was written.
 * A `SqlError` (so `catchTag("SqlError")` still sees it), told apart by its class, never its text.
 */
export class CommitError extends SqlError.SqlError {
  constructor(cause: unknown) {
    super({ cause, message: "COMMIT failed; the transaction was rolled back" })
  }
}

/** The span each statement gets while `logQueries` or tracing is on. */
export const spanName = "dbscope.statement"
