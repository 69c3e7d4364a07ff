/**
 * `?` placeholders numbered for PostgreSQL, on their own: only the `?` that the server would read
 * as code are numbered, and only when there are exactly as many as parameters, so strings, quoted
 * names, comments, dollar quotes and jsonb's `?` operators keep their question marks.
 */
import { assert, describe, it } from "@effect/vitest"
import { numberedPlaceholders } from "../../src/client/PostgresPlaceholders.js"

describe("PostgreSQL placeholders", () => {
  it("number each `?` in order when there are as many as parameters", () => {
    assert.strictEqual(
      numberedPlaceholders("SELECT * FROM users WHERE age > ? AND name <> ?", 2),
      "SELECT * FROM users WHERE age > $1 AND name <> $2"
    )
    assert.strictEqual(numberedPlaceholders("VALUES (?, ?, ?)", 3), "VALUES ($1, $2, $3)")
    assert.strictEqual(numberedPlaceholders("SELECT ?::int + ?", 2), "SELECT $1::int + $2")
  })

  it("leave a `?` inside strings, quoted names, comments and dollar quotes alone", () => {
    const cases: ReadonlyArray<readonly [sql: string, count: number, numbered: string]> = [
      ["SELECT '?' AS q, ? AS p", 1, "SELECT '?' AS q, $1 AS p"],
      ["SELECT 'it''s ?', ?", 1, "SELECT 'it''s ?', $1"],
      ["SELECT \"odd?name\" FROM t WHERE a = ?", 1, "SELECT \"odd?name\" FROM t WHERE a = $1"],
      ["SELECT \"a\"\"?\" FROM t WHERE a = ?", 1, "SELECT \"a\"\"?\" FROM t WHERE a = $1"],
      ["SELECT ? -- why?\n, ?", 2, "SELECT $1 -- why?\n, $2"],
      ["SELECT /* ? */ ?", 1, "SELECT /* ? */ $1"],
      // Block comments nest on PostgreSQL: the third `?` is still inside the outer comment.
      ["SELECT /* ? /* ? */ ? */ ?", 1, "SELECT /* ? /* ? */ ? */ $1"],
      ["SELECT $$ ? $$, ?", 1, "SELECT $$ ? $$, $1"],
      ["SELECT $tag$ ? $x$ ? $x$ ? $tag$, ?", 1, "SELECT $tag$ ? $x$ ? $x$ ? $tag$, $1"],
      // `E'...'` strings escape with a backslash: `\'` does not end the string.
      ["SELECT E'it\\'s ?', ?", 1, "SELECT E'it\\'s ?', $1"],
      ["SELECT e'\\\\', ?", 1, "SELECT e'\\\\', $1"],
      // In a standard string a backslash is a plain character: `'a\'` ends at its second quote.
      ["SELECT 'a\\', ?", 1, "SELECT 'a\\', $1"],
      ["SELECT U&'\\0041?', ?", 1, "SELECT U&'\\0041?', $1"]
    ]
    for (const [sql, count, numbered] of cases) assert.strictEqual(numberedPlaceholders(sql, count), numbered, sql)
  })

  it("leave a text that numbers its own parameters, or whose `?` are not all parameters, as it is", () => {
    const unchanged: ReadonlyArray<readonly [sql: string, count: number]> = [
      ["SELECT * FROM users WHERE age > $1", 1],
      ["SELECT $1, ?", 1],
      // jsonb's `?` operator with no parameter for it.
      ["SELECT '{\"a\": 1}'::jsonb ? 'a'", 0],
      ["SELECT doc ? 'a' FROM t WHERE id = ?", 1],
      ["SELECT doc ?| array['a'] FROM t", 0],
      ["SELECT ?, ?", 1],
      ["SELECT ?", 2],
      ["SELECT 1", 1]
    ]
    for (const [sql, count] of unchanged) assert.strictEqual(numberedPlaceholders(sql, count), sql, sql)
  })

  it("read a `$` inside a name as part of the name, not as a parameter or a dollar quote", () => {
    assert.strictEqual(numberedPlaceholders("SELECT a$1, ? FROM t", 1), "SELECT a$1, $1 FROM t")
    // `foo$bar$` is one identifier to PostgreSQL (names may hold `$`), not the start of a `$bar$` quote.
    assert.strictEqual(numberedPlaceholders("SELECT foo$bar$, ? FROM t", 1), "SELECT foo$bar$, $1 FROM t")
  })

  it("give the same answer for a text seen before, per parameter count", () => {
    const sql = "SELECT ? FROM t WHERE a = ?"
    assert.strictEqual(numberedPlaceholders(sql, 2), "SELECT $1 FROM t WHERE a = $2")
    assert.strictEqual(numberedPlaceholders(sql, 2), "SELECT $1 FROM t WHERE a = $2")
    assert.strictEqual(numberedPlaceholders(sql, 1), sql, "remembered by text and count, not text alone")
  })
})
