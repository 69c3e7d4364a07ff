/**
 * `dbscope/testing`: what a test harness needs beside the library. An isolated database per test
 * (`TestDatabase`), the counters that prove nothing leaks (`OpenResources`), and the bundled sample.
 */
export { sampleCsv } from "../BundledData.js"
export * as OpenResources from "../OpenResources.js"
export * as TestDatabase from "./TestDatabase.js"
