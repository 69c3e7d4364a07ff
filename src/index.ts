/**
 * dbscope's public API. The clients (each a module with `layer`, `layerConfig`, `config` and its
 * options; `Database` picks one from `Config`), the contract combinators and clients share (`StatementObserver`), the combinators
 * (`logQueries`, `withDbConnection`, `transactional`, `retryOnFailure`, `cacheQuery`), and the users
 * domain built on them. The test harness is `dbscope/testing`.
 */

// Clients
export type { NodeStatus } from "./client/ClusterNodes.js"
export * as ClusterSettings from "./client/ClusterSettings.js"
export type { ClientOptions } from "./client/core/ClientCore.js"
export { ReadOnlyGate, Verdict as ReadOnlyVerdict } from "./client/core/ReadOnlyGate.js"
export * as RowCheck from "./client/core/RowCheck.js"
export * as StatementObserver from "./client/core/StatementObserver.js"
export * as Database from "./client/Database.js"
export { DatabaseConnectError, DatabaseError, DatabaseFileError } from "./client/DatabaseError.js"
export * as MysqlDatabase from "./client/MysqlDatabase.js"
export * as PostgresDatabase from "./client/PostgresDatabase.js"
export { PreparedQueries } from "./client/PreparedQueries.js"
export * as SqliteDatabase from "./client/SqliteDatabase.js"
export * as SqlitePool from "./client/SqlitePool.js"
export * as Tracing from "./client/Tracing.js"
export { MissingPackage } from "./OptionalPackage.js"
export * as ReaderPool from "./readers/ReaderPool.js"
export * as RowRules from "./readers/RowRules.js"

// Combinators
// The decorators by their own names; `CacheQuery` holds the cache service behind `cacheQuery`.
export type { IsolationLevel } from "./client/core/Isolation.js"
export * as CacheQuery from "./combinators/CacheQuery.js"
export { cacheQuery } from "./combinators/CacheQuery.js"
export { logQueries, type LogQueriesOptions } from "./combinators/LogQueries.js"
export { isTransient, retryOnFailure, type RetryOptions, transientBackoff } from "./combinators/RetryOnFailure.js"
export { CommitFailed, transactional, transactionalWith, type TransactionOptions } from "./combinators/Transactional.js"
export { withDbConnection } from "./combinators/WithDbConnection.js"

// The users domain
export { fetchConcurrently, fetchUsers } from "./users/ConcurrentFetch.js"
export { CsvError, importCsv } from "./users/CsvImport.js"
export { Dashboard } from "./users/Dashboard.js"
export { executeQuery, QueryError, ReadOnlyQuery, type Row } from "./users/ExecuteQuery.js"
export * as Migrations from "./users/Migrations.js"
export * as Progress from "./users/Progress.js"
export { setup } from "./users/Setup.js"
export { InvalidStoredValue } from "./users/StoredValue.js"
export { addSynthetic } from "./users/SyntheticUsers.js"
export * as User from "./users/User.js"
export { DuplicateEmail, InvalidAge, InvalidUser, InvalidUserId, UserRepo } from "./users/UserRepo.js"
export * as UsersTable from "./users/UsersTable.js"
export * as UserStream from "./users/UserStream.js"
