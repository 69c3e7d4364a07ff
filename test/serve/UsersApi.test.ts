/**
 * The HTTP API on a real server (an ephemeral port) over a fresh database with the sample users, on
 * SQLite (the reader pool) and on MariaDB (reader workers): pages with the keyset cursor, point
 * lookups, writes and their refusals, the streamed export, the cached dashboard dropped by a write,
 * health, metrics, request ids and the OpenAPI document. Errors are JSON `{ error, message }`, never
 * SQL, a stack or a schema's text.
 */
import * as HttpServer from "@effect/platform/HttpServer"
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it, layer } from "@effect/vitest"
import BetterSqlite3 from "better-sqlite3"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Http from "node:http"
import * as SqliteDatabase from "../../src/client/SqliteDatabase.js"
import * as Server from "../../src/serve/Server.js"
import * as TestDatabase from "../../src/testing/TestDatabase.js"
import { Dashboard } from "../../src/users/Dashboard.js"
import { mysqlAvailable, postgresAvailable } from "../support/Backends.js"
import { clusterAvailable, clusterServer } from "../support/Cluster.js"

const onSqlite = Server.layer({ port: 0, host: "127.0.0.1" }).pipe(
  Layer.provide(Dashboard.Default),
  Layer.provideMerge(TestDatabase.layerPooled({ sample: true }))
)
const onMysql = Server.layer({ port: 0, host: "127.0.0.1" }).pipe(
  Layer.provide(Dashboard.Default),
  // Every read goes to a worker (no main-thread shortcut), as the SQLite pool's do.
  Layer.provideMerge(TestDatabase.layerMysql({ sample: true, readers: { size: 2, mainThreadBelow: 0 } }))
)

// Every node of the Galera cluster in the URL: no reader workers (the nodes' pools spread reads).
const onCluster = Server.layer({ port: 0, host: "127.0.0.1" }).pipe(
  Layer.provide(Dashboard.Default),
  Layer.provideMerge(TestDatabase.layerMysql({ sample: true, server: clusterServer }))
)

const onPostgres = Server.layer({ port: 0, host: "127.0.0.1" }).pipe(
  Layer.provide(Dashboard.Default),
  Layer.provideMerge(TestDatabase.layerPostgres({ sample: true }))
)

/** The tests need only the server's address; `cluster` for what `/metrics` shows of the nodes. */
const backends: ReadonlyArray<{
  readonly name: string
  readonly available: boolean
  readonly cluster: boolean
  readonly served: () => Layer.Layer<HttpServer.HttpServer, unknown>
}> = [
  { name: "SQLite, reader pool", available: true, cluster: false, served: () => onSqlite },
  { name: "MariaDB, reader workers", available: mysqlAvailable, cluster: false, served: () => onMysql },
  { name: "a 3-node Galera cluster", available: clusterAvailable, cluster: true, served: () => onCluster },
  { name: "PostgreSQL", available: postgresAvailable, cluster: false, served: () => onPostgres }
]

/** `fetch` against the test server: status and parsed JSON (or text). */
const call = (path: string, init: RequestInit = {}) =>
  Effect.gen(function*() {
    const server = yield* HttpServer.HttpServer
    const address = server.address
    if (address._tag !== "TcpAddress") return yield* Effect.dieMessage("not a TCP server")
    const response = yield* Effect.promise(() => fetch(`http://127.0.0.1:${address.port}${path}`, init))
    const text = yield* Effect.promise(() => response.text())
    const type = response.headers.get("content-type") ?? ""
    return {
      status: response.status,
      headers: response.headers,
      type,
      text,
      json: type.startsWith("application/json") ? JSON.parse(text) : undefined
    }
  })

const post = (path: string, body: unknown, method = "POST") =>
  call(path, { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) })

describe.each(backends)("UsersApi on $name", ({ available, cluster, name, served }) => {
  if (!available) return it.skip("the server does not answer (see the warning above)")
  layer(served(), { timeout: 30_000 })((it) => {
    it.effect("keyset pages walk every user once, in id order; the cursor ends with null", () =>
      Effect.gen(function*() {
        const seen: Array<number> = []
        let after: string | null = "0"
        while (after !== null) {
          const page: { status: number; json: { users: Array<{ user_id: number }>; next: string | null } } =
            yield* call(
              `/api/users?limit=300&after=${after}`
            )
          assert.strictEqual(page.status, 200)
          seen.push(...page.json.users.map((user) => user.user_id))
          after = page.json.next
        }
        assert.strictEqual(seen.length, 1000)
        assert.deepStrictEqual(seen, [...seen].sort((a, b) => a - b))
        const older = yield* call("/api/users?olderThan=40&limit=1000")
        assert.isTrue(older.json.users.every((user: { age: number }) => user.age > 40))
      }))

    it.effect("bad parameters are 400s with a JSON message, and nothing of the SQL", () =>
      Effect.gen(function*() {
        for (const query of ["olderThan=151", "olderThan=-1", "limit=0", "limit=1001", "after=abc", "olderThan=4e1"]) {
          const answer = yield* call(`/api/users?${query}`)
          assert.strictEqual(answer.status, 400, query)
          assert.strictEqual(answer.json.error, "bad_request", query)
          assert.notMatch(answer.json.message, /SELECT|sqlite/i, query)
        }
      }))

    it.effect("a body over 64 KB is refused with 413 before it is read; nothing is written", () =>
      Effect.gen(function*() {
        const big = { name: "Big Example", email: "big@example.com", age: 30, padding: "x".repeat(70_000) }
        const refused = yield* post("/api/users", big)
        assert.deepStrictEqual([refused.status, refused.json.error], [413, "payload_too_large"])
        const after = yield* call("/api/users?limit=1000&after=1000")
        assert.isFalse(after.json.users.some((user: { email: string }) => user.email === "big@example.com"))
      }))

    it.effect("one user by id; 404 when absent", () =>
      Effect.gen(function*() {
        const one = yield* call("/api/users/5")
        assert.deepStrictEqual([one.status, one.json.user_id], [200, 5])
        const none = yield* call("/api/users/999999")
        assert.deepStrictEqual([none.status, none.json.error], [404, "not_found"])
      }))

    it.effect("create: 201 with the stored user; 409 on a taken e-mail; 400 on a user the schema refuses", () =>
      Effect.gen(function*() {
        const created = yield* post("/api/users", { name: "Web Example", email: "web@example.com", age: 33 })
        assert.strictEqual(created.status, 201)
        assert.strictEqual(created.json.email, "web@example.com")
        const again = yield* post("/api/users", { name: "Web Again", email: "web@example.com", age: 34 })
        assert.deepStrictEqual([again.status, again.json.error], [409, "conflict"])
        const bad = yield* post("/api/users", { name: "Bad Example", email: "not-an-email", age: 20 })
        assert.deepStrictEqual([bad.status, bad.json.error], [400, "bad_request"])
        assert.match(bad.json.message, /email/)
        const changed = yield* post(`/api/users/${created.json.user_id}/email`, { email: "web2@example.com" }, "PATCH")
        assert.deepStrictEqual([changed.status, changed.json.email], [200, "web2@example.com"])
        const missing = yield* post("/api/users/999999/email", { email: "x@example.com" }, "PATCH")
        assert.strictEqual(missing.status, 404)
      }))

    it.effect("the export streams every matching user as JSON Lines", () =>
      Effect.gen(function*() {
        const all = yield* call("/api/users/export.ndjson?olderThan=40")
        assert.strictEqual(all.status, 200)
        assert.include(all.type, "application/x-ndjson")
        const users = all.text.trim().split("\n").map((line) => {
          try {
            return JSON.parse(line)
          } catch {
            throw new Error(`not one JSON object: ${line.slice(0, 300)}`)
          }
        })
        const count = yield* call("/api/users?olderThan=40&limit=1000")
        assert.deepStrictEqual(users.map((u) => u.user_id), count.json.users.map((u: { user_id: number }) => u.user_id))
        assert.strictEqual((yield* call("/api/users/export.ndjson?olderThan=200")).status, 400)
      }))

    it.effect("the dashboard is cached, and a write through the API drops it", () =>
      Effect.gen(function*() {
        const before = yield* call("/api/dashboard")
        assert.strictEqual(before.status, 200)
        const users = before.json.summary.users
        yield* post("/api/users", { name: "Count Example", email: "count@example.com", age: 99 })
        const after = yield* call("/api/dashboard")
        assert.strictEqual(after.json.summary.users, users + 1)
        const health = yield* call("/api/health")
        assert.deepStrictEqual(health.json, { status: "ok", users: users + 1 })
      }))

    it.effect("the OpenAPI document and the docs page are served", () =>
      Effect.gen(function*() {
        const document = yield* call("/api/openapi.json")
        assert.strictEqual(document.status, 200)
        assert.property(document.json.paths, "/api/users/{id}")
        const docs = yield* call("/api/docs")
        assert.strictEqual(docs.status, 200)
        // Scalar is inlined: nothing is loaded from elsewhere.
        assert.notMatch(docs.text, /<(script|link)[^>]+(src|href)="https?:/)
      }))

    it.effect("bodies and path parameters the API cannot read are 400 bad_request naming the field, nothing written", () =>
      Effect.gen(function*() {
        const before = (yield* call("/api/health")).json.users
        const cases: ReadonlyArray<readonly [string, RequestInit, RegExp]> = [
          ["/api/users/abc", {}, /^id: /],
          [
            "/api/users",
            { method: "POST", headers: { "content-type": "application/json" }, body: "{not json" },
            /JSON/
          ],
          ["/api/users", {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ name: "Typed Wrong", email: 7, age: 30 })
          }, /^email: /],
          ["/api/users", {
            method: "POST",
            headers: { "content-type": "text/plain" },
            body: JSON.stringify({ name: "Plain Text", email: "plain@example.com", age: 30 })
          }, /application\/json/],
          ["/api/users/1/email", {
            method: "PATCH",
            headers: { "content-type": "application/json" },
            body: "[]"
          }, /JSON object/]
        ]
        for (const [path, init, message] of cases) {
          const answer = yield* call(path, init)
          assert.deepStrictEqual([answer.status, answer.json?.error], [400, "bad_request"], path)
          assert.match(answer.json.message, message, path)
          assert.notMatch(answer.json.message, /readonly|└|SELECT/, path)
        }
        assert.strictEqual((yield* call("/api/health")).json.users, before)
      }))

    it.effect("a path no route serves is a 404 in the API's JSON shape", () =>
      Effect.gen(function*() {
        for (const path of ["/api/nothing", "/nothing/here", "/api/users/1/unknown"]) {
          const answer = yield* call(path)
          assert.deepStrictEqual([answer.status, answer.json?.error], [404, "not_found"], path)
        }
      }))

    it.effect("every answer carries a request id: the caller's when sane, a new one otherwise", () =>
      Effect.gen(function*() {
        const given = yield* call("/api/users/1", { headers: { "x-request-id": "trace-42.a_b" } })
        assert.strictEqual(given.headers.get("x-request-id"), "trace-42.a_b")
        const forged = yield* call("/api/users/1", { headers: { "x-request-id": "not sane!" } })
        assert.match(forged.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/)
        const refused = yield* call("/api/users?limit=0")
        assert.match(refused.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/)
        const two = yield* Effect.all([call("/api/health"), call("/api/health")], { concurrency: 2 })
        assert.notStrictEqual(two[0].headers.get("x-request-id"), two[1].headers.get("x-request-id"))
      }))

    it.effect("no CORS headers unless origins were allowed", () =>
      Effect.gen(function*() {
        const answer = yield* call("/api/users/1", { headers: { origin: "https://elsewhere.example" } })
        assert.strictEqual(answer.status, 200)
        assert.isNull(answer.headers.get("access-control-allow-origin"))
        const preflight = yield* call("/api/users", {
          method: "OPTIONS",
          headers: { origin: "https://elsewhere.example", "access-control-request-method": "POST" }
        })
        assert.isNull(preflight.headers.get("access-control-allow-origin"))
      }))

    it.effect("/metrics counts requests by route pattern and status, and shows the cache and the pool", () =>
      Effect.gen(function*() {
        const series = (text: string, name: string, labels: string) => {
          const line = text.split("\n").find((l) => l.startsWith(`${name}{${labels}} `))
          return line === undefined ? 0 : Number(line.split(" ").at(-1))
        }
        const byId = `method="GET",route="/api/users/:id",status="200"`
        const before = (yield* call("/metrics")).text
        yield* call("/api/users/3")
        yield* call("/api/users/4")
        yield* call("/api/users/999999")
        yield* call("/api/dashboard")
        yield* call("/api/dashboard")
        const metrics = yield* call("/metrics")
        assert.strictEqual(metrics.status, 200)
        assert.match(metrics.type, /^text\/plain; version=0\.0\.4/)
        const after = metrics.text
        assert.strictEqual(
          series(after, "dbscope_http_requests_total", byId) - series(before, "dbscope_http_requests_total", byId),
          2
        )
        const missing = `method="GET",route="/api/users/:id",status="404"`
        assert.isAtLeast(series(after, "dbscope_http_requests_total", missing), 1)
        // One series per route, however many ids were asked for.
        assert.notMatch(after, /route="\/api\/users\/\d+"/)
        assert.match(
          after,
          /^dbscope_http_request_duration_seconds_bucket\{route="\/api\/users\/:id",le="\+Inf"\} \d+$/m
        )
        assert.match(after, /^# TYPE dbscope_cache_hits_total counter$/m)
        assert.isAtLeast(Number(/^dbscope_cache_hits_total (\d+)$/m.exec(after)?.[1]), 1)
        if (cluster) {
          // Metrics are the process's: another server of this file may have shown its own node too.
          const nodes = clusterServer.replace(/^mysql:\/\/[^@]*@/, "").split(",")
          for (const node of nodes) {
            assert.match(after, new RegExp(`^dbscope_database_node_in_service\\{node="${node}"\\} 1$`, "m"))
          }
          const writers = nodes.filter((node) => after.includes(`dbscope_database_node_writer{node="${node}"} 1\n`))
          assert.deepStrictEqual(writers, [nodes[0]])
        } else if (name !== "PostgreSQL") {
          assert.match(after, /^dbscope_reader_pool_workers\{state="idle"\} \d+$/m)
        }
      }))
  })
})

/** A server whose database gives up on a lock after 50 ms, to see what a client gets then. */
const impatient = Server.layer({ port: 0, host: "127.0.0.1" }).pipe(
  Layer.provide(Dashboard.Default),
  Layer.provideMerge(TestDatabase.layerPooled({ sample: true, connection: { busyTimeout: Duration.millis(50) } }))
)

describe("UsersApi when the database stays busy", () => {
  // Live clock: the retries' backoff must really elapse (a test clock would hold them forever).
  it.scopedLive(
    "a write that cannot get the lock is a 503 unavailable once retries are spent; nothing is written",
    () =>
      Effect.gen(function*() {
        const { filename } = yield* SqliteDatabase.SqliteDatabase
        // Another process's writer, as far as SQLite can tell: its own connection holding the write lock.
        const other = yield* Effect.acquireRelease(
          Effect.sync(() => new BetterSqlite3(filename)),
          (db) => Effect.sync(() => db.close())
        )
        other.exec("BEGIN IMMEDIATE")
        const refused = yield* post("/api/users", { name: "Locked Out", email: "locked@example.com", age: 40 })
        assert.deepStrictEqual([refused.status, refused.json.error], [503, "unavailable"])
        assert.match(refused.json.message, /try again/)
        assert.strictEqual(refused.headers.get("retry-after"), "1")
        assert.notMatch(refused.json.message, /SQLITE|INSERT|\.db/)
        // Reads are not held up by a writer: they run on the readers, on the last committed state.
        const read = yield* call("/api/users/1")
        assert.strictEqual(read.status, 200)
        other.exec("ROLLBACK")
        const page = yield* call("/api/users?after=1000")
        assert.deepStrictEqual(page.json.users, [])
        const retried = yield* post("/api/users", { name: "Locked Out", email: "locked@example.com", age: 40 })
        assert.strictEqual(retried.status, 201)
      }).pipe(Effect.provide(impatient)),
    30_000
  )
})

/** Waits `ms` on the real clock (the tests' clock is a test clock). */
const pause = (ms: number) => Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, ms)))

const large = Server.layer({ port: 0, host: "127.0.0.1" }).pipe(
  Layer.provide(Dashboard.Default),
  Layer.provideMerge(TestDatabase.layerPooled({}))
)

describe("UsersApi export to a client that leaves", () => {
  layer(large, { timeout: 60_000 })((it) => {
    it.effect("the export stops when its client disconnects: counted as 499, no reader left busy", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        // 100,000 users: ~10 MB of JSON Lines, far more than the sockets' buffers hold.
        yield* sql`WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 100000)
          INSERT INTO users (name, email, age) SELECT 'Export User', 'export' || x || '@example.com', x % 100 FROM n`
        const server = yield* HttpServer.HttpServer
        const port = server.address._tag === "TcpAddress" ? server.address.port : 0
        const received = yield* Effect.async<number>((resume) => {
          const request = Http.get({ host: "127.0.0.1", port, path: "/api/users/export.ndjson" }, (response) => {
            // A reader that leaves as soon as the first lines arrive (the sockets' buffers would hold
            // megabytes of a client that only stops reading).
            response.once("data", (chunk: Buffer) => {
              request.destroy()
              resume(Effect.succeed(chunk.length))
            })
          })
          request.on("error", () => undefined)
        })
        assert.isAbove(received, 0)
        const aborted = `route="/api/users/export.ndjson",status="499"`
        let metrics = ""
        for (let i = 0; i < 100 && !metrics.includes(aborted); i++) {
          yield* pause(50)
          metrics = (yield* call("/metrics")).text
        }
        assert.include(metrics, aborted)
        assert.match(metrics, /^dbscope_reader_pool_workers\{state="busy"\} 0$/m)
        // The server goes on answering, with every reader free.
        assert.strictEqual((yield* call("/api/users/1")).status, 200)
      }))
  })
})
