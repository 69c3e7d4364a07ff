/**
 * The free items of a pool (reader workers) and the fibers waiting for one, each with a deadline.
 *
 * Written instead of a `Queue` or a `Semaphore` under `Effect.timeout`, which both lost items:
 * `Queue.take` can hand an item to a fiber interrupted before it receives it, and `Effect.timeout`
 * runs the wait in a child fiber whose result is dropped if the caller is interrupted as the two
 * meet (in Effect 3.22 the timeout can also hold an interrupted `Effect.all` until it expires).
 * Here a waiter is only ever woken: the item is taken by the waiting fiber itself, in the caller's
 * uninterruptible region, and a wake that is not used (the waiter was interrupted or timed out
 * just then) is passed on to the next waiter.
 */
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"

/** The `restore` of the caller's `Effect.uninterruptibleMask`. */
export type Restore = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>

export interface FreeListOptions<A, E> {
  /** An item that went bad while free is dropped when found: whoever replaces it `put`s a new one. */
  readonly usable: (item: A) => boolean
  /** More waiters than this are refused at once with `busy`. */
  readonly maxWaiting: number
  /** How long `take` waits for a free item before failing with `timedOut`. */
  readonly timeout: Duration.DurationInput
  readonly busy: (waiting: number) => E
  readonly timedOut: (waited: Duration.Duration) => E
}

export interface FreeList<A, E> {
  /** Makes `item` free and wakes the longest waiter. */
  readonly put: (item: A) => void
  /** Takes `item` out of the free items, if it is there (it is being replaced). */
  readonly remove: (item: A) => boolean
  /**
   * A free item, waiting for one if none is free. Call it inside `Effect.uninterruptibleMask` with
   * its `restore`: only the waiting is interruptible, and the item is the caller's once returned.
   */
  readonly take: (restore: Restore) => Effect.Effect<A, E>
  /** How many fibers are waiting. */
  readonly waiting: () => number
}

interface Waiter {
  woken: boolean
  timer: ReturnType<typeof setTimeout> | undefined
  resume: (effect: Effect.Effect<void, never>) => void
}

export const make = <A, E>(options: FreeListOptions<A, E>): FreeList<A, E> => {
  const free: Array<A> = []
  const waiters = new Set<Waiter>()
  const timeout = Duration.decode(options.timeout)

  const wakeOne = () => {
    for (const waiter of waiters) {
      waiters.delete(waiter)
      clearTimeout(waiter.timer)
      waiter.woken = true
      waiter.resume(Effect.void)
      return
    }
  }

  const popUsable = (): A | undefined => {
    for (let item = free.pop(); item !== undefined; item = free.pop()) {
      if (options.usable(item)) return item
    }
    return undefined
  }

  const timedOut = Cause.fail(options.timedOut(timeout))

  /**
   * Resumes when woken (or fails at the deadline). It registers no canceler on purpose: an `async`
   * with one is wrapped in `onInterrupt`, whose end is an interruptible point where a wake already
   * received could be dropped. The caller's `leave` does the cleanup instead.
   */
  const sleep = (waiter: Waiter, deadline: number) =>
    Effect.async<void, E>((resume) => {
      waiter.resume = resume
      waiter.timer = setTimeout(() => {
        waiters.delete(waiter)
        resume(Effect.failCause(timedOut))
      }, Math.max(0, deadline - Date.now()))
      waiters.add(waiter)
    })

  /** A waiter gives up (interrupted or timed out): a wake it received but did not use goes on. */
  const leave = (waiter: Waiter) => {
    clearTimeout(waiter.timer)
    if (!waiters.delete(waiter) && waiter.woken) wakeOne()
  }

  const take = (restore: Restore): Effect.Effect<A, E> =>
    Effect.suspend(() => {
      const deadline = Date.now() + Duration.toMillis(timeout)
      const attempt = (): Effect.Effect<A, E> => {
        const item = popUsable()
        if (item !== undefined) return Effect.succeed(item)
        if (waiters.size >= options.maxWaiting) return Effect.fail(options.busy(waiters.size))
        const waiter: Waiter = { woken: false, timer: undefined, resume: () => {} }
        // Woken, the fiber looks again: another caller may have taken the item first.
        return Effect.matchCauseEffect(restore(sleep(waiter, deadline)), {
          onFailure: (cause) => Effect.zipRight(Effect.sync(() => leave(waiter)), Effect.failCause(cause)),
          onSuccess: attempt
        })
      }
      return attempt()
    })

  return {
    put: (item) => {
      free.push(item)
      wakeOne()
    },
    remove: (item) => {
      const index = free.indexOf(item)
      if (index < 0) return false
      free.splice(index, 1)
      return true
    },
    take,
    waiting: () => waiters.size
  }
}
