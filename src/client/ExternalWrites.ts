/**
 * Whether a client can tell that something outside it wrote to the database (another process,
 * the `sqlite3` shell, a script on the server), so that `cacheQuery` never serves a result older
 * than such a write:
 * - `Versioned`: a number that changes whenever another connection commits (SQLite's
 *   `PRAGMA data_version`), or whenever a PostgreSQL client may have missed a notification of
 *   one (its listening connection is down: see `PostgresWrites`), read before a cached result is
 *   served; PostgreSQL's notifications drop results table by table, through `Reactivity`;
 * - `Unseen`: no such signal (MySQL/MariaDB has no change feed a client can afford to follow), so
 *   a cached result lives at most `staleFor` unless the cache or the query sets a time of its own.
 */
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import type * as Duration from "effect/Duration"

export type Signal = Data.TaggedEnum<{
  /** The current version; `undefined` when it cannot be read just now (the connection is busy). */
  Versioned: { readonly version: () => number | undefined }
  Unseen: { readonly staleFor: Duration.Duration }
}>

export const Signal = Data.taggedEnum<Signal>()

/** The open database's signal, provided beside its `SqlClient`. */
export class ExternalWrites extends Context.Tag("dbscope/ExternalWrites")<ExternalWrites, Signal>() {}
