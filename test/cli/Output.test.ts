/**
 * `Output.print` writes large results a slice at a time (so that Ctrl-C and a closed pipe get in
 * between slices) and must give exactly the bytes of `Output.table` / `Output.json`.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Output from "../../src/cli/Output.js"

/** What `effect` writes with `Console.log`, as stdout would have it. */
const printed = (effect: Effect.Effect<void>) =>
  Effect.gen(function*() {
    const lines: Array<string> = []
    const base = yield* Console.consoleWith(Effect.succeed)
    yield* Effect.withConsole(effect, {
      ...base,
      log: (...values) => Effect.sync(() => void lines.push(values.join(" ")))
    })
    return lines.map((line) => `${line}\n`).join("")
  })

const rows = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    user_id: i + 1,
    // The widest cell comes late: the widths must cover every slice.
    name: i === n - 3 ? "A much longer name than the others" : `User ${i}`,
    big: BigInt(i) * 10n ** 17n,
    blob: i % 1000 === 0 ? new Uint8Array([1, 2, 3]) : null
  }))

describe("Output.print", () => {
  it.effect("prints a large table byte for byte as Output.table", () =>
    Effect.gen(function*() {
      const many = rows(10_001)
      assert.strictEqual(yield* printed(Output.print(many, false)), `${Output.table(many)}\n`)
      assert.strictEqual(yield* printed(Output.print(many.slice(0, 10), false)), `${Output.table(many.slice(0, 10))}\n`)
      assert.strictEqual(yield* printed(Output.print([], false)), "(0 rows)\n")
    }))

  it.effect("prints large JSON byte for byte as Output.json", () =>
    Effect.gen(function*() {
      const many = rows(10_001)
      assert.strictEqual(yield* printed(Output.print(many, true)), `${Output.json(many)}\n`)
      assert.strictEqual(yield* printed(Output.print([], true)), "[]\n")
    }))

  it("formats a table of 300,000 rows (the widths once overflowed the call stack)", () => {
    const text = Output.table(rows(300_000))
    assert.isTrue(text.endsWith("(300000 rows)"))
  })
})
