import { assert, describe, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as TestDatabase from "../../src/testing/TestDatabase.js"
import { Dashboard } from "../../src/users/Dashboard.js"

describe("Dashboard", () => {
  for (
    const [name, database] of [
      ["on the reader pool", TestDatabase.layerPooled({ sample: true })],
      ["on one connection", TestDatabase.layer({ sample: true })]
    ] as const
  ) {
    layer(Layer.provideMerge(Dashboard.Default, database))(name, (it) => {
      it.effect("reports the sample's figures", () =>
        Effect.gen(function*() {
          const report = yield* (yield* Dashboard).report()
          assert.strictEqual(report.summary.users, 1000)
          assert.closeTo(report.summary.average_age ?? 0, 62.379, 1e-9)
          assert.deepStrictEqual([report.summary.youngest, report.summary.oldest], [1, 120])
          assert.strictEqual(report.usersOver40, 707)
          assert.strictEqual(report.ageBands.reduce((sum, band) => sum + band.users, 0), 1000)
          assert.deepStrictEqual(report.ageBands[0], { band: 0, users: 64 })
          assert.deepStrictEqual(report.topDomains.map((d) => [d.domain, d.users]), [
            ["yahoo.com", 366],
            ["hotmail.com", 333],
            ["gmail.com", 301]
          ])
        }))

      it.effect("concurrent and sequential reports agree", () =>
        Effect.gen(function*() {
          const dashboard = yield* Dashboard
          const { millis: _a, ...concurrent } = yield* dashboard.report()
          const { millis: _b, ...sequential } = yield* dashboard.report({ concurrent: false })
          assert.deepStrictEqual(concurrent, sequential)
        }))
    })
  }
})
