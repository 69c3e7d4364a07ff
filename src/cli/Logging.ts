/**
 * Where dbscope's log lines go: stderr, for every command (the demo too), so that stdout carries only
 * data (tables, JSON).
 */
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import { logfmtLogger } from "../combinators/LogfmtLogger.js"

/**
 * Colours only for a terminal, and never with `NO_COLOR` set (whatever its value). The pretty
 * logger's own "auto" looks at stdout, so `2> file` on a terminal wrote escape codes into the file.
 */
const colours = process.stderr.isTTY === true && process.env.NO_COLOR === undefined

const toStderr = Logger.prettyLogger({ stderr: true, colors: colours })

/** One logfmt line per entry on stderr: what `--log-queries` writes, easy to grep and parse. */
const logfmtToStderr = Logger.withConsoleError(logfmtLogger)

/** Replaces the default logger with one writing to stderr. */
export const layerStderr: Layer.Layer<never> = Logger.replace(Logger.defaultLogger, toStderr)

/** Switches the stderr lines (or the default logger) to logfmt, one line per statement logged. */
export const layerStderrLogfmt: Layer.Layer<never> = Layer.merge(
  Logger.replace(toStderr, logfmtToStderr),
  Logger.replace(Logger.defaultLogger, logfmtToStderr)
)
