/**
 * What dbscope says and does about a PostgreSQL server outside its pool: where a URL points (shown
 * without its password), why a connection failed (one line), the settings every connection is
 * opened with, and creating or dropping the URL's database from the server's `postgres` database.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as Pg from "pg"
import * as OptionalPackage from "../OptionalPackage.js"
import { sessionUrl } from "../readers/PostgresSession.js"
import { DatabaseConnectError } from "./DatabaseError.js"
import { errorCode } from "./MysqlServer.js"

/** What opening a connection needs: the URL, and how long to wait. */
export interface ServerOptions {
  readonly url: Redacted.Redacted<string>
  readonly connectTimeout?: Duration.DurationInput | undefined
}

/** A PostgreSQL URL's parts, safe to show except `url`. */
export interface Where {
  /** `postgres://user@host:port/database`, never the password. */
  readonly target: string
  readonly host: string
  readonly port: number
  readonly database: string
  /** The URL as given. */
  readonly url: Redacted.Redacted<string>
  /** The same server's `postgres` database, to create or drop the URL's database from. */
  readonly maintenanceUrl: Redacted.Redacted<string>
}

const invalid = (reason: string, target = "the database URL") => new DatabaseConnectError({ target, reason })

/** Where a URL points, safe to show, and its parts; fails for anything that is not a PostgreSQL URL. */
export const parseUrl = (url: Redacted.Redacted<string>): Effect.Effect<Where, DatabaseConnectError> =>
  Effect.suspend(() => {
    let parsed: URL
    try {
      parsed = new URL(Redacted.value(url))
    } catch {
      return Effect.fail(invalid("it is not a valid URL"))
    }
    if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
      return Effect.fail(invalid("it must start with postgres:// or postgresql://"))
    }
    const user = decodeURIComponent(parsed.username)
    const database = decodeURIComponent(parsed.pathname.replace(/^\//, ""))
    const port = parsed.port === "" ? 5432 : Number(parsed.port)
    const target = `postgres://${user === "" ? "" : `${user}@`}${parsed.hostname}:${port}/${database}`
    // The name goes into CREATE DATABASE, where it cannot be a bound parameter: plain names only.
    if (!/^[A-Za-z0-9_]{1,63}$/.test(database)) {
      return Effect.fail(
        invalid(
          "the URL must name a database made of letters, digits and _ (e.g. postgres://postgres@127.0.0.1:5432/ALX_prodev)",
          target
        )
      )
    }
    const maintenance = new URL(parsed.href)
    maintenance.pathname = "/postgres"
    return Effect.succeed({
      target,
      host: parsed.hostname,
      port,
      database,
      url,
      maintenanceUrl: Redacted.make(maintenance.href)
    })
  })

/** Why a connection failed, by the code of the error: a socket's, or the server's SQLSTATE. */
export const connectReasons: Record<string, string> = {
  ECONNREFUSED: "the server is not reachable (connection refused)",
  EHOSTUNREACH: "the server is not reachable (no route to host)",
  ENETUNREACH: "the server is not reachable (no route to host)",
  ENOTFOUND: "the server's host name is unknown",
  EAI_AGAIN: "the server's host name is unknown",
  ETIMEDOUT: "the server did not answer in time",
  ECONNRESET: "the server closed the connection",
  "28P01": "access denied (wrong user name or password)",
  "28000": "access denied (the server does not let this user in: pg_hba.conf, or no such role)",
  "3D000": "the database does not exist (`dbscope setup --url …` creates it)",
  "42501": "this user may not use the database",
  "57P03": "the server is starting up or shutting down; try again",
  "53300": "the server has no free connection slot"
}

/** pg's own words for a connection that timed out (it gives no code). */
const timedOut = (cause: unknown) =>
  cause instanceof Error && /timeout/i.test(cause.message) && errorCode(cause) === "UNKNOWN"

/** A failure to connect, as one line that names the server but never the password. */
export const connectError = (target: string) => (cause: unknown) => {
  const code = timedOut(cause) ? "ETIMEDOUT" : errorCode(cause)
  return new DatabaseConnectError({
    target,
    reason: connectReasons[code] ?? `the connection failed (${code})`,
    cause
  })
}

/** pg's wait for the server, plus a second: the bound on connecting. */
export const connectBound = (options: Omit<ServerOptions, "url">) =>
  Duration.sum(Duration.decode(options.connectTimeout ?? Duration.seconds(5)), Duration.seconds(1))

/** The settings of every dbscope connection: times in UTC and ISO format, a name the server's views show. */
export const connectionConfig = (url: Redacted.Redacted<string>, options: Omit<ServerOptions, "url">) =>
  ({
    connectionString: sessionUrl(Redacted.value(url)),
    connectionTimeoutMillis: Duration.toMillis(options.connectTimeout ?? Duration.seconds(5)),
    application_name: "dbscope"
  }) satisfies Pg.ClientConfig

/**
 * Runs `use` on one connection to the server's `postgres` database (the URL's may not exist yet)
 * and ends it; failures read as connection errors naming the target.
 */
const onServer = (
  options: ServerOptions,
  use: (client: Pg.Client, database: string) => Effect.Effect<void, unknown>
) =>
  Effect.gen(function*() {
    const where = yield* parseUrl(options.url)
    // pg is an optional peer of dbscope: imported when PostgreSQL is used.
    const { Pg: pg } = yield* OptionalPackage.load(OptionalPackage.postgres, () => import("./PostgresDriver.js"))
    const session = Effect.acquireRelease(
      Effect.sync(() => {
        const client = new pg.Client(connectionConfig(where.maintenanceUrl, options))
        // An error after connecting (the server going away) must not crash the process.
        client.on("error", () => undefined)
        return client
      }),
      (client) => Effect.promise(() => client.end().catch(() => undefined))
    )
    yield* Effect.scoped(Effect.gen(function*() {
      const client = yield* session
      yield* Effect.tryPromise({ try: () => client.connect(), catch: (cause) => cause }).pipe(
        Effect.timeoutFail({ duration: connectBound(options), onTimeout: () => ({ code: "ETIMEDOUT" }) })
      )
      yield* use(client, where.database)
    })).pipe(Effect.mapError(connectError(where.target)))
  })

const query = (client: Pg.Client, text: string, values: ReadonlyArray<unknown> = []) =>
  Effect.tryPromise({ try: () => client.query(text, [...values]), catch: (cause) => cause })

/**
 * Creates the database the URL names when it does not exist yet (UTF8). Only creating it needs the
 * CREATEDB privilege: a database that exists is left alone.
 */
export const createDatabase = (options: ServerOptions) =>
  onServer(options, (client, database) =>
    Effect.gen(function*() {
      const found = yield* query(client, "SELECT 1 FROM pg_database WHERE datname = $1", [database])
      if (found.rowCount !== null && found.rowCount > 0) return
      // The name was checked by `parseUrl` (letters, digits and _ only) and is quoted.
      yield* query(client, `CREATE DATABASE "${database}" ENCODING 'UTF8' TEMPLATE template0`).pipe(
        // Another process created it meanwhile (42P04 duplicate_database, or a unique violation on the catalog).
        Effect.catchIf((cause) => errorCode(cause) === "42P04" || errorCode(cause) === "23505", () => Effect.void)
      )
    }))

/** Drops the database the URL names, if it exists, ending its connections (test harnesses, benchmarks). */
export const dropDatabase = (options: ServerOptions) =>
  // The name was checked by `parseUrl` (letters, digits and _ only) and is quoted.
  onServer(options, (client, database) =>
    Effect.asVoid(query(client, `DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`)))
