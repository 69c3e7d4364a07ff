/**
 * How the client core carries out what a fiber's `StatementObserver` asks for: a log line handed
 * straight to the fiber's loggers, a span per statement (reusing `@effect/sql`'s own when a
 * templated statement has one open), a row count when a stream ends. Backends never call this:
 * the core does, around every statement path.
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
import { type QueryLogging, spanName, type StatementObserver } from "./StatementObserver.js"

/** The database a connection talks to, as the `db.system` span attribute names it. */
export type DbSystem = "sqlite" | "mysql" | "postgresql"

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
const spanOptions = (system: DbSystem, sql: string) =>
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
 * The fiber's `logQueries` settings, if a statement's line would be written now: a level the
 * fiber's minimum filters out costs no timing and no line.
 */
export const loggingNow = (
  fiber: Fiber.RuntimeFiber<unknown, unknown>,
  observer: StatementObserver
): QueryLogging | undefined => {
  const logging = observer.logging
  if (logging === undefined) return undefined
  return LogLevel.greaterThan(fiber.getFiberRef(FiberRef.currentMinimumLogLevel), logging.level) ? undefined : logging
}

/**
 * Whether statements are observed beyond a recorder: traced (a span each, only under the
 * `Tracing` layer: a span nobody exports costs as much as a point lookup), or logged now.
 */
export const active = (fiber: Fiber.RuntimeFiber<unknown, unknown>, observer: StatementObserver): boolean =>
  observer.tracing || loggingNow(fiber, observer) !== undefined

/**
 * For a stream, whose span `@effect/sql` opened: describes it, and gives what records the row
 * count on it when the stream ends (nothing to do unless statements are timed).
 */
export const streamSpan = (
  fiber: Fiber.RuntimeFiber<unknown, unknown>,
  observer: StatementObserver,
  system: DbSystem,
  sql: string
): (rows: number) => void => {
  const span = observer.tracing ? sqlExecuteSpan(fiber) : undefined
  if (span === undefined) return () => {}
  describe(span, system, sql)
  return (rows) => span.attribute("db.response.returned_rows", rows)
}

const annotate = (
  annotations: HashMap.HashMap<string, unknown>,
  logging: QueryLogging,
  params: ReadonlyArray<unknown>,
  millis: number,
  outcome: Outcome
) =>
  // One mutation for the three fields: three `set`s copied the map's path three times.
  HashMap.mutate(annotations, (fields) => {
    HashMap.set(fields, "durationMs", Math.round(millis * 1000) / 1000)
    if ("rows" in outcome) HashMap.set(fields, "rows", outcome.rows)
    else HashMap.set(fields, "failed", outcome.error.message)
    HashMap.set(fields, "params", shownParams(logging, params))
  })

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
  HashSet.forEach(loggers, (logger) => logger.log(entry))
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
 * Runs an asynchronous statement (`execute`) under an active observer: a span when tracing (or
 * `@effect/sql`'s own, described) and a log line when it ends. Failures `unlogged` picks out are not the statement's own (a
 * reader refusing a write that then runs, and logs, on the writer).
 */
export const timedAsync = <A, E extends { readonly message: string }>(
  fiber: Fiber.RuntimeFiber<unknown, unknown>,
  observer: StatementObserver,
  system: DbSystem,
  sql: string,
  params: ReadonlyArray<unknown>,
  count: (result: A) => number,
  execute: Effect.Effect<A, E>,
  unlogged: (error: E) => boolean = () => false
): Effect.Effect<A, E> =>
  Effect.suspend(() => {
    const since = performance.now()
    const logging = loggingNow(fiber, observer)
    const log = (outcome: Outcome) =>
      Effect.withFiberRuntime<void>((current) => {
        if (logging !== undefined) emitLog(current, logging, sql, params, performance.now() - since, outcome)
        return Effect.void
      })
    const run = execute.pipe(
      Effect.tapBoth({
        onFailure: (error) => unlogged(error) ? Effect.void : log({ error }),
        onSuccess: (result) => {
          const rows = count(result)
          return observer.tracing
            ? Effect.zipRight(Effect.annotateCurrentSpan("db.response.returned_rows", rows), log({ rows }))
            : log({ rows })
        }
      })
    )
    if (!observer.tracing) return run
    const reused = sqlExecuteSpan(fiber)
    if (reused === undefined) return Effect.withSpan(run, spanName, spanOptions(system, sql))
    describe(reused, system, sql)
    return run
  })
