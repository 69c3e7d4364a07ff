/**
 * Where the files shipped with dbscope live (the sample CSV, the compiled reader workers, the
 * benchmark suites), found from this module's own location so that it works from the sources
 * (tests), from the compiled `dist/src/`, from the bundled CLI in `dist/bin/`, and from an
 * installation under someone else's `node_modules/dbscope/` alike.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

/** Whether `dir` holds dbscope's own package.json (not that of a project dbscope is installed in). */
const isPackageRoot = (dir: string): boolean => {
  try {
    const manifest: unknown = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"))
    return typeof manifest === "object" && manifest !== null && "name" in manifest && manifest.name === "dbscope"
  } catch {
    return false
  }
}

const packageRoot = ((): string => {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  while (!isPackageRoot(dir)) {
    const parent = path.dirname(dir)
    if (parent === dir) throw new Error("dbscope: package root not found")
    dir = parent
  }
  return dir
})()

/** The compiled reader-worker entry (workers need JavaScript, so tests use the build too). */
export const readerWorkerScript: string = path.join(packageRoot, "dist", "src", "readers", "ReaderWorker.js")

/** The compiled MySQL reader-worker entry. */
export const mysqlReaderWorkerScript: string = path.join(packageRoot, "dist", "src", "readers", "MysqlReaderWorker.js")

/** The compiled PostgreSQL reader-worker entry. */
export const postgresReaderWorkerScript: string = path.join(
  packageRoot,
  "dist",
  "src",
  "readers",
  "PostgresReaderWorker.js"
)

/** The sample users shipped with dbscope (1000 rows: name, email, age). */
export const sampleCsv: string = path.join(packageRoot, "data", "user_data.csv")

/** The compiled entry of one benchmark suite's process (`dbscope bench` runs each suite in a process of its own). */
export const benchSuiteScript: string = path.join(packageRoot, "dist", "src", "bench", "SuiteMain.js")

/** The raw `node:http` + better-sqlite3 server that the `serve` suite measures `dbscope serve` against. */
export const benchRawUsersServer: string = path.join(packageRoot, "dist", "src", "bench", "RawUsersServer.js")

/** The bare `@effect/platform` HTTP server (no `HttpApi`, no middleware) that the `serve` suite also measures it against. */
export const benchEffectUsersServer: string = path.join(packageRoot, "dist", "src", "bench", "EffectUsersServer.js")

/** The `dbscope` executable (the bundled CLI's launcher), which the seed suite runs as a whole process. */
export const cliScript: string = path.join(packageRoot, "dist", "bin", "dbscope.js")
