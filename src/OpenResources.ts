/**
 * Counts the resources dbscope holds open (SQLite connections, reader worker threads, MySQL and
 * PostgreSQL pools and the connections taken out of them, open cursors and transactions),
 * so tests and health checks can prove that everything acquired was released.
 */
import * as Effect from "effect/Effect"

/** The kinds of resource dbscope tracks. */
export type ResourceKind =
  | "connection"
  | "readerWorker"
  | "mysqlPool"
  | "mysqlConnection"
  | "postgresPool"
  | "postgresConnection"
  | "iterator"
  | "transaction"

const counts: Record<ResourceKind, number> = {
  connection: 0,
  readerWorker: 0,
  mysqlPool: 0,
  // Connections taken out of a MySQL pool (for a transaction or a stream), until given back.
  mysqlConnection: 0,
  postgresPool: 0,
  // Connections of a PostgreSQL client outside its pool's free list: taken for a transaction or a
  // stream, and the one that listens for other processes' writes.
  postgresConnection: 0,
  // Statements still in use: an open cursor (a SQLite iterator, a MySQL row stream). A statement
  // run in one go is done before anything else can run, so it is never left in use.
  iterator: 0,
  transaction: 0
}

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

/** Every count at once: a leak test compares this before and after. */
export const snapshot: Effect.Effect<Readonly<Record<ResourceKind, number>>> = Effect.sync(() => ({ ...counts }))
