/**
 * Runs a built script in a Node process of its own for the bench tests, asynchronously: a suite
 * takes a minute, and a test worker blocked that long fails the vitest run (see STACK-NOTES).
 */
import * as Effect from "effect/Effect"
import { execFile } from "node:child_process"

export interface Result {
  readonly status: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs `node <args>` without blocking the test process; killed if interrupted. */
export const node = (
  args: ReadonlyArray<string>,
  options: { readonly cwd: string; readonly env?: Record<string, string> }
) =>
  Effect.async<Result>((resume) => {
    const child = execFile(process.execPath, args, {
      encoding: "utf8",
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      maxBuffer: 64 * 1024 * 1024
    }, (_error, stdout, stderr) => resume(Effect.succeed({ status: child.exitCode, stdout, stderr })))
    return Effect.sync(() => child.kill())
  })
