/**
 * Optional features and the packages they need. MySQL/MariaDB, PostgreSQL and tracing are optional peers of
 * dbscope (`peerDependenciesMeta`): a project that uses neither installs neither, so their modules
 * are imported only when the feature is used, and a missing one is a typed error that says what to
 * install rather than a `Cannot find package` stack.
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"

/** An optional feature: its name, for the message, and the packages to install for it. */
export interface Feature {
  readonly name: string
  readonly packages: ReadonlyArray<string>
}

/** MySQL/MariaDB (`--url`, `DATABASE_URL`, `MysqlDatabase`). */
export const mysql: Feature = { name: "MySQL", packages: ["@effect/sql-mysql2", "mysql2"] }

/** PostgreSQL (`postgres://` in `--url` or `DATABASE_URL`, `PostgresDatabase`). */
export const postgres: Feature = { name: "PostgreSQL", packages: ["@effect/sql-pg", "pg", "pg-cursor"] }

/** Tracing through OpenTelemetry (`--trace`, `Tracing`); the other OpenTelemetry packages come as their peers. */
export const tracing: Feature = {
  name: "tracing",
  packages: [
    "@effect/opentelemetry",
    "@opentelemetry/api",
    "@opentelemetry/sdk-trace-base",
    "@opentelemetry/exporter-trace-otlp-http"
  ]
}

/** A feature was used without the packages it needs. */
export class MissingPackage extends Data.TaggedError("MissingPackage")<{
  readonly feature: string
  readonly packages: ReadonlyArray<string>
  readonly cause?: unknown
}> {
  override get message() {
    const names = this.packages.length > 1
      ? `${this.packages.slice(0, -1).join(", ")} and ${this.packages.at(-1)}`
      : this.packages.join("")
    return `${this.feature} support needs ${names}: npm install ${this.packages.join(" ")}`
  }
}

/** Whether `error` is Node failing to find a package (ESM `import()` or, in the bundled CLI, `require`). */
const isNotFound = (error: unknown): boolean =>
  typeof error === "object" && error !== null && "code" in error &&
  (error.code === "ERR_MODULE_NOT_FOUND" || error.code === "MODULE_NOT_FOUND")

/**
 * Imports the module of an optional feature. A package of the feature that cannot be found is a
 * `MissingPackage`; any other failure to load is a defect.
 */
export const load = <A>(feature: Feature, importer: () => Promise<A>): Effect.Effect<A, MissingPackage> =>
  Effect.tryPromise({
    try: importer,
    catch: (cause) => new MissingPackage({ feature: feature.name, packages: feature.packages, cause })
  }).pipe(
    Effect.catchIf((error) => !isNotFound(error.cause), (error) => Effect.die(error.cause))
  )
