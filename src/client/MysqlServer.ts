/**
 * What dbscope says and does about a MySQL/MariaDB server outside its pool: where a URL points
 * (shown without its password), why a connection failed (one line), the options every connection
 * is opened with, and creating or dropping the URL's database on a connection of its own.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Redacted from "effect/Redacted"
import type * as Mysql from "mysql2"
import * as OptionalPackage from "../OptionalPackage.js"
import { DatabaseConnectError } from "./DatabaseError.js"

/** What opening a connection needs: the URL, and how long to wait and how to read dates. */
export interface ServerOptions {
  readonly url: Redacted.Redacted<string>
  readonly connectTimeout?: Duration.DurationInput | undefined
  readonly dateStrings?: boolean | undefined
}

/** One server of a URL: where it is, and the URL that reaches it alone (with and without the database). */
export interface UrlNode {
  /** `host:port`, safe to show. */
  readonly name: string
  readonly host: string
  readonly port: number
  readonly url: Redacted.Redacted<string>
  readonly serverUrl: Redacted.Redacted<string>
}

/**
 * The hosts of a URL's authority: `host[:port]` separated by commas, brackets around IPv6
 * addresses (`mysql://u@10.0.0.1:3306,10.0.0.2:3306/db`). The WHATWG parser takes one host only.
 */
const hostList = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*@)?([^/?#]*)(.*)$/is

/**
 * Where a URL points, safe to show, and its parts; fails for anything that is not a MySQL URL.
 * Several hosts separated by commas name the nodes of a cluster (see `MysqlCluster`); `nodes` has
 * one entry per host, and `host`, `port`, `url` and `serverUrl` are the first one's.
 */
export const parseUrl = (url: Redacted.Redacted<string>) =>
  Effect.suspend(() => {
    const invalid = Effect.fail(
      new DatabaseConnectError({ target: "the database URL", reason: "it is not a valid URL" })
    )
    const parts = hostList.exec(Redacted.value(url))
    const hosts = parts?.[3]?.split(",") ?? []
    if (parts === null || hosts.length === 0 || hosts.some((host) => host === "")) return invalid
    const parsed: Array<URL> = []
    for (const host of hosts) {
      try {
        parsed.push(new URL(`${parts[1]}${parts[2] ?? ""}${host}${parts[4]}`))
      } catch {
        return invalid
      }
    }
    const first = parsed[0]!
    const user = decodeURIComponent(first.username)
    const database = decodeURIComponent(first.pathname.replace(/^\//, ""))
    const names = parsed.map((node) => `${node.hostname}:${node.port === "" ? 3306 : Number(node.port)}`)
    const target = `mysql://${user === "" ? "" : `${user}@`}${names.join(",")}/${database}`
    if (first.protocol !== "mysql:" && first.protocol !== "mariadb:") {
      return Effect.fail(
        new DatabaseConnectError({
          target: "the database URL",
          reason: "it must start with mysql://, mariadb:// or postgres://"
        })
      )
    }
    // The name goes into CREATE DATABASE, where it cannot be a bound parameter: plain names only.
    if (!/^[A-Za-z0-9_$]{1,64}$/.test(database)) {
      return Effect.fail(
        new DatabaseConnectError({
          target,
          reason:
            "the URL must name a database made of letters, digits, _ and $ (e.g. mysql://root@127.0.0.1:3306/ALX_prodev)"
        })
      )
    }
    if (new Set(names).size !== names.length) {
      return Effect.fail(new DatabaseConnectError({ target, reason: "the URL names the same host twice" }))
    }
    const nodes = parsed.map((node, index): UrlNode => {
      node.protocol = "mysql:"
      const withoutDatabase = new URL(node.href)
      withoutDatabase.pathname = "/"
      return {
        name: names[index]!,
        host: node.hostname,
        port: node.port === "" ? 3306 : Number(node.port),
        url: Redacted.make(node.href),
        serverUrl: Redacted.make(withoutDatabase.href)
      }
    })
    const [head] = nodes as [UrlNode, ...Array<UrlNode>]
    return Effect.succeed({
      target,
      database,
      host: head.host,
      port: head.port,
      url: head.url,
      serverUrl: head.serverUrl,
      nodes
    })
  })

export const connectReasons: Record<string, string> = {
  ECONNREFUSED: "the server is not reachable (connection refused)",
  EHOSTUNREACH: "the server is not reachable (no route to host)",
  ENETUNREACH: "the server is not reachable (no route to host)",
  ENOTFOUND: "the server's host name is unknown",
  EAI_AGAIN: "the server's host name is unknown",
  ETIMEDOUT: "the server did not answer in time",
  ER_ACCESS_DENIED_ERROR: "access denied (wrong user name or password)",
  // MariaDB's answer for some unknown users (1698), whether or not a password was given.
  ER_ACCESS_DENIED_NO_PASSWORD_ERROR: "access denied (wrong user name or password)",
  ER_BAD_DB_ERROR: "the database does not exist (`dbscope setup --url …` creates it)",
  ER_DBACCESS_DENIED_ERROR: "this user may not use the database",
  PROTOCOL_CONNECTION_LOST: "the server closed the connection"
}

export const errorCode = (cause: unknown): string =>
  typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "string"
    ? cause.code
    : "UNKNOWN"

/** A failure to connect, as one line that names the server but never the password. */
export const connectError = (target: string) => (cause: unknown) =>
  new DatabaseConnectError({
    target,
    reason: connectReasons[errorCode(cause)] ?? `the connection failed (${errorCode(cause)})`,
    cause
  })

/** The connection options dbscope uses: numbers as numbers, times in UTC. */
export const connectionOptions = (
  url: Redacted.Redacted<string>,
  options: Omit<ServerOptions, "url">
) =>
  ({
    uri: Redacted.value(url),
    connectTimeout: Duration.toMillis(options.connectTimeout ?? Duration.seconds(5)),
    multipleStatements: false,
    supportBigNumbers: true,
    decimalNumbers: true,
    dateStrings: options.dateStrings ?? false,
    timezone: "Z"
  }) satisfies Mysql.ConnectionOptions

/** Runs one statement on a single connection of its own (`runOn` typing for a plain connection). */
const queryOnce = (connection: Mysql.Connection, sql: string, params: ReadonlyArray<unknown>) =>
  Effect.async<unknown, unknown>((resume) => {
    connection.query(
      { sql, values: [...params] },
      (cause, results) => resume(cause === null ? Effect.succeed(results) : Effect.fail(cause))
    )
  })

/** mysql2's wait for the server, plus a second: the bound on connecting when mysql2 sets none. */
export const connectBound = (options: Omit<ServerOptions, "url">) =>
  Duration.sum(Duration.decode(options.connectTimeout ?? Duration.seconds(5)), Duration.seconds(1))

/**
 * The first error of each admin connection. Why: the connection starts connecting when created, and
 * an error that comes before a command is queued (ECONNREFUSED on loopback can) is emitted as an
 * `error` event, which would crash the process were nobody listening.
 */
const firstErrors = new WeakMap<Mysql.Connection, unknown>()

const createConnection = (mysql2: typeof Mysql, settings: Mysql.ConnectionOptions) => {
  const connection = mysql2.createConnection(settings)
  connection.on("error", (error) => {
    if (!firstErrors.has(connection)) firstErrors.set(connection, error)
  })
  return connection
}

/** Waits until `connection` answers (a `SELECT 1`), within `connectBound`; fails with its first error. */
const connected = (connection: Mysql.Connection, options: ServerOptions) =>
  queryOnce(connection, "SELECT 1", []).pipe(
    // A command queued after the error fails as "closed state": the error that closed it says why.
    Effect.mapError((cause) => firstErrors.get(connection) ?? cause),
    Effect.timeoutFail({ duration: connectBound(options), onTimeout: () => ({ code: "ETIMEDOUT" }) })
  )

/**
 * Runs `use` on one connection to the URL's server, without selecting its database (which may not
 * exist yet), and closes it; failures read as connection errors naming the target. With several
 * hosts (a cluster), the first that answers is used.
 */
const onServer = (
  options: ServerOptions,
  use: (connection: Mysql.Connection, database: string) => Effect.Effect<void, unknown>
) =>
  Effect.gen(function*() {
    const where = yield* parseUrl(options.url)
    // mysql2 is an optional peer of dbscope: imported when MySQL is used.
    const { Mysql: mysql2 } = yield* OptionalPackage.load(OptionalPackage.mysql, () => import("./MysqlDriver.js"))
    const onNode = (node: UrlNode, next: ReadonlyArray<UrlNode>): Effect.Effect<void, unknown> =>
      Effect.acquireUseRelease(
        Effect.sync(() => createConnection(mysql2, connectionOptions(node.serverUrl, options))),
        (connection) =>
          Effect.matchEffect(connected(connection, options), {
            // Nothing ran on a node that did not answer: the next one may.
            onFailure: (cause) => next.length === 0 ? Effect.fail(cause) : Effect.succeed(false),
            onSuccess: () => Effect.as(use(connection, where.database), true)
          }),
        (connection, exit) => close(connection, exit, options)
      ).pipe(
        Effect.flatMap((done) => done || next.length === 0 ? Effect.void : onNode(next[0]!, next.slice(1)))
      )
    yield* Effect.mapError(onNode(where.nodes[0]!, where.nodes.slice(1)), connectError(where.target))
  })

/**
 * Ends a connection whose work succeeded (QUIT, bounded by the connect timeout), and destroys one
 * whose work failed or was interrupted. Why: after a refused login the server has closed the
 * socket, and mysql2 then never calls `end`'s callback; waiting for it hung `setup` forever, and
 * its first SIGINT/SIGTERM with it (a release cannot be interrupted).
 */
const close = (connection: Mysql.Connection, exit: Exit.Exit<unknown, unknown>, options: ServerOptions) =>
  Exit.isSuccess(exit)
    ? Effect.async<void>((resume) => {
      connection.end(() => resume(Effect.void))
      return Effect.sync(() => connection.destroy())
    }).pipe(
      // A release is uninterruptible: the timeout could not stop the wait without this.
      Effect.interruptible,
      Effect.timeoutOption(options.connectTimeout ?? Duration.seconds(5)),
      Effect.asVoid
    )
    : Effect.sync(() => connection.destroy())

/**
 * Creates the database the URL names when it does not exist yet (utf8mb4), connecting to the
 * server without a database first. Only creating it needs the CREATE privilege: a database that
 * exists is left alone, so a least-privilege user gets as far as the first thing it may not do.
 */
export const createDatabase = (options: ServerOptions) =>
  onServer(options, (connection, database) =>
    Effect.gen(function*() {
      const found = yield* queryOnce(
        connection,
        "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
        [database]
      )
      if (Array.isArray(found) && found.length > 0) return
      // The name was checked by `parseUrl` (letters, digits, _ and $ only) and is quoted.
      yield* queryOnce(
        connection,
        `CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`,
        []
      )
    }))

/** Drops the database the URL names, if it exists (test harnesses, benchmarks). */
export const dropDatabase = (options: ServerOptions) =>
  // The name was checked by `parseUrl` (letters, digits, _ and $ only) and is quoted.
  onServer(options, (connection, database) =>
    Effect.asVoid(queryOnce(connection, `DROP DATABASE IF EXISTS \`${database}\``, [])))
