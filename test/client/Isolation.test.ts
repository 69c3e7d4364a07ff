/**
 * Hermitage's isolation tests (`test/support/Hermitage.ts`) on each backend, at each isolation level
 * dbscope runs it at: for every anomaly, whether the database prevents it and how (a statement
 * waits for another transaction's lock, a transaction fails, or a snapshot hides the other's
 * writes). This is README's isolation table, proved on the real engines rather than copied.
 *
 * - SQLite: `transactional` starts with `BEGIN IMMEDIATE`, so a second transaction cannot begin while
 *   one is open: every interleaving stops at T2's BEGIN (SQLITE_BUSY). The clients have no busy
 *   timeout on purpose: better-sqlite3 waits for a lock by sleeping the one JavaScript thread, the
 *   thread the first transaction needs to commit.
 * - MySQL/MariaDB (InnoDB): its default, REPEATABLE READ, and SERIALIZABLE, set by `transactionalWith`.
 * - PostgreSQL: its default, READ COMMITTED, REPEATABLE READ (snapshot isolation) and SERIALIZABLE
 *   (serializable snapshot isolation, which fails a transaction with 40001 rather than wait).
 *
 * Another backend is one more entry in `entries`: its `HermitageDatabase` and what it does with
 * each anomaly at each level.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, layer } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as crypto from "node:crypto"
import * as path from "node:path"
import type { IsolationLevel } from "../../src/client/core/Isolation.js"
import * as MysqlDatabase from "../../src/client/MysqlDatabase.js"
import * as PostgresDatabase from "../../src/client/PostgresDatabase.js"
import * as SqliteDatabase from "../../src/client/SqliteDatabase.js"
import { transactionalWith } from "../../src/combinators/Transactional.js"
import * as TestDatabase from "../../src/testing/TestDatabase.js"
import { mysqlAvailable, mysqlServer, postgresAvailable, postgresServer } from "../support/Backends.js"
import {
  anomalies,
  type AnomalyKey,
  describeOutcome,
  fails,
  HermitageDatabase,
  occurs,
  type Outcome,
  outcomeOf,
  prevented,
  run,
  setup
} from "../support/Hermitage.js"

/** SQLite: a fresh file per script, a connection per transaction (a SQLite client has one). */
const sqlite = Layer.succeed(HermitageDatabase, {
  clients: (count) =>
    Effect.gen(function*() {
      const filename = path.join(yield* TestDatabase.tempDirectory, "hermitage.db")
      return yield* Effect.forEach(
        Array.from({ length: count }),
        () =>
          Effect.map(Layer.build(SqliteDatabase.layer({ filename, busyTimeout: 0 })), Context.get(SqlClient.SqlClient))
      )
    }),
  connectionId: Effect.succeed("sqlite"),
  // Nothing waits: a second writer is refused at once.
  waiting: () => Effect.succeed(false),
  failureKind: (code) => code.startsWith("SQLITE_BUSY") ? "busy" : undefined
})

/**
 * The connections whose transaction waits for a lock, from InnoDB's monitor: each `---TRANSACTION`
 * block with a `LOCK WAIT` line names its connection (`MariaDB thread id 42,`). The monitor is made
 * on each call; `information_schema.INNODB_TRX` and `INNODB_LOCK_WAITS` are served from a copy InnoDB
 * refreshes only after nobody read it for 100 ms, so polling them sees a frozen past.
 */
const lockWaiting = (status: string): ReadonlySet<string> =>
  new Set(
    status.split("\n---TRANSACTION ").flatMap((block) => {
      const thread = /^LOCK WAIT /m.test(block) ? /(?:MariaDB|MySQL) thread id (\d+),/.exec(block) : null
      return thread?.[1] === undefined ? [] : [thread[1]]
    })
  )

const connectionId = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) => sql<{ readonly id: number }>`SELECT CONNECTION_ID() AS id`
).pipe(Effect.map((rows) => String(rows[0]?.id)))

/** MySQL/MariaDB: a database of its own per suite, one pool (each transaction reserves a connection). */
const mysql = (poolSize: number) =>
  Layer.scoped(
    HermitageDatabase,
    Effect.gen(function*() {
      const name = `dbscope_hermitage_${crypto.randomBytes(6).toString("hex")}`
      const url = Redacted.make(`${mysqlServer.replace(/\/+$/, "")}/${name}`)
      yield* Effect.acquireRelease(
        MysqlDatabase.createDatabase({ url }),
        () => Effect.orDie(MysqlDatabase.dropDatabase({ url }))
      )
      const sql = Context.get(yield* Layer.build(MysqlDatabase.layer({ url, poolSize })), SqlClient.SqlClient)
      return {
        clients: (count) => Effect.succeed(Array.from({ length: count }, () => sql)),
        connectionId,
        waiting: (connection) =>
          Effect.map(
            sql.unsafe<{ readonly Status: string }>("SHOW ENGINE INNODB STATUS"),
            (rows) => lockWaiting(rows[0]?.Status ?? "").has(connection)
          ),
        failureKind: (code) =>
          code === "ER_LOCK_DEADLOCK" ? "deadlock" : code === "ER_LOCK_WAIT_TIMEOUT" ? "lock wait timeout" : undefined
      }
    })
  )

/** PostgreSQL: a database of its own per suite, one pool; a connection waits when another blocks it. */
const postgres = Layer.scoped(
  HermitageDatabase,
  Effect.gen(function*() {
    const name = `dbscope_hermitage_${crypto.randomBytes(6).toString("hex")}`
    const url = Redacted.make(`${postgresServer.replace(/\/+$/, "")}/${name}`)
    yield* Effect.acquireRelease(
      PostgresDatabase.createDatabase({ url }),
      () => Effect.orDie(PostgresDatabase.dropDatabase({ url }))
    )
    const sql = Context.get(yield* Layer.build(PostgresDatabase.layer({ url, poolSize: 5 })), SqlClient.SqlClient)
    return {
      clients: (count) => Effect.succeed(Array.from({ length: count }, () => sql)),
      connectionId: Effect.map(
        Effect.flatMap(SqlClient.SqlClient, (client) => client<{ readonly id: number }>`SELECT pg_backend_pid() AS id`),
        (rows) => String(rows[0]?.id)
      ),
      waiting: (connection) =>
        Effect.map(
          sql<{ readonly blocked: boolean }>`SELECT cardinality(pg_blocking_pids(${
            Number(connection)
          })) > 0 AS blocked`,
          (rows) => rows[0]?.blocked === true
        ),
      failureKind: (code) => code === "40001" ? "serialization" : code === "40P01" ? "deadlock" : undefined
    }
  })
)

/** Inside a transaction: its level, as PostgreSQL reports it (`read committed`). */
const postgresLevel = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) => sql<{ readonly level: string }>`SELECT current_setting('transaction_isolation') AS level`
).pipe(Effect.map((rows) => rows[0]?.level ?? ""))

/**
 * Inside a transaction that has touched a table: its level as InnoDB reports it (`REPEATABLE READ`).
 * Not `@@tx_isolation`: that is the session's level, and `transactionalWith` sets only the
 * transaction's (`SET TRANSACTION`, no `SESSION`). Each read waits 150 ms first, so that InnoDB
 * refreshes its 100 ms copy of `INNODB_TRX` rather than showing a transaction that has ended.
 */
const mysqlLevel = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  Effect.zipRight(
    Effect.sleep("150 millis"),
    sql<{ readonly level: string }>`SELECT trx_isolation_level AS level FROM information_schema.INNODB_TRX
      WHERE trx_mysql_thread_id = CONNECTION_ID()`
  )).pipe(
    Effect.repeat({ until: (rows) => rows.length > 0 }),
    Effect.map((rows) => rows[0]?.level ?? ""),
    Effect.timeoutFail({
      duration: "10 seconds",
      onTimeout: () => new Error("the transaction never showed in INNODB_TRX")
    })
  )

/** One backend at one level, and what it does with each anomaly. */
interface Entry {
  readonly name: string
  readonly available: boolean
  /** The level `transactionalWith` asks for; `undefined`: `transactional`, the database's default. */
  readonly level: IsolationLevel | undefined
  readonly database: Layer.Layer<HermitageDatabase, unknown>
  /** Where the database can tell: the level a transaction reports from inside, and what it must say. */
  readonly reportedLevel?: {
    readonly read: Effect.Effect<string, unknown, SqlClient.SqlClient>
    readonly expected: string
  }
  readonly expected: Record<AnomalyKey, Outcome>
}

/** SQLite: T2 (and T3) cannot BEGIN while T1 is open. */
const beginRefused = (...txs: ReadonlyArray<"T2" | "T3">) =>
  prevented({ failures: txs.map((tx) => fails(tx, "busy", "begin")) })

const entries: ReadonlyArray<Entry> = [
  {
    name: "SQLite, serializable (BEGIN IMMEDIATE, its only level)",
    available: true,
    level: undefined,
    database: sqlite,
    expected: {
      "G0": beginRefused("T2"),
      "G1a": beginRefused("T2"),
      "G1b": beginRefused("T2"),
      "G1c": beginRefused("T2"),
      "OTV": beginRefused("T2", "T3"),
      "PMP": beginRefused("T2"),
      "PMP-write": beginRefused("T2"),
      "P4": beginRefused("T2"),
      "G-single": beginRefused("T2"),
      "G-single-predicate": beginRefused("T2"),
      "G-single-write": beginRefused("T2"),
      "G2-item": beginRefused("T2"),
      "G2": beginRefused("T2")
    }
  },
  {
    name: "MySQL/MariaDB, repeatable read (its default)",
    available: mysqlAvailable,
    level: undefined,
    database: mysql(5),
    reportedLevel: { read: mysqlLevel, expected: "REPEATABLE READ" },
    expected: {
      "G0": prevented({ waits: ["T2"] }),
      "G1a": prevented(),
      "G1b": prevented(),
      "G1c": prevented(),
      "OTV": prevented({ waits: ["T2"] }),
      "PMP": prevented(),
      "PMP-write": occurs({ waits: ["T2"] }),
      "P4": occurs({ waits: ["T2"] }),
      "G-single": prevented(),
      "G-single-predicate": prevented(),
      "G-single-write": occurs(),
      "G2-item": occurs(),
      "G2": occurs()
    }
  },
  {
    name: "MySQL/MariaDB, serializable",
    available: mysqlAvailable,
    level: "serializable",
    database: mysql(5),
    reportedLevel: { read: mysqlLevel, expected: "SERIALIZABLE" },
    expected: {
      "G0": prevented({ waits: ["T2"] }),
      "G1a": prevented({ waits: ["T2"] }),
      "G1b": prevented({ waits: ["T2"] }),
      "G1c": prevented({ waits: ["T1"], failures: [fails("T2", "deadlock")] }),
      "OTV": prevented({ waits: ["T2", "T3"] }),
      "PMP": prevented({ waits: ["T2"] }),
      "PMP-write": prevented({ waits: ["T2"] }),
      "P4": prevented({ waits: ["T1"], failures: [fails("T2", "deadlock")] }),
      "G-single": prevented({ waits: ["T2"] }),
      "G-single-predicate": prevented({ waits: ["T2"] }),
      "G-single-write": prevented({ waits: ["T2"], failures: [fails("T1", "deadlock")] }),
      "G2-item": prevented({ waits: ["T1"], failures: [fails("T2", "deadlock")] }),
      "G2": prevented({ waits: ["T1"], failures: [fails("T2", "deadlock")] })
    }
  },
  {
    name: "PostgreSQL, read committed (its default)",
    available: postgresAvailable,
    level: undefined,
    database: postgres,
    reportedLevel: { read: postgresLevel, expected: "read committed" },
    expected: {
      "G0": prevented({ waits: ["T2"] }),
      "G1a": prevented(),
      "G1b": prevented(),
      "G1c": prevented(),
      "OTV": prevented({ waits: ["T2"] }),
      "PMP": occurs(),
      "PMP-write": occurs({ waits: ["T2"] }),
      "P4": occurs({ waits: ["T2"] }),
      "G-single": occurs(),
      "G-single-predicate": occurs(),
      "G-single-write": occurs(),
      "G2-item": occurs(),
      "G2": occurs()
    }
  },
  {
    // A transaction that finds a row changed by one committed after its snapshot fails (40001).
    name: "PostgreSQL, repeatable read",
    available: postgresAvailable,
    level: "repeatable read",
    database: postgres,
    reportedLevel: { read: postgresLevel, expected: "repeatable read" },
    expected: {
      "G0": prevented({ waits: ["T2"], failures: [fails("T2", "serialization")] }),
      "G1a": prevented(),
      "G1b": prevented(),
      "G1c": prevented(),
      "OTV": prevented({ waits: ["T2"], failures: [fails("T2", "serialization")] }),
      "PMP": prevented(),
      "PMP-write": prevented({ waits: ["T2"], failures: [fails("T2", "serialization")] }),
      "P4": prevented({ waits: ["T2"], failures: [fails("T2", "serialization")] }),
      "G-single": prevented(),
      "G-single-predicate": prevented(),
      "G-single-write": prevented({ failures: [fails("T1", "serialization")] }),
      "G2-item": occurs(),
      "G2": occurs()
    }
  },
  {
    name: "PostgreSQL, serializable",
    available: postgresAvailable,
    level: "serializable",
    database: postgres,
    reportedLevel: { read: postgresLevel, expected: "serializable" },
    expected: {
      "G0": prevented({ waits: ["T2"], failures: [fails("T2", "serialization")] }),
      "G1a": prevented(),
      "G1b": prevented(),
      // Each read what the other wrote before it: a read-write cycle, broken at the second COMMIT.
      "G1c": prevented({ failures: [fails("T2", "serialization", "commit")] }),
      "OTV": prevented({ waits: ["T2"], failures: [fails("T2", "serialization")] }),
      "PMP": prevented(),
      "PMP-write": prevented({ waits: ["T2"], failures: [fails("T2", "serialization")] }),
      "P4": prevented({ waits: ["T2"], failures: [fails("T2", "serialization")] }),
      "G-single": prevented(),
      "G-single-predicate": prevented(),
      "G-single-write": prevented({ failures: [fails("T1", "serialization")] }),
      "G2-item": prevented({ failures: [fails("T2", "serialization", "commit")] }),
      "G2": prevented({ failures: [fails("T2", "serialization", "commit")] })
    }
  }
]

for (const entry of entries) {
  describe.skipIf(!entry.available)(`Hermitage on ${entry.name}`, () => {
    layer(entry.database, { timeout: "60 seconds", excludeTestServices: true })((it) => {
      for (const anomaly of anomalies) {
        const expected = entry.expected[anomaly.key]
        it.scoped(`${anomaly.key}, ${anomaly.title}: ${describeOutcome(expected)}`, () =>
          Effect.gen(function*() {
            const ran = yield* run(anomaly, yield* HermitageDatabase, entry.level)
            assert.deepStrictEqual(outcomeOf(anomaly, ran), expected, `\n${ran.transcript.join("\n")}\n`)
          }))
      }

      const reported = entry.reportedLevel
      if (reported !== undefined) {
        it.scoped(`its transactions run at ${reported.expected}`, () =>
          Effect.gen(function*() {
            const [sql] = yield* (yield* HermitageDatabase).clients(1)
            if (sql === undefined) return assert.fail("no client")
            yield* setup(sql)
            const level = yield* transactionalWith({ isolation: entry.level })(
              Effect.zipRight(sql`SELECT id FROM test`, reported.read)
            ).pipe(Effect.provideService(SqlClient.SqlClient, sql))
            assert.strictEqual(level, reported.expected)
          }))
      }
    })
  })
}

describe.skipIf(!mysqlAvailable)("transactionalWith on MySQL/MariaDB", () => {
  // One connection: both transactions run on it.
  layer(mysql(1), { timeout: "60 seconds", excludeTestServices: true })((it) => {
    it.scoped("sets the level of its own transaction only: the connection's next one is back at the default", () =>
      Effect.gen(function*() {
        const [sql] = yield* (yield* HermitageDatabase).clients(1)
        if (sql === undefined) return assert.fail("no client")
        yield* setup(sql)
        const seen = (level: IsolationLevel | undefined) =>
          transactionalWith({ isolation: level })(
            Effect.zipRight(sql`SELECT id FROM test`, Effect.all([connectionId, mysqlLevel]))
          ).pipe(Effect.provideService(SqlClient.SqlClient, sql))
        const [connection, level] = yield* seen("serializable")
        assert.strictEqual(level, "SERIALIZABLE")
        assert.deepStrictEqual(yield* seen(undefined), [connection, "REPEATABLE READ"])
      }))
  })
})
