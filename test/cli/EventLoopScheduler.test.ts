/**
 * The executable's scheduler lets the event loop in during long synchronous Effect work: that is
 * what lets SIGINT, SIGTERM and a stdout EPIPE reach a `dbscope stream` walking a million rows.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Runtime from "effect/Runtime"
import * as Stream from "effect/Stream"
import * as EventLoopScheduler from "../../src/cli/EventLoopScheduler.js"

/** A page that costs ~1 ms of synchronous work, like a keyset page read by better-sqlite3. */
const busyPage = () => {
  const until = performance.now() + 1
  while (performance.now() < until) { /* working */ }
}

/** Runs a 1,000-page synchronous walk; how many pages were read when a `setTimeout(0)` fired. */
const pagesBeforeTimer = (options: Runtime.RunForkOptions) =>
  new Promise<{ readonly atTimer: number | undefined; readonly total: number }>((resolve) => {
    let pages = 0
    let atTimer: number | undefined
    setTimeout(() => void (atTimer = pages), 0)
    const walk = Stream.paginateEffect(0, (page: number) =>
      Effect.sync(() => {
        busyPage()
        pages++
        return [page, page < 999 ? Option.some(page + 1) : Option.none()] as const
      })).pipe(Stream.runDrain)
    Effect.runFork(walk, options).addObserver(() => resolve({ atTimer, total: pages }))
  })

describe("EventLoopScheduler", () => {
  it("gives timers (and signals, and I/O errors) a turn during a long synchronous walk", async () => {
    const { atTimer, total } = await pagesBeforeTimer({ scheduler: EventLoopScheduler.make() })
    assert.strictEqual(total, 1000)
    assert.isDefined(atTimer, "the timer fired while the walk ran")
    assert.isBelow(atTimer ?? Infinity, 500, "pages read before the event loop had a turn")
  }, 30_000)
})
