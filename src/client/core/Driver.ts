/**
 * What a backend hands the client core: only what differs between databases. How to run one
 * statement on one connection (synchronously, for SQLite, or as an effect), how to stream rows,
 * how to run transaction control, which tables a statement touches, which statements only read,
 * and where connections come from. Everything shared (observation, invalidation, transactions, routing, counting) is the
 * core's, once for every backend.
 */
import type { SqlError } from "@effect/sql/SqlError"
import type * as Statement from "@effect/sql/Statement"
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import type { RowCheck } from "../../readers/RowRules.js"
import type { IsolationLevel } from "./Isolation.js"
import type { DbSystem } from "./Observation.js"
import type { ReadOnlyRules } from "./ReadOnlyGate.js"

/** What the caller wants back: rows as objects, rows as arrays, or the driver's own result. */
export type Shape = "rows" | "values" | "raw"

/** One statement as the core asks a driver to run it (parameters already bindable). */
export interface Request {
  readonly sql: string
  readonly params: ReadonlyArray<unknown>
  readonly shape: Shape
  /** `executeUnprepared`: not cached; on MySQL the text protocol, where one call may hold several statements. */
  readonly unprepared: boolean
  /** `SqlClient.SafeIntegers`: integers as `bigint`. */
  readonly safeIntegers: boolean
}

/** What one statement came to. */
export interface Ran {
  /** What the caller gets: rows, rows as arrays, or (`raw`) the driver's own result. */
  readonly result: unknown
  /** Rows returned, or changed by a write (for logs and spans). */
  readonly count: number
  /** `Reactivity` keys its writes invalidate; empty when it changed nothing. */
  readonly written: ReadonlyArray<string>
}

/** How a connection runs a statement: in the caller's synchronous step (throwing), or as an effect. */
export type Runner =
  | { readonly _tag: "Sync"; readonly run: (request: Request) => Ran }
  | { readonly _tag: "Async"; readonly run: (request: Request) => Effect.Effect<Ran, SqlError> }

/** One physical connection (or a pool standing in for "any free connection"). */
export interface DriverConnection {
  readonly runner: Runner
  /** Transaction control (`BEGIN IMMEDIATE`, `COMMIT`, `SAVEPOINT x`, ...), run as is. */
  readonly control: (sql: string) => Effect.Effect<void, SqlError>
  /** A lazy row stream; what it opens is released when the stream ends, however it ends. */
  readonly stream: (sql: string, params: ReadonlyArray<unknown>) => Stream.Stream<object, SqlError>
}

/** Read-only reader workers statements may be routed to (see `ReadRouting`). */
export interface Readers {
  readonly size: number
  /** Runs a read; with `check`, the reader checks the rows against its rules as it reads them. */
  readonly query: (
    sql: string,
    params: ReadonlyArray<unknown>,
    check?: RowCheck
  ) => Effect.Effect<ReadonlyArray<object>, { readonly _tag: string; readonly message: string }>
  /** Statements worth offering to a reader (a reader still refuses a write: `ReaderWriteRejected`). */
  readonly mayRun: (sql: string) => boolean
  /** Reads measured cheaper than this (ms) run on the main connection. */
  readonly mainThreadBelow: number
}

/** A backend. */
export interface Driver {
  readonly system: DbSystem
  readonly makeCompiler: (transform: ((name: string) => string) | undefined) => Statement.Compiler
  readonly spanAttributes: ReadonlyArray<readonly [string, unknown]>
  /**
   * The statements that start a transaction at `level` (`undefined`: the database's default), in
   * the dialect: `BEGIN IMMEDIATE` on SQLite, `SET TRANSACTION ISOLATION LEVEL …; BEGIN` on MySQL.
   */
  readonly beginTransaction: (level: IsolationLevel | undefined) => ReadonlyArray<string>
  /** Statements outside transactions. */
  readonly shared: DriverConnection
  /**
   * `single`: `shared` is the only connection (SQLite): the core serialises statements on it and
   * a transaction holds it. `pool`: `reserve` gives a connection of one's own.
   */
  readonly connections:
    | { readonly _tag: "Single" }
    | { readonly _tag: "Pool"; readonly reserve: Effect.Effect<DriverConnection, SqlError, Scope.Scope> }
  /** The tables a read reads (asked only while a `cacheQuery` records). */
  readonly tablesRead: (sql: string, params: ReadonlyArray<unknown>) => ReadonlyArray<string>
  /** Whether a failed statement ended its transaction on the database's side (a deadlock victim). */
  readonly endedTransaction: (error: SqlError) => boolean
  /**
   * Whether any failed statement aborts its transaction until a savepoint is rolled back to
   * (PostgreSQL): the core then refuses the rest with that failure, and never COMMITs it.
   */
  readonly failureAborts?: boolean | undefined
  /** What runs without permission to write, and how the connection refuses writes meanwhile. */
  readonly readOnly: ReadOnlyRules
  readonly readers?: Readers | undefined
}
