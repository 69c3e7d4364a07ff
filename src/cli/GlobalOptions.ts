/**
 * Global options where people type them. @effect/cli reads the root's options (`--db`, `--url`,
 * `--log-queries`, `--trace`) and its built-ins (`--log-level`, `--help`, `--version`) only in some
 * places: `dbscope --db X --help` and `dbscope --db X --log-level info count` were refused as
 * "Invalid subcommand". `normalize` moves them, with their values, to where the parser reads them
 * (`--log-level` first, then the other global options, then the subcommand and its own arguments in
 * the order typed). It knows which options take a value, so a value is never taken for an option or a
 * command (`query "SELECT ?" --param --trace` binds the text `--trace`, `--db count count` opens a
 * file named `count`), and nothing after `--` is touched.
 */
import * as Either from "effect/Either"

/** What `normalize` needs to know about the command line: the options that take a value. */
export interface Grammar {
  /** The root's options that take a value (`--db`, `--url`). */
  readonly globalValues: ReadonlySet<string>
  /** The root's flags (`--log-queries`, `--trace`). */
  readonly globalFlags: ReadonlySet<string>
  /** Each subcommand, with its own options that take a value (`query`: `--param`). */
  readonly subcommands: ReadonlyMap<string, ReadonlySet<string>>
}

/** @effect/cli's built-ins that take a value: read only before the subcommand, `--log-level` first of all. */
const builtInValues = new Set(["--log-level", "--completions"])
const helpNames = new Set(["--help", "-h"])
/** The values the parser accepts for its built-ins; anything else it reported as "Invalid subcommand". */
const choices: ReadonlyMap<string, ReadonlyArray<string>> = new Map([
  ["--log-level", ["all", "trace", "debug", "info", "warning", "error", "fatal", "none"]],
  ["--completions", ["sh", "bash", "fish", "zsh"]]
])

/** The words a flag takes as its value when one follows it (@effect/cli's `true`/`false` spellings). */
const booleanWords = new Set(["true", "1", "y", "yes", "on", "false", "0", "n", "no", "off"])

/** `--name=value` as name and value; option names are matched without regard to case, as the parser does. */
const split = (arg: string): { readonly name: string; readonly inline: string | undefined } => {
  const equals = arg.startsWith("--") ? arg.indexOf("=") : -1
  return equals > 2
    ? { name: arg.slice(0, equals).toLowerCase(), inline: arg.slice(equals + 1) }
    : { name: arg.toLowerCase(), inline: undefined }
}

/**
 * An option and its value as one argument, so that a value spelt like a subcommand (`--db users`) is
 * not where the parser looks for the subcommand; an empty value stays a separate argument.
 */
const joined = (name: string, value: string): ReadonlyArray<string> =>
  value === "" ? [name, value] : [`${name}=${value}`]

/**
 * `args` (the command line after `node dbscope`) with the global options moved to where the parser
 * reads them; `--help` anywhere shows the help of the subcommand typed (or of dbscope), `--version` the
 * version. Fails with a one-line message for an option missing its value, a global option given
 * twice, an unknown log level or an unknown command.
 */
export const normalize = (
  grammar: Grammar,
  args: ReadonlyArray<string>
): Either.Either<ReadonlyArray<string>, string> => {
  const builtIns: Array<string> = []
  const globals: Array<string> = []
  const before: Array<string> = []
  const rest: Array<string> = []
  let subcommand: string | undefined
  let localValues: ReadonlySet<string> = new Set()
  let help = false
  let version = false
  let forced = false
  const seen = new Set<string>()
  const emit = (...tokens: ReadonlyArray<string>) => (subcommand === undefined ? before : rest).push(...tokens)
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? ""
    if (forced) {
      emit(arg)
      continue
    }
    if (arg === "--") {
      forced = true
      emit(arg)
      continue
    }
    const { inline, name } = split(arg)
    const takesValue = builtInValues.has(name) || grammar.globalValues.has(name) || localValues.has(name)
    if (takesValue && inline === undefined && i + 1 >= args.length) return Either.left(`${arg} needs a value`)
    const isGlobal = builtInValues.has(name) || grammar.globalValues.has(name) || grammar.globalFlags.has(name)
    if (isGlobal && seen.has(name)) return Either.left(`${name} was given more than once`)
    if (isGlobal) seen.add(name)
    if (builtInValues.has(name) || grammar.globalValues.has(name)) {
      const value = inline ?? args[++i] ?? ""
      const allowed = choices.get(name)
      if (allowed !== undefined && !allowed.includes(value.toLowerCase())) {
        return Either.left(`${name} takes one of ${allowed.join(", ")}, got '${value}'`)
      }
      // The parser reads these values in lower case only (`--log-level Debug` was "Invalid subcommand").
      const given = allowed === undefined ? value : value.toLowerCase()
      ;(builtInValues.has(name) ? builtIns : globals).push(...joined(name, given))
    } else if (helpNames.has(name) && inline === undefined) {
      help = true
    } else if (name === "--version" && inline === undefined) {
      version = true
    } else if (grammar.globalFlags.has(name)) {
      // A true/false word right after a flag is its value to the parser: it moves with the flag.
      const next = args[i + 1]
      globals.push(
        arg,
        ...(inline === undefined && next !== undefined && booleanWords.has(next) ? [args[++i] ?? ""] : [])
      )
    } else if (subcommand === undefined && grammar.subcommands.has(arg)) {
      subcommand = arg
      localValues = grammar.subcommands.get(arg) ?? new Set()
    } else if (subcommand === undefined && !arg.startsWith("-")) {
      return Either.left(`unknown command '${arg}': use one of ${[...grammar.subcommands.keys()].sort().join(", ")}`)
    } else if (subcommand === undefined && name !== "--wizard") {
      return Either.left(`unknown option '${arg}': a command's own options come after the command`)
    } else {
      // The subcommand's own option or argument, in place; the value of one of its options never moves.
      emit(arg)
      if (localValues.has(name) && inline === undefined) emit(args[++i] ?? "")
    }
  }
  const command = subcommand === undefined ? [] : [subcommand]
  if (help) return Either.right([...command, "--help"])
  if (version) return Either.right(["--version"])
  return Either.right([...builtIns, ...globals, ...before, ...command, ...rest])
}
