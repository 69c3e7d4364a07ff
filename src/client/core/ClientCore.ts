/**
 * The client core: turns any backend's `Driver` into a standard `@effect/sql` `SqlClient`, once
 * for every backend. Around each statement it carries out the fiber's `StatementObserver` (log
 * line, span, tables read), tells `Reactivity` what a write changed (again when its transaction
 * ends, so a result cached meanwhile from an older snapshot does not outlive the commit), counts
 * open transactions and cursors, and routes reads to reader workers by measured cost.
 *
 * Transactions are its own: `BEGIN` in the driver's dialect, savepoints that are released when
 * the nested part succeeds (`@effect/sql` leaves them stacked, and SQLite checks every open one on
 * each page written), and a failed COMMIT rolled back and returned as a typed `CommitError`
 * (`@effect/sql` makes it a defect). A statement that ended its transaction on the database's side
 * (a deadlock victim) makes the rest of that transaction fail with it, never run in autocommit.
 *
 * A synchronous driver (SQLite) runs each statement in the caller's own step: when its single
 * connection is free, a point lookup costs no permit, no scope and no thread hop.
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as Client from "@effect/sql/SqlClient"
import type { Connection } from "@effect/sql/SqlConnection"
import { SqlError } from "@effect/sql/SqlError"
import * as Statement from "@effect/sql/Statement"
import * as Chunk from "effect/Chunk"
import type * as Config from "effect/Config"
import type { ConfigError } from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Tracer from "effect/Tracer"
import * as OpenResources from "../../OpenResources.js"
import { PreparedQueries, type PreparedQuery } from "../PreparedQueries.js"
import type { Driver, DriverConnection, Ran, Request, Shape } from "./Driver.js"
import * as Isolation from "./Isolation.js"
import * as Observation from "./Observation.js"
import { ReadOnlyGate } from "./ReadOnlyGate.js"
import * as ReadRouting from "./ReadRouting.js"
import * as RowCheck from "./RowCheck.js"
import * as StatementObserver from "./StatementObserver.js"

/** Options every dbscope client takes, as upstream's clients do. */
export interface ClientOptions {
  /** Applied to identifiers in queries (`sql("userId")`, `sql.insert`): e.g. camelCase to snake_case. */
  readonly transformQueryNames?: ((name: string) => string) | undefined
  /** Applied to the column names of result rows: e.g. snake_case to camelCase. */
  readonly transformResultNames?: ((name: string) => string) | undefined
}

/** What the core builds: the standard client and dbscope's extras on the same connections. */
export interface Core {
  readonly client: Client.SqlClient
  /** The client, `PreparedQueries` and `ReadOnlyGate`, as a context a backend's layer adds its own service to. */
  readonly context: Context.Context<Client.SqlClient | PreparedQueries | ReadOnlyGate>
  /** Prepared statements that skip `@effect/sql`'s span and scope (see `PreparedQueries`). */
  readonly prepare: (text: string) => PreparedQuery
  /** Runs `effect` holding the connection exclusively (a single-connection backend); else as is. */
  readonly exclusive: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

const statementFailed = (cause: unknown) =>
  cause instanceof SqlError ? cause : new SqlError({ cause, message: "Failed to execute statement" })

/** What a transaction knows while it is open. */
interface TransactionState {
  /** Keys its writes invalidated: told again when it ends. */
  readonly pending: Set<string>
  /** The error that ended it on the database's side, if one did. */
  lost: SqlError | undefined
  /**
   * The error that aborted it (`failureAborts` drivers: PostgreSQL refuses every statement after a
   * failed one, and turns COMMIT into a silent ROLLBACK) until a savepoint is rolled back to.
   */
  aborted: SqlError | undefined
}

/** Why the transaction refuses further statements, if it does. */
const refusal = (state: TransactionState): SqlError | undefined => state.lost ?? state.aborted

const unlessRefused = <A>(state: TransactionState, effect: Effect.Effect<A, SqlError>): Effect.Effect<A, SqlError> => {
  const refused = refusal(state)
  return refused === undefined ? effect : Effect.fail(refused)
}

/** Where a connection stands: outside transactions (maybe routed to readers), reserved, or in one. */
type Place =
  | { readonly _tag: "Shared"; readonly routed: boolean }
  | { readonly _tag: "Reserved" }
  | { readonly _tag: "Transaction"; readonly state: TransactionState }

/** One statement as it runs: the driver's request, and where and for whom it runs. */
interface Call extends Request {
  readonly fiber: Fiber.RuntimeFiber<unknown, unknown>
  readonly observer: StatementObserver.StatementObserver
  /** The parameters as given (a log shows `<redacted>` where `params` has the secret). */
  readonly shownParams: ReadonlyArray<unknown>
  readonly place: Place
}

/**
 * The permit of a single-connection backend. `held` mirrors it synchronously, so a statement can
 * see "nobody holds the connection" and run in the same step, with no permit round trip.
 */
const makeGate = Effect.map(Effect.makeSemaphore(1), (semaphore) => {
  let held = 0
  const hold: Effect.Effect<void, never, Scope.Scope> = Effect.uninterruptibleMask((restore) =>
    Effect.zipRight(
      restore(Effect.zipRight(semaphore.take(1), Effect.sync(() => void held++))),
      Effect.flatMap(
        Effect.scope,
        (scope) => Scope.addFinalizer(scope, Effect.zipRight(Effect.sync(() => void held--), semaphore.release(1)))
      )
    )
  )
  return {
    free: () => held === 0,
    hold,
    holding: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.scoped(Effect.zipRight(hold, effect))
  }
})

/** Builds the client over `driver`, in the current scope. */
export const make = (driver: Driver, options: ClientOptions = {}) =>
  Effect.gen(function*() {
    const reactivity = yield* Reactivity.Reactivity
    const gate = yield* makeGate
    const single = driver.connections._tag === "Single"
    const readers = driver.readers
    const routing = readers === undefined ? undefined : ReadRouting.make(readers.mainThreadBelow)
    const system = driver.system

    const written = (ran: Ran, place: Place) => {
      if (ran.written.length === 0) return
      if (place._tag === "Transaction") { for (const key of ran.written) place.state.pending.add(key) }
      reactivity.unsafeInvalidate([...ran.written, StatementObserver.anyTable])
    }

    const failed = (cause: unknown, place: Place): SqlError => {
      const error = statementFailed(cause)
      if (place._tag === "Transaction") {
        if (driver.endedTransaction(error)) place.state.lost = error
        else if (driver.failureAborts === true) place.state.aborted ??= error
      }
      return error
    }

    /**
     * Before any statement: a transaction the database ended refuses it (it would run in
     * autocommit); a recording `cacheQuery` is told the tables it reads.
     */
    const prologue = (call: Call): Effect.Effect<never, SqlError> | undefined => {
      const { observer, place } = call
      if (place._tag === "Transaction") {
        const refused = refusal(place.state)
        if (refused !== undefined) return Effect.fail(refused)
      }
      if (observer.recorder !== undefined) observer.recorder.read(driver.tablesRead(call.sql, call.params))
      return undefined
    }

    /** One statement on a synchronous connection, in the caller's step, under the fiber's observer. */
    const runSync = (call: Call, run: (request: Request) => Ran): Effect.Effect<unknown, SqlError> => {
      const refused = prologue(call)
      if (refused !== undefined) return refused
      const { fiber, observer, place } = call
      const logging = Observation.loggingNow(fiber, observer)
      if (logging === undefined && !observer.tracing) {
        try {
          const ran = run(call)
          written(ran, place)
          return Effect.succeed(ran.result)
        } catch (cause) {
          return Effect.fail(failed(cause, place))
        }
      }
      const started = observer.tracing ? Observation.startSpan(fiber, system, call.sql) : undefined
      const since = performance.now()
      let outcome: Observation.Outcome
      let settled: Effect.Effect<unknown, SqlError>
      try {
        const ran = run(call)
        written(ran, place)
        outcome = { rows: ran.count }
        settled = Effect.succeed(ran.result)
      } catch (cause) {
        const error = failed(cause, place)
        outcome = { error }
        settled = Effect.fail(error)
      }
      const millis = performance.now() - since
      if (started !== undefined) Observation.endSpan(fiber, started, outcome)
      if (logging !== undefined) Observation.emitLog(fiber, logging, call.sql, call.shownParams, millis, outcome)
      return settled
    }

    /** One statement on an asynchronous connection, under the fiber's observer. */
    const runAsync = (
      call: Call,
      run: (request: Request) => Effect.Effect<Ran, SqlError>
    ): Effect.Effect<unknown, SqlError> => {
      const refused = prologue(call)
      if (refused !== undefined) return refused
      const { fiber, observer, place } = call
      const ran = Effect.matchEffect(run(call), {
        onFailure: (cause) => Effect.fail(failed(cause, place)),
        onSuccess: (ran) => {
          written(ran, place)
          return Effect.succeed(ran)
        }
      })
      const observed = Observation.active(fiber, observer)
        ? Observation.timedAsync(fiber, observer, system, call.sql, call.shownParams, (ran) => ran.count, ran)
        : ran
      return Effect.map(observed, (ran) => ran.result)
    }

    /** Transaction control on a connection, logged and traced like any statement. */
    const control = (connection: DriverConnection, sql: string) =>
      Effect.withFiberRuntime<void, SqlError>((fiber) => {
        const observer = fiber.getFiberRef(StatementObserver.current)
        return Observation.active(fiber, observer)
          ? Observation.timedAsync(fiber, observer, system, sql, [], () => 0, connection.control(sql))
          : connection.control(sql)
      })

    /** A lazy stream counted as an open cursor, logged once when it ends. */
    const observedStream = (connection: DriverConnection, sql: string, shownParams: ReadonlyArray<unknown>) =>
      Stream.unwrapScoped(Effect.withFiberRuntime<Stream.Stream<object, SqlError>, never, Scope.Scope>((fiber) => {
        const observer = fiber.getFiberRef(StatementObserver.current)
        const params = Observation.bindable(shownParams)
        if (observer.recorder !== undefined) observer.recorder.read(driver.tablesRead(sql, params))
        const countRows = Observation.streamSpan(fiber, observer, system, sql)
        const since = performance.now()
        let streamed = 0
        const rows = connection.stream(sql, params).pipe(Stream.mapChunks((chunk) => {
          streamed += chunk.length
          return chunk
        }))
        return Effect.as(
          Effect.acquireRelease(OpenResources.opened("iterator"), () =>
            Effect.withFiberRuntime<void>((current) => {
              OpenResources.markClosed("iterator")
              countRows(streamed)
              if (observer.logging !== undefined) {
                Observation.emitLog(current, observer.logging, sql, shownParams, performance.now() - since, {
                  rows: streamed
                })
              }
              return Effect.void
            })),
          rows
        )
      }))

    /** The standard `Connection` over a driver connection, at a place. */
    const connection = (driverConnection: DriverConnection, place: Place): Connection => {
      const gated = single && place._tag === "Shared"
      const runner = driverConnection.runner
      const statement = (
        sql: string,
        shownParams: ReadonlyArray<unknown>,
        shape: Shape,
        unprepared: boolean
      ): Effect.Effect<unknown, SqlError> =>
        Effect.withFiberRuntime((fiber) => {
          const observer = fiber.getFiberRef(StatementObserver.current)
          const call: Call = {
            sql,
            params: Observation.bindable(shownParams),
            shape,
            unprepared,
            safeIntegers: Context.get(fiber.currentContext, Client.SafeIntegers),
            fiber,
            observer,
            shownParams,
            place
          }
          const run = () => runner._tag === "Sync" ? runSync(call, runner.run) : runAsync(call, runner.run)
          return gated && !gate.free() ? gate.holding(Effect.suspend(run)) : run()
        })

      const rows = (sql: string, params: ReadonlyArray<unknown>) =>
        statement(sql, params, "rows", false) as Effect.Effect<ReadonlyArray<object>, SqlError>
      const execute = place._tag === "Shared" && place.routed && routing !== undefined && readers !== undefined
        ? (sql: string, params: ReadonlyArray<unknown>) =>
          readers.mayRun(sql) ? routed(sql, params, rows) : rows(sql, params)
        : rows
      const stream = (sql: string, params: ReadonlyArray<unknown>) => {
        // A stream that fails in a transaction counts as a failed statement of it (it may have
        // aborted the transaction, or ended it).
        const observed = Stream.mapError(observedStream(driverConnection, sql, params), (cause) => failed(cause, place))
        return gated ? Stream.unwrapScoped(Effect.as(gate.hold, observed)) : observed
      }

      return {
        execute: (sql, params, transformRows) =>
          transformRows === undefined ? execute(sql, params) : Effect.map(execute(sql, params), transformRows),
        executeRaw: (sql, params) => statement(sql, params, "raw", false),
        executeValues: (sql, params) =>
          statement(sql, params, "values", false) as Effect.Effect<ReadonlyArray<ReadonlyArray<unknown>>, SqlError>,
        executeUnprepared: (sql, params, transformRows) => {
          const ran = statement(sql, params, "rows", true) as Effect.Effect<ReadonlyArray<object>, SqlError>
          return transformRows === undefined ? ran : Effect.map(ran, transformRows)
        },
        executeStream: (sql, params, transformRows) =>
          transformRows === undefined
            ? stream(sql, params)
            : Stream.mapChunks(
              stream(sql, params),
              (chunk) => Chunk.unsafeFromArray(transformRows(Chunk.toReadonlyArray(chunk)))
            )
      }
    }

    /**
     * A read outside transactions with readers there: cheap ones on the main connection (when it
     * is free), the rest on a reader; one a reader refuses (it writes) on the main connection.
     */
    const routed = (
      sql: string,
      params: ReadonlyArray<unknown>,
      onMain: (sql: string, params: ReadonlyArray<unknown>) => Effect.Effect<ReadonlyArray<object>, SqlError>
    ): Effect.Effect<ReadonlyArray<object>, SqlError> => {
      if (routing === undefined || readers === undefined) return onMain(sql, params)
      const measuredOnMain = Effect.suspend(() => {
        const since = performance.now()
        return Effect.tap(onMain(sql, params), () => routing.measured(sql, performance.now() - since))
      })
      const onReader = Effect.withFiberRuntime<ReadonlyArray<object>, SqlError>((fiber) => {
        const observer = fiber.getFiberRef(StatementObserver.current)
        const bound = Observation.bindable(params)
        if (observer.recorder !== undefined) observer.recorder.read(driver.tablesRead(sql, bound))
        const query = Effect.suspend(() => {
          const since = performance.now()
          return Effect.tap(
            readers.query(sql, bound, fiber.getFiberRef(RowCheck.current)),
            () => routing.measured(sql, performance.now() - since)
          )
        })
        const refused = (error: { readonly _tag: string }) => error._tag === "ReaderWriteRejected"
        const observed = Observation.active(fiber, observer)
          ? Observation.timedAsync(fiber, observer, system, sql, params, (rows) => rows.length, query, refused)
          : query
        return Effect.catchAll(observed, (error) => {
          if (!refused(error)) {
            return Effect.fail(
              error instanceof SqlError ? error : new SqlError({ cause: error, message: error.message })
            )
          }
          routing.writes(sql)
          // The writer records the tables itself: the recorder was told the reads already.
          return onMain(sql, params)
        })
      })
      switch (routing.choose(sql)) {
        case "writes":
          return onMain(sql, params)
        case "cheap":
          return single && !gate.free() ? onReader : measuredOnMain
        case "reader":
          return onReader
      }
    }

    const sharedRouted = connection(driver.shared, { _tag: "Shared", routed: true })
    const sharedMain = connection(driver.shared, { _tag: "Shared", routed: false })

    /** A driver connection of one's own until the scope closes (the single one, held). */
    const own: Effect.Effect<DriverConnection, SqlError, Scope.Scope> = driver.connections._tag === "Pool"
      ? driver.connections.reserve
      : Effect.as(gate.hold, driver.shared)

    /** The transaction each dbscope connection in a transaction belongs to. */
    const transactions = new WeakMap<
      Connection,
      { readonly driver: DriverConnection; readonly state: TransactionState }
    >()

    const endTransaction = (state: TransactionState) =>
      Effect.sync(() => {
        OpenResources.markClosed("transaction")
        if (state.pending.size === 0) return
        const keys = [...state.pending]
        state.pending.clear()
        reactivity.unsafeInvalidate(keys)
      })

    /** COMMIT; when it fails, ROLLBACK too (SQLite keeps the transaction open) and a `CommitError`. */
    const commit = (on: DriverConnection, state: TransactionState) => {
      const rollBack = (cause: unknown) =>
        Effect.zipRight(Effect.ignore(control(on, "ROLLBACK")), Effect.fail(new StatementObserver.CommitError(cause)))
      // An aborted PostgreSQL transaction would "commit" as a ROLLBACK, without an error.
      const refused = refusal(state)
      return refused !== undefined
        ? rollBack(refused.cause)
        : Effect.catchAll(control(on, "COMMIT"), (error) => rollBack(error.cause))
    }

    const rollback = (on: DriverConnection, state: TransactionState) =>
      // Nothing is left to roll back after the database ended the transaction itself.
      state.lost !== undefined
        ? Effect.ignore(control(on, "ROLLBACK"))
        // A connection lost meanwhile took its transaction with it.
        : Effect.orDie(Effect.catchIf(control(on, "ROLLBACK"), driver.endedTransaction, () => Effect.void))

    /** The outermost transaction: a connection of its own, `BEGIN`, then COMMIT or ROLLBACK. */
    const topLevel = <A, E, R>(
      effect: Effect.Effect<A, E, R>,
      restore: <X, Y, Z>(effect: Effect.Effect<X, Y, Z>) => Effect.Effect<X, Y, Z>,
      context: Context.Context<never>,
      span: Tracer.Span
    ): Effect.Effect<A, E | SqlError, R> =>
      Effect.flatMap(Scope.make(), (scope) =>
        // Waiting for a connection (or the single one) can be interrupted; nothing is held until it is had.
        Effect.flatMap(Effect.exit(restore(Scope.extend(own, scope))), (acquired) => {
          if (Exit.isFailure(acquired)) {
            return Effect.zipRight(Scope.close(scope, acquired), Effect.failCause(acquired.cause))
          }
          const on = acquired.value
          const state: TransactionState = { pending: new Set(), lost: undefined, aborted: undefined }
          const conn = connection(on, { _tag: "Transaction", state })
          transactions.set(conn, { driver: on, state })
          const body = Effect.locally(
            restore(effect),
            FiberRef.currentContext,
            Context.add(context, Client.TransactionConnection, [conn, 0] as const).pipe(
              Context.add(Tracer.ParentSpan, span)
            )
          )
          const run = Effect.flatMap(Effect.exit(body), (exit) => {
            const end = Exit.isSuccess(exit) ? commit(on, state) : rollback(on, state)
            return Effect.ensuring(Effect.zipRight(end, exit), endTransaction(state))
          })
          const begin = Effect.flatMap(
            FiberRef.get(Isolation.currentIsolation),
            (level) => Effect.forEach(driver.beginTransaction(level), (sql) => control(on, sql), { discard: true })
          )
          return begin.pipe(
            Effect.tap(OpenResources.opened("transaction")),
            Effect.flatMap(() => run),
            Effect.onExit((exit) => Scope.close(scope, exit))
          )
        }))

    /** Rolls back to savepoint `name` and releases it; PostgreSQL then takes statements again. */
    const undoTo = (on: DriverConnection, state: TransactionState, name: string) =>
      Effect.orDie(
        Effect.zipRight(control(on, `ROLLBACK TO SAVEPOINT ${name}`), control(on, `RELEASE SAVEPOINT ${name}`))
      ).pipe(Effect.tap(() => void (state.aborted = undefined)))

    /** A nested transaction: a savepoint, released when the inner part succeeds, rolled back to when it fails. */
    const nested = <A, E, R>(
      effect: Effect.Effect<A, E, R>,
      restore: <X, Y, Z>(effect: Effect.Effect<X, Y, Z>) => Effect.Effect<X, Y, Z>,
      context: Context.Context<never>,
      span: Tracer.Span,
      outer: readonly [conn: Connection, depth: number]
    ): Effect.Effect<A, E | SqlError, R> => {
      const [conn, depth] = outer
      const transaction = transactions.get(conn)
      if (transaction === undefined) return Effect.dieMessage("a transaction of another client is open here")
      const { driver: on, state } = transaction
      const name = `effect_sql_${depth + 1}`
      const body = Effect.locally(
        restore(effect),
        FiberRef.currentContext,
        Context.add(context, Client.TransactionConnection, [conn, depth + 1] as const).pipe(
          Context.add(Tracer.ParentSpan, span)
        )
      )
      const begin = Effect.suspend(() => unlessRefused(state, control(on, `SAVEPOINT ${name}`)))
      return Effect.zipRight(
        begin,
        Effect.flatMap(Effect.exit(body), (exit) => {
          if (Exit.isSuccess(exit)) {
            return Effect.zipRight(
              Effect.suspend(() => {
                const aborted = state.lost === undefined ? state.aborted : undefined
                if (aborted === undefined) return unlessRefused(state, control(on, `RELEASE SAVEPOINT ${name}`))
                // It caught a failure that aborted the transaction: undone to the savepoint, the
                // outer part goes on, and this part fails with what went wrong inside it.
                return Effect.zipRight(undoTo(on, state, name), Effect.fail(aborted))
              }),
              exit
            )
          }
          return Effect.zipRight(
            Effect.suspend(() => state.lost !== undefined ? Effect.void : undoTo(on, state, name)),
            exit
          )
        })
      )
    }

    const spanAttributes = Object.fromEntries(driver.spanAttributes)
    const withTransaction = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | SqlError, R> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.useSpan(
          "sql.transaction",
          { kind: "client", captureStackTrace: false, attributes: spanAttributes },
          (span) =>
            Effect.withFiberRuntime<A, E | SqlError, R>((fiber) => {
              const context = fiber.currentContext
              const outer = Context.getOption(context, Client.TransactionConnection)
              return outer._tag === "Some"
                ? nested(effect, restore, context, span, outer.value)
                : topLevel(effect, restore, context, span)
            })
        )
      )

    const client = yield* Client.make({
      acquirer: Effect.succeed(sharedRouted),
      transactionAcquirer: Effect.map(own, (on) => connection(on, { _tag: "Reserved" })),
      compiler: driver.makeCompiler(options.transformQueryNames),
      spanAttributes: driver.spanAttributes,
      transformRows: options.transformResultNames === undefined
        ? undefined
        : Statement.defaultTransforms(options.transformResultNames).array
    })

    const prepare = (text: string): PreparedQuery => (params) =>
      Effect.withFiberRuntime((fiber) => {
        const transaction = Context.getOption(fiber.currentContext, Client.TransactionConnection)
        return (transaction._tag === "Some" ? transaction.value[0] : sharedMain).execute(text, params, undefined)
      })

    const standard = Object.assign(client, { withTransaction })
    const exclusive = <A, E, R>(effect: Effect.Effect<A, E, R>) => single ? gate.holding(effect) : effect
    const readOnlyGate = {
      // Held like a statement: SQLite compiles it on the one connection.
      check: (sql: string) => exclusive(Effect.try({ try: () => driver.readOnly.check(sql), catch: statementFailed })),
      enter: driver.readOnly.enter,
      leave: driver.readOnly.leave
    }
    const core: Core = {
      client: standard,
      context: Context.make(Client.SqlClient, standard).pipe(
        Context.add(PreparedQueries, { prepare }),
        Context.add(ReadOnlyGate, readOnlyGate)
      ),
      prepare,
      exclusive
    }
    return core
  })

/**
 * A backend's two layers from its `build` (the client's services, made in the layer's scope):
 * with explicit options, and with options read from `Config`. Each provides the `Reactivity` its
 * writes tell, so a `QueryCache` on top listens to the right one.
 */
export const layers = <Options, S, E>(
  build: (options: Options) => Effect.Effect<Context.Context<S>, E, Scope.Scope | Reactivity.Reactivity>
) => ({
  layer: (options: Options): Layer.Layer<S | Reactivity.Reactivity, E> =>
    Layer.scopedContext(build(options)).pipe(Layer.provideMerge(Reactivity.layer)),
  layerConfig: (options: Config.Config<Options>): Layer.Layer<S | Reactivity.Reactivity, E | ConfigError> =>
    Layer.scopedContext(Effect.flatMap(options, build)).pipe(Layer.provideMerge(Reactivity.layer))
})
