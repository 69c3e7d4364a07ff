/**
 * How dbscope uses a cluster (a URL with several hosts): which node takes the writes, whether a
 * read must see every write committed before it (`causal`, Galera's `wsrep_sync_wait`) or may be
 * a little behind (`stale`, faster), and how often the nodes' health is checked.
 */
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"

/** How reads on other nodes relate to writes already committed. */
export type ReadConsistency = "causal" | "stale"

export interface ClusterSettings {
  /** The node (1 = the URL's first host) that takes writes while it serves (default 1). */
  readonly writer: number
  /**
   * `causal` (default): a read waits until its node has applied every write the cluster had
   * committed when the read arrived, so a read after a write always sees it, whichever node serves
   * it. `stale`: reads answer at once from what their node has applied (usually within
   * milliseconds of the commit), and may miss a write just made through another node.
   */
  readonly reads: ReadConsistency
  /** Time between health checks: a node that died is taken out within about this long (default 1 s). */
  readonly checkInterval: Duration.DurationInput
}

export const defaults: ClusterSettings = { writer: 1, reads: "causal", checkInterval: Duration.seconds(1) }

/**
 * From the environment: `DBSCOPE_CLUSTER_WRITER` (1, 2, ...), `DBSCOPE_CLUSTER_READS`
 * (`causal` or `stale`) and `DBSCOPE_CLUSTER_CHECK_INTERVAL` (e.g. `500 millis`).
 */
export const config: Config.Config<ClusterSettings> = Config.all({
  writer: Config.integer("DBSCOPE_CLUSTER_WRITER").pipe(
    Config.validate({
      message: "must be a node number: 1 for the URL's first host, 2, ...",
      validation: (n) => n >= 1
    }),
    Config.withDefault(defaults.writer)
  ),
  reads: Config.literal("causal", "stale")("DBSCOPE_CLUSTER_READS").pipe(Config.withDefault(defaults.reads)),
  checkInterval: Config.duration("DBSCOPE_CLUSTER_CHECK_INTERVAL").pipe(
    Config.validate({
      message: "must be between 100 millis and 1 minute",
      validation: (interval) =>
        Duration.between(interval, { minimum: Duration.millis(100), maximum: Duration.minutes(1) })
    }),
    Config.withDefault(Duration.decode(defaults.checkInterval))
  )
})
