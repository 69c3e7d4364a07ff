/**
 * The local Galera cluster (`npm run cluster -- start`), as the tests and the benchmark use it: every
 * node Synced in one cluster and reachable as root over TCP; a killed node leaves the cluster and
 * rejoins it when restarted. These tests use the running cluster rather than making one (that takes
 * ~15 s): without one they are skipped with a visible message, except under CI (`CI=true`), or when
 * `DBSCOPE_CLUSTER_URL` says a cluster should be there, where a missing cluster fails the run.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Mysql from "mysql2"
import * as GaleraCluster from "../../src/cluster/GaleraCluster.js"

const settings = await Effect.runPromise(GaleraCluster.settingsConfig)
const running = GaleraCluster.healthy(await Effect.runPromise(GaleraCluster.status(settings)))
const expected = process.env.DBSCOPE_CLUSTER_URL !== undefined

if (!running && !expected) {
  const message = `no healthy Galera cluster in ${settings.dir}`
  if (process.env.CI === "true") throw new Error(`${message}: under CI the cluster tests must run`)
  console.warn(`\n*** ${message}: SKIPPING the cluster tests (npm run cluster -- start to run them) ***\n`)
}

/** Fails (to be retried) until `check` holds for the cluster's status. */
const statusWhere = (check: (nodes: ReadonlyArray<GaleraCluster.NodeStatus>) => boolean) =>
  GaleraCluster.status(settings).pipe(
    Effect.filterOrFail(check, (nodes) => new Error(`status: ${JSON.stringify(nodes)}`)),
    Effect.retry(Schedule.spaced("250 millis").pipe(Schedule.upTo("40 seconds")))
  )

const synced = (node: GaleraCluster.NodeStatus, size: number) =>
  Option.contains(node.wsrepState, "Synced") && node.ready && Option.contains(node.clusterSize, size)

/** `SELECT @@port` as root without a password over TCP, as a user of the cluster's URL does. */
const portOverTcp = (port: number) =>
  Effect.async<number, Error>((resume) => {
    const connection = Mysql.createConnection({ host: "127.0.0.1", port, user: "root", database: "test" })
    connection.query<Array<Mysql.RowDataPacket>>("SELECT @@port AS port", (error, rows) => {
      connection.destroy()
      resume(error === null ? Effect.succeed(Number(rows[0]?.port)) : Effect.fail(error))
    })
  })

describe.skipIf(!running && !expected)("the local Galera cluster", () => {
  it.live("every node is Synced in one cluster of all of them and lets root in over TCP", () =>
    Effect.gen(function*() {
      const nodes = yield* GaleraCluster.status(settings)
      assert.strictEqual(nodes.length, settings.nodes)
      for (const node of nodes) {
        assert.isTrue(Option.isSome(node.pid), `node ${node.node} runs`)
        assert.isTrue(synced(node, settings.nodes), `node ${node.node} Synced: ${JSON.stringify(node)}`)
        assert.strictEqual(yield* portOverTcp(node.port), node.port)
      }
      assert.strictEqual(
        GaleraCluster.url(settings),
        `mysql://root@${nodes.map((node) => `127.0.0.1:${node.port}`).join(",")}/test`
      )
    }))

  it.live("a killed node leaves the cluster, the others stay Synced, and it rejoins when restarted", () => {
    const victim = settings.nodes
    return Effect.gen(function*() {
      yield* GaleraCluster.kill(settings, victim)
      const afterKill = yield* GaleraCluster.status(settings)
      assert.isTrue(afterKill.some((node) => node.node === victim && Option.isNone(node.pid)), `node ${victim} is gone`)

      yield* statusWhere((nodes) =>
        nodes.every((node) => node.node === victim ? Option.isNone(node.pid) : synced(node, settings.nodes - 1))
      )

      yield* GaleraCluster.restart(settings, victim)
      const rejoined = yield* GaleraCluster.status(settings)
      assert.isTrue(GaleraCluster.healthy(rejoined), JSON.stringify(rejoined))
      // Restarting a node that runs does nothing.
      yield* GaleraCluster.restart(settings, victim)
      assert.deepStrictEqual(
        (yield* GaleraCluster.status(settings)).map((node) => node.pid),
        rejoined.map((node) => node.pid)
      )
    }).pipe(
      // Whatever happened, leave the cluster whole for the next user.
      Effect.ensuring(Effect.orDie(GaleraCluster.restart(settings, victim))),
      Logger.withMinimumLogLevel(LogLevel.Warning)
    )
  }, 120_000)
})
