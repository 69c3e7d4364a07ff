/**
 * The parts of the cluster client that need no server: a URL with several hosts, which node takes
 * writes and reads as nodes leave and come back, and what a node's Galera status says.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Redacted from "effect/Redacted"
import { judge } from "../../src/client/ClusterHealth.js"
import * as ClusterNodes from "../../src/client/ClusterNodes.js"
import { isOutcomeUnknownCode, isTransientCode } from "../../src/client/DatabaseError.js"
import * as MysqlDatabase from "../../src/client/MysqlDatabase.js"
import { parseUrl } from "../../src/client/MysqlServer.js"
import * as OpenResources from "../../src/OpenResources.js"

const baseline = await Effect.runPromise(OpenResources.snapshot)

describe("a URL with several hosts", () => {
  it.effect("names every node, never the password, and reaches each alone", () =>
    Effect.gen(function*() {
      const where = yield* parseUrl(
        Redacted.make("mysql://app:s3cret@10.0.0.1:3311,10.0.0.2,[::1]:3313/shop?connectTimeout=1000")
      )
      assert.strictEqual(where.target, "mysql://app@10.0.0.1:3311,10.0.0.2:3306,[::1]:3313/shop")
      assert.deepStrictEqual(where.nodes.map((node) => node.name), ["10.0.0.1:3311", "10.0.0.2:3306", "[::1]:3313"])
      assert.deepStrictEqual(
        where.nodes.map((node) => Redacted.value(node.url)),
        [
          "mysql://app:s3cret@10.0.0.1:3311/shop?connectTimeout=1000",
          "mysql://app:s3cret@10.0.0.2/shop?connectTimeout=1000",
          "mysql://app:s3cret@[::1]:3313/shop?connectTimeout=1000"
        ]
      )
      assert.strictEqual(Redacted.value(where.nodes[1]!.serverUrl), "mysql://app:s3cret@10.0.0.2/?connectTimeout=1000")
      assert.strictEqual(where.host, "10.0.0.1")
      assert.strictEqual(where.port, 3311)
    }))

  it.effect("one host is one node, as before", () =>
    Effect.gen(function*() {
      const where = yield* parseUrl(Redacted.make("mariadb://root@127.0.0.1/test"))
      assert.strictEqual(where.target, "mysql://root@127.0.0.1:3306/test")
      assert.strictEqual(where.nodes.length, 1)
    }))

  it.effect("an empty host, the same host twice or a bad port is refused in one line", () =>
    Effect.gen(function*() {
      const reasons = yield* Effect.forEach(
        [
          "mysql://root@127.0.0.1:3311,,127.0.0.1:3313/test",
          "mysql://root@127.0.0.1:3311,127.0.0.1:3311/test",
          "mysql://root@127.0.0.1:3311,127.0.0.1:99999/test",
          "mysql://root:pw@a,b/bad-name!"
        ],
        (url) => Effect.flip(parseUrl(Redacted.make(url))).pipe(Effect.map((error) => error.message))
      )
      assert.deepStrictEqual(reasons, [
        "cannot connect to the database URL: it is not a valid URL",
        "cannot connect to mysql://root@127.0.0.1:3311,127.0.0.1:3311/test: the URL names the same host twice",
        "cannot connect to the database URL: it is not a valid URL",
        "cannot connect to mysql://root@a:3306,b:3306/bad-name!: the URL must name a database made of letters, digits, _ and $ (e.g. mysql://root@127.0.0.1:3306/ALX_prodev)"
      ])
      assert.notInclude(reasons.join(" "), "pw")
    }))
})

describe("a cluster none of whose nodes answers", () => {
  it.live("fails to open in one line that names every node and why, never the password", () =>
    Effect.gen(function*() {
      const url = Redacted.make("mysql://root:s3cret@127.0.0.1:1,127.0.0.1:2/test")
      const error = yield* Effect.flip(Effect.scoped(Layer.build(MysqlDatabase.layer({ url }))))
      assert.strictEqual(
        error.message,
        "cannot connect to mysql://root@127.0.0.1:1,127.0.0.1:2/test: no node of the cluster is in service " +
          "(127.0.0.1:1: the server is not reachable; 127.0.0.1:2: the server is not reachable)"
      )
      assert.deepStrictEqual(yield* OpenResources.snapshot, baseline)
    }).pipe(Logger.withMinimumLogLevel(LogLevel.Error)))
})

describe("which node takes what", () => {
  const names = ["a:1", "b:2", "c:3"]

  it("writes go to the preferred node while it serves, else to the next in the URL's order", () => {
    const nodes = ClusterNodes.make(names, 1)
    assert.strictEqual(nodes.writer(), 1)
    assert.isTrue(nodes.takeOut(1, "down"))
    assert.isFalse(nodes.takeOut(1, "down"), "already out")
    assert.strictEqual(nodes.writer(), 2)
    nodes.takeOut(2, "down")
    assert.strictEqual(nodes.writer(), 0)
    nodes.takeOut(0, "down")
    assert.isUndefined(nodes.writer())
    assert.isTrue(nodes.putBack(2))
    assert.strictEqual(nodes.writer(), 2)
    nodes.putBack(1)
    assert.strictEqual(nodes.writer(), 1, "back to the preferred node once it serves again")
    assert.deepStrictEqual(nodes.status().map((node) => [node.name, node.inService, node.writer, node.reason]), [
      ["a:1", false, false, "down"],
      ["b:2", true, true, undefined],
      ["c:3", true, false, undefined]
    ])
  })

  it("reads go to the least busy node in service, taking turns between equals", () => {
    const nodes = ClusterNodes.make(names)
    const picked = Array.from({ length: 6 }, () => nodes.reader()!)
    assert.deepStrictEqual([...new Set(picked)].sort(), [0, 1, 2], "every node takes reads")
    nodes.started(0)
    nodes.started(0)
    nodes.started(1)
    assert.strictEqual(nodes.reader(), 2)
    nodes.takeOut(2, "not synced (Joining)")
    assert.strictEqual(nodes.reader(), 1)
    assert.strictEqual(nodes.reader(new Set([1])), 0, "a node already tried is skipped")
    assert.isUndefined(nodes.reader(new Set([0, 1])))
    nodes.ended(0)
    nodes.ended(0)
    assert.strictEqual(nodes.reader(), 0)
  })
})

describe("a node's Galera status", () => {
  const status = (ready: string, state: string, cluster = "Primary") =>
    new Map([["wsrep_ready", ready], ["wsrep_local_state_comment", state], ["wsrep_cluster_status", cluster]])

  it("serves only when ready, synced and in the primary component; a plain server serves", () => {
    assert.deepStrictEqual(judge(status("ON", "Synced")), { _tag: "Serves" })
    assert.deepStrictEqual(judge(new Map()), { _tag: "Serves" })
    assert.deepStrictEqual(judge(status("ON", "Joining")), { _tag: "Out", reason: "not synced (Joining)" })
    assert.deepStrictEqual(judge(status("OFF", "Synced")), { _tag: "Out", reason: "not ready (wsrep_ready is OFF)" })
    assert.deepStrictEqual(judge(status("OFF", "Initialized", "non-Primary")), {
      _tag: "Out",
      reason: "not in the primary component (partitioned from the majority)"
    })
  })

  it("a conflict and a node that went away are transient; only a lost connection leaves a write's outcome unknown", () => {
    for (
      const code of [
        "ER_LOCK_DEADLOCK",
        "PROTOCOL_CONNECTION_LOST",
        "ECONNREFUSED",
        "ER_UNKNOWN_COM_ERROR",
        "NODE_UNAVAILABLE"
      ]
    ) {
      assert.isTrue(isTransientCode(code), code)
    }
    assert.isFalse(isTransientCode("ER_DUP_ENTRY"))
    assert.isTrue(isOutcomeUnknownCode("PROTOCOL_CONNECTION_LOST"))
    assert.isFalse(isOutcomeUnknownCode("ECONNREFUSED"), "nothing was sent")
    assert.isFalse(isOutcomeUnknownCode("ER_LOCK_DEADLOCK"), "rolled back for sure")
  })
})
