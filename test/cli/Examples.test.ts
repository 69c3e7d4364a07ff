/**
 * The runnable examples of `docs/PATTERNS.md` (`examples/`, built into `dist/examples` by `npm test`'s
 * pretest): each runs as its own process, as a user would run it, and must exit 0, print exactly
 * its expected lines (the 1000-user sample's known figures), log only what it is expected to log,
 * and write nothing to stderr. `scripts/example.ts`, the `npm run example` runner, is checked too.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { built, type RunResult, runScript } from "../support/RunCli.js"

/** One log entry of the pretty logger: `[12:00:00.000] INFO (#1): message`, then indented annotations. */
interface LogEntry {
  readonly level: string
  readonly message: string
  readonly annotations: ReadonlyArray<string>
}

interface Run {
  readonly code: number | null
  readonly stderr: string
  /** stdout without the log entries: what the example itself printed. */
  readonly output: ReadonlyArray<string>
  readonly logs: ReadonlyArray<LogEntry>
  /** stdout line by line, log lines included as `LOG <message>`, to check the order of events. */
  readonly events: ReadonlyArray<string>
}

const logLine = /^\[\d{2}:\d{2}:\d{2}\.\d{3}\] (\w+) \(#\d+\): (.*)$/

/** Splits a run's stdout into what the example printed and its log entries. */
const parse = (result: RunResult): Run => {
  const output: Array<string> = []
  const logs: Array<{ level: string; message: string; annotations: Array<string> }> = []
  const events: Array<string> = []
  for (const line of result.stdout.split("\n")) {
    const log = logLine.exec(line)
    const last = logs.at(-1)
    if (log !== null) {
      logs.push({ level: log[1] ?? "", message: log[2] ?? "", annotations: [] })
      events.push(`LOG ${log[2]}`)
    } else if (line.startsWith("  ") && last !== undefined && events.at(-1)?.startsWith("LOG ") === true) {
      last.annotations.push(line.trim())
    } else if (line !== "") {
      output.push(line)
      events.push(line)
    }
  }
  return { code: result.code, stderr: result.stderr, output, logs, events }
}

/** Runs a built script (`dist/<script>`) as its own process. */
const node = (script: string, args: ReadonlyArray<string> = []): Effect.Effect<Run> =>
  Effect.map(runScript(built(script), args, { env: { NO_COLOR: "1" }, timeout: 30_000 }), parse)

const opened = "Database connection opened: users.db"
const closed = "Database connection closed: users.db"

/** Runs an example: exit 0, nothing on stderr, exactly `expected` printed; returns the run for more checks. */
const example = (file: string, expected: ReadonlyArray<string>): Effect.Effect<Run> =>
  Effect.map(node(`examples/${file}.js`), (run) => {
    assert.strictEqual(run.stderr, "", `${file} wrote to stderr`)
    assert.strictEqual(run.code, 0, `${file} exit code; stdout:\n${run.output.join("\n")}`)
    assert.deepStrictEqual(run.output, expected)
    return run
  })

/**
 * Every log entry is a connection opened or closed (debug lines: dbscope is quiet unless asked, and
 * only the examples about connections ask), as many closed as opened.
 */
const assertOnlyConnectionLogs = (run: Run, connections: number) => {
  const messages = run.logs.map((entry) => entry.message)
  assert.deepStrictEqual(run.logs.filter((entry) => entry.level !== "DEBUG"), [])
  assert.deepStrictEqual(messages.filter((m) => m.includes("opened")).length, connections)
  assert.deepStrictEqual(messages.filter((m) => m.includes("closed")).length, connections)
  assert.deepStrictEqual(messages.filter((m) => !/^Database connection (opened|closed): /.test(m)), [])
}

describe("examples", () => {
  it.effect("01 DatabaseConnection: the connection is open for the block only, and closed after a failure too", () =>
    Effect.gen(function*() {
      const run = yield* example("01-database-connection", [
        "SELECT * FROM users -> 1000 rows",
        "(1, Johnnie Mayer, Ross.Reynolds21@hotmail.com, 35)",
        "(2, Myrtle Waters, Edmund_Funk@gmail.com, 99)",
        "a failing query -> SqlError, and its connection was closed too",
        "opening a missing file with create: false -> DatabaseFileError",
        "connections still open: 0"
      ])
      assertOnlyConnectionLogs(run, 2)
      assert.deepStrictEqual(run.events.slice(0, 5), [
        `LOG ${opened}`,
        "SELECT * FROM users -> 1000 rows",
        "(1, Johnnie Mayer, Ross.Reynolds21@hotmail.com, 35)",
        "(2, Myrtle Waters, Edmund_Funk@gmail.com, 99)",
        `LOG ${closed}`
      ])
    }))

  it.effect("02 ExecuteQuery: 804 users over 25, writes refused, typed errors", () =>
    Effect.gen(function*() {
      const run = yield* example("02-execute-query", [
        "SELECT * FROM users WHERE age > ? with [25] -> 804 rows",
        "DELETE FROM users -> ReadOnlyQuery; users left: 1000",
        "SELECT * FROM userz -> QueryError: query failed: no such table: userz",
        "UserRepo.olderThan(25) -> 804 users, the first: Johnnie Mayer",
        "UserRepo.olderThan(200) -> InvalidAge: age must be an integer between 0 and 150, got 200"
      ])
      assertOnlyConnectionLogs(run, 0)
    }))

  it.effect("03 asyncio.gather: 1000 and 707 users fetched at once on 2 reader workers", () =>
    Effect.gen(function*() {
      const run = yield* example("03-async-gather", [
        "fetched at once on 2 reader workers:",
        "async_fetch_users() -> 1000 users",
        "async_fetch_older_users() -> 707 users older than 40",
        "fetchConcurrently(100) -> 1000 users, 171 older than 100",
        "with an invalid age in one query -> InvalidAge: age must be an integer between 0 and 150, got -1"
      ])
      assertOnlyConnectionLogs(run, 0)
    }))

  it.effect("04 stream_users: the first 3 users, 1000 streamed, no cursor left open", () =>
    Effect.gen(function*() {
      const run = yield* example("04-stream-users", [
        "1 Johnnie Mayer <Ross.Reynolds21@hotmail.com> 35",
        "2 Myrtle Waters <Edmund_Funk@gmail.com> 99",
        "3 Flora Rodriguez I <Willie.Bogisich@gmail.com> 84",
        "streamed 1000 users, 301 of them at gmail.com",
        "sql.stream, first row: Johnnie Mayer",
        "cursors still open: 0"
      ])
      assertOnlyConnectionLogs(run, 0)
    }))

  it.effect("05 batches: 804 users over 25, batch by batch", () =>
    Effect.gen(function*() {
      const run = yield* example("05-batches", [
        "batch 1: 71 of 100 users over 25",
        "batch 2: 79 of 100 users over 25",
        "batch 3: 82 of 100 users over 25",
        "... 804 users over 25 in all",
        "batchProcessing(50) -> 20 batches, 804 users over 25",
        "streamUsers() grouped by 300 -> batches of 300, 300, 300, 100",
        "streamUsersInBatches(0) -> InvalidPageSize: batch size must be an integer from 1 to 100000, got 0"
      ])
      assertOnlyConnectionLogs(run, 0)
    }))

  it.effect("06 lazy pagination: 10 pages of 100, and taking 2 pages runs 2 page queries", () =>
    Effect.gen(function*() {
      const run = yield* example("06-lazy-pagination", [
        "page 1: users 1..100, next cursor: 100",
        "page 2: users 101..200, first: Grace Vandervort",
        "lazyPaginate(100) -> 10 pages of 100 users",
        "the first 2 pages: users 1..100; users 101..200"
      ])
      const queries = run.logs.filter((entry) => entry.message.startsWith("SELECT"))
      assert.strictEqual(queries.length, 2)
      for (const query of queries) {
        assert.include(query.message, "WHERE user_id > ? ORDER BY user_id LIMIT ?")
        assert.include(query.annotations, "rows: 100")
        assert.include(query.annotations, "params: [2 hidden]")
      }
      // No open/close lines: at the default level, dbscope logs only what was asked for (the statements).
      assert.strictEqual(run.logs.length, 2)
    }))

  it.effect("07 average age: 62.38 folded over a stream, NoUsers on an empty table", () =>
    Effect.gen(function*() {
      const run = yield* example("07-average-age", [
        "Average age of users: 62.38 (1000 users)",
        "UserStream.averageAge() -> 62.379",
        "averageAge() on an empty table -> NoUsers: there are no users to average"
      ])
      assertOnlyConnectionLogs(run, 0)
    }))

  it.effect("08 log_queries: each statement logged with its rows, values hidden or redacted", () =>
    Effect.gen(function*() {
      const run = yield* example("08-log-queries", [
        "fetch_all_users(query=\"SELECT * FROM users\") -> 1000 rows",
        "olderThan(40) -> 707 users, olderThan(100) -> 171 users",
        "byId(2) -> Myrtle Waters",
        "user with a redacted e-mail -> Myrtle Waters"
      ])
      const statements = run.logs.filter((entry) => !entry.message.startsWith("Database connection"))
      assert.deepStrictEqual(statements.map((entry) => entry.message.trim()), [
        "SELECT * FROM users",
        "SELECT user_id, name, email, age, created_at FROM users WHERE age > ? ORDER BY user_id",
        "SELECT user_id, name, email, age, created_at FROM users WHERE age > ? ORDER BY user_id",
        "SELECT user_id, name, email, age, created_at FROM users WHERE user_id = ?",
        "SELECT name FROM users WHERE email = ?"
      ])
      const annotation = (index: number, name: string) =>
        statements[index]?.annotations.find((line) => line.startsWith(`${name}: `))
      assert.deepStrictEqual([0, 1, 2, 3, 4].map((i) => annotation(i, "rows")), [
        "rows: 1000",
        "rows: 707",
        "rows: 171",
        "rows: 1",
        "rows: 1"
      ])
      assert.deepStrictEqual([1, 2, 3, 4].map((i) => annotation(i, "params")), [
        "params: [1 hidden]",
        "params: [1 hidden]",
        "params: [2]",
        "params: [\"<redacted>\"]"
      ])
      assert.notInclude(run.events.join("\n"), "Edmund_Funk")
    }))

  it.effect("09 with_db_connection: a connection per call, released when the call is interrupted", () =>
    Effect.gen(function*() {
      const run = yield* example("09-with-db-connection", [
        "get_user_by_id(user_id=1) -> Johnnie Mayer",
        "connections open afterwards: 0",
        "while the long job runs: 1 connection open",
        "after interrupting it: 0 connections open"
      ])
      assertOnlyConnectionLogs(run, 2)
    }))

  it.effect("10 transactional: commit, rollback on failure and interruption, nested savepoint", () =>
    Effect.gen(function*() {
      const run = yield* example("10-transactional", [
        "update_user_email(1, ...) committed -> Crawford_Cartwright@hotmail.com",
        "update then a failing update -> DuplicateEmail, rolled back: Crawford_Cartwright@hotmail.com",
        "nested, inner part failed -> users: 1001 (the outer insert only)",
        "interrupted after its insert -> users: 1001 (rolled back)"
      ])
      assertOnlyConnectionLogs(run, 0)
    }))

  it.effect("11 retry_on_failure: one logged retry of a locked database, none for a duplicate e-mail", () =>
    Effect.gen(function*() {
      const run = yield* example("11-retry-on-failure", [
        "update while another connection writes -> updated, 2 attempts",
        "insert a duplicate e-mail -> DuplicateEmail after 1 attempt"
      ])
      const warnings = run.logs.filter((entry) => entry.level === "WARN")
      assert.strictEqual(warnings.length, 1)
      assert.match(warnings[0]?.message ?? "", /^retry 1 of 3 in \d+ ms after: .*locked by another connection/)
      assert.deepStrictEqual(run.logs.filter((entry) => entry.level !== "WARN" && entry.level !== "INFO"), [])
    }))

  it.effect("12 cache_query: cached by SQL and values, dropped by an insert", () =>
    Effect.gen(function*() {
      const run = yield* example("12-cache-query", [
        "first call -> 1000 users (runs the query)",
        "second call -> 1000 users (from the cache)",
        "age > 40 -> 707, age > 100 -> 171",
        "repo.olderThan(100), twice -> 171, 171",
        "after inserting a user aged 101 -> 1001 users",
        "repo.olderThan(100) -> 172",
        "cache: 2 hits, 6 misses, 4 invalidated"
      ])
      assertOnlyConnectionLogs(run, 0)
    }))
})

describe("npm run example (scripts/example.ts)", () => {
  it.effect("runs one example chosen by number or by a part of its name", () =>
    Effect.gen(function*() {
      for (const selector of ["7", "average"]) {
        const run = yield* node("scripts/example.js", [selector])
        assert.strictEqual(run.code, 0, run.stderr)
        assert.include(run.output, "Average age of users: 62.38 (1000 users)")
        assert.notInclude(run.output.join("\n"), "===")
      }
    }))

  it.effect("lists the twelve examples without an argument", () =>
    Effect.gen(function*() {
      const run = yield* node("scripts/example.js")
      assert.strictEqual(run.code, 0, run.stderr)
      assert.strictEqual(run.output.filter((line) => /^ {2}\d{2}-/.test(line)).length, 12)
    }))

  it.effect("exits 2 for a name that matches no example, or several", () =>
    Effect.gen(function*() {
      const none = yield* node("scripts/example.js", ["nosuchexample"])
      assert.strictEqual(none.code, 2)
      assert.include(none.stderr, "no example matches \"nosuchexample\"")
      const several = yield* node("scripts/example.js", ["query"])
      assert.strictEqual(several.code, 2)
      assert.include(several.stderr, "02-execute-query, 12-cache-query")
    }))
})
