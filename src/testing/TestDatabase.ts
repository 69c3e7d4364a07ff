/**
 * An isolated database for tests: a fresh SQLite file in its own temp folder (or a database of its
 * own on a MySQL/MariaDB server), migrated and optionally loaded with the bundled sample, deleted
 * when the layer is released (or of its own on a PostgreSQL server).
 *
 * @example
 * layer(TestDatabase.layer({ sample: true }))("UserRepo", (it) => { ... })
 */
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { sampleCsv } from "../BundledData.js"
import * as MysqlDatabase from "../client/MysqlDatabase.js"
import * as PostgresDatabase from "../client/PostgresDatabase.js"
import * as SqliteDatabase from "../client/SqliteDatabase.js"
import * as SqlitePool from "../client/SqlitePool.js"
import * as Progress from "../users/Progress.js"
import { setup } from "../users/Setup.js"
import { UserRepo } from "../users/UserRepo.js"

/** A temp folder that exists for the life of the current scope. */
export const tempDirectory: Effect.Effect<string, never, Scope.Scope> = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "dbscope-test-"))),
  (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
)

export interface TestDatabaseOptions {
  /** Load the bundled 1000-user sample. Default false (an empty, migrated `users` table). */
  readonly sample?: boolean | undefined
  /** Connection settings besides the file (a short `busyTimeout` for lock tests, a `journalMode`). */
  readonly connection?: Omit<SqliteDatabase.SqliteOptions, "filename"> | undefined
}

/** `UserRepo`, after migrating (and optionally loading the sample) on whatever connection is given. */
const usersOnConnection = (options: TestDatabaseOptions) =>
  Layer.provideMerge(
    Layer.effectDiscard(
      setup({ csv: options.sample === true ? sampleCsv : undefined }).pipe(Effect.provide(Progress.layerSilent))
    ),
    UserRepo.Default
  )

/** A migrated database in a fresh temp folder, on one connection, with `UserRepo`; removed on release. */
export const layer = (options: TestDatabaseOptions = {}) =>
  Layer.unwrapScoped(Effect.map(tempDirectory, (dir) =>
    usersOnConnection(options).pipe(
      Layer.provideMerge(SqliteDatabase.layer({ ...options.connection, filename: path.join(dir, "test.db") }))
    )))

/** Where `layerMysql` creates its databases: `DBSCOPE_TEST_MYSQL`, default the local MariaDB's root. */
export const mysqlServer: Config.Config<string> = Config.string("DBSCOPE_TEST_MYSQL").pipe(
  Config.withDefault("mysql://root@127.0.0.1:3306")
)

/**
 * A migrated database of its own on a MySQL/MariaDB server (`dbscope_test_<random>`), behind a pool,
 * with `UserRepo`; dropped when the layer is released.
 */
export const layerMysql = (
  options:
    & Omit<TestDatabaseOptions, "connection">
    & Pick<MysqlDatabase.MysqlOptions, "poolSize" | "readers" | "cluster">
    & {
      /** The server, without a database (default `mysqlServer`); several hosts for a cluster. */
      readonly server?: string | undefined
    } = {}
) =>
  Layer.unwrapScoped(Effect.gen(function*() {
    const server = options.server ?? (yield* Effect.orDie(mysqlServer))
    const name = `dbscope_test_${crypto.randomBytes(6).toString("hex")}`
    const url = Redacted.make(`${server.replace(/\/+$/, "")}/${name}`)
    yield* Effect.acquireRelease(
      MysqlDatabase.createDatabase({ url }),
      () => Effect.orDie(MysqlDatabase.dropDatabase({ url }))
    )
    return usersOnConnection(options).pipe(
      Layer.provideMerge(
        MysqlDatabase.layer({
          url,
          poolSize: options.poolSize ?? 4,
          readers: options.readers,
          cluster: options.cluster
        })
      )
    )
  }))

/** Where `layerPostgres` creates its databases: `DBSCOPE_TEST_POSTGRES`, default the local server's `postgres` user. */
export const postgresServer: Config.Config<string> = Config.string("DBSCOPE_TEST_POSTGRES").pipe(
  Config.withDefault("postgres://postgres@127.0.0.1:5432")
)

/**
 * A migrated database of its own on a PostgreSQL server (`dbscope_test_<random>`), behind a pool,
 * with `UserRepo`; dropped when the layer is released.
 */
export const layerPostgres = (
  options:
    & Omit<TestDatabaseOptions, "connection">
    & Pick<PostgresDatabase.PostgresOptions, "poolSize" | "readers">
    & { readonly server?: string | undefined } = {}
) =>
  Layer.unwrapScoped(Effect.gen(function*() {
    const server = options.server ?? (yield* Effect.orDie(postgresServer))
    const name = `dbscope_test_${crypto.randomBytes(6).toString("hex")}`
    const url = Redacted.make(`${server.replace(/\/+$/, "")}/${name}`)
    yield* Effect.acquireRelease(
      PostgresDatabase.createDatabase({ url }),
      () => Effect.orDie(PostgresDatabase.dropDatabase({ url }))
    )
    return usersOnConnection(options).pipe(
      Layer.provideMerge(PostgresDatabase.layer({ url, poolSize: options.poolSize ?? 4, readers: options.readers }))
    )
  }))

/** The same on the writer + reader-pool client (`SqlitePool`); `readers` configures the pool (default 2 workers). */
export const layerPooled = (
  options: TestDatabaseOptions & { readonly readers?: SqlitePool.SqlitePoolOptions["readers"] } = {}
) =>
  Layer.unwrapScoped(Effect.map(tempDirectory, (dir) =>
    usersOnConnection(options).pipe(
      Layer.provideMerge(
        SqlitePool.layer({
          ...options.connection,
          filename: path.join(dir, "test.db"),
          readers: options.readers ?? { size: 2 }
        })
      )
    )))
