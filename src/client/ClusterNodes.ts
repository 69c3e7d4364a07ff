/**
 * Which node of a cluster takes what: the state of each node (in service or taken out, and why;
 * statements running on it) and the two choices made from it. Writes go to one node, the preferred
 * writer while it is in service, else the next one in the URL's order (so every client picks the
 * same node and writers do not conflict with each other). Reads go to the node in service with the
 * fewest statements running, taking turns between equals. Plain state: the health check and the
 * driver (`MysqlCluster`) tell it what they saw.
 */

/** One node as the cluster sees it now. */
export interface NodeStatus {
  /** `host:port`. */
  readonly name: string
  /** In service: it answered the last health check synced (or a statement ran on it since). */
  readonly inService: boolean
  /** Why it was taken out (one line), while it is. */
  readonly reason: string | undefined
  /** Statements and connections of dbscope's running on it now. */
  readonly busy: number
  /** Whether it takes the writes now. */
  readonly writer: boolean
}

interface NodeState {
  readonly name: string
  inService: boolean
  reason: string | undefined
  busy: number
}

/** The nodes of one client, in the URL's order; `preferredWriter` is an index into them. */
export const make = (names: ReadonlyArray<string>, preferredWriter = 0) => {
  const nodes: ReadonlyArray<NodeState> = names.map((name) => ({
    name,
    inService: true,
    reason: undefined,
    busy: 0
  }))
  let turn = 0

  /** The node that takes writes: the preferred one, else the next in service in the URL's order. */
  const writer = (): number | undefined => {
    for (let step = 0; step < nodes.length; step++) {
      const index = (preferredWriter + step) % nodes.length
      if (nodes[index]!.inService) return index
    }
    return undefined
  }

  /** The node in service with the fewest statements running (taking turns between equals), skipping `tried`. */
  const reader = (tried: ReadonlySet<number> = new Set()): number | undefined => {
    let best: number | undefined
    turn = (turn + 1) % nodes.length
    for (let step = 0; step < nodes.length; step++) {
      const index = (turn + step) % nodes.length
      const node = nodes[index]!
      if (!node.inService || tried.has(index)) continue
      if (best === undefined || node.busy < nodes[best]!.busy) best = index
    }
    return best
  }

  return {
    name: (index: number) => nodes[index]!.name,
    writer,
    reader,
    /** Takes a node out of service; true when it was in service until now. */
    takeOut: (index: number, reason: string): boolean => {
      const node = nodes[index]!
      const was = node.inService
      node.inService = false
      node.reason = reason
      return was
    },
    /** Puts a node back in service; true when it was out until now. */
    putBack: (index: number): boolean => {
      const node = nodes[index]!
      const was = node.inService
      node.inService = true
      node.reason = undefined
      return !was
    },
    started: (index: number) => void nodes[index]!.busy++,
    ended: (index: number) => void nodes[index]!.busy--,
    status: (): ReadonlyArray<NodeStatus> => {
      const writing = writer()
      return nodes.map((node, index) => ({
        name: node.name,
        inService: node.inService,
        reason: node.reason,
        busy: node.busy,
        writer: index === writing
      }))
    }
  }
}

export type ClusterNodes = ReturnType<typeof make>
