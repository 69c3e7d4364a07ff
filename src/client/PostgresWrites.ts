/**
 * Writes by other processes, seen on PostgreSQL: `LISTEN dbscope_writes` on a connection of its
 * own. The database tells who wrote which table: a statement trigger that dbscope's migrations put
 * on its tables (`PostgresNotify`) runs `pg_notify('dbscope_writes', table)`,
 * which the server delivers when the writing transaction commits, whoever wrote (another dbscope
 * process, `psql`, a script). Each notification drops the cached results of that table; this
 * client's own writes, already told by the client core, are recognised by their server process
 * and skipped.
 *
 * While the listening connection is down, notifications would be missed: the signal then changes
 * at every look, so `cacheQuery` serves nothing cached, and once it is back every result is dropped
 * once. It reconnects every `retryAfter`.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Pg from "pg"
import * as OpenResources from "../OpenResources.js"
import * as ExternalWrites from "./ExternalWrites.js"
import { channel } from "./PostgresNotify.js"

export interface ListenOptions {
  readonly config: Pg.ClientConfig
  /** The server processes of the client's own connections. */
  readonly ownBackends: ReadonlySet<number>
  /** Drops what depends on these tables. */
  readonly invalidate: (tables: ReadonlyArray<string>) => void
  readonly retryAfter: Duration.DurationInput
}

/** Connects, listens, and waits until the connection is lost (then fails). */
const listenOnce = (
  options: ListenOptions,
  state: { connected: boolean; epoch: number },
  listening: Effect.Latch
) =>
  Effect.scoped(Effect.gen(function*() {
    const client = yield* Effect.acquireRelease(
      Effect.sync(() => {
        // Keep-alive: a connection dropped without a word (a NAT, a dead host) is noticed.
        const client = new Pg.Client({ ...options.config, keepAlive: true })
        client.on("error", () => undefined)
        return client
      }).pipe(Effect.tap(OpenResources.opened("postgresConnection"))),
      (client) =>
        Effect.promise(() => client.end().catch(() => undefined)).pipe(
          Effect.timeoutOption(Duration.seconds(1)),
          Effect.zipRight(OpenResources.closed("postgresConnection"))
        )
    )
    // Listened for from the start: a connection lost between LISTEN and the wait is still seen.
    let gone: unknown
    let onGone: ((cause: unknown) => void) | undefined
    const end = (cause: unknown) => {
      gone ??= cause
      onGone?.(cause)
    }
    client.once("error", end)
    client.once("end", () => end(new Error("the connection ended")))
    const lost = Effect.async<never, unknown>((resume) => {
      if (gone !== undefined) return resume(Effect.fail(gone))
      onGone = (cause) => resume(Effect.fail(cause))
    })
    client.on("notification", (message) => {
      if (message.channel !== channel || message.payload === undefined) return
      // This client's own writes were told by the core as they ran; told again, late, they would
      // drop results cached since.
      if (options.ownBackends.has(message.processId)) return
      options.invalidate([message.payload])
    })
    yield* Effect.tryPromise(() => client.connect())
    yield* Effect.tryPromise(() => client.query(`LISTEN ${channel}`))
    // Listening from now: whatever was cached before may predate a missed notification.
    state.connected = true
    state.epoch++
    yield* listening.open
    return yield* lost
  })).pipe(
    Effect.ensuring(Effect.sync(() => {
      if (state.connected) state.epoch++
      state.connected = false
    }))
  )

/**
 * Listens in the current scope (a fiber that reconnects for as long as the scope is open) and
 * returns the signal `cacheQuery` reads. The first connection is made before it returns.
 */
export const listen = (options: ListenOptions): Effect.Effect<ExternalWrites.Signal, never, Scope.Scope> =>
  Effect.gen(function*() {
    const state = { connected: false, epoch: 0 }
    let blind = 0
    // Open once listening, or once the first try failed (the signal is then blind until it works).
    const started = yield* Effect.makeLatch(false)
    const watch = Effect.ensuring(listenOnce(options, state, started), started.open).pipe(
      Effect.retry(Schedule.spaced(options.retryAfter)),
      Effect.ignore
    )
    yield* Effect.forkScoped(watch)
    yield* started.await
    return ExternalWrites.Signal.Versioned({
      version: () => state.connected ? state.epoch : -(++blind)
    })
  })
