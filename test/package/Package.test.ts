/**
 * The package as a consumer installs it: what package.json declares against what the shipped files
 * import. Read from the build (`dist/`, made by `npm run build` / `pretest`), the way npm ships it.
 * The full install into a project of its own is `npm run consumer-check` (scripts/consumer-check.mjs).
 */
import { describe, expect, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import { builtinModules } from "node:module"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"

const root = fileURLToPath(new URL("../../", import.meta.url))
const dist = path.join(root, "dist")

interface Manifest {
  readonly dependencies?: Record<string, string>
  readonly devDependencies?: Record<string, string>
  readonly peerDependencies?: Record<string, string>
  readonly peerDependenciesMeta?: Record<string, { readonly optional?: boolean }>
  readonly files?: ReadonlyArray<string>
  readonly allowScripts?: Record<string, boolean>
}

const manifest: Manifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"))
const dependencies = Object.keys(manifest.dependencies ?? {})
const peers = Object.keys(manifest.peerDependencies ?? {})
const isOptionalPeer = (name: string) => manifest.peerDependenciesMeta?.[name]?.optional === true
const requiredPeers = peers.filter((name) => !isOptionalPeer(name))
const optionalPeers = peers.filter(isOptionalPeer)

/** The package a bare specifier names (`@effect/sql/SqlClient` → `@effect/sql`); undefined for files and `node:`. */
const packageOf = (specifier: string): string | undefined => {
  if (specifier.startsWith(".") || specifier.startsWith("/") || specifier.startsWith("node:")) return undefined
  const parts = specifier.split("/")
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]
}

const builtins = new Set(builtinModules)

/**
 * Packages the bundled `ws` (the WebSocket support of `@effect/platform-node`'s HTTP server) loads
 * inside a try/catch, as optional native speed-ups: it works without them.
 */
const optionalInsideBundle = new Set(["bufferutil", "utf-8-validate"])

interface Imports {
  /** Packages loaded as soon as the entry is (static imports of the files it loads). */
  readonly eager: Set<string>
  /** Packages loaded only by an `import()` somewhere below the entry. */
  readonly lazy: Set<string>
  /** Node's own modules (`node:net`): in declarations they need `@types/node`, which a consumer may not have. */
  readonly builtins: Set<string>
  readonly files: Set<string>
}

const staticImport = /(?:^|\n)\s*(?:import|export)\s(?:[^"';]*?\sfrom\s)?["']([^"']+)["']/g
const dynamicImport = /\bimport\(\s*["']([^"']+)["']\s*\)/g

/** Follows the relative imports of compiled ES modules from `entries` (files under dist/). */
const importsOf = (entries: ReadonlyArray<string>, extension: ".js" | ".d.ts"): Imports => {
  const result: Imports = { eager: new Set(), lazy: new Set(), builtins: new Set(), files: new Set() }
  const visit = (file: string, lazy: boolean) => {
    const key = `${lazy}:${file}`
    if (result.files.has(key)) return
    result.files.add(key)
    const text = fs.readFileSync(file, "utf8")
    const found = [
      ...[...text.matchAll(staticImport)].map((match) => [match[1]!, lazy] as const),
      ...[...text.matchAll(dynamicImport)].map((match) => [match[1]!, true] as const)
    ]
    for (const [specifier, isLazy] of found) {
      const name = packageOf(specifier)
      if (specifier.startsWith("node:")) result.builtins.add(specifier)
      else if (name !== undefined) {
        if (builtins.has(name)) result.builtins.add(name)
        else (isLazy ? result.lazy : result.eager).add(name)
      } else if (specifier.startsWith(".")) {
        const target = path.resolve(path.dirname(file), specifier)
        visit(extension === ".js" ? target : target.replace(/\.js$/, ".d.ts"), isLazy)
      }
    }
  }
  for (const entry of entries) visit(path.join(dist, entry), false)
  for (const name of result.eager) result.lazy.delete(name)
  return result
}

/** What the bundled CLI requires at run time (esbuild leaves these outside the bundle). */
const bundleRequires = (file: string): Set<string> =>
  new Set(
    [...fs.readFileSync(path.join(dist, file), "utf8").matchAll(/\brequire\("([^"]+)"\)/g)]
      .map((match) => packageOf(match[1]!))
      .filter((name): name is string => name !== undefined && !builtins.has(name))
  )

/** The library's entries, and the scripts it runs from dist/src in threads and processes of their own. */
const libraryEntries = ["src/index.js", "src/testing/index.js", "src/readers/ReaderWorker.js", "src/bench/SuiteMain.js"]
const publicTypes = ["src/index.d.ts", "src/testing/index.d.ts"]

/** Every declaration file under dist/src that the tarball ships (the CLI's modules are bundled instead). */
const shippedDeclarations = (): Array<string> =>
  fs.readdirSync(path.join(dist, "src"), { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".d.ts") && !file.startsWith("cli/"))
    .map((file) => path.join("src", file))

/** The packages of the optional features: MySQL/MariaDB and tracing. */
const optionalFeature = (name: string) =>
  name === "mysql2" || name === "@effect/sql-mysql2" || name === "@effect/opentelemetry" ||
  name.startsWith("@opentelemetry/")

describe("package.json", () => {
  it("effect and the @effect packages the API composes with are peers, pinned for the build, never dependencies", () => {
    for (const name of ["effect", "@effect/sql", "@effect/platform", "@effect/experimental"]) {
      expect(requiredPeers, name).toContain(name)
      expect(manifest.devDependencies?.[name], name).toBeDefined()
    }
    // A dependency bringing its own copy of effect would split tags and fibers in two.
    expect(dependencies.filter((name) => name === "effect" || name.startsWith("@effect/"))).toEqual(
      dependencies.includes("@effect/sql-sqlite-node") ? ["@effect/sql-sqlite-node"] : []
    )
    for (const name of peers) expect(manifest.devDependencies?.[name], `${name} pinned for the build`).toBeDefined()
  })

  it("MySQL and tracing are optional peers", () => {
    for (const name of ["mysql2", "@effect/sql-mysql2", "@effect/opentelemetry", "@opentelemetry/api"]) {
      expect(optionalPeers, name).toContain(name)
    }
    expect(peers.filter(optionalFeature).filter((name) => !isOptionalPeer(name))).toEqual([])
    expect(dependencies.filter(optionalFeature)).toEqual([])
  })

  it("every package the shipped JavaScript imports is declared, and optional ones are loaded lazily", () => {
    const library = importsOf(libraryEntries, ".js")
    const mysqlWorker = importsOf(["src/readers/MysqlReaderWorker.js"], ".js")
    const cli = bundleRequires("bin/dbscope.cjs")
    const always = [...dependencies, ...requiredPeers]
    expect([...library.eager].filter((name) => !always.includes(name)), "loaded by `import \"dbscope\"`").toEqual([])
    expect(
      [...library.lazy, ...mysqlWorker.eager].filter((name) => !peers.includes(name) && !dependencies.includes(name))
    )
      .toEqual([])
    expect(
      [...cli].filter((name) =>
        !peers.includes(name) && !dependencies.includes(name) && !optionalInsideBundle.has(name)
      ),
      "required by the CLI"
    )
      .toEqual([])
  })

  it("the bundled CLI loads its external packages with require (the launcher's script cannot run import())", () => {
    const bundle = fs.readFileSync(path.join(dist, "bin", "dbscope.cjs"), "utf8")
    expect([...bundle.matchAll(/\bimport\(\s*["'`]([^"'`]+)["'`]\s*\)/g)].map((match) => match[1])).toEqual([])
  })

  it("declares nothing that nothing imports", () => {
    const used = new Set([
      ...importsOf([...libraryEntries, "src/readers/MysqlReaderWorker.js"], ".js").eager,
      ...importsOf([...libraryEntries, "src/readers/MysqlReaderWorker.js"], ".js").lazy,
      ...bundleRequires("bin/dbscope.cjs"),
      // Every shipped declaration file (TracingSdk's names @opentelemetry/core's types).
      ...importsOf(shippedDeclarations(), ".d.ts").eager
    ])
    // A required peer may also be one that the other peers require (@effect/platform, for @effect/sql).
    const peersOfPeers = new Set(
      requiredPeers.flatMap((name) =>
        Object.keys(
          (JSON.parse(fs.readFileSync(path.join(root, "node_modules", name, "package.json"), "utf8")) as Manifest)
            .peerDependencies ?? {}
        )
      )
    )
    expect(dependencies.filter((name) => !used.has(name))).toEqual([])
    expect(requiredPeers.filter((name) => !used.has(name) && !peersOfPeers.has(name))).toEqual([])
    expect(optionalPeers.filter((name) => !used.has(name))).toEqual([])
  })

  it("the public declarations need no types the consumer lacks (no @types/better-sqlite3, no optional peer)", () => {
    const types = importsOf(publicTypes, ".d.ts")
    const own = [...types.eager, ...types.lazy]
    expect(own.filter((name) => !requiredPeers.includes(name) && name !== "csv-parse")).toEqual([])
    expect([...types.builtins]).toEqual([])
  })

  it("approves the install scripts of better-sqlite3 (native) and esbuild", () => {
    expect(manifest.allowScripts).toMatchObject({ "better-sqlite3": true, esbuild: true })
    expect(dependencies).toContain("better-sqlite3")
  })
})

describe("the tarball", () => {
  it("ships what runs: the build, the sample data, the README; no tests, sources, CI or reports", async () => {
    expect(manifest.files).toBeDefined()
    const { stdout } = await promisify(execFile)("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
      cwd: root,
      maxBuffer: 64 * 1024 * 1024
    })
    const files: Array<string> = JSON.parse(stdout)[0].files.map((file: { path: string }) => file.path)
    for (
      const file of [
        "package.json",
        "README.md",
        "dist/bin/dbscope.js",
        "dist/bin/dbscope.cjs",
        "dist/src/index.js",
        "dist/src/index.d.ts",
        "dist/src/testing/index.js",
        "dist/src/readers/ReaderWorker.js",
        "dist/src/readers/MysqlReaderWorker.js",
        "dist/src/bench/SuiteMain.js",
        "data/user_data.csv"
      ]
    ) expect(files, file).toContain(file)
    const unwanted = files.filter((file) =>
      /^(test|src|scripts|examples|bench|docs|\.ci|\.github)\//.test(file) || file.startsWith("dist/test/") ||
      file.startsWith("dist/scripts/") || file.startsWith("dist/examples/") || file.endsWith(".map") ||
      /^(tsconfig|eslint|vitest)/.test(file) || file.endsWith(".ts") && !file.endsWith(".d.ts")
    )
    expect(unwanted).toEqual([])
  })
})
