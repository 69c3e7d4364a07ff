/**
 * The command tree run inside the test process (`Cli.run`, with a console that records what it
 * prints): the same commands the spawned-binary tests run, here also for the cases those do not
 * reach, and so that coverage sees the CLI code, which runs in child processes elsewhere.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as path from "node:path"
import * as Cli from "../../src/cli/Cli.js"
import * as dbscope from "../../src/index.js"
import { tempDirectory } from "../../src/testing/TestDatabase.js"

/** Runs `dbscope <args>` in process; gives what it printed (stdout and stderr lines). */
const run = (args: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const out: Array<string> = []
    const err: Array<string> = []
    const base = yield* Console.consoleWith(Effect.succeed)
    const recording: Console.Console = {
      ...base,
      log: (...values) => Effect.sync(() => void out.push(values.map(String).join(" "))),
      error: (...values) => Effect.sync(() => void err.push(values.map(String).join(" ")))
    }
    const exit = yield* Cli.run(["node", "dbscope", ...args]).pipe(
      Effect.withConsole(recording),
      Effect.provide(NodeContext.layer),
      Effect.exit
    )
    return { exit, out: out.join("\n"), err: err.join("\n") }
  })

/** Runs `args` and expects success; gives stdout. */
const ok = (args: ReadonlyArray<string>) =>
  Effect.flatMap(run(args), ({ err, exit, out }) => {
    assert.strictEqual(exit._tag, "Success", `${args.join(" ")}: ${String(exit._tag === "Failure" ? exit.cause : "")}`)
    return Effect.succeed({ out, err })
  })

describe("CLI in process", () => {
  it.scopedLive("setup, then every read command on the sample, in text and JSON", () =>
    Effect.gen(function*() {
      const db = path.join(yield* tempDirectory, "cli.db")
      const at = (...args: ReadonlyArray<string>) => ["--db", db, ...args]
      assert.include((yield* ok(at("setup"))).out, "Users in database: 1000")
      assert.include((yield* ok(at("setup"))).out, "skipped", "idempotent")
      assert.include((yield* ok(at("setup", "--synthetic", "50"))).out, "Added 50 synthetic users")
      assert.include((yield* ok(at("setup", "--reset"))).out, "Users in database: 1000")
      assert.strictEqual((yield* ok(at("count"))).out, "1000")

      const older = JSON.parse((yield* ok(at("users", "--older-than", "100", "--json"))).out) as Array<unknown>
      assert.strictEqual(older.length, 171)
      assert.include((yield* ok(at("users", "--limit", "2"))).out, "(2 rows)")

      const query = yield* ok(at("query", "SELECT COUNT(*) AS n FROM users WHERE age > ?", "--param", "40", "--json"))
      assert.deepStrictEqual(JSON.parse(query.out), [{ n: 707 }])
      const cached = yield* ok(at("query", "SELECT COUNT(*) AS n FROM users", "--cache-demo"))
      assert.include(cached.out + cached.err, "cache")
      const written = yield* ok(at("query", "UPDATE users SET age = age WHERE user_id = ?", "--param", "1", "--write"))
      assert.isString(written.out)

      assert.include((yield* ok(at("concurrent"))).out, "707")
      assert.include((yield* ok(at("concurrent", "--sequential"))).out, "707")
      assert.include((yield* ok(at("dashboard"))).out, "Top e-mail domains")
      assert.include((yield* ok(at("dashboard", "--json", "--sequential"))).out, "ageBands")
      assert.strictEqual((yield* ok(at("stream", "--limit", "3"))).out.split("\n").length, 3)
      assert.include((yield* ok(at("stream", "--limit", "1", "--json"))).out, "\"user_id\":1")
      assert.include((yield* ok(at("batches", "--batch-size", "300"))).out, "4 batches, 804 users older than 25")
      assert.include((yield* ok(at("batches", "--batch-size", "600", "--json"))).out, "\"age\"")
      assert.include((yield* ok(at("paginate", "--page-size", "400"))).out, "3 pages")
      assert.include((yield* ok(at("paginate", "--page-size", "999", "--json"))).out, "user_id")
      assert.match((yield* ok(at("average-age"))).out, /^Average age of users: \d+\.\d{3}$/)
      assert.include((yield* ok(at("average-age", "--json"))).out, "averageAge")
      assert.include((yield* ok(at("--log-queries", "count"))).out, "1000")
      assert.include((yield* ok(at("--trace", "count"))).out, "1000")
    }))

  it.scopedLive("one batch and one page are counted in the singular", () =>
    Effect.gen(function*() {
      const db = path.join(yield* tempDirectory, "one.db")
      const at = (...args: ReadonlyArray<string>) => ["--db", db, ...args]
      yield* ok(at("setup"))
      assert.include((yield* ok(at("batches", "--batch-size", "1000"))).out, "\n1 batch, 804 users older than 25")
      assert.match((yield* ok(at("paginate", "--page-size", "1000"))).out, /\n1 page$/)
      assert.include((yield* ok(at("batches", "--batch-size", "1000", "--older-than", "149"))).out, "1 batch, 0 users")
    }))

  it.scoped("setup --synthetic beyond 100,000,000 is a usage error that creates no file", () =>
    Effect.gen(function*() {
      const db = path.join(yield* tempDirectory, "never.db")
      const { exit } = yield* run(["--db", db, "setup", "--synthetic", "1000000000000"])
      assert.isTrue(exit._tag === "Failure" && String(exit.cause).includes("UsageError"))
      assert.include(String(exit._tag === "Failure" ? exit.cause : ""), "at most 100,000,000")
      assert.isFalse(fs.existsSync(db))
    }))

  it.scopedLive("setup --reset --synthetic N replaces the users with N synthetic ones", () =>
    Effect.gen(function*() {
      const db = path.join(yield* tempDirectory, "reset.db")
      yield* ok(["--db", db, "setup"])
      assert.include((yield* ok(["--db", db, "setup", "--reset", "--synthetic", "5"])).out, "Users in database: 5")
      const emails = JSON.parse((yield* ok(["--db", db, "users", "--json"])).out) as Array<{ email: string }>
      assert.isTrue(emails.every((user) => user.email.endsWith("@dbscope.invalid")))
    }))

  it.scoped("integers are decimal digits everywhere: 0x28, 0b101000, 4e1 and 40.0 are refused, 40 is not", () =>
    Effect.gen(function*() {
      const db = path.join(yield* tempDirectory, "numbers.db")
      yield* ok(["--db", db, "setup"])
      for (const text of ["0x28", "0b101000", "4e1", "40.0", "forty"]) {
        const { exit } = yield* run(["--db", db, "users", "--older-than", text])
        assert.strictEqual(exit._tag, "Failure", text)
        assert.include(String(exit._tag === "Failure" ? exit.cause : ""), "decimal digits", text)
      }
      const { exit } = yield* run(["--db", db, "batches", "--batch-size", "1e3"])
      assert.strictEqual(exit._tag, "Failure")
      assert.strictEqual(JSON.parse((yield* ok(["--db", db, "users", "--older-than", "40", "--json"])).out).length, 707)
    }))

  it.scoped("--db wins over an exported DATABASE_URL; --db with --url is a usage error", () =>
    Effect.gen(function*() {
      const db = path.join(yield* tempDirectory, "explicit.db")
      yield* ok(["--db", db, "setup"])
      const exported = Effect.withConfigProvider(
        ConfigProvider.fromMap(new Map([["DATABASE_URL", "mysql://root@127.0.0.1:1/unreachable"]]))
      )
      assert.strictEqual((yield* exported(ok(["--db", db, "count"]))).out, "1000")
      const both = yield* run(["--db", db, "--url", "mysql://root@127.0.0.1:1/x", "count"])
      assert.include(String(both.exit._tag === "Failure" ? both.exit.cause : ""), "--db selects")
    }))

  it.scopedLive("the demo walks through every exercise", () =>
    Effect.gen(function*() {
      const db = path.join(yield* tempDirectory, "demo.db")
      const { out } = yield* ok(["--db", db, "demo"])
      for (const heading of ["4.0", "4.1", "4.2", "4.3", "4.4"]) assert.include(out, `=== ${heading}`)
      assert.include(out, "cache: 1 hit")
    }))

  it.scoped("bad input fails with a typed error and changes nothing", () =>
    Effect.gen(function*() {
      const db = path.join(yield* tempDirectory, "bad.db")
      yield* ok(["--db", db, "setup"])
      const failure = (args: ReadonlyArray<string>) =>
        Effect.map(run(["--db", db, ...args]), ({ exit }) => exit._tag === "Failure" ? String(exit.cause) : "")
      assert.include(yield* failure(["users", "--older-than", "151"]), "between 0 and 150")
      assert.include(yield* failure(["query", "DELETE FROM users"]), "--write")
      assert.include(yield* failure(["paginate", "--page-size", "0"]), "page size")
      assert.include(yield* failure(["--url", "mysql://root@127.0.0.1:1/test", "count"]), "--db selects")
      assert.strictEqual((yield* ok(["--db", db, "count"])).out, "1000")
    }))

  it("the package entry point exports the library", () => {
    for (
      const name of [
        "SqliteDatabase",
        "UserRepo",
        "logQueries",
        "transactional",
        "retryOnFailure",
        "cacheQuery",
        "Tracing"
      ]
    ) {
      assert.property(dbscope, name)
    }
  })

  it.scopedLive("each command's help says what it prints on stdout, and --json prints exactly that shape", () =>
    Effect.gen(function*() {
      const db = path.join(yield* tempDirectory, "shapes.db")
      yield* ok(["--db", db, "setup"])
      const isObject = (value: unknown) => typeof value === "object" && value !== null && !Array.isArray(value)
      const isUser = (value: unknown) => isObject(value) && "user_id" in (value as object)
      const oneJson = (out: string) => JSON.parse(out) as unknown
      const jsonLines = (out: string) => out.split("\n").map((line) => JSON.parse(line) as unknown)
      /** Each command: words of its help, its arguments with --json, and a check of what it printed. */
      const documented: ReadonlyArray<readonly [string, string, ReadonlyArray<string>, (out: string) => boolean]> = [
        ["users", "with --json, one JSON array of user objects", ["users", "--limit", "3", "--json"], (out) => {
          const rows = oneJson(out)
          return Array.isArray(rows) && rows.length === 3 && rows.every(isUser)
        }],
        ["query", "with --json, one JSON array of row objects", ["query", "SELECT 1 AS one", "--json"], (out) => {
          const rows = oneJson(out)
          return Array.isArray(rows) && rows.length === 1 && rows.every(isObject)
        }],
        ["count", "one line, the number", ["count"], (out) => /^\d+$/.test(out)],
        ["concurrent", "with --json, one JSON object with both lists of users", ["concurrent", "--json"], (out) => {
          const value = oneJson(out) as Record<string, unknown>
          return isObject(value) && Object.keys(value).join() === "allUsers,olderUsers" &&
            [value.allUsers, value.olderUsers].every((users) => Array.isArray(users) && users.every(isUser))
        }],
        ["dashboard", "with --json, one JSON object", ["dashboard", "--json"], (out) => {
          const value = oneJson(out)
          return isObject(value) &&
            ["summary", "ageBands", "usersOver40", "topDomains", "millis"].every((key) => key in (value as object))
        }],
        ["stream", "with --json, JSON Lines: one user object per line", ["stream", "--limit", "4", "--json"], (out) => {
          const lines = jsonLines(out)
          return lines.length === 4 && lines.every(isUser)
        }],
        [
          "batches",
          "with --json, JSON Lines: one kept user object per line",
          ["batches", "--batch-size", "300", "--json"],
          (out) => {
            const lines = jsonLines(out)
            return lines.length === 804 && lines.every(isUser)
          }
        ],
        [
          "paginate",
          "with --json, JSON Lines: one JSON array of user objects per page",
          ["paginate", "--page-size", "400", "--json"],
          (out) => {
            const lines = jsonLines(out)
            return lines.length === 3 && lines.every((page) => Array.isArray(page) && page.every(isUser))
          }
        ],
        ["average-age", "with --json, one JSON object", ["average-age", "--json"], (out) => {
          const value = oneJson(out)
          return isObject(value) && Object.keys(value as object).join() === "averageAge" &&
            typeof (value as { averageAge: unknown }).averageAge === "number"
        }]
      ]
      for (const [command, says, args, shaped] of documented) {
        const help = (yield* ok([command, "--help"])).out.replace(/\s+/g, " ")
        assert.include(help, says, `${command} --help`)
        const { out } = yield* ok(["--db", db, ...args])
        assert.isTrue(shaped(out), `${args.join(" ")} printed: ${out.slice(0, 300)}`)
      }
    }))
})
