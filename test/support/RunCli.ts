/**
 * Runs the `dbscope` executable, or another built script, as its own process without ever blocking
 * the test worker's event loop. A blocked worker cannot answer vitest, which then fails a run whose
 * tests all passed (`Timeout calling "onTaskUpdate"`, seen on 2-core CI with back-to-back
 * synchronous spawns of a CLI that takes ~1 s to start), so every test that starts a process goes
 * through `runProcess`.
 */
import * as Effect from "effect/Effect"
import { identity } from "effect/Function"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

/** A file of the build output (`dist/`), e.g. `built("scripts/example.js")`. */
export const built = (file: string): string => fileURLToPath(new URL(`../../dist/${file}`, import.meta.url))

/** The `dbscope` executable under test: the one place to change when the binary moves. */
export const cliPath = built("bin/dbscope.js")

export interface RunOptions {
  /** Variables added to (or overriding) this process's environment. */
  readonly env?: Readonly<Record<string, string>> | undefined
  readonly cwd?: string | undefined
  /** Written to the child's stdin, which is then closed (without it stdin is empty). */
  readonly input?: string | Buffer | undefined
  /** Milliseconds after which the child is killed with SIGKILL (`timedOut` is then true). Default 120 s. */
  readonly timeout?: number | undefined
  /** Run as another user (the caller must be root). */
  readonly uid?: number | undefined
  readonly gid?: number | undefined
  /** Called with all of stdout so far on each chunk; the child is killed with SIGKILL once it returns true. */
  readonly killWhen?: ((stdout: string) => boolean) | undefined
  /**
   * Sends `signal` once `when` holds (asked on each chunk of output and every 10 ms, so it may
   * also look at files), and again `againAfter` ms later if given: a user pressing Ctrl-C.
   */
  readonly signal?: {
    readonly name: NodeJS.Signals
    readonly when: (output: { readonly stdout: string; readonly stderr: string }) => boolean
    readonly againAfter?: number | undefined
  } | undefined
  /** Closes the reading end of the child's stdout once this holds of stdout so far, as `head` does. */
  readonly closeStdoutWhen?: ((stdout: string) => boolean) | undefined
  /**
   * false: start without waiting for one of the two permits, for runs that mostly wait (on a
   * server's timeout); the caller then bounds how many run at once. Default true.
   */
  readonly throttle?: boolean | undefined
}

export interface RunResult {
  /** The exit code, or null when a signal ended the child. */
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
  readonly timedOut: boolean
  /** Milliseconds from the first `signal` (or from closing stdout) to the child's exit. */
  readonly stoppedAfter: number | undefined
}

/**
 * At most two children at a time per test worker: the machine has 2 cores, and vitest runs other
 * test files beside this one. Runs beyond that wait for a permit.
 */
const permits = Effect.unsafeMakeSemaphore(2)

/**
 * Runs `command` with `args` to its end and collects what it printed. Interrupting the effect kills
 * the child. A command that cannot be started at all (not found) is a defect.
 */
export const runProcess = (
  command: string,
  args: ReadonlyArray<string>,
  options: RunOptions = {}
): Effect.Effect<RunResult> =>
  (options.throttle === false ? identity : permits.withPermits(1))(Effect.async<RunResult>((resume) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
      ...(options.uid === undefined ? undefined : { uid: options.uid }),
      ...(options.gid === undefined ? undefined : { gid: options.gid })
    })
    const stdout: Array<Buffer> = []
    const stderr: Array<Buffer> = []
    let timedOut = false
    let settled = false
    let stoppedAt: number | undefined
    let exitedAt: number | undefined
    const settle = (effect: Effect.Effect<RunResult>) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      clearInterval(poll)
      resume(effect)
    }
    const text = (chunks: Array<Buffer>) => Buffer.concat(chunks).toString("utf8")
    const maybeStop = () => {
      if (stoppedAt !== undefined || exitedAt !== undefined) return
      const signal = options.signal
      if (signal !== undefined && signal.when({ stdout: text(stdout), stderr: text(stderr) })) {
        stoppedAt = performance.now()
        child.kill(signal.name)
        const again = signal.againAfter
        if (again !== undefined) setTimeout(() => exitedAt === undefined && child.kill(signal.name), again)
      } else if (options.closeStdoutWhen?.(text(stdout)) === true) {
        stoppedAt = performance.now()
        child.stdout.destroy()
      }
    }
    const watching = options.signal !== undefined || options.closeStdoutWhen !== undefined
    const poll = setInterval(() => watching && maybeStop(), 10)
    const timer = setTimeout(() => {
      timedOut = true
      child.kill("SIGKILL")
    }, options.timeout ?? 120_000)
    child.stdout.on("data", (chunk: Buffer) => {
      stdout.push(chunk)
      if (options.killWhen?.(Buffer.concat(stdout).toString("utf8")) === true) child.kill("SIGKILL")
      if (watching) maybeStop()
    })
    child.stderr.on("data", (chunk: Buffer) => {
      stderr.push(chunk)
      if (watching) maybeStop()
    })
    child.on("exit", () => void (exitedAt = performance.now()))
    // A child that exits before reading its input closes the pipe: not the test's concern.
    child.stdin.on("error", () => undefined)
    child.stdin.end(options.input)
    child.on("error", (error) => settle(Effect.die(error)))
    // "close", not "exit": every byte of stdout and stderr has been read by then.
    child.on("close", (code, signal) =>
      settle(Effect.succeed({
        code,
        signal,
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8"),
        timedOut,
        stoppedAfter: stoppedAt === undefined ? undefined : (exitedAt ?? performance.now()) - stoppedAt
      })))
    return Effect.sync(() => {
      clearTimeout(timer)
      clearInterval(poll)
      child.kill("SIGKILL")
    })
  }))

/** Runs a built Node script (`built(...)`) with this Node, colours off, as a user would run it. */
export const runScript = (script: string, args: ReadonlyArray<string> = [], options: RunOptions = {}) =>
  runProcess(process.execPath, [script, ...args], { ...options, env: { NO_COLOR: "1", ...options.env } })

/** Runs `dbscope <args>` (the built executable, `cliPath`). */
export const runCli = (args: ReadonlyArray<string>, options: RunOptions = {}) => runScript(cliPath, args, options)
