/**
 * Counts the resources dbscope holds open (connections now; statements, cursors and workers later),
 * so tests and health checks can prove that everything acquired was released.
 */
import * as Effect from "effect/Effect"

/** The kinds of resource dbscope tracks. */
export type ResourceKind = "connection"

const counts: Record<ResourceKind, number> = { connection: 0 }

/** Records that one resource of `kind` was opened (called from an acquire). */
export const opened = (kind: ResourceKind): Effect.Effect<void> => Effect.sync(() => void counts[kind]++)

/** Records that one resource of `kind` was closed (called from the matching release). */
export const closed = (kind: ResourceKind): Effect.Effect<void> => Effect.sync(() => void counts[kind]--)

/** How many resources of `kind` are open in this process right now. */
export const current = (kind: ResourceKind): Effect.Effect<number> => Effect.sync(() => counts[kind])
