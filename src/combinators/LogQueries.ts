/**
 * `@log_queries`, made structured: every statement the wrapped effect runs through dbscope, in any
 * fiber it starts, is logged with its SQL, duration and row count, inside a `dbscope.statement`
 * span. Bound values are hidden unless `showParams` is set, and a `Redacted` value is never shown:
 * the seed printed its SQL with `print` and nothing else.
 *
 * @example
 * const users = yield* repo.olderThan(40).pipe(logQueries())
 * const user = yield* repo.byId(1).pipe(logQueries({ showParams: true }))
 */
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import * as LogLevel from "effect/LogLevel"
import * as StatementObserver from "../client/core/StatementObserver.js"

/** How statements are logged. */
export interface LogQueriesOptions {
  /** Show bound values (default false: only how many there are). `Redacted` values never show. */
  readonly showParams?: boolean | undefined
  /** The level of each line (default `Info`). */
  readonly level?: LogLevel.LogLevel | undefined
}

/** Logs every statement `self` runs (see the module doc); pipeable, with or without options. */
export const logQueries: {
  (options?: LogQueriesOptions): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, options?: LogQueriesOptions): Effect.Effect<A, E, R>
} = dual(
  (args) => Effect.isEffect(args[0]),
  <A, E, R>(self: Effect.Effect<A, E, R>, options: LogQueriesOptions = {}): Effect.Effect<A, E, R> =>
    StatementObserver.locally(self, {
      logging: { showParams: options.showParams ?? false, level: options.level ?? LogLevel.Info }
    })
)
