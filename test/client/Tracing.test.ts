/**
 * Tracing through OpenTelemetry: with the layer on, every statement is a span carrying the
 * database, the SQL and the row count, never a bound value; spans reach the console or a real
 * OTLP/HTTP endpoint (a local server that records what it is sent).
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as path from "node:path"
import * as Tracing from "../../src/client/Tracing.js"
import * as TestDatabase from "../../src/testing/TestDatabase.js"
import { UserRepo } from "../../src/users/UserRepo.js"
import { runCli } from "../support/RunCli.js"

const marker = "tracing-marker-7f3a@example.com"

/** Runs the CLI (asynchronously: the test's collector must answer meanwhile). */
const cli = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  runCli(args, { env: { ...env, NO_COLOR: "1" } })

/** A local OTLP/HTTP collector that records the bodies posted to /v1/traces. */
const collector = Effect.gen(function*() {
  const bodies: Array<string> = []
  const server = yield* Effect.acquireRelease(
    Effect.async<http.Server>((resume) => {
      const created = http.createServer((request, response) => {
        let body = ""
        request.on("data", (chunk: Buffer) => (body += chunk.toString()))
        request.on("end", () => {
          if (request.url === "/v1/traces") bodies.push(body)
          response.writeHead(200, { "content-type": "application/json" }).end("{}")
        })
      })
      created.listen(0, "127.0.0.1", () => resume(Effect.succeed(created)))
    }),
    (server) => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
  )
  const { port } = server.address() as AddressInfo
  return { bodies, base: `http://127.0.0.1:${port}` }
})

/** Reads by every path a statement can take, and a write whose values must not show. */
const workload = Effect.gen(function*() {
  const repo = yield* UserRepo
  const sql = yield* SqlClient.SqlClient
  const older = yield* repo.olderThan(40)
  const one = yield* repo.byId(1)
  const streamed = yield* sql`SELECT user_id FROM users WHERE age > ${100}`.stream.pipe(Stream.runCount)
  yield* repo.insert({ name: "Traced", email: marker, age: 77 })
  return { older: older.length, found: Option.isSome(one), streamed }
}).pipe(Effect.withSpan("workload"))

/** Runs the workload on a fresh sample database, traced to `destination` (flushed on release). */
const traced = (destination: Tracing.Destination) =>
  Effect.scoped(
    Layer.build(Tracing.layer(destination)).pipe(
      Effect.flatMap((context) => Effect.provide(workload, context))
    )
  ).pipe(Effect.provide(TestDatabase.layer({ sample: true })))

describe("Tracing", () => {
  it.live("console: one line per statement with db.system, db.statement and the row count, no values", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const result = yield* traced({ _tag: "Console", write: (line) => void lines.push(line) })
      assert.deepStrictEqual(result, { older: 707, found: true, streamed: 171 })
      const statements = lines.filter((line) => line.includes("db.statement="))
      const olderLine = statements.find((line) => line.includes("WHERE age > ? ORDER BY user_id"))
      assert.isDefined(olderLine, lines.join("\n"))
      assert.include(olderLine, "db.system=\"sqlite\"")
      assert.include(olderLine, "db.response.returned_rows=707")
      const byIdLine = statements.find((line) => line.includes("WHERE user_id = ?"))
      assert.include(byIdLine, "db.response.returned_rows=1", "the prepared fast path is traced too")
      const streamLine = statements.find((line) => line.includes("SELECT user_id FROM users WHERE age > ?"))
      assert.include(streamLine, "db.response.returned_rows=171", "a stream counts its rows when it ends")
      assert.isTrue(statements.some((line) => line.startsWith("span ") && line.includes("INSERT INTO users")))
      assert.isTrue(lines.some((line) => line.startsWith("span workload ")), "the caller's span is exported too")
      const workloadId = lines.find((line) => line.startsWith("span workload "))?.match(/ id=(\w+)/)?.[1]
      assert.isTrue(statements.some((line) => line.includes(`parent=${workloadId}`)), "statements nest under it")
      const text = lines.join("\n")
      for (const value of [marker, "Traced"]) assert.notInclude(text, value, "bound values never reach a span")
    }))

  it.live("OTLP: the spans reach a collector over HTTP, with the same attributes", () =>
    Effect.gen(function*() {
      const { base, bodies } = yield* collector
      yield* traced({ _tag: "Otlp", url: `${base}/v1/traces` })
      const text = bodies.join("\n")
      assert.isAbove(bodies.length, 0, "the collector was called")
      assert.include(text, "db.statement")
      assert.include(text, "\"sqlite\"")
      assert.include(text, "WHERE age > ? ORDER BY user_id")
      assert.include(text, "db.response.returned_rows")
      assert.include(text, "dbscope", "the service name")
      assert.notInclude(text, marker)
    }).pipe(Effect.scoped))

  it.scopedLive("dbscope --trace: spans on stderr (stdout unchanged), or to the configured collector", () =>
    Effect.gen(function*() {
      const dir = yield* TestDatabase.tempDirectory
      const db = path.join(dir, "traced.db")
      assert.strictEqual((yield* cli(["--db", db, "setup"])).code, 0)
      const plain = yield* cli(["--db", db, "users", "--older-than", "100", "--json"])
      const traced = yield* cli(["--db", db, "--trace", "users", "--older-than", "100", "--json"])
      assert.strictEqual(traced.code, 0, traced.stderr)
      assert.strictEqual(traced.stdout, plain.stdout, "the data is the same, and alone on stdout")
      const spans = traced.stderr.split("\n").filter((line) => line.startsWith("span "))
      const statement = spans.find((line) => line.includes("WHERE age > ?"))
      assert.include(statement, "db.system=\"sqlite\"")
      assert.include(statement, "db.response.returned_rows=171")

      const refused = yield* cli(["--url", "mysql://root:trace-pw-5@127.0.0.1:1/test", "--trace", "count"])
      assert.strictEqual(refused.code, 1)
      assert.notInclude(refused.stderr, "trace-pw-5", "no password in a span or the error")

      const { base, bodies } = yield* collector
      const exported = yield* cli(["--db", db, "--trace", "count"], { OTEL_EXPORTER_OTLP_ENDPOINT: base })
      assert.strictEqual(exported.code, 0, exported.stderr)
      assert.strictEqual(exported.stderr, "", "nothing on stderr: the spans went to the collector")
      assert.include(bodies.join("\n"), "SELECT COUNT(*)")
    }))

  it.effect("the OTLP endpoint comes from the standard variables", () =>
    Effect.gen(function*() {
      const fromEnv = (env: Record<string, string>) =>
        Tracing.destinationFromConfig.pipe(
          Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
        )
      assert.deepStrictEqual(yield* fromEnv({}), { _tag: "Console" })
      assert.deepStrictEqual(yield* fromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" }), {
        _tag: "Otlp",
        url: "http://collector:4318/v1/traces"
      })
      assert.deepStrictEqual(
        yield* fromEnv({
          OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://traces:9999/custom"
        }),
        { _tag: "Otlp", url: "http://traces:9999/custom" }
      )
    }))
})
