/**
 * Reader workers started ahead of need: the pool adopts them (and serves with them as with its
 * own), a worker never adopted does not keep the process alive, and the launcher's guess of which
 * command lines will read on workers.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as path from "node:path"
import { readerWorkerScript } from "../../src/BundledData.js"
import { readerCount } from "../../src/cli/ReaderPrestart.js"
import * as SqliteDatabase from "../../src/client/SqliteDatabase.js"
import * as Prestart from "../../src/readers/Prestart.js"
import * as ReaderPool from "../../src/readers/ReaderPool.js"
import * as TestDatabase from "../../src/testing/TestDatabase.js"
import { node } from "../bench/NodeProcess.js"

describe("Prestart", () => {
  it.live("the pool adopts prestarted workers first, starts the rest itself, and serves with all of them", () =>
    Effect.scoped(Effect.gen(function*() {
      const filename = path.join(yield* TestDatabase.tempDirectory, "prestart.db")
      yield* Effect.scoped(Layer.build(SqliteDatabase.layer({ filename })))
      Prestart.prestart(readerWorkerScript, 1)
      const pool = yield* ReaderPool.make({ filename, size: 2 })
      // Taken: nothing is left to adopt.
      assert.isUndefined(Prestart.adopt(readerWorkerScript))
      assert.strictEqual(yield* pool.live, 2)
      const answers = yield* Effect.all(
        Array.from({ length: 4 }, (_, i) => pool.query("SELECT ? AS n", [i])),
        { concurrency: "unbounded" }
      )
      assert.deepStrictEqual(answers, [[{ n: 0 }], [{ n: 1 }], [{ n: 2 }], [{ n: 3 }]])
    })))

  it.live("a prestarted worker nobody adopts does not keep the process alive", () =>
    Effect.gen(function*() {
      const script = `import * as Prestart from ${JSON.stringify(path.resolve("dist/src/readers/Prestart.js"))}
        Prestart.prestart(${JSON.stringify(readerWorkerScript)}, 2)`
      // It ends by itself: a worker waiting for its settings would keep it alive past the timeout.
      const ended = yield* node(["--input-type=module", "-e", script], { cwd: process.cwd() }).pipe(
        Effect.timeout("20 seconds")
      )
      assert.strictEqual(ended.status, 0, ended.stderr)
    }))
})

describe("readerCount", () => {
  const env = {}
  it("concurrent and dashboard on SQLite start the pool's size (DBSCOPE_READERS, else the cores, at least 2)", () => {
    assert.isAtLeast(readerCount(["concurrent"], env), 2)
    assert.strictEqual(readerCount(["--db", "x.db", "dashboard"], { DBSCOPE_READERS: "3" }), 3)
    assert.strictEqual(
      readerCount(["dashboard", "--db=x.db"], { DATABASE_URL: "mysql://h/db", DBSCOPE_READERS: "2" }),
      2
    )
  })

  it("anything else starts none: other commands, --sequential, help, MySQL", () => {
    for (
      const args of [
        ["count"],
        ["concurrent", "--sequential"],
        ["dashboard", "--help"],
        ["concurrent", "--url", "mysql://h/db"],
        ["query", "SELECT 'concurrent'"]
      ]
    ) assert.strictEqual(readerCount(args, { DBSCOPE_READERS: "2" }), 0, args.join(" "))
    assert.strictEqual(readerCount(["concurrent"], { DATABASE_URL: "mysql://h/db" }), 0)
  })
})
