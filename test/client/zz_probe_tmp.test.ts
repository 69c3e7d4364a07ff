import { it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as TestDatabase from "../../src/testing/TestDatabase.js"

it.scopedLive("probe", () =>
  Effect.gen(function*() {
    const t0 = performance.now()
    yield* Effect.scoped(Effect.gen(function*() {
      yield* Layer.build(TestDatabase.layerPostgres({ poolSize: 1 }))
      console.log("built", performance.now() - t0)
    }))
    console.log("closed", performance.now() - t0)
  }), 120000)
