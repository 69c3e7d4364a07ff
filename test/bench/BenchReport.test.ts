/**
 * The report's renderings: every suite gets a row (a skipped or failed one with its reason), notes
 * are numbered, verdicts follow the goals, and the JSON reads back as the same report.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Exit from "effect/Exit"
import * as Schema from "effect/Schema"
import * as BenchReport from "../../src/bench/BenchReport.js"
import { measured, outcomeOf } from "../../src/bench/Suite.js"
import { verdicts } from "../../src/bench/SuiteText.js"

const machine: BenchReport.Machine = { cpu: "Test CPU", cores: 2, node: "v20.0.0", os: "Linux", date: "2026-01-01" }

const run = (suite: BenchReport.SuiteName, fields: Partial<BenchReport.SuiteRun>): BenchReport.SuiteRun => ({
  suite,
  status: "ok",
  unreliable: false,
  peakRssMb: 100,
  results: [],
  seconds: 1,
  output: `${suite} output\nsummary: ...`,
  ...fields
})

const report: BenchReport.BenchReport = {
  machine,
  rows: 3000,
  suites: [
    run("import", {
      results: [
        BenchReport.compare({
          suite: "import",
          name: "import 3,000 rows",
          ours: 8,
          against: "raw",
          baseline: 6,
          unit: "ms",
          ratio: 0.75,
          better: "higher",
          goal: BenchReport.ratioAtLeast(0.8)
        }),
        BenchReport.compare({
          suite: "import",
          name: "RSS growth",
          ours: 40,
          against: "raw .all()",
          baseline: 300,
          unit: "MB",
          ratio: null,
          better: "lower",
          goal: BenchReport.oursAtMost(50),
          note: "fresh process"
        })
      ]
    }),
    run("streams", { status: "failed", reason: "the averages disagree", peakRssMb: null }),
    run("mysql", { status: "skipped", reason: "no MariaDB/MySQL server answers" })
  ]
}

describe("BenchReport", () => {
  it("a goal on the ratio or on dbscope's figure gives the verdict; no goal, no verdict", () => {
    const [missed, met] = report.suites[0]?.results ?? []
    assert.strictEqual(missed?.ok, false)
    assert.strictEqual(met?.ok, true)
    const plain = BenchReport.compare({
      suite: "import",
      name: "x",
      ours: 1,
      against: "y",
      baseline: 1,
      unit: "per s",
      ratio: 1,
      better: "higher"
    })
    assert.isFalse("ok" in plain)
  })

  it("the text table has a row per comparison, the skipped and failed suites with their reasons, and the notes", () => {
    const text = BenchReport.text(report)
    assert.include(text, "Test CPU, 2 cores, Node v20.0.0, Linux; 2026-01-01; 3,000 rows")
    assert.match(text, /import\s+import 3,000 rows\s+8\.0 ms\s+raw\s+6\.0 ms\s+0\.75\s+>= 0\.8\s+MISSED/)
    assert.match(text, /RSS growth \[1\]\s+40\.0 MB\s+raw \.all\(\)\s+300\.0 MB\s+<= 50 MB\s+ok/)
    assert.include(text, "[1] fresh process")
    assert.match(text, /\nstreams +FAILED: the averages disagree\n/)
    assert.match(text, /\nmysql +SKIPPED: no MariaDB\/MySQL server answers\n/)
    assert.deepStrictEqual(BenchReport.failedSuites(report), ["streams"])
  })

  it("REPORT.md holds the table and each suite's output; report.json reads back as the report", () => {
    const markdown = BenchReport.markdown(report)
    assert.include(markdown, "| import | RSS growth [1] | 40.0 MB | raw .all() | 300.0 MB |  | <= 50 MB | ok |")
    assert.include(markdown, "| streams | FAILED: the averages disagree |")
    assert.include(markdown, "## mysql\n\n```text\nmysql output\nsummary: ...\n```")
    assert.deepStrictEqual(
      Schema.decodeUnknownSync(BenchReport.BenchReport)(JSON.parse(BenchReport.json(report))),
      report
    )
  })

  it("a goal set for more rows than the run had is n/a, not MISSED; from its row count on it is judged", () => {
    const lookups = (goal: BenchReport.Goal) =>
      BenchReport.compare({
        suite: "import",
        name: "lookups",
        ours: 10,
        against: "raw",
        baseline: 1,
        unit: "per s",
        ratio: 0.1,
        better: "higher",
        goal
      })
    const results = [lookups(BenchReport.ratioAtLeast(0.5)), lookups(BenchReport.ratioAtLeast(0.5, 0))]
    const at = (rows: number) => {
      const outcome = outcomeOf(Exit.succeed(measured(false, results)), rows)
      const suites = [run("import", { results: outcome.results })]
      return { outcome, text: BenchReport.text({ machine, rows, suites }) }
    }
    const small = at(3000)
    assert.strictEqual(BenchReport.goalRows, 1_000_000)
    assert.isFalse("ok" in (small.outcome.results[0] ?? {}), "no verdict below the goal's rows")
    assert.strictEqual(small.outcome.results[1]?.ok, false, "a goal for any row count is judged")
    const [naLine, judgedLine] = small.text.split("\n").filter((line) => line.startsWith("import  lookups"))
    assert.match(naLine ?? "", />= 0\.5\s+n\/a$/)
    assert.match(judgedLine ?? "", />= 0\.5\s+MISSED$/)
    const full = at(1_000_000)
    assert.deepStrictEqual(full.outcome.results.map((c) => c.ok), [false, false])
    assert.notInclude(full.text, "n/a")
  })

  it("a suite's own text says n/a for the same goals, and judges those set for any row count", () => {
    const small = verdicts(3000)
    assert.strictEqual(small.atLeast(0.5, 1), "n/a")
    assert.strictEqual(small.atMost(2, 1.3), "n/a")
    assert.strictEqual(verdicts(3000, 0).atMost(2, 1.5), "MISSED")
    assert.strictEqual(verdicts(3000, 0).atMost(1, 1.5), "ok")
    const full = verdicts(BenchReport.goalRows)
    assert.strictEqual(full.atLeast(0.5, 1), "MISSED")
    assert.strictEqual(full.atLeast("1.20", 1.2), "ok")
    assert.strictEqual(full.atMost(1.31, 1.3), "MISSED")
  })
})
