/**
 * The health check of a cluster's nodes: every `interval`, each node is asked, on a connection of
 * the check's own (a pool busy with long reads must not make a healthy node look dead), whether it
 * can serve: it answers, and a Galera node is `wsrep_ready`, `Synced` and in the primary
 * component. A node that fails is taken out of service; one that passes is put back. A server
 * without Galera passes when it answers. Changes are logged once, as they happen.
 */
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type * as Mysql from "mysql2"
import * as OpenResources from "../OpenResources.js"
import type { ClusterNodes } from "./ClusterNodes.js"
import { reasonFor } from "./DatabaseError.js"
import { errorCode } from "./MysqlServer.js"

/** What the check needs of each node: how to open its connection. */
export interface CheckedNode {
  readonly open: () => Mysql.Connection
}

/** What one answer says: in service, or why not (one line). */
type Verdict = { readonly _tag: "Serves" } | { readonly _tag: "Out"; readonly reason: string }

const wsrepStatus = `SHOW GLOBAL STATUS WHERE Variable_name IN
  ('wsrep_ready', 'wsrep_local_state_comment', 'wsrep_cluster_status')`

/** Judges a node from its `wsrep_%` status (none at all: not Galera, a plain server that answers). */
export const judge = (status: ReadonlyMap<string, string>): Verdict => {
  if (status.size === 0) return { _tag: "Serves" }
  const state = status.get("wsrep_local_state_comment") ?? "unknown"
  if (status.get("wsrep_cluster_status") !== "Primary") {
    return { _tag: "Out", reason: "not in the primary component (partitioned from the majority)" }
  }
  if (status.get("wsrep_ready") !== "ON") return { _tag: "Out", reason: "not ready (wsrep_ready is OFF)" }
  if (state !== "Synced") return { _tag: "Out", reason: `not synced (${state})` }
  return { _tag: "Serves" }
}

/**
 * Starts checking in the current scope: once for every node before returning (so the client opens
 * knowing which nodes serve), then every `interval` until the scope closes, which closes the
 * check's connections.
 */
export const start = (
  nodes: ClusterNodes,
  checked: ReadonlyArray<CheckedNode>,
  options: { readonly interval: Duration.DurationInput; readonly timeout: Duration.DurationInput }
) =>
  Effect.gen(function*() {
    const connections: Array<Mysql.Connection | undefined> = checked.map(() => undefined)
    const drop = (index: number) => {
      const connection = connections[index]
      if (connection === undefined) return
      connections[index] = undefined
      connection.destroy()
      OpenResources.markClosed("mysqlConnection")
    }
    yield* Effect.addFinalizer(() => Effect.sync(() => checked.forEach((_, index) => drop(index))))

    const ask = (index: number) =>
      Effect.async<ReadonlyMap<string, string>, unknown>((resume) => {
        let connection = connections[index]
        if (connection === undefined) {
          connection = checked[index]!.open()
          OpenResources.markOpened("mysqlConnection")
          // A socket error between checks would otherwise be an unhandled `error` event.
          connection.on("error", () => undefined)
          connections[index] = connection
        }
        connection.query(wsrepStatus, (error, rows) => {
          if (error !== null) return resume(Effect.fail(error))
          const list = Array.isArray(rows) ? rows as Array<{ Variable_name: string; Value: string }> : []
          resume(Effect.succeed(new Map(list.map((row) => [row.Variable_name, row.Value]))))
        })
      }).pipe(
        Effect.timeoutFail({ duration: options.timeout, onTimeout: () => ({ code: "ETIMEDOUT" }) }),
        Effect.tapError(() => Effect.sync(() => drop(index)))
      )

    const checkOne = (index: number) =>
      ask(index).pipe(
        Effect.map(judge),
        Effect.catchAll((cause) => Effect.succeed<Verdict>({ _tag: "Out", reason: reasonFor(errorCode(cause)) })),
        Effect.flatMap((verdict) => {
          const name = nodes.name(index)
          if (verdict._tag === "Serves") {
            return nodes.putBack(index)
              ? Effect.logWarning(`cluster node ${name} is back in service`)
              : Effect.void
          }
          return nodes.takeOut(index, verdict.reason)
            ? Effect.logWarning(`cluster node ${name} taken out of service: ${verdict.reason}`)
            : Effect.void
        }),
        Effect.annotateLogs({ node: nodes.name(index) })
      )

    const checkAll = Effect.forEach(checked, (_, index) => checkOne(index), { concurrency: "unbounded", discard: true })
    yield* checkAll
    yield* Effect.forkScoped(Effect.repeat(checkAll, Schedule.spaced(options.interval)))
  })
