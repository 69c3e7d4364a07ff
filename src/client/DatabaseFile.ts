/**
 * Checks and prepares a SQLite database file before a connection opens it, so that the driver's
 * constructor (whose failures are defects) only ever sees a path that is known to be usable.
 */
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { DatabaseFileError } from "./DatabaseError.js"

const sqliteHeader = Buffer.from("SQLite format 3\0", "latin1")

/** Whether a missing file may be created (setup, demo) or must already exist (every other command). */
export interface PrepareOptions {
  readonly create: boolean
  readonly readonly: boolean
}

const errnoCode = (cause: unknown): string =>
  typeof cause === "object" && cause !== null && "code" in cause ? String(cause.code) : ""

const isPermissionDenied = (cause: unknown) => ["EACCES", "EPERM"].includes(errnoCode(cause))

const errnoReason = (cause: unknown): string => {
  if (isPermissionDenied(cause)) return "permission denied"
  const code = errnoCode(cause)
  switch (code) {
    case "ENOTDIR":
      return "a parent of the path is not a directory"
    case "EROFS":
      return "the file system is read-only"
    case "ENOSPC":
      return "the disk is full"
    default:
      return `cannot access the file (${code || "unknown error"})`
  }
}

/** Whether this user may write `file`; other failures (a read-only file system) are thrown. */
const writable = (file: string): boolean => {
  try {
    fs.accessSync(file, fs.constants.W_OK)
    return true
  } catch (cause) {
    if (isPermissionDenied(cause)) return false
    throw cause
  }
}

const readHeader = (file: string): Buffer => {
  const fd = fs.openSync(file, "r")
  try {
    const buffer = Buffer.alloc(sqliteHeader.length)
    const read = fs.readSync(fd, buffer, 0, buffer.length, 0)
    return buffer.subarray(0, read)
  } finally {
    fs.closeSync(fd)
  }
}

const checkExisting = (file: string, shown: string, options: PrepareOptions): DatabaseFileError | undefined => {
  const stat = fs.statSync(file)
  if (stat.isDirectory()) return new DatabaseFileError({ path: shown, reason: "it is a directory, not a file" })
  if (!stat.isFile()) return new DatabaseFileError({ path: shown, reason: "it is not a regular file" })
  fs.accessSync(file, fs.constants.R_OK)
  if (!options.readonly && !writable(file)) {
    return new DatabaseFileError({ path: shown, reason: "the file is read-only for this user" })
  }
  if (stat.size === 0) {
    // `setup` makes an empty file a database; anything else would change it just by opening it.
    return options.create
      ? undefined
      : new DatabaseFileError({ path: shown, reason: "the file is empty (`dbscope setup` creates the database in it)" })
  }
  const header = readHeader(file)
  if (!header.equals(sqliteHeader)) {
    return new DatabaseFileError({ path: shown, reason: "the file is not a SQLite database" })
  }
  return undefined
}

/**
 * A database holds personal data: dbscope creates files only its user can read (0600). An existing
 * file that other users may read or write still opens, with a one-line warning saying how to fix it.
 */
const warnIfShared = (file: string, shown: string) =>
  Effect.suspend(() => {
    const mode = fs.statSync(file).mode & 0o777
    if ((mode & 0o077) === 0) return Effect.void
    const access = (mode & 0o022) !== 0 ? "read and written" : "read"
    return Effect.logWarning(
      `database file ${shown} can be ${access} by other users (mode ${mode.toString(8).padStart(4, "0")}); ` +
        `\`chmod 600 ${shown}\` makes it private`
    )
  }).pipe(Effect.catchAllDefect(() => Effect.void))

/**
 * Resolves `filename`, creates its folder and (when allowed) an empty file with mode 0600, and
 * verifies that an existing file is a SQLite database the process may open. Returns the absolute path.
 */
export const prepare = (filename: string, options: PrepareOptions): Effect.Effect<string, DatabaseFileError> =>
  Effect.suspend(() => {
    const file = path.resolve(filename)
    const attempt = <A>(f: () => A) =>
      Effect.try({
        try: f,
        catch: (cause) => new DatabaseFileError({ path: filename, reason: errnoReason(cause), cause })
      })
    return attempt(() => fs.existsSync(file)).pipe(
      Effect.flatMap((exists) => {
        if (exists) {
          return attempt(() => checkExisting(file, filename, options)).pipe(
            Effect.flatMap((problem) => problem === undefined ? Effect.succeed(file) : Effect.fail(problem)),
            Effect.tap(() => warnIfShared(file, filename))
          )
        }
        if (!options.create) {
          return Effect.fail(
            new DatabaseFileError({ path: filename, reason: "no such file (create it with `dbscope setup`)" })
          )
        }
        return attempt(() => {
          fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
          fs.closeSync(fs.openSync(file, "wx", 0o600))
          return file
        })
      })
    )
  })
