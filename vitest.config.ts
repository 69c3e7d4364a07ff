import * as os from "node:os"
import { defineConfig } from "vitest/config"

/**
 * Test files run in child processes (pool "forks"), one fork per core but one. This is vitest's own default for a run, written out
 * because the suite depends on it: each test file starts processes and threads of its own (the CLI,
 * two at a time, and reader workers), which need the remaining core. On the 2-core CI machines that
 * is a single fork, so files run one after the other and a file's timing-sensitive tests (reader
 * pool interruptions, lock timeouts) never compete with another file for the CPU.
 */
const forks = Math.max(1, os.availableParallelism() - 1)

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    poolOptions: { forks: { minForks: 1, maxForks: forks } },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // How long vitest waits, at the end, for its forks to stop before it warns "close timed out"
    // and exits anyway: 10 s (the default) is tight on a loaded 2-core machine.
    teardownTimeout: 30_000,
    coverage: {
      provider: "v8",
      include: ["src/**/*.ts"],
      // Code that only runs in another thread or process, which v8 coverage of the test process
      // cannot see: the executable's entry point and the reader workers' scripts. The tests
      // exercise them by spawning the binary and through the reader pools. The benchmark tooling
      // is measured by running it, not by the tests; so is the local Galera cluster's manager
      // (its tests use a running cluster: making one, ~15 s, is left to `npm run cluster -- start`).
      exclude: [
        "src/cli/bin.ts",
        "src/readers/ReaderWorker.ts",
        "src/readers/MysqlReaderWorker.ts",
        "src/readers/ReaderWorkerLoop.ts",
        "src/bench/**",
        "src/cluster/**"
      ],
      reporter: ["text-summary", "json-summary"],
      thresholds: { lines: 90 }
    }
  }
})
