/**
 * `dbscope bench`: runs the benchmark suites (every one, or those named: `--suite serve`, or `serve`) one after
 * the other, each in a fresh Node process of its own (the compiled `SuiteMain.js`, found from the
 * package root): its own heap and peak RSS, and a crash loses only that suite. A terminal gets a progress bar on stderr. Prints
 * one table of the suites' side-by-side ratios (or the JSON report with `--json`) and writes
 * `REPORT.md` and `report.json` to the output folder. A skipped suite (no MySQL or PostgreSQL server) is reported as
 * such; only a failed one makes the command fail, after the report is written.
 */
import * as Args from "@effect/cli/Args"
import * as CliCommand from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Command from "@effect/platform/Command"
import type { PlatformError } from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as os from "node:os"
import { benchSuiteScript } from "../BundledData.js"
import * as ProgressBars from "../cli/ProgressBars.js"
import * as Progress from "../users/Progress.js"
import * as BenchReport from "./BenchReport.js"

/** The installation has no built suites (a checkout that was never built). */
export class BenchUnavailable extends Schema.TaggedError<BenchUnavailable>()("BenchUnavailable", {
  reason: Schema.String
}) {
  override get message() {
    return this.reason
  }
}

/** Suites failed; the report, written all the same, says why. */
export class BenchSuitesFailed extends Schema.TaggedError<BenchSuitesFailed>()("BenchSuitesFailed", {
  suites: Schema.Array(Schema.String),
  report: Schema.String
}) {
  override get message() {
    const which = this.suites.length === 1 ? "suite" : "suites"
    return `benchmark ${which} ${this.suites.join(", ")} failed: see ${this.report}`
  }
}

/** Lines of a suite's stderr kept to explain a crash. */
const keptLines = 20

/** A suite that produced nothing to read: failed, for `reason`. */
const failed = (reason: string): BenchReport.SuiteOutcome => ({
  status: "failed",
  reason,
  unreliable: false,
  peakRssMb: null,
  results: []
})

const decodeOutcome = Schema.decodeUnknownEither(Schema.parseJson(BenchReport.SuiteOutcome))

/** The platform's own words for a process that could not be run or waited for (not its command line). */
const describe = (error: PlatformError) => error.description ?? `${error._tag} in ${error.method}`

/** A suite whose process could not be started or read (no output, no results). */
const couldNotRun = (error: PlatformError) =>
  Effect.succeed({ output: "", ...failed(`could not run: ${describe(error)}`) })

/**
 * Runs one suite in a child process, reading its detailed text from stdout, its progress from stderr
 * (shown on `bar`) and its comparisons from the file it writes with `--results`. Whatever happens to
 * the child, the suite ends as ok, skipped or failed: a crash is a failure with its last words.
 */
const runSuite = (suite: BenchReport.SuiteName, rows: number, bar: Progress.ProgressBar) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const dir = yield* fs.makeTempDirectoryScoped({ prefix: "dbscope-bench-" })
    const resultsFile = path.join(dir, "results.json")
    yield* bar.status(`${suite}: starting`)
    const child = yield* Command.start(
      Command.make(process.execPath, benchSuiteScript, suite, "--rows", String(rows), "--results", resultsFile)
    )
    const tail: Array<string> = []
    const [output] = yield* Effect.all([
      child.stdout.pipe(Stream.decodeText(), Stream.mkString),
      child.stderr.pipe(
        Stream.decodeText(),
        Stream.splitLines,
        Stream.runForEach((line) => {
          tail.push(line)
          if (tail.length > keptLines) tail.shift()
          return bar.status(`${suite}: ${line.trim()}`)
        })
      )
    ], { concurrency: "unbounded" })
    const exit = yield* Effect.either(child.exitCode)
    // No file: the child died before it could write one.
    const written = yield* fs.readFileString(resultsFile).pipe(
      Effect.catchIf((error) => error._tag === "SystemError" && error.reason === "NotFound", () => Effect.void)
    )
    const reported = written === undefined ? undefined : Either.getOrUndefined(decodeOutcome(written))
    const exitedCleanly = Either.isRight(exit) && exit.right === 0
    if (reported !== undefined && (exitedCleanly || reported.status === "failed")) return { output, ...reported }
    const how = Either.isLeft(exit) ? describe(exit.left) : `exit code ${exit.right}`
    // Its last words: the last line that is not progress or a stack frame (both are indented).
    const last = tail.filter((line) => /^\S/.test(line)).at(-1)
    const results = written === undefined ? "no results" : "unreadable results"
    return { output, ...failed(`${how}${last === undefined ? "" : `: ${last}`} (${results})`) }
  }).pipe(
    Effect.scoped,
    Effect.catchTags({ BadArgument: couldNotRun, SystemError: couldNotRun }),
    Effect.timed,
    Effect.map(([took, run]): BenchReport.SuiteRun => ({ suite, ...run, seconds: Duration.toSeconds(took) }))
  )

/** CPU, cores, Node, OS and the date of this run. */
const machine = Effect.gen(function*() {
  const now = yield* DateTime.now
  return yield* Effect.sync((): BenchReport.Machine => {
    const cpus = os.cpus()
    return {
      cpu: cpus[0]?.model.trim() ?? "unknown CPU",
      cores: cpus.length,
      node: process.version,
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      date: DateTime.formatIso(now)
    }
  })
})

export interface BenchOptions {
  /** Rows each suite generates. */
  readonly rows: number
  /** Print the report as JSON instead of the table. */
  readonly json: boolean
  /**
   * Folder for `REPORT.md` and `report.json`, created if missing. Default: a fresh
   * `dbscope-bench-<time>` folder here, so that a run never overwrites an earlier report.
   */
  readonly out: Option.Option<string>
  /** The suites to run (in the usual order, each once); none means every suite. */
  readonly suite?: ReadonlyArray<BenchReport.SuiteName> | undefined
  /** More suites to run, named without `--suite` (`npm run bench -- serve`). */
  readonly named?: ReadonlyArray<BenchReport.SuiteName> | undefined
}

/** Runs the suites, writes the report to `out`, prints it; fails (after writing) if a suite failed. */
export const runBench = Effect.fn("BenchCommand.runBench")(function*(options: BenchOptions) {
  const { json, rows } = options
  const suite = [...(options.suite ?? []), ...(options.named ?? [])]
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  if (!(yield* fs.exists(benchSuiteScript))) {
    return yield* new BenchUnavailable({
      reason: "the benchmark suites are not built in this installation: run npm run build, then try again"
    })
  }
  const chosen = suite.length === 0
    ? BenchReport.defaultSuites
    : BenchReport.suiteNames.filter((name) => suite.includes(name))
  const progress = yield* Progress.Progress
  const suites = yield* Effect.scoped(Effect.gen(function*() {
    const bar = yield* progress.start("bench", chosen.length)
    return yield* Effect.forEach(chosen, (name) => Effect.zipLeft(runSuite(name, rows, bar), bar.advance(1)))
  }))
  const report: BenchReport.BenchReport = { machine: yield* machine, rows, suites }
  const out = Option.isSome(options.out)
    ? options.out.value
    : `dbscope-bench-${new Date(yield* Clock.currentTimeMillis).toISOString().replace(/[:.]/g, "-")}`
  const markdownFile = path.join(out, "REPORT.md")
  const jsonFile = path.join(out, "report.json")
  yield* fs.makeDirectory(out, { recursive: true })
  yield* fs.writeFileString(markdownFile, BenchReport.markdown(report))
  yield* fs.writeFileString(jsonFile, BenchReport.json(report) + "\n")
  yield* Console.log(
    json ? BenchReport.json(report) : `${BenchReport.text(report)}\n\nreport: ${markdownFile}, ${jsonFile}`
  )
  const failedSuites = BenchReport.failedSuites(report)
  if (failedSuites.length > 0) return yield* new BenchSuitesFailed({ suites: failedSuites, report: markdownFile })
})

/** The `bench` subcommand. */
export const benchCommand = CliCommand.make("bench", {
  rows: Options.integer("rows").pipe(
    Options.filterMap((rows) => rows >= 1 ? Option.some(rows) : Option.none(), "--rows must be at least 1"),
    Options.withDescription("Rows each suite generates (default 1,000,000)"),
    Options.withDefault(1_000_000)
  ),
  json: Options.boolean("json").pipe(
    Options.withDescription("Print the report as one JSON object instead of the table")
  ),
  out: Options.directory("out").pipe(
    Options.withDescription("Folder to write REPORT.md and report.json to (default: a new ./dbscope-bench-<time>)"),
    Options.optional
  ),
  suite: Options.choice("suite", BenchReport.suiteNames).pipe(
    Options.repeated,
    Options.withDescription(
      `A suite to run, repeatable (default: ${
        BenchReport.defaultSuites.join(", ")
      }; cluster only by name: it kills nodes of the local Galera cluster)`
    )
  ),
  named: Args.choice(BenchReport.suiteNames.map((name) => [name, name]), { name: "suite" }).pipe(
    Args.repeated,
    Args.withDescription("Suites to run, as with --suite (`dbscope bench serve`)")
  )
}, (options) => Effect.provide(runBench(options), ProgressBars.layerStderr)).pipe(
  CliCommand.withDescription(
    "Run the benchmark suites (each in a process of its own) and report dbscope against its baselines side by " +
      "side. Prints one table and where the report was written; with --json, the report as one JSON object"
  )
)
