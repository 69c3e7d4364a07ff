/**
 * Progress is optional for library users: `setup` and `importCsv` run with no `Progress` layer
 * (silent by default), and a layer given still gets the bars.
 */
import { assert, describe, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { sampleCsv } from "../../src/BundledData.js"
import * as TestDatabase from "../../src/testing/TestDatabase.js"
import { importCsv } from "../../src/users/CsvImport.js"
import * as Progress from "../../src/users/Progress.js"
import { setup } from "../../src/users/Setup.js"
import { UserRepo } from "../../src/users/UserRepo.js"

describe("Progress, by default", () => {
  layer(TestDatabase.layer())("no Progress layer", (it) => {
    it.scoped("setup() migrates, imports the sample and adds synthetic users without one", () =>
      Effect.gen(function*() {
        const result = yield* setup({ csv: sampleCsv, synthetic: 5 })
        assert.deepStrictEqual(result.imported, { inserted: 1000, skipped: 0 })
        assert.strictEqual(result.synthetic, 5)
        assert.strictEqual(yield* (yield* UserRepo).count, 1005)
      }))

    it.scoped("importCsv() runs without one", () =>
      Effect.gen(function*() {
        assert.deepStrictEqual(yield* importCsv(sampleCsv), { inserted: 0, skipped: 1000 })
      }))

    it.scoped("a Progress layer given is used (the CLI's terminal bars)", () =>
      Effect.gen(function*() {
        const started: Array<readonly [string, number]> = []
        let advanced = 0
        const recording = Layer.succeed(Progress.Progress, {
          start: (label, total) =>
            Effect.sync(() => {
              started.push([label, total])
              return {
                advance: (amount) => Effect.sync(() => void (advanced += amount)),
                status: () => Effect.void
              }
            })
        })
        yield* importCsv(sampleCsv).pipe(Effect.provide(recording))
        // One bar, advanced to its end (it counts the file's bytes).
        assert.strictEqual(started.length, 1)
        assert.strictEqual(advanced, started[0]?.[1])
      }))
  })
})
