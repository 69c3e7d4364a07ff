/**
 * How a signal ends a command. By default it interrupts it: `dbscope: interrupted`, exit 130/143.
 * A server is stopped by a signal as a matter of course: it says so, stops gracefully (the
 * interruption runs its finalizers) and exits 0.
 */
import * as Effect from "effect/Effect"

let stopping: string | undefined

/** From now on a signal is this command's normal stop: `message` on stderr, then exit 0. */
export const stopsGracefully = (message: string) => Effect.sync(() => void (stopping = message))

/** The message of a graceful stop, if the running command asked for one. */
export const gracefulStop = (): string | undefined => stopping
