/**
 * The entry of one benchmark suite's process: `node dist/src/bench/SuiteMain.js <suite> [--rows N]
 * [--results FILE]`. `dbscope bench` (`BenchCommand`) runs each suite this way, in a fresh process
 * of its own (its own heap and peak RSS; a crash loses only that suite), reading the detailed text
 * from stdout, progress from stderr and the comparisons from `--results`. A suite's probes run the
 * same entry as `<suite> --probe KIND [ARG]` (`ChildProbe`). A wrong command line gets one line on
 * stderr and exit code 2; a failed suite exit code 1, after its results are written.
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { parseArgs } from "node:util"
import { suiteNames, SuiteOutcome } from "./BenchReport.js"
import * as ClusterSuite from "./ClusterSuite.js"
import * as CombinatorsSuite from "./CombinatorsSuite.js"
import * as ConcurrencySuite from "./ConcurrencySuite.js"
import * as ImportSuite from "./ImportSuite.js"
import * as MysqlSuite from "./MysqlSuite.js"
import * as PostgresSuite from "./PostgresSuite.js"
import * as SeedSuite from "./SeedSuite.js"
import * as ServeSuite from "./ServeSuite.js"
import * as StreamsSuite from "./StreamsSuite.js"
import { outcomeOf, type Suite } from "./Suite.js"
import { int, machine } from "./SuiteText.js"

/** Every suite, in the order `dbscope bench` runs them. */
const suites: ReadonlyArray<Suite> = [
  ImportSuite.suite,
  ConcurrencySuite.suite,
  SeedSuite.suite,
  StreamsSuite.suite,
  CombinatorsSuite.suite,
  MysqlSuite.suite,
  PostgresSuite.suite,
  ServeSuite.suite,
  ClusterSuite.suite
]

/** What the command line asks for. */
type Request =
  | { readonly _tag: "Run"; readonly suite: Suite; readonly rows: number; readonly results: string | undefined }
  | { readonly _tag: "Probe"; readonly probe: Effect.Effect<void, unknown> }

const usage = `usage: SuiteMain.js <suite> [--rows N] [--results FILE] (suites: ${suiteNames.join(", ")})`

/** The request, or the one line that says what is wrong with the command line. */
const parse = (argv: ReadonlyArray<string>): Either.Either<Request, string> => {
  const parsed = Either.try(() =>
    parseArgs({
      args: [...argv],
      options: {
        rows: { type: "string", default: "1000000" },
        results: { type: "string" },
        probe: { type: "string" }
      },
      allowPositionals: true
    })
  )
  if (Either.isLeft(parsed)) {
    const error = parsed.left
    return Either.left(`${(error instanceof Error ? error.message : String(error)).split(".")[0]}; ${usage}`)
  }
  const { positionals, values } = parsed.right
  const [name, arg, ...extra] = positionals
  if (name === undefined) return Either.left(usage)
  const suite = suites.find((suite) => suite.name === name)
  if (suite === undefined) return Either.left(`unknown suite: ${name} (one of ${suiteNames.join(", ")})`)
  if (values.probe !== undefined) {
    const probe = extra.length === 0 ? suite.probe?.(values.probe, arg) : undefined
    return probe !== undefined && Option.isSome(probe)
      ? Either.right({ _tag: "Probe", probe: probe.value })
      : Either.left(`unknown probe for suite ${name}: ${values.probe}`)
  }
  const rows = Number(values.rows.replaceAll(/[_,]/g, ""))
  if (arg !== undefined) return Either.left(`unexpected argument: ${arg}; ${usage}`)
  if (!Number.isSafeInteger(rows) || rows < 1) return Either.left(`--rows must be a whole number of at least 1`)
  return Either.right({ _tag: "Run", suite, rows, results: values.results })
}

const quiet = Logger.withMinimumLogLevel(LogLevel.Warning)

/** Runs one suite in a temporary folder, prints its text and writes its outcome to `results`. */
const runSuite = async (suite: Suite, rows: number, results: string | undefined) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dbscope-bench-"))
  // Ctrl-C or a kill interrupts the suite, so that its finalizers run (the mysql and postgres suites drop their databases).
  const abort = new AbortController()
  const stop = () => abort.abort()
  process.once("SIGINT", stop)
  process.once("SIGTERM", stop)
  try {
    process.stdout.write(`dbscope bench: suite ${suite.name}, ${int(rows)} rows\nmachine: ${machine()}\n\n`)
    const exit = await Effect.runPromiseExit(quiet(suite.run({ rows, dir })), { signal: abort.signal })
    const outcome = outcomeOf(exit, rows)
    if (outcome.status === "skipped") process.stdout.write(`${suite.name}: SKIPPED: ${outcome.reason}\n`)
    if (Exit.isFailure(exit)) {
      process.stderr.write(`${Cause.pretty(exit.cause)}\n`)
      process.exitCode = 1
    }
    if (results !== undefined) {
      fs.writeFileSync(results, JSON.stringify(Schema.encodeSync(SuiteOutcome)(outcome)) + "\n")
    }
  } finally {
    process.off("SIGINT", stop)
    process.off("SIGTERM", stop)
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

const request = parse(process.argv.slice(2))
if (Either.isLeft(request)) {
  process.stderr.write(`${request.left}\n`)
  process.exitCode = 2
} else if (request.right._tag === "Probe") {
  const exit = await Effect.runPromiseExit(quiet(request.right.probe))
  if (Exit.isFailure(exit)) {
    process.stderr.write(`${Cause.pretty(exit.cause)}\n`)
    process.exitCode = 1
  }
} else {
  await runSuite(request.right.suite, request.right.rows, request.right.results)
}
