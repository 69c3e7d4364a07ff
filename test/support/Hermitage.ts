/**
 * Hermitage (https://github.com/ept/hermitage), Martin Kleppmann's catalogue of isolation anomalies,
 * as data any dbscope backend can run. Each anomaly is Hermitage's interleaving of two (OTV: three)
 * transactions over `test (id, value)` holding (1, 10) and (2, 20), and a test, over what the
 * transactions saw and left behind, of whether the anomaly happened.
 *
 * `run` drives an interleaving through real dbscope transactions: one fiber per transaction, inside
 * `transactionalWith`, fed its steps one at a time in the script's order. A step either finishes or
 * waits for a lock another transaction holds; a waiting step stays pending (its transaction's
 * later steps queue behind it, as they would on a blocked terminal) and the script goes on with the
 * other transactions, whose commit or rollback lets it finish. The run records which transactions
 * waited and which failed (a deadlock, a serialization failure, SQLite's busy BEGIN), so that a test
 * asserts both whether the database prevents the anomaly and how.
 *
 * A backend plugs in with a `HermitageDatabase`: clients for the transactions, its connection id
 * seen from inside a transaction, and a look from outside at whether that connection waits for a lock.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import type * as Statement from "@effect/sql/Statement"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import type { IsolationLevel } from "../../src/client/core/Isolation.js"
import { driverCode } from "../../src/client/DatabaseError.js"
import { CommitFailed, transactionalWith } from "../../src/combinators/Transactional.js"

// ---------------------------------------------------------------------------------------------
// Scripts

/** A transaction of a script. */
export type Tx = "T1" | "T2" | "T3"

/** A row of Hermitage's table. */
export interface Row {
  readonly id: number
  readonly value: number
}

/** One statement, built with the client it runs on (the `sql` template: bound parameters, any dialect). */
type Query = (sql: SqlClient.SqlClient) => Statement.Statement<Row>

export type Step =
  | { readonly _tag: "Read"; readonly tx: Tx; readonly label: string; readonly query: Query }
  | { readonly _tag: "Write"; readonly tx: Tx; readonly query: Query }
  | { readonly _tag: "Commit"; readonly tx: Tx }
  | { readonly _tag: "Rollback"; readonly tx: Tx }

/** How a transaction failed, the same words on every backend. */
export type FailureKind = "busy" | "deadlock" | "serialization" | "lock wait timeout"

export interface Failure {
  readonly tx: Tx
  /** Where: its BEGIN, one of its statements, or its COMMIT. */
  readonly at: "begin" | "statement" | "commit"
  /** The kind, or `unexpected <driver code>` for an error no backend should give here. */
  readonly kind: FailureKind | `unexpected ${string}`
}

/** What one run of a script did. */
export interface Run {
  /** What the read labelled `label` returned; `undefined` when it did not run (its transaction had failed). */
  readonly rows: (label: string) => ReadonlyArray<Row> | undefined
  readonly committed: (tx: Tx) => boolean
  /** The table after every transaction ended. */
  readonly final: ReadonlyArray<Row>
  /** The transactions that waited for another's lock, once per waiting statement, in the order seen. */
  readonly waits: ReadonlyArray<Tx>
  readonly failures: ReadonlyArray<Failure>
  /** Each step and what became of it, for failure messages. */
  readonly transcript: ReadonlyArray<string>
}

/** The anomalies, by Hermitage's names; a dash names one of Hermitage's variants of an anomaly. */
export type AnomalyKey =
  | "G0"
  | "G1a"
  | "G1b"
  | "G1c"
  | "OTV"
  | "PMP"
  | "PMP-write"
  | "P4"
  | "G-single"
  | "G-single-predicate"
  | "G-single-write"
  | "G2-item"
  | "G2"

export interface Anomaly {
  readonly key: AnomalyKey
  readonly title: string
  readonly steps: ReadonlyArray<Step>
  /** Whether what the transactions saw and left could not have come from running them one after another. */
  readonly occurred: (run: Run) => boolean
}

const on = (tx: Tx) => ({
  read: (label: string, query: Query): Step => ({ _tag: "Read", tx, label: `${tx} ${label}`, query }),
  write: (query: Query): Step => ({ _tag: "Write", tx, query }),
  set: (id: number, value: number): Step => ({
    _tag: "Write",
    tx,
    query: (sql) => sql<Row>`UPDATE test SET value = ${value} WHERE id = ${id}`
  }),
  insert: (id: number, value: number): Step => ({
    _tag: "Write",
    tx,
    query: (sql) => sql<Row>`INSERT INTO test (id, value) VALUES (${id}, ${value})`
  }),
  commit: { _tag: "Commit", tx } satisfies Step,
  rollback: { _tag: "Rollback", tx } satisfies Step
})
const T1 = on("T1")
const T2 = on("T2")
const T3 = on("T3")

const all: Query = (sql) => sql<Row>`SELECT id, value FROM test ORDER BY id`
const byId = (id: number): Query => (sql) => sql<Row>`SELECT id, value FROM test WHERE id = ${id}`
const both: Query = (sql) => sql<Row>`SELECT id, value FROM test WHERE id IN (${1}, ${2}) ORDER BY id`
const valueIs = (value: number): Query => (sql) =>
  sql<Row>`SELECT id, value FROM test WHERE value = ${value} ORDER BY id`
const multipleOf = (n: number): Query => (sql) =>
  sql<Row>`SELECT id, value FROM test WHERE value % ${n} = 0 ORDER BY id`

/** The value of row `id` in `rows`, if it is there. */
const valueOf = (rows: ReadonlyArray<Row> | undefined, id: number) => rows?.find((row) => row.id === id)?.value

/** Whether a read saw exactly the initial rows, (1, 10) and (2, 20). */
const sawInitial = (rows: ReadonlyArray<Row> | undefined) => valueOf(rows, 1) === 10 && valueOf(rows, 2) === 20

/** Hermitage's tests (postgres.md, mysql.md), one interleaving each. */
export const anomalies: ReadonlyArray<Anomaly> = [
  {
    key: "G0",
    title: "write cycles (dirty writes)",
    steps: [T1.set(1, 11), T2.set(1, 12), T1.set(2, 21), T1.commit, T2.set(2, 22), T2.commit],
    // T1 writes 11 and 21, T2 12 and 22: one after the other leaves one transaction's pair.
    occurred: (run) => (valueOf(run.final, 1) ?? 0) % 10 !== (valueOf(run.final, 2) ?? 0) % 10
  },
  {
    key: "G1a",
    title: "aborted reads (dirty reads, cascaded aborts)",
    steps: [
      T1.set(1, 101),
      T2.read("while T1 is open", all),
      T1.rollback,
      T2.read("after T1 rolled back", all),
      T2.commit
    ],
    occurred: (run) =>
      valueOf(run.rows("T2 while T1 is open"), 1) === 101 || valueOf(run.rows("T2 after T1 rolled back"), 1) === 101
  },
  {
    key: "G1b",
    title: "intermediate reads (dirty reads)",
    steps: [
      T1.set(1, 101),
      T2.read("before T1's last write", all),
      T1.set(1, 11),
      T1.commit,
      T2.read("after T1 committed", all),
      T2.commit
    ],
    occurred: (run) =>
      valueOf(run.rows("T2 before T1's last write"), 1) === 101 || valueOf(run.rows("T2 after T1 committed"), 1) === 101
  },
  {
    key: "G1c",
    title: "circular information flow (dirty reads)",
    steps: [T1.set(1, 11), T2.set(2, 22), T1.read("row 2", byId(2)), T2.read("row 1", byId(1)), T1.commit, T2.commit],
    // Each saw the other's write: each would have to come after the other.
    occurred: (run) => valueOf(run.rows("T1 row 2"), 2) === 22 && valueOf(run.rows("T2 row 1"), 1) === 11
  },
  {
    key: "OTV",
    title: "observed transaction vanishes",
    steps: [
      T1.set(1, 11),
      T1.set(2, 19),
      T2.set(1, 12),
      T1.commit,
      T3.read("first", all),
      T2.set(2, 18),
      T3.read("second", all),
      T2.commit,
      T3.read("after T2 committed", all),
      T3.commit
    ],
    // Seeing T2's row 1 next to T1's row 2, which T2 overwrote: part of T2 observed, part vanished.
    occurred: (run) =>
      ["T3 first", "T3 second", "T3 after T2 committed"].some((label) =>
        valueOf(run.rows(label), 1) === 12 && valueOf(run.rows(label), 2) === 19
      )
  },
  {
    key: "PMP",
    title: "predicate-many-preceders (read predicates)",
    steps: [
      T1.read("value = 30", valueIs(30)),
      T2.insert(3, 30),
      T2.commit,
      T1.read("value % 3 = 0", multipleOf(3)),
      T1.commit
    ],
    // T1 saw no row 3, then saw it: before T2 and after it.
    occurred: (run) => run.rows("T1 value = 30")?.length === 0 && valueOf(run.rows("T1 value % 3 = 0"), 3) !== undefined
  },
  {
    key: "PMP-write",
    title: "predicate-many-preceders (write predicates)",
    steps: [
      T1.write((sql) => sql<Row>`UPDATE test SET value = value + ${10}`),
      T2.read("value = 20", valueIs(20)),
      T2.write((sql) => sql<Row>`DELETE FROM test WHERE value = ${20}`),
      T1.commit,
      T2.read("after its delete", all),
      T2.commit
    ],
    // T2 deleted the rows whose value is 20 and still sees one: its delete and its reads saw different states.
    occurred: (run) => run.rows("T2 after its delete")?.some((row) => row.value === 20) ?? false
  },
  {
    key: "P4",
    title: "lost update",
    steps: [T1.read("row 1", byId(1)), T2.read("row 1", byId(1)), T1.set(1, 11), T2.set(1, 11), T1.commit, T2.commit],
    // Both read 10 and both committed their write: the second overwrote the first without having seen it.
    occurred: (run) =>
      run.committed("T1") && run.committed("T2") && valueOf(run.rows("T1 row 1"), 1) === 10 &&
      valueOf(run.rows("T2 row 1"), 1) === 10
  },
  {
    key: "G-single",
    title: "single anti-dependency cycles (read skew)",
    steps: [
      T1.read("row 1", byId(1)),
      T2.read("row 1", byId(1)),
      T2.read("row 2", byId(2)),
      T2.set(1, 12),
      T2.set(2, 18),
      T2.commit,
      T1.read("row 2", byId(2)),
      T1.commit
    ],
    // T1 saw row 1 before T2 and row 2 after it.
    occurred: (run) => valueOf(run.rows("T1 row 1"), 1) === 10 && valueOf(run.rows("T1 row 2"), 2) === 18
  },
  {
    key: "G-single-predicate",
    title: "single anti-dependency cycles (predicate dependencies)",
    steps: [
      T1.read("value % 5 = 0", multipleOf(5)),
      T2.write((sql) => sql<Row>`UPDATE test SET value = ${12} WHERE value = ${10}`),
      T2.commit,
      T1.read("value % 3 = 0", multipleOf(3)),
      T1.commit
    ],
    occurred: (run) =>
      valueOf(run.rows("T1 value % 5 = 0"), 1) === 10 && valueOf(run.rows("T1 value % 3 = 0"), 1) === 12
  },
  {
    key: "G-single-write",
    title: "single anti-dependency cycles (write predicate)",
    steps: [
      T1.read("row 1", byId(1)),
      T2.read("all", all),
      T2.set(1, 12),
      T2.set(2, 18),
      T2.commit,
      T1.write((sql) => sql<Row>`DELETE FROM test WHERE value = ${20}`),
      T1.read("row 2", byId(2)),
      T1.commit
    ],
    // T1 saw row 1 before T2, so its delete of value 20 should have removed row 2, which T1 still sees.
    occurred: (run) => valueOf(run.rows("T1 row 1"), 1) === 10 && (run.rows("T1 row 2")?.length ?? 0) > 0
  },
  {
    key: "G2-item",
    title: "item anti-dependency cycles (write skew on disjoint read)",
    steps: [T1.read("rows", both), T2.read("rows", both), T1.set(1, 11), T2.set(2, 21), T1.commit, T2.commit],
    // Both committed, neither having seen the other's write: each would have to come first.
    occurred: (run) =>
      run.committed("T1") && run.committed("T2") && sawInitial(run.rows("T1 rows")) && sawInitial(run.rows("T2 rows"))
  },
  {
    key: "G2",
    title: "anti-dependency cycles (write skew on predicate read)",
    steps: [
      T1.read("value % 3 = 0", multipleOf(3)),
      T2.read("value % 3 = 0", multipleOf(3)),
      T1.insert(3, 30),
      T2.insert(4, 42),
      T1.commit,
      T2.commit
    ],
    occurred: (run) =>
      run.committed("T1") && run.committed("T2") && run.rows("T1 value % 3 = 0")?.length === 0 &&
      run.rows("T2 value % 3 = 0")?.length === 0
  }
]

// ---------------------------------------------------------------------------------------------
// Expected outcomes

/** What a backend does with an anomaly's interleaving: the verdict, and how it came about. */
export interface Outcome {
  readonly anomaly: "occurs" | "prevented"
  readonly waits: ReadonlyArray<Tx>
  readonly failures: ReadonlyArray<Failure>
}

interface How {
  /** The transactions whose statements wait for another's lock (once per waiting statement, in order). */
  readonly waits?: ReadonlyArray<Tx>
  readonly failures?: ReadonlyArray<Failure>
}

/** The database prevents the anomaly; with no `how`, without any wait or failure (the reads see a snapshot). */
export const prevented = (how: How = {}): Outcome => ({
  anomaly: "prevented",
  waits: how.waits ?? [],
  failures: how.failures ?? []
})

/** The anomaly happens. */
export const occurs = (how: How = {}): Outcome => ({
  anomaly: "occurs",
  waits: how.waits ?? [],
  failures: how.failures ?? []
})

/** `tx` fails with `kind`, at a statement unless told. */
export const fails = (tx: Tx, kind: FailureKind, at: Failure["at"] = "statement"): Failure => ({ tx, at, kind })

/** The outcome as words, for a test's name: `prevented: T1 waits, T2 fails (deadlock)`. */
export const describeOutcome = (outcome: Outcome): string => {
  const how = [
    ...outcome.waits.map((tx) => `${tx} waits for a lock`),
    ...outcome.failures.map((failure) =>
      failure.at === "begin"
        ? `${failure.tx} cannot begin (${failure.kind})`
        : `${failure.tx} fails${failure.at === "commit" ? " at COMMIT" : ""} (${failure.kind})`
    )
  ]
  return `${outcome.anomaly}: ${how.length === 0 ? "no wait, no failure" : how.join(", ")}`
}

/** What `run` saw, as an `Outcome`. */
export const outcomeOf = (anomaly: Anomaly, run: Run): Outcome => ({
  anomaly: anomaly.occurred(run) ? "occurs" : "prevented",
  waits: run.waits,
  failures: run.failures
})

// ---------------------------------------------------------------------------------------------
// Backends

/** What a backend gives the scripts. */
export class HermitageDatabase extends Context.Tag("test/HermitageDatabase")<HermitageDatabase, {
  /**
   * `count` clients on one fresh database, one per transaction: the same pooled client on a server
   * (each transaction reserves a connection of its own), a connection each on SQLite.
   */
  readonly clients: (count: number) => Effect.Effect<ReadonlyArray<SqlClient.SqlClient>, unknown, Scope.Scope>
  /** Inside a transaction: its connection, as `waiting` knows it. */
  readonly connectionId: Effect.Effect<string, SqlError, SqlClient.SqlClient>
  /** Seen from outside: whether the statement running on `connection` waits for a lock held by another transaction. */
  readonly waiting: (connection: string) => Effect.Effect<boolean, SqlError>
  /** A driver code's `FailureKind`; `undefined` for any other error. */
  readonly failureKind: (code: string) => FailureKind | undefined
}>() {}

/** Hermitage's table, (1, 10) and (2, 20), made afresh. */
export const setup = (sql: SqlClient.SqlClient) =>
  Effect.all([
    sql`DROP TABLE IF EXISTS test`,
    sql`CREATE TABLE test (id INT PRIMARY KEY, value INT)`,
    sql`INSERT INTO test (id, value) VALUES (${1}, ${10}), (${2}, ${20})`
  ], { discard: true })

/** A step that neither finished nor waited for a lock in time: the script cannot go on. */
export class StepStuck extends Data.TaggedError("StepStuck")<{ readonly step: string }> {
  override get message() {
    return `${this.step} neither finished nor waited for a lock within ${stepLimit}`
  }
}

/** The end of a transaction by `Rollback`: the body fails so that `transactional` rolls back. */
class RolledBack extends Data.TaggedError("RolledBack") {}

/** How long one step may take to finish or to be seen waiting, on a loaded machine. */
const stepLimit = "10 seconds"

/** How often a step that has not finished is looked at. */
const lookingAgain = Schedule.spaced("10 millis")

/**
 * How long a wait must last, seen twice, to count. A statement that closes a deadlock is queued as
 * waiting for a few microseconds before the engine's deadlock check picks a victim (InnoDB marks the
 * wait first, then checks): seeing that instant once is not a wait for another transaction.
 */
const waitLasting = "50 millis"

/** What became of a step. */
type Result =
  | { readonly _tag: "Rows"; readonly rows: ReadonlyArray<Row> }
  | { readonly _tag: "Failed"; readonly error: unknown }
  | { readonly _tag: "Ended" }
  | { readonly _tag: "NotRun" }

interface Command {
  readonly step: Step
  readonly text: string
  readonly done: Deferred.Deferred<Result>
  /** Whether it was seen waiting for a lock (counted once). */
  waited: boolean
}

interface Session {
  readonly tx: Tx
  readonly inbox: Queue.Queue<Command>
  /** Ends with the transaction's exit once it has committed or rolled back (or failed to begin). */
  readonly fiber: Fiber.RuntimeFiber<Exit.Exit<void, unknown>>
  /** Its connection as `HermitageDatabase.waiting` knows it; empty when its BEGIN failed. */
  readonly connection: string
  /** Steps sent and not finished: the first waits for a lock, the rest queue behind it. */
  readonly pending: Array<Command>
}

/** The error a failed exit carries (its failure, else its defect); `undefined` for a success. */
const failureOf = (exit: Exit.Exit<unknown, unknown>): unknown =>
  Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined

/** The driver code of a transaction's failure. */
const codeOf = (error: unknown): string =>
  error instanceof CommitFailed ? error.code : error instanceof SqlError ? driverCode(error) : String(error)

/** The step as the transcript shows it: the transaction, and the SQL with its parameters. */
const textOf = (step: Step, sql: SqlClient.SqlClient): string => {
  if (step._tag === "Commit" || step._tag === "Rollback") return `${step.tx} ${step._tag.toUpperCase()}`
  const [text, params] = step.query(sql).compile()
  return `${step.tx} ${text.replace(/\s+/g, " ")} ${JSON.stringify(params)}`
}

/**
 * Runs `anomaly`'s interleaving on `database` at `level` (`undefined`: the database's default), in
 * a fresh table, and returns what happened. Every transaction has ended when it returns.
 */
export const run = (
  anomaly: Anomaly,
  database: HermitageDatabase["Type"],
  level: IsolationLevel | undefined
): Effect.Effect<Run, unknown, Scope.Scope> =>
  Effect.gen(function*() {
    const txs = [...new Set(anomaly.steps.map((step) => step.tx))]
    const clients = yield* database.clients(txs.length)
    const clientOf = (tx: Tx) => {
      const client = clients[txs.indexOf(tx)]
      return client === undefined ? Effect.dieMessage(`no client for ${tx}`) : Effect.succeed(client)
    }
    const main = yield* clientOf("T1")
    yield* setup(main)

    const transcript: Array<string> = []
    const reads = new Map<string, ReadonlyArray<Row>>()
    const committed = new Set<Tx>()
    const waits: Array<Tx> = []
    const failures: Array<Failure> = []
    const failed = (tx: Tx, at: Failure["at"], error: unknown) => {
      const code = codeOf(error)
      failures.push({ tx, at, kind: database.failureKind(code) ?? `unexpected ${code}` })
    }

    /** Whether the statement running on `session`'s connection waits for a lock, seen twice `waitLasting` apart. */
    const waitsForLock = (session: Session) => {
      const seen = database.waiting(session.connection).pipe(
        Effect.repeat({ schedule: lookingAgain, until: (waiting) => waiting })
      )
      const lasting = Effect.zipRight(
        seen,
        Effect.zipRight(Effect.sleep(waitLasting), database.waiting(session.connection))
      )
      return lasting.pipe(Effect.repeat({ until: (waiting) => waiting }))
    }

    /** The result of `command`, once run; `NotRun` when its transaction ended before it. */
    const resultOf = (session: Session, command: Command): Effect.Effect<Result> =>
      Effect.raceFirst(
        Deferred.await(command.done),
        Effect.zipRight(
          Fiber.await(session.fiber),
          Effect.flatMap(
            Deferred.poll(command.done),
            Option.match({ onNone: () => Effect.succeed<Result>({ _tag: "NotRun" }), onSome: (result) => result })
          )
        )
      )

    const record = (command: Command, result: Result) => {
      const { step } = command
      let said: string
      switch (result._tag) {
        case "Rows":
          if (step._tag === "Read") reads.set(step.label, result.rows)
          said = step._tag === "Read" ? JSON.stringify(result.rows.map((row) => [row.id, row.value])) : "done"
          break
        case "Failed":
          failed(step.tx, step._tag === "Commit" ? "commit" : "statement", result.error)
          said = `fails: ${codeOf(result.error)}`
          break
        case "Ended":
          if (step._tag === "Commit") committed.add(step.tx)
          said = step._tag === "Commit" ? "committed" : "rolled back"
          break
        case "NotRun":
          said = "not run: the transaction has ended"
      }
      transcript.push(`${command.text} → ${said}`)
    }

    /**
     * Waits until `session`'s first pending step finishes or is seen waiting for a lock; true when it
     * finished (recorded, and taken off `pending`).
     */
    const advance = (session: Session) =>
      Effect.gen(function*() {
        const command = session.pending[0]
        if (command === undefined) return false
        const outcome = yield* Effect.raceFirst(
          Effect.map(resultOf(session, command), (result) => Option.some(result)),
          Effect.as(waitsForLock(session), Option.none<Result>())
        ).pipe(
          Effect.timeoutFail({ duration: stepLimit, onTimeout: () => new StepStuck({ step: command.text }) })
        )
        if (Option.isSome(outcome)) {
          session.pending.shift()
          record(command, outcome.value)
          return true
        }
        if (!command.waited) {
          command.waited = true
          waits.push(session.tx)
          transcript.push(`${command.text} → waits for a lock`)
        }
        return false
      })

    /** Lets every pending step that can finish now finish, in transaction order. */
    const settle = (sessions: ReadonlyArray<Session>) =>
      Effect.forEach(sessions, (session) => Effect.repeat(advance(session), { while: (finished) => finished }), {
        discard: true
      })

    /** Starts `tx`'s transaction on its own fiber, fed by its inbox; `connection` is empty when its BEGIN failed. */
    const begin = (tx: Tx) =>
      Effect.gen(function*() {
        const client = yield* clientOf(tx)
        const inbox = yield* Queue.unbounded<Command>()
        const started = yield* Deferred.make<string>()
        let ending: Command | undefined
        const body = Effect.gen(function*() {
          yield* Deferred.succeed(started, yield* database.connectionId)
          while (true) {
            const command = yield* Queue.take(inbox)
            const { step } = command
            if (step._tag === "Commit") {
              ending = command
              return
            }
            if (step._tag === "Rollback") {
              ending = command
              return yield* new RolledBack()
            }
            const exit = yield* Effect.exit(step.query(client))
            yield* Deferred.succeed(
              command.done,
              Exit.isSuccess(exit) ? { _tag: "Rows", rows: exit.value } : { _tag: "Failed", error: failureOf(exit) }
            )
            // A failed statement ends the transaction: the body fails, so `transactional` rolls back.
            if (Exit.isFailure(exit)) return yield* exit
          }
        })
        // The fiber always succeeds, with the transaction's exit; COMMIT or ROLLBACK is over when it ends.
        const fiber = yield* transactionalWith({ isolation: level })(Effect.asVoid(body)).pipe(
          Effect.provideService(SqlClient.SqlClient, client),
          Effect.exit,
          Effect.tap((exit) => {
            if (ending === undefined) return Effect.void
            const error = failureOf(exit)
            return Deferred.succeed(
              ending.done,
              error === undefined || error instanceof RolledBack ? { _tag: "Ended" } : { _tag: "Failed", error }
            )
          }),
          Effect.forkScoped
        )
        // The body waits for its first step once started: its fiber ends first only when BEGIN failed.
        const connection = yield* Effect.raceFirst(
          Deferred.await(started),
          Effect.as(Fiber.await(fiber), "")
        )
        if (connection === "") {
          const error = failureOf(yield* Fiber.join(fiber))
          failed(tx, "begin", error)
          transcript.push(`${tx} BEGIN → fails: ${codeOf(error)}`)
        } else {
          transcript.push(`${tx} BEGIN`)
        }
        const session: Session = { tx, inbox, fiber, connection, pending: [] }
        return session
      })

    const sessions: Array<Session> = []
    for (const tx of txs) sessions.push(yield* begin(tx))
    const sessionOf = (tx: Tx) => {
      const session = sessions.find((candidate) => candidate.tx === tx)
      return session === undefined ? Effect.dieMessage(`no session for ${tx}`) : Effect.succeed(session)
    }

    for (const step of anomaly.steps) {
      const session = yield* sessionOf(step.tx)
      const command: Command = {
        step,
        text: textOf(step, yield* clientOf(step.tx)),
        done: yield* Deferred.make<Result>(),
        waited: false
      }
      yield* Queue.offer(session.inbox, command)
      session.pending.push(command)
      if (session.pending.length > 1) {
        transcript.push(`${command.text} → queued behind the waiting statement`)
        continue
      }
      yield* advance(session)
      yield* settle(sessions)
    }
    // Every transaction has had its last step: whatever still waits finishes now, without anyone's help.
    for (const session of sessions) {
      for (let command = session.pending.shift(); command !== undefined; command = session.pending.shift()) {
        const text = command.text
        record(
          command,
          yield* resultOf(session, command).pipe(
            Effect.timeoutFail({ duration: stepLimit, onTimeout: () => new StepStuck({ step: text }) })
          )
        )
      }
      yield* Fiber.await(session.fiber)
    }

    const final = yield* main<Row>`SELECT id, value FROM test ORDER BY id`
    return {
      rows: (label) => reads.get(label),
      committed: (tx) => committed.has(tx),
      final,
      waits,
      failures: [...failures].sort((a, b) => a.tx.localeCompare(b.tx)),
      transcript
    } satisfies Run
  })
