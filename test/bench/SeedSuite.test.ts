/**
 * The seed suite (`SuiteMain.js seed`) at a few hundred rows: what it compares and checks, not how
 * fast (no timing is asserted); without a Python that imports aiosqlite its Python rows are skipped
 * in one line and the rest still runs.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as fs from "node:fs"
import * as path from "node:path"
import { SuiteOutcome } from "../../src/bench/BenchReport.js"
import { benchSuiteScript } from "../../src/BundledData.js"
import { tempDirectory } from "../../src/testing/TestDatabase.js"
import { node } from "./NodeProcess.js"

const runSeed = (env: Record<string, string>) =>
  Effect.gen(function*() {
    const cwd = yield* tempDirectory
    const results = path.join(cwd, "seed.json")
    const result = yield* node([benchSuiteScript, "seed", "--rows", "300", "--results", results], { cwd, env })
    assert.strictEqual(result.status, 0, result.stderr)
    const outcome = Schema.decodeUnknownSync(Schema.parseJson(SuiteOutcome))(fs.readFileSync(results, "utf8"))
    assert.strictEqual(outcome.status, "ok", outcome.reason)
    return { stdout: result.stdout, outcome }
  })

const pythonAgainst = ["Python aiosqlite, sequential", "Python aiosqlite, asyncio.gather"]
const dbscopeAgainst = ["dbscope concurrent --sequential", "dbscope dashboard --sequential", "raw better-sqlite3"]

describe("bench suite seed", () => {
  it.scoped(
    "compares dbscope concurrent with the seed's Python, its --sequential and raw better-sqlite3, as whole processes",
    () =>
      Effect.gen(function*() {
        const { outcome, stdout } = yield* runSeed({})
        assert.deepStrictEqual(outcome.results.map((c) => c.against), [...pythonAgainst, ...dbscopeAgainst])
        for (const c of outcome.results) {
          assert.strictEqual(c.suite, "seed")
          assert.isTrue(Number.isFinite(c.ratio) && (c.ratio ?? 0) > 0, `${c.against}: ratio ${c.ratio}`)
          // 300 rows: the goals (set for 1,000,000) are not judged.
          assert.isUndefined(c.ok)
        }
        assert.deepStrictEqual(outcome.results.map((c) => c.goal?.value), [1, 2, undefined, 1.3, undefined])
        assert.match(stdout, /seed: \/usr\/bin\/python3: Python 3\.\d+\.\d+, aiosqlite \S+, its SQLite 3\.\d+/)
        assert.match(stdout, /checked: every process exited 0; the Python and raw scripts printed 300 and \d+ rows/)
        assert.include(stdout, "summary: dbscope concurrent vs Python sequential")
      }),
    { timeout: 120_000 }
  )

  it.scoped(
    "without Python (DBSCOPE_BENCH_PYTHON=/nonexistent) says so in one line and still runs the rest",
    () =>
      Effect.gen(function*() {
        const { outcome, stdout } = yield* runSeed({ DBSCOPE_BENCH_PYTHON: "/nonexistent" })
        assert.deepStrictEqual(outcome.results.map((c) => c.against), dbscopeAgainst)
        assert.strictEqual(stdout.split("\n").filter((line) => line.includes("Python")).length, 2)
        assert.include(stdout, "seed: Python rows skipped: /nonexistent cannot be run (spawn /nonexistent ENOENT)\n")
        assert.include(stdout, "summary: Python skipped; ")
      }),
    { timeout: 120_000 }
  )
})
