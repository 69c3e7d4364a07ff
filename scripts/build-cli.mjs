// Bundles the `dbscope` executable into dist/bin/ (run by `npm run build`, after tsc). Loading
// Effect, @effect/cli and @effect/sql as hundreds of separate ES modules made every command start in
// ~0.7 s warm (~1 s cold); one bundle starts in a fraction of that. Native and optional heavy
// packages stay external, and what only some commands use (MySQL, --trace, demo) is split into
// chunks loaded by dynamic import. The reader workers and the bench suites still run from tsc's
// output in dist/src/ and dist/scripts/ (see src/BundledData.ts).
// `node scripts/build-cli.mjs --analyze` also prints what takes room in each output file.
import * as esbuild from "esbuild"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const outdir = path.join(root, "dist", "bin")

fs.rmSync(outdir, { recursive: true, force: true })

const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: { dbscope: "src/cli/bin.ts" },
  outdir,
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  sourcemap: "linked",
  minifySyntax: true,
  minifyWhitespace: true,
  minifyIdentifiers: true,
  legalComments: "linked",
  metafile: true,
  logLevel: "warning",
  // Native bindings cannot be bundled; mysql2 and OpenTelemetry are loaded only by the chunks that need them.
  external: ["better-sqlite3", "mysql2", "mysql2/*", "@opentelemetry/*"],
  // CommonJS dependencies bundled into ESM call `require` for Node's built-ins.
  banner: {
    js:
      "import { createRequire as __dbscopeRequire } from \"node:module\"\nconst require = __dbscopeRequire(import.meta.url)"
  }
})

fs.chmodSync(path.join(outdir, "dbscope.js"), 0o755)

if (process.argv.includes("--analyze")) {
  process.stdout.write(await esbuild.analyzeMetafile(result.metafile, { verbose: false }))
}
