/**
 * A stored value the `User` schema refuses, named by its column: a `users` table without dbscope's
 * CHECK constraint (or SQLite's dynamic typing) can hold an age of `'forty'`, which the average
 * turned into `NaN` and the dashboard into an internal error. Every read explains the first such
 * value it meets in one line, quoting it (shortened) with its row's `user_id`, and no more.
 */
import * as Schema from "effect/Schema"
import { isAge, isEmail, isName } from "./User.js"

/** A value in `users.<column>` that is not what dbscope stores there. */
export class InvalidStoredValue extends Schema.TaggedError<InvalidStoredValue>()("InvalidStoredValue", {
  column: Schema.String,
  /** What the column must hold, in words. */
  expected: Schema.String,
  /** The value as text, quoted and shortened. */
  value: Schema.String,
  /** The row's `user_id`, when it is one. */
  userId: Schema.optional(Schema.Number)
}) {
  override get message() {
    const where = this.userId === undefined ? this.value : `${this.value} in user_id ${this.userId}`
    return `users.${this.column} holds a value that is not ${this.expected} (${where})`
  }
}

const controlCharacter = /[\u0000-\u001f\u007f]/g

/** A stored value as one short line of text: strings quoted, at most 40 characters. */
export const showValue = (value: unknown): string => {
  if (value === null || value === undefined) return "NULL"
  if (typeof value === "string") {
    // Control characters escaped, so that the message stays one line.
    const text = `'${value.replace(controlCharacter, (c) => JSON.stringify(c).slice(1, -1))}'`
    return text.length > 40 ? `${text.slice(0, 36)}...'` : text
  }
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean") return String(value)
  if (value instanceof Uint8Array) return `a ${value.length}-byte blob`
  return `a ${typeof value}`
}

const isRowId = (value: unknown): value is number => Number.isSafeInteger(value)

/** Each column's rule, in the order of the table: the same verdicts as the `User` schema. */
const rules: ReadonlyArray<readonly [column: string, expected: string, valid: (value: unknown) => boolean]> = [
  ["user_id", "an integer", isRowId],
  ["name", "a name of 1 to 200 printable characters", isName],
  ["email", "an e-mail address", isEmail],
  ["age", "an integer from 0 to 150", isAge],
  ["created_at", "a date and time", (value) => typeof value === "string"]
]

const rowOf = (row: unknown): Readonly<Record<string, unknown>> =>
  typeof row === "object" && row !== null ? row as Readonly<Record<string, unknown>> : {}

/**
 * The first value of `row` that the `User` schema refuses, among `columns` (default: all of them;
 * a row of ages is `["user_id", "age"]`). `row` must be one that is refused.
 */
export const explain = (row: unknown, columns?: ReadonlyArray<string>): InvalidStoredValue => {
  const fields = rowOf(row)
  const userId = isRowId(fields.user_id) ? fields.user_id : undefined
  for (const [column, expected, valid] of rules) {
    if ((columns === undefined || columns.includes(column)) && !valid(fields[column])) {
      return new InvalidStoredValue({ column, expected, value: showValue(fields[column]), userId })
    }
  }
  // Not reached for a refused row: every rule of the schema is above.
  return new InvalidStoredValue({ column: "user_id", expected: "a user", value: showValue(row), userId })
}
