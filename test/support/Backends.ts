/**
 * The database backends every parametrized suite runs against: SQLite (a temp file),
 * MySQL/MariaDB (a fresh database on the server named by `DBSCOPE_TEST_MYSQL`, default the local
 * MariaDB as root) and PostgreSQL (a fresh database on `DBSCOPE_TEST_POSTGRES`, default the local
 * server as `postgres`). When a server does not answer, its suites are skipped with a visible
 * message, except under CI (`CI=true`), where a missing server fails the run.
 */
import type * as Reactivity from "@effect/experimental/Reactivity"
import type * as SqlClient from "@effect/sql/SqlClient"
import type * as Layer from "effect/Layer"
import * as Mysql from "mysql2"
import * as Pg from "pg"
import type { ReadOnlyGate } from "../../src/client/core/ReadOnlyGate.js"
import type { PreparedQueries } from "../../src/client/PreparedQueries.js"
import * as TestDatabase from "../../src/testing/TestDatabase.js"
import type { UserRepo } from "../../src/users/UserRepo.js"
import { clusterAvailable, clusterServer } from "./Cluster.js"

export const mysqlServer = process.env.DBSCOPE_TEST_MYSQL ?? "mysql://root@127.0.0.1:3306"

const answers = (url: string) =>
  new Promise<boolean>((resolve) => {
    const connection = Mysql.createConnection({ uri: url, connectTimeout: 3000 })
    connection.query("SELECT 1", (error) => {
      connection.destroy()
      resolve(error === null)
    })
  })

/** Whether the MySQL tests can run here; throws under CI when they cannot. */
export const mysqlAvailable: boolean = await answers(mysqlServer)

if (!mysqlAvailable) {
  const message = `MySQL/MariaDB at ${mysqlServer.replace(/:[^:@/]*@/, ":***@")} does not answer`
  if (process.env.CI === "true") throw new Error(`${message}: under CI the MySQL tests must run`)
  console.warn(`\n*** ${message}: SKIPPING the MySQL tests (start the server to run them) ***\n`)
}

export const postgresServer = process.env.DBSCOPE_TEST_POSTGRES ?? "postgres://postgres@127.0.0.1:5432"

const postgresAnswers = async (url: string) => {
  const client = new Pg.Client({
    connectionString: `${url.replace(/\/+$/, "")}/postgres`,
    connectionTimeoutMillis: 3000
  })
  client.on("error", () => undefined)
  try {
    await client.connect()
    await client.query("SELECT 1")
    return true
  } catch {
    return false
  } finally {
    await client.end().catch(() => undefined)
  }
}

/** Whether the PostgreSQL tests can run here; throws under CI when they cannot. */
export const postgresAvailable: boolean = await postgresAnswers(postgresServer)

if (!postgresAvailable) {
  const message = `PostgreSQL at ${postgresServer.replace(/:[^:@/]*@/, ":***@")} does not answer`
  if (process.env.CI === "true") throw new Error(`${message}: under CI the PostgreSQL tests must run`)
  console.warn(`\n*** ${message}: SKIPPING the PostgreSQL tests (start the server to run them) ***\n`)
}

/** What every backend's test layer provides. */
export type Common = UserRepo | SqlClient.SqlClient | PreparedQueries | ReadOnlyGate | Reactivity.Reactivity

/** A backend: its name, and a fresh migrated database with `UserRepo` (and the sample, if asked). */
export interface Backend {
  readonly name:
    | "sqlite"
    | "mysql"
    | "mysql with reader workers"
    | "mysql cluster"
    | "postgres"
    | "postgres with reader workers"
  readonly available: boolean
  readonly layer: (options?: { readonly sample?: boolean }) => Layer.Layer<Common, unknown>
}

export const backends: ReadonlyArray<Backend> = [
  { name: "sqlite", available: true, layer: (options = {}) => TestDatabase.layer(options) },
  { name: "mysql", available: mysqlAvailable, layer: (options = {}) => TestDatabase.layerMysql(options) },
  {
    name: "mysql with reader workers",
    available: mysqlAvailable,
    // Every read goes to a worker (no main-thread shortcut), so the suite exercises them.
    layer: (options = {}) => TestDatabase.layerMysql({ ...options, readers: { size: 2, mainThreadBelow: 0 } })
  },
  {
    // Every node of the local Galera cluster in one URL: reads spread, writes through node 1.
    name: "mysql cluster",
    available: clusterAvailable,
    layer: (options = {}) => TestDatabase.layerMysql({ ...options, server: clusterServer })
  },
  { name: "postgres", available: postgresAvailable, layer: (options = {}) => TestDatabase.layerPostgres(options) },
  {
    name: "postgres with reader workers",
    available: postgresAvailable,
    // Every read goes to a worker (no main-thread shortcut), so the suite exercises them.
    layer: (options = {}) => TestDatabase.layerPostgres({ ...options, readers: { size: 2, mainThreadBelow: 0 } })
  }
]
