/**
 * dbscope on a real 3-node Galera cluster (the URL names every node): reads spread over the nodes
 * and writes through one, a read after a write sees it whichever node serves it, certification
 * conflicts between two nodes retried to success with no lost update, the writer killed in the
 * middle of acknowledged writes with none lost or doubled, and every connection closed on every
 * node afterwards.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import type * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as MysqlDatabase from "../../src/client/MysqlDatabase.js"
import * as ClusterTrials from "../../src/cluster/ClusterTrials.js"
import * as GaleraCluster from "../../src/cluster/GaleraCluster.js"
import * as OpenResources from "../../src/OpenResources.js"
import { clusterAvailable, clusterDatabase, clusterSettings, noConnectionsLeft } from "../support/Cluster.js"

const client = (url: Redacted.Redacted<string>, cluster: MysqlDatabase.MysqlOptions["cluster"] = {}) =>
  Layer.fresh(ClusterTrials.clusterLayer(url, { checkInterval: Duration.millis(250), ...cluster }))

describe.skipIf(!clusterAvailable)("dbscope on a Galera cluster", { timeout: 120_000 }, () => {
  it.scopedLive("reads are spread over every node, writes go through one, and a read after a write sees it", () =>
    Effect.gen(function*() {
      const url = yield* clusterDatabase
      const before = yield* OpenResources.snapshot
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const database = yield* MysqlDatabase.MysqlDatabase
        assert.deepStrictEqual((yield* database.nodes).map((node) => [node.inService, node.writer]), [
          [true, true],
          [true, false],
          [true, false]
        ])
        yield* sql`CREATE TABLE notes (id INT AUTO_INCREMENT PRIMARY KEY, written_on INT NOT NULL)`
        const readPorts = new Set<number>()
        for (let written = 1; written <= 40; written++) {
          yield* sql`INSERT INTO notes (written_on) VALUES (@@port)`
          // Two reads at once right after the write: each may be served by any node.
          const reads = yield* Effect.all(
            [
              sql<{ n: number; port: number }>`SELECT COUNT(*) AS n, @@port AS port FROM notes`,
              sql<{ n: number; port: number }>`SELECT COUNT(*) AS n, @@port AS port FROM notes`
            ],
            { concurrency: "unbounded" }
          )
          for (const [row] of reads) {
            assert.strictEqual(Number(row!.n), written, `a read on port ${row!.port} missed a write`)
            readPorts.add(Number(row!.port))
          }
        }
        const writers = yield* sql<{ port: number }>`SELECT DISTINCT written_on AS port FROM notes`
        assert.deepStrictEqual(writers.map((row) => row.port), [clusterSettings.sqlPortBase + 1])
        assert.isAtLeast(readPorts.size, 2, `reads went to ${[...readPorts]}`)
      }).pipe(Effect.provide(client(url)))
      assert.deepStrictEqual(yield* OpenResources.snapshot, before)
      yield* noConnectionsLeft(url)
    }))

  it.scopedLive("two writers on two nodes on the same rows: conflicts retried to success, no lost update", () =>
    Effect.gen(function*() {
      const url = yield* clusterDatabase
      yield* Effect.provide(ClusterTrials.createTables, client(url))
      const storm = yield* ClusterTrials.conflictStorm(client(url, { writer: 1 }), client(url, { writer: 2 }), {
        duration: Duration.seconds(30),
        rows: 10,
        untilConflicts: 3
      })
      assert.isAtLeast(storm.retried, 1, JSON.stringify(storm))
      assert.strictEqual(storm.failed, 0)
      assert.isAbove(storm.commits[0], 0)
      assert.isAbove(storm.commits[1], 0)
      assert.strictEqual(storm.lostUpdates, 0, JSON.stringify(storm))
      assert.strictEqual(storm.rowIncrements, storm.expectedRowIncrements)
      yield* noConnectionsLeft(url)
    }))

  it.scopedLive("a node down when the client opens: it opens on the others, and takes the node in once it is back", () =>
    Effect.gen(function*() {
      const url = yield* clusterDatabase
      yield* GaleraCluster.kill(clusterSettings, 2)
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const database = yield* MysqlDatabase.MysqlDatabase
        assert.deepStrictEqual((yield* database.nodes).map((node) => node.inService), [true, false, true])
        const ports = yield* Effect.all(
          Array.from({ length: 6 }, () => sql<{ port: number }>`SELECT @@port AS port`),
          { concurrency: "unbounded" }
        )
        assert.notInclude(ports.map(([row]) => Number(row!.port)), clusterSettings.sqlPortBase + 2)
        yield* GaleraCluster.restart(clusterSettings, 2)
        yield* database.nodes.pipe(
          Effect.filterOrFail((nodes) => nodes.every((node) => node.inService), () => new Error("node 2 still out")),
          Effect.retry(Schedule.spaced("50 millis").pipe(Schedule.upTo("10 seconds")))
        )
      }).pipe(Effect.provide(client(url)), Logger.withMinimumLogLevel(LogLevel.Error))
      yield* noConnectionsLeft(url)
    }).pipe(Effect.ensuring(Effect.orDie(GaleraCluster.restart(clusterSettings, 2)))))

  it.scopedLive("the writer killed mid-write: writes fail over, none acknowledged is lost or doubled, it rejoins", () =>
    Effect.gen(function*() {
      const url = yield* clusterDatabase
      const nodeLayers = yield* ClusterTrials.nodeLayers(url)
      yield* Effect.provide(ClusterTrials.createTables, client(url))
      // Node 3 takes the writes here, so the other tests' clients (writing through node 1) keep theirs.
      const result = yield* Effect.gen(function*() {
        const database = yield* MysqlDatabase.MysqlDatabase
        /** Until the client's view of the nodes is `expected` (in service, writer), within 10 s. */
        const nodesAre = (expected: ReadonlyArray<readonly [boolean, boolean]>) =>
          database.nodes.pipe(
            Effect.map((nodes) => nodes.map((node) => [node.inService, node.writer] as const)),
            Effect.filterOrFail(
              (seen) => JSON.stringify(seen) === JSON.stringify(expected),
              (seen) => new Error(`nodes ${JSON.stringify(seen)}, expected ${JSON.stringify(expected)}`)
            ),
            Effect.retry(Schedule.spaced("50 millis").pipe(Schedule.upTo("10 seconds"))),
            Effect.asVoid
          )
        const trial = yield* ClusterTrials.killTrial({
          trial: "test",
          // Taken out of service at once, and the writes moved to the next node (1, after 3).
          kill: (node) =>
            Effect.zipRight(
              GaleraCluster.kill(clusterSettings, node),
              nodesAre([[true, true], [true, false], [false, false]])
            ),
          restart: (node) => GaleraCluster.restart(clusterSettings, node),
          nodeLayers,
          before: Duration.seconds(1),
          after: Duration.seconds(5)
        })
        // Put back once synced, and the writes go back to the preferred node.
        yield* nodesAre([[true, false], [true, false], [true, true]])
        return trial
      }).pipe(Effect.provide(client(url, { writer: 3 })))
      assert.strictEqual(result.killed, 3)
      assert.isAbove(result.acknowledged, 0)
      assert.strictEqual(result.lost, 0, JSON.stringify(result))
      assert.strictEqual(result.duplicated, 0, JSON.stringify(result))
      assert.isDefined(result.recoveredMs, `no write succeeded after the kill: ${JSON.stringify(result)}`)
      assert.strictEqual(new Set(result.rowsPerNode).size, 1, `the nodes disagree: ${result.rowsPerNode}`)
      yield* noConnectionsLeft(url)
    }).pipe(
      // Whatever happened, the cluster is whole again for the next test.
      Effect.ensuring(Effect.orDie(GaleraCluster.restart(clusterSettings, 3)))
    ))
})
