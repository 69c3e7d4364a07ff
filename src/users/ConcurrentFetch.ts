/**
 * The seed's `asyncio.gather(fetch_users(), fetch_older_users())`, for real: both queries run at
 * once with `Effect.all(..., { concurrency: "unbounded" })`. On the pooled client (`SqlitePool`)
 * they run on two reader threads; on a single connection they would only take turns.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type { User } from "./User.js"
import { UserRepo } from "./UserRepo.js"

/** A result and how long it took, in milliseconds. */
export interface Timed<A> {
  readonly value: A
  readonly millis: number
}

export interface FetchResult {
  readonly allUsers: Timed<ReadonlyArray<User>>
  readonly olderUsers: Timed<ReadonlyArray<User>>
  /** Wall time of the whole fetch. */
  readonly millis: number
}

const timed = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<Timed<A>, E, R> =>
  Effect.map(Effect.timed(effect), ([duration, value]) => ({ value, millis: Duration.toMillis(duration) }))

/**
 * All users and the users older than `age`, fetched concurrently (or one after the other with
 * `{ concurrent: false }`, to compare).
 */
export const fetchUsers = (age = 40, options: { readonly concurrent?: boolean | undefined } = {}) =>
  Effect.gen(function*() {
    const users = yield* UserRepo
    const [total, [allUsers, olderUsers]] = yield* Effect.timed(
      Effect.all([timed(users.all()), timed(users.olderThan(age))], {
        concurrency: options.concurrent === false ? 1 : "unbounded"
      })
    )
    return { allUsers, olderUsers, millis: Duration.toMillis(total) } satisfies FetchResult
  }).pipe(Effect.withSpan("ConcurrentFetch.fetchUsers", { attributes: { age } }))

/** The seed's `fetch_concurrently()`: both result sets, fetched at once. */
export const fetchConcurrently = (age = 40) =>
  Effect.flatMap(UserRepo, (users) => Effect.all([users.all(), users.olderThan(age)], { concurrency: "unbounded" }))
