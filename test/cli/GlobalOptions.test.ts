/**
 * Global options as people type them: `--db`, `--url`, `--log-queries`, `--trace`, `--log-level`,
 * `--help` and `--version` before or after the subcommand, in both `--db X` and `--db=X` forms,
 * through the real `dbscope` binary; and values that look like options or commands stay values.
 */
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as ValidationError from "@effect/cli/ValidationError"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as fs from "node:fs"
import * as path from "node:path"
import * as GlobalOptions from "../../src/cli/GlobalOptions.js"
import * as ParserConsole from "../../src/cli/ParserConsole.js"
import { tempDirectory } from "../../src/testing/TestDatabase.js"
import { runCli, type RunResult } from "../support/RunCli.js"

const dbscope = (args: ReadonlyArray<string>, cwd?: string) => runCli(args, { env: { NO_COLOR: "1" }, cwd })

/** A temp database set up from the bundled sample (1000 users). */
const sampleDatabase = Effect.gen(function*() {
  const db = path.join(yield* tempDirectory, "users.db")
  const setup = yield* dbscope(["--db", db, "setup"])
  assert.strictEqual(setup.code, 0, setup.stderr)
  return db
})

const show = (args: ReadonlyArray<string>, result: RunResult) =>
  `dbscope ${args.join(" ")}: exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`

/** Runs every command line two at a time; gives each with its result. */
const runAll = (lines: ReadonlyArray<ReadonlyArray<string>>, cwd?: string) =>
  Effect.forEach(lines, (args) => Effect.map(dbscope(args, cwd), (result) => ({ args, result })), { concurrency: 2 })

const slow = { timeout: 180_000 }

describe("global options in any position", slow, () => {
  it.scoped("--db, --log-queries, --trace and --log-level work before and after the subcommand", () =>
    Effect.gen(function*() {
      const db = yield* sampleDatabase
      const counts = yield* runAll([
        ["--db", db, "count"],
        ["count", "--db", db],
        [`--db=${db}`, "count"],
        ["count", `--db=${db}`],
        ["--db", db, "--log-level", "info", "count"],
        ["count", "--log-level", "info", "--db", db],
        ["--log-queries", "count", "--db", db],
        ["count", "--trace", "--db", db, "--log-queries"]
      ])
      for (const { args, result } of counts) {
        assert.strictEqual(result.code, 0, show(args, result))
        assert.strictEqual(result.stdout, "1000\n", show(args, result))
      }
      const logged = yield* runAll([
        ["--db", db, "--log-level", "debug", "count"],
        ["count", "--db", db, "--log-level=debug"],
        ["--log-level", "debug", "count", "--db", db]
      ])
      for (const { args, result } of logged) {
        assert.strictEqual(result.stdout, "1000\n", show(args, result))
        assert.include(result.stderr, "Database connection opened: users.db", show(args, result))
        assert.include(result.stderr, "Database connection closed: users.db", show(args, result))
      }
      const older = yield* runAll([
        ["users", "--older-than", "100", "--db", db, "--json"],
        ["users", "--db", db, "--older-than", "100", "--json"],
        ["--db", db, "users", "--json", "--older-than", "100"]
      ])
      for (const { args, result } of older) {
        assert.strictEqual(result.code, 0, show(args, result))
        assert.lengthOf(JSON.parse(result.stdout) as Array<unknown>, 171, show(args, result))
      }
    }))

  it.scoped("--help and -h anywhere show the help of the subcommand typed, or of dbscope; --version anywhere", () =>
    Effect.gen(function*() {
      const db = yield* sampleDatabase
      const root = yield* runAll([["--db", db, "--help"], ["--help", "--db", db], ["--db", db, "-h"]])
      for (const { args, result } of root) {
        assert.strictEqual(result.code, 0, show(args, result))
        assert.strictEqual(result.stderr, "", show(args, result))
        assert.include(result.stdout, "COMMANDS", show(args, result))
        assert.include(result.stdout, "average-age", show(args, result))
      }
      const users = yield* runAll([
        ["users", "--help"],
        ["--db", db, "users", "--help"],
        ["users", "--older-than", "30", "--db", db, "-h"],
        ["--help", "users"]
      ])
      for (const { args, result } of users) {
        assert.strictEqual(result.code, 0, show(args, result))
        assert.include(result.stdout, "List users in id order", show(args, result))
        assert.include(result.stdout, "--older-than", show(args, result))
        assert.notInclude(result.stdout, "COMMANDS", show(args, result))
      }
      for (const { args, result } of yield* runAll([["--db", db, "--version"], ["count", "--version"]])) {
        assert.strictEqual(result.code, 0, show(args, result))
        assert.strictEqual(result.stdout.trim(), "0.1.0", show(args, result))
      }
    }))

  it.scoped("values that look like options or commands stay values; the SQL and --param values are never moved", () =>
    Effect.gen(function*() {
      const db = yield* sampleDatabase
      const dir = path.dirname(db)
      // A database file named like a subcommand, opened from its folder.
      fs.copyFileSync(db, path.join(dir, "users"))
      const lines = yield* runAll([
        ["--db", db, "query", "SELECT ? AS v, ? AS w", "--param", "--trace", "--param", "--db", "--json"],
        ["query", "SELECT ? AS v", "--param", "count", "--db", db, "--json"],
        ["query", "--db", db, "SELECT ? || ? AS v", "--param", "a", "--param", "b", "--json"],
        ["--db", db, "query", "--json", "--", "SELECT 'x' AS v"]
      ])
      const values = lines.map(({ args, result }) => {
        assert.strictEqual(result.code, 0, show(args, result))
        return JSON.parse(result.stdout) as unknown
      })
      assert.deepStrictEqual(values, [
        [{ v: "--trace", w: "--db" }],
        [{ v: "count" }],
        [{ v: "ab" }],
        [{ v: "x" }]
      ])
      const named = yield* dbscope(["--db", "users", "users", "--limit", "1", "--json"], dir)
      assert.strictEqual(named.code, 0, show(["--db", "users", "users"], named))
      assert.lengthOf(JSON.parse(named.stdout) as Array<unknown>, 1)
    }))
})

describe("GlobalOptions.normalize", () => {
  const grammar: GlobalOptions.Grammar = {
    globalValues: new Set(["--db", "--url"]),
    globalFlags: new Set(["--trace"]),
    subcommands: new Map([["query", new Set(["--param"])], ["count", new Set()]])
  }
  const normalize = (...args: ReadonlyArray<string>) => GlobalOptions.normalize(grammar, args)

  it("moves --log-level first, then the global options as typed (joined to their values), then the command", () => {
    assert.deepStrictEqual(
      normalize("query", "SELECT ?", "--trace", "--param", "--db", "--DB", "x", "--log-level=Info", "--json"),
      Either.right(["--log-level=info", "--trace", "--db=x", "query", "SELECT ?", "--param", "--db", "--json"])
    )
    assert.deepStrictEqual(normalize("--db", "", "count"), Either.right(["--db", "", "count"]))
    assert.deepStrictEqual(normalize("count", "--trace", "yes"), Either.right(["--trace", "yes", "count"]))
    assert.deepStrictEqual(normalize("--trace=false", "count"), Either.right(["--trace=false", "count"]))
    assert.deepStrictEqual(
      normalize("query", "--", "--db", "--help"),
      Either.right(["query", "--", "--db", "--help"]),
      "nothing after -- moves"
    )
    assert.deepStrictEqual(normalize("--db", "x", "query", "-h"), Either.right(["query", "--help"]))
    assert.deepStrictEqual(normalize("count", "--version", "--db", "x"), Either.right(["--version"]))
    assert.deepStrictEqual(normalize(), Either.right([]))
  })

  it("refuses a missing value, a repeated global option, a bad built-in value, an unknown command or option", () => {
    assert.deepStrictEqual(normalize("count", "--url"), Either.left("--url needs a value"))
    assert.deepStrictEqual(normalize("query", "SELECT ?", "--param"), Either.left("--param needs a value"))
    assert.deepStrictEqual(normalize("--trace", "count", "--trace"), Either.left("--trace was given more than once"))
    assert.deepStrictEqual(
      normalize("--log-level", "loud", "count"),
      Either.left("--log-level takes one of all, trace, debug, info, warning, error, fatal, none, got 'loud'")
    )
    assert.deepStrictEqual(normalize("cout"), Either.left("unknown command 'cout': use one of count, query"))
    assert.deepStrictEqual(
      normalize("--json", "count"),
      Either.left("unknown option '--json': a command's own options come after the command")
    )
    assert.deepStrictEqual(
      normalize("--completions", "ksh"),
      Either.left("--completions takes one of sh, bash, fish, zsh, got 'ksh'")
    )
    assert.deepStrictEqual(normalize("--completions", "BASH"), Either.right(["--completions=bash"]))
  })

  it("a parser error is one line of plain text, even one the parser left without a message", () => {
    const doc = HelpDoc.blocks([HelpDoc.h1("Oops"), HelpDoc.p("first"), HelpDoc.p("second")])
    assert.strictEqual(ParserConsole.oneLine(ValidationError.invalidValue(doc)), "Oops first second")
    assert.include(ParserConsole.oneLine(ValidationError.invalidArgument(HelpDoc.empty)), "dbscope --help")
  })
})
