import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 60_000,
    coverage: {
      provider: "v8",
      include: ["src/**/*.ts"],
      // Code that only runs in another thread or process, which v8 coverage of the test process
      // cannot see: the executable's entry point and the reader workers' scripts. The tests
      // exercise them by spawning the binary and through the reader pools. The benchmark tooling
      // is measured by running it, not by the tests.
      exclude: [
        "src/cli/bin.ts",
        "src/readers/ReaderWorker.ts",
        "src/readers/MysqlReaderWorker.ts",
        "src/readers/ReaderWorkerLoop.ts",
        "src/bench/**"
      ],
      reporter: ["text-summary", "json-summary"],
      thresholds: { lines: 90 }
    }
  }
})
