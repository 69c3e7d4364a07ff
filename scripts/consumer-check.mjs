// The package as a consumer installs it (`npm run consumer-check`, run by .ci/run after the tests):
// packs the build (`npm run build` first), installs the tarball with the peers README's Install
// names into a project of its own in a temporary folder, then
// - typechecks a small program against the published types, strict, WITHOUT skipLibCheck, and runs it;
// - runs `dbscope setup` and `dbscope count` from that project's node_modules/.bin;
// - checks that MySQL without its optional peers is one line naming what to install;
// and prints how many packages the install brought and their size.
// Offline-capable: `npm install --prefer-offline` takes what the npm cache has. `--keep` keeps the folder.
// better-sqlite3's native binding: this machine cannot download a prebuilt one, so its install script
// compiles it (~100 s on 2 cores), which `npm ci` in this repository has just done for the same
// version. By default the consumer installs without scripts and gets a copy of that binding;
// `--build-native` runs the install script there too, as a consumer's npm (with allowScripts) does.
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const manifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"))
const run = promisify(execFile)
const keep = process.argv.includes("--keep")
const buildNative = process.argv.includes("--build-native")
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dbscope-consumer-"))

/** Runs a command; on failure prints what it said and stops with exit code 1. */
const step = async (what, file, args, options = {}) => {
  const started = Date.now()
  try {
    const result = await run(file, args, { maxBuffer: 64 * 1024 * 1024, ...options })
    process.stdout.write(`ok   ${what} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`)
    return result
  } catch (error) {
    fail(`${what}\n${error.stdout ?? ""}${error.stderr ?? error.message}`)
  }
}

const fail = (message) => {
  process.stdout.write(`FAIL ${message}\n`)
  if (!keep) fs.rmSync(dir, { recursive: true, force: true })
  process.exit(1)
}

/** Gives the consumer this repository's compiled better-sqlite3 binding (same version), or builds one. */
const copyNativeBinding = () => {
  const ours = path.join(root, "node_modules", "better-sqlite3")
  const theirs = path.join(dir, "node_modules", "better-sqlite3")
  const version = (folder) => JSON.parse(fs.readFileSync(path.join(folder, "package.json"), "utf8")).version
  if (version(ours) !== version(theirs)) {
    fail(`better-sqlite3 ${version(theirs)} is not ours (${version(ours)}): run with --build-native`)
  }
  fs.cpSync(
    path.join(ours, "build", "Release", "better_sqlite3.node"),
    path.join(theirs, "build", "Release", "better_sqlite3.node")
  )
  process.stdout.write(`ok   better-sqlite3 ${version(ours)}: the binding npm ci built here, copied\n`)
}

try {
  await step("npm pack", "npm", ["pack", "--ignore-scripts", "--silent", "--pack-destination", dir], { cwd: root })
  const tarball = fs.readdirSync(dir).find((file) => file.endsWith(".tgz"))
  if (tarball === undefined) fail("npm pack made no tarball")

  // What README's Install says: dbscope and its required peers (the versions this build pins), and
  // npm 11's approval of better-sqlite3's install script (its native binding).
  const peers = Object.entries(manifest.peerDependencies)
    .filter(([name]) => manifest.peerDependenciesMeta?.[name]?.optional !== true)
    .map(([name, range]) => `${name}@${range}`)
  fs.writeFileSync(
    path.join(dir, "package.json"),
    JSON.stringify({ name: "consumer", private: true, type: "module", allowScripts: { "better-sqlite3": true } })
  )
  await step(
    `npm install ${tarball} ${peers.join(" ")}`,
    "npm",
    [
      "install",
      "--prefer-offline",
      "--no-audit",
      "--no-fund",
      ...(buildNative ? [] : ["--ignore-scripts"]),
      `./${tarball}`,
      ...peers
    ],
    { cwd: dir }
  )
  if (!buildNative) copyNativeBinding()

  fs.writeFileSync(
    path.join(dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "NodeNext",
        moduleResolution: "NodeNext",
        strict: true,
        exactOptionalPropertyTypes: true,
        noUncheckedIndexedAccess: true,
        skipLibCheck: false,
        types: [],
        outDir: "out"
      },
      files: ["index.ts"]
    })
  )
  fs.writeFileSync(
    path.join(dir, "index.ts"),
    [
      `import * as SqlClient from "@effect/sql/SqlClient"`,
      `import { Database, setup, UserRepo } from "dbscope"`,
      `import * as Effect from "effect/Effect"`,
      `import * as Layer from "effect/Layer"`,
      ``,
      `const database = UserRepo.Default.pipe(`,
      `  Layer.provideMerge(Database.layer({ backend: Database.Backend.Sqlite({ filename: "lib.db" }), create: true }))`,
      `)`,
      ``,
      `const program = Effect.gen(function*() {`,
      `  // No Progress layer: the import is silent by default.`,
      `  yield* setup({ synthetic: 42 })`,
      `  const sql = yield* SqlClient.SqlClient`,
      `  const rows = yield* sql<{ readonly n: number }>\`SELECT COUNT(*) AS n FROM users\``,
      `  const count: number = yield* (yield* UserRepo).count`,
      `  console.log(count === rows[0]?.n ? count : -1)`,
      `})`,
      ``,
      `Effect.runPromise(Effect.provide(program, database))`,
      ``
    ].join("\n")
  )
  await step(
    "tsc (strict, NodeNext, no skipLibCheck)",
    process.execPath,
    [path.join(root, "node_modules", "typescript", "bin", "tsc"), "-p", dir],
    { cwd: dir }
  )
  const program = await step("node out/index.js", process.execPath, ["out/index.js"], { cwd: dir })
  // Effect's default logger also prints the connection's open/close lines (level INFO) on stdout.
  const printed = program.stdout.split("\n").filter((line) => !line.startsWith("timestamp="))
  if (printed[0] !== "42") fail(`the program printed ${JSON.stringify(program.stdout)}, not 42`)

  const dbscope = path.join(dir, "node_modules", ".bin", "dbscope")
  await step("dbscope setup --db x.db", dbscope, ["setup", "--db", "x.db"], { cwd: dir })
  const count = await step("dbscope count --db x.db", dbscope, ["count", "--db", "x.db"], { cwd: dir })
  if (count.stdout.trim() !== "1000") fail(`dbscope count printed ${JSON.stringify(count.stdout)}, not 1000`)

  // `setup` creates the database first (a connection of its own), `count` opens the pool.
  for (const command of ["count", "setup"]) {
    const mysql = await run(dbscope, ["--url", "mysql://root@127.0.0.1:3306/x", command], { cwd: dir }).then(
      () => fail(`dbscope --url … ${command} succeeded without mysql2`),
      (error) => error
    )
    const expected =
      "dbscope: MySQL support needs @effect/sql-mysql2 and mysql2: npm install @effect/sql-mysql2 mysql2\n"
    if (mysql.code !== 1 || mysql.stderr !== expected) {
      fail(
        `dbscope --url … ${command} without the MySQL peers: exit ${mysql.code}, stderr ${JSON.stringify(mysql.stderr)}`
      )
    }
    process.stdout.write(`ok   dbscope --url … ${command} without the MySQL peers: one line naming them, exit 1\n`)
  }

  const traced = await run(dbscope, ["--trace", "count", "--db", "x.db"], { cwd: dir }).then(
    () => fail("dbscope --trace count succeeded without the OpenTelemetry packages"),
    (error) => error
  )
  if (traced.code !== 1 || !/^dbscope: tracing support needs @effect\/opentelemetry, [^\n]*\n$/.test(traced.stderr)) {
    fail(
      `dbscope --trace count without the tracing peers: exit ${traced.code}, stderr ${JSON.stringify(traced.stderr)}`
    )
  }
  process.stdout.write("ok   dbscope --trace count without the tracing peers: one line naming them, exit 1\n")

  const { stdout: listed } = await run("npm", ["ls", "--all", "--parseable"], { cwd: dir }).catch((error) => error)
  const packages = new Set(listed.split("\n").filter((line) => line.includes("node_modules"))).size
  const { stdout: size } = await run("du", ["-sh", "node_modules"], { cwd: dir })
  process.stdout.write(`installed: ${packages} packages, ${size.split("\t")[0]} in node_modules\n`)
} finally {
  if (keep) process.stdout.write(`kept ${dir}\n`)
  else fs.rmSync(dir, { recursive: true, force: true })
}
