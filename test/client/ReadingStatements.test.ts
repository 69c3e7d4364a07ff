/**
 * The read-only gate's rules on their own, for what no test may run against the shared server
 * (SHUTDOWN, GRANT, INSTALL) and for the ways a text can hide what the server runs.
 */
import { assert, describe, it } from "@effect/vitest"
import { mysqlRules } from "../../src/client/ReadingStatements.js"

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
