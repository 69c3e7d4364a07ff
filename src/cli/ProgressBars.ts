/**
 * The CLI's progress bars (`Progress` for a terminal): `cli-progress` bars on stderr, only when
 * stderr is a terminal, so pipes, CI and tests get nothing and stdout stays clean for data. Bundled
 * into the CLI; the library itself is silent by default.
 */
import { SingleBar } from "cli-progress"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Progress, type ProgressBar, silent } from "../users/Progress.js"

const stderrIsTerminal = () => process.stderr.isTTY === true && (process.stderr.columns ?? 0) > 0

/** `cli-progress` bars on stderr if `interactive()` holds when the layer is built; else nothing. */
const layerBars = (interactive: () => boolean): Layer.Layer<Progress> =>
  Layer.sync(Progress, () => {
    if (!interactive()) return silent
    return {
      start: (label: string, total: number) =>
        Effect.acquireRelease(
          Effect.sync(() => {
            const bar = new SingleBar({
              format: `${label} [{bar}] {percentage}% | {value}/{total} | {duration}s {status}`,
              stream: process.stderr,
              hideCursor: true,
              clearOnComplete: false
            })
            bar.start(total, 0, { status: "" })
            return bar
          }),
          (bar) => Effect.sync(() => bar.stop())
        ).pipe(Effect.map((bar): ProgressBar => ({
          advance: (amount) => Effect.sync(() => bar.increment(amount)),
          status: (text) => Effect.sync(() => bar.update({ status: text }))
        })))
    }
  })

/** A `cli-progress` bar on stderr, shown only when stdout and stderr are terminals. */
export const layerTerminal: Layer.Layer<Progress> = layerBars(() => process.stdout.isTTY === true && stderrIsTerminal())

/** A bar on stderr whenever stderr is a terminal, also when stdout is redirected (a report goes there). */
export const layerStderr: Layer.Layer<Progress> = layerBars(stderrIsTerminal)
