/**
 * The databases the suites measure on, all built through the library (migrations, `addSynthetic`,
 * `setup`), so that no suite keeps its own copy of the schema; raw better-sqlite3 connections with
 * the pragmas dbscope sets, for the baselines; and the `users` columns as the `User` schema lists them.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import Sqlite from "better-sqlite3"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as fs from "node:fs"
import * as path from "node:path"
import type { PreparedQueries } from "../client/PreparedQueries.js"
import * as SqliteDatabase from "../client/SqliteDatabase.js"
import * as Migrations from "../users/Migrations.js"
import * as Progress from "../users/Progress.js"
import { addSynthetic } from "../users/SyntheticUsers.js"
import { NewUser, User } from "../users/User.js"
import { UserRepo } from "../users/UserRepo.js"
import { timed } from "./Measure.js"
import { int } from "./SuiteText.js"

/** Every column of `users`, in the `User` schema's order: what a raw baseline selects. */
export const columns = Object.keys(User.fields).join(", ")
/** The columns a writer supplies (`NewUser`): what a raw baseline inserts. */
export const insertColumns = Object.keys(NewUser.fields)
/** The point lookup, as `UserRepo.byId` prepares it and as a templated `sql` lookup compiles. */
export const byIdSql = `SELECT ${columns} FROM users WHERE user_id = ?`

/** A better-sqlite3 connection with the pragmas `SqliteDatabase` sets. */
export const openRaw = (file: string): Sqlite.Database => {
  const db = new Sqlite(file)
  db.pragma("journal_mode = WAL")
  db.pragma("synchronous = NORMAL")
  db.pragma("foreign_keys = ON")
  return db
}

export const withRaw = <A>(file: string, f: (db: Sqlite.Database) => A): A => {
  const db = openRaw(file)
  try {
    return f(db)
  } finally {
    db.close()
  }
}

/** A raw connection for the current scope. */
export const scopedRaw = (file: string): Effect.Effect<Sqlite.Database, never, Scope.Scope> =>
  Effect.acquireRelease(Effect.sync(() => openRaw(file)), (db) => Effect.sync(() => db.close()))

/** The dbscope stack the CLI builds: repository over a connection layer, silent progress. */
export const usersLayer = <ROut, E>(database: Layer.Layer<ROut | SqlClient.SqlClient | PreparedQueries, E>) =>
  Layer.mergeAll(UserRepo.Default, Progress.layerSilent).pipe(Layer.provideMerge(database))

/** The dbscope stack on a SQLite file. */
export const dbscopeLayer = (filename: string) => usersLayer(SqliteDatabase.layer({ filename }))

/** The schema, brought up to date by dbscope's migrations on a SQLite file (for a raw baseline to fill). */
export const migrate = (file: string) => Effect.provide(Migrations.run, dbscopeLayer(file))

/** Migrations, then `addSynthetic(rows)`, timed, on whichever database is provided (the users a suite reads). */
export const loadUsers = (rows: number) =>
  Effect.zipRight(
    Console.error(`  building ${int(rows)} synthetic users`),
    timed(Effect.zipRight(Migrations.run, addSynthetic(rows)), (n) => n)
  )

/** `users.db` in `dir`, loaded by `loadUsers`. */
export const buildUsers = (dir: string, rows: number) =>
  Effect.gen(function*() {
    const file = path.join(dir, "users.db")
    const built = yield* loadUsers(rows).pipe(Effect.provide(dbscopeLayer(file)))
    return { file, built }
  })

export const removeDatabase = (file: string) => {
  for (const suffix of ["", "-wal", "-shm", "-journal"]) fs.rmSync(file + suffix, { force: true })
}

/** What two imports must agree on to count as the same rows. */
export const fingerprint = (file: string) =>
  withRaw(file, (db) =>
    JSON.stringify(
      db.prepare("SELECT count(*) AS n, sum(age) AS ages, max(email) AS email, total(length(name)) AS names FROM users")
        .get()
    ))

export const fileSize = (db: Sqlite.Database) =>
  Number(db.pragma("page_count", { simple: true })) * Number(db.pragma("page_size", { simple: true }))

/** A running sum of ages: what the streaming contenders and probes compute, so that they can be checked alike. */
export interface AgeTotal {
  readonly sum: number
  readonly count: number
}

export const addAge = (total: AgeTotal, age: number): AgeTotal => ({ sum: total.sum + age, count: total.count + 1 })
export const noAges: AgeTotal = { sum: 0, count: 0 }
