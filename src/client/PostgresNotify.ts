/**
 * How a PostgreSQL database tells dbscope's clients which tables were written, whoever wrote them:
 * a statement-level trigger that notifies the `dbscope_writes` channel with the table's name when
 * the writing transaction commits (`PostgresWrites` listens). The migrations put it on `users`;
 * `notifyWritesSql` puts it on any other table. SQL text only: no driver needed to build it.
 */

/** The channel dbscope's triggers notify, with the written table's name as payload. */
export const channel = "dbscope_writes"

/** The trigger's name: it is not a trigger that makes a write reach other tables. */
export const triggerName = "dbscope_notify_writes"

/** The function every table's trigger runs (created by the migrations, idempotent). */
export const notifyFunctionSql = `CREATE OR REPLACE FUNCTION dbscope_notify_write() RETURNS trigger
  LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM pg_notify('${channel}', TG_TABLE_NAME);
    RETURN NULL;
  END
  $$`

/**
 * The trigger that makes writes to `table` seen by every dbscope client's cache: once per
 * statement, not per row. `table` must be a plain name (it is not a parameter).
 */
export const notifyWritesSql = (table: string) => {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(table)) throw new Error(`not a plain table name: ${table}`)
  return `CREATE OR REPLACE TRIGGER ${triggerName}
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${table}
    FOR EACH STATEMENT EXECUTE FUNCTION dbscope_notify_write()`
}
