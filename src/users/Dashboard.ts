/**
 * The seed's "analytics dashboards fetch several datasets at once": four aggregate queries with
 * small results, run concurrently. Small results are where a reader pool shines: each query is
 * pure SQLite work on its own core, with almost nothing to send back.
 *
 * Aggregates hide bad values (SQLite's `AVG` reads `'forty'` as 0). The figures already computed
 * show them at no extra pass: every age in a band (0..159, so no NULL, text or negative), none
 * above 150, and, on SQLite, an integer `SUM` (one real or text value makes it a real). Any of
 * them, or a result that does not decode, is explained by the repository's check of the stored
 * users (`InvalidStoredValue`, naming the column). A `CASE` counting bad ages cost ~85 ms of CPU
 * per million rows; these checks cost nothing measurable.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as SqlSchema from "@effect/sql/SqlSchema"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { fromSqlError } from "../client/DatabaseError.js"
import { UserRepo } from "./UserRepo.js"

/** Drivers return counts as numbers or bigints (and MySQL averages as strings): read them as numbers. */
const Count = Schema.Union(Schema.Number, Schema.BigIntFromSelf, Schema.NumberFromString).pipe(
  Schema.transform(Schema.Number, { strict: true, decode: (n) => Number(n), encode: (n) => n })
)

export const AgeBand = Schema.Struct({ band: Count, users: Count })
export const AgeSummary = Schema.Struct({
  users: Count,
  average_age: Schema.NullOr(Count),
  youngest: Schema.NullOr(Count),
  oldest: Schema.NullOr(Count)
})

/** The summary as queried: the average is the sum over the count, and the sum tells whether every age is an integer. */
const SummaryRow = Schema.Struct({
  users: Count,
  age_sum: Schema.NullOr(Count),
  integral: Count,
  youngest: Schema.NullOr(Count),
  oldest: Schema.NullOr(Count)
})
export const Domain = Schema.Struct({ domain: Schema.String, users: Count })

export interface DashboardReport {
  readonly ageBands: ReadonlyArray<typeof AgeBand.Type>
  readonly summary: typeof AgeSummary.Type
  readonly usersOver40: number
  readonly topDomains: ReadonlyArray<typeof Domain.Type>
  /** Wall time of the four queries together, in milliseconds. */
  readonly millis: number
}

/** The four dashboard queries. */
export class Dashboard extends Effect.Service<Dashboard>()("dbscope/Dashboard", {
  dependencies: [UserRepo.Default],
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const repo = yield* UserRepo
    // One pass with a counter per band: `GROUP BY age - age % 10` sorted a million rows and took
    // 60% of the whole dashboard, leaving the other cores idle. Ages are 0..150 (CHECK constraint).
    const bandStarts = Array.from({ length: 16 }, (_, i) => i * 10)
    const bandCounts = sql.literal(
      bandStarts.map((start) => `SUM(CASE WHEN age BETWEEN ${start} AND ${start + 9} THEN 1 ELSE 0 END) AS b${start}`)
        .join(", ")
    )
    const ageBands = SqlSchema.single({
      Request: Schema.Void,
      Result: Schema.Record({ key: Schema.String, value: Schema.NullOr(Count) }),
      execute: () => sql`SELECT ${bandCounts} FROM users`
    })
    // SQLite's sum() is an integer only when every value summed is one (MySQL's INT column holds nothing else).
    const integral = sql.onDialectOrElse({
      mysql: () => sql.literal("1"),
      pg: () => sql.literal("1"),
      orElse: () => sql.literal("typeof(SUM(age)) = 'integer'")
    })
    const summary = SqlSchema.single({
      Request: Schema.Void,
      Result: SummaryRow,
      execute: () =>
        sql`SELECT COUNT(*) AS users, SUM(age) AS age_sum, ${integral} AS integral, MIN(age) AS youngest,
            MAX(age) AS oldest FROM users`
    })
    const over40 = SqlSchema.single({
      Request: Schema.Void,
      Result: Schema.Struct({ users: Count }),
      execute: () => sql`SELECT COUNT(*) AS users FROM users WHERE age > ${40}`
    })
    const domain = sql.onDialectOrElse({
      mysql: () => sql.literal("SUBSTRING_INDEX(email, '@', -1)"),
      pg: () => sql.literal("substr(email, strpos(email, '@') + 1)"),
      orElse: () => sql.literal("substr(email, instr(email, '@') + 1)")
    })
    const topDomains = SqlSchema.findAll({
      Request: Schema.Void,
      Result: Domain,
      execute: () =>
        sql`SELECT ${domain} AS domain, COUNT(*) AS users FROM users GROUP BY ${domain}
            ORDER BY users DESC, domain LIMIT ${5}`
    })

    /** Runs the four queries, concurrently unless `{ concurrent: false }`. */
    const report = Effect.fn("Dashboard.report")(
      function*(options: { readonly concurrent?: boolean } = {}) {
        // Longest first (each is one scan; the band counts and the domains cost about three times the
        // others): on two readers the two long ones start at once and the short ones fill in after,
        // instead of a long one starting last on a reader that was free early.
        const [duration, [bands, domains, ages, over]] = yield* Effect.timed(
          Effect.all([ageBands(), topDomains(), summary(), over40()], {
            concurrency: options.concurrent === false ? 1 : "unbounded"
          })
        ).pipe(Effect.tapErrorTag("ParseError", () => repo.checkStored))
        const banded = bandStarts.reduce((total, band) => total + (bands[`b${band}`] ?? 0), 0)
        if (ages.users > 0 && (banded !== ages.users || (ages.oldest ?? 0) > 150 || ages.integral !== 1)) {
          yield* repo.checkStored
        }
        const summaryAges = {
          users: ages.users,
          average_age: ages.users === 0 ? null : (ages.age_sum ?? 0) / ages.users,
          youngest: ages.youngest,
          oldest: ages.oldest
        }
        return {
          ageBands: bandStarts.flatMap((band) => {
            const users = bands[`b${band}`] ?? 0
            return users > 0 ? [{ band, users }] : []
          }),
          summary: summaryAges,
          usersOver40: over.users,
          topDomains: domains,
          millis: Duration.toMillis(duration)
        } satisfies DashboardReport
      },
      Effect.catchTags({
        SqlError: (error) => Effect.fail(fromSqlError("building the dashboard")(error)),
        ParseError: (error) => Effect.dieMessage(`dashboard row did not decode: ${error.message}`)
      })
    )

    return { report } as const
  })
}) {}
