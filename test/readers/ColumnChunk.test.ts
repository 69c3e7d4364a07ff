/**
 * Rows survive the trip through a columnar chunk exactly (every encoding, -0, NaN, blobs, NULLs,
 * emoji, odd column names), and the row rules judge an encoded chunk as they judge its rows one
 * by one: the first refused row is the same, whatever encoding each column got.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import { appendRows, encodeChunk } from "../../src/readers/ColumnChunk.js"
import * as RowRules from "../../src/readers/RowRules.js"
import { userRules } from "../../src/users/User.js"

/** What a row object built the plain way holds: the last of two equal names wins. */
const rowObject = (names: ReadonlyArray<string>, row: ReadonlyArray<unknown>) =>
  Object.fromEntries(names.map((name, column) => [name, row[column]]))

/** Encodes the rows, sends the chunk as a worker would (structured clone, buffers transferred), rebuilds them. */
const roundTrip = (names: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<unknown>>) => {
  const { chunk, transfer } = encodeChunk(rows, names.length)
  const received = structuredClone(chunk, { transfer })
  const rebuilt: Array<Record<string, unknown>> = []
  appendRows(names, received, rebuilt)
  return { rebuilt, tags: chunk.columns.map((column) => column._tag) }
}

/** Values of one column: of one kind (so that each encoding gets its turn), or any mix. */
const columnValues = (length: number) =>
  fc.oneof(
    fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { minLength: length, maxLength: length }),
    fc.array(fc.oneof(fc.integer(), fc.double(), fc.constant(-0)), { minLength: length, maxLength: length }),
    fc.array(fc.constantFrom("Ada", "Grace", "Edsger", "😀 émoji", ""), { minLength: length, maxLength: length }),
    fc.array(fc.string({ unit: "binary" }), { minLength: length, maxLength: length }),
    fc.array(
      fc.oneof(
        fc.constant(null),
        fc.integer(),
        fc.string(),
        fc.uint8Array({ maxLength: 4 }).map((b) => Buffer.from(b))
      ),
      { minLength: length, maxLength: length }
    )
  )

const names = fc.array(fc.constantFrom("user_id", "name", "__proto__", "a b", "\"x\"", "constructor"), {
  minLength: 1,
  maxLength: 4
})

/** Column names, a length, and each column's values. */
const chunkOfRows = names.chain((names) =>
  fc.integer({ min: 1, max: 300 }).chain((length) =>
    fc.tuple(...names.map(() => columnValues(length))).map((columns) => ({ names, length, columns }))
  )
)

describe("ColumnChunk", () => {
  it("rows come back as the row objects of their values, whatever the encodings", () =>
    fc.assert(
      fc.property(chunkOfRows, fc.context(), ({ columns, length, names }, context) => {
        const rows = Array.from({ length }, (_, row) => columns.map((values) => values[row]))
        const { rebuilt, tags } = roundTrip(names, rows)
        context.log(tags.join(","))
        assert.deepStrictEqual(rebuilt, rows.map((row) => rowObject(names, row)))
        for (const row of rebuilt) assert.strictEqual(Object.getPrototypeOf(row), Object.prototype)
      }),
      { numRuns: 200 }
    ))

  it("each kind of column gets its encoding: integers, other numbers, few strings, many strings, a mix", () => {
    const length = 1000
    const rows = Array.from({ length }, (_, row) => [
      row,
      row + 0.5,
      ["Ada", "Grace", "Edsger"][row % 3],
      `user-${row}@example.com`,
      row % 2 === 0 ? null : "x"
    ])
    const { rebuilt, tags } = roundTrip(["id", "score", "first", "email", "maybe"], rows)
    assert.deepStrictEqual(tags, ["Integers", "Numbers", "Dictionary", "Strings", "Values"])
    assert.deepStrictEqual(rebuilt[7], { id: 7, score: 7.5, first: "Grace", email: "user-7@example.com", maybe: "x" })
  })

  it("-0 and integers beyond 32 bits stay numbers as they were", () => {
    const rows = [[1], [-0], [2 ** 40]]
    const { rebuilt, tags } = roundTrip(["n"], rows)
    assert.deepStrictEqual(tags, ["Numbers"])
    assert.isTrue(Object.is(rebuilt[1]!.n, -0))
    assert.strictEqual(rebuilt[2]!.n, 2 ** 40)
  })
})

/** A user row as stored, some of them broken in one column. */
const userRow = fc.record({
  user_id: fc.oneof(fc.integer({ min: 1, max: 10_000 }), fc.constant(2 ** 60), fc.constant(1.5)),
  name: fc.oneof(fc.constantFrom("Ada", "Grace", "Ed\u0007sger", " ", "x".repeat(201)), fc.string()),
  email: fc.oneof(fc.constantFrom("ada@example.com", "grace@example.com", "not-an-email"), fc.string()),
  age: fc.oneof(fc.integer({ min: 0, max: 150 }), fc.constantFrom(-1, 151, 40.5, "forty", null)),
  created_at: fc.oneof(fc.constant("2026-12-05 03:48:33"), fc.constant(null))
})

describe("RowRules", () => {
  const userColumns = ["user_id", "name", "email", "age", "created_at"]
  const firstRefusedOneByOne = (rows: ReadonlyArray<ReadonlyArray<unknown>>) => {
    const checks = userColumns.map((name) => RowRules.valueCheck(userRules[name]!))
    return rows.findIndex((row) => checks.some((check, column) => !check(row[column])))
  }

  it("the first refused row of an encoded chunk is the first one a row-by-row check refuses", () =>
    fc.assert(
      fc.property(
        fc.array(userRow, { minLength: 1, maxLength: 400 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (broken, validShare) => {
          // Mostly valid rows (so that chunks get dictionaries), with broken ones here and there.
          const rows = broken.map((user, index) =>
            index / broken.length < validShare
              ? [index + 1, ["Ada", "Grace"][index % 2], `u${index}@example.com`, index % 151, "2026-12-05 03:48:33"]
              : userColumns.map((name) => user[name as keyof typeof user])
          )
          const plan = RowRules.plan(userRules, userColumns)!
          const { chunk } = encodeChunk(rows, userColumns.length)
          assert.strictEqual(RowRules.firstRefused(plan, rows, chunk.columns), firstRefusedOneByOne(rows))
        }
      ),
      { numRuns: 300 }
    ))

  it("a result without a ruled column has no plan: its rows are left to the caller", () => {
    assert.isUndefined(RowRules.plan(userRules, ["user_id", "age"]))
    assert.isDefined(RowRules.plan(userRules, [...userColumns, "extra"]))
  })
})
