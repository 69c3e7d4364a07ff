/**
 * The suite entry (`dist/src/bench/SuiteMain.js`, which `dbscope bench` spawns once per suite)
 * refuses a command line it cannot run with one line on stderr and exit code 2, running nothing.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import { benchSuiteScript } from "../../src/BundledData.js"
import { tempDirectory } from "../../src/testing/TestDatabase.js"
import { node } from "./NodeProcess.js"

describe("SuiteMain", () => {
  it.scoped("an unknown suite name is refused with one line and exit code 2", () =>
    Effect.gen(function*() {
      const cwd = yield* tempDirectory
      const result = yield* node([benchSuiteScript, "nosuch", "--rows", "100"], { cwd })
      assert.strictEqual(result.status, 2, result.stderr)
      assert.strictEqual(result.stdout, "")
      assert.strictEqual(
        result.stderr,
        "unknown suite: nosuch (one of import, concurrency, seed, streams, combinators, mysql, postgres, serve, cluster)\n"
      )
      assert.deepStrictEqual(fs.readdirSync(cwd), [])
    }))

  it.scoped("a probe kind that the suite does not make is refused with one line and exit code 2", () =>
    Effect.gen(function*() {
      const cwd = yield* tempDirectory
      const result = yield* node([benchSuiteScript, "streams", "--probe", "nosuch", "x.db"], { cwd })
      assert.strictEqual(result.status, 2, result.stderr)
      assert.strictEqual(result.stderr, "unknown probe for suite streams: nosuch\n")
    }))
})
