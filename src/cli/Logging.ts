/**
 * Where dbscope's log lines go. Commands log to stderr so that stdout carries only data (tables,
 * JSON); the demo logs to stdout so its open/close lines interleave with the rows like the seed's.
 */
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import { logfmtLogger } from "../combinators/LogfmtLogger.js"

const toStderr = Logger.prettyLogger({ stderr: true, colors: "auto" })
const toStdout = Logger.prettyLogger({ stderr: false, colors: "auto" })

/** One logfmt line per entry on stderr: what `--log-queries` writes, easy to grep and parse. */
const logfmtToStderr = Logger.withConsoleError(logfmtLogger)

/** Replaces the default logger with one writing to stderr. */
export const layerStderr: Layer.Layer<never> = Logger.replace(Logger.defaultLogger, toStderr)

/** Sends the lines that would go to stderr (or the default logger) to stdout instead. */
export const layerStdout: Layer.Layer<never> = Layer.merge(
  Logger.replace(toStderr, toStdout),
  Logger.replace(Logger.defaultLogger, toStdout)
)

/** Switches the stderr lines (or the default logger) to logfmt, one line per statement logged. */
export const layerStderrLogfmt: Layer.Layer<never> = Layer.merge(
  Logger.replace(toStderr, logfmtToStderr),
  Logger.replace(Logger.defaultLogger, logfmtToStderr)
)
