/**
 * Counts the resources dbscope holds open (SQLite connections, reader worker threads, MySQL pools),
 * so tests and health checks can prove that everything acquired was released.
 */
import * as Effect from "effect/Effect"

/** The kinds of resource dbscope tracks. */
export type ResourceKind = "connection" | "readerWorker" | "mysqlPool"

const counts: Record<ResourceKind, number> = { connection: 0, readerWorker: 0, mysqlPool: 0 }

/** Records, from a driver callback, that one resource of `kind` was opened. */
export const markOpened = (kind: ResourceKind): void => void counts[kind]++

/** Records, from a driver callback, that one resource of `kind` was closed. */
export const markClosed = (kind: ResourceKind): void => void counts[kind]--

/** Records that one resource of `kind` was opened (called from an acquire). */
export const opened = (kind: ResourceKind): Effect.Effect<void> => Effect.sync(() => markOpened(kind))

/** Records that one resource of `kind` was closed (called from the matching release). */
export const closed = (kind: ResourceKind): Effect.Effect<void> => Effect.sync(() => markClosed(kind))

/** How many resources of `kind` are open in this process right now. */
export const current = (kind: ResourceKind): Effect.Effect<number> => Effect.sync(() => counts[kind])
