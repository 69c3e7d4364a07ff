/**
 * Runs a shell command with a terminal for its stdio, through util-linux's `script`, to see what a
 * person at a terminal sees (colours). Where `script` is missing, the tests that need it are skipped.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { runProcess } from "./RunCli.js"

/** Whether `script` is on the PATH. */
export const terminalAvailable = (process.env.PATH ?? "").split(path.delimiter)
  .some((dir) => dir !== "" && fs.existsSync(path.join(dir, "script")))

/**
 * Runs `shell` (a `sh -c` command line) on a terminal; `env` are `env` arguments for it (`-u NAME`
 * to unset, `NAME=value` to set). Gives what the terminal showed as stdout.
 */
export const onTerminal = (shell: string, env: ReadonlyArray<string> = []) =>
  runProcess("env", [...env, "script", "-qec", shell, "/dev/null"])
