/**
 * Which command lines will read on SQLite reader workers, guessed from the raw arguments before the
 * CLI has loaded: `concurrent`, `dashboard` (without `--sequential`) or `serve`, on a SQLite file. The
 * launcher starts that many workers at once (see `readers/Prestart`), so that their ~0.1 s of boot
 * overlaps the CLI's own loading. A wrong guess costs a thread that boots and is never used.
 */
import { defaultPoolSize } from "../readers/Prestart.js"

const readingCommands = new Set(["concurrent", "dashboard", "serve"])
const notRunning = new Set(["--sequential", "--help", "-h", "--wizard", "--version", "--completions"])

/** How many reader workers the command line will start (the pool's size), or 0 if it will not. */
export const readerCount = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv): number => {
  if (!args.some((arg) => readingCommands.has(arg)) || args.some((arg) => notRunning.has(arg))) return 0
  // MySQL (`--url`, or DATABASE_URL unless `--db` says otherwise) has readers of its own kind.
  const db = args.some((arg) => arg === "--db" || arg.startsWith("--db="))
  const url = args.some((arg) => arg === "--url" || arg.startsWith("--url="))
  if (url || (!db && (env["DATABASE_URL"] ?? "") !== "")) return 0
  const size = Number(env["DBSCOPE_READERS"])
  return Number.isSafeInteger(size) && size >= 1 && size <= 64 ? size : defaultPoolSize()
}
