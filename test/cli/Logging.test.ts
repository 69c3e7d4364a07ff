/**
 * Where the CLI's log lines go and how they look: stderr, with colours only when stderr is a
 * terminal and `NO_COLOR` is not set (`script`, from util-linux, gives the CLI a terminal).
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { tempDirectory } from "../../src/testing/TestDatabase.js"
import { cliPath, runCli } from "../support/RunCli.js"
import { onTerminal, terminalAvailable } from "../support/Terminal.js"

const escape = "\u001b["

describe("CLI log lines", () => {
  it.scoped.skipIf(!terminalAvailable)(
    "colours only on a terminal stderr without NO_COLOR",
    () =>
      Effect.gen(function*() {
        const dir = yield* tempDirectory
        const db = path.join(dir, "users.db")
        assert.strictEqual((yield* runCli(["--db", db, "setup"])).code, 0)
        const command = `"${process.execPath}" "${cliPath}" --db "${db}" --log-level debug count`
        // stdout on a terminal, stderr to a file: no escape codes in the file.
        const logFile = path.join(dir, "log.txt")
        yield* onTerminal(`${command} 2> "${logFile}"`, ["-u", "NO_COLOR"])
        const logged = fs.readFileSync(logFile, "utf8")
        assert.include(logged, "Database connection opened: users.db")
        assert.notInclude(logged, escape)
        // Both on a terminal: coloured, unless NO_COLOR is set (even empty).
        assert.include((yield* onTerminal(command, ["-u", "NO_COLOR"])).stdout, escape)
        const plain = yield* onTerminal(command, ["NO_COLOR="])
        assert.include(plain.stdout, "Database connection opened: users.db")
        assert.notInclude(plain.stdout, escape)
      })
  )
})
