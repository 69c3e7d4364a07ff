/**
 * The `dbscope` command line: `setup`, `users`, `query`, `count`, the concurrency and stream
 * commands, `demo` and `bench`, each opening the database (a SQLite file, or a MySQL/MariaDB server
 * with `--url`) for exactly as long as the command runs. Data goes to stdout (text, or JSON with
 * `--json`: each command's description says exactly what); logs and problems go to stderr, a problem
 * as one line. The global options (`--db`, `--url`, `--log-queries`, `--trace`, `--log-level`) may
 * stand before or after the subcommand; `--log-queries` and `--trace` wrap any command.
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Descriptor from "@effect/cli/CommandDescriptor"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Options from "@effect/cli/Options"
import type * as Usage from "@effect/cli/Usage"
import * as ValidationError from "@effect/cli/ValidationError"
import * as Chunk from "effect/Chunk"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { benchCommand } from "../bench/BenchCommand.js"
import { sampleCsv } from "../BundledData.js"
import * as Database from "../client/Database.js"
import * as Tracing from "../client/Tracing.js"
import * as CacheQuery from "../combinators/CacheQuery.js"
import { cacheQuery } from "../combinators/CacheQuery.js"
import { logQueries } from "../combinators/LogQueries.js"
import { fetchUsers } from "../users/ConcurrentFetch.js"
import { Dashboard } from "../users/Dashboard.js"
import { executeQuery } from "../users/ExecuteQuery.js"
import { setup } from "../users/Setup.js"
import { maxSynthetic } from "../users/SyntheticUsers.js"
import { parseWholeNumber, type User } from "../users/User.js"
import { UserRepo } from "../users/UserRepo.js"
import * as UsersTable from "../users/UsersTable.js"
import {
  averageAge,
  InvalidPageSize,
  keepOlderThan,
  lazyPaginate,
  maxPageSize,
  streamUsers,
  streamUsersInBatches,
  streamUsersWhere
} from "../users/UserStream.js"
import * as EventLoopScheduler from "./EventLoopScheduler.js"
import * as GlobalOptions from "./GlobalOptions.js"
import * as Logging from "./Logging.js"
import * as Output from "./Output.js"
import * as ParserConsole from "./ParserConsole.js"
import * as ProgressBars from "./ProgressBars.js"
import * as SignalStop from "./SignalStop.js"

/** A command-line value that makes no sense (exit code 2, like the parser's own errors). */
export class UsageError extends Schema.TaggedError<UsageError>()("UsageError", { reason: Schema.String }) {
  override get message() {
    return this.reason
  }
}

const dbOption = Options.file("db").pipe(
  Options.withDescription("SQLite database file (default: $DBSCOPE_DB or ./data/users.db)"),
  Options.optional
)
/** `--json`, described by what it prints instead of the text (each command says exactly what). */
const jsonOption = (prints: string) => Options.boolean("json").pipe(Options.withDescription(`Print ${prints}`))
const jsonRows = jsonOption("one JSON array of row objects instead of the table")

const logQueriesOption = Options.boolean("log-queries").pipe(
  Options.withDescription("Log every SQL statement (duration, rows; values hidden) to stderr as logfmt")
)

const urlOption = Options.redacted("url").pipe(
  Options.withDescription(
    "MySQL/MariaDB or PostgreSQL server and database, mysql://user:password@host:port/db or " +
      "postgres://user:password@host:port/db (default: $DATABASE_URL)"
  ),
  Options.optional
)

const traceOption = Options.boolean("trace").pipe(
  Options.withDescription(
    "Export a span per statement (db.system, db.statement, rows; never values): to stderr, or to the " +
      "OTLP/HTTP collector in $OTEL_EXPORTER_OTLP_ENDPOINT"
  )
)

const dbscope = Command.make("dbscope", {
  db: dbOption,
  url: urlOption,
  logQueries: logQueriesOption,
  trace: traceOption
}).pipe(
  Command.withDescription("Resource-safe, concurrent database access on Effect: the users database.")
)

/**
 * `--trace`: OpenTelemetry is loaded only when asked for (~0.9 s of modules a plain command never
 * needs, and optional peers a project may not have installed: `Tracing` imports them on use).
 */
const tracing = Tracing.layerFromConfig

/** Applies the global options that wrap a whole command (`--log-queries`, `--trace`). */
const withGlobalOptions = <E, R>(effect: Effect.Effect<void, E, R>) =>
  ParserConsole.restore(Effect.flatMap(dbscope, (global) => {
    const logged = global.logQueries
      ? effect.pipe(
        logQueries(),
        Logger.withMinimumLogLevel(LogLevel.Info),
        Effect.provide(Logging.layerStderrLogfmt)
      )
      : effect
    // Outermost: the exporter is flushed when the command has finished, whatever its outcome.
    return global.trace ? Effect.provide(logged, tracing) : logged
  }))

/**
 * The backend of this invocation, the flags mapped onto `Database`: a flag wins over the
 * environment (`--db` over `DATABASE_URL` and `DBSCOPE_DB`, `--url` over both); `--db` with
 * `--url` is a usage error.
 */
const backend = Effect.gen(function*() {
  const { db, url } = yield* dbscope
  if (Option.isSome(db) && Option.isSome(url)) {
    return yield* new UsageError({ reason: "--db selects a SQLite file and --url a server: give one of them" })
  }
  // An option typed on the command line wins over the environment (DATABASE_URL, DBSCOPE_DB).
  if (Option.isSome(url)) return Database.serverBackend(url.value)
  if (Option.isSome(db)) return Database.Backend.Sqlite({ filename: db.value })
  return yield* Database.backendConfig
})

/**
 * The database for the current invocation (`create`: `setup` creates a missing file or MySQL
 * database; `readers`: concurrent reads on reader workers), with the users repository. Unless
 * `anyTable` (`setup` checks for itself, `query` runs the user's own SQL), the `users` table must
 * be dbscope's before the command reads it: one catalogue query, and a clear line when it is not.
 */
const database = (options: { readonly create?: boolean; readonly readers?: boolean; readonly anyTable?: boolean }) => {
  const opened = Layer.unwrapEffect(
    Effect.map(
      backend,
      (chosen) =>
        Database.layer({ backend: chosen, create: options.create ?? false, readers: options.readers ?? false })
    )
  )
  return UserRepo.Default.pipe(
    Layer.provideMerge(
      options.anyTable === true ? opened : Layer.provideMerge(Layer.effectDiscard(UsersTable.ensure), opened)
    )
  )
}

/**
 * For concurrent reads, reader workers (a MySQL pool also runs `Effect.all` on separate
 * connections by itself); with `--sequential` the queries run one after the other, without them.
 */
const readDatabase = (sequential: boolean) => Layer.provideMerge(Dashboard.Default, database({ readers: !sequential }))

const poolDescription = (sequential: boolean) =>
  Effect.map(Database.Database, (opened) => {
    if (opened.readers > 0) {
      const server = opened.backend === "mysql" ? " (MySQL)" : opened.backend === "postgres" ? " (PostgreSQL)" : ""
      return `concurrently on ${opened.readers} reader workers${server}`
    }
    return sequential ? "one after the other on one connection" : "concurrently on separate pooled connections"
  })

const ms = (millis: number) => `${millis < 1 ? millis.toFixed(3) : millis.toFixed(1)} ms`.padStart(11)

/** `effect`'s value and how long it took, in milliseconds. */
const timedMillis = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.suspend(() => {
    const since = performance.now()
    return Effect.map(effect, (value) => ({ value, millis: performance.now() - since }))
  })
const sequentialOption = Options.boolean("sequential").pipe(
  Options.withDescription("Run the queries one after the other on one connection (to compare)")
)

/**
 * An integer option in the one syntax of `parseWholeNumber` (`Options.integer` took `0x28` and
 * `4e1` as 40); a value that is not one, or not a safe integer, is refused with the value quoted.
 */
const wholeNumberOption = (name: string) =>
  Options.text(name).pipe(
    Options.withPseudoName("integer"),
    Options.mapEffect((text) => {
      const n = parseWholeNumber(text)
      return n !== undefined && Number.isSafeInteger(n)
        ? Effect.succeed(n)
        : Effect.fail(
          ValidationError.invalidValue(
            HelpDoc.p(`--${name} takes a whole number written in decimal digits, such as 40, got '${text}'`)
          )
        )
    })
  )

/** `1 page`, `2 pages`. */
const counted = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`

const print = Output.print

const nonNegative = (name: string, value: Option.Option<number>) =>
  Option.match(value, {
    onNone: () => Effect.succeed(undefined),
    onSome: (n) =>
      n >= 0 ? Effect.succeed(n) : Effect.fail(new UsageError({ reason: `--${name} must be 0 or more, got ${n}` }))
  })

/** `--synthetic N`: 0 to `maxSynthetic` users. */
const syntheticCount = (value: Option.Option<number>) =>
  Effect.flatMap(nonNegative("synthetic", value), (count) =>
    count === undefined || count <= maxSynthetic
      ? Effect.succeed(count)
      : Effect.fail(
        new UsageError({
          reason: `--synthetic must be at most ${maxSynthetic.toLocaleString("en-US")}, got ${count}`
        })
      ))

const setupCommand = Command.make("setup", {
  csv: Options.file("csv", { exists: "yes" }).pipe(
    Options.withDescription("CSV file with name,email,age columns (default: the bundled sample)"),
    Options.optional
  ),
  reset: Options.boolean("reset").pipe(
    Options.withDescription("Delete existing users first (before the import, or the synthetic users)")
  ),
  synthetic: wholeNumberOption("synthetic").pipe(
    Options.withDescription("Add N (at most 100,000,000) deterministic synthetic users (no CSV import unless --csv)"),
    Options.optional
  )
}, ({ csv, reset, synthetic }) =>
  // Checked before the database is opened: a bad count creates no file and changes nothing.
  Effect.flatMap(syntheticCount(synthetic), (count) =>
    Effect.gen(function*() {
      const file = Option.getOrElse(csv, () => count === undefined ? sampleCsv : undefined)
      const result = yield* setup({ csv: file, reset, synthetic: count })
      yield* Console.log(
        result.migrations.length === 0
          ? "Schema: up to date"
          : result.adopted
          ? "Schema: adopted the existing users table (it has dbscope's columns)"
          : `Schema: applied ${result.migrations.map(([id, name]) => `${id}_${name}`).join(", ")}`
      )
      if (result.imported !== undefined && file !== undefined) {
        yield* Console.log(
          `Imported ${file}: ${result.imported.inserted} inserted, ${result.imported.skipped} skipped`
        )
      }
      if (result.synthetic > 0) yield* Console.log(`Added ${result.synthetic} synthetic users`)
      yield* Console.log(`Users in database: ${result.total}`)
    }).pipe(Effect.provide(Layer.merge(database({ create: true, anyTable: true }), ProgressBars.layerTerminal))))).pipe(
    Command.withDescription(
      "Create or migrate the database and import users (idempotent). Prints what it did, a line each: the " +
        "schema, the import, the synthetic users, the number of users"
    )
  )

/** Rows per read for `users`: large enough to cost little more than one read, small enough to stop at once. */
const usersPageSize = 8192

const usersCommand = Command.make("users", {
  olderThan: wholeNumberOption("older-than").pipe(
    Options.withDescription("Only users strictly older than N (0..150)"),
    Options.optional
  ),
  limit: wholeNumberOption("limit").pipe(Options.withDescription("At most N rows"), Options.optional),
  json: jsonRows
}, ({ json, limit, olderThan }) =>
  Effect.gen(function*() {
    const max = yield* nonNegative("limit", limit)
    // Keyset pages rather than one read of the whole table: Ctrl-C gets in between pages.
    const users = streamUsersWhere({
      olderThan: Option.getOrUndefined(olderThan),
      pageSize: Math.max(1, Math.min(max ?? usersPageSize, usersPageSize))
    })
    const read = yield* Stream.runCollect(max === undefined ? users : Stream.take(users, max)).pipe(
      Effect.catchTag("InvalidAge", (error) => Effect.fail(new UsageError({ reason: `--older-than: ${error.reason}` })))
    )
    yield* print(Chunk.toReadonlyArray(read), json)
  }).pipe(Effect.provide(database({})))).pipe(
    Command.withDescription(
      "List users in id order, optionally only those older than an age. Prints a table; with --json, one JSON " +
        "array of user objects"
    )
  )

/** `--param` values that read as numbers are bound as numbers (`25`, `-3`, `1.5`); anything else as text. */
const bindParam = (text: string): string | number => {
  const n = Number(text)
  return text.trim() !== "" && Number.isFinite(n) && String(n) === text ? n : text
}

const queryCommand = Command.make("query", {
  sql: Args.text({ name: "sql" }).pipe(Args.withDescription("One SQL statement, with ? placeholders")),
  params: Options.text("param").pipe(
    Options.withDescription("A value for the next ? placeholder (repeatable)"),
    Options.repeated
  ),
  write: Options.boolean("write").pipe(Options.withDescription("Allow the statement to change the database")),
  cacheDemo: Options.boolean("cache-demo").pipe(
    Options.withDescription(
      "Run the query twice through cacheQuery: the second answer comes from the cache (timings on stderr)"
    )
  ),
  json: jsonRows
}, ({ cacheDemo, json, params, sql, write }) =>
  Effect.gen(function*() {
    const values = params.map(bindParam)
    if (!cacheDemo) return yield* print(yield* executeQuery(sql, values, { write }), json)
    if (write) return yield* new UsageError({ reason: "--cache-demo caches reads: it cannot be used with --write" })
    const cached = executeQuery(sql, values).pipe(cacheQuery({ key: [sql, values] }))
    const first = yield* timedMillis(cached)
    const second = yield* timedMillis(cached)
    yield* print(second.value, json)
    const stats = yield* CacheQuery.stats
    yield* Console.error([
      `first run:  ${ms(first.millis)}  ran the query (cache miss)`,
      `second run: ${ms(second.millis)}  served from the cache (hit): the same ${
        second.value.length === 1 ? "1 row" : `${second.value.length} rows`
      }`,
      `cache: ${stats.hits} hit, ${stats.misses} miss; a write through dbscope to a table read here would drop it`
    ].join("\n"))
  }).pipe(Effect.provide(CacheQuery.layer().pipe(Layer.provideMerge(database({ anyTable: true })))))).pipe(
    Command.withDescription(
      "Run one parameterized SQL statement (read-only unless --write). Prints its rows as a table; with --json, " +
        "one JSON array of row objects"
    )
  )

const countCommand = Command.make("count", {}, () =>
  Effect.gen(function*() {
    const repo = yield* UserRepo
    yield* Console.log(String(yield* repo.count))
  }).pipe(Effect.provide(database({})))).pipe(
    Command.withDescription("Print the number of users: one line, the number")
  )

const concurrentCommand = Command.make("concurrent", {
  olderThan: wholeNumberOption("older-than").pipe(
    Options.withDescription("Age for the second query (0..150)"),
    Options.withDefault(40)
  ),
  sequential: sequentialOption,
  json: jsonOption("one JSON object, {\"allUsers\": [users], \"olderUsers\": [users]}, instead of the report")
}, ({ json, olderThan, sequential }) =>
  Effect.gen(function*() {
    const result = yield* fetchUsers(olderThan, { concurrent: !sequential }).pipe(
      Effect.catchTag("InvalidAge", (error) => Effect.fail(new UsageError({ reason: `--older-than: ${error.reason}` })))
    )
    if (json) {
      return yield* Console.log(
        `{"allUsers":${Output.json(result.allUsers.value)},"olderUsers":${Output.json(result.olderUsers.value)}}`
      )
    }
    const rows = (n: number) => `${n.toLocaleString("en-US")} rows`.padStart(16)
    yield* Console.log([
      `Fetched ${yield* poolDescription(sequential)}:`,
      `  all users               ${rows(result.allUsers.value.length)} ${ms(result.allUsers.millis)}`,
      `  users older than ${String(olderThan).padEnd(6)} ${rows(result.olderUsers.value.length)} ${
        ms(result.olderUsers.millis)
      }`,
      `  total                   ${"".padStart(16)} ${ms(result.millis)}`
    ].join("\n"))
  }).pipe(Effect.provide(readDatabase(sequential)))).pipe(
    Command.withDescription(
      "The seed's gather: all users and users older than N, fetched concurrently. Prints each query's rows " +
        "and time; with --json, one JSON object with both lists of users"
    )
  )

/** The longest stretch of Effect work between two event-loop turns while serving (ms). */
const serveBudget = 1

const serveCommand = Command.make("serve", {
  port: wholeNumberOption("port").pipe(
    Options.withDescription("TCP port to listen on (0 picks a free one)"),
    Options.withDefault(8080)
  ),
  host: Options.text("host").pipe(
    Options.withDescription("Address to listen on; other than 127.0.0.1, localhost or ::1 needs $DBSCOPE_API_TOKEN"),
    Options.withDefault("127.0.0.1")
  ),
  publicReads: Options.boolean("public-reads").pipe(
    Options.withDescription("With $DBSCOPE_API_TOKEN: reads without the token (writes still need it)")
  ),
  corsOrigins: Options.text("cors-origin").pipe(
    Options.withDescription("An origin (https://app.example.com) whose pages may call the API; repeat for more"),
    Options.repeated
  ),
  shutdownTimeout: wholeNumberOption("shutdown-timeout").pipe(
    Options.withDescription("On Ctrl-C or SIGTERM, seconds requests in flight get to finish (default 10)"),
    Options.withDefault(10)
  ),
  dashboardCache: wholeNumberOption("dashboard-cache").pipe(
    Options.withDescription("Seconds the dashboard's figures are cached unless a write drops them (0: no cache)"),
    Options.withDefault(60)
  ),
  sequential: Options.boolean("sequential").pipe(
    Options.withDescription("Serve on one connection, without reader workers (to compare)")
  )
}, ({ corsOrigins, dashboardCache, host, port, publicReads, sequential, shutdownTimeout }) =>
  Effect.gen(function*() {
    if (port < 0 || port > 65535) return yield* new UsageError({ reason: `--port must be 0 to 65535, got ${port}` })
    if (shutdownTimeout < 0 || shutdownTimeout > 3600) {
      return yield* new UsageError({ reason: `--shutdown-timeout must be 0 to 3600 seconds, got ${shutdownTimeout}` })
    }
    if (dashboardCache < 0 || dashboardCache > 86400) {
      return yield* new UsageError({ reason: `--dashboard-cache must be 0 to 86400 seconds, got ${dashboardCache}` })
    }
    // Loaded only here: the HTTP API and its docs would slow every other command's start-up.
    const AccessRules = yield* Effect.promise(() => import("../serve/AccessRules.js"))
    const token = yield* Config.option(Config.redacted("DBSCOPE_API_TOKEN")).pipe(
      Effect.map(Option.filter((secret) => Redacted.value(secret) !== "")),
      Effect.orElseSucceed(() => Option.none<Redacted.Redacted<string>>())
    )
    if (Option.isSome(token) && Redacted.value(token.value).length < AccessRules.minTokenLength) {
      return yield* new UsageError({
        reason:
          `DBSCOPE_API_TOKEN must be at least ${AccessRules.minTokenLength} characters (e.g. openssl rand -hex 24)`
      })
    }
    if (Option.isNone(token) && !AccessRules.isLoopback(host)) {
      return yield* new UsageError({
        reason: `--host ${host} would serve beyond this machine: set DBSCOPE_API_TOKEN, or use 127.0.0.1`
      })
    }
    const badOrigin = corsOrigins.find((origin) => !AccessRules.isOrigin(origin))
    if (badOrigin !== undefined) {
      return yield* new UsageError({
        reason: `--cors-origin must be an origin like https://app.example.com, got '${badOrigin.slice(0, 80)}'`
      })
    }
    const Server = yield* Effect.promise(() => import("../serve/Server.js"))
    const HttpServer = yield* Effect.promise(() => import("@effect/platform/HttpServer"))
    // The database opens only once the options are known to be good.
    yield* Effect.scoped(Effect.gen(function*() {
      const context = yield* Layer.build(
        Server.layer({
          host,
          port,
          shutdownTimeout: Duration.seconds(shutdownTimeout),
          dashboardCache: Duration.seconds(dashboardCache),
          token,
          publicReads,
          corsOrigins
        })
      )
      const address = Context.get(context, HttpServer.HttpServer).address
      const shown = address._tag === "TcpAddress"
        ? `http://${address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname}:${address.port}`
        : "a socket"
      yield* Console.log(`dbscope serve: listening on ${shown} (API: ${shown}/api, docs: ${shown}/api/docs)`)
      yield* SignalStop.stopsGracefully(
        `dbscope serve: stopping (requests in flight get ${shutdownTimeout} s to finish; again to quit at once)`
      )
      return yield* Effect.never
    })).pipe(
      Effect.provide(readDatabase(sequential)),
      // Requests take turns every millisecond: with the CLI's 10 ms, one request's Effect work (a
      // page of the export) kept the others waiting, and a lookup's p99 was twice as long.
      Effect.withScheduler(EventLoopScheduler.make(serveBudget))
    )
  })).pipe(
    Command.withDescription(
      "Serve the users over HTTP: a JSON API (keyset pages, lookups, writes, a streamed export, the " +
        "dashboard), its OpenAPI document and docs. Runs until interrupted"
    )
  )

const dashboardCommand = Command.make("dashboard", {
  sequential: sequentialOption,
  json: jsonOption("one JSON object (summary, ageBands, usersOver40, topDomains, millis) instead of the report")
}, ({
  json,
  sequential
}) =>
  Effect.gen(function*() {
    const report = yield* (yield* Dashboard).report({ concurrent: !sequential })
    if (json) return yield* Console.log(Output.json([report]).slice(1, -1))
    const { summary } = report
    yield* Console.log([
      `Users: ${summary.users}   average age: ${summary.average_age?.toFixed(3) ?? "-"}   youngest: ${
        summary.youngest ?? "-"
      }   oldest: ${summary.oldest ?? "-"}   older than 40: ${report.usersOver40}`,
      `Age bands: ${report.ageBands.map((band) => `${band.band}-${band.band + 9}: ${band.users}`).join("  ")}`,
      `Top e-mail domains: ${report.topDomains.map((domain) => `${domain.domain} ${domain.users}`).join(", ")}`,
      `4 queries ${yield* poolDescription(sequential)}: ${report.millis.toFixed(1)} ms`
    ].join("\n"))
  }).pipe(Effect.provide(readDatabase(sequential)))).pipe(
    Command.withDescription(
      "Four aggregate queries (age bands, average age, over 40, top domains) at once. Prints a four-line " +
        "report; with --json, one JSON object"
    )
  )

/** `--page-size` / `--batch-size` values: integers 1..100000, checked before any query runs. */
const sizeOption = (name: string) =>
  wholeNumberOption(name).pipe(Options.withDescription(`Rows per ${name.split("-")[0]} (1..${maxPageSize})`))

/** Page and batch sizes are command-line values: a bad one is a usage error (exit 2). */
const streamUsage = <A, E, R>(stream: Stream.Stream<A, E, R>) =>
  Stream.mapError(
    stream,
    (error) => error instanceof InvalidPageSize ? new UsageError({ reason: error.message }) : error
  )

const userLine = (user: User) =>
  `${String(user.user_id).padStart(7)}  ${user.name.padEnd(32).slice(0, 32)}  ${user.email.padEnd(40).slice(0, 40)}  ${
    String(user.age).padStart(3)
  }`

const streamCommand = Command.make("stream", {
  limit: wholeNumberOption("limit").pipe(Options.withDescription("Stop after N users"), Options.optional),
  json: jsonOption("JSON Lines, one user object per line, instead of the text lines")
}, ({ json, limit }) =>
  Effect.gen(function*() {
    const max = yield* nonNegative("limit", limit)
    const users = max === undefined ? streamUsers() : Stream.take(streamUsers(), max)
    yield* users.pipe(Stream.runForEach((user) => Console.log(json ? JSON.stringify(user) : userLine(user))))
  }).pipe(Effect.provide(database({})))).pipe(
    Command.withDescription(
      "Stream every user, one at a time, in constant memory (the seed's stream_users). Prints a line per " +
        "user; with --json, JSON Lines: one user object per line"
    )
  )

const batchesCommand = Command.make("batches", {
  batchSize: sizeOption("batch-size"),
  olderThan: wholeNumberOption("older-than").pipe(
    Options.withDescription("Keep users strictly older than N (0..150)"),
    Options.withDefault(25)
  ),
  json: jsonOption("JSON Lines, one kept user object per line (no batch lines, no total)")
}, ({ batchSize, json, olderThan }) =>
  Effect.gen(function*() {
    if (!Number.isSafeInteger(olderThan) || olderThan < 0 || olderThan > 150) {
      return yield* new UsageError({
        reason: `--older-than: age must be an integer between 0 and 150, got ${olderThan}`
      })
    }
    let index = 0
    let kept = 0
    yield* streamUsage(streamUsersInBatches(batchSize)).pipe(Stream.runForEach((batch) => {
      const older = keepOlderThan(olderThan)(batch)
      index++
      kept += Chunk.size(older)
      return json
        ? Effect.forEach(older, (user) => Console.log(JSON.stringify(user)), { discard: true })
        : Console.log(`batch ${index}: ${Chunk.size(batch)} users, ${Chunk.size(older)} older than ${olderThan}`)
    }))
    if (!json) {
      yield* Console.log(
        `${counted(index, "batch", "batches")}, ${counted(kept, "user", "users")} older than ${olderThan}`
      )
    }
  }).pipe(Effect.provide(database({})))).pipe(
    Command.withDescription(
      "Process users in batches, keeping those older than N (the seed's batch_processing). Prints a line per " +
        "batch and a total; with --json, JSON Lines: one kept user object per line"
    )
  )

const paginateCommand = Command.make("paginate", {
  pageSize: sizeOption("page-size"),
  json: jsonOption("JSON Lines, one JSON array of user objects per page (no total)")
}, ({ json, pageSize }) =>
  Effect.gen(function*() {
    let pages = 0
    yield* streamUsage(lazyPaginate(pageSize)).pipe(Stream.runForEach((users) => {
      pages++
      const first = users[0]?.user_id
      const last = users.at(-1)?.user_id
      return Console.log(json ? JSON.stringify(users) : `page ${pages}: ${users.length} users (ids ${first}..${last})`)
    }))
    if (!json) yield* Console.log(counted(pages, "page", "pages"))
  }).pipe(Effect.provide(database({})))).pipe(
    Command.withDescription(
      "Walk all users page by page, fetching each page only when needed (lazy_paginate). Prints a line per " +
        "page and a total; with --json, JSON Lines: one JSON array of user objects per page"
    )
  )

const averageAgeCommand = Command.make("average-age", {
  json: jsonOption("one JSON object, {\"averageAge\": number}, instead of the line")
}, ({ json }) =>
  Effect.gen(function*() {
    const average = yield* averageAge()
    yield* Console.log(json ? JSON.stringify({ averageAge: average }) : `Average age of users: ${average.toFixed(3)}`)
  }).pipe(Effect.provide(database({})))).pipe(
    Command.withDescription(
      "The average age, folded over a stream of ages (no SQL AVG, no table in memory). Prints one line, " +
        "\"Average age of users: N\"; with --json, one JSON object"
    )
  )

const demoCommand = Command.make("demo", {}, () =>
  Effect.gen(function*() {
    const chosen = yield* backend
    if (chosen._tag !== "Sqlite") {
      return yield* new UsageError({ reason: "demo runs on the embedded SQLite database: drop --url / DATABASE_URL" })
    }
    const resolved = yield* Database.resolve({ backend: chosen, readers: false })
    if (resolved._tag === "Sqlite") {
      const { runDemo } = yield* Effect.promise(() => import("./Demo.js"))
      yield* runDemo(resolved.options)
    }
  })).pipe(Command.withDescription(
    "Walk through the exercises dbscope re-implements, on a temporary copy of the database (created from the " +
      "bundled sample when missing). Prints their output; log lines go to stderr"
  ))

/** A subcommand that honours the global options. */
const global = <Name extends string, R, E, A>(subcommand: Command.Command<Name, R, E, A>) =>
  Command.transformHandler(subcommand, withGlobalOptions)

/** The whole command tree; every subcommand honours the global options. */
export const command = dbscope.pipe(
  Command.withSubcommands([
    global(setupCommand),
    global(usersCommand),
    global(queryCommand),
    global(countCommand),
    global(concurrentCommand),
    global(dashboardCommand),
    global(serveCommand),
    global(streamCommand),
    global(batchesCommand),
    global(paginateCommand),
    global(averageAgeCommand),
    global(demoCommand),
    global(benchCommand)
  ])
)

/** The option names in `usage` that take a value (`--db file`), and those that do not (`--trace`). */
const optionNames = (usage: Usage.Usage): { readonly values: Array<string>; readonly flags: Array<string> } => {
  switch (usage._tag) {
    case "Named": {
      const names = usage.names.filter((name) => name.startsWith("-"))
      return usage.acceptedValues._tag === "Some" ? { values: names, flags: [] } : { values: [], flags: names }
    }
    case "Optional":
    case "Repeated":
      return optionNames(usage.usage)
    case "Alternation":
    case "Concat": {
      const left = optionNames(usage.left)
      const right = optionNames(usage.right)
      return { values: [...left.values, ...right.values], flags: [...left.flags, ...right.flags] }
    }
    default:
      return { values: [], flags: [] }
  }
}

/** The command tree as the argument normaliser needs it: which options take a value, where. */
const grammar: GlobalOptions.Grammar = (() => {
  const root = optionNames(Command.getUsage(dbscope))
  return {
    globalValues: new Set(root.values),
    globalFlags: new Set(root.flags),
    subcommands: new Map(
      Array.from(Command.getSubcommands(command), ([name, descriptor]) => [
        name,
        new Set(optionNames(Descriptor.getUsage(descriptor)).values)
      ])
    )
  }
})()

/** Colours in the help only on a terminal, and never with `NO_COLOR` set (whatever its value). */
const colourWanted = Effect.zipWith(
  Config.option(Config.string("NO_COLOR")),
  Effect.sync(() => process.stdout.isTTY === true),
  (noColor, terminal) => terminal && noColor._tag === "None"
).pipe(Effect.orElseSucceed(() => false))

const app = Command.run(command, { name: "dbscope", version: "0.1.0" })

/**
 * Parses `argv` (as `process.argv`) and runs the chosen command. Global options may stand anywhere
 * (`GlobalOptions`); a command line that cannot be parsed fails with a `UsageError` of one line.
 */
export const run = (argv: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const normalized = GlobalOptions.normalize(grammar, argv.slice(2))
    if (Either.isLeft(normalized)) return yield* new UsageError({ reason: normalized.left })
    const console = ParserConsole.make(yield* Effect.console, yield* colourWanted)
    return yield* Effect.withConsole(app([...argv.slice(0, 2), ...normalized.right]), console)
  }).pipe(
    Effect.catchIf(
      ValidationError.isValidationError,
      (error) => Effect.fail(new UsageError({ reason: ParserConsole.oneLine(error) }))
    )
  )
