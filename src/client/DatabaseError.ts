/**
 * The failures a user can meet when dbscope talks to a database, each with a one-line message that
 * names the problem without leaking SQL, file internals or schema details.
 */
import type { SqlError } from "@effect/sql/SqlError"
import * as Data from "effect/Data"

/** The database file cannot be used: missing folder rights, a directory, not SQLite, unreadable. */
export class DatabaseFileError extends Data.TaggedError("DatabaseFileError")<{
  readonly path: string
  readonly reason: string
  readonly cause?: unknown
}> {
  override get message() {
    return `cannot use database ${this.path}: ${this.reason}`
  }
}

/** The database server cannot be used: unreachable, wrong password, unknown database... */
export class DatabaseConnectError extends Data.TaggedError("DatabaseConnectError")<{
  /** The server and database, as `mysql://user@host:port/database`: never the password. */
  readonly target: string
  readonly reason: string
  readonly cause?: unknown
}> {
  override get message() {
    return `cannot connect to ${this.target}: ${this.reason}`
  }
}

/** A server's reader worker could not connect: the server is named, as for the pool itself. */
export const readerConnectError = (target: string) => (error: { readonly reason: string }) =>
  new DatabaseConnectError({ target, reason: `a reader worker could not connect (${error.reason})` })

/** A statement failed for a reason that is not the user's input (busy, read-only, corrupt, full...). */
export class DatabaseError extends Data.TaggedError("DatabaseError")<{
  readonly operation: string
  readonly reason: string
  readonly code: string
  readonly cause: unknown
}> {
  /** Whether the same work may succeed if tried again (the database was locked). */
  get transient(): boolean {
    return isTransientCode(this.code)
  }
  override get message() {
    return `${this.operation} failed: ${this.reason}`
  }
}

/** The driver's error code (`SQLITE_BUSY`, `ER_DUP_ENTRY`, ...) when there is one. */
export const driverCode = (error: SqlError): string => {
  const cause: unknown = error.cause
  if (typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "string") {
    return cause.code
  }
  return "UNKNOWN"
}

/** The driver's own message, for errors about SQL the user wrote themselves. */
export const driverMessage = (error: SqlError): string => {
  const cause: unknown = error.cause
  return cause instanceof Error ? cause.message : error.message
}

const reasons: ReadonlyArray<readonly [prefix: string, reason: string]> = [
  ["SQLITE_BUSY", "the database is locked by another connection; try again"],
  [
    "ER_LOCK_DEADLOCK",
    "the transaction conflicted with another one (a deadlock, or a write on another cluster node); try again"
  ],
  ["ER_LOCK_WAIT_TIMEOUT", "a lock held by another transaction did not come free in time; try again"],
  // MariaDB 11.6+ with innodb_snapshot_isolation: a row changed since the transaction's snapshot.
  ["ER_CHECKREAD", "the transaction conflicted with a concurrent one (a row changed since it began); try again"],
  ["SQLITE_LOCKED", "the database is locked by another connection; try again"],
  ["SQLITE_READONLY", "the database file is read-only"],
  ["SQLITE_CORRUPT", "the database file is corrupt"],
  ["SQLITE_NOTADB", "the file is not a SQLite database"],
  ["SQLITE_FULL", "the disk is full"],
  ["SQLITE_CANTOPEN", "the database file cannot be opened"],
  ["SQLITE_IOERR", "an I/O error occurred while accessing the database file"],
  ["SQLITE_PERM", "permission denied"],
  ["SQLITE_AUTH", "permission denied"],
  ["SQLITE_CONSTRAINT", "a row violates a table constraint"],
  ["READER_CRASHED", "a reader worker stopped unexpectedly; try again"],
  ["READER_TIMEOUT", "no reader worker became free in time; try again"],
  ["READER_BUSY", "too many queries are waiting for a reader; try again later"],
  ["SQLITE_ERROR", "the database schema is not what dbscope expects (run `dbscope setup`)"],
  ["ER_NO_SUCH_TABLE", "the database schema is not what dbscope expects (run `dbscope setup`)"],
  ["ER_TABLEACCESS_DENIED_ERROR", "permission denied (this user may not do that)"],
  ["ER_COLUMNACCESS_DENIED_ERROR", "permission denied (this user may not do that)"],
  ["ER_DBACCESS_DENIED_ERROR", "permission denied (this user may not use the database)"],
  ["ER_SPECIFIC_ACCESS_DENIED_ERROR", "permission denied (this user may not do that)"],
  ["ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION", "the statement writes, and the connection is read-only"],
  ["ER_OPTION_PREVENTS_STATEMENT", "the server is read-only"],
  ["ER_DUP_ENTRY", "a row violates a unique constraint"],
  ["ER_CHECK_CONSTRAINT_VIOLATED", "a row violates a table constraint"],
  ["ER_CONSTRAINT_FAILED", "a row violates a table constraint"],
  ["ECONNREFUSED", "the server is not reachable"],
  ["PROTOCOL_CONNECTION_LOST", "the server closed the connection; try again"],
  ["ECONNRESET", "the server closed the connection; try again"],
  ["EPIPE", "the server closed the connection; try again"],
  ["ER_CONNECTION_KILLED", "the server closed the connection; try again"],
  ["ER_SERVER_SHUTDOWN", "the server is shutting down; try again"],
  // MariaDB Galera's 1047: "WSREP has not yet prepared node for application use".
  ["ER_UNKNOWN_COM_ERROR", "the cluster node is not ready (not synced with the cluster); try again"],
  ["NODE_UNAVAILABLE", "no node of the cluster is in service; try again"],
  // PostgreSQL's SQLSTATE codes.
  ["40001", "the transaction conflicted with a concurrent one (a serialization failure); try again"],
  ["40P01", "the transaction conflicted with another one (a deadlock); try again"],
  ["55P03", "a lock held by another transaction did not come free in time; try again"],
  ["23505", "a row violates a unique constraint"],
  ["23", "a row violates a table constraint"],
  ["42P01", "the database schema is not what dbscope expects (run `dbscope setup`)"],
  ["42703", "the database schema is not what dbscope expects (run `dbscope setup`)"],
  ["42501", "permission denied (this user may not do that)"],
  ["25006", "the statement writes, and the connection is read-only"],
  ["25P02", "a statement of the transaction had failed, so nothing of it was committed"],
  ["57P01", "the server closed the connection; try again"],
  ["57P03", "the server is starting up or shutting down; try again"],
  ["53300", "the server has no free connection slot; try again"],
  ["3D000", "the database does not exist"],
  ["28P01", "access denied (wrong user name or password)"]
]

/** What a driver error code means, in words a user can act on. */
export const reasonFor = (code: string): string =>
  reasons.find(([prefix]) => code.startsWith(prefix))?.[1] ?? `unexpected database error (${code})`

/** Maps a `SqlError` to a `DatabaseError` for `operation`, keeping the cause for logs. */
export const fromSqlError = (operation: string) => (error: SqlError): DatabaseError => {
  const code = driverCode(error)
  return new DatabaseError({ operation, reason: reasonFor(code), code, cause: error })
}

/** Codes that say the connection was lost under a statement: a write may or may not have happened. */
export const connectionLostCodes: ReadonlySet<string> = new Set([
  "PROTOCOL_CONNECTION_LOST",
  "ECONNRESET",
  "EPIPE",
  "ER_CONNECTION_KILLED",
  "ER_SERVER_SHUTDOWN",
  // PostgreSQL: the server ended the connection (a shutdown, `pg_terminate_backend`).
  "57P01"
])

/**
 * Codes that say a statement did not run: the server could not be reached, or (1047,
 * `ER_UNKNOWN_COM_ERROR`) a Galera node refused it as "not ready for application use".
 */
export const notRunCodes: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
  "ER_UNKNOWN_COM_ERROR"
])

/** Codes that say a connection, or the node behind it, went away: another try uses another one. */
const connectionGone = new Set([
  ...connectionLostCodes,
  "ECONNREFUSED",
  "ER_UNKNOWN_COM_ERROR",
  "NODE_UNAVAILABLE"
])

const postgresTransient = new Set(["40001", "40P01", "55P03", "53300", "57P03"])

/**
 * Driver codes that go away if the work is tried again: a lock held by someone else (SQLite
 * BUSY/LOCKED, MySQL deadlock 1213, which is also Galera's certification conflict, and lock-wait
 * timeout 1205, PostgreSQL's serialization failure 40001, deadlock 40P01 and lock timeout 55P03,
 * and its server out of connection slots 53300), or a connection or cluster node that went away (a cluster fails over to another
 * node). A write whose connection was lost may have committed before it was: give such writes a
 * key of their own so that a retry cannot write twice (see `outcomeUnknown`).
 */
export const isTransientCode = (code: string): boolean =>
  code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED") || code === "ER_LOCK_DEADLOCK" ||
  code === "ER_LOCK_WAIT_TIMEOUT" || code === "ER_CHECKREAD" || postgresTransient.has(code) || connectionGone.has(code)

/** Whether a failed write may nevertheless have been committed: its connection went away mid-way. */
export const isOutcomeUnknownCode = (code: string): boolean => connectionLostCodes.has(code)

/** True for driver errors that go away if the statement is tried again. */
export const isTransient = (error: SqlError): boolean => isTransientCode(driverCode(error))
