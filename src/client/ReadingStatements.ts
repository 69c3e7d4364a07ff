/**
 * Which statements only read, on each backend: the rules of the read-only gate (`core/ReadOnlyGate`).
 * An allowlist, not a denylist: a statement runs without permission to write only when it is one of
 * the reading kinds and uses nothing that reaches beyond the statement; anything else is refused
 * with a reason, before it runs.
 *
 * - MySQL/MariaDB: `SELECT`, `WITH`, `SHOW`, `DESCRIBE`/`DESC`, `EXPLAIN` (of a reading statement,
 *   never `EXPLAIN ANALYZE`), `VALUES`, `TABLE`; never with `INTO` (a file on the server, or
 *   variables) nor the named-lock functions (`GET_LOCK`, `RELEASE_LOCK`, `RELEASE_ALL_LOCKS`: the
 *   lock would outlive the statement on a pooled connection). It runs in a `READ ONLY` transaction,
 *   rolled back after, which refuses the writes a text cannot show (a sequence's `NEXTVAL`, a write
 *   in a stored function). `SLEEP` and `BENCHMARK` only take time, and are let through.
 * - PostgreSQL: `SELECT`, `WITH`, `VALUES`, `TABLE`, `SHOW`, `EXPLAIN` (never `EXPLAIN ANALYZE`);
 *   never `SELECT ... INTO` (it creates a table), nor the functions whose effect outlives the
 *   statement or reaches past the database (session advisory locks, ending or signalling other
 *   backends, server files, `dblink`, reloading the configuration, running SQL from a string),
 *   and no name spelt in Unicode escapes. It runs in a `READ ONLY` transaction, rolled back after,
 *   which refuses every write, even one inside a function, and undoes `set_config`; the session
 *   advisory locks a function may still have taken are released after.
 * - SQLite: `SELECT`, `WITH` and `VALUES` that SQLite itself compiles as read-only
 *   (`sqlite3_stmt_readonly`), `EXPLAIN` (which never runs its statement), and the `PRAGMA`s that
 *   read (`PRAGMA journal_mode`, `PRAGMA table_info(users)`): a pragma with a value (`= x` or
 *   `(x)`) changes a setting, and some do so while merely being compiled, so pragmas are judged on
 *   their text before SQLite sees them. SQLite calls `ATTACH` (which creates a file), `BEGIN` and
 *   setting pragmas read-only: the allowlist refuses them. It runs with `PRAGMA query_only = ON`.
 */
import { type ReadOnlyRules, Verdict } from "./core/ReadOnlyGate.js"
import { isSymbol, isWord, mysqlReadings, type Token, tokens } from "./SqlTokens.js"

const writes = "this statement writes to the database"

/** Why a statement of a kind that does not only read is refused. */
const reasons: Readonly<Record<string, string>> = {
  INSERT: writes,
  UPDATE: writes,
  DELETE: writes,
  REPLACE: writes,
  LOAD: "LOAD writes to the database",
  TRUNCATE: writes,
  CREATE: "CREATE changes the schema",
  DROP: "DROP changes the schema",
  ALTER: "ALTER changes the schema",
  RENAME: "RENAME changes the schema",
  SET: "SET changes a setting",
  KILL: "KILL ends a connection or a query",
  GRANT: "GRANT changes privileges",
  REVOKE: "REVOKE changes privileges",
  FLUSH: "FLUSH changes the server's state",
  RESET: "RESET changes the server's state",
  PURGE: "PURGE deletes logs",
  ANALYZE: "ANALYZE writes table statistics (or runs the statement it is given)",
  OPTIMIZE: "OPTIMIZE rebuilds tables",
  REPAIR: "REPAIR rewrites tables",
  CHECK: "CHECK TABLE records its result in the table",
  REINDEX: "REINDEX rebuilds indexes",
  VACUUM: "VACUUM rewrites the database or writes a copy of it to a file",
  ATTACH: "ATTACH opens, or creates, another database file",
  DETACH: "DETACH changes the connection's databases",
  LOCK: "LOCK takes locks that outlive the statement",
  UNLOCK: "UNLOCK releases locks",
  CALL: "CALL runs a procedure, which may write",
  DO: "DO evaluates expressions only for their side effects",
  HANDLER: "HANDLER opens a table handler that outlives the statement",
  BEGIN: "BEGIN controls transactions",
  START: "START controls transactions or replication",
  STOP: "STOP controls replication",
  COMMIT: "COMMIT controls transactions",
  END: "END controls transactions",
  ROLLBACK: "ROLLBACK controls transactions",
  SAVEPOINT: "SAVEPOINT controls transactions",
  RELEASE: "RELEASE controls transactions",
  XA: "XA controls transactions",
  INSTALL: "INSTALL adds to the server",
  UNINSTALL: "UNINSTALL removes from the server",
  SHUTDOWN: "SHUTDOWN stops the server",
  PREPARE: "PREPARE runs statements the gate cannot see",
  EXECUTE: "EXECUTE runs statements the gate cannot see",
  DEALLOCATE: "DEALLOCATE changes the session",
  BINLOG: "BINLOG replays writes",
  CHANGE: "CHANGE changes replication"
}

/** The tokens from the first statement's first word: leading empty statements (`;`) and `(` are skipped. */
const fromFirstWord = (all: ReadonlyArray<Token>): ReadonlyArray<Token> => {
  let start = 0
  while (isSymbol(all[start], ";") || isSymbol(all[start], "(")) start++
  return all.slice(start)
}

const refusedAs = (first: Token | undefined, allowed: string): Verdict => {
  if (first?._tag !== "Word") return Verdict.Refused({ reason: `the statement does not start with ${allowed}` })
  return Verdict.Refused({ reason: reasons[first.text] ?? `${first.text} is not one of ${allowed}` })
}

// MySQL / MariaDB

const mysqlReading = ["SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "VALUES", "TABLE"]
const mysqlAllowed = "SELECT, WITH, SHOW, DESCRIBE, EXPLAIN, VALUES or TABLE"
const namedLocks = ["GET_LOCK", "RELEASE_LOCK", "RELEASE_ALL_LOCKS"]

/** What a reading statement may not use anywhere. */
const mysqlBody = (all: ReadonlyArray<Token>): Verdict => {
  for (const token of all) {
    if (isWord(token, "INTO", "OUTFILE", "DUMPFILE")) {
      return Verdict.Refused({ reason: "SELECT ... INTO writes a file on the server or sets variables" })
    }
    if (token._tag === "Word" && namedLocks.includes(token.text)) {
      return Verdict.Refused({ reason: `${token.text} takes or releases a named lock, which outlives the statement` })
    }
  }
  return Verdict.Reads()
}

/** `EXPLAIN`/`DESCRIBE` of what? A reading statement, a table, or another connection's plan. */
const mysqlExplained = (rest: ReadonlyArray<Token>): Verdict => {
  let i = 0
  while (isWord(rest[i], "EXTENDED", "PARTITIONS", "FORMAT")) {
    i += isWord(rest[i], "FORMAT") && isSymbol(rest[i + 1], "=") ? 3 : 1
  }
  const target = rest[i]
  if (isWord(target, "ANALYZE")) return Verdict.Refused({ reason: "EXPLAIN ANALYZE runs the statement" })
  if (target?._tag === "Word" && !mysqlReading.includes(target.text) && target.text in reasons) {
    return Verdict.Refused({ reason: `EXPLAIN ${target.text}: only a reading statement may be explained` })
  }
  return Verdict.Reads()
}

const mysqlVerdict = (all: ReadonlyArray<Token>): Verdict => {
  const statement = fromFirstWord(all)
  const first = statement[0]
  // Nothing to run: the server says so itself.
  if (first === undefined) return Verdict.Reads()
  if (first._tag !== "Word" || !mysqlReading.includes(first.text)) return refusedAs(first, mysqlAllowed)
  if (isWord(first, "EXPLAIN", "DESCRIBE", "DESC")) {
    const explained = mysqlExplained(statement.slice(1))
    if (explained._tag === "Refused") return explained
  }
  return mysqlBody(all)
}

/**
 * The MySQL/MariaDB rules: the text judged as every `sql_mode` could read it, and the statement
 * run in a read-only transaction that is rolled back after.
 */
export const mysqlRules: ReadOnlyRules = {
  check: (sql) => mysqlReadings(sql).map(mysqlVerdict).find((verdict) => verdict._tag === "Refused") ?? Verdict.Reads(),
  enter: "START TRANSACTION READ ONLY",
  leave: "ROLLBACK"
}

// PostgreSQL

const postgresReading = ["SELECT", "WITH", "VALUES", "TABLE", "SHOW", "EXPLAIN"]
const postgresAllowed = "SELECT, WITH, VALUES, TABLE, SHOW or EXPLAIN"

/** Functions a read may not call, by name prefix, and why. */
const postgresFunctions: ReadonlyArray<readonly [prefix: string, reason: string]> = [
  ["PG_ADVISORY_LOCK", "takes a session lock, which outlives the statement"],
  ["PG_ADVISORY_UNLOCK", "releases session locks"],
  ["PG_TRY_ADVISORY_LOCK", "takes a session lock, which outlives the statement"],
  ["PG_TERMINATE_BACKEND", "ends another connection"],
  ["PG_CANCEL_BACKEND", "cancels another connection's query"],
  ["PG_RELOAD_CONF", "reloads the server's configuration"],
  ["PG_ROTATE_LOGFILE", "changes the server's state"],
  ["PG_SWITCH_WAL", "changes the server's state"],
  ["PG_PROMOTE", "changes the server's state"],
  ["PG_CREATE_RESTORE_POINT", "changes the server's state"],
  ["PG_LOG_BACKEND_MEMORY_CONTEXTS", "changes the server's state"],
  ["PG_READ_FILE", "reads a file on the server"],
  ["PG_READ_BINARY_FILE", "reads a file on the server"],
  ["PG_LS_", "lists files on the server"],
  ["PG_CREATE_", "creates a replication slot or a restore point, which outlive the statement"],
  ["PG_DROP_REPLICATION_SLOT", "drops a replication slot"],
  ["PG_REPLICATION_", "changes replication"],
  ["PG_LOGICAL_", "changes replication"],
  ["PG_COPY_", "copies a replication slot"],
  ["PG_STAT_RESET", "resets the server's statistics"],
  ["PG_FILE_", "writes a file on the server"],
  ["PG_WAL_REPLAY_", "changes the server's state"],
  ["LO_IMPORT", "reads a file on the server"],
  ["LO_EXPORT", "writes a file on the server"],
  ["DBLINK", "runs statements on another connection"],
  ["QUERY_TO_XML", "runs the statement in its text, which the gate cannot see"],
  ["CURSOR_TO_XML", "reads a cursor the gate cannot see"],
  ["TS_STAT", "runs the statement in its text, which the gate cannot see"]
]

const postgresVerdict = (all: ReadonlyArray<Token>): Verdict => {
  const statement = fromFirstWord(all)
  const first = statement[0]
  if (first === undefined) return Verdict.Reads()
  if (first._tag !== "Word" || !postgresReading.includes(first.text)) return refusedAs(first, postgresAllowed)
  if (isWord(first, "EXPLAIN")) {
    // `EXPLAIN ANALYZE x` and `EXPLAIN (ANALYZE, ...) x` run x.
    const options = isSymbol(statement[1], "(")
      ? statement.slice(2, statement.findIndex((token) => isSymbol(token, ")")))
      : statement.slice(1, 3)
    if (options.some((token) => isWord(token, "ANALYZE", "ANALYSE"))) {
      return Verdict.Refused({ reason: "EXPLAIN ANALYZE runs the statement" })
    }
  }
  for (const [i, token] of statement.entries()) {
    if (isWord(token, "INTO")) return Verdict.Refused({ reason: "SELECT ... INTO creates a table" })
    // Sent alone anyway (one prepared statement), but a second statement is never a read.
    if (isSymbol(token, ";") && statement.slice(i).some((next) => !isSymbol(next, ";"))) {
      return Verdict.Refused({ reason: "only one statement may be run at a time" })
    }
    // `U&"pg_advisory_\006cock"`: a name spelt in escapes, which the denylist could not read.
    const escaped = statement[i + 2]
    if (isWord(token, "U") && isSymbol(statement[i + 1], "&") && escaped?._tag === "Quoted" && escaped.quote === "\"") {
      return Verdict.Refused({ reason: "names written with Unicode escapes (U&) are not allowed in a read" })
    }
    // A function is named by a word, or by a quoted name (`"pg_advisory_lock"(1)`).
    const name = token._tag === "Word" ? token.text : token._tag === "Quoted" && token.quote === "\"" ? token.text : ""
    if (name === "" || !isSymbol(statement[i + 1], "(")) continue
    const upper = name.toUpperCase()
    const denied = postgresFunctions.find(([prefix]) => upper.startsWith(prefix))
    if (denied !== undefined) return Verdict.Refused({ reason: `${name.toLowerCase()} ${denied[1]}` })
  }
  return Verdict.Reads()
}

/** The PostgreSQL rules: the text judged, and the statement run in a read-only transaction rolled back after. */
export const postgresRules: ReadOnlyRules = {
  check: (sql) => postgresVerdict(tokens(sql, { _tag: "Postgres" })),
  enter: "START TRANSACTION READ ONLY",
  // A session advisory lock outlives the rollback on the pooled connection: whatever a read took
  // past the check (a function calling it), it gives back.
  leave: "ROLLBACK; SELECT pg_advisory_unlock_all()"
}

// SQLite

const sqliteAllowed = "SELECT, WITH, VALUES, EXPLAIN or a PRAGMA that reads"

/** Pragmas whose bare form (`PRAGMA name`) only reads. */
const readingPragmas = new Set([
  "analysis_limit",
  "application_id",
  "auto_vacuum",
  "automatic_index",
  "busy_timeout",
  "cache_size",
  "cache_spill",
  "cell_size_check",
  "checkpoint_fullfsync",
  "collation_list",
  "compile_options",
  "data_version",
  "database_list",
  "defer_foreign_keys",
  "encoding",
  "foreign_key_check",
  "foreign_keys",
  "freelist_count",
  "fullfsync",
  "function_list",
  "hard_heap_limit",
  "ignore_check_constraints",
  "integrity_check",
  "journal_mode",
  "journal_size_limit",
  "legacy_alter_table",
  "locking_mode",
  "max_page_count",
  "mmap_size",
  "module_list",
  "page_count",
  "page_size",
  "pragma_list",
  "query_only",
  "quick_check",
  "read_uncommitted",
  "recursive_triggers",
  "reverse_unordered_selects",
  "schema_version",
  "secure_delete",
  "soft_heap_limit",
  "synchronous",
  "table_list",
  "temp_store",
  "threads",
  "trusted_schema",
  "user_version",
  "wal_autocheckpoint"
])

/** Pragmas whose argument names what to read (`PRAGMA table_info(users)`), not a new setting. */
const pragmasOfAName = new Set([
  "foreign_key_check",
  "foreign_key_list",
  "index_info",
  "index_list",
  "index_xinfo",
  "integrity_check",
  "quick_check",
  "table_info",
  "table_list",
  "table_xinfo"
])

/** `PRAGMA [schema.]name`, `PRAGMA name(argument)`: judged on the words after `PRAGMA`. */
const pragmaVerdict = (rest: ReadonlyArray<Token>): Verdict => {
  const words = rest.filter((token, i) => !(isSymbol(token, ";") && rest.slice(i).every((t) => isSymbol(t, ";"))))
  const at = isSymbol(words[1], ".") ? 2 : 0
  const name = words[at]
  if (name?._tag !== "Word") return Verdict.Refused({ reason: "PRAGMA without a plain name" })
  const pragma = name.text.toLowerCase()
  const after = words.slice(at + 1)
  if (after.length === 0) {
    return readingPragmas.has(pragma)
      ? Verdict.Reads()
      : Verdict.Refused({ reason: `PRAGMA ${pragma} does more than read a setting` })
  }
  const argument = isSymbol(after[0], "(") && isSymbol(after[after.length - 1], ")")
  if (argument && pragmasOfAName.has(pragma)) return Verdict.Reads()
  return Verdict.Refused({ reason: `PRAGMA ${pragma} with a value changes a setting` })
}

/** The statement under `EXPLAIN` / `EXPLAIN QUERY PLAN`. */
const explained = (all: ReadonlyArray<Token>): ReadonlyArray<Token> => {
  if (!isWord(all[0], "EXPLAIN")) return all
  return explained(isWord(all[1], "QUERY") && isWord(all[2], "PLAN") ? all.slice(3) : all.slice(1))
}

/**
 * Whether a SQLite reader worker may run the statement: a SELECT, WITH or VALUES. Anything else (a
 * PRAGMA, ATTACH, EXPLAIN, a transaction statement) acts on, or reports on, the connection it runs
 * on: it stays on the main connection, whose settings are the ones the caller set there. (A reader
 * still refuses a statement that would write.)
 */
export const sqliteReaderMayRun = (sql: string): boolean =>
  isWord(fromFirstWord(tokens(sql, { _tag: "Sqlite" }))[0], "SELECT", "WITH", "VALUES")

/**
 * The SQLite rules. `prepare` compiles a statement (a cached prepared statement is fine); it is
 * never called for a pragma, which may change a setting while being compiled.
 */
export const sqliteRules = (prepare: (sql: string) => { readonly readonly: boolean }): ReadOnlyRules => ({
  check: (sql) => {
    // SQLite skips empty statements: `; PRAGMA x = 1` compiles the pragma.
    const all = fromFirstWord(tokens(sql, { _tag: "Sqlite" }))
    const inner = explained(all)
    if (isWord(inner[0], "PRAGMA")) {
      const verdict = pragmaVerdict(inner.slice(1))
      if (verdict._tag === "Refused") return verdict
    }
    // Compiled before the kind is judged: a syntax error is told as such.
    const readOnly = prepare(sql).readonly
    const first = all[0]
    if (isWord(first, "EXPLAIN", "PRAGMA")) return Verdict.Reads()
    if (isWord(first, "SELECT", "WITH", "VALUES")) {
      return readOnly ? Verdict.Reads() : Verdict.Refused({ reason: writes })
    }
    return readOnly || (first?._tag === "Word" && first.text in reasons)
      ? refusedAs(first, sqliteAllowed)
      : Verdict.Refused({ reason: writes })
  },
  enter: "PRAGMA query_only = ON",
  leave: "PRAGMA query_only = OFF"
})
