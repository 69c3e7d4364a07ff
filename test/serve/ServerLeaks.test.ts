/**
 * Nothing the server opens outlives it: after a burst of concurrent requests (lookups, pages, the
 * dashboard, refused writes, bad input, exports whose clients leave midway) and a stop while
 * requests are still in flight, every connection, reader worker, cursor and transaction counted by
 * `OpenResources` is closed again, on SQLite and on MariaDB.
 */
import * as HttpServer from "@effect/platform/HttpServer"
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Http from "node:http"
import * as OpenResources from "../../src/OpenResources.js"
import * as Server from "../../src/serve/Server.js"
import * as TestDatabase from "../../src/testing/TestDatabase.js"
import { Dashboard } from "../../src/users/Dashboard.js"
import { mysqlAvailable } from "../support/Backends.js"

const options = { port: 0, host: "127.0.0.1", shutdownTimeout: Duration.millis(200) }
const onSqlite = () =>
  Server.layer(options).pipe(Layer.provide(Dashboard.Default), Layer.provideMerge(TestDatabase.layerPooled({})))
const onMysql = () =>
  Server.layer(options).pipe(
    Layer.provide(Dashboard.Default),
    Layer.provideMerge(TestDatabase.layerMysql({ readers: { size: 2, mainThreadBelow: 0 } }))
  )

/** A GET whose client hangs up at the first bytes of the answer. */
const leaveEarly = (port: number, path: string) =>
  Effect.async<void>((resume) => {
    const request = Http.get({ host: "127.0.0.1", port, path }, (response) =>
      response.once("data", () => {
        request.destroy()
        resume(Effect.void)
      }))
    request.on("error", () => resume(Effect.void))
  })

const send = (port: number, path: string, init: RequestInit = {}) =>
  Effect.promise(() => fetch(`http://127.0.0.1:${port}${path}`, init).then((response) => response.arrayBuffer()))

const post = (body: unknown) => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body)
})

/** The burst, against a server on `port`. */
const burst = (port: number) =>
  Effect.all([
    Effect.forEach(Array.from({ length: 60 }, (_, i) => i + 1), (id) => send(port, `/api/users/${id}`), {
      concurrency: 20
    }),
    Effect.forEach([0, 100, 200, 300], (after) => send(port, `/api/users?after=${after}&limit=100`), {
      concurrency: "unbounded"
    }),
    Effect.forEach([1, 2, 3], () => send(port, "/api/dashboard"), { concurrency: "unbounded" }),
    send(port, "/api/users", post({ name: "Dup Example", email: "dup@example.com", age: 30 })).pipe(
      Effect.zipRight(send(port, "/api/users", post({ name: "Dup Again", email: "dup@example.com", age: 31 })))
    ),
    send(port, "/api/users", post({ name: "", email: "bad", age: 999 })),
    send(port, "/api/users", { method: "POST", headers: { "content-type": "application/json" }, body: "{" }),
    Effect.forEach([1, 2, 3], () => leaveEarly(port, "/api/users/export.ndjson"), { concurrency: "unbounded" })
  ], { concurrency: "unbounded", discard: true })

const backends: ReadonlyArray<{
  readonly name: string
  readonly available: boolean
  readonly served: () => Layer.Layer<HttpServer.HttpServer | SqlClient.SqlClient, unknown>
}> = [
  { name: "SQLite, reader pool", available: true, served: onSqlite },
  { name: "MariaDB, reader workers", available: mysqlAvailable, served: onMysql }
]

describe.each(backends)("dbscope serve on $name leaks nothing", ({ available, served }) => {
  if (!available) return it.skip("the server does not answer (see the warning above)")
  it.scopedLive(
    "every resource opened is closed once the server stops",
    () =>
      Effect.gen(function*() {
        const before = yield* OpenResources.snapshot
        yield* Effect.scoped(Effect.gen(function*() {
          const context = yield* Layer.build(served())
          const sql = yield* Effect.provide(SqlClient.SqlClient, context)
          // 10,000 users more: an export is far from over when its client leaves. (CONCAT: both dialects.)
          const digit = sql.unsafe(
            "(SELECT 0 d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 " +
              "UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)"
          )
          yield* sql`INSERT INTO users (name, email, age)
          SELECT 'Leak User', CONCAT('leak', n, '@example.com'), n % 100 FROM (
            SELECT a.d + 10 * b.d + 100 * c.d + 1000 * e.d AS n
            FROM ${digit} a, ${digit} b, ${digit} c, ${digit} e
          ) numbers`
          const server = yield* Effect.provide(HttpServer.HttpServer, context)
          const port = server.address._tag === "TcpAddress" ? server.address.port : 0
          const during = yield* OpenResources.snapshot
          assert.isAbove(during.readerWorker + during.connection + during.mysqlPool, 0, "the server holds resources")
          yield* burst(port)
          // Stopped with requests still running: they are cut off after the shutdown timeout.
          yield* Effect.forkDaemon(burst(port).pipe(Effect.ignore))
          yield* Effect.sleep("20 millis")
        }))
        assert.deepStrictEqual(yield* OpenResources.snapshot, before)
      }),
    120_000
  )
})
