/**
 * What a dbscope connection does around each statement it runs, for the combinators that asked for
 * it in the running fiber: `logQueries` wants a log line and a span per statement, `cacheQuery`
 * wants to know which tables a result was read from. A fiber that asked for neither pays two
 * fiber-ref lookups per statement and nothing else.
 */
import type * as Statement from "@effect/sql/Statement"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import * as HashMap from "effect/HashMap"
import * as HashSet from "effect/HashSet"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Tracer from "effect/Tracer"

/** How `logQueries` wants statements logged. */
export interface QueryLogging {
  /** Show bound values (a `Redacted` value still shows as `<redacted>`). */
  readonly showParams: boolean
  readonly level: LogLevel.LogLevel
}

/** Set by `logQueries` for the effect it wraps. */
export const currentLogging: FiberRef.FiberRef<QueryLogging | undefined> = FiberRef.unsafeMake<
  QueryLogging | undefined
>(undefined)

/**
 * Set by the `Tracing` layer: every statement gets a span (not only under `logQueries`). Off by
 * default, because a span costs more than a point lookup.
 */
export const currentTracing: FiberRef.FiberRef<boolean> = FiberRef.unsafeMake<boolean>(false)

/** The database a connection talks to, as the `db.system` span attribute names it. */
export type DbSystem = "sqlite" | "mysql"

/** Told, before a statement runs, which tables it reads. */
export interface ReadRecorder {
  readonly read: (tables: ReadonlyArray<string>) => void
}

/** Set by `cacheQuery` while it loads a result. */
export const currentRecorder: FiberRef.FiberRef<ReadRecorder | undefined> = FiberRef.unsafeMake<
  ReadRecorder | undefined
>(undefined)

/** Parameters as the driver takes them: a `Redacted` value is bound as its contents. */
export const bindable = (params: ReadonlyArray<unknown>): ReadonlyArray<unknown> => {
  for (let i = 0; i < params.length; i++) {
    if (Redacted.isRedacted(params[i])) {
      return params.map((param) => Redacted.isRedacted(param) ? Redacted.value(param) : param)
    }
  }
  return params
}

const showParam = (param: unknown): unknown =>
  Redacted.isRedacted(param)
    ? "<redacted>"
    : typeof param === "bigint"
    ? `${param}n`
    : param instanceof Uint8Array
    ? `<${param.length} bytes>`
    : param

/** The parameters as a log shows them: hidden unless asked for, secrets never. */
const shownParams = (logging: QueryLogging, params: ReadonlyArray<unknown>): string =>
  logging.showParams
    ? JSON.stringify(params.map(showParam))
    : params.length === 0
    ? "[]"
    : `[${params.length} hidden]`

/** What a statement came to: rows returned (or changed), or the error it failed with. */
export type Outcome = { readonly rows: number } | { readonly error: { readonly message: string } }

/** The span each statement gets while `logQueries` or tracing is on. */
export const spanName = "dbscope.statement"

/**
 * What a statement's span says: the database and the SQL text, under both the classic and the
 * current OpenTelemetry names. Never the parameters: they are user data.
 */
const statementAttributes = (system: DbSystem, sql: string) => ({
  "db.system": system,
  "db.system.name": system,
  "db.statement": sql,
  "db.query.text": sql
})

/** Its options. */
export const spanOptions = (system: DbSystem, sql: string) =>
  ({ kind: "client", captureStackTrace: false, attributes: statementAttributes(system, sql) }) as const

/**
 * The `sql.execute` span `@effect/sql` opened for the templated statement about to run. That span
 * is not made the current one, so `shareStatementSpan` (a statement transformer, installed while
 * tracing or logging) hands it over here: the connection describes it instead of opening a second.
 */
const currentStatementSpan: FiberRef.FiberRef<Tracer.Span | undefined> = FiberRef.unsafeMake<
  Tracer.Span | undefined
>(undefined)

export const shareStatementSpan: Statement.Statement.Transformer = (self, _sql, _fiberRefs, span) =>
  Effect.as(FiberRef.set(currentStatementSpan, span), self)

/** Spans already describing a statement: a span is used by one statement only. */
const claimed = new WeakSet<Tracer.Span>()

/** The templated statement's span, if one is open and still unused. */
const sqlExecuteSpan = (fiber: Fiber.RuntimeFiber<unknown, unknown>): Tracer.Span | undefined => {
  const span = fiber.getFiberRef(currentStatementSpan)
  if (span === undefined || span.status._tag === "Ended" || claimed.has(span)) return undefined
  claimed.add(span)
  return span
}

const describe = (span: Tracer.Span, system: DbSystem, sql: string) => {
  for (const [key, value] of Object.entries(statementAttributes(system, sql))) span.attribute(key, value)
}

/**
 * For a stream, whose span `@effect/sql` opened: describes it, and gives what records the row
 * count on it when the stream ends (nothing to do unless spans are wanted).
 */
export const streamSpan = (system: DbSystem, sql: string) =>
  Effect.withFiberRuntime<(rows: number) => void>((fiber) => {
    const span = observed(fiber) ? sqlExecuteSpan(fiber) : undefined
    if (span === undefined) return Effect.succeed(() => {})
    describe(span, system, sql)
    return Effect.succeed((rows) => span.attribute("db.response.returned_rows", rows))
  })

/** Whether the fiber wants statement spans or log lines (else a statement runs bare). */
export const observed = (fiber: Fiber.RuntimeFiber<unknown, unknown>): boolean =>
  fiber.getFiberRef(currentLogging) !== undefined || fiber.getFiberRef(currentTracing)

const annotate = (
  annotations: HashMap.HashMap<string, unknown>,
  logging: QueryLogging,
  params: ReadonlyArray<unknown>,
  millis: number,
  outcome: Outcome
) => {
  const timed = HashMap.set(annotations, "durationMs", Math.round(millis * 1000) / 1000)
  const counted = "rows" in outcome
    ? HashMap.set(timed, "rows", outcome.rows)
    : HashMap.set(timed, "failed", outcome.error.message)
  return HashMap.set(counted, "params", shownParams(logging, params))
}

/**
 * Logs one statement from inside a fiber's synchronous step, as `Effect.log` would: the message is
 * the SQL, annotated with its duration, rows and parameters. `Effect.annotateLogs` costs 4 µs here
 * (as much as a point lookup); handing the entry to the fiber's loggers directly costs a fraction.
 */
export const emitLog = (
  fiber: Fiber.RuntimeFiber<unknown, unknown>,
  logging: QueryLogging,
  sql: string,
  params: ReadonlyArray<unknown>,
  millis: number,
  outcome: Outcome
): void => {
  if (LogLevel.greaterThan(fiber.getFiberRef(FiberRef.currentMinimumLogLevel), logging.level)) return
  const loggers = fiber.getFiberRef(FiberRef.currentLoggers)
  if (HashSet.size(loggers) === 0) return
  const clock = Context.get(fiber.currentDefaultServices, Clock.Clock)
  const entry = {
    fiberId: fiber.id(),
    logLevel: logging.level,
    message: sql,
    cause: Cause.empty,
    context: fiber.getFiberRefs(),
    spans: fiber.getFiberRef(FiberRef.currentLogSpan),
    annotations: annotate(fiber.getFiberRef(FiberRef.currentLogAnnotations), logging, params, millis, outcome),
    date: new Date(clock.unsafeCurrentTimeMillis())
  }
  for (const logger of loggers) logger.log(entry)
}

/**
 * Opens the statement's span from inside a synchronous step. A templated statement already runs
 * in `@effect/sql`'s `sql.execute` span: that one is used, not doubled.
 */
export const startSpan = (fiber: Fiber.RuntimeFiber<unknown, unknown>, system: DbSystem, sql: string): {
  readonly span: Tracer.Span
  readonly own: boolean
} => {
  const reused = sqlExecuteSpan(fiber)
  if (reused !== undefined) {
    describe(reused, system, sql)
    return { span: reused, own: false }
  }
  const parent = fiber.currentSpan
  const clock = Context.get(fiber.currentDefaultServices, Clock.Clock)
  const span = fiber.currentTracer.span(
    spanName,
    parent === undefined ? Option.none() : Option.some(parent),
    Context.empty(),
    [],
    clock.unsafeCurrentTimeNanos(),
    "client",
    spanOptions(system, sql)
  )
  describe(span, system, sql)
  return { span, own: true }
}

/** Ends what `startSpan` opened, with the statement's row count or error. */
export const endSpan = (
  fiber: Fiber.RuntimeFiber<unknown, unknown>,
  started: { readonly span: Tracer.Span; readonly own: boolean },
  outcome: Outcome
): void => {
  if ("rows" in outcome) started.span.attribute("db.response.returned_rows", outcome.rows)
  if (!started.own) return
  const clock = Context.get(fiber.currentDefaultServices, Clock.Clock)
  started.span.end(clock.unsafeCurrentTimeNanos(), "rows" in outcome ? Exit.void : Exit.fail(outcome.error))
}

/**
 * Runs an asynchronous statement (`execute`) with the hooks the fiber asked for: `tablesRead` is
 * only called when a recorder listens. Failures `unlogged` picks out are not the statement's own
 * (a reader refusing a write that then runs, and logs, on the writer).
 */
export const observe = <A extends ReadonlyArray<unknown>, E extends { readonly message: string }>(
  system: DbSystem,
  sql: string,
  params: ReadonlyArray<unknown>,
  tablesRead: () => ReadonlyArray<string>,
  execute: Effect.Effect<A, E>,
  unlogged: (error: E) => boolean = () => false
): Effect.Effect<A, E> =>
  Effect.withFiberRuntime((fiber) => {
    const recorder = fiber.getFiberRef(currentRecorder)
    if (recorder !== undefined) recorder.read(tablesRead())
    if (!observed(fiber)) return execute
    const logging = fiber.getFiberRef(currentLogging)
    return Effect.suspend(() => {
      const since = performance.now()
      const log = (outcome: Outcome) =>
        Effect.withFiberRuntime<void>((current) => {
          if (logging !== undefined) emitLog(current, logging, sql, params, performance.now() - since, outcome)
          return Effect.void
        })
      const run = execute.pipe(
        Effect.tapBoth({
          onFailure: (error) => unlogged(error) ? Effect.void : log({ error }),
          onSuccess: (rows) =>
            Effect.zipRight(
              Effect.annotateCurrentSpan("db.response.returned_rows", rows.length),
              log({ rows: rows.length })
            )
        })
      )
      const reused = sqlExecuteSpan(fiber)
      if (reused === undefined) return Effect.withSpan(run, spanName, spanOptions(system, sql))
      describe(reused, system, sql)
      return run
    })
  })
