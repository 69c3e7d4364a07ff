/**
 * `dbscope bench` end to end: spawns the built executable (`npm test` builds it first) with 3,000
 * rows and checks the report it prints and writes (what was measured, not how fast: no timing is
 * asserted), and the suite entry on its own for the mysql suite's skip.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { BenchReport, defaultSuites, suiteNames, SuiteOutcome } from "../../src/bench/BenchReport.js"
import { tempDirectory } from "../../src/testing/TestDatabase.js"
import { cliPath as bin } from "../support/RunCli.js"
import { node } from "./NodeProcess.js"

const suiteMain = fileURLToPath(new URL("../../dist/src/bench/SuiteMain.js", import.meta.url))

describe("dbscope bench", () => {
  it.scoped(
    "runs every suite and reports each comparison as JSON on stdout, in report.json and in REPORT.md",
    () =>
      Effect.gen(function*() {
        // Run from a temp folder, so that nothing could land in the checkout's bench/.
        const cwd = yield* tempDirectory
        const out = path.join(cwd, "report")
        // The serve suite's loads last a second each rather than ten.
        const env = { DBSCOPE_BENCH_SERVE_SECONDS: "1" }
        const result = yield* node([bin, "bench", "--rows", "3000", "--json", "--out", out], { cwd, env })
        assert.strictEqual(result.status, 0, result.stderr)
        const report = Schema.decodeUnknownSync(BenchReport)(JSON.parse(result.stdout))
        assert.strictEqual(report.rows, 3000)
        // Every suite but cluster, which only runs by name (it kills cluster nodes).
        assert.deepStrictEqual(report.suites.map((run) => run.suite), [...defaultSuites])

        // The server suites are skipped where no server can be had; never failed.
        const mayBeSkipped: ReadonlySet<string> = new Set(["mysql", "postgres"])
        for (const run of report.suites.filter((run) => !(mayBeSkipped.has(run.suite) && run.status === "skipped"))) {
          assert.strictEqual(run.status, "ok", `${run.suite}: ${run.reason}`)
          assert.include(run.output, "summary")
          assert.isTrue(run.results.some((c) => c.ratio !== null), `${run.suite} has a ratio`)
          for (const c of run.results) {
            const what = `${run.suite}: ${c.name}`
            assert.strictEqual(c.suite, run.suite, what)
            // A comparison without a ratio is a bound on dbscope's own figure (a lag, an RSS growth).
            if (c.ratio === null) assert.strictEqual(c.goal?.of, "ours", what)
            else assert.isTrue(Number.isFinite(c.ratio) && c.ratio > 0, `${what}: ratio ${c.ratio}`)
            assert.isTrue(Number.isFinite(c.ours) && Number.isFinite(c.baseline), what)
            // Goals are set for 1,000,000 rows (the sample's for any run): at 3,000 rows most are n/a.
            const judged = c.goal !== undefined && c.goal.rows <= report.rows
            assert.strictEqual(c.ok !== undefined, judged, `${what}: a verdict exactly with a goal for this many rows`)
          }
        }
        assert.deepStrictEqual(
          JSON.parse(fs.readFileSync(path.join(out, "report.json"), "utf8")),
          JSON.parse(result.stdout)
        )
        const markdown = fs.readFileSync(path.join(out, "REPORT.md"), "utf8")
        assert.include(markdown, "| suite | measurement | dbscope | compared with | its figure | ratio | goal |")
        assert.include(markdown, `${report.machine.cpu}, ${report.machine.cores} cores, Node ${process.version}`)
        for (const suite of defaultSuites) assert.include(markdown, `\n## ${suite}\n`)
        assert.deepStrictEqual(fs.readdirSync(cwd), ["report"])
      }),
    { timeout: 300_000 }
  )

  it.scoped("--rows 0 is a usage error (exit 2) and runs nothing", () =>
    Effect.gen(function*() {
      const cwd = yield* tempDirectory
      const result = yield* node([bin, "bench", "--rows", "0"], { cwd })
      assert.strictEqual(result.status, 2, result.stderr)
      assert.include(result.stderr, "--rows must be at least 1")
      assert.deepStrictEqual(fs.readdirSync(cwd), [])
    }))

  it.scoped("--suite with a name that is not a suite is a usage error (exit 2) and runs nothing", () =>
    Effect.gen(function*() {
      const cwd = yield* tempDirectory
      const result = yield* node([bin, "bench", "--suite", "nosuch"], { cwd })
      assert.strictEqual(result.status, 2, result.stderr)
      assert.include(result.stderr, suiteNames.join(", "))
      assert.deepStrictEqual(fs.readdirSync(cwd), [])
    }))

  it.scoped("a suite may be named without --suite (`npm run bench -- mysql`), before or after the options", () =>
    Effect.gen(function*() {
      const cwd = yield* tempDirectory
      const env = { DBSCOPE_BENCH_MYSQL: "mysql://root@127.0.0.1:1" }
      for (const args of [["mysql", "--rows", "100"], ["--rows", "100", "mysql"]]) {
        const out = path.join(cwd, args[0] ?? "")
        const result = yield* node([bin, "bench", ...args, "--json", "--out", out], { cwd, env })
        assert.strictEqual(result.status, 0, result.stderr)
        const report = Schema.decodeUnknownSync(BenchReport)(JSON.parse(result.stdout))
        assert.deepStrictEqual(report.suites.map((run) => run.suite), ["mysql"])
      }
    }))

  it.scoped("a bare name that is not a suite is a usage error (exit 2) and runs nothing", () =>
    Effect.gen(function*() {
      const cwd = yield* tempDirectory
      const result = yield* node([bin, "bench", "nosuch"], { cwd })
      assert.strictEqual(result.status, 2, result.stderr)
      assert.include(result.stderr, suiteNames.join(", "))
      assert.deepStrictEqual(fs.readdirSync(cwd), [])
    }))

  it.scoped("without --out the report goes to a fresh folder of its own, never over an earlier one", () =>
    Effect.gen(function*() {
      const cwd = yield* tempDirectory
      fs.mkdirSync(path.join(cwd, "bench"))
      fs.writeFileSync(path.join(cwd, "bench", "REPORT.md"), "an earlier report\n")
      const env = { DBSCOPE_BENCH_MYSQL: "mysql://root@127.0.0.1:1" }
      const first = yield* node([bin, "bench", "--suite", "mysql", "--rows", "100"], { cwd, env })
      assert.strictEqual(first.status, 0, first.stderr)
      const second = yield* node([bin, "bench", "--suite", "mysql", "--rows", "100"], { cwd, env })
      assert.strictEqual(second.status, 0, second.stderr)
      const folders = fs.readdirSync(cwd).filter((name) => name.startsWith("dbscope-bench-")).sort()
      assert.strictEqual(folders.length, 2)
      for (const folder of folders) {
        assert.include(fs.readFileSync(path.join(cwd, folder, "REPORT.md"), "utf8"), "mysql")
      }
      assert.strictEqual(fs.readFileSync(path.join(cwd, "bench", "REPORT.md"), "utf8"), "an earlier report\n")
    }))

  it.scoped("the mysql suite is skipped with one line saying why when no server answers (exit 0)", () =>
    Effect.gen(function*() {
      const cwd = yield* tempDirectory
      const results = path.join(cwd, "mysql.json")
      const result = yield* node([suiteMain, "mysql", "--rows", "100", "--results", results], {
        cwd,
        env: { DBSCOPE_BENCH_MYSQL: "mysql://root@127.0.0.1:1" }
      })
      assert.strictEqual(result.status, 0, result.stderr)
      assert.include(result.stdout, "mysql: SKIPPED: no MariaDB/MySQL server answers at 127.0.0.1:1 (ECONNREFUSED)")
      const outcome = Schema.decodeUnknownSync(Schema.parseJson(SuiteOutcome))(fs.readFileSync(results, "utf8"))
      assert.strictEqual(outcome.status, "skipped")
      assert.deepStrictEqual(outcome.results, [])
    }))
})
