/**
 * A pool of reader worker threads, each with its own read-only connection (to a SQLite WAL file, or
 * a MySQL server in a read-only session), so that read queries, and decoding their rows, run on
 * several cores while the main thread stays responsive. One query per worker at a time; rows come
 * back in columnar chunks and are rebuilt as they arrive.
 * Faults are typed: a worker that fails to start, crashes, or cannot be had in time is an error
 * value, never a hang; a crashed or stuck worker is replaced.
 */
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import { Worker } from "node:worker_threads"
import { readerWorkerScript } from "../BundledData.js"
import * as OpenResources from "../OpenResources.js"
import { appendRows } from "./ColumnChunk.js"
import * as FreeList from "./FreeList.js"
import * as Prestart from "./Prestart.js"
import type { ReaderRequest, ReaderResponse, ReaderStart } from "./ReaderProtocol.js"
import type { RowCheck } from "./RowRules.js"

/** A worker could not open its connection, or did not report ready in time. */
export class ReaderStartError extends Data.TaggedError("ReaderStartError")<{ readonly reason: string }> {
  readonly code = "READER_START"
  override get message() {
    return `a reader worker failed to start: ${this.reason}`
  }
}

/** The worker running a query died (it is replaced). */
export class ReaderCrashed extends Data.TaggedError("ReaderCrashed")<{ readonly reason: string }> {
  readonly code = "READER_CRASHED"
  override get message() {
    return `a reader worker stopped unexpectedly: ${this.reason}`
  }
}

/** Too many queries are already waiting for a worker. */
export class ReaderPoolBusy extends Data.TaggedError("ReaderPoolBusy")<{ readonly waiting: number }> {
  readonly code = "READER_BUSY"
  override get message() {
    return `too many queries waiting for a reader (${this.waiting}); try again later`
  }
}

/** No worker became free in time (all busy, or none could be started). */
export class ReaderTimeout extends Data.TaggedError("ReaderTimeout")<{ readonly waited: Duration.Duration }> {
  readonly code = "READER_TIMEOUT"
  override get message() {
    return `no reader worker was free within ${Duration.format(this.waited)}`
  }
}

/** The statement would write; readers only read. */
export class ReaderWriteRejected extends Data.TaggedError("ReaderWriteRejected")<{ readonly sql: string }> {
  readonly code = "SQLITE_READONLY"
  override get message() {
    return "a reader cannot run a statement that writes"
  }
}

/** SQLite reported an error for the statement. */
export class ReaderQueryFailed extends Data.TaggedError("ReaderQueryFailed")<{
  readonly code: string
  readonly reason: string
}> {
  override get message() {
    return this.reason
  }
}

/** A row broke the rules the query was run with; `row` is that row, as read. */
export class ReaderRowRefused extends Data.TaggedError("ReaderRowRefused")<{
  readonly row: Readonly<Record<string, unknown>>
}> {
  readonly code = "ROW_REFUSED"
  override get message() {
    return "a row read does not follow the rules of its query"
  }
}

export type ReaderError =
  | ReaderCrashed
  | ReaderPoolBusy
  | ReaderTimeout
  | ReaderWriteRejected
  | ReaderQueryFailed
  | ReaderRowRefused

/** The pool's own settings, whatever its workers connect to. */
export interface ReaderPoolSettings {
  /** Number of workers. Default: the number of cores, at least 2. */
  readonly size?: number | undefined
  /** How long a worker may take to open its connection. Default 10 s. */
  readonly startTimeout?: Duration.DurationInput | undefined
  /** How long a query may wait for a free worker. Default 30 s. */
  readonly acquireTimeout?: Duration.DurationInput | undefined
  /** How many queries may wait for a worker at once before new ones are refused. Default 1000. */
  readonly maxWaiting?: number | undefined
  /** How long an interrupted query's worker may take to stop before it is replaced. Default 1 s. */
  readonly cancelTimeout?: Duration.DurationInput | undefined
  /** Rows per chunk sent from a worker. Default 8192 (rebuilding one chunk keeps the main thread ~5 ms). */
  readonly chunkRows?: number | undefined
}

/** A pool of SQLite readers: the settings, and the file each worker opens read-only. */
export interface ReaderPoolOptions extends ReaderPoolSettings {
  readonly filename: string
  readonly busyTimeout?: Duration.DurationInput | undefined
}

/** What each worker thread runs (compiled JavaScript) and what it is started with. */
export interface WorkerSource {
  readonly script: string
  readonly start: ReaderStart
}

/** The outcome of one query on a worker, as the message handler sees it. */
type Outcome =
  | { readonly _tag: "Done"; readonly checked: boolean }
  | { readonly _tag: "Error"; readonly error: ReaderError }

interface Running {
  readonly id: number
  readonly sql: string
  readonly rows: Array<Record<string, unknown>>
  readonly settle: (outcome: Outcome) => void
}

/** One worker thread and what it is doing. */
interface Reader {
  readonly worker: Worker
  running: Running | undefined
  broken: boolean
  /** Resolves when the thread has exited. */
  readonly exited: Promise<void>
}

export const defaultSize = Prestart.defaultPoolSize

const crashReason = (code: number | undefined, error: unknown) =>
  error instanceof Error ? error.message : `exit code ${code ?? "unknown"}`

/**
 * Runs the handlers of worker messages one per event-loop turn, for all workers together. Node
 * delivers every queued port message in one turn: with two workers two chunks ahead each, the main
 * thread rebuilt four to six chunks back to back and timers waited 40-140 ms.
 */
const pending: Array<() => void> = []
const drainOne = () => {
  pending.shift()?.()
  if (pending.length > 0) setImmediate(drainOne)
}
const pump = (handle: () => void) => {
  pending.push(handle)
  if (pending.length === 1) setImmediate(drainOne)
}

/**
 * Starts one worker and waits until its connection is open; typed error on failure or timeout.
 * `onExit` hears about a started worker's exit, whether it crashed or was stopped.
 */
const startReader = (source: WorkerSource, timeout: Duration.DurationInput, onExit: (reader: Reader) => void) =>
  Effect.async<Reader, ReaderStartError>((resume) => {
    const prestarted = Prestart.adopt(source.script)
    const worker = prestarted ?? new Worker(source.script, { workerData: source.start })
    if (prestarted !== undefined) prestarted.postMessage({ _tag: "Open", start: source.start } satisfies ReaderRequest)
    OpenResources.markOpened("readerWorker")
    let reader: Reader | undefined
    let failure: unknown
    const exited = new Promise<void>((resolve) =>
      worker.once("exit", (code) => {
        OpenResources.markClosed("readerWorker")
        resolve()
        if (reader === undefined) {
          resume(Effect.fail(new ReaderStartError({ reason: crashReason(code, failure) })))
          return
        }
        reader.broken = true
        onExit(reader)
        reader.running?.settle({
          _tag: "Error",
          error: new ReaderCrashed({ reason: crashReason(code, failure) })
        })
        reader.running = undefined
      })
    )
    worker.on("error", (error) => {
      failure = error
    })
    worker.on("message", (message: ReaderResponse) => {
      switch (message._tag) {
        case "Ready":
          reader = { worker, running: undefined, broken: false, exited }
          resume(Effect.succeed(reader))
          return
        case "StartFailed":
          failure = new Error(message.message)
          return
      }
      pump(() => handleQueryMessage(message))
    })
    const handleQueryMessage = (message: ReaderResponse) => {
      const running = reader?.running
      if (running === undefined || !("id" in message) || message.id !== running.id) return
      switch (message._tag) {
        case "Chunk":
          appendRows(message.names, message.chunk, running.rows)
          worker.postMessage({ _tag: "Ack", id: message.id } satisfies ReaderRequest)
          return
        case "Done":
          running.settle({ _tag: "Done", checked: message.checked })
          return
        case "Refused":
          running.settle({
            _tag: "Error",
            error: new ReaderRowRefused({
              row: Object.fromEntries(message.names.map((name, column) => [name, message.row[column]]))
            })
          })
          return
        case "NotReadOnly":
          running.settle({ _tag: "Error", error: new ReaderWriteRejected({ sql: running.sql }) })
          return
        case "Failed":
          running.settle({
            _tag: "Error",
            error: new ReaderQueryFailed({ code: message.code, reason: message.message })
          })
          return
      }
    }
    // Interrupted while starting (timeout, scope closed): the half-started thread goes too.
    return Effect.promise(() => worker.terminate())
  }).pipe(
    Effect.timeoutFail({
      duration: timeout,
      onTimeout: () => new ReaderStartError({ reason: `not ready within ${Duration.format(Duration.decode(timeout))}` })
    })
  )

const stopReader = (reader: Reader) => Effect.promise(() => reader.worker.terminate().then(() => reader.exited))

/** A scoped pool of SQLite readers: workers start now and are all terminated when the scope closes. */
export const make = (options: ReaderPoolOptions): Effect.Effect<Readers, ReaderStartError, Scope.Scope> =>
  makeWith(options, {
    script: readerWorkerScript,
    start: {
      _tag: "Sqlite",
      filename: options.filename,
      busyTimeoutMs: Duration.toMillis(options.busyTimeout ?? Duration.seconds(5))
    }
  })

/** A scoped pool of workers running `source` (SQLite or MySQL readers). */
export const makeWith = (
  options: ReaderPoolSettings,
  source: WorkerSource
): Effect.Effect<Readers, ReaderStartError, Scope.Scope> =>
  Effect.gen(function*() {
    const size = options.size ?? defaultSize()
    const startTimeout = options.startTimeout ?? Duration.seconds(10)
    const acquireTimeout = Duration.decode(options.acquireTimeout ?? Duration.seconds(30))
    const cancelTimeout = options.cancelTimeout ?? Duration.seconds(1)
    const maxWaiting = options.maxWaiting ?? 1000
    const chunkRows = options.chunkRows ?? 8_192
    const scope = yield* Effect.scope

    const all = new Set<Reader>()
    const freeReaders = FreeList.make<Reader, ReaderPoolBusy | ReaderTimeout>({
      usable: (reader) => !reader.broken,
      maxWaiting,
      timeout: acquireTimeout,
      busy: (waiting) => new ReaderPoolBusy({ waiting }),
      timedOut: (waited) => new ReaderTimeout({ waited })
    })
    let closing = false
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => void (closing = true)).pipe(
        Effect.zipRight(Effect.forEach(all, stopReader, { concurrency: "unbounded", discard: true }))
      )
    )

    // A worker's exit is a Node event: it is queued here and handled by the supervisor below.
    const exits = yield* Queue.unbounded<Reader>()
    const replace = (reader: Reader): void => void Queue.unsafeOffer(exits, reader)
    const startOne: Effect.Effect<Reader, ReaderStartError> = startReader(source, startTimeout, replace).pipe(
      Effect.tap((reader) => Effect.sync(() => void all.add(reader)))
    )
    yield* Effect.forEach(Array.from({ length: size }), () => startOne, { concurrency: "unbounded" }).pipe(
      Effect.map((readers) => readers.forEach(freeReaders.put))
    )
    yield* Effect.logDebug(`Reader pool started: ${size} workers`)

    // Supervisor: forget each exited worker and, unless the pool is closing, start a replacement
    // (bounded retries: a worker that cannot start must not be retried forever).
    yield* Queue.take(exits).pipe(
      Effect.flatMap((reader) => {
        all.delete(reader)
        if (closing) return Effect.void
        return startOne.pipe(
          Effect.retry(Schedule.exponential("100 millis").pipe(Schedule.intersect(Schedule.recurs(5)))),
          Effect.map((fresh) => {
            freeReaders.remove(reader)
            freeReaders.put(fresh)
          }),
          Effect.catchAll((error) => Effect.logError(`Reader worker not replaced: ${error.message}`))
        )
      }),
      Effect.forever,
      Effect.forkScoped
    )

    /**
     * Puts a worker back. A stuck one (inside a long SQLite call that no cancel can reach) is
     * terminated in the background, in the pool's scope: the thread only exits when SQLite returns,
     * and the interrupted caller should not wait for that. Its exit brings a replacement.
     */
    const giveBack = (reader: Reader) =>
      reader.broken
        ? Effect.asVoid(Effect.forkIn(stopReader(reader), scope))
        : Effect.sync(() => freeReaders.put(reader))

    let nextId = 0
    const runOn = (reader: Reader, sql: string, params: ReadonlyArray<unknown>, check: RowCheck | undefined) =>
      Effect.async<ReadonlyArray<Record<string, unknown>>, ReaderError>((resume) => {
        const id = ++nextId
        const rows: Array<Record<string, unknown>> = []
        let ended: (() => void) | undefined
        const endedPromise = new Promise<void>((resolve) => (ended = resolve))
        reader.running = {
          id,
          sql,
          rows,
          settle: (outcome) => {
            reader.running = undefined
            ended?.()
            if (outcome._tag === "Done" && check !== undefined) check.checked = outcome.checked
            resume(outcome._tag === "Done" ? Effect.succeed(rows) : Effect.fail(outcome.error))
          }
        }
        const request: ReaderRequest = { _tag: "Query", id, sql, params, chunkRows, rules: check?.rules }
        try {
          reader.worker.postMessage(request)
        } catch (cause) {
          reader.running = undefined
          resume(Effect.fail(new ReaderQueryFailed({ code: "INVALID_PARAMETER", reason: String(cause) })))
          return
        }
        // Interrupted: ask the worker to stop at its next chunk; if it does not, replace it.
        return Effect.sync(() => reader.worker.postMessage({ _tag: "Cancel", id } satisfies ReaderRequest)).pipe(
          Effect.zipRight(Effect.promise(() => endedPromise)),
          Effect.timeout(cancelTimeout),
          Effect.catchAll(() => Effect.sync(() => void (reader.broken = true)))
        )
      })

    // Waiting for a worker stays interruptible; once a worker is taken it is always given back.
    const query = (sql: string, params: ReadonlyArray<unknown>, check?: RowCheck) =>
      Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(
          freeReaders.take(restore),
          (reader) => Effect.ensuring(restore(runOn(reader, sql, params, check)), giveBack(reader))
        )
      )

    return {
      size,
      query,
      live: Effect.sync(() => all.size),
      usage: Effect.sync(() => {
        let busy = 0
        for (const reader of all) if (reader.running !== undefined) busy++
        return { workers: all.size, busy, waiting: freeReaders.waiting() }
      }),
      terminateOne: Effect.suspend(() => {
        const [reader] = all
        return reader === undefined ? Effect.void : Effect.promise(() => reader.worker.terminate()).pipe(Effect.asVoid)
      })
    } satisfies Readers
  })

/** A reading of the pool's load (for `/metrics`). */
export interface ReaderPoolUsage {
  readonly workers: number
  readonly busy: number
  readonly waiting: number
}

/** The pool's interface. */
export interface Readers {
  readonly size: number
  /**
   * Runs one read-only statement on a free worker and returns its rows; with `check`, the worker
   * checks every row against its rules as it reads them.
   */
  readonly query: (
    sql: string,
    params: ReadonlyArray<unknown>,
    check?: RowCheck
  ) => Effect.Effect<ReadonlyArray<Record<string, unknown>>, ReaderError>
  /** Workers currently alive in the pool (started and not yet exited). */
  readonly live: Effect.Effect<number>
  /** What the pool is doing now: workers alive, those running a query, queries waiting for one. */
  readonly usage: Effect.Effect<ReaderPoolUsage>
  /** Fault injection for tests and drills: terminates one worker as if it had crashed. */
  readonly terminateOne: Effect.Effect<void>
}

/** The reader pool of a pooled SQLite layer. */
export class ReaderPool extends Context.Tag("dbscope/ReaderPool")<ReaderPool, Readers>() {}
