/**
 * The HTTP API on a real server (an ephemeral port) over a fresh SQLite database with the sample
 * users: pages with the keyset cursor, point lookups, writes and their refusals, the streamed
 * export, the cached dashboard dropped by a write, health, and the OpenAPI document. Errors are
 * JSON `{ error, message }`, never SQL.
 */
import * as HttpServer from "@effect/platform/HttpServer"
import { assert, describe, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Server from "../../src/serve/Server.js"
import * as TestDatabase from "../../src/testing/TestDatabase.js"
import { Dashboard } from "../../src/users/Dashboard.js"

const served = Server.layer({ port: 0, host: "127.0.0.1" }).pipe(
  Layer.provide(Dashboard.Default),
  Layer.provideMerge(TestDatabase.layerPooled({ sample: true, readers: { size: 2 } }))
)

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
      type,
      text,
      json: type.startsWith("application/json") ? JSON.parse(text) : undefined
    }
  })

const post = (path: string, body: unknown, method = "POST") =>
  call(path, { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) })

describe("UsersApi", () => {
  layer(served, { timeout: 30_000 })((it) => {
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
  })
})
