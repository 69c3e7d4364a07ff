/**
 * The local Galera cluster for the tests that need one (`npm run cluster -- start`; `.ci/run` starts
 * it): its server URL (every node, no database), whether it is there, and a fresh database of a
 * test's own on it. Without a healthy cluster those tests are skipped with a visible message,
 * except under CI (`CI=true`) or when `DBSCOPE_CLUSTER_URL` says one should be there, where a
 * missing cluster fails the run.
 */
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Mysql from "mysql2"
import * as crypto from "node:crypto"
import * as MysqlDatabase from "../../src/client/MysqlDatabase.js"
import * as GaleraCluster from "../../src/cluster/GaleraCluster.js"

export const clusterSettings = await Effect.runPromise(GaleraCluster.settingsConfig)

/** Every node of the cluster, without a database: `mysql://root@127.0.0.1:3311,…,127.0.0.1:3313`. */
export const clusterServer = (process.env.DBSCOPE_CLUSTER_URL ?? GaleraCluster.url(clusterSettings))
  .replace(/\/[^/,]*$/, "")

export const clusterAvailable: boolean = GaleraCluster.healthy(
  await Effect.runPromise(GaleraCluster.status(clusterSettings))
)

if (!clusterAvailable) {
  const message = `no healthy Galera cluster at ${clusterServer}`
  if (process.env.CI === "true" || process.env.DBSCOPE_CLUSTER_URL !== undefined) {
    throw new Error(`${message}: the cluster tests must run (npm run cluster -- start)`)
  }
  console.warn(`\n*** ${message}: SKIPPING the cluster tests (npm run cluster -- start to run them) ***\n`)
}

/** A database of its own on the cluster (`dbscope_cluster_<random>`), dropped with the scope; its URL. */
export const clusterDatabase = Effect.gen(function*() {
  const url = Redacted.make(`${clusterServer}/dbscope_cluster_${crypto.randomBytes(5).toString("hex")}`)
  yield* Effect.acquireRelease(
    MysqlDatabase.createDatabase({ url }),
    () => Effect.orDie(MysqlDatabase.dropDatabase({ url }))
  )
  return url
})

/** Connections to `database` on each node, as the node itself counts them. */
export const connectionsPerNode = (url: Redacted.Redacted<string>) =>
  Effect.flatMap(
    MysqlDatabase.parseUrl(url),
    (where) =>
      Effect.forEach(where.nodes, (node) =>
        Effect.async<number, Error>((resume) => {
          const connection = Mysql.createConnection({ uri: Redacted.value(node.serverUrl) })
          connection.query<Array<Mysql.RowDataPacket>>(
            "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()",
            [where.database],
            (error, rows) => {
              connection.destroy()
              resume(error === null ? Effect.succeed(Number(rows[0]?.n)) : Effect.fail(error))
            }
          )
        }))
  )

/** Until every node's count of our connections is zero (a closed connection leaves the list in a moment). */
export const noConnectionsLeft = (url: Redacted.Redacted<string>) =>
  connectionsPerNode(url).pipe(
    Effect.filterOrFail((counts) => counts.every((n) => n === 0), (counts) => new Error(`still open: ${counts}`)),
    Effect.retry(Schedule.spaced("100 millis").pipe(Schedule.upTo("10 seconds")))
  )
