/**
 * Imports users from a CSV file (header `name,email,age`): streamed through a real CSV parser,
 * every row validated, all in one transaction. A bad row aborts the import with its line number
 * and nothing is written; rows whose e-mail is already stored are skipped, so re-running is
 * idempotent.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { CsvError as ParserError, type Info, parse } from "csv-parse"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as fs from "node:fs"
import { Transform } from "node:stream"
import { fromSqlError } from "../client/DatabaseError.js"
import { Progress } from "./Progress.js"
import { describeParseError, NewUser, parseWholeNumber } from "./User.js"
import { UserRepo } from "./UserRepo.js"

/** The file cannot be imported; `line` points at the offending line when there is one. */
export class CsvError extends Schema.TaggedError<CsvError>()("CsvError", {
  file: Schema.String,
  line: Schema.optional(Schema.Number),
  reason: Schema.String
}) {
  override get message() {
    return this.line === undefined ? `${this.file}: ${this.reason}` : `${this.file}, line ${this.line}: ${this.reason}`
  }
}

/** What an import did. */
export interface ImportResult {
  readonly inserted: number
  readonly skipped: number
}

const expectedColumns = ["name", "email", "age"] as const
const batchSize = 500

/** A CSV row as text, decoded into a `NewUser` (the age must be written as a whole number). */
const CsvUser = Schema.Struct({
  name: Schema.String,
  email: Schema.String,
  age: Schema.transform(
    Schema.String.pipe(Schema.filter((s) => parseWholeNumber(s) !== undefined, {
      message: (issue) => `age must be a whole number, got ${JSON.stringify(issue.actual)}`
    })),
    Schema.Number,
    { strict: true, decode: (s) => Number(s), encode: (n) => String(n) }
  )
}).pipe(Schema.compose(NewUser))
const decodeRow = Schema.decodeUnknownEither(CsvUser)

interface ParsedRow {
  readonly line: number
  readonly user: NewUser
}

const checkHeader = (file: string) => (header: Array<string>): Array<string> => {
  const names = header.map((column) => column.trim().toLowerCase())
  const missing = expectedColumns.filter((column) => !names.includes(column))
  const unknown = names.filter((column) => !(expectedColumns as ReadonlyArray<string>).includes(column))
  if (missing.length > 0 || unknown.length > 0 || new Set(names).size !== names.length) {
    throw new CsvError({
      file,
      line: 1,
      reason: `the header must name the columns name, email and age, got ${JSON.stringify(header.join(","))}`
    })
  }
  return names
}

/** Raised by `utf8Check` at the first byte sequence that is not UTF-8. */
class NotUtf8 extends Error {
  constructor(readonly line: number) {
    super("not UTF-8")
  }
}

/**
 * Passes the file's bytes through unchanged, failing at the first invalid UTF-8 sequence: the CSV
 * parser would otherwise replace it with U+FFFD and import a name nobody typed.
 */
const utf8Check = () => {
  const decoder = new TextDecoder("utf-8", { fatal: true })
  let line = 1
  const countLines = (text: string) => {
    for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) line++
  }
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      try {
        countLines(decoder.decode(chunk, { stream: true }))
        done(null, chunk)
      } catch {
        done(new NotUtf8(line))
      }
    },
    flush(done) {
      try {
        countLines(decoder.decode())
        done()
      } catch {
        done(new NotUtf8(line))
      }
    }
  })
}

const parseFailure = (file: string) => (cause: unknown): CsvError => {
  if (cause instanceof NotUtf8) {
    return new CsvError({ file, line: cause.line, reason: "the file is not valid UTF-8 text" })
  }
  if (cause instanceof CsvError) return cause
  if (cause instanceof ParserError) {
    const line = (cause as ParserError & { readonly lines?: number }).lines
    const reason = cause.code === "CSV_QUOTE_NOT_CLOSED"
      ? "a quoted field is not closed"
      : cause.code === "CSV_RECORD_INCONSISTENT_COLUMNS" || cause.code === "CSV_RECORD_INCONSISTENT_FIELDS_LENGTH"
      ? "the row does not have exactly name, email and age"
      : cause.code === "CSV_INVALID_CLOSING_QUOTE" || cause.code === "CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE"
      ? "a quote is misplaced"
      : `malformed CSV (${cause.code})`
    return new CsvError({ file, line, reason })
  }
  const code = typeof cause === "object" && cause !== null && "code" in cause ? String(cause.code) : ""
  const reason = code === "ENOENT"
    ? "no such file"
    : code === "EISDIR"
    ? "it is a directory, not a file"
    : code === "EACCES"
    ? "permission denied"
    : "the file cannot be read"
  return new CsvError({ file, reason })
}

/** The rows of `file`, validated, with their line numbers; fails on the first bad row. */
const rows = (file: string, onBytes: (bytes: number) => Effect.Effect<void>): Stream.Stream<ParsedRow, CsvError> =>
  Stream.suspend(() => {
    const input = fs.createReadStream(file)
    const checked = input.pipe(utf8Check())
    const parser = checked.pipe(parse({
      bom: true,
      columns: checkHeader(file),
      skip_empty_lines: true,
      info: true
    }))
    input.on("error", (error) => parser.destroy(error))
    checked.on("error", (error) => parser.destroy(error))
    let reported = 0
    const seen = new Map<string, number>()
    return Stream.fromAsyncIterable(
      parser as AsyncIterable<{ readonly record: Record<string, string>; readonly info: Info }>,
      parseFailure(file)
    ).pipe(
      Stream.mapEffect(({ info, record }) => {
        const line = info.lines
        const decoded = decodeRow(record)
        if (Either.isLeft(decoded)) {
          return Effect.fail(new CsvError({ file, line, reason: describeParseError(decoded.left) }))
        }
        const first = seen.get(decoded.right.email)
        if (first !== undefined) {
          return Effect.fail(
            new CsvError({ file, line, reason: `e-mail ${decoded.right.email} already appears on line ${first}` })
          )
        }
        seen.set(decoded.right.email, line)
        const bytes = input.bytesRead - reported
        reported = input.bytesRead
        return Effect.as(bytes > 0 ? onBytes(bytes) : Effect.void, { line, user: decoded.right })
      }),
      Stream.ensuring(Effect.sync(() => input.destroy()))
    )
  })

/**
 * Imports `file` in one transaction: every row is validated, existing e-mails are skipped, and any
 * invalid row fails the whole import (nothing written). With `reset`, existing users are deleted
 * first, inside the same transaction, so a failed import keeps the old data.
 */
export const importCsv = (file: string, options: { readonly reset?: boolean | undefined } = {}) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const repo = yield* UserRepo
    const progress = yield* Progress
    const size = yield* Effect.try({ try: () => fs.statSync(file), catch: parseFailure(file) })
    if (size.isDirectory()) return yield* new CsvError({ file, reason: "it is a directory, not a file" })

    const load = Effect.scoped(Effect.gen(function*() {
      if (options.reset === true) yield* Effect.mapError(sql`DELETE FROM users`, fromSqlError("resetting users"))
      const bar = yield* progress.start("Importing", size.size)
      return yield* rows(file, bar.advance).pipe(
        Stream.grouped(batchSize),
        Stream.mapEffect((batch) =>
          Effect.gen(function*() {
            const users = Chunk.toReadonlyArray(Chunk.map(batch, (row) => row.user))
            const existing = yield* repo.existingEmails(users.map((user) => user.email))
            const fresh = users.filter((user) => !existing.has(user.email))
            yield* repo.insertMany(fresh)
            return { inserted: fresh.length, skipped: users.length - fresh.length }
          })
        ),
        Stream.runFold(
          { inserted: 0, skipped: 0 } as ImportResult,
          (total, batch) => ({ inserted: total.inserted + batch.inserted, skipped: total.skipped + batch.skipped })
        )
      )
    }))
    return yield* sql.withTransaction(load).pipe(
      Effect.catchTag("SqlError", (error) => Effect.fail(fromSqlError("importing users")(error)))
    )
  }).pipe(Effect.withSpan("CsvImport.importCsv", { attributes: { file } }))
