/**
 * Where dbscope's log lines go. Commands log to stderr so that stdout carries only data (tables,
 * JSON); the demo logs to stdout so its open/close lines interleave with the rows like the seed's.
 */
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"

const toStderr = Logger.prettyLogger({ stderr: true, colors: "auto" })
const toStdout = Logger.prettyLogger({ stderr: false, colors: "auto" })

/** Replaces the default logger with one writing to stderr. */
export const layerStderr: Layer.Layer<never> = Logger.replace(Logger.defaultLogger, toStderr)

/** Sends the lines that would go to stderr (or the default logger) to stdout instead. */
export const layerStdout: Layer.Layer<never> = Layer.merge(
  Logger.replace(toStderr, toStdout),
  Logger.replace(Logger.defaultLogger, toStdout)
)
