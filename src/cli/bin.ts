#!/usr/bin/env node
/**
 * The `dbscope` executable: runs the CLI once, prints any failure as one line on stderr and exits
 * with 2 for usage errors, 1 for everything else.
 *
 * SIGINT and SIGTERM interrupt the command (what it writes is rolled back, reader workers are
 * stopped): `dbscope: interrupted` on stderr, exit 130 or 143 (a server says it stops and exits 0,
 * see `SignalStop`); a second signal exits at once, with 130 or 143. A
 * closed stdout (`dbscope stream | head`) interrupts it too, quietly, with exit 0. The fiber runs on
 * the `EventLoopScheduler`, without which a long synchronous walk never let the signal in.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as os from "node:os"
import * as Cli from "./Cli.js"
import * as EventLoopScheduler from "./EventLoopScheduler.js"
import * as Logging from "./Logging.js"
import * as SignalStop from "./SignalStop.js"

const usageTags = new Set(["UsageError", "InvalidAge", "InvalidUserId", "InvalidPageSize"])

const errorTag = (error: unknown): string =>
  typeof error === "object" && error !== null && "_tag" in error ? String(error._tag) : ""

/** Why the command is being stopped from outside: a signal, or the reader of stdout went away. */
let stopped: { readonly _tag: "Signal"; readonly code: number } | { readonly _tag: "ClosedStdout" } | undefined

/** The exit code for how the program ended, after telling the user why in one line. */
const report = (cause: Cause.Cause<unknown>): Effect.Effect<number> => {
  // Whatever the interruption made fail has been said already (or is not worth saying).
  if (stopped !== undefined) return Effect.succeed(stopped._tag === "Signal" ? stopped.code : 0)
  if (Cause.isInterruptedOnly(cause)) return Effect.succeed(130)
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) {
    const error = failure.value
    const message = error instanceof Error ? error.message : String(error)
    return Effect.sync(() => {
      process.stderr.write(`dbscope: ${message}\n`)
      return usageTags.has(errorTag(error)) ? 2 : 1
    })
  }
  const defect = Cause.squash(cause)
  const message = defect instanceof Error ? defect.message : String(defect)
  return Effect.sync(() => {
    process.stderr.write(`dbscope: internal error: ${message.split("\n")[0]}\n`)
    return 1
  })
}

const logging = Layer.merge(Logging.layerStderr, Logger.minimumLogLevel(LogLevel.Warning))

const main = Effect.suspend(() => Cli.run(process.argv)).pipe(
  Effect.as(0),
  Effect.catchAllCause(report),
  Effect.provide(Layer.merge(NodeContext.layer, logging))
)

const fiber = Effect.runFork(main, { scheduler: EventLoopScheduler.make() })
// The fiber's timers and I/O may all be unref'd: the process lives until the fiber ends.
const keepAlive = setInterval(() => undefined, 2 ** 31 - 1)

const interrupt = () => fiber.unsafeInterruptAsFork(fiber.id())

const onSignal = (signal: NodeJS.Signals) => {
  // The second signal: the user does not want to wait for the clean-up.
  if (stopped?._tag === "Signal") process.exit(128 + (os.constants.signals[signal] ?? 2))
  const graceful = SignalStop.gracefulStop()
  stopped = { _tag: "Signal", code: graceful === undefined ? 128 + (os.constants.signals[signal] ?? 2) : 0 }
  process.stderr.write(`${graceful ?? "dbscope: interrupted"}\n`)
  interrupt()
}
process.on("SIGINT", onSignal)
process.on("SIGTERM", onSignal)

// Node's console swallows write errors: without this, a closed pipe went on being written to.
const onStdoutError = (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE" || stopped !== undefined) return
  stopped = { _tag: "ClosedStdout" }
  interrupt()
}
process.stdout.on("error", onStdoutError)

fiber.addObserver((exit) => {
  process.removeListener("SIGINT", onSignal)
  process.removeListener("SIGTERM", onSignal)
  clearInterval(keepAlive)
  const code = stopped?._tag === "Signal"
    ? stopped.code
    : stopped?._tag === "ClosedStdout"
    ? 0
    : Exit.isSuccess(exit)
    ? exit.value
    : 1
  if (code !== 0 || stopped !== undefined) process.exit(code)
  // On success, exit once stdout and stderr are flushed rather than let Node tear down a heap that
  // may hold a million rows (~0.1-0.15 s after the last line, for nothing).
  exitWhenFlushed()
})

/** Exits with 0 as soon as nothing written to stdout or stderr is still waiting to be written. */
const exitWhenFlushed = (): void => {
  const pending = [process.stdout, process.stderr].find((stream) => stream.writableLength > 0)
  if (pending === undefined) process.exit(0)
  pending.once("drain", exitWhenFlushed)
  pending.once("error", () => process.exit(0))
}
