/**
 * The free list under interruption: whatever the moment a waiter is interrupted or times out,
 * every item ends up free again and no waiter is left behind.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Data from "effect/Data"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as fc from "fast-check"
import * as FreeList from "../../src/readers/FreeList.js"

class Busy extends Data.TaggedError("Busy")<{ readonly waiting: number }> {}
class TimedOut extends Data.TaggedError("TimedOut") {}

const makeList = (options: { readonly maxWaiting?: number; readonly timeout?: Duration.DurationInput } = {}) =>
  FreeList.make<number, Busy | TimedOut>({
    usable: (item) => item >= 0,
    maxWaiting: options.maxWaiting ?? 1000,
    timeout: options.timeout ?? "1 hour",
    busy: (waiting) => new Busy({ waiting }),
    timedOut: () => new TimedOut()
  })

/** Takes an item, holds it for `turns` scheduler turns, and puts it back (always). */
const use = (list: FreeList.FreeList<number, Busy | TimedOut>, turns: number) =>
  Effect.uninterruptibleMask((restore) =>
    Effect.flatMap(
      list.take(restore),
      (item) => Effect.ensuring(restore(Effect.repeatN(Effect.yieldNow(), turns)), Effect.sync(() => list.put(item)))
    )
  )

/** All `size` items, taken at once: each is free and nobody is waiting for one. */
const takeAll = (list: FreeList.FreeList<number, Busy | TimedOut>, size: number) =>
  Effect.uninterruptibleMask((restore) => Effect.forEach(Array.from({ length: size }), () => list.take(restore)))

describe("FreeList", () => {
  it.live("users interrupted at any moment lose no item and no wake: the others are all served", () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 3 }),
          fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 12 }),
          fc.integer({ min: 0, max: 20 }),
          fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 }),
          (size, holds, interruptAfter, survivors) =>
            Effect.runPromise(Effect.gen(function*() {
              const list = makeList()
              for (let item = 0; item < size; item++) list.put(item)
              const all = (group: ReadonlyArray<number>) =>
                Effect.fork(Effect.all(group.map((turns) => use(list, turns)), { concurrency: "unbounded" }))
              const interrupted = yield* all(holds)
              const served = yield* all(survivors)
              yield* Effect.repeatN(Effect.yieldNow(), interruptAfter)
              yield* Fiber.interrupt(interrupted)
              // A wake lost with an interrupted waiter would leave a survivor asleep (no timeout).
              yield* Fiber.join(served)
              assert.strictEqual(list.waiting(), 0)
              const items = yield* takeAll(list, size)
              assert.sameMembers(items, Array.from({ length: size }, (_, i) => i))
            }))
        ),
        { numRuns: 300 }
      )
    ))

  it.live("a waiter times out with a typed error, and a full queue is refused at once", () =>
    Effect.gen(function*() {
      const list = makeList({ maxWaiting: 1, timeout: "50 millis" })
      list.put(0)
      const holder = yield* Effect.fork(use(list, 1_000_000))
      yield* Effect.yieldNow()
      const waiter = yield* Effect.fork(Effect.uninterruptibleMask((restore) => list.take(restore)))
      yield* Effect.yieldNow()
      const refused = yield* Effect.flip(Effect.uninterruptibleMask((restore) => list.take(restore)))
      assert.deepStrictEqual(refused, new Busy({ waiting: 1 }))
      const timedOut = yield* Effect.flip(Fiber.join(waiter))
      assert.strictEqual(timedOut._tag, "TimedOut")
      yield* Fiber.interrupt(holder)
      assert.deepStrictEqual(yield* takeAll(list, 1), [0])
    }))

  it.effect("an item that went bad while free is skipped; a waiter whose item was removed waits for the next", () =>
    Effect.gen(function*() {
      const list = makeList()
      list.put(5)
      list.put(-1)
      assert.strictEqual(yield* Effect.uninterruptibleMask((restore) => list.take(restore)), 5)
      const waiter = yield* Effect.fork(Effect.uninterruptibleMask((restore) => list.take(restore)))
      yield* Effect.yieldNow()
      assert.strictEqual(list.waiting(), 1)
      // Put and removed again before the woken waiter runs (a replacement found dead): it waits on.
      list.put(3)
      assert.isTrue(list.remove(3))
      yield* Effect.yieldNow()
      assert.strictEqual(list.waiting(), 1)
      list.put(7)
      assert.strictEqual(yield* Fiber.join(waiter), 7)
    }))
})
