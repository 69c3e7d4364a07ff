/**
 * The users repository: every read decoded by the `User` schema (a stored value it refuses is an
 * `InvalidStoredValue` naming its column), every write validated by `NewUser`, every driver error
 * mapped to a typed error. The SQL is dialect-neutral (`?`
 * placeholders, multi-row INSERT), so the same repository runs on SQLite and MySQL.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as RowCheck from "../client/core/RowCheck.js"
import type { DatabaseError } from "../client/DatabaseError.js"
import { driverCode, fromSqlError } from "../client/DatabaseError.js"
import { PreparedQueries } from "../client/PreparedQueries.js"
import { ReaderRowRefused } from "../readers/ReaderPool.js"
import { explain, type InvalidStoredValue } from "./StoredValue.js"
import { Age, describeParseError, Email, isAge, isNewUser, isUser, NewUser, type User, userRules } from "./User.js"

/** An age argument outside 0..150 or not an integer; raised before any SQL runs. */
export class InvalidAge extends Schema.TaggedError<InvalidAge>()("InvalidAge", { reason: Schema.String }) {
  override get message() {
    return this.reason
  }
}

/** A user id that is not a positive integer. */
export class InvalidUserId extends Schema.TaggedError<InvalidUserId>()("InvalidUserId", { value: Schema.String }) {
  override get message() {
    return `user id must be a positive integer, got ${this.value}`
  }
}

/** A user to be written failed validation; `index` is its position in the batch. */
export class InvalidUser extends Schema.TaggedError<InvalidUser>()("InvalidUser", {
  index: Schema.Number,
  reason: Schema.String
}) {
  override get message() {
    return `invalid user #${this.index + 1}: ${this.reason}`
  }
}

/** An insert hit the unique e-mail constraint. */
export class DuplicateEmail extends Schema.TaggedError<DuplicateEmail>()("DuplicateEmail", {
  email: Schema.optional(Schema.String)
}) {
  override get message() {
    return this.email === undefined
      ? "a user with one of these e-mail addresses already exists"
      : `a user with e-mail ${this.email} already exists`
  }
}

/** Optional row limit for listing queries. */
export interface ListOptions {
  readonly limit?: number | undefined
}

/**
 * The columns of a stored user. `created_at` is read as text on every backend (SQLite stores it as
 * `YYYY-MM-DD HH:MM:SS`; MySQL's client gives a `Date`): one `User` type, whatever the database.
 */
const columnsFor = (dialect: "mysql" | "pg" | "other") =>
  dialect === "mysql"
    ? "user_id, name, email, age, DATE_FORMAT(created_at, '%Y-%m-%d %H:%i:%s') AS created_at"
    : dialect === "pg"
    // A TIMESTAMP(0) as text is `YYYY-MM-DD HH:MM:SS` under DateStyle ISO (every dbscope connection
    // sets it): a third of the server's work of `to_char` on a full scan.
    ? "user_id, name, email, age, created_at::text AS created_at"
    : "user_id, name, email, age, created_at"
/** Rows per multi-row INSERT: 3 parameters a row stays far below every driver's placeholder limit. */
const insertChunkSize = 500

const validateAge = Schema.decodeUnknownEither(Age)
const validateNewUser = Schema.validateEither(NewUser)

const isUniqueViolation = (error: SqlError) => {
  const code = driverCode(error)
  return code === "SQLITE_CONSTRAINT_UNIQUE" || code === "ER_DUP_ENTRY" || code === "23505"
}

/** The row a reader refused, explained; `undefined` for any other error. */
const refusedRow = (error: SqlError): InvalidStoredValue | undefined =>
  error.cause instanceof ReaderRowRefused ? explain(error.cause.row) : undefined

/** Rows checked between two event-loop turns (checking a million rows at once blocked timers ~80 ms). */
const checkSlice = 16_384

/** Yields to the event loop (timers, I/O), not just to other fibers. */
const nextTurn = Effect.async<void>((resume) => {
  const handle = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(handle))
})

/**
 * The rows as users, checked in slices so that a large result does not block the loop; the first
 * row that is not one fails, explained by its column.
 */
const allUsers = (rows: ReadonlyArray<unknown>, from = 0): Effect.Effect<ReadonlyArray<User>, InvalidStoredValue> =>
  Effect.suspend(() => {
    const end = Math.min(rows.length, from + checkSlice)
    for (let i = from; i < end; i++) if (!isUser(rows[i])) return Effect.fail(explain(rows[i]))
    return end === rows.length
      ? Effect.succeed(rows as ReadonlyArray<User>)
      : Effect.zipRight(nextTurn, allUsers(rows, end))
  })

/** A page of ages, each checked: an age the table should not hold fails rather than averaging to `NaN`. */
const allAges = (rows: ReadonlyArray<{ readonly user_id: unknown; readonly age: unknown }>) =>
  Effect.suspend(() => {
    for (const row of rows) {
      if (!isAge(row.age) || !Number.isSafeInteger(row.user_id)) {
        return Effect.fail(explain(row, ["user_id", "age"]))
      }
    }
    return Effect.succeed(rows as ReadonlyArray<{ readonly user_id: number; readonly age: number }>)
  })

const checkAge = (age: unknown) =>
  Either.match(validateAge(age), {
    onLeft: (error) => Effect.fail(new InvalidAge({ reason: describeParseError(error) })),
    onRight: (valid) => Effect.succeed(valid)
  })

const checkLimit = (limit: number | undefined) =>
  limit === undefined || (Number.isSafeInteger(limit) && limit >= 0)
    ? Effect.void
    : Effect.dieMessage(`limit must be a non-negative integer, got ${limit}`)

/** Reads and writes the `users` table. */
export class UserRepo extends Effect.Service<UserRepo>()("dbscope/UserRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const prepared = yield* PreparedQueries
    const columns = columnsFor(
      sql.onDialectOrElse({ mysql: () => "mysql" as const, pg: () => "pg" as const, orElse: () => "other" as const })
    )
    const selectById = prepared.prepare(`SELECT ${columns} FROM users WHERE user_id = ?`)

    /**
     * Rows read as users: checked by the reader that read them where one did (a row it refuses is
     * explained here), else here, in slices.
     */
    const readUsers = (
      operation: string,
      rows: Effect.Effect<ReadonlyArray<unknown>, SqlError>
    ): Effect.Effect<ReadonlyArray<User>, DatabaseError | InvalidStoredValue> =>
      RowCheck.checkedBy(userRules)(rows).pipe(
        Effect.mapError((error) => refusedRow(error) ?? fromSqlError(operation)(error)),
        Effect.flatMap(([rows, checked]) => checked ? Effect.succeed(rows as ReadonlyArray<User>) : allUsers(rows))
      )

    const limitClause = (limit: number | undefined) => limit === undefined ? sql`` : sql`LIMIT ${limit}`

    /** Every user, in id order. */
    const all = Effect.fn("UserRepo.all")(function*(options: ListOptions = {}) {
      yield* checkLimit(options.limit)
      return yield* readUsers(
        "reading users",
        sql`SELECT ${sql.literal(columns)} FROM users ORDER BY user_id ${limitClause(options.limit)}`
      )
    })

    /** Users strictly older than `age` (validated as an integer 0..150 before any SQL runs). */
    const olderThan = Effect.fn("UserRepo.olderThan")(function*(age: number, options: ListOptions = {}) {
      const valid = yield* checkAge(age)
      yield* checkLimit(options.limit)
      return yield* readUsers(
        "reading users",
        sql`SELECT ${sql.literal(columns)} FROM users WHERE age > ${valid} ORDER BY user_id ${
          limitClause(options.limit)
        }`
      )
    })

    /** The user with this id, if any. Uses a prepared statement: this is the hot path. */
    const byId = (id: number): Effect.Effect<Option.Option<User>, InvalidUserId | DatabaseError | InvalidStoredValue> =>
      Number.isSafeInteger(id) && id > 0
        ? selectById([id]).pipe(
          Effect.mapError(fromSqlError("reading a user")),
          Effect.flatMap((rows) =>
            rows.length === 0
              ? Effect.succeedNone
              : isUser(rows[0])
              ? Effect.succeedSome(rows[0])
              : Effect.fail(explain(rows[0]))
          )
        )
        : Effect.fail(new InvalidUserId({ value: String(id) }))

    /** How many users there are. */
    const count = sql<{ readonly n: number | bigint }>`SELECT COUNT(*) AS n FROM users`.pipe(
      Effect.map((rows) => Number(rows[0]?.n ?? 0)),
      Effect.mapError(fromSqlError("counting users")),
      Effect.withSpan("UserRepo.count")
    )

    const validateAll = (users: ReadonlyArray<NewUser>) =>
      Effect.suspend(() => {
        for (let index = 0; index < users.length; index++) {
          if (isNewUser(users[index])) continue
          const result = validateNewUser(users[index])
          const reason = Either.isLeft(result) ? describeParseError(result.left) : "invalid user"
          return Effect.fail(new InvalidUser({ index, reason }))
        }
        return Effect.void
      })

    const insertChunk = (users: ReadonlyArray<NewUser>) =>
      sql`INSERT INTO users ${sql.insert(users.map(({ age, email, name }) => ({ name, email, age })))}`.pipe(
        Effect.asVoid
      )

    const mapWriteError = (error: SqlError) =>
      isUniqueViolation(error) ? new DuplicateEmail({}) : fromSqlError("writing users")(error)

    /**
     * Inserts `users` in one transaction (all or nothing), validating every row first.
     * Returns how many rows were written.
     */
    const insertMany = Effect.fn("UserRepo.insertMany")(function*(users: ReadonlyArray<NewUser>) {
      yield* validateAll(users)
      const chunks: Array<ReadonlyArray<NewUser>> = []
      for (let start = 0; start < users.length; start += insertChunkSize) {
        chunks.push(users.slice(start, start + insertChunkSize))
      }
      yield* Effect.forEach(chunks, insertChunk, { discard: true }).pipe(
        sql.withTransaction,
        Effect.mapError(mapWriteError)
      )
      return users.length
    })

    /** Inserts one user and returns it as stored (with its id and creation time). */
    const insert = Effect.fn("UserRepo.insert")(function*(user: NewUser) {
      yield* validateAll([user])
      const stored = yield* Effect.zipRight(
        insertChunk([user]),
        sql`SELECT ${sql.literal(columns)} FROM users WHERE email = ${user.email}`
      ).pipe(
        sql.withTransaction,
        Effect.mapError((error) =>
          isUniqueViolation(error) ? new DuplicateEmail({ email: user.email }) : fromSqlError("writing users")(error)
        )
      )
      const [row] = stored
      return isUser(row) ? row : yield* explain(row)
    })

    // Keyset pages run as prepared statements with no span each: per-page spans and scopes kept
    // every page alive past a minor GC, and a 1M-row stream grew the heap by 83 MB instead of 40.
    const selectPageAfter = prepared.prepare(
      `SELECT ${columns} FROM users WHERE user_id > ? ORDER BY user_id LIMIT ?`
    )
    const selectOlderAfter = prepared.prepare(
      `SELECT ${columns} FROM users WHERE age > ? AND user_id > ? ORDER BY user_id LIMIT ?`
    )
    const selectAgesAfter = prepared.prepare(
      "SELECT user_id, age FROM users WHERE user_id > ? ORDER BY user_id LIMIT ?"
    )

    /** Keyset page: up to `limit` users with ids above `afterId`, in id order (O(limit) however deep). */
    const pageAfter = (afterId: number, limit: number) => readUsers("reading users", selectPageAfter([afterId, limit]))

    /** The keyset page of users strictly older than `age` after user id `afterId` (the age validated first). */
    const olderThanAfter = (age: number, afterId: number, limit: number) =>
      Effect.flatMap(checkAge(age), (valid) => readUsers("reading users", selectOlderAfter([valid, afterId, limit])))

    /** OFFSET page, kept only to compare with keyset paging: SQLite walks and skips `offset` rows. */
    const pageAt = (offset: number, limit: number) =>
      readUsers(
        "reading users",
        sql`SELECT ${sql.literal(columns)} FROM users ORDER BY user_id LIMIT ${limit} OFFSET ${offset}`
      ).pipe(Effect.withSpan("UserRepo.pageAt"))

    /** Keyset page of ages only (with their ids, the cursor): what an average needs and nothing more. */
    const agesAfter = (afterId: number, limit: number) =>
      selectAgesAfter([afterId, limit]).pipe(
        Effect.mapError(fromSqlError("reading ages")),
        Effect.flatMap((rows) => allAges(rows as ReadonlyArray<{ readonly user_id: unknown; readonly age: unknown }>))
      )

    /**
     * Reads every user, page by page, and fails with the first stored value the `User` schema
     * refuses: what explains an aggregate that met such a value.
     */
    const checkStored = Effect.suspend(
      function loop(afterId = 0): Effect.Effect<void, DatabaseError | InvalidStoredValue> {
        return Effect.flatMap(pageAfter(afterId, 1000), (users) => {
          const last = users.at(-1)
          return last === undefined ? Effect.void : loop(last.user_id)
        })
      }
    ).pipe(Effect.withSpan("UserRepo.checkStored"))

    const validateEmail = Schema.validateEither(Email)

    /**
     * Sets the e-mail of user `id` (the seed's `update_user_email`); `false` when no user has this
     * id. The check and the update run in one transaction, so the answer is never out of date.
     */
    const updateEmail = Effect.fn("UserRepo.updateEmail")(function*(id: number, email: string) {
      if (!Number.isSafeInteger(id) || id <= 0) return yield* new InvalidUserId({ value: String(id) })
      const valid = validateEmail(email)
      if (Either.isLeft(valid)) return yield* new InvalidUser({ index: 0, reason: describeParseError(valid.left) })
      return yield* sql`SELECT user_id FROM users WHERE user_id = ${id}`.pipe(
        Effect.flatMap((rows) =>
          rows.length === 0
            ? Effect.succeed(false)
            : Effect.as(sql`UPDATE users SET email = ${valid.right} WHERE user_id = ${id}`, true)
        ),
        sql.withTransaction,
        Effect.mapError((error) =>
          isUniqueViolation(error) ? new DuplicateEmail({ email: valid.right }) : fromSqlError("writing users")(error)
        )
      )
    })

    /** Which of `emails` are already taken. */
    const existingEmails = Effect.fn("UserRepo.existingEmails")(function*(emails: ReadonlyArray<string>) {
      if (emails.length === 0) return new Set<string>()
      const rows = yield* sql<{ readonly email: string }>`SELECT email FROM users WHERE ${sql.in("email", emails)}`
        .pipe(Effect.mapError(fromSqlError("reading users")))
      return new Set(rows.map((row) => row.email))
    })

    return {
      all,
      olderThan,
      byId,
      count,
      insert,
      insertMany,
      updateEmail,
      existingEmails,
      pageAfter,
      olderThanAfter,
      pageAt,
      agesAfter,
      checkStored
    } as const
  })
}) {}
