/**
 * Runs the examples of `docs/PATTERNS.md` from the build: `npm run example -- 03` (or a part of
 * its name: `npm run example -- gather`) runs one, `npm run example -- all` runs them all in order,
 * and no argument lists them. Each runs as its own `node dist/examples/NN-name.js` process, as a
 * user would run it. Exit code: 0 when every example ran cleanly, 1 when one failed, 2 for an
 * argument that names no example (or more than one).
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Console from "effect/Console"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

/** Where the compiled examples are: `dist/examples`, beside this script's `dist/scripts`. */
const examplesDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "examples")

/** The examples, in order: `NN-name.js` (helpers such as `sample-database.js` are not examples). */
const examples = (): ReadonlyArray<string> =>
  fs.existsSync(examplesDir)
    ? fs.readdirSync(examplesDir).filter((file) => /^\d{2}-.+\.js$/.test(file)).sort()
    : []

const nameOf = (file: string) => file.replace(/\.js$/, "")

/** An argument that names no example, or several. */
class UnknownExample extends Data.TaggedError("UnknownExample")<{ readonly message: string }> {}

/** The examples `selector` names: `all`, a number (`3`, `03`), or a part of a name (`gather`). */
const select = (selector: string, all: ReadonlyArray<string>) => {
  if (selector === "all") return Effect.succeed(all)
  const matches = /^\d+$/.test(selector)
    ? all.filter((file) => Number(file.slice(0, 2)) === Number(selector))
    : all.filter((file) => file.toLowerCase().includes(selector.toLowerCase()))
  return matches.length === 1
    ? Effect.succeed(matches)
    : Effect.fail(
      new UnknownExample({
        message: matches.length === 0
          ? `no example matches "${selector}"`
          : `"${selector}" matches several examples: ${matches.map(nameOf).join(", ")}`
      })
    )
}

/** How long an interrupted runner lets a child that got the terminal's Ctrl-C too finish its cleanup. */
const graceMillis = 2000

/** Runs one example with this terminal as its stdio; its exit code. Interrupting the runner stops the child. */
const run = (file: string) =>
  Effect.async<number>((resume) => {
    const child = spawn(process.execPath, [path.join(examplesDir, file)], { stdio: "inherit" })
    child.on("error", () => resume(Effect.succeed(1)))
    child.on("exit", (code) => resume(Effect.succeed(code ?? 1)))
    // Ctrl-C reaches the child as well, and it runs its finalizers: a second signal now would cut them
    // short. Wait for it, and tell it to stop only if it is still running after the grace period.
    return Effect.async<void>((exited) => {
      if (child.exitCode !== null || child.signalCode !== null) return exited(Effect.void)
      const timer = setTimeout(() => child.kill("SIGTERM"), graceMillis)
      child.once("exit", () => {
        clearTimeout(timer)
        exited(Effect.void)
      })
    })
  })

const usage = (all: ReadonlyArray<string>) =>
  [
    "usage: npm run example -- <NN | name | all>",
    ...all.map((file) => `  ${nameOf(file)}`)
  ].join("\n")

const main = Effect.gen(function*() {
  const all = examples()
  if (all.length === 0) {
    return yield* new UnknownExample({ message: `no examples in ${examplesDir}; run npm run build` })
  }
  const selector = process.argv[2]
  if (selector === undefined) return yield* Console.log(usage(all))
  const chosen = yield* select(selector, all)
  const failed: Array<string> = []
  for (const file of chosen) {
    if (chosen.length > 1) yield* Console.log(`\n=== ${nameOf(file)} ===`)
    const code = yield* run(file)
    if (code !== 0) failed.push(`${file} (exit ${code})`)
  }
  if (failed.length > 0) {
    yield* Console.error(`example failed: ${failed.join(", ")}`)
    yield* Effect.sync(() => void (process.exitCode = 1))
  }
}).pipe(
  Effect.catchTag("UnknownExample", (error) =>
    Effect.zipRight(
      Console.error(`${error.message}\n${usage(examples())}`),
      Effect.sync(() => void (process.exitCode = 2))
    ))
)

NodeRuntime.runMain(main)
