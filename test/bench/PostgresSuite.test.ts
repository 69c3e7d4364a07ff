/**
 * The postgres suite (`SuiteMain.js postgres`) at 2,000 users on the local PostgreSQL: what it
 * compares and checks, and that its scratch database is gone afterwards; not how fast (no timing
 * is asserted). Where no server answers, it is skipped in one line that says why.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as fs from "node:fs"
import * as path from "node:path"
import * as Pg from "pg"
import { SuiteOutcome } from "../../src/bench/BenchReport.js"
import { benchSuiteScript } from "../../src/BundledData.js"
import { tempDirectory } from "../../src/testing/TestDatabase.js"
import { postgresAvailable, postgresServer } from "../support/Backends.js"
import { node } from "./NodeProcess.js"

/** Runs the suite with `--rows rows` against `server`; its exit status, output and outcome. */
const runSuite = (server: string, rows: number) =>
  Effect.gen(function*() {
    const cwd = yield* tempDirectory
    const results = path.join(cwd, "postgres.json")
    const result = yield* node([benchSuiteScript, "postgres", "--rows", String(rows), "--results", results], {
      cwd,
      env: { DBSCOPE_BENCH_POSTGRES: server }
    })
    assert.strictEqual(result.status, 0, result.stderr)
    const outcome = Schema.decodeUnknownSync(Schema.parseJson(SuiteOutcome))(fs.readFileSync(results, "utf8"))
    return { stdout: result.stdout, outcome }
  })

/** Whether a database of this name exists on the test server. */
const databaseExists = (name: string) =>
  Effect.promise(async () => {
    const client = new Pg.Client({ connectionString: `${postgresServer.replace(/\/+$/, "")}/postgres` })
    await client.connect()
    try {
      return (await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name])).rows.length > 0
    } finally {
      await client.end()
    }
  })

describe.skipIf(!postgresAvailable)("bench suite postgres", () => {
  it.scoped(
    "measures the seed pair, streaming RSS, lookups against PgClient and another process's write seen by the cache; " +
      "its database dropped",
    () =>
      Effect.gen(function*() {
        const { outcome, stdout } = yield* runSuite(postgresServer, 2_000)
        assert.strictEqual(outcome.status, "ok", outcome.reason)
        assert.deepStrictEqual(outcome.results.map((c) => c.against), [
          "one after the other",
          "repo.all()",
          "repo.all()",
          "PgClient alone",
          "SQLite, PRAGMA data_version"
        ])
        for (const c of outcome.results) {
          assert.strictEqual(c.suite, "postgres")
          assert.isTrue(Number.isFinite(c.ours) && Number.isFinite(c.baseline), c.name)
          // 2,000 rows: the goals (set for 1,000,000) are not judged.
          assert.isUndefined(c.ok, c.name)
        }
        assert.deepStrictEqual(outcome.results.map((c) => c.goal?.value), [1.5, 50, 50, 0.9, undefined])

        assert.match(stdout, /checked: every run of both returned 2,000 \+ [\d,]+ rows, as COUNT\(\*\) says/)
        assert.include(stdout, "checked: all 9 probe runs summed")
        assert.include(stdout, "checked: every run of both found 4,000 of 4,000 ids")
        assert.match(
          stdout,
          /checked: each write was seen as exactly one more row; meanwhile cacheQuery served [\d,]+ hits \/ 21 misses on PostgreSQL, [\d,]+ \/ 21 on SQLite/
        )
        assert.match(stdout, /summary[^:]*: PostgreSQL seed pair concurrent \(reader workers\) vs sequential /)
        const database = /database: (dbscope_bench_\d+) on PostgreSQL /.exec(stdout)?.[1] ?? "none"
        assert.include(stdout, `\ndropped database ${database}\n`)
        assert.isFalse(yield* databaseExists(database))
      }),
    { timeout: 300_000 }
  )
})

describe("bench suite postgres, no server", () => {
  it.scoped("where no server answers, it is skipped in one line that says why", () =>
    Effect.gen(function*() {
      const { outcome, stdout } = yield* runSuite("postgres://postgres@127.0.0.1:1", 100)
      assert.strictEqual(outcome.status, "skipped")
      assert.deepStrictEqual(outcome.results, [])
      assert.match(
        stdout,
        /\npostgres: SKIPPED: no PostgreSQL server answers at 127\.0\.0\.1:1 \(ECONNREFUSED\): start one to run this suite\n$/
      )
    }))
})
