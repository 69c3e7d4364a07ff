/**
 * `@with_db_connection` for one-off scripts: the wrapped effect gets its own SQLite connection,
 * opened before it runs and closed after it, whether it succeeds, fails or is interrupted. The
 * seed opened and closed a raw connection around a function; here the connection is a scoped
 * layer, so its release cannot be skipped.
 *
 * @example
 * const user = yield* UserRepo.use((repo) => repo.byId(1)).pipe(
 *   Effect.provide(UserRepo.Default),
 *   withDbConnection({ filename: "users.db" })
 * )
 */
import type { ConfigError } from "effect/ConfigError"
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import type { DatabaseFileError } from "../client/DatabaseError.js"
import * as SqliteDatabase from "../client/SqliteDatabase.js"

/**
 * Runs `self` on a connection of its own: the one `options` describe, or by default the one the
 * environment describes (`DBSCOPE_DB`, see `SqliteDatabase.config`).
 */
export const withDbConnection: {
  (
    options?: SqliteDatabase.SqliteOptions
  ): <A, E, R>(
    self: Effect.Effect<A, E, R>
  ) => Effect.Effect<A, E | DatabaseFileError | ConfigError, Exclude<R, SqliteDatabase.Services>>
  <A, E, R>(
    self: Effect.Effect<A, E, R>,
    options?: SqliteDatabase.SqliteOptions
  ): Effect.Effect<A, E | DatabaseFileError | ConfigError, Exclude<R, SqliteDatabase.Services>>
} = dual(
  (args) => Effect.isEffect(args[0]),
  <A, E, R>(self: Effect.Effect<A, E, R>, options?: SqliteDatabase.SqliteOptions) =>
    Effect.provide(
      self,
      options === undefined ? SqliteDatabase.layerConfig() : SqliteDatabase.layer(options)
    )
)
