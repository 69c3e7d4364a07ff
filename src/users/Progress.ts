/**
 * Progress reporting for long jobs (imports, benchmarks). Silent unless a layer says otherwise: a
 * program using the library needs no layer for it. The CLI provides terminal bars
 * (`cli/ProgressBars`): a live bar on stderr on a terminal, nothing in pipes, CI or tests, so stdout
 * stays clean for data.
 */
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
export interface ProgressService {
  readonly start: (label: string, total: number) => Effect.Effect<ProgressBar, never, Scope.Scope>
}

const silentBar: ProgressBar = { advance: () => Effect.void, status: () => Effect.void }

/** Progress that shows nothing. */
export const silent: ProgressService = { start: () => Effect.succeed(silentBar) }

/** How long jobs report progress. Default: silent, so no layer is needed for it. */
export class Progress extends Context.Reference<Progress>()("dbscope/Progress", { defaultValue: () => silent }) {}

/** No output at all (the default; for undoing another layer). */
export const layerSilent: Layer.Layer<Progress> = Layer.succeed(Progress, silent)
