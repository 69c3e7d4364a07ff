/**
 * Deterministic synthetic users for benchmarks: the same database state and count always give the
 * same rows. Ages follow the sample CSV's distribution; e-mails live in the reserved `.invalid`
 * domain and are numbered above the largest user id, so they never collide with stored rows.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { parse } from "csv-parse/sync"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import { sampleCsv } from "../BundledData.js"
import { fromSqlError } from "../client/DatabaseError.js"
import { Progress } from "./Progress.js"
import type { NewUser } from "./User.js"
import { UserRepo } from "./UserRepo.js"

const firstNames = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Dennis"]
const lastNames = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Hamilton"]
const batchSize = 500

/** A small, fast, seedable PRNG (mulberry32): the same seed gives the same sequence everywhere. */
const mulberry32 = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

let sampleAges: ReadonlyArray<number> | undefined
/** The ages of the bundled sample, read once: synthetic ages are drawn from them. */
const ageDistribution = (): ReadonlyArray<number> => {
  if (sampleAges === undefined) {
    const records: Array<{ readonly age: string }> = parse(fs.readFileSync(sampleCsv), { columns: true, bom: true })
    sampleAges = records.map((record) => Number(record.age))
  }
  return sampleAges
}

/** `count` synthetic users numbered from `firstNumber`; the sequence depends only on `firstNumber`. */
export const generate = (firstNumber: number, count: number): Array<NewUser> => {
  const ages = ageDistribution()
  const random = mulberry32(firstNumber)
  const users: Array<NewUser> = new Array(count)
  for (let i = 0; i < count; i++) {
    const n = firstNumber + i
    users[i] = {
      name: `${firstNames[n % firstNames.length]} ${lastNames[Math.floor(n / firstNames.length) % lastNames.length]}`,
      email: `synthetic-${n}@dbscope.invalid`,
      age: ages[Math.floor(random() * ages.length)] ?? 0
    }
  }
  return users
}

/** The most synthetic users one call adds (a typo of 10^12 once filled 18.8 GB of WAL). */
export const maxSynthetic = 100_000_000

/**
 * Adds `count` synthetic users in one transaction (a crash leaves all or nothing); with `reset`,
 * the users already there are deleted first, in the same transaction. Returns the count.
 */
export const addSynthetic = (count: number, options: { readonly reset?: boolean | undefined } = {}) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const repo = yield* UserRepo
    const progress = yield* Progress
    const load = Effect.scoped(Effect.gen(function*() {
      if (options.reset === true) yield* sql`DELETE FROM users`
      const [max] = yield* sql<{ readonly max_id: number | null }>`SELECT MAX(user_id) AS max_id FROM users`
      const first = Number(max?.max_id ?? 0) + 1
      const bar = yield* progress.start("Generating", count)
      for (let done = 0; done < count; done += batchSize) {
        const size = Math.min(batchSize, count - done)
        yield* repo.insertMany(generate(first + done, size))
        yield* bar.advance(size)
      }
      return count
    }))
    return yield* sql.withTransaction(load).pipe(
      Effect.catchTag("SqlError", (error) => Effect.fail(fromSqlError("adding synthetic users")(error)))
    )
  }).pipe(Effect.withSpan("SyntheticUsers.addSynthetic", { attributes: { count } }))
