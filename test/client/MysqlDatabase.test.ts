/**
 * What only the MySQL/MariaDB backend has: a pool closed on the server side too, connection
 * errors as one typed line without the password, real deadlocks and lock waits retried, and a
 * least-privilege user that can read but cannot write or migrate.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as Tracer from "effect/Tracer"
import * as Mysql from "mysql2"
import * as crypto from "node:crypto"
import { DatabaseConnectError, driverCode } from "../../src/client/DatabaseError.js"
import * as MysqlDatabase from "../../src/client/MysqlDatabase.js"
import { logQueries } from "../../src/combinators/LogQueries.js"
import { isTransient, retryOnFailure } from "../../src/combinators/RetryOnFailure.js"
import { transactional } from "../../src/combinators/Transactional.js"
import * as OpenResources from "../../src/OpenResources.js"
import * as TestDatabase from "../../src/testing/TestDatabase.js"
import * as Progress from "../../src/users/Progress.js"
import { setup } from "../../src/users/Setup.js"
import { UserRepo } from "../../src/users/UserRepo.js"
import { mysqlAvailable, mysqlServer } from "../support/Backends.js"

const server = mysqlServer.replace(/\/+$/, "")
const password = "s3cret-Pw"

/** Runs one statement as the server's admin (outside dbscope), for setting up and checking. */
const admin = (sql: string, values: ReadonlyArray<unknown> = []) =>
  Effect.async<unknown, Error>((resume) => {
    const connection = Mysql.createConnection({ uri: server })
    connection.query({ sql, values: [...values] }, (error, results) => {
      connection.end()
      resume(error === null ? Effect.succeed(results) : Effect.fail(error))
    })
  })

/**
 * A server user of the test's own (`<prefix>_<random>`, with `password`) granted `privileges` on
 * `database`, dropped when the scope closes; gives its name and its URL to that database.
 */
const temporaryUser = (prefix: string, privileges: string, database: string) =>
  Effect.gen(function*() {
    const user = `${prefix}_${crypto.randomBytes(4).toString("hex")}`
    yield* Effect.acquireRelease(
      Effect.zipRight(
        admin(`CREATE USER '${user}'@'%' IDENTIFIED BY '${password}'`),
        admin(`GRANT ${privileges} ON \`${database}\`.* TO '${user}'@'%'`)
      ),
      () => Effect.orDie(admin(`DROP USER IF EXISTS '${user}'@'%'`))
    )
    const host = new URL(server.replace(/^mysql:/, "http:")).host
    return { user, url: Redacted.make(`mysql://${user}:${password}@${host}/${database}`) }
  })

/** How many server connections are using database `name`. */
const serverConnections = (name: string) =>
  Effect.map(
    admin("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ?", [name]),
    (rows) => (Array.isArray(rows) ? Number((rows[0] as { n: number }).n) : -1)
  )

const freshName = () => `dbscope_test_${crypto.randomBytes(6).toString("hex")}`

const connectError = (url: string) =>
  Effect.flip(
    Effect.provide(
      Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT 1`),
      MysqlDatabase.layer({ url: Redacted.make(url), connectTimeout: "2 seconds" })
    )
  )

const pools = OpenResources.current("mysqlPool")

describe.skipIf(!mysqlAvailable)("MysqlDatabase", () => {
  it.scoped("closes its pool on release: no connection is left on the server", () =>
    Effect.gen(function*() {
      const name = freshName()
      const url = Redacted.make(`${server}/${name}`)
      yield* Effect.acquireRelease(MysqlDatabase.createDatabase({ url }), () =>
        Effect.orDie(MysqlDatabase.dropDatabase({ url })))
      const before = yield* pools
      const during = yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* Effect.all([sql`SELECT SLEEP(0.05)`, sql`SELECT SLEEP(0.05)`, sql`SELECT 1`], {
          concurrency: "unbounded"
        })
        return yield* serverConnections(name)
      }).pipe(Effect.provide(MysqlDatabase.layer({ url })))
      assert.isAtLeast(during, 2, "Effect.all ran on separate pooled connections")
      assert.strictEqual(yield* pools, before)
      assert.strictEqual(yield* serverConnections(name), 0)
    }))

  it.scoped("reader workers decode large reads off the main thread, and stop with the layer", () =>
    Effect.gen(function*() {
      const name = freshName()
      const url = Redacted.make(`${server}/${name}`)
      yield* Effect.acquireRelease(
        MysqlDatabase.createDatabase({ url }),
        () => Effect.orDie(MysqlDatabase.dropDatabase({ url }))
      )
      const workers = OpenResources.current("readerWorker")
      const before = yield* workers
      const seen = yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const db = yield* MysqlDatabase.MysqlDatabase
        yield* sql`CREATE TABLE numbers (n INT NOT NULL, label VARCHAR(20))`
        yield* sql`INSERT INTO numbers VALUES (${1}, ${"one"}), (${2}, ${null}), (${3}, ${"three"})`
        const [rows, locked] = yield* Effect.all([
          sql<{ readonly n: number; readonly label: string | null }>`SELECT n, label FROM numbers ORDER BY n`,
          sql.withTransaction(sql`SELECT n FROM numbers WHERE n = ${2} FOR UPDATE`)
        ], { concurrency: "unbounded" })
        return { rows, locked, readers: db.readers, during: yield* workers, servers: yield* serverConnections(name) }
      }).pipe(Effect.provide(MysqlDatabase.layer({ url, readers: { size: 2, mainThreadBelow: 0 } })))
      assert.deepStrictEqual(seen.rows, [{ n: 1, label: "one" }, { n: 2, label: null }, { n: 3, label: "three" }])
      assert.deepStrictEqual(seen.locked, [{ n: 2 }])
      assert.strictEqual(seen.readers, 2)
      assert.strictEqual(seen.during, before + 2)
      assert.isAtLeast(seen.servers, 3, "each worker holds a connection of its own")
      assert.strictEqual(yield* workers, before)
      assert.strictEqual(yield* serverConnections(name), 0)
    }))

  it.live("connection failures are one typed line that never shows the password", () =>
    Effect.gen(function*() {
      const before = yield* pools
      const refused = yield* connectError(`mysql://root:${password}@127.0.0.1:1/test`)
      assert.instanceOf(refused, DatabaseConnectError)
      assert.strictEqual(
        refused.message,
        "cannot connect to mysql://root@127.0.0.1:1/test: the server is not reachable (connection refused)"
      )
      const host = new URL(server.replace(/^mysql:/, "http:")).host
      const denied = yield* connectError(`mysql://root:${password}@${host}/test`)
      assert.include(denied.message, "access denied (wrong user name or password)")
      const missing = yield* connectError(`${server}/${freshName()}`)
      assert.include(missing.message, "the database does not exist")
      const badName = yield* connectError(`${server}/bad-name`)
      assert.include(badName.message, "letters, digits, _ and $")
      const notMysql = yield* connectError(`postgres://root@${host}/test`)
      assert.include(notMysql.message, "must start with mysql://")
      for (const error of [refused, denied, missing, badName, notMysql]) assert.notInclude(error.message, password)
      assert.strictEqual(yield* pools, before)
    }))

  /**
   * Two transactions lock two rows in opposite order: each locks its first row, waits for the other
   * to lock its own, then takes the other's. Only the first attempts wait; a retry runs straight
   * through. `nested` takes the second lock in a savepoint whose failure the transaction catches
   * and ignores: the transaction must still fail (InnoDB undid all of it), not commit half.
   */
  const deadlock = (nested: boolean) =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const repo = yield* UserRepo
      yield* repo.insertMany([
        { name: "One", email: "one@example.com", age: 10 },
        { name: "Two", email: "two@example.com", age: 20 }
      ])
      const locked = { a: yield* Deferred.make<void>(), b: yield* Deferred.make<void>() }
      const attempts = { a: 0, b: 0 }
      const transfer = (name: "a" | "b", first: number, second: number, other: "a" | "b") =>
        Effect.suspend(() => {
          const attempt = ++attempts[name]
          const secondLock = sql`UPDATE users SET age = age + 1 WHERE user_id = ${second}`
          return transactional(Effect.gen(function*() {
            yield* sql`UPDATE users SET age = age + 1 WHERE user_id = ${first}`
            if (attempt === 1) {
              yield* Deferred.succeed(locked[name], undefined)
              yield* Deferred.await(locked[other])
            }
            if (nested) yield* Effect.ignore(sql.withTransaction(secondLock))
            else yield* secondLock
          }))
        }).pipe(retryOnFailure({ jitter: false, delay: "10 millis" }))
      const a = yield* Effect.fork(transfer("a", 1, 2, "b"))
      const b = yield* Effect.fork(transfer("b", 2, 1, "a"))
      yield* Fiber.join(a)
      yield* Fiber.join(b)
      assert.deepStrictEqual([attempts.a + attempts.b, Math.max(attempts.a, attempts.b)], [3, 2])
      const ages = yield* sql<{ readonly age: number }>`SELECT age FROM users ORDER BY user_id`
      assert.deepStrictEqual(ages.map((row) => row.age), [12, 22], "both transactions applied, each once")
    }).pipe(Effect.provide(TestDatabase.layerMysql()))

  // On the real clock: the victim's retry waits 10 ms, as it would in production.
  it.scopedLive("a real deadlock: InnoDB picks a victim, retryOnFailure runs its transaction again", () =>
    deadlock(false))

  it.scopedLive("a deadlock inside a savepoint fails the whole transaction, which is retried, never half-committed", () =>
    deadlock(true))

  it.scopedLive("a lock wait timeout (1205) is transient", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const repo = yield* UserRepo
      yield* repo.insert({ name: "One", email: "one@example.com", age: 10 })
      const holding = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const holder = yield* sql.withTransaction(
        Effect.zipRight(
          sql`SELECT user_id FROM users WHERE user_id = 1 FOR UPDATE`,
          Effect.zipRight(Deferred.succeed(holding, undefined), Deferred.await(release))
        )
      ).pipe(Effect.fork)
      yield* Deferred.await(holding)
      const waited = yield* Effect.flip(sql.withTransaction(
        Effect.zipRight(sql`SET SESSION innodb_lock_wait_timeout = 1`, sql`UPDATE users SET age = 11 WHERE user_id = 1`)
      ))
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(holder)
      assert.strictEqual(driverCode(waited), "ER_LOCK_WAIT_TIMEOUT")
      assert.isTrue(isTransient(waited))
    }).pipe(Effect.provide(TestDatabase.layerMysql())))

  it.scoped("a read-only user can read, but setup and writes fail with permission denied and change nothing", () =>
    Effect.gen(function*() {
      const repo = yield* UserRepo
      const db = yield* MysqlDatabase.MysqlDatabase
      const { url } = yield* temporaryUser("dbscope_ro", "SELECT", db.database)
      const readOnly = MysqlDatabase.layer({ url })
      const asReader = <A, E>(effect: Effect.Effect<A, E, UserRepo | SqlClient.SqlClient>) =>
        Effect.provide(effect, UserRepo.Default.pipe(Layer.provideMerge(readOnly)))

      assert.strictEqual(yield* asReader(Effect.flatMap(UserRepo, (r) => r.count)), 1000)
      const setupError = yield* Effect.flip(
        asReader(setup({ synthetic: 10 }).pipe(Effect.provide(Progress.layerSilent)))
      )
      assert.include(setupError.message, "permission denied")
      const insertError = yield* Effect.flip(
        asReader(Effect.flatMap(UserRepo, (r) => r.insert({ name: "X", email: "x@example.com", age: 30 })))
      )
      assert.include(insertError.message, "permission denied")
      assert.notInclude(insertError.message, password)
      assert.strictEqual(yield* repo.count, 1000, "nothing was written")
    }).pipe(Effect.provide(TestDatabase.layerMysql({ sample: true }))))

  it.scoped("a password in the URL never reaches a log line, a span attribute or an error", () =>
    Effect.gen(function*() {
      const db = yield* MysqlDatabase.MysqlDatabase
      const { url, user } = yield* temporaryUser("dbscope_rw", "ALL", db.database)
      const seen: Array<string> = []
      const logger = Logger.make(({ annotations, message }) => {
        seen.push(JSON.stringify([message, Object.fromEntries(HashMap.toEntries(annotations))]))
      })
      const base = yield* Effect.tracer
      const tracer = Tracer.make({
        span: (...args) => {
          const span = base.span(...args)
          const end = span.end.bind(span)
          span.end = (time, exit) => {
            seen.push(JSON.stringify([span.name, Object.fromEntries(span.attributes)]))
            end(time, exit)
          }
          return span
        },
        context: base.context
      })
      const failure = yield* Effect.gen(function*() {
        const repo = yield* UserRepo
        yield* repo.olderThan(40)
        yield* repo.insert({ name: "Secret", email: "secret@example.com", age: 40 })
        yield* Stream.runDrain((yield* SqlClient.SqlClient)`SELECT * FROM users`.stream)
        return yield* Effect.flip(repo.insert({ name: "Secret", email: "secret@example.com", age: 40 }))
      }).pipe(
        logQueries({ showParams: true }),
        Effect.provide(UserRepo.Default.pipe(Layer.provideMerge(MysqlDatabase.layer({ url })))),
        Effect.provide(Logger.add(logger)),
        // Debug: the pool's open and close lines (which name the server) are checked too.
        Logger.withMinimumLogLevel(LogLevel.Debug),
        Effect.withTracer(tracer)
      )
      seen.push(failure.message, String(failure))
      const refused = yield* connectError(`mysql://${user}:${password}@127.0.0.1:1/${db.database}`)
      seen.push(refused.message, String(refused))
      assert.isAbove(seen.length, 10)
      assert.isTrue(seen.some((line) => line.includes(user)), "the user name does show")
      for (const line of seen) assert.notInclude(line, password)
    }).pipe(Effect.provide(TestDatabase.layerMysql({ sample: true }))))

  it.live("createDatabase creates a missing database once, and leaves an existing one alone", () =>
    Effect.gen(function*() {
      const name = freshName()
      const url = Redacted.make(`${server}/${name}`)
      yield* MysqlDatabase.createDatabase({ url })
      yield* MysqlDatabase.createDatabase({ url })
      const found = yield* admin(
        "SELECT DEFAULT_CHARACTER_SET_NAME AS charset FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
        [name]
      )
      yield* MysqlDatabase.dropDatabase({ url })
      assert.deepStrictEqual(found, [{ charset: "utf8mb4" }])
    }))
})
