import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as Tracer from "effect/Tracer"
import * as StatementObserver from "../../src/client/core/StatementObserver.js"
import { logQueries } from "../../src/combinators/LogQueries.js"
import * as TestDatabase from "../../src/testing/TestDatabase.js"
import { UserRepo } from "../../src/users/UserRepo.js"

interface Line {
  readonly message: string
  readonly annotations: Readonly<Record<string, unknown>>
}

/** Collects log lines (it.effect turns the default logger off). */
const collect = () => {
  const lines: Array<Line> = []
  const logger = Logger.make(({ annotations, message }) => {
    const text = String(Array.isArray(message) ? message[0] : message)
    lines.push({ message: text, annotations: Object.fromEntries(HashMap.toEntries(annotations)) })
  })
  return { lines, layer: Logger.add(logger) }
}

const secret = "s3cret-token@example.com"

describe("logQueries", () => {
  it.scoped("logs each statement's SQL with its duration and row count", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const log = collect()
      yield* sql`SELECT name FROM users WHERE age > ${40} LIMIT 3`.pipe(logQueries(), Effect.provide(log.layer))
      const line = log.lines.find((entry) => entry.message.startsWith("SELECT name FROM users"))
      assert.isDefined(line)
      assert.strictEqual(line?.message, "SELECT name FROM users WHERE age > ? LIMIT 3")
      assert.strictEqual(line?.annotations.rows, 3)
      assert.isNumber(line?.annotations.durationMs)
      assert.strictEqual(line?.annotations.params, "[1 hidden]")
    }).pipe(Effect.provide(TestDatabase.layer({ sample: true }))))

  it.scoped("never shows a secret parameter, not even with showParams", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const log = collect()
      const lookup = sql`SELECT user_id FROM users WHERE email = ${Redacted.make(secret)} AND age > ${18}`
      yield* lookup.pipe(logQueries(), Effect.provide(log.layer))
      yield* lookup.pipe(logQueries({ showParams: true }), Effect.provide(log.layer))
      const text = JSON.stringify(log.lines)
      assert.include(text, "SELECT user_id FROM users WHERE email = ?")
      assert.notInclude(text, secret)
      assert.include(text, "[\\\"<redacted>\\\",18]", "other values show when asked")
    }).pipe(Effect.provide(TestDatabase.layer({ sample: true }))))

  it.scoped("binds a secret parameter as its value", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const repo = yield* UserRepo
      yield* repo.insert({ name: "Secret Agent", email: secret, age: 40 })
      const rows = yield* sql<{ readonly n: number }>`SELECT count(*) AS n FROM users WHERE email = ${
        Redacted.make(secret)
      }`
      assert.strictEqual(rows[0]?.n, 1)
    }).pipe(Effect.provide(TestDatabase.layer())))

  it.scoped("logs prepared lookups, writes (with rows changed) and transaction control", () =>
    Effect.gen(function*() {
      const repo = yield* UserRepo
      const log = collect()
      yield* Effect.zipRight(repo.byId(1), repo.updateEmail(1, "renamed@example.com")).pipe(
        logQueries(),
        Effect.provide(log.layer)
      )
      const messages = log.lines.map((line) => line.message)
      assert.include(messages, "SELECT user_id, name, email, age, created_at FROM users WHERE user_id = ?")
      assert.include(messages, "BEGIN IMMEDIATE")
      assert.include(messages, "COMMIT")
      const update = log.lines.find((line) => line.message.startsWith("UPDATE users SET email"))
      assert.strictEqual(update?.annotations.rows, 1)
      assert.notInclude(JSON.stringify(log.lines), "renamed@example.com")
    }).pipe(Effect.provide(TestDatabase.layer({ sample: true }))))

  it.scoped("logs a failed statement once, with why it failed", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const log = collect()
      yield* Effect.flip(sql`SELECT nope FROM users`.pipe(logQueries(), Effect.provide(log.layer)))
      assert.strictEqual(log.lines.length, 1)
      assert.strictEqual(log.lines[0]?.annotations.failed, "Failed to execute statement")
    }).pipe(Effect.provide(TestDatabase.layer())))

  it.scoped("logs statements run on the reader pool once each, in every fiber the effect starts", () =>
    Effect.gen(function*() {
      const repo = yield* UserRepo
      const log = collect()
      yield* Effect.all([repo.olderThan(40), repo.olderThan(60), repo.count], { concurrency: "unbounded" }).pipe(
        logQueries(),
        Effect.provide(log.layer)
      )
      const selects = log.lines.filter((line) => line.message.startsWith("SELECT"))
      assert.strictEqual(selects.length, 3)
    }).pipe(Effect.provide(TestDatabase.layerPooled({ sample: true }))))

  it.scoped("logs a streamed statement once, when the stream ends, with the rows it gave", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const log = collect()
      const count = yield* sql`SELECT user_id FROM users WHERE age > ${25}`.stream.pipe(
        Stream.runCount,
        logQueries(),
        Effect.provide(log.layer)
      )
      assert.strictEqual(count, 804)
      assert.strictEqual(log.lines.length, 1)
      assert.strictEqual(log.lines[0]?.annotations.rows, 804)
    }).pipe(Effect.provide(TestDatabase.layer({ sample: true }))))

  it.scoped("logs nothing outside the wrapped effect", () =>
    Effect.gen(function*() {
      const repo = yield* UserRepo
      const log = collect()
      yield* Effect.zipRight(repo.byId(1), repo.count).pipe(Effect.provide(log.layer))
      assert.strictEqual(log.lines.length, 0)
    }).pipe(Effect.provide(TestDatabase.layer({ sample: true }))))

  it.scoped("under tracing each prepared statement gets a span with its SQL and row count; logQueries alone none", () =>
    Effect.gen(function*() {
      const repo = yield* UserRepo
      const spans: Array<Tracer.Span> = []
      const base = yield* Effect.tracer
      const tracer = Tracer.make({
        span: (...args) => {
          const span = base.span(...args)
          spans.push(span)
          return span
        },
        context: base.context
      })
      // A span nobody exports costs as much as the lookup: logQueries alone opens none.
      yield* repo.byId(2).pipe(logQueries(), Effect.withTracer(tracer))
      assert.isUndefined(spans.find((span) => span.name === "dbscope.statement"))
      yield* StatementObserver.locally(repo.byId(2), { tracing: true }).pipe(Effect.withTracer(tracer))
      const statement = spans.find((span) => span.name === "dbscope.statement")
      assert.isDefined(statement)
      assert.strictEqual(
        statement?.attributes.get("db.query.text"),
        "SELECT user_id, name, email, age, created_at FROM users WHERE user_id = ?"
      )
      assert.strictEqual(statement?.attributes.get("db.response.returned_rows"), 1)
      assert.strictEqual(statement?.status._tag, "Ended")
      assert.isTrue(Option.isNone(Option.fromNullable(statement?.attributes.get("params"))))
    }).pipe(Effect.provide(TestDatabase.layer({ sample: true }))))
})
