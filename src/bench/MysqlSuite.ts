/**
 * Suite `mysql`: dbscope on MariaDB/MySQL (`MysqlDatabase`) with N synthetic users in a scratch
 * database `dbscope_bench_<pid>` on the local server, dropped at the end whatever happens (skipped
 * when no server answers). 1. the seed's pair on separate pooled connections at once against one
 * after the other; 2. every row streamed (keyset pages, the driver's lazy row stream) against
 * `repo.all()`: peak RSS growth and time, each in a fresh child process like the `streams` suite's
 * probes. Both are `ServerSuite`'s, made alike on every server backend.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as MysqlDatabase from "../client/MysqlDatabase.js"
import { usersLayer } from "./BenchDatabase.js"
import { scratchDatabase, serverAbsent, serverConfig, serverProcess } from "./MysqlServer.js"
import * as ServerSuite from "./ServerSuite.js"
import { measured, skipped, type Suite, type SuiteOptions } from "./Suite.js"

/** dbscope on a MySQL/MariaDB pool. */
const mysql: ServerSuite.Backend<MysqlDatabase.MysqlDatabase> = {
  suite: "mysql",
  label: "MySQL",
  serverKind: "MariaDB/MySQL",
  urlVariable: "DBSCOPE_BENCH_MYSQL_URL",
  poolSize: 4,
  layer: (url, readers) => usersLayer(MysqlDatabase.layer({ url, poolSize: mysql.poolSize, readers })),
  target: Effect.map(MysqlDatabase.MysqlDatabase, (database) => database.target),
  version: Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => Effect.map(sql<{ readonly v: string }>`SELECT VERSION() AS v`, ([row]) => row?.v ?? "unknown server")
  ),
  server: serverConfig,
  absent: serverAbsent,
  scratch: (server) => scratchDatabase(server),
  process: serverProcess
}

const mysqlSuite = ({ rows }: SuiteOptions) =>
  Effect.gen(function*() {
    const setup = yield* ServerSuite.setUp(mysql, rows)
    if (Either.isLeft(setup)) return skipped(setup.left)
    const m = yield* ServerSuite.measure(mysql, setup.right)
    yield* Console.log(setup.right.header)
    yield* ServerSuite.printSections(m)
    const busy = yield* ServerSuite.printRunsAndLoads(
      setup.right.server,
      mysql.serverKind,
      ServerSuite.sectionRunRows(m),
      [m.pair.load, m.memoryLoad],
      [m.pairServer, m.memoryServer]
    )
    yield* Console.log(
      `summary${busy ? " (machine busy, unreliable)" : ""}: ${
        ServerSuite.sectionsSummary(m)
      }; row counts and age sums agree`
    )
    return measured(busy, ServerSuite.sectionComparisons(m))
  }).pipe(Effect.scoped)

export const suite: Suite = {
  name: "mysql",
  description:
    "seed pair concurrent vs sequential, streaming vs repo.all() RSS (MariaDB/MySQL at DBSCOPE_BENCH_MYSQL, " +
    "default 127.0.0.1:3306)",
  run: mysqlSuite,
  probe: (kind) => ServerSuite.memoryProbe(mysql, kind)
}
