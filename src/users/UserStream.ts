/**
 * The seed's generators as Streams: users one by one, in batches, filtered batch by batch, lazily
 * paginated, and a streaming average age. Every stream is built on keyset pages
 * (`WHERE user_id > ? ORDER BY user_id LIMIT ?`) fetched only when pulled: memory stays flat however
 * many rows pass, taking 5 users reads one page, and no connection or cursor is held between pages,
 * so writers and other readers go on while a long stream is consumed (and an interrupted stream
 * has nothing to release).
 */
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type { DatabaseError } from "../client/DatabaseError.js"
import type { InvalidStoredValue } from "./StoredValue.js"
import type { User } from "./User.js"
import { type InvalidAge, UserRepo } from "./UserRepo.js"

/** A page or batch size outside 1..100000. */
export class InvalidPageSize extends Schema.TaggedError<InvalidPageSize>()("InvalidPageSize", {
  name: Schema.String,
  value: Schema.Unknown
}) {
  override get message() {
    return `${this.name} must be an integer from 1 to ${maxPageSize}, got ${String(this.value)}`
  }
}

/** The average of no ages: the table is empty. */
export class NoUsers extends Schema.TaggedError<NoUsers>()("NoUsers", {}) {
  override get message() {
    return "there are no users to average"
  }
}

export const maxPageSize = 100_000
/** Rows per page behind `streamUsers` and `averageAge`: large enough that per-page costs vanish. */
export const defaultPageSize = 1000

/** Validates a page or batch size before any query runs. */
export const checkPageSize = (name: string, value: number) =>
  Number.isSafeInteger(value) && value >= 1 && value <= maxPageSize
    ? Effect.succeed(value)
    : Effect.fail(new InvalidPageSize({ name, value }))

/** One page of users and the cursor of the next one. */
export interface Page {
  readonly users: ReadonlyArray<User>
  /** Pass to `paginateUsers` for the next page; `None` when this page was empty (the walk is over). */
  readonly next: Option.Option<number>
}

/**
 * The seed's `paginate_users(page_size, offset)`, with a keyset cursor instead of an offset: the page
 * after user id `cursor` (0 for the first). Each page costs O(page size), however deep.
 */
export const paginateUsers = (pageSize: number, cursor = 0) =>
  Effect.gen(function*() {
    const size = yield* checkPageSize("page size", pageSize)
    const users = yield* (yield* UserRepo).pageAfter(cursor, size)
    const last = users.at(-1)
    return { users, next: last === undefined ? Option.none() : Option.some(last.user_id) } satisfies Page
  })

/**
 * The seed's `lazy_paginate(page_size)`: pages fetched only when pulled, ending at the first empty
 * page (1000 users in pages of 100: 10 pages, then one empty read that ends the walk).
 */
export const lazyPaginate = (
  pageSize: number
): Stream.Stream<ReadonlyArray<User>, InvalidPageSize | DatabaseError | InvalidStoredValue, UserRepo> =>
  Stream.unwrap(
    Effect.map(checkPageSize("page size", pageSize), (size) =>
      Stream.paginateEffect(0, (cursor: number) =>
        Effect.map(paginateUsers(size, cursor), (page) =>
          [page.users, page.next] as const)).pipe(Stream.filter((users) =>
            users.length > 0
          )))
  )

/** The seed's `stream_users()`: every user, one at a time, read a page at a time. */
export const streamUsers = (pageSize = defaultPageSize) =>
  Stream.flattenIterables(lazyPaginate(pageSize)).pipe(Stream.withSpan("UserStream.streamUsers"))

/**
 * Users in id order, optionally only those strictly older than `olderThan`, read in keyset pages:
 * what `repo.all()` / `repo.olderThan()` return, but a page at a time, so a consumer can stop (or be
 * interrupted) between pages instead of waiting for one read of the whole table.
 */
export const streamUsersWhere = (
  options: { readonly olderThan?: number | undefined; readonly pageSize?: number | undefined } = {}
): Stream.Stream<User, InvalidAge | DatabaseError | InvalidStoredValue, UserRepo> => {
  const size = options.pageSize ?? defaultPageSize
  const olderThan = options.olderThan
  return Stream.unwrap(Effect.map(UserRepo, (repo) =>
    Stream.paginateEffect(0, (cursor: number) =>
      Effect.map(
        olderThan === undefined ? repo.pageAfter(cursor, size) : repo.olderThanAfter(olderThan, cursor, size),
        (users) => {
          const last = users.at(-1)
          return [users, users.length < size || last === undefined ? Option.none() : Option.some(last.user_id)] as const
        }
      )).pipe(Stream.flattenIterables)))
}

/** The seed's `stream_users_in_batches(batch_size)`: users in batches (each batch is one page read). */
export const streamUsersInBatches = (batchSize: number) =>
  Stream.unwrap(
    Effect.map(checkPageSize("batch size", batchSize), (size) =>
      Stream.map(lazyPaginate(size), (users) => Chunk.unsafeFromArray(users as Array<User>)))
  )

/** The processing step of `batchProcessing`: the users of a batch strictly older than `age`. */
export const keepOlderThan = (age: number) => (batch: Chunk.Chunk<User>) =>
  Chunk.filter(batch, (user) => user.age > age)

/** The seed's `batch_processing(batch_size)`: each batch filtered to the users older than `olderThan` (25). */
export const batchProcessing = (batchSize: number, options: { readonly olderThan?: number | undefined } = {}) =>
  Stream.map(streamUsersInBatches(batchSize), keepOlderThan(options.olderThan ?? 25))

/** The seed's `stream_user_ages()`: ages only, a page at a time. */
export const streamUserAges = (
  pageSize = defaultPageSize
): Stream.Stream<number, InvalidPageSize | DatabaseError | InvalidStoredValue, UserRepo> =>
  Stream.unwrap(
    Effect.map(checkPageSize("page size", pageSize), (size) =>
      Stream.paginateChunkEffect(0, (cursor: number) =>
        Effect.flatMap(UserRepo, (repo) =>
          repo.agesAfter(cursor, size)).pipe(
            Effect.map((rows) => {
              const last = rows.at(-1)
              return [
                Chunk.unsafeFromArray(rows.map((row) =>
                  row.age
                )),
                last === undefined ? Option.none<number>() : Option.some(last.user_id)
              ] as const
            })
          )))
  )

/** The average age, folded over the age stream (no SQL `AVG`, no table in memory). `NoUsers` when empty. */
export const averageAge = (pageSize = defaultPageSize) =>
  streamUserAges(pageSize).pipe(
    Stream.runFold({ sum: 0, count: 0 }, (total, age) => ({ sum: total.sum + age, count: total.count + 1 })),
    Effect.flatMap(({ count, sum }) => count === 0 ? Effect.fail(new NoUsers()) : Effect.succeed(sum / count)),
    Effect.withSpan("UserStream.averageAge")
  )
