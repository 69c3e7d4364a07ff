/**
 * Progress reporting for long jobs (imports, benchmarks). A terminal gets a live bar on stderr;
 * anything else (pipes, CI, tests) gets nothing, so stdout stays clean for data.
 */
import { SingleBar } from "cli-progress"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"

/** One running bar. */
export interface ProgressBar {
  readonly advance: (amount: number) => Effect.Effect<void>
  /** Shows what is being done now, after the bar (a bar that shows nothing ignores it). */
  readonly status: (text: string) => Effect.Effect<void>
}

/** Starts bars; a bar is stopped when the scope that started it closes. */
export class Progress extends Context.Tag("dbscope/Progress")<Progress, {
  readonly start: (label: string, total: number) => Effect.Effect<ProgressBar, never, Scope.Scope>
}>() {}

const silentBar: ProgressBar = { advance: () => Effect.void, status: () => Effect.void }

/** No output at all. */
export const layerSilent: Layer.Layer<Progress> = Layer.succeed(Progress, { start: () => Effect.succeed(silentBar) })

const stderrIsTerminal = () => process.stderr.isTTY === true && (process.stderr.columns ?? 0) > 0

/** `cli-progress` bars on stderr if `interactive()` holds when the layer is built; else nothing. */
const layerBars = (interactive: () => boolean): Layer.Layer<Progress> =>
  Layer.sync(Progress, () => {
    if (!interactive()) return { start: () => Effect.succeed(silentBar) }
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
