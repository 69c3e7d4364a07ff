/**
 * Who gets in: the rules as a function (every refusal and what passes), then on a real server with
 * an API token — 401 without it, 403 with a wrong one, reads public only when asked, writes always
 * needing it, the page public, CORS only for the origins allowed, and writes from another site's page
 * refused even with the token. Without a token, only loopback host names are answered.
 */
import * as HttpServer from "@effect/platform/HttpServer"
import { assert, describe, it, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Http from "node:http"
import { type AccessPolicy, isLoopback, isOrigin, judge, tokenMatches } from "../../src/serve/AccessRules.js"
import * as Server from "../../src/serve/Server.js"
import * as TestDatabase from "../../src/testing/TestDatabase.js"
import { Dashboard } from "../../src/users/Dashboard.js"

const secret = "s3cret-token-for-tests-0123456789"
const token = Option.some(Redacted.make(secret))
const appOrigin = "https://app.example.com"

const open: AccessPolicy = { token: Option.none(), publicReads: false, corsOrigins: [] }
const guarded: AccessPolicy = { token, publicReads: false, corsOrigins: [appOrigin] }
const local = { host: "127.0.0.1:8080" }

describe("AccessRules.judge", () => {
  it("without a token: loopback host names only, and no writes from another site's page", () => {
    assert.strictEqual(judge(open, { method: "GET", path: "/api/users", headers: local })._tag, "Allowed")
    for (const host of ["localhost:80", "[::1]:8080", "127.0.0.5"]) {
      assert.strictEqual(judge(open, { method: "GET", path: "/api/users", headers: { host } })._tag, "Allowed", host)
    }
    for (const host of ["evil.example:8080", "192.168.1.2", "127.0.0.1.evil.example", undefined]) {
      const verdict = judge(open, { method: "GET", path: "/", headers: { host } })
      assert.deepInclude(verdict, { _tag: "Refused", status: 403 }, String(host))
    }
    const crossSite = judge(open, {
      method: "POST",
      path: "/api/users",
      headers: { ...local, origin: "https://evil.example" }
    })
    assert.deepInclude(crossSite, { status: 403, error: "forbidden" })
    const fetchMetadata = judge(open, {
      method: "PATCH",
      path: "/api/users/1/email",
      headers: { ...local, "sec-fetch-site": "cross-site" }
    })
    assert.deepInclude(fetchMetadata, { status: 403 })
    const sameOrigin = judge(open, {
      method: "POST",
      path: "/api/users",
      headers: { ...local, origin: "http://127.0.0.1:8080" }
    })
    assert.strictEqual(sameOrigin._tag, "Allowed")
    // A cross-site read is harmless to allow: without CORS headers the page cannot read the answer.
    assert.strictEqual(
      judge(open, { method: "GET", path: "/api/users", headers: { ...local, origin: "https://evil.example" } })._tag,
      "Allowed"
    )
  })

  it("with a token: 401 without one, 403 with a wrong one; any host name", () => {
    const host = { host: "db.example.com" }
    assert.deepInclude(judge(guarded, { method: "GET", path: "/api/users", headers: host }), {
      status: 401,
      error: "unauthorized"
    })
    assert.deepInclude(judge(guarded, { method: "POST", path: "/api/users", headers: host }), { status: 401 })
    assert.deepInclude(judge(guarded, { method: "GET", path: "/metrics", headers: host }), { status: 401 })
    const wrong = { ...host, authorization: `Bearer ${secret}x` }
    assert.deepInclude(judge(guarded, { method: "GET", path: "/api/users", headers: wrong }), {
      status: 403,
      error: "forbidden"
    })
    assert.deepInclude(
      judge(guarded, { method: "GET", path: "/api/users", headers: { ...host, authorization: secret } }),
      {
        status: 401
      }
    )
    const right = { ...host, authorization: `Bearer ${secret}` }
    assert.strictEqual(judge(guarded, { method: "GET", path: "/api/users", headers: right })._tag, "Allowed")
    assert.strictEqual(judge(guarded, { method: "POST", path: "/api/users", headers: right })._tag, "Allowed")
    for (const path of ["/", "/assets/dashboard.js", "/api/openapi.json", "/api/docs"]) {
      assert.strictEqual(judge(guarded, { method: "GET", path, headers: host })._tag, "Allowed", path)
    }
  })

  it("public reads: reads pass without the token, writes still need it", () => {
    const policy = { ...guarded, publicReads: true }
    const host = { host: "db.example.com" }
    assert.strictEqual(judge(policy, { method: "GET", path: "/api/users/1", headers: host })._tag, "Allowed")
    assert.deepInclude(judge(policy, { method: "POST", path: "/api/users", headers: host }), { status: 401 })
    assert.deepInclude(judge(policy, { method: "PATCH", path: "/api/users/1/email", headers: host }), { status: 401 })
  })

  it("writes from an allowed origin pass with the token; from any other origin they are refused even with it", () => {
    const headers = { host: "db.example.com", authorization: `Bearer ${secret}` }
    assert.strictEqual(
      judge(guarded, { method: "POST", path: "/api/users", headers: { ...headers, origin: appOrigin } })._tag,
      "Allowed"
    )
    assert.deepInclude(
      judge(guarded, { method: "POST", path: "/api/users", headers: { ...headers, origin: "https://evil.example" } }),
      { status: 403 }
    )
  })

  it("tokens compare equal only when equal, whatever their lengths", () => {
    const expected = Redacted.make(secret)
    assert.isTrue(tokenMatches(secret, expected))
    for (const given of ["", "s", secret.slice(0, -1), `${secret}0`, secret.toUpperCase()]) {
      assert.isFalse(tokenMatches(given, expected), given)
    }
  })

  it("loopback addresses and origins are recognised", () => {
    assert.isTrue(isLoopback("127.0.0.1") && isLoopback("localhost") && isLoopback("::1") && isLoopback("[::1]"))
    assert.isFalse(
      isLoopback("0.0.0.0") || isLoopback("::") || isLoopback("10.0.0.1") || isLoopback("127.0.0.1.nip.io")
    )
    assert.isTrue(isOrigin("https://app.example.com") && isOrigin("http://localhost:3000"))
    assert.isFalse(isOrigin("app.example.com") || isOrigin("https://app.example.com/") || isOrigin("*"))
  })
})

/** A request with full control of its headers (`fetch` will not send a `Host` of our choosing). */
const request = (port: number, method: string, path: string, headers: Record<string, string>, body?: string) =>
  Effect.async<
    {
      status: number
      headers: Http.IncomingHttpHeaders
      json: { error?: string; users?: Array<{ email: string }> } | undefined
    }
  >(
    (resume) => {
      const outgoing = Http.request({ host: "127.0.0.1", port, method, path, headers }, (response) => {
        let text = ""
        response.setEncoding("utf8")
        response.on("data", (chunk: string) => text += chunk)
        response.on("end", () =>
          resume(Effect.succeed({
            status: response.statusCode ?? 0,
            headers: response.headers,
            json: (response.headers["content-type"] ?? "").startsWith("application/json") ? JSON.parse(text) : undefined
          })))
      })
      outgoing.on("error", (error) => resume(Effect.die(error)))
      outgoing.end(body)
    }
  )

const portOf = Effect.map(
  HttpServer.HttpServer,
  (server) => server.address._tag === "TcpAddress" ? server.address.port : 0
)

const serving = (policy: Partial<Server.ServeOptions>) =>
  Server.layer({ port: 0, host: "127.0.0.1", ...policy }).pipe(
    Layer.provide(Dashboard.Default),
    Layer.provideMerge(TestDatabase.layerPooled({ sample: true }))
  )

const json = { "content-type": "application/json" }
const newUser = (email: string) => JSON.stringify({ name: "Token Example", email, age: 30 })

describe("a server with an API token", () => {
  layer(serving({ token, corsOrigins: [appOrigin] }), { timeout: 30_000 })((it) => {
    it.effect("reads and writes need the token: 401 (with WWW-Authenticate) without, 403 wrong, 200/201 right", () =>
      Effect.gen(function*() {
        const port = yield* portOf
        const anyHost = { host: "db.example.com" }
        const none = yield* request(port, "GET", "/api/users/1", anyHost)
        assert.deepStrictEqual([none.status, none.json?.error], [401, "unauthorized"])
        assert.match(String(none.headers["www-authenticate"]), /^Bearer/)
        const wrong = yield* request(port, "GET", "/api/users/1", { ...anyHost, authorization: "Bearer nope-nope" })
        assert.deepStrictEqual([wrong.status, wrong.json?.error], [403, "forbidden"])
        const right = yield* request(port, "GET", "/api/users/1", { ...anyHost, authorization: `Bearer ${secret}` })
        assert.strictEqual(right.status, 200)
        const write = yield* request(port, "POST", "/api/users", json, newUser("nobody@example.com"))
        assert.strictEqual(write.status, 401)
        const metrics = yield* request(port, "GET", "/metrics", {})
        assert.strictEqual(metrics.status, 401)
        const written = yield* request(
          port,
          "POST",
          "/api/users",
          { ...json, authorization: `Bearer ${secret}` },
          newUser("token@example.com")
        )
        assert.strictEqual(written.status, 201)
        const added = yield* request(port, "GET", "/api/users?after=1000", { authorization: `Bearer ${secret}` })
        assert.deepStrictEqual(added.json?.users?.map((user) => user.email), ["token@example.com"])
        const docs = yield* request(port, "GET", "/api/openapi.json", anyHost)
        assert.strictEqual(docs.status, 200)
      }))

    it.effect("CORS answers the allowed origin only; a write from another origin is refused even with the token", () =>
      Effect.gen(function*() {
        const port = yield* portOf
        const preflight = yield* request(port, "OPTIONS", "/api/users", {
          origin: appOrigin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization, content-type"
        })
        assert.strictEqual(preflight.headers["access-control-allow-origin"], appOrigin)
        assert.match(String(preflight.headers["access-control-allow-headers"]), /authorization/)
        const allowed = yield* request(port, "GET", "/api/users/2", {
          origin: appOrigin,
          authorization: `Bearer ${secret}`
        })
        assert.strictEqual(allowed.headers["access-control-allow-origin"], appOrigin)
        const other = yield* request(port, "GET", "/api/users/2", {
          origin: "https://evil.example",
          authorization: `Bearer ${secret}`
        })
        assert.notStrictEqual(other.headers["access-control-allow-origin"], "https://evil.example")
        const crossWrite = yield* request(port, "POST", "/api/users", {
          ...json,
          origin: "https://evil.example",
          authorization: `Bearer ${secret}`
        }, newUser("evil@example.com"))
        assert.deepStrictEqual([crossWrite.status, crossWrite.json?.error], [403, "forbidden"])
        const page = yield* request(port, "GET", "/api/users?limit=1000&after=1000", {
          authorization: `Bearer ${secret}`
        })
        assert.notInclude(page.json?.users?.map((user) => user.email) ?? [], "evil@example.com")
      }))
  })
})

describe("a server with an API token and public reads", () => {
  layer(serving({ token, publicReads: true }), { timeout: 30_000 })((it) => {
    it.effect("reads without the token; writes still 401", () =>
      Effect.gen(function*() {
        const port = yield* portOf
        assert.strictEqual((yield* request(port, "GET", "/api/users/1", { host: "db.example.com" })).status, 200)
        const write = yield* request(port, "POST", "/api/users", json, newUser("public@example.com"))
        assert.deepStrictEqual([write.status, write.json?.error], [401, "unauthorized"])
      }))
  })
})

describe("a server without a token", () => {
  layer(serving({}), { timeout: 30_000 })((it) => {
    it.effect("answers loopback host names only (no DNS rebinding), and refuses cross-site writes", () =>
      Effect.gen(function*() {
        const port = yield* portOf
        assert.strictEqual((yield* request(port, "GET", "/api/users/1", { host: `localhost:${port}` })).status, 200)
        const rebound = yield* request(port, "GET", "/api/users/1", { host: `attacker.example:${port}` })
        assert.deepStrictEqual([rebound.status, rebound.json?.error], [403, "forbidden"])
        const crossSite = yield* request(port, "POST", "/api/users", {
          ...json,
          origin: "https://attacker.example"
        }, newUser("csrf@example.com"))
        assert.strictEqual(crossSite.status, 403)
        const page = yield* request(port, "GET", `/api/users?after=1000`, {})
        assert.deepStrictEqual(page.json?.users, [])
      }))
  })
})
