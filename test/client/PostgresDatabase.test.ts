/**
 * What only the PostgreSQL backend has, against a real server: URLs and connection errors as one
 * line without the password, server-side cursors that are closed and given back however a stream
 * ends, transactions that a failed statement aborts (never a silent rollback reported as a
 * commit), serialization failures retried, `?` placeholders, the read-only gate on the server, and
 * other processes' writes seen through `LISTEN`/`NOTIFY`, even across a lost listening connection.
 * Every test that opens a pool ends with no pool, connection, cursor or transaction left open.
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as crypto from "node:crypto"
import * as Pg from "pg"
import { DatabaseConnectError, driverCode } from "../../src/client/DatabaseError.js"
import * as ExternalWrites from "../../src/client/ExternalWrites.js"
import * as PostgresDatabase from "../../src/client/PostgresDatabase.js"
import * as CacheQuery from "../../src/combinators/CacheQuery.js"
import { cacheQuery } from "../../src/combinators/CacheQuery.js"
import { isTransient, retryOnFailure } from "../../src/combinators/RetryOnFailure.js"
import { CommitFailed, transactional, transactionalWith } from "../../src/combinators/Transactional.js"
import * as OpenResources from "../../src/OpenResources.js"
import * as TestDatabase from "../../src/testing/TestDatabase.js"
import { executeQuery, QueryError, ReadOnlyQuery } from "../../src/users/ExecuteQuery.js"
import { UserRepo } from "../../src/users/UserRepo.js"
import { postgresAvailable, postgresServer } from "../support/Backends.js"
import { runCli } from "../support/RunCli.js"

const server = postgresServer.replace(/\/+$/, "")
const serverUrl = new URL(server)
const serverPort = serverUrl.port === "" ? 5432 : Number(serverUrl.port)
const password = "s3cret-Pw"

const freshName = (prefix = "dbscope_test") => `${prefix}_${crypto.randomBytes(6).toString("hex")}`

/** `user:password@` the test server (or `port` on its host), to `database`. */
const urlWithLogin = (user: string, database: string, port = serverPort) => {
  const url = new URL(server)
  url.username = user
  url.password = password
  url.port = String(port)
  url.pathname = `/${database}`
  return url.href
}

/** How dbscope names that URL: never with the password. */
const targetOf = (user: string, database: string, port = serverPort) =>
  `postgres://${user}@${serverUrl.hostname}:${port}/${database}`

/** A plain pg connection to `database`, as psql or a script would hold one; ended with the scope. */
const plainClient = (database: string) =>
  Effect.gen(function*() {
    const client = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const client = new Pg.Client({ connectionString: `${server}/${database}` })
        client.on("error", () => undefined)
        return client
      }),
      (client) => Effect.promise(() => client.end().catch(() => undefined))
    )
    yield* Effect.tryPromise(() => client.connect())
    return client
  })

const run = (client: Pg.Client, sql: string, values: ReadonlyArray<unknown> = []) =>
  Effect.map(
    Effect.tryPromise(() => client.query(sql, [...values])),
    (result) => result.rows as ReadonlyArray<Record<string, unknown>>
  )

/** One statement outside dbscope, on a connection of its own to `database` (default: the server's `postgres`). */
const admin = (sql: string, values: ReadonlyArray<unknown> = [], database = "postgres") =>
  Effect.scoped(Effect.flatMap(plainClient(database), (client) => run(client, sql, values)))

/** The server's connections to `database` that are doing something (running, or inside a transaction). */
const busyBackends = (database: string) =>
  admin(
    "SELECT state, query FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend' AND state <> 'idle'",
    [database]
  )

const backendCount = (database: string) =>
  Effect.map(
    admin("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1", [database]),
    (rows) => Number(rows[0]?.n)
  )

/** Repeats `condition` until it holds, for at most 10 s (what the test waits for is named in the failure). */
const waitUntil = <E, R>(condition: Effect.Effect<boolean, E, R>, what: string) =>
  condition.pipe(
    Effect.repeat({ until: (holds) => holds, schedule: Schedule.spaced("20 millis") }),
    Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => new Error(`still waiting after 10 s: ${what}`) })
  )

const repoCount = Effect.flatMap(UserRepo, (repo) => repo.count)

const held = Effect.map(OpenResources.snapshot, (open) => ({
  pools: open.postgresPool,
  connections: open.postgresConnection,
  cursors: open.iterator,
  transactions: open.transaction
}))

/** `effect`, then a check that every pool, connection, cursor and transaction it opened was closed. */
const leavesNothingOpen = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const before = yield* held
    const result = yield* effect
    assert.deepStrictEqual(yield* held, before, "every pool, connection, cursor and transaction was closed")
    return result
  })

/** Connections taken out of the pool (for a transaction or a stream), plus the listening one. */
const connections = OpenResources.current("postgresConnection")

const testDatabase = Effect.map(PostgresDatabase.PostgresDatabase, (db) => db.database)

/** Opening a pool on `url`, expected to fail: the error. */
const openError = (url: string) =>
  Effect.flip(
    Effect.provide(
      Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT 1`),
      PostgresDatabase.layer({ url: Redacted.make(url), connectTimeout: "5 seconds" })
    )
  )

const assertOneLine = (error: unknown, says: string) => {
  assert.instanceOf(error, DatabaseConnectError)
  const message = (error as DatabaseConnectError).message
  assert.strictEqual(message, says)
  assert.notInclude(message, "\n")
  assert.notInclude(message, password)
  assert.notInclude(String(error), password)
}

/**
 * Whether the server checks passwords on TCP logins: a role that does not exist is then told as a
 * wrong password (28P01), while a server that trusts local logins says the role is unknown (28000).
 */
const passwordsChecked: boolean = postgresAvailable && await (async () => {
  const client = new Pg.Client({ connectionString: urlWithLogin(freshName("dbscope_nobody"), "postgres") })
  client.on("error", () => undefined)
  try {
    await client.connect()
    return false
  } catch (error) {
    return (error as { code?: unknown }).code === "28P01"
  } finally {
    await client.end().catch(() => undefined)
  }
})()

if (postgresAvailable && !passwordsChecked) {
  console.warn(
    `\n*** PostgreSQL at ${server} trusts TCP logins (pg_hba.conf): SKIPPING the wrong-password test ***\n`
  )
}

describe("PostgreSQL URLs", () => {
  it.effect("name the target without the password; postgresql:// and the default port are accepted", () =>
    Effect.gen(function*() {
      const where = yield* PostgresDatabase.parseUrl(
        Redacted.make(`postgres://alice:${password}@db.example.com:6543/app_1`)
      )
      assert.strictEqual(where.target, "postgres://alice@db.example.com:6543/app_1")
      assert.deepStrictEqual([where.host, where.port, where.database], ["db.example.com", 6543, "app_1"])
      assert.strictEqual(String(where.maintenanceUrl), "<redacted>")
      assert.strictEqual(new URL(Redacted.value(where.maintenanceUrl)).pathname, "/postgres")

      const other = yield* PostgresDatabase.parseUrl(Redacted.make(`postgresql://bob:${password}@127.0.0.1/ALX_prodev`))
      assert.strictEqual(other.target, "postgres://bob@127.0.0.1:5432/ALX_prodev")
      const encoded = yield* PostgresDatabase.parseUrl(Redacted.make("postgres://carol:p%40ss%3Aword@[::1]:5433/db"))
      assert.strictEqual(encoded.target, "postgres://carol@[::1]:5433/db")
    }))

  it.effect("refuse a URL that is not PostgreSQL's, or does not name a plain database, in one line", () =>
    Effect.gen(function*() {
      const refused = (url: string) => Effect.flip(PostgresDatabase.parseUrl(Redacted.make(url)))
      const plainName =
        "the URL must name a database made of letters, digits and _ (e.g. postgres://postgres@127.0.0.1:5432/ALX_prodev)"
      assertOneLine(
        yield* refused(`mysql://root:${password}@127.0.0.1:3306/app`),
        "cannot connect to the database URL: it must start with postgres:// or postgresql://"
      )
      assertOneLine(
        yield* refused(`postgres://root:${password}@127.0.0.1:5432/bad-name`),
        `cannot connect to postgres://root@127.0.0.1:5432/bad-name: ${plainName}`
      )
      assertOneLine(
        yield* refused(`postgres://root:${password}@127.0.0.1:5432/`),
        `cannot connect to postgres://root@127.0.0.1:5432/: ${plainName}`
      )
      assertOneLine(
        yield* refused(`postgres://root:${password}@127.0.0.1:5432/x";DROP DATABASE postgres;--`),
        `cannot connect to postgres://root@127.0.0.1:5432/x";DROP DATABASE postgres;--: ${plainName}`
      )
      assertOneLine(
        yield* refused(`postgres//root:${password}@127.0.0.1:5432/app`),
        "cannot connect to the database URL: it is not a valid URL"
      )
    }))
})

describe.skipIf(!postgresAvailable)("PostgresDatabase", { timeout: 60_000 }, () => {
  describe("connecting", () => {
    it.live("a refused port is one line naming the target without the password", () =>
      leavesNothingOpen(Effect.gen(function*() {
        const database = freshName()
        assertOneLine(
          yield* openError(`postgres://postgres:${password}@127.0.0.1:1/${database}`),
          `cannot connect to postgres://postgres@127.0.0.1:1/${database}: the server is not reachable (connection refused)`
        )
      })))

    it.scopedLive("an unknown database (3D000) is one line, and createDatabase makes it", () =>
      leavesNothingOpen(Effect.gen(function*() {
        const database = freshName()
        const url = urlWithLogin("postgres", database)
        assertOneLine(
          yield* openError(url),
          `cannot connect to ${
            targetOf("postgres", database)
          }: the database does not exist (\`dbscope setup --url …\` creates it)`
        )
        yield* Effect.acquireRelease(
          PostgresDatabase.createDatabase({ url: Redacted.make(url) }),
          () => Effect.orDie(PostgresDatabase.dropDatabase({ url: Redacted.make(url) }))
        )
        // Twice: a database that exists is left alone.
        yield* PostgresDatabase.createDatabase({ url: Redacted.make(url) })
        const opened = yield* Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const db = yield* PostgresDatabase.PostgresDatabase
          const rows = yield* sql<{ readonly name: string; readonly encoding: string }>`
            SELECT current_database() AS name, pg_encoding_to_char(encoding) AS encoding
            FROM pg_database WHERE datname = current_database()`
          return { rows, target: db.target }
        }).pipe(Effect.provide(PostgresDatabase.layer({ url: Redacted.make(url) })))
        assert.deepStrictEqual(opened.rows, [{ name: database, encoding: "UTF8" }])
        assert.strictEqual(opened.target, targetOf("postgres", database))
        // The pool and the listener ended on the server too (a backend leaves shortly after its client).
        yield* waitUntil(Effect.map(backendCount(database), (n) => n === 0), "no backend left on the database")
      })))

    it.live("an unknown role (28000) is one line: access denied, naming the role and never the password", () =>
      leavesNothingOpen(Effect.gen(function*() {
        const role = freshName("dbscope_nobody")
        const error = yield* openError(urlWithLogin(role, "postgres"))
        assert.instanceOf(error, DatabaseConnectError)
        assert.strictEqual(
          error.message,
          passwordsChecked
            // A server that checks passwords does not tell an unknown role from a wrong password.
            ? `cannot connect to ${targetOf(role, "postgres")}: access denied (wrong user name or password)`
            : `cannot connect to ${
              targetOf(role, "postgres")
            }: access denied (the server does not let this user in: pg_hba.conf, or no such role)`
        )
        assert.notInclude(String(error), password)
      })))

    it.scopedLive.skipIf(!passwordsChecked)(
      "a wrong password (28P01) is one line: access denied",
      () =>
        leavesNothingOpen(Effect.gen(function*() {
          const role = freshName("dbscope_pw")
          yield* Effect.acquireRelease(
            admin(`CREATE ROLE ${role} LOGIN PASSWORD 'the-right-one'`),
            () => Effect.orDie(admin(`DROP ROLE IF EXISTS ${role}`))
          )
          assertOneLine(
            yield* openError(urlWithLogin(role, "postgres")),
            `cannot connect to ${targetOf(role, "postgres")}: access denied (wrong user name or password)`
          )
        }))
    )
  })

  describe("streams", () => {
    const twentyThousand = Effect.map(
      SqlClient.SqlClient,
      (sql) => sql<{ readonly n: number }>`SELECT g AS n FROM generate_series(1, 20000) AS g`.stream
    )

    // One pooled connection: a stream that kept it would leave nothing for the next statement.
    it.scopedLive("a stream of 20,000 rows stopped after 10 closes its cursor and gives its connection back", () =>
      leavesNothingOpen(
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const database = yield* testDatabase
          const before = yield* held
          const rows = yield* Stream.runCollect(Stream.take(yield* twentyThousand, 10))
          assert.deepStrictEqual(Chunk.toReadonlyArray(rows).map((row) => row.n), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
          assert.deepStrictEqual(yield* held, before, "the cursor and its connection were given back")
          assert.deepStrictEqual(yield* busyBackends(database), [], "no backend is still running the cursor")
          const after = yield* transactional(sql<{ readonly n: number }>`SELECT count(*) AS n FROM users`).pipe(
            Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => new Error("the only connection was kept") })
          )
          assert.deepStrictEqual(after, [{ n: 0 }])
        }).pipe(Effect.provide(TestDatabase.layerPostgres({ poolSize: 1 })))
      ))

    it.scopedLive("an interrupted stream closes its cursor and gives its connection back", () =>
      leavesNothingOpen(
        Effect.gen(function*() {
          const database = yield* testDatabase
          const before = yield* held
          const reading = yield* Deferred.make<void>()
          const fiber = yield* (yield* twentyThousand).pipe(
            Stream.tap(() => Effect.zipRight(Deferred.succeed(reading, undefined), Effect.never)),
            Stream.runDrain,
            Effect.fork
          )
          yield* Deferred.await(reading)
          assert.deepStrictEqual(
            yield* held,
            { ...before, connections: before.connections + 1, cursors: before.cursors + 1 },
            "while it reads, the stream holds a cursor on a connection of its own"
          )
          assert.strictEqual((yield* busyBackends(database)).length, 1, "the cursor's backend is seen busy")
          yield* Fiber.interrupt(fiber)
          assert.deepStrictEqual(yield* held, before)
          assert.deepStrictEqual(yield* busyBackends(database), [])
        }).pipe(Effect.provide(TestDatabase.layerPostgres({ poolSize: 1 })))
      ))

    it.scopedLive("a stream inside a transaction runs on the transaction's connection and sees its uncommitted write", () =>
      leavesNothingOpen(
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const baseline = yield* connections
          let seen: { readonly pid: number | undefined; readonly rows: ReadonlyArray<unknown> } | undefined
          const exit = yield* Effect.exit(transactional(Effect.gen(function*() {
            yield* sql`INSERT INTO users (name, email, age) VALUES (${"Uncommitted"}, ${"uncommitted@example.com"}, ${120})`
            const [me] = yield* sql<{ readonly pid: number }>`SELECT pg_backend_pid() AS pid`
            const streamed = yield* sql<{ readonly pid: number; readonly email: string }>`
            SELECT pg_backend_pid() AS pid, email FROM users WHERE age = ${120}`.stream.pipe(
              Stream.mapEffect((row) => Effect.map(connections, (open) => ({ ...row, open }))),
              Stream.runCollect
            )
            seen = { pid: me?.pid, rows: Chunk.toReadonlyArray(streamed) }
            return yield* Effect.fail("undo" as const)
          })))
          assert.deepStrictEqual(exit, Exit.fail("undo"))
          assert.deepStrictEqual(seen?.rows, [{ pid: seen?.pid, email: "uncommitted@example.com", open: baseline + 1 }])
          const [after] = yield* sql<{ readonly n: number }>`SELECT count(*) AS n FROM users WHERE age = ${120}`
          assert.strictEqual(after?.n, 0, "the write the stream saw was rolled back with its transaction")
          assert.strictEqual(yield* connections, baseline)
        }).pipe(Effect.provide(TestDatabase.layerPostgres()))
      ))

    it.scopedLive("a stream stopped early inside a transaction closes its cursor; the transaction goes on and commits", () =>
      leavesNothingOpen(
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const before = yield* held
          const firstRows = yield* transactional(Effect.gen(function*() {
            const rows = yield* Stream.runCollect(Stream.take(yield* twentyThousand, 5))
            assert.strictEqual((yield* held).cursors, before.cursors, "the cursor is closed")
            yield* sql`INSERT INTO users (name, email, age) VALUES (${"After Stream"}, ${"after@example.com"}, ${40})`
            return Chunk.toReadonlyArray(rows).map((row) => row.n)
          }))
          assert.deepStrictEqual(firstRows, [1, 2, 3, 4, 5])
          const emails = yield* sql<{ readonly email: string }>`SELECT email FROM users`
          assert.deepStrictEqual(emails, [{ email: "after@example.com" }], "committed")
          assert.deepStrictEqual(yield* held, before)
        }).pipe(Effect.provide(TestDatabase.layerPostgres()))
      ))
  })

  describe("transactions", () => {
    const insert = (n: number) =>
      Effect.flatMap(
        SqlClient.SqlClient,
        (sql) => sql`INSERT INTO users (name, email, age) VALUES (${`User ${n}`}, ${`user${n}@example.com`}, ${30 + n})`
      )

    const emails = Effect.flatMap(
      SqlClient.SqlClient,
      (sql) => sql<{ readonly email: string }>`SELECT email FROM users ORDER BY user_id`
    ).pipe(Effect.map((rows) => rows.map((row) => row.email)))

    /** A statement failure the caller catches and ignores. */
    const ignoringFailure = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      Effect.catchIf(effect, (error) => error instanceof SqlError, () => Effect.void)

    it.scopedLive("a failure caught inside the transaction fails it with CommitFailed, never a silent rollback", () =>
      leavesNothingOpen(
        Effect.gen(function*() {
          const error = yield* Effect.flip(transactional(Effect.zipRight(insert(1), ignoringFailure(insert(1)))))
          assert.instanceOf(error, CommitFailed)
          const failed = error as CommitFailed
          assert.strictEqual(failed.code, "23505")
          assert.isFalse(failed.transient)
          assert.strictEqual(
            failed.message,
            "the transaction could not be committed and was rolled back: a row violates a unique constraint"
          )
          assert.deepStrictEqual(yield* emails, [], "nothing was written, not even the insert before the failure")
        }).pipe(Effect.provide(TestDatabase.layerPostgres()))
      ))

    it.scopedLive("a stream that fails inside the transaction, caught, fails it too; nothing is written", () =>
      leavesNothingOpen(
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const failing = Stream.runDrain(sql`SELECT 1 / (g - 5) FROM generate_series(1, 10) g`.stream)
          const error = yield* Effect.flip(transactional(Effect.zipRight(insert(1), ignoringFailure(failing))))
          assert.instanceOf(error, CommitFailed)
          assert.strictEqual((error as CommitFailed).code, "22012", "division by zero")
          assert.deepStrictEqual(yield* emails, [])
        }).pipe(Effect.provide(TestDatabase.layerPostgres()))
      ))

    it.scopedLive("a statement given up by a timeout that fails on the server: COMMIT says so (25P02)", () =>
      leavesNothingOpen(
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          // Still running when the caller stops waiting; it then fails, unseen, and aborts the transaction.
          const late = sql`SELECT 1 / (length(pg_sleep(0.3)::text) * 0)`.pipe(
            Effect.timeout("50 millis"),
            Effect.ignore
          )
          const error = yield* Effect.flip(transactional(Effect.zipRight(insert(1), late)))
          assert.instanceOf(error, CommitFailed)
          assert.strictEqual((error as CommitFailed).code, "25P02")
          assert.deepStrictEqual(yield* emails, [])
        }).pipe(Effect.provide(TestDatabase.layerPostgres()))
      ))

    it.scopedLive("a nested transaction that catches its own failure and succeeds is rolled back to its savepoint", () =>
      leavesNothingOpen(
        Effect.gen(function*() {
          const inner = yield* transactional(Effect.gen(function*() {
            yield* insert(1)
            return yield* Effect.either(transactional(Effect.zipRight(insert(3), ignoringFailure(insert(1)))))
          }))
          assert.isTrue(
            inner._tag === "Left" && inner.left._tag === "SqlError",
            "the inner part fails with its failure"
          )
          assert.deepStrictEqual(yield* emails, ["user1@example.com"], "the outer part committed, the inner undone")
        }).pipe(Effect.provide(TestDatabase.layerPostgres()))
      ))

    it.scopedLive("after a failed statement the transaction refuses the next one with that failure", () =>
      leavesNothingOpen(
        Effect.gen(function*() {
          const failures: Array<SqlError> = []
          const next = yield* Effect.flip(transactional(Effect.gen(function*() {
            yield* insert(1)
            yield* insert(1).pipe(Effect.tapError((error) => Effect.sync(() => failures.push(error))), ignoringFailure)
            yield* insert(2)
          })))
          assert.strictEqual(failures.length, 1)
          assert.strictEqual(next, failures[0], "refused with the failure that aborted it, not 25P02")
          assert.deepStrictEqual(yield* emails, [])
        }).pipe(Effect.provide(TestDatabase.layerPostgres()))
      ))

    it.scopedLive("a nested transaction whose failure is caught rolls back its savepoint only; the outer commits", () =>
      leavesNothingOpen(
        Effect.gen(function*() {
          yield* transactional(Effect.gen(function*() {
            yield* insert(1)
            yield* ignoringFailure(transactional(Effect.zipRight(insert(3), insert(1))))
            yield* insert(2)
          }))
          assert.deepStrictEqual(yield* emails, ["user1@example.com", "user2@example.com"])
        }).pipe(Effect.provide(TestDatabase.layerPostgres()))
      ))

    it.scopedLive("an interrupted statement is cancelled on the server, in a transaction or not", () =>
      leavesNothingOpen(
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const database = yield* testDatabase
          const sleeping = Effect.map(
            admin(
              "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND state = 'active' AND query LIKE 'SELECT pg_sleep(60)%'",
              [database]
            ),
            (rows) => Number(rows[0]?.n)
          )
          // Given up after 100 ms: without a cancel each would sleep on for a minute.
          yield* sql`SELECT pg_sleep(60)`.pipe(Effect.timeout("100 millis"), Effect.ignore)
          yield* waitUntil(Effect.map(sleeping, (n) => n === 0), "the statement outside a transaction cancelled")
          yield* transactional(sql`SELECT pg_sleep(60)`).pipe(Effect.timeout("100 millis"), Effect.ignore)
          yield* waitUntil(Effect.map(sleeping, (n) => n === 0), "the statement in a transaction cancelled")
          assert.strictEqual(yield* repoCount, 1000, "the pool still answers")
        }).pipe(Effect.provide(TestDatabase.layerPostgres({ sample: true, poolSize: 1 })))
      ))

    it.scopedLive("a URL's own options do not replace the session's UTC and ISO dates", () =>
      leavesNothingOpen(
        Effect.gen(function*() {
          const database = yield* testDatabase
          const url = Redacted.make(`${server}/${database}?options=-c%20search_path%3Dpublic`)
          const settings = yield* Effect.flatMap(
            SqlClient.SqlClient,
            (sql) =>
              sql<{ readonly zone: string; readonly style: string; readonly path: string }>`SELECT
                current_setting('TimeZone') AS zone, current_setting('DateStyle') AS style,
                current_setting('search_path') AS path`
          ).pipe(Effect.provide(PostgresDatabase.layer({ url, poolSize: 1 })))
          assert.deepStrictEqual(settings, [{ zone: "UTC", style: "ISO, MDY", path: "public" }])
        }).pipe(Effect.provide(TestDatabase.layerPostgres()))
      ))

    it.scopedLive("transactionalWith runs at the isolation level asked; the default is read committed", () =>
      leavesNothingOpen(
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const level = Effect.map(
            sql<{ readonly transaction_isolation: string }>`SHOW transaction_isolation`,
            (rows) => rows[0]?.transaction_isolation
          )
          assert.strictEqual(yield* transactional(level), "read committed")
          assert.strictEqual(yield* transactionalWith({ isolation: "serializable" })(level), "serializable")
          assert.strictEqual(yield* transactionalWith({ isolation: "repeatable read" })(level), "repeatable read")
          assert.strictEqual(
            yield* transactionalWith({ isolation: "serializable" })(
              transactionalWith({ isolation: "read committed" })(level)
            ),
            "serializable",
            "a savepoint keeps its transaction's level"
          )
          assert.strictEqual(yield* level, "read committed", "the session's level is left as it was")
        }).pipe(Effect.provide(TestDatabase.layerPostgres()))
      ))

    /**
     * Write skew: each transaction counts the users aged 50, then adds one. Each first attempt waits
     * until the other has counted, so both read before either writes, which SERIALIZABLE cannot
     * allow: one of them fails with 40001 (at its INSERT or its COMMIT). Retried, it runs after the
     * other has committed.
     */
    it.scopedLive("a serialization failure (40001) is transient, and retryOnFailure makes the work succeed", () =>
      leavesNothingOpen(
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const counted = { a: yield* Deferred.make<void>(), b: yield* Deferred.make<void>() }
          const attempts = { a: 0, b: 0 }
          const failures: Array<SqlError | CommitFailed> = []
          const addFifty = (name: "a" | "b", other: "a" | "b") =>
            Effect.suspend(() => {
              const attempt = ++attempts[name]
              return transactionalWith({ isolation: "serializable" })(Effect.gen(function*() {
                const [row] = yield* sql<{ readonly n: number }>`SELECT count(*) AS n FROM users WHERE age = ${50}`
                if (attempt === 1) {
                  yield* Deferred.succeed(counted[name], undefined)
                  yield* Deferred.await(counted[other])
                }
                yield* sql`INSERT INTO users (name, email, age) VALUES (${name}, ${`${name}${attempt}@example.com`}, ${50})`
                return row?.n
              })).pipe(Effect.tapError((error) => Effect.sync(() => failures.push(error))))
            }).pipe(retryOnFailure({ retries: 5, jitter: false, delay: "10 millis" }))
          const seen = yield* Effect.all([addFifty("a", "b"), addFifty("b", "a")], { concurrency: 2 })
          assert.isAtLeast(failures.length, 1, "the two first attempts cannot both commit")
          for (const failure of failures) {
            const code = failure instanceof CommitFailed ? failure.code : driverCode(failure)
            assert.strictEqual(code, "40001", String(failure))
            assert.isTrue(isTransient(failure), String(failure))
          }
          assert.strictEqual(attempts.a + attempts.b, 2 + failures.length)
          assert.deepStrictEqual([...seen].sort(), [0, 1], "as if one ran after the other")
          const [after] = yield* sql<{ readonly n: number }>`SELECT count(*) AS n FROM users WHERE age = ${50}`
          assert.strictEqual(after?.n, 2, "each committed once")
        }).pipe(Effect.provide(TestDatabase.layerPostgres()))
      ))
  })

  describe("statements", () => {
    it.scopedLive("`?` placeholders are numbered; `$1`, a `?` in a string and jsonb's `?` operator are left alone", () =>
      leavesNothingOpen(
        Effect.gen(function*() {
          const marks = yield* executeQuery(
            "SELECT name FROM users WHERE age > ? AND name <> ? ORDER BY user_id",
            [90, "Nobody"]
          )
          const numbered = yield* executeQuery(
            "SELECT name FROM users WHERE age > $1 AND name <> $2 ORDER BY user_id",
            [90, "Nobody"]
          )
          assert.isAbove(marks.length, 0)
          assert.deepStrictEqual(marks, numbered)
          const literal = yield* executeQuery("SELECT '?' AS mark, count(*) AS n FROM users WHERE age > ?", [90])
          assert.deepStrictEqual(literal, [{ mark: "?", n: marks.length }])
          const jsonb = yield* executeQuery(`SELECT '{"a": 1}'::jsonb ? 'a' AS has, '{"a": 1}'::jsonb ? 'b' AS lacks`)
          assert.deepStrictEqual(jsonb, [{ has: true, lacks: false }])
          const jsonbWithParameter = yield* executeQuery(`SELECT '{"a": 1}'::jsonb ? $1 AS has`, ["a"])
          assert.deepStrictEqual(jsonbWithParameter, [{ has: true }])
          yield* executeQuery(
            "INSERT INTO users (name, email, age) VALUES (?, ?, ?)",
            ["Q Mark", "q@example.com", 91],
            {
              write: true
            }
          )
          const after = yield* executeQuery("SELECT name FROM users WHERE age > ? ORDER BY user_id", [90])
          assert.strictEqual(after.length, marks.length + 1)
        }).pipe(Effect.provide(TestDatabase.layerPostgres({ sample: true })))
      ))

    it.scopedLive("a read-only query cannot write: not after `;`, nor in a data-modifying WITH", () =>
      leavesNothingOpen(
        Effect.gen(function*() {
          const count = Effect.map(executeQuery("SELECT count(*) AS n FROM users"), (rows) => rows[0]?.n)
          assert.strictEqual(yield* count, 1000)
          // The gate refuses a second statement; the server would too (one per prepared statement).
          const twoStatements = yield* Effect.flip(executeQuery("SELECT 1; DELETE FROM users"))
          assert.instanceOf(twoStatements, ReadOnlyQuery)
          assert.include(twoStatements.message, "one statement")
          const written = yield* Effect.flip(executeQuery("SELECT 1; DELETE FROM users", [], { write: true }))
          assert.instanceOf(written, QueryError)
          assert.include(written.message, "multiple commands")
          const hidden = yield* Effect.flip(
            executeQuery("WITH gone AS (DELETE FROM users RETURNING 1) SELECT count(*) FROM gone")
          )
          assert.instanceOf(hidden, ReadOnlyQuery)
          assert.strictEqual(yield* count, 1000, "nothing was deleted")
        }).pipe(Effect.provide(TestDatabase.layerPostgres({ sample: true })))
      ))

    it.scopedLive("a table created inside a transaction is known by name once it commits: other writes keep its results", () =>
      leavesNothingOpen(
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          yield* transactional(sql.unsafe("CREATE TABLE notes (body TEXT)"))
          const notes = () => cacheQuery(sql<{ readonly n: number }>`SELECT count(*) AS n FROM notes`)
          yield* notes()
          yield* sql`INSERT INTO users (name, email, age) VALUES (${"Other Table"}, ${"other@example.com"}, ${40})`
          yield* notes()
          const stats = yield* CacheQuery.stats
          assert.deepStrictEqual(
            [stats.hits, stats.invalidations],
            [1, 0],
            "a write to users does not drop what was read from notes"
          )
        }).pipe(Effect.provide(CacheQuery.layer().pipe(Layer.provideMerge(TestDatabase.layerPostgres()))))
      ))

    it.scopedLive("a read-only query cannot take a session lock by quoting the function's name", () =>
      leavesNothingOpen(
        Effect.gen(function*() {
          const database = yield* testDatabase
          const outcome = yield* Effect.either(executeQuery("SELECT \"pg_advisory_lock\"(4242)"))
          const locks = yield* admin(
            `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database
           WHERE l.locktype = 'advisory' AND l.objid = 4242 AND d.datname = $1`,
            [database]
          )
          assert.deepStrictEqual(locks, [{ n: 0 }], "no session lock outlives the read-only statement")
          assert.isTrue(Either.isLeft(outcome) && outcome.left instanceof ReadOnlyQuery, String(outcome))
        }).pipe(Effect.provide(TestDatabase.layerPostgres()))
      ))
  })

  describe("other processes' writes (LISTEN/NOTIFY)", () => {
    const withCache = () => CacheQuery.layer().pipe(Layer.provideMerge(TestDatabase.layerPostgres({ sample: true })))

    const olderThan = (age: number) =>
      Effect.flatMap(UserRepo, (repo) => repo.olderThan(age)).pipe(cacheQuery({ key: ["olderThan", age] }))

    const insertUser = "INSERT INTO users (name, email, age) VALUES ($1, $2, $3)"

    /** Counts the times `table`'s cached results are dropped, from now until the scope closes. */
    const invalidationsOf = (table: string) =>
      Effect.gen(function*() {
        const reactivity = yield* Reactivity.Reactivity
        const seen = { count: 0, next: yield* Deferred.make<void>() }
        yield* Effect.acquireRelease(
          Effect.sync(() =>
            reactivity.unsafeRegister([table], () => {
              seen.count++
              Deferred.unsafeDone(seen.next, Exit.void)
            })
          ),
          (unregister) => Effect.sync(unregister)
        )
        return {
          count: () => seen.count,
          /** The first drop since this was set up, waited for at most 10 s. */
          first: Deferred.await(seen.next).pipe(
            Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => new Error(`${table} was not invalidated`) })
          )
        }
      })

    const stats = Effect.map(CacheQuery.stats, (stats) => [stats.hits, stats.misses, stats.invalidations])

    it.scopedLive("a write by a plain pg client (as psql) drops the cached result", () =>
      leavesNothingOpen(
        Effect.gen(function*() {
          const database = yield* testDatabase
          const before = yield* olderThan(90)
          assert.strictEqual(yield* olderThan(90), before, "served from the cache")
          const users = yield* invalidationsOf("users")
          yield* admin(insertUser, ["Psql Writer", "psql@example.com", 99], database)
          yield* users.first
          const after = yield* olderThan(90)
          assert.strictEqual(after.length, before.length + 1)
          assert.isTrue(after.some((user) => user.email === "psql@example.com"))
          assert.deepStrictEqual(yield* stats, [1, 2, 1], "one hit before the write, one miss after it")
        }).pipe(Effect.provide(withCache()))
      ))

    it.scopedLive("a write by another dbscope process (query --write) drops the cached result", () =>
      leavesNothingOpen(
        Effect.gen(function*() {
          const database = yield* testDatabase
          const before = yield* olderThan(90)
          assert.strictEqual(yield* olderThan(90), before, "served from the cache")
          const users = yield* invalidationsOf("users")
          const other = yield* runCli([
            "--url",
            `${server}/${database}`,
            "query",
            "--write",
            "--param",
            "Other Process",
            "--param",
            "other@example.com",
            "--param",
            "97",
            "INSERT INTO users (name, email, age) VALUES (?, ?, ?)"
          ])
          assert.strictEqual(other.code, 0, other.stderr)
          yield* users.first
          const after = yield* olderThan(90)
          assert.strictEqual(after.length, before.length + 1)
          assert.isTrue(after.some((user) => user.email === "other@example.com"))
          assert.deepStrictEqual(yield* stats, [1, 2, 1])
        }).pipe(Effect.provide(withCache()))
      ))

    it.scopedLive("while the listener is down nothing cached is served; once it is back, caching works again", () =>
      leavesNothingOpen(
        Effect.gen(function*() {
          const database = yield* testDatabase
          const signal = yield* ExternalWrites.ExternalWrites
          if (signal._tag !== "Versioned") return assert.fail("PostgreSQL's signal is versioned")
          /** Blind: the version changes at every look, so that nothing cached is served. */
          const blind = Effect.sync(() => signal.version() !== signal.version())
          const listening = Effect.sync(() => {
            const version = signal.version()
            return version !== undefined && version > 0 && signal.version() === version
          })
          assert.isTrue(yield* listening)
          // Connected before the database refuses new connections: the writer stays.
          const writer = yield* plainClient(database)
          const before = yield* olderThan(90)
          assert.strictEqual(yield* olderThan(90), before, "served from the cache while listening")

          yield* Effect.scoped(Effect.gen(function*() {
            // The listener cannot reconnect until the database takes connections again (end of this scope).
            yield* Effect.acquireRelease(
              admin(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS false`),
              () => Effect.orDie(admin(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS true`))
            )
            const ended = yield* admin(
              `SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity
             WHERE datname = $1 AND application_name = 'dbscope' AND query = 'LISTEN dbscope_writes'`,
              [database]
            )
            assert.deepStrictEqual(ended, [{ ended: true }], "one listening connection, ended")
            yield* waitUntil(blind, "the client sees that its listener is gone")
            // Nobody hears this write's notification.
            yield* run(writer, insertUser, ["While Blind", "blind@example.com", 98])
            const during = yield* olderThan(90)
            assert.strictEqual(during.length, before.length + 1, "the write is seen")
            assert.strictEqual((yield* olderThan(90)).length, before.length + 1)
            assert.strictEqual((yield* CacheQuery.stats).hits, 1, "nothing was served from the cache while blind")
          }))

          yield* waitUntil(listening, "the listener reconnects")
          assert.strictEqual((yield* olderThan(90)).length, before.length + 1)
          const cached = yield* olderThan(90)
          assert.strictEqual((yield* CacheQuery.stats).hits, 2, "cached again")
          const users = yield* invalidationsOf("users")
          yield* run(writer, insertUser, ["After Reconnect", "after@example.com", 97])
          yield* users.first
          const after = yield* olderThan(90)
          assert.strictEqual(after.length, cached.length + 1, "notifications are heard again")
        }).pipe(Effect.provide(withCache()))
      ))

    it.scopedLive("this client's own write inside a DO block, which no statement tag shows, drops the cached results", () =>
      leavesNothingOpen(
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const before = (yield* olderThan(95)).length
          assert.strictEqual((yield* olderThan(95)).length, before, "a hit")
          // `DO` reports no rows and names no table: it counts as a write to every table.
          yield* sql.unsafe(
            "DO $$ BEGIN INSERT INTO users (name, email, age) VALUES ('Own Do', 'own-do@example.com', 97); END $$"
          )
          assert.strictEqual((yield* olderThan(95)).length, before + 1, "fresh at once")
        }).pipe(Effect.provide(withCache()))
      ))
  })
})
