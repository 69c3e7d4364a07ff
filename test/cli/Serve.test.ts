/**
 * `dbscope serve` as a user runs it: it prints where it listens, answers there, and a SIGINT ends it;
 * an address beyond this machine without an API token, a token too short, a port out of range or a
 * malformed CORS origin is a usage error before anything opens. The token is never written out; each
 * request's log line carries its id.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import { tempDirectory } from "../../src/testing/TestDatabase.js"
import { cliPath, runCli } from "../support/RunCli.js"

interface Serving {
  readonly url: string
  readonly child: ChildProcess
  readonly exited: Promise<number | null>
  /** What it wrote to stderr so far. */
  readonly stderr: () => string
}

/** Starts `dbscope serve`, and gives its URL once it says where it listens; killed when the scope closes. */
const serving = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  Effect.acquireRelease(
    Effect.async<Serving, Error>((resume) => {
      const child = spawn(process.execPath, [cliPath, ...args], { env: { ...process.env, NO_COLOR: "1", ...env } })
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
      let out = ""
      let err = ""
      child.stdout.on("data", (data: Buffer) => {
        out += data.toString()
        const url = /listening on (http:\/\/\S+) /.exec(out)?.[1]
        if (url !== undefined) resume(Effect.succeed({ url, child, exited, stderr: () => err }))
      })
      child.stderr.on("data", (data: Buffer) => void (err += data.toString()))
      child.once("exit", (code) => resume(Effect.fail(new Error(`serve exited (${code}) before listening: ${out}`))))
      return Effect.sync(() => child.kill("SIGKILL"))
    }),
    (server) => Effect.sync(() => server.child.kill("SIGKILL"))
  )

const json = (url: string) => Effect.promise(() => fetch(url).then((response) => response.json()))

describe("dbscope serve", { timeout: 120_000 }, () => {
  it.scopedLive("listens on 127.0.0.1, answers the API there, and a SIGINT stops it gracefully: exit 0", () =>
    Effect.gen(function*() {
      const db = path.join(yield* tempDirectory, "users.db")
      assert.strictEqual((yield* runCli(["--db", db, "setup"])).code, 0)
      const server = yield* serving(["--db", db, "serve", "--port", "0"])
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/)
      assert.deepStrictEqual(yield* json(`${server.url}/api/health`), { status: "ok", users: 1000 })
      const page = (yield* json(`${server.url}/api/users?limit=3`)) as { users: ReadonlyArray<unknown> }
      assert.strictEqual(page.users.length, 3)
      server.child.kill("SIGINT")
      const code = yield* Effect.promise(() => server.exited).pipe(Effect.timeout("20 seconds"))
      assert.strictEqual(code, 0)
      assert.include(server.stderr(), "dbscope serve: stopping")
    }))

  it.scopedLive("a request still in flight gets --shutdown-timeout, then its connection is closed", () =>
    Effect.gen(function*() {
      const db = path.join(yield* tempDirectory, "users.db")
      assert.strictEqual((yield* runCli(["--db", db, "setup"])).code, 0)
      const server = yield* serving(["--db", db, "serve", "--port", "0", "--shutdown-timeout", "1"])
      // A request whose body never comes: in flight until the server gives up on it.
      const socket = net.connect(Number(new URL(server.url).port), "127.0.0.1")
      const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()))
      socket.on("error", () => undefined)
      socket.write(
        "POST /api/users HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
      )
      yield* Effect.sleep("300 millis")
      const since = performance.now()
      server.child.kill("SIGTERM")
      const code = yield* Effect.promise(() => server.exited).pipe(Effect.timeout("20 seconds"))
      yield* Effect.promise(() => closed).pipe(Effect.timeout("5 seconds"))
      assert.strictEqual(code, 0)
      // It waited for the request (the bound is 1 s), and not much longer.
      assert.isAbove(performance.now() - since, 900)
    }))

  it.scoped("beyond this machine without a token, a short token, bad numbers or origins: a usage error, nothing opened", () =>
    Effect.gen(function*() {
      const db = path.join(yield* tempDirectory, "never.db")
      const cases: ReadonlyArray<readonly [ReadonlyArray<string>, Record<string, string>]> = [
        [["serve", "--host", "0.0.0.0"], {}],
        [["serve", "--host", "0.0.0.0"], { DBSCOPE_API_TOKEN: "" }],
        [["serve", "--port", "70000"], {}],
        [["serve", "--port", "x"], {}],
        [["serve", "--dashboard-cache", "100000"], {}],
        [["serve", "--cors-origin", "app.example.com"], {}],
        [["serve"], { DBSCOPE_API_TOKEN: "short-token" }]
      ]
      for (const [args, env] of cases) {
        const result = yield* runCli(["--db", db, ...args], { env: { NO_COLOR: "1", ...env } })
        const label = `${args.join(" ")} ${JSON.stringify(env)}`
        assert.strictEqual(result.code, 2, label)
        assert.strictEqual(result.stderr.trimEnd().split("\n").length, 1, result.stderr)
        assert.notInclude(result.stderr, "short-token", label)
        assert.isFalse(fs.existsSync(db), label)
      }
    }))

  it.scopedLive("with DBSCOPE_API_TOKEN it serves any address; the token is never written out; requests log their id", () =>
    Effect.gen(function*() {
      const db = path.join(yield* tempDirectory, "users.db")
      assert.strictEqual((yield* runCli(["--db", db, "setup"])).code, 0)
      const token = "token-that-must-not-leak-7f3a9c1e"
      const server = yield* serving(
        ["--log-level", "debug", "--db", db, "serve", "--port", "0", "--host", "0.0.0.0"],
        { DBSCOPE_API_TOKEN: token }
      )
      const port = new URL(server.url).port
      const base = `http://127.0.0.1:${port}`
      const refused = yield* Effect.promise(() => fetch(`${base}/api/users/1`))
      assert.strictEqual(refused.status, 401)
      const answered = yield* Effect.promise(() =>
        fetch(`${base}/api/users/1`, { headers: { authorization: `Bearer ${token}`, "x-request-id": "cli-test-1" } })
      )
      assert.strictEqual(answered.status, 200)
      const wrong = yield* Effect.promise(() =>
        fetch(`${base}/api/users/1`, { headers: { authorization: "Bearer x" } })
      )
      assert.strictEqual(wrong.status, 403)
      server.child.kill("SIGTERM")
      assert.strictEqual(yield* Effect.promise(() => server.exited).pipe(Effect.timeout("20 seconds")), 0)
      const logged = server.stderr()
      // One log entry per request: its id, the route's pattern (not the path), the status.
      const entry = logged.split(/\n(?=\[)/).find((text) => text.includes("request_id: cli-test-1")) ?? ""
      assert.match(entry, /INFO[^\n]*request/)
      assert.match(entry, /route: \/api\/users\/:id/)
      assert.match(entry, /status: 200/)
      assert.notInclude(logged, token)
    }))

  it.scopedLive("under --trace each request is a span carrying its id and route, with its statements as children", () =>
    Effect.gen(function*() {
      const db = path.join(yield* tempDirectory, "users.db")
      assert.strictEqual((yield* runCli(["--db", db, "setup"])).code, 0)
      const server = yield* serving(["--trace", "--db", db, "serve", "--port", "0"])
      const answered = yield* Effect.promise(() =>
        fetch(`${server.url}/api/users/7`, {
          headers: { "x-request-id": "trace-test-1", authorization: "Bearer hidden" }
        })
      )
      assert.strictEqual(answered.status, 200)
      server.child.kill("SIGTERM")
      assert.strictEqual(yield* Effect.promise(() => server.exited).pipe(Effect.timeout("20 seconds")), 0)
      const spans = server.stderr().split("\n").filter((line) => line.startsWith("span "))
      const request = spans.find((line) => line.startsWith("span http.server GET") && line.includes("trace-test-1"))
      assert.isDefined(request, spans.join("\n"))
      assert.include(request, `http.route="/api/users/:id"`)
      assert.include(request, `request.id="trace-test-1"`)
      assert.notInclude(request, "hidden")
      const id = / id=(\w+)/.exec(request ?? "")?.[1]
      const statement = spans.find((line) => line.includes("WHERE user_id = ?"))
      assert.include(statement, `parent=${id}`)
    }))
})
