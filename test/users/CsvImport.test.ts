import { assert, describe, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { sampleCsv } from "../../src/BundledData.js"
import * as TestDatabase from "../../src/testing/TestDatabase.js"
import { importCsv } from "../../src/users/CsvImport.js"
import * as Progress from "../../src/users/Progress.js"
import { UserRepo } from "../../src/users/UserRepo.js"

const header = "\"name\",\"email\",\"age\"\r\n"

/** Writes a CSV into a temp folder and returns its path. */
const csvFile = (name: string, content: string | Buffer) =>
  Effect.map(TestDatabase.tempDirectory, (dir) => {
    const file = path.join(dir, name)
    fs.writeFileSync(file, content)
    return file
  })

const run = (file: string, options?: { reset?: boolean }) =>
  Effect.provide(importCsv(file, options), Progress.layerSilent)

describe("CsvImport", () => {
  layer(TestDatabase.layer())("importing", (it) => {
    it.scoped("the sample gives 1000 users; a second import adds none", () =>
      Effect.gen(function*() {
        const repo = yield* UserRepo
        const first = yield* run(sampleCsv)
        const second = yield* run(sampleCsv)
        assert.deepStrictEqual(first, { inserted: 1000, skipped: 0 })
        assert.deepStrictEqual(second, { inserted: 0, skipped: 1000 })
        assert.strictEqual(yield* repo.count, 1000)
      }))

    it.scoped("a bad row (age 200, missing e-mail, broken quoting) writes nothing and names its line", () =>
      Effect.gen(function*() {
        const repo = yield* UserRepo
        const before = yield* repo.count
        const good = "\"New One\",\"new.one@example.com\",\"30\"\r\n\"New Two\",\"new.two@example.com\",\"31\"\r\n"
        const cases = [
          ["age.csv", `${header}${good}"Too Old","old@example.com","200"\r\n`, 4, "between 0 and 150"],
          ["email.csv", `${header}${good}"No Mail","","40"\r\n`, 4, "email"],
          ["quote.csv", `${header}${good}"Broken,"broken@example.com","40"\r\n`, 4, "quote"],
          ["age-text.csv", `${header}"Abc","abc@example.com","abc"\r\n`, 2, "whole number"],
          ["columns.csv", `${header}"Only Name","x@example.com"\r\n`, 2, "name, email and age"]
        ] as const
        for (const [name, content, line, reason] of cases) {
          const error = yield* Effect.flip(run(yield* csvFile(name, content)))
          assert.strictEqual(error._tag, "CsvError", name)
          assert.include(error.message, reason, name)
          if (error._tag === "CsvError") assert.strictEqual(error.line, line, name)
          assert.strictEqual(yield* repo.count, before, `${name} wrote nothing`)
        }
      }))

    it.scoped("a wrong header, a duplicate e-mail in the file and a missing file are clear errors", () =>
      Effect.gen(function*() {
        const repo = yield* UserRepo
        const before = yield* repo.count
        const wrongHeader = yield* Effect.flip(run(yield* csvFile("h.csv", "name,mail,age\nA,a@example.com,3\n")))
        assert.include(wrongHeader.message, "header")
        const duplicate = yield* Effect.flip(
          run(yield* csvFile("d.csv", "name,email,age\nA,dup@example.com,3\nB,dup@example.com,4\n"))
        )
        assert.include(duplicate.message, "line 3")
        assert.include(duplicate.message, "line 2")
        const missing = yield* Effect.flip(run("/nonexistent/users.csv"))
        assert.include(missing.message, "no such file")
        assert.strictEqual(yield* repo.count, before)
      }))

    it.scoped("LF line ends, a BOM and unquoted fields import like the canonical CRLF file", () =>
      Effect.gen(function*() {
        const content = "\uFEFFname,email,age\nLf User,lf.user@example.com,44\n\"Quoted, Name\",q@example.com,45\n"
        const result = yield* run(yield* csvFile("lf.csv", content))
        assert.deepStrictEqual(result, { inserted: 2, skipped: 0 })
        const users = yield* (yield* UserRepo).olderThan(43)
        assert.includeMembers(users.map((u) => u.name), ["Lf User", "Quoted, Name"])
      }))

    it.scoped("--reset replaces the users, and a failed reset import keeps the old ones", () =>
      Effect.gen(function*() {
        const repo = yield* UserRepo
        const before = yield* repo.count
        assert.isAbove(before, 0)
        const bad = yield* csvFile("bad.csv", `${header}"X","x@example.com","-1"\r\n`)
        yield* Effect.flip(run(bad, { reset: true }))
        assert.strictEqual(yield* repo.count, before)
        const one = yield* csvFile("one.csv", `${header}"Only","only@example.com","50"\r\n`)
        assert.deepStrictEqual(yield* run(one, { reset: true }), { inserted: 1, skipped: 0 })
        assert.strictEqual(yield* repo.count, 1)
      }))
  })
})
