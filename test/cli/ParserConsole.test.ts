/**
 * What the command-line parser prints, through the real `dbscope` binary: a command line it cannot
 * read is exactly one `dbscope: <message>` line on stderr (no blank line, nothing on stdout), exit 2;
 * its help has no ANSI escape codes when stdout is not a terminal or `NO_COLOR` is set.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as path from "node:path"
import { tempDirectory } from "../../src/testing/TestDatabase.js"
import { cliPath, runCli, runProcess } from "../support/RunCli.js"
import { onTerminal, terminalAvailable } from "../support/Terminal.js"

const escape = "\u001b["

const slow = { timeout: 180_000 }

describe("the parser's output", slow, () => {
  it.scoped("a command line that cannot be parsed is one dbscope: line on stderr, exit 2", () =>
    Effect.gen(function*() {
      const db = path.join(yield* tempDirectory, "users.db")
      assert.strictEqual((yield* runCli(["--db", db, "setup"])).code, 0)
      const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
        [["--db", db, "users", "--bogus"], "dbscope: Received unknown argument: '--bogus'"],
        [["--db", db, "users", "--older-than"], "dbscope: --older-than needs a value"],
        [["count", "--db"], "dbscope: --db needs a value"],
        [["--db", db, "users", "--older-than", "abc"], "'abc'"],
        [["--db", db, "explode"], "dbscope: unknown command 'explode': use one of average-age, batches, bench"],
        [["--db", db, "--log-level", "loud", "count"], "dbscope: --log-level takes one of all, trace, debug"],
        [["--db", db, "count", "--db", db], "dbscope: --db was given more than once"],
        [["--db", db, "paginate"], "dbscope: Expected to find option: '--page-size'"],
        [["--db", db, "users", "--limit", "1", "extra"], "dbscope: Received unknown argument: 'extra'"]
      ]
      const results = yield* Effect.forEach(cases, ([args]) => runCli(args), { concurrency: 2 })
      results.forEach((result, i) => {
        const [args, says] = cases[i] ?? [[], ""]
        const what = `dbscope ${args.join(" ")}: ${JSON.stringify(result.stderr)}`
        assert.strictEqual(result.code, 2, what)
        assert.strictEqual(result.stdout, "", what)
        assert.match(result.stderr, /^dbscope: [^\n]+\n$/, what)
        assert.include(result.stderr, says, what)
      })
    }))

  it.effect("help has no ANSI codes piped (NO_COLOR unset)", () =>
    Effect.gen(function*() {
      // `env -u`: whatever this process's environment holds, the child has no NO_COLOR.
      const piped = yield* runProcess("env", ["-u", "NO_COLOR", process.execPath, cliPath, "users", "--help"])
      assert.strictEqual(piped.code, 0, piped.stderr)
      assert.include(piped.stdout, "--older-than")
      assert.notInclude(piped.stdout, escape)
    }))

  it.effect.skipIf(!terminalAvailable)(
    "on a terminal, help is styled unless NO_COLOR is set (even empty)",
    () =>
      Effect.gen(function*() {
        const help = `"${process.execPath}" "${cliPath}" --help`
        const plain = yield* onTerminal(help, ["NO_COLOR="])
        assert.include(plain.stdout, "COMMANDS")
        assert.notInclude(plain.stdout, escape)
        assert.include((yield* onTerminal(help, ["-u", "NO_COLOR"])).stdout, escape)
      })
  )
})
