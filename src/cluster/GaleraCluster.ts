/**
 * A real MariaDB Galera cluster on loopback (3 nodes by default), for the tests, the benchmark and
 * developers: `start` bootstraps it in a folder of its own, `kill`/`restart` take a node out and bring
 * it back (it rejoins by IST), `status` asks every node, `stop` shuts every node down cleanly.
 * The nodes are detached `mariadbd` processes that outlive the process that started them; a node is
 * found again by its pid file, checked against `/proc/<pid>/cmdline` (or by scanning `/proc` when the
 * pid file is not written yet), so every command works from a fresh process.
 * Run as root, the nodes run as user `mysql` on data owned by `mysql`: run as root on root-owned data
 * under a 0700 folder, a joiner's rsync SST cannot read its own datadir and the node aborts.
 * Only node 1's datadir is made by `mariadb-install-db`: the others join by rsync SST, which replaces
 * their datadir with node 1's anyway, so they start from an empty one (a third of the start time saved).
 */
import * as Config from "effect/Config"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Mysql from "mysql2"
import { execFile, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as Net from "node:net"
import * as path from "node:path"

/** Where the cluster lives and which ports it uses. */
export interface ClusterSettings {
  /** The cluster's folder: datadirs, sockets, pid files and logs of every node. Wiped by `start`. */
  readonly dir: string
  readonly nodes: number
  /** Node N listens for SQL on `sqlPortBase + N`. */
  readonly sqlPortBase: number
  /** Node N uses G = `galeraPortBase + 10 * N` for group communication, G+1 for IST, G+2 for SST. */
  readonly galeraPortBase: number
  /** `--innodb-buffer-pool-size` of every node. */
  readonly bufferPool: string
}

export const defaultSettings: ClusterSettings = {
  dir: "/tmp/dbscope-galera",
  nodes: 3,
  sqlPortBase: 3310,
  galeraPortBase: 4560,
  bufferPool: "32M"
}

const port = (name: string, fallback: number) =>
  Config.integer(name).pipe(
    Config.withDefault(fallback),
    Config.validate({ message: "a TCP port (1-65535)", validation: (n) => n >= 1 && n <= 65535 })
  )

/** The settings from `DBSCOPE_CLUSTER_DIR`, `_NODES`, `_SQL_PORT_BASE`, `_GALERA_PORT_BASE`, `_BUFFER_POOL`. */
export const settingsConfig: Config.Config<ClusterSettings> = Config.all({
  dir: Config.string("DBSCOPE_CLUSTER_DIR").pipe(Config.withDefault(defaultSettings.dir)),
  nodes: Config.integer("DBSCOPE_CLUSTER_NODES").pipe(
    Config.withDefault(defaultSettings.nodes),
    Config.validate({ message: "between 1 and 9 nodes", validation: (n) => n >= 1 && n <= 9 })
  ),
  sqlPortBase: port("DBSCOPE_CLUSTER_SQL_PORT_BASE", defaultSettings.sqlPortBase),
  galeraPortBase: port("DBSCOPE_CLUSTER_GALERA_PORT_BASE", defaultSettings.galeraPortBase),
  bufferPool: Config.string("DBSCOPE_CLUSTER_BUFFER_POOL").pipe(Config.withDefault(defaultSettings.bufferPool))
})

/** Starting, stopping or asking the cluster failed; `reason` names the node and says why. */
export class ClusterError extends Data.TaggedError("ClusterError")<{ readonly reason: string }> {
  override get message() {
    return `Galera cluster: ${this.reason}`
  }
}

/** One node as `status` sees it. */
export interface NodeStatus {
  readonly node: number
  readonly port: number
  readonly pid: Option.Option<number>
  /** `wsrep_local_state_comment` (`Synced`, `Joining`, `Donor/Desynced`…); none when down or not answering. */
  readonly wsrepState: Option.Option<string>
  readonly clusterSize: Option.Option<number>
  readonly ready: boolean
}

const mariadbd = "/usr/sbin/mariadbd"
const installDb = "/usr/bin/mariadb-install-db"
const galeraProvider = "/usr/lib/galera/libgalera_smm.so"
/** Written into the cluster's folder: `start` wipes only a folder that has it (or an empty one). */
const marker = ".dbscope-galera-cluster"

/** How long a node may take to start and reach Synced (SST included). */
const nodeDeadline = Duration.seconds(90)
/** How long a node may take to shut down after SIGTERM before it gets SIGKILL. */
const stopDeadline = Duration.seconds(30)
/** How often a starting node is asked for its state. */
const pollEvery = Schedule.spaced("250 millis")

/** The nodes' numbers, 1…N. */
export const nodeNumbers = (settings: ClusterSettings): ReadonlyArray<number> =>
  Array.from({ length: settings.nodes }, (_, index) => index + 1)

const sqlPort = (settings: ClusterSettings, node: number) => settings.sqlPortBase + node
const galeraPort = (settings: ClusterSettings, node: number) => settings.galeraPortBase + 10 * node

const pathsOf = (settings: ClusterSettings, node: number) => {
  const dir = path.resolve(settings.dir)
  return {
    datadir: path.join(dir, `node${node}`),
    socket: path.join(dir, `node${node}.sock`),
    pidFile: path.join(dir, `node${node}.pid`),
    errorLog: path.join(dir, `node${node}.err`),
    /** The server's stdout/stderr: only what it prints before its error log is open. */
    output: path.join(dir, `node${node}.out`)
  }
}

/** The URL of the cluster, every node a host: `mysql://root@127.0.0.1:3311,127.0.0.1:3312,127.0.0.1:3313/test`. */
export const url = (settings: ClusterSettings): string =>
  `mysql://root@${nodeNumbers(settings).map((node) => `127.0.0.1:${sqlPort(settings, node)}`).join(",")}/test`

/** Whether this process is root: then the nodes run as user `mysql`, else as this user. */
const asRoot = () => process.getuid?.() === 0

/**
 * How a node starts: it `Bootstrap`s a new cluster (node 1), `Join`s it by SST (a fresh node), or
 * `Rejoin`s it from its recovered position (by IST when the donor's gcache still holds what it missed).
 */
type Start =
  | { readonly _tag: "Bootstrap" }
  | { readonly _tag: "Join" }
  | { readonly _tag: "Rejoin"; readonly position: Option.Option<string> }

/** The command line of node `node`. */
const serverArgs = (settings: ClusterSettings, node: number, start: Start): Array<string> => {
  const paths = pathsOf(settings, node)
  const g = galeraPort(settings, node)
  const members = nodeNumbers(settings).map((n) => `127.0.0.1:${galeraPort(settings, n)}`).join(",")
  return [
    "--no-defaults",
    ...(asRoot() ? ["--user=mysql"] : []),
    `--datadir=${paths.datadir}`,
    `--port=${sqlPort(settings, node)}`,
    `--socket=${paths.socket}`,
    `--pid-file=${paths.pidFile}`,
    "--bind-address=127.0.0.1",
    `--log-error=${paths.errorLog}`,
    "--wsrep-on=ON",
    `--wsrep-provider=${galeraProvider}`,
    "--wsrep-cluster-name=dbscope",
    `--wsrep-node-name=node${node}`,
    `--wsrep-node-address=127.0.0.1:${g}`,
    `--wsrep-cluster-address=gcomm://${members}`,
    // gcache 64M (128M by default) still holds far more than a test writes while a node is down, so
    // a restarted node rejoins by IST. Commits wait while a member that vanished is only suspected:
    // 2 s before it is (5 s by default) bounds that stall, with room for a loaded 2-core machine.
    `--wsrep-provider-options=${
      [
        `gmcast.listen_addr=tcp://127.0.0.1:${g}`,
        `ist.recv_addr=127.0.0.1:${g + 1}`,
        "gcache.size=64M",
        "evs.keepalive_period=PT0.5S",
        "evs.inactive_check_period=PT0.5S",
        "evs.suspect_timeout=PT2S",
        "evs.inactive_timeout=PT6S"
      ].join(";")
    }`,
    `--wsrep-sst-receive-address=127.0.0.1:${g + 2}`,
    "--wsrep-sst-method=rsync",
    ...(start._tag === "Bootstrap" ? ["--wsrep-new-cluster"] : []),
    ...(start._tag === "Rejoin" ? Option.toArray(start.position).map((at) => `--wsrep-start-position=${at}`) : []),
    "--binlog-format=ROW",
    "--innodb-autoinc-lock-mode=2",
    // dbscope writes through one node: ids then count up by one as on one server, not in steps of
    // the cluster's size (an id taken through two nodes at once fails certification, and is retried).
    "--wsrep-auto-increment-control=OFF",
    ...smallServer(settings)
  ]
}

/** Settings that keep a node small and quick to start (also given to `mariadb-install-db`). */
const smallServer = (settings: ClusterSettings) => [
  `--innodb-buffer-pool-size=${settings.bufferPool}`,
  "--innodb-log-file-size=16M",
  "--innodb-log-buffer-size=4M",
  "--key-buffer-size=1M",
  "--aria-pagecache-buffer-size=8M",
  "--performance-schema=OFF",
  "--skip-name-resolve",
  "--max-connections=200",
  "--table-open-cache=400",
  "--thread-cache-size=8"
]

const clusterError = (reason: string) => new ClusterError({ reason })

/** `error`'s message, for a reason. */
const describe = (error: unknown) => error instanceof Error ? error.message : String(error)

// --- Processes ---------------------------------------------------------------------------------------

/** Whether `pid` is a live (not zombie) `mariadbd` serving `datadir`. */
const servesDatadir = (pid: number, datadir: string): boolean => {
  try {
    const args = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")
    const state = fs.readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /s, "").charAt(0)
    return state !== "Z" && (args[0] ?? "").endsWith("mariadbd") && args.includes(`--datadir=${datadir}`)
  } catch {
    return false
  }
}

/** The text of `file`, or "" when it cannot be read (not written yet, or removed meanwhile). */
const readText = (file: string): string => {
  try {
    return fs.readFileSync(file, "utf8")
  } catch {
    return ""
  }
}

/** The pid of node `node`'s server, if it runs: from its pid file, else by scanning `/proc`. */
const pidOf = (settings: ClusterSettings, node: number): Effect.Effect<Option.Option<number>> =>
  Effect.sync(() => {
    const { datadir, pidFile } = pathsOf(settings, node)
    const recorded = Number.parseInt(readText(pidFile), 10)
    if (Number.isInteger(recorded) && servesDatadir(recorded, datadir)) return Option.some(recorded)
    const found = fs.readdirSync("/proc").filter((entry) => /^\d+$/.test(entry)).map(Number)
      .find((pid) => servesDatadir(pid, datadir))
    return Option.fromNullable(found)
  })

const alive = (pid: number, settings: ClusterSettings, node: number) =>
  Effect.sync(() => servesDatadir(pid, pathsOf(settings, node).datadir))

const signal = (pid: number, name: NodeJS.Signals) =>
  Effect.sync(() => {
    try {
      process.kill(pid, name)
    } catch {
      // Gone already.
    }
  })

/** Waits until `pid` no longer serves node `node`, for at most `deadline`. */
const waitGone = (settings: ClusterSettings, node: number, pid: number, deadline: Duration.Duration) =>
  alive(pid, settings, node).pipe(
    Effect.repeat({ schedule: Schedule.spaced("100 millis").pipe(Schedule.upTo(deadline)), while: (up) => up }),
    Effect.zipRight(alive(pid, settings, node)),
    Effect.map((up) => !up)
  )

/** The last lines of node `node`'s error log, errors first, as one line. */
const logTail = (settings: ClusterSettings, node: number): string => {
  const { errorLog, output } = pathsOf(settings, node)
  const lines = [output, errorLog].flatMap((file) => readText(file).split("\n").slice(-40))
    .map((line) => line.trim()).filter((line) => line.length > 0)
  const errors = lines.filter((line) => line.includes("[ERROR]"))
  const tail = (errors.length > 0 ? errors : lines).slice(-3).join(" | ")
  return `${tail.length > 400 ? `…${tail.slice(-400)}` : tail || "(empty log)"} (log: ${errorLog})`
}

// --- SQL on a node -----------------------------------------------------------------------------------

/** Runs `sql` on node `node` as root over its unix socket (which works before TCP logins are set up). */
const query = (settings: ClusterSettings, node: number, sql: string) =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      const connection = Mysql.createConnection({
        socketPath: pathsOf(settings, node).socket,
        user: "root",
        connectTimeout: 2000
      })
      connection.on("error", () => {}) // reported to the query below
      return connection
    }),
    (connection) =>
      Effect.async<Array<Mysql.RowDataPacket>, ClusterError>((resume) => {
        connection.query<Array<Mysql.RowDataPacket>>(
          sql,
          (error, rows) =>
            resume(error === null ? Effect.succeed(rows) : Effect.fail(clusterError(`node ${node}: ${error.message}`)))
        )
      }).pipe(
        Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => clusterError(`node ${node} did not answer`) })
      ),
    // Quit politely when the query ran (a dropped connection is logged by the server as aborted).
    (connection, exit) =>
      Exit.isSuccess(exit)
        ? Effect.async<void>((resume) => connection.end(() => resume(Effect.void)))
        : Effect.sync(() => connection.destroy())
  )

interface Wsrep {
  readonly state: string
  readonly size: number
  readonly ready: boolean
  readonly primary: boolean
}

const wsrepOf = (settings: ClusterSettings, node: number) =>
  query(
    settings,
    node,
    "SHOW GLOBAL STATUS WHERE Variable_name IN " +
      "('wsrep_local_state_comment', 'wsrep_cluster_size', 'wsrep_ready', 'wsrep_cluster_status')"
  ).pipe(Effect.map((rows): Wsrep => {
    const value = (name: string) => String(rows.find((row) => row.Variable_name === name)?.Value ?? "")
    return {
      state: value("wsrep_local_state_comment"),
      size: Number(value("wsrep_cluster_size")),
      ready: value("wsrep_ready") === "ON",
      primary: value("wsrep_cluster_status") === "Primary"
    }
  }))

/** A node that is not there yet; retried until the deadline. */
class NotYet extends Data.TaggedError("NotYet")<{ readonly observed: string }> {}

/**
 * Waits until node `node` (server `pid`) is Synced, ready, in a primary component of `size` nodes;
 * fails when its process exits or the deadline passes, with the tail of its error log.
 */
const waitSynced = (settings: ClusterSettings, node: number, pid: number, size: number) =>
  Effect.gen(function*() {
    if (!(yield* alive(pid, settings, node))) {
      return yield* clusterError(`node ${node} exited while starting: ${logTail(settings, node)}`)
    }
    const wsrep = yield* wsrepOf(settings, node).pipe(
      Effect.mapError((error) => new NotYet({ observed: error.reason }))
    )
    if (wsrep.state !== "Synced" || !wsrep.ready || !wsrep.primary || wsrep.size !== size) {
      return yield* new NotYet({
        observed: `state ${wsrep.state || "?"}, cluster size ${wsrep.size} of ${size}, ready ${wsrep.ready}`
      })
    }
  }).pipe(
    Effect.retry({ schedule: pollEvery.pipe(Schedule.upTo(nodeDeadline)), while: (error) => error._tag === "NotYet" }),
    Effect.catchTag("NotYet", (error) =>
      clusterError(
        `node ${node} not Synced after ${Duration.format(nodeDeadline)} (${error.observed}): ${logTail(settings, node)}`
      ))
  )

// --- Files -------------------------------------------------------------------------------------------

/** The uid and gid of user `mysql`, from /etc/passwd. */
const mysqlUser = Effect.try({
  try: () => fs.readFileSync("/etc/passwd", "utf8"),
  catch: (error) => clusterError(`cannot read /etc/passwd: ${describe(error)}`)
}).pipe(Effect.flatMap((passwd) => {
  const [, , uid, gid] = passwd.split("\n").find((line) => line.startsWith("mysql:"))?.split(":") ?? []
  return uid === undefined || gid === undefined
    ? clusterError("there is no user mysql to run the nodes as: install MariaDB's server package")
    : Effect.succeed({ uid: Number(uid), gid: Number(gid) })
}))

/** Fails unless user mysql can traverse every folder above `dir` (else a joiner's rsync SST fails). */
const checkTraversable = (dir: string, user: { readonly uid: number; readonly gid: number }) =>
  Effect.forEach(ancestors(dir), (folder) =>
    Effect.flatMap(
      Effect.try({ try: () => fs.statSync(folder), catch: (error) => clusterError(describe(error)) }),
      (stat) => {
        const traversable = (stat.mode & 0o001) !== 0 ||
          (stat.gid === user.gid && (stat.mode & 0o010) !== 0) ||
          (stat.uid === user.uid && (stat.mode & 0o100) !== 0)
        return traversable ? Effect.void : clusterError(
          `user mysql cannot enter ${folder} (mode ${(stat.mode & 0o777).toString(8)}), so a joining node's ` +
            `rsync SST would fail: chmod o+x ${folder} or choose another DBSCOPE_CLUSTER_DIR`
        )
      }
    ), { discard: true })

/** The existing folders above `dir`, from `/` down. */
const ancestors = (dir: string): Array<string> => {
  const above: Array<string> = []
  for (let folder = path.dirname(dir); !above.includes(folder); folder = path.dirname(folder)) {
    if (fs.existsSync(folder)) above.unshift(folder)
  }
  return above
}

/** Empties (or creates) the cluster's folder, refusing one that holds something else. */
const wipe = (dir: string) =>
  Effect.try({
    try: () => {
      if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0 && !fs.existsSync(path.join(dir, marker))) {
        return false
      }
      fs.rmSync(dir, { recursive: true, force: true })
      fs.mkdirSync(dir, { recursive: true, mode: 0o755 })
      fs.chmodSync(dir, 0o755)
      fs.writeFileSync(path.join(dir, marker), "made by dbscope's GaleraCluster.start; wiped by the next start\n")
      return true
    },
    catch: (error) => clusterError(`cannot prepare ${dir}: ${describe(error)}`)
  }).pipe(Effect.flatMap((wiped) =>
    wiped ? Effect.void : clusterError(
      `${dir} is not empty and was not made by this tool: empty it or choose another DBSCOPE_CLUSTER_DIR`
    )
  ))

const chownTree = (target: string, user: { readonly uid: number; readonly gid: number }) =>
  Effect.try({
    try: () => {
      fs.chownSync(target, user.uid, user.gid)
      if (fs.statSync(target).isDirectory()) {
        for (const entry of fs.readdirSync(target, { recursive: true, encoding: "utf8" })) {
          fs.lchownSync(path.join(target, entry), user.uid, user.gid)
        }
      }
    },
    catch: (error) => clusterError(`cannot give ${target} to user mysql: ${describe(error)}`)
  })

/** Runs a program to its end; its stdout and stderr, or a failure with their last lines. */
const run = (file: string, args: ReadonlyArray<string>) =>
  Effect.async<string, ClusterError>((resume) => {
    execFile(file, [...args], { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const output = `${stdout}\n${stderr}`.trim()
      if (error === null) return resume(Effect.succeed(output))
      const tail = output.split("\n").slice(-3).join(" | ")
      resume(Effect.fail(clusterError(`${path.basename(file)} failed: ${tail || error.message}`)))
    })
  })

/** Fails when something already listens on one of the cluster's ports (a node would die with a vaguer error). */
const checkPortsFree = (settings: ClusterSettings) =>
  Effect.forEach(
    nodeNumbers(settings).flatMap((node) => {
      const g = galeraPort(settings, node)
      return [sqlPort(settings, node), g, g + 1, g + 2]
    }),
    (port) =>
      Effect.async<void, ClusterError>((resume) => {
        const server = Net.createServer()
        server.once(
          "error",
          (error) => resume(Effect.fail(clusterError(`port ${port} on 127.0.0.1 is in use (${describe(error)})`)))
        )
        server.listen(port, "127.0.0.1", () => server.close(() => resume(Effect.void)))
      }),
    { discard: true }
  )

const checkInstalled = Effect.forEach(
  [mariadbd, installDb, galeraProvider, "/usr/bin/rsync"],
  (file) =>
    fs.existsSync(file)
      ? Effect.void
      : clusterError(`${file} is missing: install mariadb-server, galera-4 and rsync`),
  { discard: true }
)

// --- Nodes -------------------------------------------------------------------------------------------

/** Starts node `node`'s server, detached (it outlives this process); its pid. */
const launch = (settings: ClusterSettings, node: number, start: Start) =>
  Effect.try({
    try: () => {
      const output = fs.openSync(pathsOf(settings, node).output, "a")
      try {
        const child = spawn(mariadbd, serverArgs(settings, node, start), {
          detached: true,
          stdio: ["ignore", output, output]
        })
        child.on("error", () => {}) // a failed spawn leaves `pid` undefined, reported below
        child.unref()
        return child.pid
      } finally {
        fs.closeSync(output)
      }
    },
    catch: (error) => clusterError(`cannot start node ${node}: ${describe(error)}`)
  }).pipe(Effect.flatMap((pid) =>
    pid === undefined ? clusterError(`cannot start node ${node}: ${mariadbd} did not run`) : Effect.succeed(pid)
  ))

/** Starts node `node` and waits until it is Synced in a cluster of `size`. */
const startNode = (settings: ClusterSettings, node: number, start: Start, size: number) =>
  Effect.gen(function*() {
    yield* Effect.logInfo(`node ${node}: starting${start._tag === "Bootstrap" ? " (new cluster)" : ""}`)
    const started = Date.now()
    const pid = yield* launch(settings, node, start)
    yield* waitSynced(settings, node, pid, size)
    yield* Effect.logInfo(`node ${node}: Synced (pid ${pid}, port ${sqlPort(settings, node)}) in ${seconds(started)}`)
  })

const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`

/**
 * The position (`uuid:seqno`) of a node that crashed, recovered from its InnoDB data by
 * `mariadbd --wsrep-recover`, as `mysqld_safe` does; none after a clean shutdown (grastate.dat has it).
 * Without it a killed node asks for its state from position -1 and gets a full SST instead of IST.
 */
const recoverPosition = (settings: ClusterSettings, node: number) =>
  Effect.gen(function*() {
    const saved = yield* Effect.sync(() => readText(path.join(pathsOf(settings, node).datadir, "grastate.dat")))
    if (!/^seqno:\s+-1\s*$/m.test(saved)) return Option.none<string>()
    const started = Date.now()
    const output = yield* run(mariadbd, [
      ...serverArgs(settings, node, { _tag: "Join" }).filter((arg) => !arg.startsWith("--log-error=")),
      "--wsrep-recover"
    ])
    const position = Option.fromNullable(/WSREP: Recovered position: (\S+:-?\d+)/.exec(output)?.[1])
      .pipe(Option.filter((at) => !at.endsWith(":-1")))
    yield* Effect.logInfo(
      `node ${node}: recovered position ${Option.getOrElse(position, () => "none")} in ${seconds(started)}`
    )
    return position
  })

/** Lets root log in over TCP from 127.0.0.1 without a password, and creates database `test` (node 1, before the others join). */
const prepareAccounts = (settings: ClusterSettings) =>
  Effect.forEach([
    "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'",
    "GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION",
    "CREATE DATABASE IF NOT EXISTS test"
  ], (sql) =>
    query(settings, 1, sql), { discard: true })

/** The pids of the running nodes, by node. */
const running = (settings: ClusterSettings) =>
  Effect.forEach(nodeNumbers(settings), (node) => Effect.map(pidOf(settings, node), (pid) => [node, pid] as const))

/** Waits until every node is Synced in a cluster of every node. */
const waitHealthy = (settings: ClusterSettings) =>
  Effect.forEach(nodeNumbers(settings), (node) =>
    Effect.flatMap(
      pidOf(settings, node),
      Option.match({
        onNone: () => clusterError(`node ${node} is not running`),
        onSome: (pid) => waitSynced(settings, node, pid, settings.nodes)
      })
    ), { discard: true })

/** Makes every node's folder and node 1's datadir, then starts node 1 as a new cluster and the others after it. */
const bootstrap = (settings: ClusterSettings) =>
  Effect.gen(function*() {
    const dir = path.resolve(settings.dir)
    yield* checkInstalled
    yield* checkPortsFree(settings)
    const user = asRoot() ? Option.some(yield* mysqlUser) : Option.none()
    if (Option.isSome(user)) yield* checkTraversable(dir, user.value)
    yield* wipe(dir)
    for (const node of nodeNumbers(settings)) {
      yield* Effect.try({
        try: () => fs.mkdirSync(pathsOf(settings, node).datadir, { mode: 0o750 }),
        catch: (error) => clusterError(`cannot make node ${node}'s datadir: ${describe(error)}`)
      })
    }
    if (Option.isSome(user)) yield* chownTree(dir, user.value)
    yield* Effect.logInfo(`node 1: mariadb-install-db in ${pathsOf(settings, 1).datadir}`)
    yield* run(installDb, [
      "--no-defaults",
      ...(Option.isSome(user) ? ["--user=mysql"] : []),
      `--datadir=${pathsOf(settings, 1).datadir}`,
      "--auth-root-authentication-method=normal",
      "--skip-test-db",
      ...smallServer(settings)
    ])
    yield* startNode(settings, 1, { _tag: "Bootstrap" }, 1)
    yield* prepareAccounts(settings)
    for (const node of nodeNumbers(settings).slice(1)) {
      yield* startNode(settings, node, { _tag: "Join" }, node)
    }
  })

/**
 * Starts the cluster and returns its URL. A healthy running cluster is left as it is; nodes missing
 * from a running cluster are restarted; with no node running, the folder is wiped and a new cluster
 * made (node 1 bootstraps it, the others join one after the other by SST).
 */
export const start = Effect.fn("GaleraCluster.start")(function*(settings: ClusterSettings) {
  const started = Date.now()
  const pids = yield* running(settings)
  const up = pids.filter(([, pid]) => Option.isSome(pid))
  if (up.length === 0) {
    yield* bootstrap(settings)
  } else {
    for (const [node] of pids.filter(([, pid]) => Option.isNone(pid))) yield* restart(settings, node)
    yield* waitHealthy(settings)
  }
  yield* Effect.logInfo(
    up.length === settings.nodes
      ? "cluster already running"
      : `cluster ready: ${settings.nodes} nodes Synced in ${seconds(started)}`
  )
  return url(settings)
})

/**
 * Stops every node (SIGTERM, SIGKILL after 30 s), the last one first, and waits until they are gone.
 * The folder stays, for its logs; the next `start` wipes it.
 */
export const stop = Effect.fn("GaleraCluster.stop")(function*(settings: ClusterSettings) {
  const started = Date.now()
  const pids = yield* running(settings)
  // One after the other, the last node first: stopped together, each waits ~5 s for the others to
  // be declared gone (evs.suspect_timeout); one by one, each leaves a healthy cluster in ~0.1 s.
  yield* Effect.forEach([...pids].reverse(), ([node, pid]) =>
    Option.match(pid, {
      onNone: () => Effect.void,
      onSome: (pid) =>
        Effect.gen(function*() {
          yield* Effect.logInfo(`node ${node}: stopping (pid ${pid})`)
          yield* signal(pid, "SIGTERM")
          if (!(yield* waitGone(settings, node, pid, stopDeadline))) {
            yield* Effect.logWarning(`node ${node}: still running after ${Duration.format(stopDeadline)}, killing it`)
            yield* signal(pid, "SIGKILL")
            yield* waitGone(settings, node, pid, Duration.seconds(10))
          }
          yield* Effect.logInfo(`node ${node}: stopped`)
        })
    }), { discard: true })
  yield* Effect.logInfo(
    pids.some(([, pid]) => Option.isSome(pid)) ? `cluster stopped in ${seconds(started)}` : "no node was running"
  )
})

const checkNode = (settings: ClusterSettings, node: number) =>
  Number.isInteger(node) && node >= 1 && node <= settings.nodes
    ? Effect.void
    : clusterError(`there is no node ${node}: the nodes are 1 to ${settings.nodes}`)

/** Kills node `node` with SIGKILL, as a crash would, and waits until its process is gone. */
export const kill = Effect.fn("GaleraCluster.kill")(function*(settings: ClusterSettings, node: number) {
  yield* checkNode(settings, node)
  const pid = yield* pidOf(settings, node)
  if (Option.isNone(pid)) return yield* Effect.logInfo(`node ${node}: not running`)
  yield* signal(pid.value, "SIGKILL")
  if (!(yield* waitGone(settings, node, pid.value, Duration.seconds(10)))) {
    return yield* clusterError(`node ${node} (pid ${pid.value}) still runs after SIGKILL`)
  }
  yield* Effect.logInfo(`node ${node}: killed (pid ${pid.value})`)
})

/**
 * Starts node `node` again, without `--wsrep-new-cluster`: it rejoins the running nodes (by IST when
 * their gcache still holds what it missed) and is waited for until Synced. Nothing to do if it runs.
 */
export const restart = Effect.fn("GaleraCluster.restart")(function*(settings: ClusterSettings, node: number) {
  yield* checkNode(settings, node)
  const pids = yield* running(settings)
  if (pids.some(([n, pid]) => n === node && Option.isSome(pid))) {
    return yield* Effect.logInfo(`node ${node}: already running`)
  }
  const others = pids.filter(([, pid]) => Option.isSome(pid))
  if (others.length === 0) {
    return yield* clusterError(`no other node is running for node ${node} to join: start the cluster`)
  }
  const position = yield* recoverPosition(settings, node)
  yield* startNode(settings, node, { _tag: "Rejoin", position }, others.length + 1)
})

/** Every node: its pid if it runs, and what it says of itself and its cluster. Never fails. */
export const status = Effect.fn("GaleraCluster.status")(function*(settings: ClusterSettings) {
  return yield* Effect.forEach(nodeNumbers(settings), (node) =>
    Effect.gen(function*() {
      const pid = yield* pidOf(settings, node)
      const wsrep = Option.isSome(pid) ? yield* Effect.option(wsrepOf(settings, node)) : Option.none<Wsrep>()
      return {
        node,
        port: sqlPort(settings, node),
        pid,
        wsrepState: Option.map(wsrep, (w) => w.state),
        clusterSize: Option.map(wsrep, (w) => w.size),
        ready: Option.exists(wsrep, (w) => w.ready)
      } satisfies NodeStatus
    }), { concurrency: "unbounded" })
})

/** Whether every node runs, is Synced and ready, and sees all of them. */
export const healthy = (nodes: ReadonlyArray<NodeStatus>): boolean =>
  nodes.every((node) =>
    Option.contains(node.wsrepState, "Synced") && node.ready && Option.contains(node.clusterSize, nodes.length)
  )
