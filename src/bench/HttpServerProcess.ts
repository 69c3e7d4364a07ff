/**
 * An HTTP server the `serve` suite measures, in a child process of its own (`dbscope serve`, or the
 * raw baseline): started with the same Node, ready once its first stdout line says where it listens
 * (`... listening on http://HOST:PORT`), and always stopped with the scope it was started in — on
 * success, failure or interruption: SIGTERM, then SIGKILL if it has not exited after `stopGrace`.
 * Its resident memory is read from /proc/<pid>/status (the server's, not the suite's), and a server
 * that died while it was being measured is a defect with the last lines of its stderr.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"

/** How long a server may take to say it listens (opening a 1,000,000-row database included). */
const startTimeout = Duration.seconds(60)
/** How long a server may take to stop after SIGTERM before it is killed. */
const stopGrace = Duration.seconds(5)
/** Lines of a server's stderr kept to explain its death. */
const keptLines = 20

export interface HttpServerProcess {
  /** What the suite's output calls it (`dbscope serve --sequential`). */
  readonly name: string
  readonly pid: number
  /** Where it listens: `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string
  /** Its resident set size now (VmRSS), in bytes; undefined once it has gone. */
  readonly rss: () => number | undefined
  /** Dies, with the end of its stderr, if the server is no longer running. */
  readonly alive: Effect.Effect<void>
}

/** VmRSS of process `pid`, in bytes, from /proc; undefined if it cannot be read (the process has gone). */
export const processRss = (pid: number): number | undefined => {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))
    return match === null ? undefined : Number(match[1]) * 1024
  } catch {
    return undefined
  }
}

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null

/** Resolves once `child` has exited (at once if it has). */
const exitOf = (child: ChildProcess) =>
  Effect.async<void>((resume) => {
    if (exited(child)) return resume(Effect.void)
    const done = () => resume(Effect.void)
    child.once("exit", done)
    return Effect.sync(() => child.off("exit", done))
  })

/** SIGTERM, then SIGKILL after `stopGrace`; waits for the exit either way. */
const stop = (child: ChildProcess) =>
  Effect.suspend(() => {
    if (exited(child)) return Effect.void
    child.kill("SIGTERM")
    return exitOf(child).pipe(
      Effect.timeout(stopGrace),
      Effect.catchTag("TimeoutException", () =>
        Effect.zipRight(
          Effect.sync(() => child.kill("SIGKILL")),
          exitOf(child)
        ))
    )
  })

/**
 * Starts `node <args>` (a server that prints where it listens as its first line) for the current
 * scope, and waits until it listens. It is stopped when the scope closes, whatever happens.
 */
export const startServer = (name: string, args: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const stderr: Array<string> = []
    const child = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] })
        // Read to the end, so that a chatty server never blocks on a full pipe.
        child.stderr.setEncoding("utf8").on("data", (text: string) => {
          stderr.push(...text.split("\n").filter((line) => line.trim() !== ""))
          stderr.splice(0, Math.max(0, stderr.length - keptLines))
        })
        return child
      }),
      stop
    )
    const lastWords = () => stderr.join("\n").trim() || "(no output on stderr)"
    const url = yield* Effect.async<string, string>((resume) => {
      let stdout = ""
      const onData = (text: string) => {
        stdout += text
        const match = /listening on (http:\/\/[^\s/]+)/.exec(stdout)
        if (match?.[1] !== undefined) resume(Effect.succeed(match[1]))
      }
      const onExit = (code: number | null, signal: string | null) =>
        resume(Effect.fail(`exited (${signal ?? `code ${code}`}) before it listened: ${lastWords()}`))
      const onError = (error: Error) => resume(Effect.fail(`could not be started: ${error.message}`))
      child.stdout.setEncoding("utf8").on("data", onData)
      child.once("exit", onExit)
      child.once("error", onError)
      return Effect.sync(() => {
        child.off("exit", onExit)
        child.off("error", onError)
      })
    }).pipe(
      Effect.timeoutFail({ duration: startTimeout, onTimeout: () => `did not listen within ${startTimeout}` }),
      Effect.catchAll((reason) => Effect.dieMessage(`${name}: ${reason}`))
    )
    const pid = child.pid ?? 0
    return {
      name,
      pid,
      url,
      rss: () => processRss(pid),
      alive: Effect.suspend(() =>
        exited(child)
          ? Effect.dieMessage(
            `${name} stopped while it was measured (${child.signalCode ?? child.exitCode}): ${lastWords()}`
          )
          : Effect.void
      )
    } satisfies HttpServerProcess
  })
