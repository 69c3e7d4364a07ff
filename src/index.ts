/**
 * dbscope's public API: the connection layer, the users repository and schema, `executeQuery`,
 * migrations, import, and the test-harness layer.
 */
export * as BundledData from "./BundledData.js"
export { fetchConcurrently, fetchUsers } from "./ConcurrentFetch.js"
export * as CsvImport from "./CsvImport.js"
export { CsvError, importCsv } from "./CsvImport.js"
export { Dashboard } from "./Dashboard.js"
export * as DatabaseError from "./DatabaseError.js"
export { executeQuery, QueryError, ReadOnlyQuery } from "./ExecuteQuery.js"
export * as Migrations from "./Migrations.js"
export * as OpenResources from "./OpenResources.js"
export { PreparedQueries } from "./PreparedQueries.js"
export * as Progress from "./Progress.js"
export * as ReaderPool from "./ReaderPool.js"
export { setup } from "./Setup.js"
export * as SqliteDatabase from "./SqliteDatabase.js"
export * as SqlitePool from "./SqlitePool.js"
export { addSynthetic } from "./SyntheticUsers.js"
export * as TestDatabase from "./TestDatabase.js"
export * as User from "./User.js"
export { DuplicateEmail, InvalidAge, InvalidUser, InvalidUserId, UserRepo } from "./UserRepo.js"
export * as UserStream from "./UserStream.js"
