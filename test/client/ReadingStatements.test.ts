/**
 * The read-only gate's rules on their own, for what no test may run against the shared server
 * (SHUTDOWN, GRANT, INSTALL) and for the ways a text can hide what the server runs.
 */
import { assert, describe, it } from "@effect/vitest"
import { mysqlRules, postgresRules } from "../../src/client/ReadingStatements.js"

const verdict = (sql: string) => mysqlRules.check(sql)._tag

describe("the MySQL/MariaDB read-only rules", () => {
  it("refuse every statement kind outside the allowlist, whatever its case and comments", () => {
    const refused = [
      "SHUTDOWN",
      "shutdown",
      "GRANT ALL ON *.* TO 'x'@'%'",
      "REVOKE ALL ON *.* FROM 'x'@'%'",
      "INSTALL PLUGIN x SONAME 'x.so'",
      "UNINSTALL SONAME 'x.so'",
      "FLUSH PRIVILEGES",
      "RESET MASTER",
      "PURGE BINARY LOGS BEFORE NOW()",
      "DROP DATABASE mysql",
      "CREATE USER x",
      "ALTER TABLE users ADD COLUMN x INT",
      "TRUNCATE users",
      "SET PASSWORD = 'x'",
      "SET @@session.sql_mode = ''",
      "LOAD DATA LOCAL INFILE 'x' INTO TABLE users",
      "XA START 'x'",
      "BINLOG 'x'",
      "PREPARE s FROM 'DELETE FROM users'",
      "EXECUTE s",
      "/* hello */ SHUTDOWN",
      "-- hello\nSHUTDOWN",
      "# hello\nSHUTDOWN",
      "((SHUTDOWN",
      "/*!SHUTDOWN*/",
      "/*!50000 SHUTDOWN */",
      "/*M!100000 SHUTDOWN */",
      "/*!50000 /* inner */ SHUTDOWN */",
      "?"
    ]
    for (const sql of refused) assert.strictEqual(verdict(sql), "Refused", sql)
  })

  it("see through what the server reads as code: `--` before no space, executable comments, backslashes", () => {
    const refused = [
      // `--1` is minus minus one to MySQL, not a comment.
      "SELECT 1 --1 INTO OUTFILE '/tmp/x'",
      "SELECT 1 /*! INTO OUTFILE '/tmp/x' */",
      "SELECT 1 /*M!100000 INTO @x */",
      // With backslash escapes (the default) the string ends later; without them, sooner: both readings count.
      "SELECT 'a\\' INTO OUTFILE '/tmp/x' -- '",
      "SELECT \"a\\\" INTO OUTFILE '/tmp/x' -- \"",
      "SELECT 'a\\'' INTO OUTFILE '/tmp/x' -- '",
      "select get_lock('x', 0)",
      "SELECT RELEASE_ALL_LOCKS()",
      "SHOW TABLES WHERE GET_LOCK('x', 0)",
      "EXPLAIN ANALYZE SELECT 1",
      "explain format=json analyze select 1",
      "EXPLAIN DELETE FROM users",
      "DESCRIBE UPDATE users SET age = 1",
      "TABLE users INTO OUTFILE '/tmp/x'",
      "VALUES ROW(1) INTO @x"
    ]
    for (const sql of refused) assert.strictEqual(verdict(sql), "Refused", sql)
  })

  it("let reads through: quoted keywords are data, comments are comments", () => {
    const reads = [
      "SELECT 'INTO OUTFILE' AS `into`, \"get_lock\" FROM users",
      "SELECT 1 -- INTO OUTFILE '/tmp/x'",
      "SELECT 1 # INTO @x",
      "SELECT 1 /* INTO @x */",
      "(SELECT 1) UNION (SELECT 2)",
      "with recursive n AS (SELECT 1 AS i UNION ALL SELECT i + 1 FROM n WHERE i < 3) SELECT * FROM n",
      "SHOW TABLES",
      "SHOW CREATE TABLE users",
      "DESCRIBE users",
      "DESC `users`",
      "EXPLAIN SELECT * FROM users",
      "EXPLAIN EXTENDED SELECT 1",
      "EXPLAIN FORMAT=JSON SELECT 1",
      "VALUES (1), (2)",
      "TABLE users",
      "SELECT SLEEP(0), IS_FREE_LOCK('x'), @@global.max_connections",
      "SELECT CAST('x' AS CHAR CHARACTER SET utf8mb4)",
      "SELECT * FROM users FOR UPDATE",
      "SELECT 'it''s', 'a\\\\b'"
    ]
    for (const sql of reads) assert.strictEqual(verdict(sql), "Reads", sql)
  })

  it("name the reason in one line", () => {
    const reasonOf = (sql: string) => {
      const result = mysqlRules.check(sql)
      return result._tag === "Refused" ? result.reason : ""
    }
    assert.include(reasonOf("KILL 12"), "KILL")
    assert.include(reasonOf("set global max_connections = 5"), "SET")
    assert.include(reasonOf("SELECT 1 INTO OUTFILE '/tmp/x'"), "INTO")
    assert.include(reasonOf("ANALYZE TABLE users"), "ANALYZE")
    assert.include(reasonOf("FROBNICATE"), "FROBNICATE is not one of SELECT")
  })
})

describe("PostgreSQL", () => {
  const judged = (sql: string) => postgresRules.check(sql)
  const reasonOf = (sql: string) => {
    const result = judged(sql)
    return result._tag === "Refused" ? result.reason : "(read)"
  }

  it("refuse SQL run from a string and names spelt in Unicode escapes", () => {
    for (
      const sql of [
        "SELECT query_to_xml('SELECT pg_advisory_lock(42)', false, false, '')",
        "SELECT cursor_to_xml('c', 1, false, false, '')",
        "SELECT ts_stat('SELECT pg_terminate_backend(1)')",
        "SELECT U&\"pg_advisory_\\006cock\"(44)"
      ]
    ) {
      assert.strictEqual(judged(sql)._tag, "Refused", sql)
    }
    assert.strictEqual(judged("SELECT U&'caf\\00e9' AS word")._tag, "Reads", "a string with escapes is only a string")
  })

  it("let the reading kinds through, whatever their case and comments", () => {
    const reads = [
      "SELECT * FROM users WHERE age > $1",
      "select 1",
      "(SELECT 1) UNION (SELECT 2)",
      "WITH older AS (SELECT * FROM users WHERE age > 40) SELECT count(*) FROM older",
      "VALUES (1, 'a'), (2, 'b')",
      "TABLE users",
      "SHOW search_path",
      "SHOW ALL",
      "EXPLAIN SELECT * FROM users",
      "EXPLAIN (FORMAT JSON, VERBOSE) SELECT 1",
      "EXPLAIN VERBOSE SELECT 1",
      "/* leading */ SELECT 1",
      "-- leading\nSELECT 1",
      "SELECT pg_advisory_xact_lock(1)",
      "SELECT * FROM users FOR UPDATE"
    ]
    for (const sql of reads) assert.strictEqual(judged(sql)._tag, "Reads", sql)
  })

  it("refuse writes, SELECT INTO and EXPLAIN ANALYZE, with the reason in one line", () => {
    const refused: ReadonlyArray<readonly [sql: string, reason: string]> = [
      ["INSERT INTO users (name) VALUES ('x')", "this statement writes to the database"],
      ["UPDATE users SET age = 1", "this statement writes to the database"],
      ["delete from users", "this statement writes to the database"],
      ["TRUNCATE users", "this statement writes to the database"],
      ["MERGE INTO users USING t ON true WHEN MATCHED THEN DELETE", "MERGE is not one of SELECT"],
      ["COPY users TO '/tmp/users.csv'", "COPY is not one of SELECT"],
      ["SELECT * INTO users_copy FROM users", "SELECT ... INTO creates a table"],
      ["select name into temporary t from users", "SELECT ... INTO creates a table"],
      ["EXPLAIN ANALYZE SELECT 1", "EXPLAIN ANALYZE runs the statement"],
      ["EXPLAIN ANALYSE DELETE FROM users", "EXPLAIN ANALYZE runs the statement"],
      ["EXPLAIN (ANALYZE) DELETE FROM users", "EXPLAIN ANALYZE runs the statement"],
      ["EXPLAIN (FORMAT JSON, ANALYZE true) SELECT 1", "EXPLAIN ANALYZE runs the statement"],
      ["SET search_path = evil", "SET changes a setting"],
      ["DO $$ BEGIN DELETE FROM users; END $$", "DO evaluates expressions"],
      ["CALL cleanup()", "CALL runs a procedure"],
      ["BEGIN", "BEGIN controls transactions"],
      ["LOCK TABLE users", "LOCK takes locks"],
      ["PREPARE p AS DELETE FROM users", "PREPARE runs statements"],
      ["LISTEN dbscope_writes", "LISTEN is not one of SELECT"],
      ["VACUUM users", "VACUUM"],
      ["CREATE TABLE t (a int)", "CREATE changes the schema"],
      ["/* SELECT */ DELETE FROM users", "this statement writes to the database"],
      ["?", "the statement does not start with SELECT"]
    ]
    for (const [sql, reason] of refused) {
      assert.strictEqual(judged(sql)._tag, "Refused", sql)
      assert.include(reasonOf(sql), reason, sql)
      assert.notInclude(reasonOf(sql), "\n", sql)
    }
  })

  it("refuse the functions whose effect outlives the statement or reaches past the database", () => {
    const refused: ReadonlyArray<readonly [sql: string, reason: string]> = [
      ["SELECT pg_advisory_lock(1)", "pg_advisory_lock takes a session lock"],
      ["SELECT PG_ADVISORY_LOCK_SHARED(1)", "takes a session lock"],
      ["SELECT pg_try_advisory_lock(1)", "takes a session lock"],
      ["SELECT pg_advisory_unlock_all()", "releases session locks"],
      ["SELECT pg_terminate_backend(pid) FROM pg_stat_activity", "pg_terminate_backend ends another connection"],
      ["SELECT pg_catalog.pg_terminate_backend (1)", "ends another connection"],
      ["SELECT pg_cancel_backend(1)", "cancels another connection's query"],
      ["SELECT pg_reload_conf()", "reloads the server's configuration"],
      ["SELECT pg_read_file('/etc/passwd')", "reads a file on the server"],
      ["SELECT * FROM pg_ls_dir('.')", "lists files on the server"],
      ["SELECT lo_export(1, '/tmp/x')", "writes a file on the server"],
      ["SELECT * FROM dblink('dbname=x', 'DELETE FROM users') AS t(a int)", "dblink runs statements"],
      ["SELECT dblink_exec('dbname=x', 'DELETE FROM users')", "runs statements on another connection"],
      ["SELECT 1 FROM users WHERE pg_advisory_lock(user_id) IS NULL", "takes a session lock"],
      ["WITH x AS (SELECT pg_advisory_lock(1)) SELECT * FROM x", "takes a session lock"]
    ]
    for (const [sql, reason] of refused) {
      assert.strictEqual(judged(sql)._tag, "Refused", sql)
      assert.include(reasonOf(sql), reason, sql)
    }
  })

  it("read strings, dollar quotes and nested comments as PostgreSQL does", () => {
    const reads = [
      "SELECT 'pg_advisory_lock(1)'",
      "SELECT 'it''s', 'DELETE FROM users; pg_advisory_lock(1)'",
      "SELECT $$pg_advisory_lock(1)$$",
      "SELECT $fn$ ; DELETE FROM users; SELECT pg_terminate_backend(1) $fn$",
      "SELECT \"pg_advisory_lock\" FROM (SELECT 1 AS \"pg_advisory_lock\") AS t",
      "SELECT 1 -- pg_advisory_lock(1)",
      // Block comments nest: the call is inside the outer comment.
      "SELECT 1 /* /* */ pg_advisory_lock(1) */",
      "SELECT E'\\'' AS quote",
      "SELECT E'a\\\\' AS backslash, 'b' AS b"
    ]
    for (const sql of reads) assert.strictEqual(judged(sql)._tag, "Reads", sql)
    const refused = [
      // After the nested comment closes, a write.
      "/* /* */ */ DELETE FROM users",
      "SELECT 1 /* /* */ */, pg_advisory_lock(1)",
      // `E'\''` is one quote: what follows is code.
      "SELECT E'\\'', pg_advisory_lock(1) -- '",
      // A standard string ends at its second quote (a backslash is a plain character): code follows.
      "SELECT 'a\\', pg_advisory_lock(1) -- '",
      "SELECT $a$ x $a$, pg_advisory_lock(1)"
    ]
    for (const sql of refused) assert.strictEqual(judged(sql)._tag, "Refused", sql)
  })

  it("refuse a function called by its quoted name", () => {
    // A quoted lower-case name is the same function to PostgreSQL, and runs in a read-only transaction.
    const refused = [
      "SELECT \"pg_advisory_lock\"(1)",
      "SELECT pg_catalog.\"pg_terminate_backend\"(1)",
      "SELECT * FROM \"dblink\"('dbname=x', 'DELETE FROM users') AS t(a int)"
    ]
    for (const sql of refused) assert.strictEqual(judged(sql)._tag, "Refused", sql)
  })

  it("refuse a second statement after `;`, whatever the first", () => {
    for (const sql of ["SELECT 1; DELETE FROM users", "SELECT 1;DELETE FROM users;", "SHOW search_path; SET x = 1"]) {
      assert.strictEqual(judged(sql)._tag, "Refused", sql)
    }
    assert.strictEqual(judged(";SELECT 1;")._tag, "Reads", "empty statements around one read")
  })
})
