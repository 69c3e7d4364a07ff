/**
 * The `setup` use case: bring the schema up to date, then import a CSV and/or add synthetic users.
 */
import * as Effect from "effect/Effect"
import { importCsv, type ImportResult } from "./CsvImport.js"
import * as Migrations from "./Migrations.js"
import { addSynthetic } from "./SyntheticUsers.js"
import { UserRepo } from "./UserRepo.js"

export interface SetupOptions {
  /** CSV file to import; none means no import. */
  readonly csv?: string | undefined
  /** Delete existing users first (inside the import's transaction, or the synthetic users' when there is no CSV). */
  readonly reset?: boolean | undefined
  /** How many synthetic users to add. */
  readonly synthetic?: number | undefined
}

export interface SetupResult {
  readonly migrations: ReadonlyArray<readonly [id: number, name: string]>
  /** A `users` table of dbscope's shape, made before the migration history recorded it, was adopted. */
  readonly adopted: boolean
  readonly imported: ImportResult | undefined
  readonly synthetic: number
  readonly total: number
}

/** Migrates, imports and generates, as asked; each step is its own all-or-nothing transaction. */
export const setup = (options: SetupOptions) =>
  Effect.gen(function*() {
    const { adopted, applied: migrations } = yield* Migrations.migrate
    const imported = options.csv === undefined ? undefined : yield* importCsv(options.csv, { reset: options.reset })
    const synthetic = options.synthetic === undefined
      ? 0
      : yield* addSynthetic(options.synthetic, { reset: options.reset === true && options.csv === undefined })
    const total = yield* (yield* UserRepo).count
    return { migrations, adopted, imported, synthetic, total } satisfies SetupResult
  }).pipe(Effect.withSpan("Setup.setup"))
