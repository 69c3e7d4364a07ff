import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import { logfmtLogger } from "../../src/combinators/LogfmtLogger.js"

describe("logfmtLogger", () => {
  it.effect("writes exactly what Effect's Logger.logfmtLogger writes, entry for entry", () =>
    Effect.gen(function*() {
      const effects: Array<string> = []
      const ours: Array<string> = []
      const both = Logger.replace(
        Logger.defaultLogger,
        Logger.zip(
          Logger.map(Logger.logfmtLogger, (line) => effects.push(line)),
          Logger.map(logfmtLogger, (line) => ours.push(line))
        )
      )
      yield* Effect.gen(function*() {
        yield* Effect.log("plain")
        yield* Effect.log("SELECT * FROM users WHERE age > ?", { nested: [1, 2] }, 42n)
        yield* Effect.logWarning("x=\"y\"").pipe(
          Effect.annotateLogs({ "odd key=": "a \"quoted\" value", count: 3, object: { z: "q" } }),
          Effect.withLogSpan("a span")
        )
        yield* Effect.logError("failed", new Error("bad"))
        yield* Effect.log("é ✓ \n a new line\ttab")
        // The same text twice in a row, from its cache.
        yield* Effect.log("SELECT * FROM users WHERE age > ?").pipe(Effect.annotateLogs("durationMs", 0.125))
        yield* Effect.log("SELECT * FROM users WHERE age > ?").pipe(Effect.annotateLogs("durationMs", 0.5))
      }).pipe(Effect.provide(both), Effect.withLogSpan("outer"))
      assert.strictEqual(ours.length, 7)
      assert.deepStrictEqual(ours, effects)
    }))
})
