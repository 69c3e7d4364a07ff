/**
 * The serve suite (`SuiteMain.js serve`) at a few thousand rows and one-second loads
 * (`DBSCOPE_BENCH_SERVE_SECONDS=1`): what it compares and checks, not how fast (no timing is
 * asserted), and that no server it started outlives it, whether it ends or is interrupted.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { SuiteOutcome } from "../../src/bench/BenchReport.js"
import { benchSuiteScript } from "../../src/BundledData.js"
import { tempDirectory } from "../../src/testing/TestDatabase.js"
import { node } from "./NodeProcess.js"

const rows = 2000

/** The suite's temporary folder (its database, which every server it starts is given) goes to `cwd`. */
const suiteEnv = (cwd: string) => ({ DBSCOPE_BENCH_SERVE_SECONDS: "1", TMPDIR: cwd })

/** A field of /proc/<pid>/status (`State`, `PPid`); undefined once the process has gone. */
const statusField = (pid: string, field: string) => {
  try {
    return new RegExp(`^${field}:\\s+(\\S+)`, "m").exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]
  } catch {
    return undefined
  }
}

const processes = () => fs.readdirSync("/proc").filter((pid) => /^\d+$/.test(pid))

/** Whether process `pid` is still running (a zombie has ended). */
const isRunning = (pid: string) => {
  const state = statusField(pid, "State")
  return state !== undefined && state !== "Z"
}

/** The processes still running whose command line mentions `text`. */
const runningWith = (text: string) =>
  processes().filter((pid) => {
    try {
      return isRunning(pid) && fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(text)
    } catch {
      return false
    }
  })

/** The children of process `parent` now. */
const childrenOf = (parent: number) => processes().filter((pid) => statusField(pid, "PPid") === String(parent))

/** The command line of process `pid`, its arguments joined by spaces; empty once it has gone. */
const commandOf = (pid: string) => {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ")
  } catch {
    return ""
  }
}

const against = [
  "serve --sequential",
  "serve --sequential",
  "raw node:http",
  "bare Effect platform",
  "--dashboard-cache 0",
  "raw node:http",
  "full-speed client"
]

describe("bench suite serve", () => {
  it.scoped(
    "compares dbscope serve with --sequential, a raw node:http server, a bare Effect platform server and no " +
      "dashboard cache; stops its servers",
    () =>
      Effect.gen(function*() {
        const cwd = yield* tempDirectory
        const results = path.join(cwd, "serve.json")
        const result = yield* node([benchSuiteScript, "serve", "--rows", String(rows), "--results", results], {
          cwd,
          env: suiteEnv(cwd)
        })
        assert.strictEqual(result.status, 0, result.stderr)
        const outcome = Schema.decodeUnknownSync(Schema.parseJson(SuiteOutcome))(fs.readFileSync(results, "utf8"))
        assert.strictEqual(outcome.status, "ok", outcome.reason)
        assert.deepStrictEqual(outcome.results.map((c) => c.against), against)
        assert.deepStrictEqual(outcome.results.map((c) => c.unit), [
          "ms",
          "ms",
          "per s",
          "per s",
          "per s",
          "per s",
          "MB"
        ])
        for (const c of outcome.results) {
          assert.strictEqual(c.suite, "serve")
          assert.isTrue(Number.isFinite(c.ours) && Number.isFinite(c.baseline), c.name)
          // An RSS growth may be nil; a latency or a rate may not, nor their ratios.
          if (c.unit !== "MB") {
            assert.isTrue(c.ours > 0 && c.baseline > 0, c.name)
            assert.isTrue(Number.isFinite(c.ratio) && (c.ratio ?? 0) > 0, `${c.name}: ${c.ratio}`)
          }
          // 2,000 rows: the goals (set for 1,000,000) are not judged.
          assert.isUndefined(c.ok)
        }
        assert.deepStrictEqual(
          outcome.results.map((c) => c.goal),
          [
            { of: "ours", op: "<=", value: 20, rows: 1_000_000 },
            undefined,
            { of: "ratio", op: ">=", value: 0.5, rows: 1_000_000 },
            undefined,
            undefined,
            undefined,
            { of: "ours", op: "<=", value: 50, rows: 1_000_000 }
          ]
        )
        // The headline's two servers, both with the dashboard uncached.
        assert.match(outcome.results[0]?.name ?? "", /uncached dashboard/)
        assert.match(result.stdout, /\ndbscope serve --dashboard-cache 0 +\d/)
        assert.match(result.stdout, /\ndbscope serve --sequential --dashboard-cache 0 +\d/)
        assert.match(result.stdout, /\n2\. lookups\/s: bare @effect\/platform HttpRouter \+ better-sqlite3 +\d/)
        assert.include(result.stdout, `checked: every request answered 2xx; each full export held all ${"2,000"} users`)
        assert.include(result.stdout, "summary")
        assert.deepStrictEqual(runningWith(cwd), [])
      }),
    { timeout: 240_000 }
  )

  it.scoped("without autocannon installed it is skipped, in one line that says what to install", () =>
    Effect.gen(function*() {
      // A copy of the built suites beside every installed package but autocannon.
      const root = yield* tempDirectory
      const repo = path.resolve(path.dirname(benchSuiteScript), "..", "..", "..")
      fs.cpSync(path.join(repo, "dist", "src"), path.join(root, "dist", "src"), { recursive: true })
      fs.copyFileSync(path.join(repo, "package.json"), path.join(root, "package.json"))
      fs.mkdirSync(path.join(root, "node_modules"))
      for (const name of fs.readdirSync(path.join(repo, "node_modules"))) {
        if (name !== "autocannon") {
          fs.symlinkSync(path.join(repo, "node_modules", name), path.join(root, "node_modules", name))
        }
      }
      const results = path.join(root, "serve.json")
      const suiteMain = path.join(root, "dist", "src", "bench", "SuiteMain.js")
      const result = yield* node([suiteMain, "serve", "--rows", "100", "--results", results], { cwd: root })
      assert.strictEqual(result.status, 0, result.stderr)
      assert.include(
        result.stdout,
        "serve: SKIPPED: autocannon (the load generator, a devDependency) is not installed: " +
          "npm install --no-save autocannon@8\n"
      )
      const outcome = Schema.decodeUnknownSync(Schema.parseJson(SuiteOutcome))(fs.readFileSync(results, "utf8"))
      assert.strictEqual(outcome.status, "skipped")
      assert.deepStrictEqual(outcome.results, [])
    }))

  it.scoped(
    "interrupted while its servers run (dbscope serve and both baselines), it stops them before it exits",
    () =>
      Effect.gen(function*() {
        const cwd = yield* tempDirectory
        const { children, code, commands } = yield* Effect.async<
          { children: Array<string>; code: number | null; commands: Array<string> }
        >((resume) => {
          const suite = spawn(process.execPath, [benchSuiteScript, "serve", "--rows", String(rows)], {
            cwd,
            env: { ...process.env, ...suiteEnv(cwd), DBSCOPE_BENCH_SERVE_SECONDS: "2" },
            stdio: ["ignore", "ignore", "pipe"]
          })
          let children: Array<string> = []
          let commands: Array<string> = []
          let stderr = ""
          suite.stderr.setEncoding("utf8").on("data", (text: string) => {
            stderr += text
            // The lookups' three servers are listening: interrupt the suite while it measures them.
            if (children.length === 0 && stderr.includes("2. lookups/s: bare @effect/platform")) {
              children = childrenOf(suite.pid ?? 0)
              commands = children.map(commandOf)
              suite.kill("SIGINT")
            }
          })
          suite.once("close", (code) => resume(Effect.succeed({ children, code, commands })))
          return Effect.sync(() => suite.kill("SIGKILL"))
        })
        for (const script of ["dbscope.js", "RawUsersServer.js", "EffectUsersServer.js"]) {
          assert.isTrue(commands.some((command) => command.includes(script)), `the suite had started ${script}`)
        }
        assert.notStrictEqual(code, 0)
        assert.deepStrictEqual(children.filter(isRunning), [])
        assert.deepStrictEqual(runningWith(cwd), [])
      }),
    { timeout: 120_000 }
  )
})
