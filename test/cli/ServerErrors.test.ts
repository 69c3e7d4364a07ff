/**
 * Every command that takes `--url`, against a server that refuses the password, a port nothing
 * listens on, and an address that never answers: each ends within the connect timeout (plus a
 * generous margin for starting the CLI on a loaded machine) with one line on stderr, exit 1, and
 * never the password. `setup` used to hang forever after a refused login (and swallow the first
 * SIGINT/SIGTERM): its admin connection's `end` waited for a callback mysql2 never calls.
 * `bench` is not here: it takes no `--url` (its MySQL suite reads `DBSCOPE_BENCH_MYSQL`).
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { spawn } from "node:child_process"
import * as crypto from "node:crypto"
import { mysqlAvailable, mysqlServer } from "../support/Backends.js"
import { silentServerPort, userWithPassword } from "../support/MysqlFixtures.js"
import { cliPath, runCli, type RunResult } from "../support/RunCli.js"

/** The connect timeout the runs are given (`DBSCOPE_MYSQL_CONNECT_TIMEOUT`), short to keep the file fast. */
const connectTimeoutMs = 1000
/** How long a run may take, from its start: the connect timeout and room for a loaded 2-core machine. */
const boundMs = connectTimeoutMs + 10_000

const commands: ReadonlyArray<ReadonlyArray<string>> = [
  ["setup"],
  ["users"],
  ["query", "select 1"],
  ["count"],
  ["concurrent"],
  ["dashboard"],
  ["stream"],
  ["batches", "--batch-size", "10"],
  ["paginate", "--page-size", "10"],
  ["average-age"]
]

const password = `pw-${crypto.randomBytes(4).toString("hex")}`
const serverHost = new URL(mysqlServer.replace(/^mysql:/, "http:")).hostname
const serverPort = new URL(mysqlServer.replace(/^mysql:/, "http:")).port || "3306"

const silentServer = silentServerPort

/** The contract: ended in time, exit 1, one `dbscope: ` line naming the problem, no password anywhere. */
const assertFailsCleanly = (result: RunResult, args: ReadonlyArray<string>, says: string | RegExp) => {
  const what = `${args.join(" ")}: ${JSON.stringify(result)}`
  assert.isFalse(result.timedOut, `still running after ${boundMs} ms: ${what}`)
  assert.strictEqual(result.code, 1, what)
  const lines = result.stderr.trimEnd().split("\n")
  assert.strictEqual(lines.length, 1, what)
  assert.match(lines[0] ?? "", /^dbscope: /, what)
  if (typeof says === "string") assert.include(lines[0], says, what)
  else assert.match(lines[0] ?? "", says, what)
  assert.notInclude(result.stderr + result.stdout, password, what)
}

const run = (url: string, args: ReadonlyArray<string>) =>
  runCli(["--url", url, ...args], {
    env: { DBSCOPE_MYSQL_CONNECT_TIMEOUT: `${connectTimeoutMs} millis` },
    timeout: boundMs,
    // Bounded by `runsAtOnce` instead: many runs only wait for a timeout.
    throttle: false
  })

/** A server dbscope cannot use, what the one line must say, and the commands tried (default: all). */
interface Scenario {
  readonly url: string
  readonly says: string | RegExp
  readonly only?: ReadonlyArray<string>
}

/** Runs at once: most of a run is waiting (for the server, or for Node to start on a busy core). */
const runsAtOnce = 5

describe.skipIf(!mysqlAvailable)("every command against a server it cannot use", { timeout: 120_000 }, () => {
  it.scoped("a wrong password, a closed port, a silent server, an unroutable address: one line, exit 1, in time", () =>
    Effect.gen(function*() {
      const user = yield* userWithPassword(`right-${password}`)
      const port = yield* silentServer
      const scenarios: ReadonlyArray<Scenario> = [
        {
          url: `mysql://${user}:${password}@${serverHost}:${serverPort}/dbscope_server_errors`,
          says: "access denied (wrong user name or password)"
        },
        { url: `mysql://root:${password}@127.0.0.1:1/test`, says: "the server is not reachable" },
        // Connected, then nothing: the timeout covers the server's greeting too. Every command opens
        // the database the same way but for these three (creating it; reader workers), so only they.
        {
          url: `mysql://root:${password}@127.0.0.1:${port}/test`,
          says: "the server did not answer in time",
          only: ["setup", "count", "concurrent"]
        },
        // Reserved, never routed: the attempt usually gets no answer at all until the timeout, but a
        // network without a route to it says so at once.
        { url: `mysql://root:${password}@10.255.255.1:3306/test`, says: /did not answer in time|not reachable/ }
      ]
      const cases = scenarios.flatMap(({ only, says, url }) =>
        commands.filter(([name]) => only === undefined || only.includes(name ?? "")).map((args) => ({
          url,
          says,
          args
        }))
      )
      const results = yield* Effect.forEach(cases, (item) => run(item.url, item.args), { concurrency: runsAtOnce })
      cases.forEach((item, i) => assertFailsCleanly(results[i]!, item.args, item.says))
    }))

  it.effect("SIGTERM while setup, count or concurrent wait for a server that never answers ends them at once", () =>
    Effect.forEach(
      ["setup", "count", "concurrent"],
      (command) =>
        Effect.async<{ command: string; code: number | null; signal: string | null; stderr: string; afterMs: number }>(
          (resume) => {
            const child = spawn(
              process.execPath,
              [cliPath, "--url", `mysql://root:${password}@10.255.255.1:3306/test`, command],
              { env: { ...process.env, NO_COLOR: "1", DBSCOPE_MYSQL_CONNECT_TIMEOUT: "60 seconds" } }
            )
            let stderr = ""
            let signalledAt = 0
            child.stderr.on("data", (chunk: Buffer) => void (stderr += chunk.toString("utf8")))
            // Long enough for the CLI to be connecting; far less than its 60 s connect timeout.
            const term = setTimeout(() => {
              signalledAt = performance.now()
              child.kill("SIGTERM")
            }, 3000)
            const kill = setTimeout(() => child.kill("SIGKILL"), 3000 + boundMs)
            child.on("close", (code, signal) => {
              clearTimeout(term)
              clearTimeout(kill)
              resume(Effect.succeed({ command, code, signal, stderr, afterMs: performance.now() - signalledAt }))
            })
            return Effect.sync(() => child.kill("SIGKILL"))
          }
        ),
      { concurrency: "unbounded" }
    ).pipe(Effect.map((results) => {
      for (const result of results) {
        const what = JSON.stringify(result)
        assert.notStrictEqual(result.signal, "SIGKILL", `the SIGTERM did not end it: ${what}`)
        // Before the runtime's handler is installed (a very slow start), Node's own default ends it.
        if (result.signal === null) assert.strictEqual(result.code, 143, what)
        assert.isBelow(result.afterMs, 5000, what)
        assert.notInclude(result.stderr, password)
      }
    })))
})
