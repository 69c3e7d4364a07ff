/**
 * `npm run screenshot`: saves docs/dashboard.png, the dashboard page of `dbscope serve` as a
 * 1280×800 screen shows it. Runs the built CLI as a user would: `dbscope setup` creates a database
 * from the bundled sample (data/user_data.csv) in a temporary folder, `dbscope serve --port 0`
 * serves it, and headless Chromium (see `Chromium.ts`) opens the page, waits until the figures and
 * the first page of users are shown, and takes the screenshot. The server is then stopped with
 * SIGINT (as Ctrl-C would) and the folder removed, whatever happened.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Console from "effect/Console"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as Chromium from "./Chromium.js"

/** This script runs from dist/scripts/: the package is two folders up, the CLI in dist/bin/. */
const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, "..", "..")
const cli = path.resolve(here, "..", "bin", "dbscope.js")
const output = path.join(root, "docs", "dashboard.png")

const viewport = { width: 1280, height: 800 }
/** How long the server, and then the page, get on a loaded machine. */
const waitMillis = 60_000

class ScreenshotError extends Data.TaggedError("ScreenshotError")<{ readonly message: string }> {}

const workDir = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "dbscope-screenshot-"))),
  (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
)

/** Runs the CLI to the end; fails with its output unless it exits 0. */
const runCli = (args: ReadonlyArray<string>) =>
  Effect.async<void, ScreenshotError>((resume) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    child.stdout.on("data", (data: Buffer) => void (output += data.toString()))
    child.stderr.on("data", (data: Buffer) => void (output += data.toString()))
    child.once("error", (error) => resume(Effect.fail(new ScreenshotError({ message: error.message }))))
    child.once("exit", (code) =>
      resume(
        code === 0
          ? Effect.void
          : Effect.fail(new ScreenshotError({ message: `dbscope ${args.join(" ")} exited ${code}:\n${output}` }))
      ))
    return Effect.sync(() => child.kill("SIGKILL"))
  })

/** `dbscope serve` on `db`: its URL once it says where it listens; stopped with SIGINT when the scope closes. */
const serve = (db: string) =>
  Effect.acquireRelease(
    Effect.async<{ readonly url: string; readonly stop: Effect.Effect<void> }, ScreenshotError>((resume) => {
      const child = spawn(process.execPath, [cli, "--db", db, "serve", "--port", "0"], {
        stdio: ["ignore", "pipe", "pipe"]
      })
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
      const stop = Effect.promise(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGINT")
        const killer = setTimeout(() => child.kill("SIGKILL"), 20_000)
        return exited.finally(() => clearTimeout(killer))
      })
      let out = ""
      let err = ""
      child.stdout.on("data", (data: Buffer) => {
        out += data.toString()
        const url = /listening on (http:\/\/\S+) /.exec(out)?.[1]
        if (url !== undefined) resume(Effect.succeed({ url, stop }))
      })
      child.stderr.on("data", (data: Buffer) => void (err += data.toString()))
      child.once("exit", (code) =>
        resume(
          Effect.fail(new ScreenshotError({ message: `dbscope serve exited (${code}) before listening:\n${err}` }))
        ))
      return Effect.sync(() => child.kill("SIGKILL"))
    }).pipe(
      Effect.timeoutFail({
        duration: waitMillis,
        onTimeout: () => new ScreenshotError({ message: "dbscope serve did not say where it listens" })
      })
    ),
    (server) => server.stop
  )

const main = Effect.gen(function*() {
  if (!fs.existsSync(cli)) return yield* new ScreenshotError({ message: `${cli} is missing: run npm run build` })
  if (!Chromium.isInstalled()) {
    return yield* new ScreenshotError({
      message: `${Chromium.executablePath} is missing: install Debian's chromium (apt-get install chromium)`
    })
  }
  const db = path.join(yield* workDir, "users.db")
  yield* runCli(["--db", db, "setup"])
  const server = yield* serve(db)
  const browser = yield* Chromium.launch
  yield* Effect.tryPromise({
    try: async () => {
      const context = await browser.newContext({ viewport, deviceScaleFactor: 1, colorScheme: "light" })
      const page = await context.newPage()
      await page.goto(`${server.url}/`, { timeout: waitMillis })
      await page.locator("body[data-state=ready]").waitFor({ timeout: waitMillis })
      await page.locator("[data-testid=users-table][data-loading=false][data-page='1']").waitFor({
        timeout: waitMillis
      })
      fs.mkdirSync(path.dirname(output), { recursive: true })
      await page.screenshot({ path: output, animations: "disabled", caret: "hide" })
      await context.close()
    },
    catch: (cause) => new ScreenshotError({ message: `the page did not load: ${String(cause)}` })
  })
  yield* Console.log(`saved ${path.relative(root, output)} (${viewport.width}×${viewport.height}, ${server.url})`)
}).pipe(
  Effect.scoped,
  Effect.catchTags({
    ScreenshotError: (error) => Effect.zipRight(Console.error(error.message), Effect.sync(() => process.exitCode = 1)),
    ChromiumError: (error) => Effect.zipRight(Console.error(error.message), Effect.sync(() => process.exitCode = 1))
  })
)

NodeRuntime.runMain(main)
