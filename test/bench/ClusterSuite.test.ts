/**
 * The cluster suite (`SuiteMain.js cluster`) on the local Galera cluster, shortened: one kill trial
 * (`DBSCOPE_BENCH_KILLS=1`), a two-second storm (`DBSCOPE_BENCH_STORM_SECONDS=2`) and 2,000 users.
 * What it reports and that its goals (no acknowledged write lost or doubled, nodes that agree, no
 * lost update) are met; not how fast. Without a healthy cluster that test is skipped with a visible
 * message (failed under CI: see `support/Cluster.ts`). Where no cluster can be started, the suite
 * is skipped in one line that says why.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Mysql from "mysql2"
import * as fs from "node:fs"
import * as Net from "node:net"
import * as path from "node:path"
import { SuiteOutcome } from "../../src/bench/BenchReport.js"
import { benchSuiteScript } from "../../src/BundledData.js"
import * as MysqlDatabase from "../../src/client/MysqlDatabase.js"
import * as GaleraCluster from "../../src/cluster/GaleraCluster.js"
import { tempDirectory } from "../../src/testing/TestDatabase.js"
import { clusterAvailable, clusterServer, clusterSettings } from "../support/Cluster.js"
import { node } from "./NodeProcess.js"

/** The databases named `name` on the cluster's first node (none or one). */
const databasesNamed = (name: string) =>
  Effect.flatMap(
    MysqlDatabase.parseUrl(Redacted.make(`${clusterServer}/test`)),
    (where) =>
      Effect.async<Array<string>, Error>((resume) => {
        const connection = Mysql.createConnection({ uri: Redacted.value(where.serverUrl) })
        connection.query<Array<Mysql.RowDataPacket>>(
          "SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
          [name],
          (error, rows) => {
            connection.destroy()
            resume(error === null ? Effect.succeed(rows.map((row) => String(row.name))) : Effect.fail(error))
          }
        )
      })
  )

/** Whatever happened to the suite's process, every node runs again for the tests after this one. */
const everyNodeUp = Effect.orDie(
  Effect.forEach(
    GaleraCluster.nodeNumbers(clusterSettings),
    (n) => GaleraCluster.restart(clusterSettings, n),
    { discard: true }
  )
)

describe.skipIf(!clusterAvailable)("bench suite cluster", () => {
  it.scoped(
    "kills the writer mid-write, storms two nodes and reads three ways: nothing lost or doubled, its database dropped",
    () =>
      Effect.gen(function*() {
        const cwd = yield* tempDirectory
        const results = path.join(cwd, "cluster.json")
        const result = yield* node([benchSuiteScript, "cluster", "--rows", "2000", "--results", results], {
          cwd,
          env: { DBSCOPE_BENCH_KILLS: "1", DBSCOPE_BENCH_STORM_SECONDS: "2" }
        })
        assert.strictEqual(result.status, 0, result.stderr)
        const outcome = Schema.decodeUnknownSync(Schema.parseJson(SuiteOutcome))(fs.readFileSync(results, "utf8"))
        assert.strictEqual(outcome.status, "ok", outcome.reason)
        assert.deepStrictEqual(outcome.results.map((c) => c.against), [
          "writes acknowledged",
          "writes acknowledged",
          "trials",
          "commits",
          ...Array.from({ length: 6 }, () => "node 1 alone")
        ])
        const [lost, duplicated, disagree, lostUpdates, ...reads] = outcome.results
        for (const c of [lost, duplicated, disagree, lostUpdates]) {
          assert.strictEqual(c?.unit, "count", c?.name)
          assert.deepStrictEqual(c?.goal, { of: "ours", op: "<=", value: 0, rows: 0 }, c?.name)
          // The goals hold at any size: judged, and met.
          assert.isTrue(c?.ok, `${c?.name}: ${c?.ours} (${c?.note})`)
        }
        assert.isAbove(lost?.baseline ?? 0, 0, "some writes were acknowledged")
        assert.strictEqual(disagree?.baseline, 1)
        assert.isAbove(lostUpdates?.baseline ?? 0, 0, "the storm committed")
        for (const c of reads) {
          assert.strictEqual(c.unit, "ms", c.name)
          assert.isUndefined(c.goal, c.name)
          assert.isTrue(c.ours > 0 && c.baseline > 0, c.name)
          assert.isTrue(Number.isFinite(c.ratio) && (c.ratio ?? 0) > 0, `${c.name}: ${c.ratio}`)
        }

        const { stdout } = result
        assert.match(stdout, /\n1: node 1 killed +[\d,]+ +0 +0 +0 /)
        assert.match(
          stdout,
          /lost 0 \(goal 0, ok\), duplicated 0 \(goal 0, ok\); the nodes hold the same rows in 1 of 1/
        )
        assert.match(stdout, /time from the kill to the first acknowledged write: median \d/)
        assert.match(stdout, /\nlost updates \(commits - counter\) +0 +0 +ok\n/)
        assert.match(stdout, /\nrow increments at the end, against 5 x commits +[\d,]+ \/ [\d,]+ +equal +ok\n/)
        assert.match(stdout, /client warnings during 1\. and 2\., counted, not printed: \d+/)
        assert.include(stdout, "3. reads: 2,000 synthetic users, written through the cluster")
        assert.include(stdout, "checked: every node holds the 2,000 users")
        assert.include(stdout, "note: all 3 nodes run on this machine and share its")
        assert.match(stdout, /summary[^:]*: 1 kill trial of node 1: /)
        // The client's "taken out of service" was counted, not printed.
        assert.notInclude(result.stderr, "taken out of service")

        const database = /database (dbscope_bench_cluster_\d+)/.exec(stdout)?.[1] ?? "none"
        assert.include(stdout, `\ndropped database ${database}\n`)
        assert.deepStrictEqual(yield* databasesNamed(database), [])
        assert.isTrue(GaleraCluster.healthy(yield* GaleraCluster.status(clusterSettings)))
      }).pipe(Effect.ensuring(everyNodeUp)),
    { timeout: 120_000 }
  )
})

/** A port taken for the scope: a cluster whose node 1 would listen there cannot start. */
const takenPort = Effect.acquireRelease(
  Effect.async<Net.Server>((resume) => {
    const server = Net.createServer()
    server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
  }),
  (server) => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
).pipe(Effect.map((server) => (server.address() as Net.AddressInfo).port))

describe("bench suite cluster, no cluster to be had", () => {
  it.scoped("where no cluster runs and none can start, it is skipped in one line that says why", () =>
    Effect.gen(function*() {
      const cwd = yield* tempDirectory
      const port = yield* takenPort
      const results = path.join(cwd, "cluster.json")
      const result = yield* node([benchSuiteScript, "cluster", "--rows", "100", "--results", results], {
        cwd,
        env: {
          DBSCOPE_CLUSTER_DIR: path.join(cwd, "galera"),
          DBSCOPE_CLUSTER_SQL_PORT_BASE: String(port - 1),
          DBSCOPE_CLUSTER_GALERA_PORT_BASE: String(port + 100)
        }
      })
      assert.strictEqual(result.status, 0, result.stderr)
      assert.match(
        result.stdout,
        /\ncluster: SKIPPED: no healthy Galera cluster at mysql:\/\/\S+, and none could be started: .+\n$/
      )
      const outcome = Schema.decodeUnknownSync(Schema.parseJson(SuiteOutcome))(fs.readFileSync(results, "utf8"))
      assert.strictEqual(outcome.status, "skipped")
      assert.deepStrictEqual(outcome.results, [])
    }))
})
