/**
 * The local MariaDB Galera cluster (see `src/cluster/GaleraCluster.ts`) from the command line:
 * `npm run cluster -- start | stop | kill N | restart N | status`. Progress goes to stderr, each line
 * with the seconds since the command began; `start` prints the cluster's URL as the last line of
 * stdout, so `URL=$(npm run --silent cluster -- start)` works. Settings come from `DBSCOPE_CLUSTER_*`.
 * Exit code: 0 on success, 1 when the cluster failed, 2 for a command line it does not understand.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Console from "effect/Console"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as GaleraCluster from "../src/cluster/GaleraCluster.js"

const usage = "usage: npm run cluster -- start | stop | kill N | restart N | status"

/** A command line this script does not understand. */
class Usage extends Data.TaggedError("Usage")<{ readonly reason: string }> {}

const began = Date.now()

/** Progress lines on stderr: `[  3.2s] node 1: Synced …`. */
const progress = Logger.make(({ message }) => {
  const text = (Array.isArray(message) ? message : [message]).map(String).join(" ")
  process.stderr.write(`[${((Date.now() - began) / 1000).toFixed(1).padStart(5)}s] ${text}\n`)
})

const nodeArgument = (settings: GaleraCluster.ClusterSettings, argument: string | undefined) => {
  const node = Number(argument)
  return Number.isInteger(node) && node >= 1 && node <= settings.nodes
    ? Effect.succeed(node)
    : new Usage({ reason: `expected a node number from 1 to ${settings.nodes}, got ${argument ?? "nothing"}` })
}

const showOption = <A>(value: Option.Option<A>) => Option.match(value, { onNone: () => "-", onSome: String })

const statusTable = (nodes: ReadonlyArray<GaleraCluster.NodeStatus>) =>
  [
    ["node", "port", "pid", "state", "size", "ready"],
    ...nodes.map((node) => [
      String(node.node),
      String(node.port),
      showOption(node.pid),
      Option.isSome(node.pid) ? showOption(node.wsrepState) : "down",
      showOption(node.clusterSize),
      node.ready ? "ON" : "OFF"
    ])
  ].map((row) => row.map((cell) => cell.padEnd(8)).join("").trimEnd()).join("\n")

const main = Effect.gen(function*() {
  const settings = yield* GaleraCluster.settingsConfig.pipe(
    Effect.mapError((error) => new Usage({ reason: `cluster settings: ${String(error).replace(/\s+/g, " ")}` }))
  )
  const [command, argument, ...rest] = process.argv.slice(2)
  if (rest.length > 0) return yield* new Usage({ reason: `unexpected ${rest.join(" ")}` })
  switch (command) {
    case "start":
      return yield* Console.log(yield* GaleraCluster.start(settings))
    case "stop":
      return yield* GaleraCluster.stop(settings)
    case "kill":
      return yield* GaleraCluster.kill(settings, yield* nodeArgument(settings, argument))
    case "restart":
      return yield* GaleraCluster.restart(settings, yield* nodeArgument(settings, argument))
    case "status": {
      const nodes = yield* GaleraCluster.status(settings)
      yield* Console.log(statusTable(nodes))
      return yield* Console.log(
        GaleraCluster.healthy(nodes)
          ? `healthy: ${GaleraCluster.url(settings)}`
          : `not healthy (${nodes.filter((node) => Option.isSome(node.pid)).length} of ${nodes.length} running)`
      )
    }
    default:
      return yield* new Usage({ reason: command === undefined ? "no command" : `unknown command ${command}` })
  }
}).pipe(
  Effect.catchTags({
    Usage: (error) => exitWith(2, `${error.reason}\n${usage}`),
    ClusterError: (error) => exitWith(1, error.message)
  }),
  Effect.provide(Logger.replace(Logger.defaultLogger, progress))
)

const exitWith = (code: number, message: string) =>
  Effect.zipRight(Console.error(message), Effect.sync(() => void (process.exitCode = code)))

NodeRuntime.runMain(main, { disableErrorReporting: true, disablePrettyLogger: true })
