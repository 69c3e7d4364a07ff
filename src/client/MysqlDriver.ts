/**
 * The MySQL/MariaDB driver of the client core: the part of `MysqlDatabase` that needs mysql2 and
 * `@effect/sql-mysql2`, optional peers of dbscope, so it is imported only when MySQL is used (see
 * `MysqlDatabase.layer`).
 */
import * as MysqlClient from "@effect/sql-mysql2/MysqlClient"
import { SqlError } from "@effect/sql/SqlError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Mysql from "mysql2"
import * as Net from "node:net"
import { mysqlReaderWorkerScript } from "../BundledData.js"
import * as OpenResources from "../OpenResources.js"
import * as ReaderPool from "../readers/ReaderPool.js"
import * as ClusterHealth from "./ClusterHealth.js"
import * as ClusterNodes from "./ClusterNodes.js"
import * as ClusterSettings from "./ClusterSettings.js"
import * as ClientCore from "./core/ClientCore.js"
import type { DriverConnection, Ran, Request } from "./core/Driver.js"
import * as Isolation from "./core/Isolation.js"
import { everyTable } from "./core/StatementObserver.js"
import {
  connectionLostCodes,
  DatabaseConnectError,
  notRunCodes,
  readerConnectError,
  reasonFor
} from "./DatabaseError.js"
import * as ExternalWrites from "./ExternalWrites.js"
import { MysqlDatabase, type MysqlOptions } from "./MysqlDatabase.js"
import {
  connectBound,
  connectError,
  connectionOptions,
  connectReasons,
  errorCode,
  parseUrl,
  type UrlNode
} from "./MysqlServer.js"
import { streamRows, type StreamSource } from "./MysqlStream.js"
import { mysqlRules } from "./ReadingStatements.js"
import * as TableNames from "./TableNames.js"

/**
 * The pool's options: its size, and each connection's. Several statements in one `.unprepared`
 * call are allowed, as upstream (`Model.makeRepository` sends `insert …; select … LAST_INSERT_ID()`);
 * text a user typed is only ever run as a prepared statement, which the server limits to one.
 */
const poolOptions = (url: Redacted.Redacted<string>, options: MysqlOptions): Mysql.PoolOptions => ({
  ...connectionOptions(url, options),
  multipleStatements: true,
  connectionLimit: options.poolSize ?? 10
})

/** Runs `sql` on a pool or one pooled connection; `execute` binds on the server, `query` in the client. */
const runOn = (
  target: Mysql.Pool | Mysql.PoolConnection,
  sql: string,
  params: ReadonlyArray<unknown>,
  method: "execute" | "query",
  rowsAsArray = false
) =>
  Effect.async<unknown, SqlError>((resume) => {
    const options = { sql, values: [...params], rowsAsArray }
    const done = (cause: Mysql.QueryError | null, results: unknown) =>
      resume(
        cause === null
          ? Effect.succeed(results)
          : Effect.fail(new SqlError({ cause, message: "Failed to execute statement" }))
      )
    if (method === "execute") target.execute(options, done)
    else target.query(options, done)
  })

/** Statements a reader worker may be given: plain reads (a locking read needs the writer's pool). */
const readOnlyShape = /^\s*\(?\s*(?:SELECT|WITH)\b/i
const lockingRead = /\bFOR\s+(?:UPDATE|SHARE)\b|\bLOCK\s+IN\s+SHARE\s+MODE\b/i

const schemaChange = /^\s*(?:CREATE|ALTER|DROP|RENAME|TRUNCATE)\b/i

/** The database's tables, as `TableNames` needs them. */
const tableList = (query: (sql: string) => Effect.Effect<unknown, SqlError>) =>
  Effect.map(
    query(
      `SELECT t.TABLE_NAME AS name, t.TABLE_TYPE AS type,
         EXISTS (SELECT 1 FROM information_schema.TRIGGERS g
                 WHERE g.EVENT_OBJECT_SCHEMA = t.TABLE_SCHEMA AND g.EVENT_OBJECT_TABLE = t.TABLE_NAME) AS triggers,
         EXISTS (SELECT 1 FROM information_schema.REFERENTIAL_CONSTRAINTS r
                 WHERE r.UNIQUE_CONSTRAINT_SCHEMA = t.TABLE_SCHEMA AND r.REFERENCED_TABLE_NAME = t.TABLE_NAME) AS referenced
       FROM information_schema.TABLES t WHERE t.TABLE_SCHEMA = DATABASE()`
    ),
    (rows): ReadonlyArray<TableNames.TableInfo> =>
      (Array.isArray(rows) ? rows as Array<{ name: string; type: string; triggers: number; referenced: number }> : [])
        .map((row) => ({
          name: row.name,
          view: row.type !== "BASE TABLE",
          reachesFurther: row.triggers > 0 || row.referenced > 0
        }))
  )

/** How many rows a write changed, from mysql2's result (one header, or several for several statements). */
const affectedRows = (results: unknown): number => {
  if (Array.isArray(results)) return results.reduce((sum: number, result) => sum + affectedRows(result), 0)
  return typeof results === "object" && results !== null && "affectedRows" in results &&
      typeof results.affectedRows === "number"
    ? results.affectedRows
    : 0
}

/** Whether mysql2's result holds rows (a read), rather than only write headers. */
const isRows = (results: unknown): results is ReadonlyArray<unknown> =>
  Array.isArray(results) && (results.length === 0 || !("affectedRows" in Object(results[0])))

/** The parts of mysql2's parsed connection settings a socket is opened from. */
interface SocketSettings {
  readonly host?: string
  readonly port?: number
  readonly socketPath?: string
  readonly enableKeepAlive?: boolean
  readonly keepAliveInitialDelay?: number
}

/**
 * Opens the sockets of a pool's connections itself (mysql2's `stream` option, opened as mysql2
 * does) and remembers those the server has not said a word on yet. Why: `pool.end` waits for every
 * connection to quit, and one still waiting for the server's greeting (an address that never
 * answers, a stalled server) quits only when its connect timeout fires: Ctrl-C while connecting
 * waited that long, and with no timeout, for ever. Closing destroys those sockets at once.
 */
const makeSockets = () => {
  const unanswered = new Set<Net.Socket>()
  const stream = ({ config }: { readonly config: SocketSettings }): Net.Socket => {
    const socket = config.socketPath !== undefined && config.socketPath !== ""
      ? Net.connect(config.socketPath)
      : Net.connect(config.port ?? 3306, config.host ?? "localhost")
    socket.setNoDelay(true)
    if (config.enableKeepAlive !== false) {
      socket.once("connect", () => socket.setKeepAlive(true, config.keepAliveInitialDelay ?? 0))
    }
    unanswered.add(socket)
    const answered = () => void unanswered.delete(socket)
    socket.once("data", answered)
    socket.once("close", answered)
    return socket
  }
  /** Destroys the sockets no server has answered on (their connections fail at once). */
  const destroyUnanswered = () => {
    for (const socket of unanswered) socket.destroy()
    unanswered.clear()
  }
  return { stream, destroyUnanswered }
}

/**
 * What each connection to a cluster node is told first, for read-your-writes (`causal`): each
 * read waits until its node has applied every write the cluster had committed when it arrived.
 */
const clusterSession = (causalReads: boolean): ReadonlyArray<string> =>
  causalReads ? ["SET SESSION wsrep_sync_wait = 1"] : []

/** One node's pool, opened in the current scope (not probed: `make` does that through the routing). */
const openPool = (node: UrlNode, options: MysqlOptions, session: ReadonlyArray<string>) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const sockets = makeSockets()
      const pool = Mysql.createPool({ ...poolOptions(node.url, options), stream: sockets.stream })
      // A server without Galera refuses `wsrep_sync_wait`: its connections simply go without.
      pool.on("connection", (connection) => session.forEach((sql) => connection.query(sql, () => undefined)))
      return { pool, sockets }
    }).pipe(
      Effect.tap(OpenResources.opened("mysqlPool")),
      Effect.tap(Effect.logDebug(`Database pool opened: ${node.name}`))
    ),
    ({ pool, sockets }) =>
      Effect.async<void>((resume) => {
        pool.end(() => resume(Effect.void))
        // A connection still waiting for the server would keep `end` waiting (see `makeSockets`).
        sockets.destroyUnanswered()
      }).pipe(
        Effect.zipRight(OpenResources.closed("mysqlPool")),
        Effect.zipRight(Effect.logDebug(`Database pool closed: ${node.name}`))
      )
  ).pipe(Effect.map(({ pool }) => pool))

/**
 * A statement's failure code; mysql2 gives none when a pooled connection had already closed before
 * the statement was handed to it (it was never sent): that one did not run.
 */
const failureCode = (cause: unknown): string =>
  errorCode(cause) === "UNKNOWN" && typeof cause === "object" && cause !== null && "fatal" in cause &&
    cause.fatal === true
    ? "ECONNREFUSED"
    : errorCode(cause)

/**
 * Codes after which the rest of a transaction cannot run: a deadlock victim, a snapshot conflict
 * (MariaDB 11.6+'s `innodb_snapshot_isolation` rolls the whole transaction back), or its connection gone.
 */
const endsTransaction = (code: string) =>
  code === "ER_LOCK_DEADLOCK" || code === "ER_CHECKREAD" || connectionLostCodes.has(code) || notRunCodes.has(code)

/** How long `cacheQuery` keeps a MySQL result by default: writes by other clients are not seen. */
const unseenWritesStaleFor = Duration.seconds(5)

/** No node of the cluster serves now (all taken out by the health check). */
const unavailable = (nodes: ClusterNodes.ClusterNodes) =>
  new SqlError({
    cause: Object.assign(new Error("no node of the cluster is in service"), {
      code: "NODE_UNAVAILABLE",
      nodes: nodes.status()
    }),
    message: "No node of the cluster is in service"
  })

/** Opens the pools in the current scope (probing the servers) and builds the client around them. */
export const make = (options: MysqlOptions) =>
  Effect.gen(function*() {
    const where = yield* parseUrl(options.url)
    const cluster = where.nodes.length > 1
    const settings = { ...ClusterSettings.defaults, ...options.cluster }
    const pools = yield* Effect.forEach(
      where.nodes,
      (node) => openPool(node, options, cluster ? clusterSession(settings.reads === "causal") : [])
    )
    const nodes = ClusterNodes.make(
      where.nodes.map((node) => node.name),
      Math.min(settings.writer, where.nodes.length) - 1
    )
    if (cluster) {
      yield* ClusterHealth.start(
        nodes,
        where.nodes.map((node) => ({ open: () => Mysql.createConnection(connectionOptions(node.url, options)) })),
        { interval: settings.checkInterval, timeout: connectBound(options) }
      )
    }

    /**
     * Runs `use` on a node `choose` picks, counting it busy meanwhile. On a cluster, a node that
     * turns out unable to serve is taken out, and the work moves to the next node when it did not
     * run (or may safely run twice: `rerunnable`, for reads). One server: errors pass as they are.
     */
    const onNode = <A>(
      choose: (tried: ReadonlySet<number>) => number | undefined,
      use: (pool: Mysql.Pool) => Effect.Effect<A, SqlError>,
      rerunnable: boolean
    ) => {
      const attempt = (tried: ReadonlySet<number>): Effect.Effect<A, SqlError> =>
        Effect.suspend(() => {
          const index = choose(tried)
          if (index === undefined) return Effect.fail(unavailable(nodes))
          nodes.started(index)
          return use(pools[index]!).pipe(
            Effect.ensuring(Effect.sync(() => nodes.ended(index))),
            Effect.catchAll((error) => {
              const code = failureCode(error.cause)
              if (!cluster || !(notRunCodes.has(code) || connectionLostCodes.has(code))) return Effect.fail(error)
              // A statement that did not run may run on another node; a read may run twice.
              const retry = notRunCodes.has(code) || rerunnable
              return Effect.zipRight(
                nodes.takeOut(index, reasonFor(code))
                  ? Effect.logWarning(`cluster node ${nodes.name(index)} taken out of service: ${reasonFor(code)}`)
                  : Effect.void,
                retry ? attempt(new Set([...tried, index])) : Effect.fail(error)
              )
            })
          )
        })
      return attempt(new Set())
    }

    const writer = (tried: ReadonlySet<number>) => {
      const index = nodes.writer()
      return index === undefined || tried.has(index) ? undefined : index
    }

    const probe = onNode(writer, (pool) => runOn(pool, "SELECT 1", [], "query"), true).pipe(
      Effect.mapError((error) =>
        errorCode(error.cause) === "NODE_UNAVAILABLE"
          ? new DatabaseConnectError({
            target: where.target,
            reason: `no node of the cluster is in service (${
              nodes.status().map((node) => `${node.name}: ${node.reason}`).join("; ")
            })`
          })
          : connectError(where.target)(error.cause)
      ),
      Effect.timeoutFail({
        duration: connectBound(options),
        onTimeout: () => new DatabaseConnectError({ target: where.target, reason: connectReasons.ETIMEDOUT ?? "" })
      })
    )
    yield* probe
    const names = TableNames.make()
    const loadNames = names.load(tableList((sql) => onNode(writer, (pool) => runOn(pool, sql, [], "query"), true)))
    yield* loadNames

    /** What a statement's writes invalidate; a schema change reloads the table names first. */
    const writtenBy = (sql: string, results: unknown): Effect.Effect<ReadonlyArray<string>> => {
      if (schemaChange.test(sql)) return Effect.as(loadNames, [everyTable])
      return Effect.succeed(affectedRows(results) > 0 ? names.writes(sql) : [])
    }

    const run = (target: Mysql.Pool | Mysql.PoolConnection) => (request: Request): Effect.Effect<Ran, SqlError> =>
      Effect.flatMap(
        runOn(
          target,
          request.sql,
          request.params,
          request.unprepared ? "query" : "execute",
          request.shape === "values"
        ),
        (results) => {
          if (request.shape !== "raw" && isRows(results) && !request.unprepared) {
            return Effect.succeed<Ran>({ result: results, count: results.length, written: [] })
          }
          return Effect.map(writtenBy(request.sql, results), (written): Ran => ({
            result: request.shape === "raw" ? results : Array.isArray(results) ? results : [],
            count: isRows(results) ? results.length : affectedRows(results),
            written
          }))
        }
      )

    /** Reads go to any node in service; anything else (and several statements in one) to the writer. */
    const reads = (request: Request) =>
      !request.unprepared && readOnlyShape.test(request.sql) && !lockingRead.test(request.sql)

    const getConnection = (pool: Mysql.Pool) =>
      Effect.async<Mysql.PoolConnection, SqlError>((resume) =>
        pool.getConnection((cause, connection) => {
          if (cause === null) OpenResources.markOpened("mysqlConnection")
          resume(
            cause === null
              ? Effect.succeed(connection)
              : Effect.fail(new SqlError({ cause, message: "Failed to acquire a connection" }))
          )
        })
      )

    /** A connection of one's own, given back when the scope closes (destroyed when it was lost). */
    const ownConnection = Effect.acquireRelease(
      // Nothing runs while a connection is taken: a refusal moves on to the next writer.
      onNode(writer, getConnection, true),
      (connection) =>
        Effect.sync(() => {
          connection.release()
          OpenResources.markClosed("mysqlConnection")
        })
    )

    const driverConnection = (
      target: Mysql.Pool | Mysql.PoolConnection,
      streamOn: StreamSource
    ): DriverConnection => ({
      runner: { _tag: "Async", run: run(target) },
      control: (sql) => Effect.asVoid(runOn(target, sql, [], "query")),
      stream: (sql, params) => streamRows(streamOn, sql, params)
    })

    const shared: DriverConnection = cluster
      ? {
        runner: {
          _tag: "Async",
          run: (request) =>
            reads(request)
              ? onNode(nodes.reader, (pool) => run(pool)(request), true)
              : onNode(writer, (pool) => run(pool)(request), false)
        },
        control: (sql) => onNode(writer, (pool) => Effect.asVoid(runOn(pool, sql, [], "query")), false),
        stream: (sql, params) => streamRows({ own: onNode(nodes.reader, getConnection, true) }, sql, params)
      }
      : driverConnection(pools[0]!, { own: getConnection(pools[0]!) })

    // Reader workers hold one connection each to one server: on a cluster, reads are spread over
    // the nodes' pools instead (see README "Scaling out").
    const readers = options.readers === undefined || cluster ? undefined : yield* ReaderPool.makeWith(options.readers, {
      script: mysqlReaderWorkerScript,
      start: {
        _tag: "Mysql",
        url: Redacted.value(where.url),
        connectTimeoutMs: Duration.toMillis(options.connectTimeout ?? Duration.seconds(5)),
        dateStrings: options.dateStrings ?? false
      }
    }).pipe(Effect.mapError(readerConnectError(where.target)))

    const core = yield* ClientCore.make({
      system: "mysql",
      makeCompiler: MysqlClient.makeCompiler,
      spanAttributes: [
        ["db.system", "mysql"],
        ["db.system.name", "mysql"],
        ["server.address", where.host],
        ["server.port", where.port],
        ["db.namespace", where.database]
      ],
      // `SET TRANSACTION` (no SESSION) applies to the connection's next transaction only.
      beginTransaction: (level) =>
        level === undefined ? ["BEGIN"] : [`SET TRANSACTION ISOLATION LEVEL ${Isolation.sqlName(level)}`, "BEGIN"],
      shared,
      connections: {
        _tag: "Pool",
        reserve: Effect.map(ownConnection, (connection) => driverConnection(connection, { shared: connection }))
      },
      tablesRead: names.reads,
      // InnoDB rolls back the whole transaction of a deadlock victim (and of a Galera certification
      // failure, which reads as one); a lost connection takes its transaction with it.
      endedTransaction: (error) => endsTransaction(errorCode(error.cause)),
      readOnly: mysqlRules,
      readers: readers === undefined ? undefined : {
        size: readers.size,
        query: readers.query,
        mayRun: (sql) => readOnlyShape.test(sql) && !lockingRead.test(sql),
        mainThreadBelow: Duration.toMillis(options.readers?.mainThreadBelow ?? Duration.millis(2))
      }
    }, options)

    // Nothing tells a MySQL client that another one wrote: cached results live only a few seconds.
    const external = ExternalWrites.Signal.Unseen({ staleFor: unseenWritesStaleFor })
    const context = Context.add(core.context, ExternalWrites.ExternalWrites, external).pipe(Context.add(MysqlDatabase, {
      target: where.target,
      database: where.database,
      poolSize: options.poolSize ?? 10,
      readers: readers?.size ?? 0,
      nodes: Effect.sync(nodes.status)
    }))
    // The pool is there for those who look for it (`/metrics`), as on SQLite; only when asked for.
    return readers === undefined ? context : Context.add(context, ReaderPool.ReaderPool, readers)
  })

/**
 * mysql2 itself, for the modules that load it on use (`MysqlServer`, the `mysql` bench suite): they
 * import it through this module, because the bundled CLI turns an import of one of its own modules
 * into a `require`, but leaves `import("mysql2")` (an external package) a real dynamic import, which
 * the launcher's script cannot run.
 */
export { Mysql }
