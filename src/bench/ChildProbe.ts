/**
 * The child-process protocol of the suites' probes. Some measurements (peak RSS above all) need a
 * fresh process each: the suite entry runs again as `SuiteMain.js <suite> --probe <kind> [arg]`,
 * prints its result as one JSON line, last, and the parent decodes that line with the probe's
 * Schema. Children are spawned asynchronously, so the parent's event loop keeps turning meanwhile.
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { spawn } from "node:child_process"
import { benchSuiteScript } from "../BundledData.js"
import type { SuiteName } from "./BenchReport.js"

/** How a child process ended and what it wrote. */
export interface ProcessOutput {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/**
 * Runs `command` with `args` (`env` added to this process's) to its end, collecting its output;
 * killed, and waited for, if interrupted.
 */
export const runProcess = (command: string, args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  Effect.async<ProcessOutput, Error>((resume) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] })
    const stdout: Array<Buffer> = []
    const stderr: Array<Buffer> = []
    let ended = false
    const end = (result: Effect.Effect<ProcessOutput, Error>) => {
      if (ended) return
      ended = true
      resume(result)
    }
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk))
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk))
    // "error": it could not be started (or killed); "close": it ended and its output is all read.
    child.once("error", (error) => end(Effect.fail(error)))
    child.once("close", (code) =>
      end(Effect.succeed({
        code,
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8")
      })))
    // Waited for, so that nothing a suite started outlives it.
    return Effect.async<void>((exited) => {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return exited(Effect.void)
      child.once("exit", () => exited(Effect.void))
      child.once("error", () => exited(Effect.void))
      child.kill()
    })
  })

export interface ProbeRequest {
  readonly suite: SuiteName
  readonly kind: string
  /** What the probe works on (a database file), on its command line. */
  readonly arg?: string | undefined
  /** Variables added to the child's environment (secrets such as a database URL, never on a command line). */
  readonly env?: Record<string, string> | undefined
}

/**
 * Runs one probe in a fresh Node process and decodes its result with `schema`; dies with the
 * child's stderr if it fails or prints no result.
 */
export const spawnProbe = <A, I>(schema: Schema.Schema<A, I>, request: ProbeRequest) =>
  Effect.gen(function*() {
    const args = [
      benchSuiteScript,
      request.suite,
      "--probe",
      request.kind,
      ...(request.arg === undefined ? [] : [request.arg])
    ]
    const what = `${request.suite} probe ${request.kind}`
    const child = yield* Effect.orDie(runProcess(process.execPath, args, request.env))
    if (child.code !== 0) return yield* Effect.dieMessage(`${what} failed (exit ${child.code}): ${child.stderr.trim()}`)
    const last = child.stdout.trim().split("\n").at(-1) ?? ""
    const decoded = Schema.decodeEither(Schema.parseJson(schema))(last)
    return Either.isRight(decoded)
      ? decoded.right
      : yield* Effect.dieMessage(
        `${what} printed no result: ${ParseResult.TreeFormatter.formatErrorSync(decoded.left)}`
      )
  })

/**
 * Runs each of `kinds` in `reps` fresh processes (`probe`), alternated round by round like
 * `Measure.alternate`; gives the results of each kind in the order they ran.
 */
export const probeRounds = <K extends string, A, E, R>(
  label: string,
  kinds: ReadonlyArray<K>,
  reps: number,
  probe: (kind: K) => Effect.Effect<A, E, R>
) =>
  Effect.gen(function*() {
    const results = new Map<K, Array<A>>(kinds.map((kind) => [kind, []]))
    for (let rep = 0; rep < reps; rep++) {
      for (const kind of kinds) {
        yield* Console.error(`  ${label}: ${kind} run ${rep + 1}/${reps} (fresh process)`)
        results.get(kind)?.push(yield* probe(kind))
      }
    }
    return (kind: K): ReadonlyArray<A> => results.get(kind) ?? []
  })

/** The child's side: prints `result` as the one JSON line its parent reads. */
export const reportProbe = <A, I>(schema: Schema.Schema<A, I>, result: A) =>
  Effect.flatMap(Schema.encode(Schema.parseJson(schema))(result), Console.log)
