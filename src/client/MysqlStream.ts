/**
 * A lazy MySQL row stream: rows are pulled from mysql2's row stream a chunk at a time, and the
 * socket is paused while two chunks wait unread, so the server sends only as fast as the consumer
 * reads. Outside a transaction the stream has a connection of its own, destroyed when the stream
 * stops early: a MySQL connection cannot drop a result half-read, it would read the rest first and
 * stay busy meanwhile.
 */
import { SqlError } from "@effect/sql/SqlError"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type * as Mysql from "mysql2"
import * as OpenResources from "../OpenResources.js"

const streamChunkSize = 512

/** Where a stream runs: a connection of its own (outside transactions), or the transaction's. */
export type StreamSource =
  | { readonly own: Effect.Effect<Mysql.PoolConnection, SqlError> }
  | { readonly shared: Mysql.PoolConnection }

/**
 * A lazy row stream: rows are pulled from mysql2's row stream a chunk at a time, and the socket is
 * paused while two chunks wait unread, so the server sends only as fast as the consumer reads.
 * Outside a transaction the stream has a connection of its own, destroyed when the stream stops
 * early: a MySQL connection cannot drop a result half-read, it would read the rest first and stay
 * busy meanwhile.
 */
export const streamRows = (on: StreamSource, sql: string, params: ReadonlyArray<unknown>) =>
  Stream.unwrapScoped(Effect.gen(function*() {
    let ended = false
    const connection = "own" in on
      ? yield* Effect.acquireRelease(on.own, (connection) =>
        Effect.sync(() => {
          if (ended) connection.release()
          else connection.destroy()
          OpenResources.markClosed("mysqlConnection")
        }))
      : on.shared
    const rows: Array<object> = []
    let failure: SqlError | undefined
    let wake: (() => void) | undefined
    const query = yield* Effect.acquireRelease(
      Effect.sync(() => connection.query({ sql, values: [...params] }).stream()),
      (query) => Effect.sync(() => ended || query.destroy())
    )
    query.on("data", (row: object) => {
      rows.push(row)
      if (rows.length >= 2 * streamChunkSize) query.pause()
      if (rows.length >= streamChunkSize) wake?.()
    })
    query.on("end", () => {
      ended = true
      wake?.()
    })
    query.on("error", (cause: unknown) => {
      failure = new SqlError({ cause, message: "Failed to stream statement" })
      ended = true
      wake?.()
    })
    const ready = Effect.async<void>((resume) => {
      if (rows.length >= streamChunkSize || ended) return resume(Effect.void)
      wake = () => {
        wake = undefined
        resume(Effect.void)
      }
      return Effect.sync(() => void (wake = undefined))
    })
    const pull = Effect.zipRight(
      ready,
      Effect.suspend(() => {
        if (failure !== undefined) return Effect.fail(Option.some(failure))
        if (rows.length === 0) return Effect.fail(Option.none())
        const chunk = rows.splice(0, streamChunkSize)
        if (!ended && rows.length < streamChunkSize) query.resume()
        return Effect.succeed(Chunk.unsafeFromArray(chunk))
      })
    )
    return Stream.repeatEffectChunkOption(pull)
  }))
