/**
 * The examples' stand-in for your own `users.db`: a fresh SQLite file in a temp folder, loaded with
 * the 1000 sample users dbscope ships, and deleted when the scope that made it closes. Every example
 * starts from the same data, so it prints the same numbers on every run.
 */
import { Progress, setup, SqliteDatabase, UserRepo } from "dbscope"
import { sampleCsv } from "dbscope/testing"
import { Effect, Layer, Logger, LogLevel } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

/** A temp folder that lives as long as the current scope. */
const tempFolder = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "dbscope-example-"))),
  (folder) => Effect.sync(() => fs.rmSync(folder, { recursive: true, force: true }))
)

/** The path of a migrated database holding the 1000 sample users; removed when the scope closes. */
export const sampleDatabase = Effect.gen(function*() {
  const filename = path.join(yield* tempFolder, "users.db")
  // `setup` is what `dbscope setup` runs: migrate, then import the CSV in one transaction.
  yield* setup({ csv: sampleCsv }).pipe(
    Effect.provide(Layer.mergeAll(
      UserRepo.Default.pipe(Layer.provideMerge(SqliteDatabase.layer({ filename }))),
      Progress.layerSilent
    )),
    // This connection's open/close lines would only be noise before the example's own.
    Logger.withMinimumLogLevel(LogLevel.Warning)
  )
  return filename
})
