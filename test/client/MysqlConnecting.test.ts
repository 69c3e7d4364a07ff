/**
 * Opening a MySQL/MariaDB database never hangs: a refused login, a server that accepts the
 * connection and never says a word, and an interruption while connecting each end within the
 * connect timeout (plus a second), for the pool and for the admin connection that creates the
 * database. Bounds are generous ("it ends"), never measurements.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { DatabaseConnectError } from "../../src/client/DatabaseError.js"
import * as MysqlDatabase from "../../src/client/MysqlDatabase.js"
import { mysqlAvailable, mysqlServer } from "../support/Backends.js"
import { silentServerPort, userWithPassword } from "../support/MysqlFixtures.js"

/** Far longer than any of these should take, far shorter than for ever. */
const hangs = Duration.seconds(10)

const withinBound = <A, E>(effect: Effect.Effect<A, E>) =>
  effect.pipe(Effect.timeoutFail({ duration: hangs, onTimeout: () => new Error(`still waiting after 10 s`) }))

const silentServer = Effect.map(silentServerPort, (port) => `mysql://root:pw@127.0.0.1:${port}/test`)

const assertConnectError = (exit: Exit.Exit<unknown, unknown>, says: string) => {
  assert.isTrue(Exit.isFailure(exit), String(exit))
  if (Exit.isFailure(exit)) {
    const error = exit.cause._tag === "Fail" ? exit.cause.error : undefined
    assert.instanceOf(error, DatabaseConnectError, String(exit))
    assert.include((error as DatabaseConnectError).message, says)
  }
}

describe.skipIf(!mysqlAvailable)("opening MySQL never hangs", { timeout: 60_000 }, () => {
  it.scopedLive("createDatabase with a wrong password fails with access denied (it used to wait for ever)", () =>
    Effect.gen(function*() {
      const user = yield* userWithPassword("right-pw")
      const host = new URL(mysqlServer.replace(/^mysql:/, "http:")).host
      const url = Redacted.make(`mysql://${user}:wrong-pw@${host}/dbscope_never_created`)
      const exit = yield* withinBound(Effect.exit(MysqlDatabase.createDatabase({ url })))
      assertConnectError(exit, "access denied")
    }))

  it.scopedLive("a server that never answers: the pool and createDatabase give up, even with no mysql2 timeout", () =>
    Effect.gen(function*() {
      const url = Redacted.make(yield* silentServer)
      // 0 is no limit at all in mysql2 (the environment refuses it; code can still pass it).
      for (const connectTimeout of [Duration.millis(500), Duration.zero]) {
        const [pool, created] = yield* withinBound(Effect.all([
          Effect.exit(Effect.scoped(Layer.build(MysqlDatabase.layer({ url, connectTimeout })))),
          Effect.exit(MysqlDatabase.createDatabase({ url, connectTimeout }))
        ], { concurrency: 2 }))
        assertConnectError(pool, "did not answer in time")
        assertConnectError(created, "did not answer in time")
      }
    }))

  it.scopedLive("interrupting the pool or createDatabase while they wait for the server ends at once", () =>
    Effect.gen(function*() {
      const url = Redacted.make(yield* silentServer)
      // mysql2 would wait 60 s for the greeting: the interruption must not.
      const connectTimeout = Duration.seconds(60)
      const opening = yield* Effect.fork(
        Effect.all([
          Effect.scoped(Layer.build(MysqlDatabase.layer({ url, connectTimeout }))),
          MysqlDatabase.createDatabase({ url, connectTimeout })
        ], { concurrency: 2 })
      )
      yield* Effect.sleep(Duration.millis(500))
      const exit = yield* withinBound(Fiber.interrupt(opening))
      assert.isTrue(Exit.isInterrupted(exit), String(exit))
    }))
})
