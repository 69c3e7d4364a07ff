/**
 * `@retry_on_failure`, retrying only what can succeed on a second try. The seed retried every
 * exception (a syntax error three more times) and slept after the last failure too. Here only
 * transient errors are retried: a lock held by another connection (SQLite BUSY/LOCKED, MySQL
 * deadlock 1213 and lock-wait timeout 1205, PostgreSQL serialization failure 40001, deadlock 40P01
 * and lock timeout 55P03, a COMMIT that failed on one), or a connection that went away. Delays grow
 * exponentially with jitter (`transientBackoff`), each retry is logged, and after the last attempt
 * the error is returned at once. A constraint violation or a syntax error fails on the first try.
 *
 * @example
 * yield* repo.insert(user).pipe(retryOnFailure({ retries: 5 }))
 */
import { SqlError } from "@effect/sql/SqlError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { dual, identity } from "effect/Function"
import * as Schedule from "effect/Schedule"
import { driverCode, isTransient as isTransientSqlError, reasonFor } from "../client/DatabaseError.js"

/** How to retry. */
export interface RetryOptions {
  /** Retries after the first attempt (default 3, so at most 4 attempts). */
  readonly retries?: number | undefined
  /** The first delay; each next one doubles (default 100 ms). */
  readonly delay?: Duration.DurationInput | undefined
  /** No delay is longer than this (default 5 s). */
  readonly maxDelay?: Duration.DurationInput | undefined
  /** Spread each delay randomly over ×0.8–1.2, so that retrying writers do not collide again (default true). */
  readonly jitter?: boolean | undefined
  /** Which errors to retry (default `isTransient`). */
  readonly while?: ((error: unknown) => boolean) | undefined
}

/**
 * Whether an error may go away on its own: a transient `SqlError`, or any error that says so with
 * `transient: true` (dbscope's `DatabaseError` and `CommitFailed` do, for lock errors).
 */
export const isTransient = (error: unknown): boolean =>
  error instanceof SqlError
    ? isTransientSqlError(error)
    : typeof error === "object" && error !== null && "transient" in error && error.transient === true

/** The delays between attempts: exponential from `delay` (doubling), jittered, capped at `maxDelay`. */
export const transientBackoff = (
  options: Omit<RetryOptions, "retries" | "while"> = {}
): Schedule.Schedule<Duration.Duration> => {
  const maxDelay = Duration.decode(options.maxDelay ?? Duration.seconds(5))
  return Schedule.exponential(options.delay ?? Duration.millis(100), 2).pipe(
    options.jitter === false ? identity : Schedule.jittered,
    Schedule.modifyDelay((_, delay) => Duration.min(delay, maxDelay))
  )
}

const describe = (error: unknown): string =>
  error instanceof SqlError
    ? reasonFor(driverCode(error))
    : error instanceof Error
    ? error.message
    : String(error)

/** Retries `self` while it fails with a transient error (see the module doc); pipeable. */
export const retryOnFailure: {
  (options?: RetryOptions): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, options?: RetryOptions): Effect.Effect<A, E, R>
} = dual(
  (args) => Effect.isEffect(args[0]),
  <A, E, R>(self: Effect.Effect<A, E, R>, options: RetryOptions = {}): Effect.Effect<A, E, R> =>
    Effect.suspend(() => {
      const retries = options.retries ?? 3
      const retryable = options.while ?? isTransient
      let lastError: unknown
      const schedule = transientBackoff(options).pipe(
        Schedule.delays,
        Schedule.intersect(Schedule.recurs(retries)),
        Schedule.whileInput(retryable),
        Schedule.tapInput((error: E) => Effect.sync(() => void (lastError = error))),
        Schedule.onDecision(([delay, retry], decision) =>
          decision._tag === "Done"
            ? Effect.void
            : Effect.logWarning(
              `retry ${retry + 1} of ${retries} in ${Math.round(Duration.toMillis(delay))} ms after: ${
                describe(lastError)
              }`
            ).pipe(Effect.annotateLogs({ retry: retry + 1, delayMs: Duration.toMillis(delay) }))
        )
      )
      return Effect.retry(self, schedule)
    })
)
