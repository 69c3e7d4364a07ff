/**
 * The two workloads that prove what dbscope promises on a Galera cluster, run by the cluster tests
 * and the `cluster` bench suite against a real cluster:
 *
 * - a kill trial: writers make acknowledged single-row transactions, the node taking the writes is
 *   killed (SIGKILL) in the middle, the writers carry on through the failover, the node comes back
 *   (IST), and every node is then read: no acknowledged write may be missing, none may be there twice;
 * - a conflict storm: two clients, each writing through a different node, increment the same rows
 *   and one shared counter; certification conflicts are retried, and the counter must equal the
 *   number of commits (no lost update).
 *
 * Each write is made idempotent the way a careful application would: the transaction looks for its
 * own operation id first. A COMMIT whose connection died may have committed; the retry then finds
 * the row and writes nothing.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import type * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import type * as Redacted from "effect/Redacted"
import { performance } from "node:perf_hooks"
import * as MysqlDatabase from "../client/MysqlDatabase.js"
import { retryOnFailure } from "../combinators/RetryOnFailure.js"
import { transactional } from "../combinators/Transactional.js"

/** What the trials need of a cluster client. */
export type ClusterClient = SqlClient.SqlClient | MysqlDatabase.MysqlDatabase

/**
 * How a trial's write is retried: quickly at first (a failover takes about one health check),
 * never past `writeTimeout` in all. The retries' own log lines are silenced: the trial counts them.
 */
const retried = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  attempts: { count: number },
  writeTimeout: Duration.Duration
) =>
  Effect.suspend(() => (attempts.count++, effect)).pipe(
    retryOnFailure({ retries: 200, delay: Duration.millis(10), maxDelay: Duration.millis(250) }),
    Logger.withMinimumLogLevel(LogLevel.Error),
    Effect.timeoutFail({ duration: writeTimeout, onTimeout: () => new WriteTimedOut() })
  )

/** A write that did not succeed within the trial's bound. */
export class WriteTimedOut {
  readonly _tag = "WriteTimedOut"
}

/** Creates the trials' tables (once per database). */
export const createTables = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE IF NOT EXISTS kill_trial (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    op VARCHAR(64) NOT NULL,
    KEY kill_trial_op (op)
  )`
  yield* sql`CREATE TABLE IF NOT EXISTS storm_rows (id INT PRIMARY KEY, n BIGINT NOT NULL)`
  yield* sql`CREATE TABLE IF NOT EXISTS storm_counter (id INT PRIMARY KEY, n BIGINT NOT NULL)`
})

/** What one kill trial came to. */
export interface KillTrialResult {
  /** The node killed (1 = the URL's first host). */
  readonly killed: number
  /** Writes the client was told succeeded. */
  readonly acknowledged: number
  /** Writes that failed or timed out (not acknowledged: they may or may not be there). */
  readonly failed: number
  /** Acknowledged writes missing on some node (goal 0). */
  readonly lost: number
  /** Operations found more than once on some node (goal 0). */
  readonly duplicated: number
  /** From the kill to the first acknowledged write that started after it. */
  readonly recoveredMs: number | undefined
  /** The slowest acknowledged write, retries included. */
  readonly slowestMs: number
  /** Attempts beyond the first, over all writes. */
  readonly retries: number
  /** Rows of this trial on each node, in the URL's order (all equal when the nodes agree). */
  readonly rowsPerNode: ReadonlyArray<number>
}

export interface KillTrialOptions {
  /** A name of its own, so that trials in the same table do not mix. */
  readonly trial: string
  /** Writer fibers (default 4). */
  readonly writers?: number
  /** Load before the kill (default 1 s) and after it (default 3 s). */
  readonly before?: Duration.DurationInput
  readonly after?: Duration.DurationInput
  /** No write may take longer, retries included (default 20 s). */
  readonly writeTimeout?: Duration.DurationInput
  /** Kills node N (1-based) with SIGKILL; brings it back and waits until it is synced. */
  readonly kill: (node: number) => Effect.Effect<void, unknown>
  readonly restart: (node: number) => Effect.Effect<void, unknown>
  /** Each node alone, to read what it holds at the end (a layer per node, in the URL's order). */
  readonly nodeLayers: ReadonlyArray<Layer.Layer<SqlClient.SqlClient, unknown>>
}

/**
 * The operations of `trial` a node holds, read after every write it was sent has been applied.
 * `SET STATEMENT ... FOR`, not `SET SESSION` then SELECT in a transaction: MariaDB skips the
 * causality wait for statements inside a transaction (after BEGIN), so that read did not wait.
 */
const heldOperations = (trial: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ readonly op: string; readonly n: number }>`
      SET STATEMENT wsrep_sync_wait = 1 FOR
      SELECT op, COUNT(*) AS n FROM kill_trial WHERE op LIKE ${`${trial}:%`} GROUP BY op`)

/** One kill trial (see the module doc), with the cluster client in context. */
export const killTrial = (options: KillTrialOptions) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const database = yield* MysqlDatabase.MysqlDatabase
    const writeTimeout = Duration.decode(options.writeTimeout ?? Duration.seconds(20))
    const acknowledged = new Set<string>()
    const attempts = { count: 0 }
    let writes = 0
    let failed = 0
    let slowestMs = 0
    const kill = { at: undefined as number | undefined }
    let recoveredMs: number | undefined

    const write = (op: string) =>
      Effect.gen(function*() {
        const [found] = yield* sql<{ readonly n: number }>`SELECT COUNT(*) AS n FROM kill_trial WHERE op = ${op}`
        if (Number(found?.n ?? 0) === 0) yield* sql`INSERT INTO kill_trial (op) VALUES (${op})`
      }).pipe(transactional)

    const writer = (index: number) =>
      Effect.forever(Effect.suspend(() => {
        const op = `${options.trial}:${index}:${writes++}`
        const started = performance.now()
        return retried(write(op), attempts, writeTimeout).pipe(
          Effect.matchEffect({
            onFailure: () => Effect.sync(() => void failed++),
            onSuccess: () =>
              Effect.sync(() => {
                const ended = performance.now()
                acknowledged.add(op)
                slowestMs = Math.max(slowestMs, ended - started)
                if (kill.at !== undefined && started >= kill.at && recoveredMs === undefined) {
                  recoveredMs = ended - kill.at
                }
              })
          })
        )
      }))

    const load = yield* Effect.fork(
      Effect.forEach(Array.from({ length: options.writers ?? 4 }, (_, index) => index), writer, {
        concurrency: "unbounded",
        discard: true
      })
    )
    yield* Effect.sleep(options.before ?? Duration.seconds(1))
    const status = yield* database.nodes
    const killed = status.findIndex((node) => node.writer) + 1
    if (killed === 0) return yield* Effect.dieMessage("no node takes writes before the kill")
    yield* options.kill(killed)
    kill.at = performance.now()
    yield* Effect.sleep(options.after ?? Duration.seconds(3))
    yield* Fiber.interrupt(load)
    yield* options.restart(killed)

    const held = yield* Effect.forEach(options.nodeLayers, (layer) =>
      Effect.provide(heldOperations(options.trial), layer))
    const lost = new Set<string>()
    const duplicated = new Set<string>()
    for (const rows of held) {
      const counts = new Map(rows.map((row) => [row.op, Number(row.n)]))
      for (const op of acknowledged) {
        if (!counts.has(op)) {
          lost.add(op)
        }
      }
      for (const [op, n] of counts) {
        if (n > 1) {
          duplicated.add(op)
        }
      }
    }
    return {
      killed,
      acknowledged: acknowledged.size,
      failed,
      lost: lost.size,
      duplicated: duplicated.size,
      recoveredMs,
      slowestMs,
      retries: attempts.count - acknowledged.size - failed,
      rowsPerNode: held.map((rows) =>
        rows.reduce((sum, row) => sum + Number(row.n), 0)
      )
    } satisfies KillTrialResult
  })

/** What a conflict storm came to. */
export interface StormResult {
  /** Transactions committed by each client. */
  readonly commits: readonly [number, number]
  /** Attempts that failed with a certification conflict (or another transient error) and were retried. */
  readonly retried: number
  /** Transactions that gave up (retries exhausted or timed out). */
  readonly failed: number
  /** The shared counter at the end, and commits minus it (goal 0). */
  readonly counter: number
  readonly lostUpdates: number
  /** The rows' increments at the end against what the commits made (equal when nothing was lost). */
  readonly rowIncrements: number
  readonly expectedRowIncrements: number
}

export interface StormOptions {
  /** How long both clients write (default 10 s). */
  readonly duration?: Duration.DurationInput
  /** Rows both write to (default 100), and how many each transaction increments (default 5). */
  readonly rows?: number
  readonly perTransaction?: number
  /** Writer fibers per client (default 2). */
  readonly writers?: number
  /** Stops early once this many conflicts were retried (tests: "at least one conflict, then stop"). */
  readonly untilConflicts?: number
}

/**
 * Two clients (each writing through a node of its own) increment the same rows and one counter at
 * once; `first` and `second` provide each client. The tables are reset first.
 */
export const conflictStorm = (
  first: Layer.Layer<ClusterClient, unknown>,
  second: Layer.Layer<ClusterClient, unknown>,
  options: StormOptions = {}
) =>
  Effect.gen(function*() {
    const rows = options.rows ?? 100
    const perTransaction = options.perTransaction ?? 5
    const deadline = performance.now() + Duration.toMillis(options.duration ?? Duration.seconds(10))
    const attempts = { count: 0 }
    const commits: [number, number] = [0, 0]
    let failed = 0

    yield* Effect.provide(
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* sql`DELETE FROM storm_rows`
        yield* sql`DELETE FROM storm_counter`
        yield* sql`INSERT INTO storm_counter (id, n) VALUES (1, 0)`
        yield* sql`INSERT INTO storm_rows ${sql.insert(Array.from({ length: rows }, (_, id) => ({ id, n: 0 })))}`
      }),
      first
    )

    const increment = Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const ids = new Set<number>()
      while (ids.size < Math.min(perTransaction, rows)) ids.add(Math.floor(Math.random() * rows))
      yield* sql`UPDATE storm_rows SET n = n + 1 WHERE ${sql.in("id", [...ids])}`
      yield* sql`UPDATE storm_counter SET n = n + 1 WHERE id = 1`
    }).pipe(transactional)

    const stormEnded = () =>
      performance.now() >= deadline ||
      (options.untilConflicts !== undefined &&
        attempts.count - commits[0] - commits[1] - failed >= options.untilConflicts)

    const client = (side: 0 | 1) =>
      Effect.forEach(
        Array.from({ length: options.writers ?? 2 }, (_, index) => index),
        () =>
          Effect.whileLoop({
            while: () => !stormEnded(),
            body: () =>
              retried(increment, attempts, Duration.seconds(30)).pipe(
                Effect.match({ onFailure: () => void failed++, onSuccess: () => void commits[side]++ })
              ),
            step: () => undefined
          }),
        { concurrency: "unbounded", discard: true }
      )

    yield* Effect.all([Effect.provide(client(0), first), Effect.provide(client(1), second)], {
      concurrency: "unbounded",
      discard: true
    })

    const [counter, increments] = yield* Effect.provide(
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const [counted] = yield* sql<{ readonly n: number }>`SELECT n FROM storm_counter WHERE id = 1`
        const [summed] = yield* sql<{ readonly n: number }>`SELECT COALESCE(SUM(n), 0) AS n FROM storm_rows`
        return [Number(counted?.n ?? 0), Number(summed?.n ?? 0)] as const
      }),
      second
    )
    const committed = commits[0] + commits[1]
    return {
      commits,
      retried: attempts.count - committed - failed,
      failed,
      counter,
      lostUpdates: committed - counter,
      rowIncrements: increments,
      expectedRowIncrements: committed * Math.min(perTransaction, rows)
    } satisfies StormResult
  })

/** A client of the cluster URL whose writes go through node `writer` (1-based). */
export const clusterLayer = (url: Redacted.Redacted<string>, settings: MysqlDatabase.MysqlOptions["cluster"] = {}) =>
  MysqlDatabase.layer({ url, poolSize: 8, cluster: settings })

/** A client of node `index` alone (0-based, in the URL's order). */
export const nodeLayers = (url: Redacted.Redacted<string>) =>
  Effect.map(
    MysqlDatabase.parseUrl(url),
    (where) => where.nodes.map((node) => MysqlDatabase.layer({ url: node.url, poolSize: 2 }))
  )
