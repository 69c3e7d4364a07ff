/**
 * A lazy PostgreSQL row stream over a server-side cursor (a portal, read `streamChunkSize` rows at
 * a time with pg-cursor): the server produces the next rows only when the consumer asks, so a
 * stream of every user holds one chunk in memory. Outside a transaction the stream has a
 * connection of its own; the cursor is closed when the stream ends, however it ends, and the
 * connection given back (destroyed if the cursor could not be closed).
 */
import { SqlError } from "@effect/sql/SqlError"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type * as Pg from "pg"
import Cursor from "pg-cursor"
import * as OpenResources from "../OpenResources.js"

/** Rows per read: large enough that a round trip is not paid per row, small enough to stay in cache. */
const streamChunkSize = 512

/** Where a stream runs: a connection of its own (outside transactions), or the transaction's. */
export type StreamSource =
  | { readonly own: Effect.Effect<Pg.PoolClient, SqlError> }
  | { readonly shared: Pg.PoolClient }

const streamFailed = (cause: unknown) => new SqlError({ cause, message: "Failed to stream statement" })

/** How long closing a cursor may take before its connection is given up (a server gone quiet). */
const closeWithin = Duration.seconds(2)

export const streamRows = (
  on: StreamSource,
  sql: string,
  params: ReadonlyArray<unknown>,
  types: Pg.CustomTypesConfig
): Stream.Stream<object, SqlError> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    /** Whether the cursor was closed cleanly: only then may the connection serve someone else. */
    let closed = false
    /** The error of a connection of its own that broke (pg-pool does not listen while it is out). */
    let broken: Error | undefined
    const onError = (error: Error) => void (broken = error)
    const client = "own" in on
      ? yield* Effect.acquireRelease(
        Effect.map(on.own, (client) => client.on("error", onError)),
        (client) =>
          Effect.sync(() => {
            client.off("error", onError)
            // A connection whose cursor could not be closed is in an unknown state: destroyed.
            client.release(closed ? undefined : broken ?? new Error("the stream's cursor was not closed"))
            OpenResources.markClosed("postgresConnection")
          })
      )
      : on.shared
    const cursor = yield* Effect.acquireRelease(
      Effect.sync(() => client.query(new Cursor(sql, [...params], { types }))),
      (cursor) =>
        Effect.async<void>((resume) => {
          // pg-cursor calls back only when the server answers: never, on a connection that broke.
          if (broken !== undefined) return resume(Effect.void)
          // A release cannot be interrupted: the wait is bounded by a timer of its own instead.
          const giveUp = setTimeout(() => resume(Effect.void), Duration.toMillis(closeWithin))
          cursor.close((error) => {
            clearTimeout(giveUp)
            closed = error === undefined || error === null
            resume(Effect.void)
          })
        })
    )
    const pull = Effect.async<Chunk.Chunk<object>, Option.Option<SqlError>>((resume) => {
      cursor.read(streamChunkSize, (error, rows) => {
        if (error !== undefined && error !== null) resume(Effect.fail(Option.some(streamFailed(error))))
        else if (rows.length === 0) resume(Effect.fail(Option.none()))
        else resume(Effect.succeed(Chunk.unsafeFromArray(rows as Array<object>)))
      })
    })
    return Stream.repeatEffectChunkOption(pull)
  }))
