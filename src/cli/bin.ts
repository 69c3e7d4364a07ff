#!/usr/bin/env node
/**
 * The `dbscope` executable: runs the CLI once, prints any failure as one line on stderr and exits
 * with 2 for usage errors, 1 for everything else, 130 when interrupted.
 */
import * as ValidationError from "@effect/cli/ValidationError"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Cli from "./Cli.js"
import * as Logging from "./Logging.js"

const usageTags = new Set(["UsageError", "InvalidAge", "InvalidUserId", "InvalidPageSize"])

const errorTag = (error: unknown): string =>
  typeof error === "object" && error !== null && "_tag" in error ? String(error._tag) : ""

/** The exit code for how the program ended, after telling the user why in one line. */
const report = (cause: Cause.Cause<unknown>): Effect.Effect<number> => {
  if (Cause.isInterruptedOnly(cause)) return Effect.succeed(130)
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) {
    const error = failure.value
    // @effect/cli has already printed its own parse errors (with usage) on stderr.
    if (ValidationError.isValidationError(error)) return Effect.succeed(2)
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

NodeRuntime.runMain(main, {
  disableErrorReporting: true,
  disablePrettyLogger: true,
  // A SIGINT/SIGTERM interrupts `main` itself, so `report` never sees it: 130 is decided here.
  teardown: (exit, onExit) =>
    onExit(
      Exit.isSuccess(exit) && typeof exit.value === "number" ? exit.value : Exit.isInterrupted(exit) ? 130 : 1
    )
})
