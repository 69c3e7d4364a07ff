/**
 * Optional features fail with a typed `MissingPackage` naming what to install when a package they
 * need is not installed (a real `import()` of a package that does not exist), and any other failure
 * to load stays a defect.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as OptionalPackage from "../../src/OptionalPackage.js"

// A specifier held in a variable: neither tsc nor vite tries to resolve it ahead of time.
const absent = "dbscope-absent-package-for-tests"

describe("OptionalPackage", () => {
  it.effect("a missing package of MySQL support is a MissingPackage with the npm command", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(OptionalPackage.load(OptionalPackage.mysql, () => import(absent)))
      assert.strictEqual(error._tag, "MissingPackage")
      assert.deepStrictEqual(error.packages, ["@effect/sql-mysql2", "mysql2"])
      assert.strictEqual(
        error.message,
        "MySQL support needs @effect/sql-mysql2 and mysql2: npm install @effect/sql-mysql2 mysql2"
      )
    }))

  it.effect("a missing package of PostgreSQL support names the three to install", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(OptionalPackage.load(OptionalPackage.postgres, () => import(absent)))
      assert.strictEqual(
        error.message,
        "PostgreSQL support needs @effect/sql-pg, pg and pg-cursor: npm install @effect/sql-pg pg pg-cursor"
      )
    }))

  it.effect("tracing names the OpenTelemetry packages", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(OptionalPackage.load(OptionalPackage.tracing, () => import(absent)))
      assert.match(
        error.message,
        /^tracing support needs @effect\/opentelemetry, .* and @opentelemetry\/exporter-trace-otlp-http: npm install @effect\/opentelemetry /
      )
    }))

  it.effect("an installed package loads; another failure is a defect, not MissingPackage", () =>
    Effect.gen(function*() {
      const loaded = yield* OptionalPackage.load(OptionalPackage.mysql, () => import("mysql2"))
      assert.strictEqual(typeof loaded.createPool, "function")
      const broken = yield* Effect.exit(
        OptionalPackage.load(OptionalPackage.mysql, () => Promise.reject(new Error("boom")))
      )
      assert.isTrue(Exit.isFailure(broken) && !Exit.isInterrupted(broken))
      assert.isTrue(Exit.isFailure(broken) && broken.cause._tag === "Die")
    }))
})
