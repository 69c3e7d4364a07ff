// Bundles the `dbscope` executable into dist/bin/ (run by `npm run build`, after tsc):
// - dbscope.cjs: the whole CLI (src/cli/bin.ts) in one script. Loading Effect, @effect/cli and
//   @effect/sql as hundreds of ES modules made every command start in ~0.7 s warm (~1 s cold).
//   CommonJS rather than ESM so that the launcher can give V8 a code cache (see src/cli/launcher.ts);
//   what only some commands use (MySQL, --trace, demo) is behind `import()`, which esbuild turns
//   into lazy initialisers: it is compiled and run only when used.
// - dbscope.js: the launcher, the package's `bin`.
// - dbscope.cjs.cache: V8's code cache for this Node, made by running `dbscope --version` once, so
//   that the first command is fast too, even where dist/bin/ is read-only.
// Native and optional heavy packages stay external (better-sqlite3, mysql2, pg, OpenTelemetry), required
// only by the code that uses them: better-sqlite3 is a dependency, the others optional peers (see
// src/OptionalPackage.ts). Everything else (effect, @effect/cli, @effect/platform-node, cli-progress,
// @effect/sql-mysql2, @effect/opentelemetry) is inside the bundle: the CLI needs them installed only as
// devDependencies here. The reader workers and the bench suites still run from tsc's
// output in dist/src/ and dist/scripts/ (see src/BundledData.ts).
// `node scripts/build-cli.mjs --analyze` also prints what takes room in the bundle.
import * as esbuild from "esbuild"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const outdir = path.join(root, "dist", "bin")

fs.rmSync(outdir, { recursive: true, force: true })

const shared = {
  absWorkingDir: root,
  outdir,
  bundle: true,
  platform: "node",
  target: "node20",
  minify: true,
  legalComments: "none",
  logLevel: "warning"
}

// Scalar, the API docs page of `dbscope serve`, is a 3.4 MB script inlined in @effect/platform: in the
// bundle it made every command start ~0.15 s slower. The bundle reads it from the installed
// @effect/platform (a peer dependency) when the docs are first served.
const scalarOutside = {
  name: "scalar-outside",
  setup(build) {
    build.onResolve({ filter: /internal\/httpApiScalar\.js$/ }, () => ({ path: "scalar", namespace: "scalar-outside" }))
    build.onLoad({ filter: /.*/, namespace: "scalar-outside" }, () => ({
      loader: "js",
      contents: `const path = require("node:path")
const installed = require("node:module").createRequire(__filename)
let source
Object.defineProperty(exports, "javascript", {
  enumerable: true,
  get: () => source ??= installed(path.join(
    path.dirname(installed.resolve("@effect/platform/package.json")), "dist", "cjs", "internal", "httpApiScalar.js"
  )).javascript
})`
    }))
  }
}

const cli = await esbuild.build({
  ...shared,
  entryPoints: { dbscope: "src/cli/bin.ts" },
  outExtension: { ".js": ".cjs" },
  format: "cjs",
  sourcemap: "linked",
  metafile: true,
  plugins: [scalarOutside],
  external: ["better-sqlite3", "mysql2", "mysql2/*", "pg", "pg/*", "pg-cursor", "@opentelemetry/*"],
  // The one `import.meta` in the sources (src/BundledData.ts finds the package from it). The banner
  // comes before esbuild's own "use strict", so it repeats the directive: the ES modules were strict.
  define: { "import.meta.url": "__dbscopeUrl" },
  banner: { js: "\"use strict\";const __dbscopeUrl = require(\"node:url\").pathToFileURL(__filename).href;" }
})

await esbuild.build({ ...shared, entryPoints: { dbscope: "src/cli/launcher.ts" }, format: "esm" })

const bin = path.join(outdir, "dbscope.js")
fs.chmodSync(bin, 0o755)
execFileSync(process.execPath, [bin, "--version"], { stdio: "ignore" })

if (process.argv.includes("--analyze")) {
  process.stdout.write(await esbuild.analyzeMetafile(cli.metafile))
}
