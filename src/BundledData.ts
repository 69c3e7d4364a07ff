/**
 * Where the files shipped with dbscope live (the sample CSV, the compiled reader worker), found from this module's own location
 * so that it works from the sources (tests) and from the compiled `dist/` (the CLI) alike.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const packageRoot = (): string => {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  while (!fs.existsSync(path.join(dir, "package.json"))) {
    const parent = path.dirname(dir)
    if (parent === dir) throw new Error("dbscope: package root not found")
    dir = parent
  }
  return dir
}

/** The compiled reader-worker entry (workers need JavaScript, so tests use the build too). */
export const readerWorkerScript: string = path.join(packageRoot(), "dist", "src", "readers", "ReaderWorker.js")

/** The compiled MySQL reader-worker entry. */
export const mysqlReaderWorkerScript: string = path.join(
  packageRoot(),
  "dist",
  "src",
  "readers",
  "MysqlReaderWorker.js"
)

/** The sample users shipped with dbscope (1000 rows: name, email, age). */
export const sampleCsv: string = path.join(packageRoot(), "data", "user_data.csv")

/** The compiled entry of one benchmark suite's process (`dbscope bench` runs each suite in a process of its own). */
export const benchSuiteScript: string = path.join(packageRoot(), "dist", "src", "bench", "SuiteMain.js")
