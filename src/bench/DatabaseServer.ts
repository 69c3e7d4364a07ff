/**
 * What the suites on a database server (`mysql`, `postgres`, `cluster`) share about it: where it
 * is (a variable, else the bench machine's local server), whether one answers at all (none: the
 * suite is skipped, not failed) and a scratch database for the suite's scope. A backend says only
 * how to ask its server (`Server`); `MysqlServer` and `PostgresServer` are the two.
 */
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { errorCode } from "../client/MysqlServer.js"
import * as OptionalPackage from "../OptionalPackage.js"

/** How a suite asks one kind of server; `E` is its driver's error. */
export interface Server<E> {
  /** What it is, for messages: `MariaDB/MySQL`. */
  readonly kind: string
  /** The variable that says where it is. */
  readonly variable: string
  /** Runs a trivial query on the server (`server`: a URL without a database). */
  readonly ping: (server: Redacted.Redacted<string>) => Effect.Effect<unknown, E | OptionalPackage.MissingPackage>
  /** Whether the database that `url` names exists. */
  readonly exists: (url: Redacted.Redacted<string>) => Effect.Effect<boolean, unknown>
  /** Creates the database that `url` names. */
  readonly create: (url: Redacted.Redacted<string>) => Effect.Effect<void, unknown>
  /** Drops the database that `url` names, if it exists. */
  readonly drop: (url: Redacted.Redacted<string>) => Effect.Effect<void, unknown>
}

/** The server, without a database: `variable`, else `fallback`; trailing slashes removed. */
export const serverConfig = (variable: string, fallback: string) =>
  Config.redacted(variable).pipe(
    Config.withDefault(Redacted.make(fallback)),
    Config.map((url) => Redacted.make(Redacted.value(url).replace(/\/+$/, "")))
  )

/** Where the server is, for messages: host and port only, never a password. */
export const hostOf = <E>(server: Server<E>, url: Redacted.Redacted<string>) => {
  const text = Redacted.value(url)
  return URL.canParse(text) ? new URL(text).host : `the server in ${server.variable}`
}

/** Error codes that mean no server answers at all (a server that answers with an error fails the suite). */
const unreachable: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN"
])

/** Why the suite cannot run here when no server answers at `url` (then it is skipped, not failed); none if one does. */
export const serverAbsent = <E>(server: Server<E>, url: Redacted.Redacted<string>) =>
  Effect.gen(function*() {
    const answered = yield* Effect.either(server.ping(url))
    if (Either.isRight(answered)) return Option.none<string>()
    if (answered.left instanceof OptionalPackage.MissingPackage) return Option.some(answered.left.message)
    const code = errorCode(answered.left)
    return unreachable.has(code)
      ? Option.some(`no ${server.kind} server answers at ${hostOf(server, url)} (${code}): start one to run this suite`)
      : yield* Effect.fail(answered.left)
  })

/**
 * A fresh database `<prefix>_<pid>` on the server at `url` for the suite's scope, dropped when the
 * scope closes, after every pool opened in it has closed: on success, failure or interruption. A
 * database of that name that exists already was not made by this run: the suite stops rather than
 * touch it.
 */
export const scratchDatabase = <E>(server: Server<E>, url: Redacted.Redacted<string>, prefix: string) =>
  Effect.acquireRelease(
    Effect.gen(function*() {
      // A name this module makes (letters, digits and _ only), so it is safe to quote into DDL.
      const name = `${prefix}_${process.pid}`
      const database = Redacted.make(`${Redacted.value(url)}/${name}`)
      if (yield* server.exists(database)) {
        return yield* Effect.dieMessage(`database ${name} exists already (not made by this run): drop it first`)
      }
      yield* server.create(database)
      yield* Console.error(`  created database ${name}`)
      return { name, url: database }
    }),
    ({ name, url }) =>
      server.drop(url).pipe(
        Effect.zipRight(Console.log(`\ndropped database ${name}`)),
        Effect.orDie
      )
  )
