/**
 * The executable's Effect scheduler: Effect's default one, except that the event loop gets a turn
 * whenever fibers have run for `budget` milliseconds without one.
 *
 * Why: the default scheduler resumes a yielding fiber on a chain of microtasks and falls back to a
 * timer only after 2048 drains in a row; a fiber that never waits for I/O (a keyset walk over
 * better-sqlite3, a synthetic import, rows checked in slices) keeps resetting that chain, so the
 * event loop never ran: SIGINT and SIGTERM were never delivered, timers never fired, and an EPIPE on
 * stdout was never reported, for the whole of an 11-second walk. Here a drain that starts more than
 * `budget` ms after the loop last had a turn waits for `setImmediate` instead (signals and I/O are
 * polled just before it). A fiber also yields early once the budget is spent, not only after 2048
 * operations: one operation may be a whole page query, and 2048 of them took ~200 ms.
 * Cost: one `performance.now()` per drain and per 64 operations, one macrotask per `budget` ms.
 */
import * as FiberRef from "effect/FiberRef"
import * as Scheduler from "effect/Scheduler"

/** The longest stretch of Effect work between two event-loop turns by default (ms). */
export const defaultBudget = 10

/** Operations between two looks at the clock. */
const opsPerClockCheck = 64

/** A scheduler that never keeps the event loop waiting much longer than `budget` ms. */
export const make = (budget: number = defaultBudget): Scheduler.Scheduler => {
  let lastTurn = performance.now()
  const runnerOf = Scheduler.SchedulerRunner.cached((depth, drain) => {
    if (performance.now() - lastTurn < budget) {
      queueMicrotask(() => drain(depth + 1))
      return
    }
    setImmediate(() => {
      lastTurn = performance.now()
      drain(0)
    })
  })
  const shouldYield: Scheduler.Scheduler["shouldYield"] = (fiber) => {
    const ops = fiber.currentOpCount
    const spent = ops > fiber.getFiberRef(FiberRef.currentMaxOpsBeforeYield) ||
      (ops % opsPerClockCheck === 0 && performance.now() - lastTurn >= budget)
    return spent ? fiber.getFiberRef(FiberRef.currentSchedulingPriority) : false
  }
  return Scheduler.make((task, priority, fiber) => runnerOf(fiber).scheduleTask(task, priority), shouldYield)
}
