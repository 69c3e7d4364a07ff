/**
 * Ctrl-C, SIGTERM and a closed pipe, on the real `dbscope` executable and a real SQLite file of
 * 300,000 synthetic users: every command stops soon after the signal (a walk of the whole file
 * takes seconds), rolls back what it was writing, says `dbscope: interrupted` and exits 130 (143
 * for SIGTERM); a reader of stdout that goes away stops the command quietly, with exit 0.
 *
 * Signals are sent once the command is under way: on its first output, or, for commands that
 * print only at the end, once it has opened the database (a fresh copy of it, whose `-shm` file
 * appears then), or once a write has reached the WAL.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { runCli, type RunOptions, type RunResult } from "../support/RunCli.js"

const users = 300_000
/** "Quickly", for a loaded 2-core machine: the walks stopped here take several seconds in full. */
const quickly = 5_000

let dir = ""
let shared = ""

const dbscope = (args: ReadonlyArray<string>, options: RunOptions = {}) =>
  runCli(args, { ...options, env: { NO_COLOR: "1", ...options.env } })

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "dbscope-signals-"))
  shared = path.join(dir, "users.db")
  const setup = await Effect.runPromise(dbscope(["--db", shared, "setup", "--synthetic", String(users)]))
  assert.strictEqual(setup.code, 0, setup.stderr)
}, 120_000)

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

let copies = 0
/** A copy of the shared database: no connection has opened it yet, so it has no `-shm` file. */
const freshCopy = () => {
  const copy = path.join(dir, `copy-${++copies}.db`)
  fs.copyFileSync(shared, copy)
  return copy
}

const size = (file: string) => fs.existsSync(file) ? fs.statSync(file).size : 0

/** Once output has started. */
const printing = ({ stdout }: { readonly stdout: string }) => stdout.length > 0
/** Once a connection has opened `db` (SQLite creates its shared-memory file then). */
const opened = (db: string) => () => fs.existsSync(`${db}-shm`)
/** Once a transaction's pages are reaching `db`'s WAL. */
const writing = (db: string) => () => size(`${db}-wal`) > 256 * 1024

const countOf = (db: string) =>
  Effect.map(dbscope(["--db", db, "count"]), (result) => {
    assert.strictEqual(result.code, 0, result.stderr)
    return Number(result.stdout.trim())
  })

const assertInterrupted = (result: RunResult, code = 130) => {
  assert.isFalse(result.timedOut)
  assert.strictEqual(result.stderr, "dbscope: interrupted\n")
  assert.strictEqual(result.code, code, `exit code (signal ${result.signal})`)
  assert.isDefined(result.stoppedAfter, "the signal was sent")
  assert.isBelow(result.stoppedAfter ?? Infinity, quickly, "ms from the signal to the exit")
}

/** Tests here run about fifteen processes of ~1 s each, one at a time. */
const slow = { timeout: 120_000 }

describe("dbscope on SIGINT, SIGTERM and a closed stdout", slow, () => {
  const commands: ReadonlyArray<readonly [name: string, args: ReadonlyArray<string>, prints: boolean]> = [
    ["stream", ["stream"], true],
    ["paginate", ["paginate", "--page-size", "1000"], true],
    ["batches", ["batches", "--batch-size", "1000"], true],
    ["batches --json", ["batches", "--batch-size", "1000", "--json"], true],
    ["average-age", ["average-age"], false],
    ["users", ["users"], false],
    ["concurrent", ["concurrent"], false],
    ["dashboard", ["dashboard"], false]
  ]

  for (const [name, args, prints] of commands) {
    it.effect(`${name}: SIGINT stops it with 'dbscope: interrupted' and exit 130`, () =>
      Effect.gen(function*() {
        const db = freshCopy()
        const result = yield* dbscope(["--db", db, ...args], {
          signal: { name: "SIGINT", when: prints ? printing : opened(db) }
        })
        assertInterrupted(result)
        // The connection was closed (SQLite removes the WAL at the last close).
        assert.isFalse(fs.existsSync(`${db}-wal`), "WAL left behind")
      }))
  }

  it.effect("stream: SIGTERM stops it with exit 143", () =>
    Effect.gen(function*() {
      const result = yield* dbscope(["--db", shared, "stream"], { signal: { name: "SIGTERM", when: printing } })
      assertInterrupted(result, 143)
    }))

  it.effect("setup --synthetic: SIGINT rolls the whole import back", () =>
    Effect.gen(function*() {
      const db = freshCopy()
      const result = yield* dbscope(["--db", db, "setup", "--synthetic", "2000000"], {
        signal: { name: "SIGINT", when: writing(db) }
      })
      assertInterrupted(result)
      assert.isFalse(fs.existsSync(`${db}-wal`), "WAL left behind")
      assert.strictEqual(yield* countOf(db), users)
    }))

  it.effect("setup --csv: SIGINT rolls the whole import back", () =>
    Effect.gen(function*() {
      const db = freshCopy()
      const csv = path.join(dir, "big.csv")
      const lines = ["name,email,age"]
      for (let i = 0; i < 200_000; i++) lines.push(`"User ${i}",csv-${i}@example.com,${i % 100}`)
      fs.writeFileSync(csv, lines.join("\n"))
      const result = yield* dbscope(["--db", db, "setup", "--csv", csv], {
        signal: { name: "SIGINT", when: writing(db) }
      })
      assertInterrupted(result)
      assert.isFalse(fs.existsSync(`${db}-wal`), "WAL left behind")
      assert.strictEqual(yield* countOf(db), users)
    }))

  it.effect("a second SIGINT exits at once, still with 130, and nothing is committed", () =>
    Effect.gen(function*() {
      const db = freshCopy()
      const result = yield* dbscope(["--db", db, "setup", "--synthetic", "2000000"], {
        signal: { name: "SIGINT", when: writing(db), againAfter: 0 }
      })
      assertInterrupted(result)
      assert.strictEqual(yield* countOf(db), users)
    }))

  it.effect("stream | head -2: exits quietly with 0 when its reader goes away", () =>
    Effect.gen(function*() {
      const result = yield* dbscope(["--db", shared, "stream"], {
        closeStdoutWhen: (stdout) => stdout.split("\n").length > 2
      })
      assert.isFalse(result.timedOut)
      assert.strictEqual(result.stderr, "")
      assert.strictEqual(result.code, 0)
      assert.isBelow(result.stoppedAfter ?? Infinity, quickly)
    }))

  it.effect("paginate --json | head -1: stops reading pages at once", () =>
    Effect.gen(function*() {
      // The statements logged on stderr tell how far the walk went after stdout was closed.
      const result = yield* dbscope(["--db", shared, "--log-queries", "paginate", "--page-size", "1000", "--json"], {
        closeStdoutWhen: (stdout) => stdout.includes("\n")
      })
      assert.strictEqual(result.code, 0)
      const pages = result.stderr.split("\n").filter((line) => line.includes("LIMIT ?")).length
      assert.isBelow(pages, users / 1000 / 3, "pages read of the 300 of the walk")
      assert.notInclude(result.stderr, "dbscope:")
    }))
})
