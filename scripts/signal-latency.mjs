// How soon each command stops on Ctrl-C (`npm run signal-latency [-- ROWS]`, default 300,000 users):
// runs the built `dbscope` on a SQLite file of synthetic users, sends SIGINT once the command is
// under way (its first output, or 300 ms after start for commands that print only at the end),
// and prints the time from the signal to the process's exit, its exit code and its stderr. Then
// the same for `setup --synthetic` (the count must be unchanged after: nothing committed) and for a
// reader of stdout that goes away after one chunk (`| head`). Not a test: the tests assert the
// behaviour (test/cli/Signals.test.ts) with generous bounds; this prints the figures.
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const bin = path.join(root, "dist", "bin", "dbscope.js")
const rows = Number(process.argv[2] ?? 300_000)
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dbscope-signal-latency-"))
const db = path.join(dir, "users.db")

/** Runs dbscope; `stop` decides when (and how) to stop it, given the output so far. */
const run = (args, stop = () => undefined) =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, "--db", db, ...args], {
      env: { ...process.env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    let stoppedAt
    const started = performance.now()
    const act = (how) => {
      if (stoppedAt !== undefined || how === undefined) return
      stoppedAt = performance.now()
      if (how === "close") child.stdout.destroy()
      else child.kill(how)
    }
    const timer = setInterval(() => act(stop({ stdout, since: performance.now() - started })), 5)
    child.stdout.on("data", (chunk) => {
      stdout += chunk
      act(stop({ stdout, since: performance.now() - started }))
    })
    child.stdout.on("error", () => undefined)
    child.stderr.on("data", (chunk) => stderr += chunk)
    child.on("close", (code, signal) => {
      clearInterval(timer)
      const ended = performance.now()
      resolve({
        code,
        signal,
        stdout,
        stderr,
        afterMs: stoppedAt === undefined ? undefined : ended - stoppedAt,
        totalMs: ended - started
      })
    })
  })

const count = async () => Number((await run(["count"])).stdout ?? "NaN")

const row = (what, result) =>
  process.stdout.write(
    `${what.padEnd(34)} ${
      result.afterMs === undefined
        ? "ended before the signal".padStart(10)
        : `${result.afterMs.toFixed(0)} ms`.padStart(10)
    }   exit ${String(result.code ?? result.signal).padEnd(4)} ${JSON.stringify(result.stderr)}\n`
  )

try {
  const made = await run(["setup", "--synthetic", String(rows)])
  if (made.code !== 0) throw new Error(`setup failed: ${made.stderr}`)
  process.stdout.write(
    `dbscope signal latency: ${
      rows.toLocaleString("en-US")
    } users, node ${process.version}, ${os.cpus().length} cores\n\n`
  )
  process.stdout.write(`${"command (SIGINT once under way)".padEnd(34)} ${"to exit".padStart(10)}   code stderr\n`)
  const onOutputOr300ms = ({ stdout, since }) => (stdout.length > 0 || since >= 300 ? "SIGINT" : undefined)
  for (
    const args of [
      ["stream"],
      ["paginate", "--page-size", "1000"],
      ["batches", "--batch-size", "1000"],
      ["average-age"],
      ["users"],
      ["users", "--older-than", "30"],
      ["concurrent"],
      ["dashboard"]
    ]
  ) {
    row(args.join(" "), await run(args, onOutputOr300ms))
  }
  const before = await count()
  const setup = await run(["setup", "--synthetic", String(rows)], ({ since }) => (since >= 500 ? "SIGINT" : undefined))
  row(`setup --synthetic ${rows}`, setup)
  const after = await count()
  process.stdout.write(
    `  users before ${before}, after ${after}: ${before === after ? "nothing committed" : "CHANGED"}\n`
  )
  row("stream, SIGTERM", await run(["stream"], ({ stdout }) => (stdout.length > 0 ? "SIGTERM" : undefined)))
  row("stream | head (stdout closed)", await run(["stream"], ({ stdout }) => (stdout.length > 0 ? "close" : undefined)))
} finally {
  fs.rmSync(dir, { recursive: true, force: true })
}
