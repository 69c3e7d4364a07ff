/**
 * The standard `@effect/sql` contract, run against every dbscope client: SQLite (plain and with
 * reader workers), MySQL/MariaDB (plain, with reader workers, and on a Galera cluster when one
 * runs) and PostgreSQL. Each behaviour is what the upstream clients (`@effect/sql-sqlite-node`,
 * `@effect/sql-mysql2`, `@effect/sql-pg`) do, so code written against `SqlClient` runs the same on
 * dbscope: `.raw` the driver's own result, `.values`, `.unprepared`, `sql.insert` / `sql.update` /
 * `sql.in`, nested transactions, `reserve`, `SqlResolver`, `Model.makeRepository` and
 * `Model.makeDataLoaders`, name transforms, streams, MySQL and PostgreSQL dates, and a failed
 * COMMIT (SQLite and PostgreSQL, which defer a foreign key check to it).
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as Model from "@effect/sql/Model"
import * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import * as SqlResolver from "@effect/sql/SqlResolver"
import { assert, describe, layer } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as TestServices from "effect/TestServices"
import * as crypto from "node:crypto"
import * as path from "node:path"
import type { ClientOptions } from "../../src/client/core/ClientCore.js"
import { CommitError } from "../../src/client/core/StatementObserver.js"
import * as MysqlDatabase from "../../src/client/MysqlDatabase.js"
import * as PostgresDatabase from "../../src/client/PostgresDatabase.js"
import * as SqliteDatabase from "../../src/client/SqliteDatabase.js"
import * as SqlitePool from "../../src/client/SqlitePool.js"
import * as OpenResources from "../../src/OpenResources.js"
import * as TestDatabase from "../../src/testing/TestDatabase.js"
import { mysqlAvailable, mysqlServer, postgresAvailable, postgresServer } from "../support/Backends.js"
import { clusterAvailable, clusterServer } from "../support/Cluster.js"

type Client = SqlClient.SqlClient | Reactivity.Reactivity

/** A fresh, empty MySQL database of its own, dropped when the layer is released. */
const mysqlLayer = (options: Omit<MysqlDatabase.MysqlOptions, "url">, server = mysqlServer) =>
  Layer.unwrapScoped(Effect.gen(function*() {
    const url = Redacted.make(
      `${server.replace(/\/+$/, "")}/dbscope_conf_${crypto.randomBytes(6).toString("hex")}`
    )
    yield* Effect.acquireRelease(
      MysqlDatabase.createDatabase({ url }),
      () => Effect.orDie(MysqlDatabase.dropDatabase({ url }))
    )
    return MysqlDatabase.layer({ ...options, url, poolSize: 4 })
  }))

/** A fresh, empty PostgreSQL database of its own, dropped (with its connections) when the layer is released. */
const postgresLayer = (options: ClientOptions) =>
  Layer.unwrapScoped(Effect.gen(function*() {
    const url = Redacted.make(
      `${postgresServer.replace(/\/+$/, "")}/dbscope_conf_${crypto.randomBytes(6).toString("hex")}`
    )
    yield* Effect.acquireRelease(
      PostgresDatabase.createDatabase({ url }),
      () => Effect.orDie(PostgresDatabase.dropDatabase({ url }))
    )
    return PostgresDatabase.layer({ ...options, url, poolSize: 4 })
  }))

/** A fresh SQLite file in a temp folder of its own. */
const sqliteLayer = <E>(make: (filename: string) => Layer.Layer<Client, E>) =>
  Layer.unwrapScoped(Effect.map(TestDatabase.tempDirectory, (dir) => make(path.join(dir, "conformance.db"))))

interface Backend {
  readonly name: string
  readonly dialect: "sqlite" | "mysql" | "pg"
  readonly available: boolean
  readonly layer: (options: ClientOptions) => Layer.Layer<Client, unknown>
}

const backends: ReadonlyArray<Backend> = [
  {
    name: "SqliteDatabase",
    dialect: "sqlite",
    available: true,
    layer: (options) => sqliteLayer((filename) => SqliteDatabase.layer({ ...options, filename }))
  },
  {
    name: "SqlitePool",
    dialect: "sqlite",
    available: true,
    // Every read goes to a worker (no main-thread shortcut), so the suite exercises them.
    layer: (options) =>
      sqliteLayer((filename) => SqlitePool.layer({ ...options, filename, readers: { size: 2, mainThreadBelow: 0 } }))
  },
  { name: "MysqlDatabase", dialect: "mysql", available: mysqlAvailable, layer: (options) => mysqlLayer(options) },
  {
    name: "MysqlDatabase with readers",
    dialect: "mysql",
    available: mysqlAvailable,
    layer: (options) => mysqlLayer({ ...options, readers: { size: 2, mainThreadBelow: 0 } })
  },
  {
    name: "MysqlDatabase on a Galera cluster",
    dialect: "mysql",
    available: clusterAvailable,
    layer: (options) => mysqlLayer(options, clusterServer)
  },
  { name: "PostgresDatabase", dialect: "pg", available: postgresAvailable, layer: postgresLayer }
]

class Item extends Model.Class<Item>("Item")({
  id: Model.Generated(Schema.Int),
  name: Schema.String,
  qty: Schema.Int
}) {}

/** A fresh `items` table (and `line_items`, snake_case, for the name transforms). */
const freshTables = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.onDialectOrElse({
    // PostgreSQL refuses to drop a table another one's foreign key points at (the COMMIT test's `child`).
    pg: () => sql`DROP TABLE IF EXISTS child, items, line_items`,
    orElse: () => Effect.zipRight(sql`DROP TABLE IF EXISTS items`, sql`DROP TABLE IF EXISTS line_items`)
  })
  yield* sql.onDialectOrElse({
    mysql: () =>
      Effect.zipRight(
        sql`CREATE TABLE items (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100) NOT NULL, qty INT NOT NULL,
            made_at DATETIME NOT NULL DEFAULT '2026-12-04 10:00:00')`,
        sql`CREATE TABLE line_items (line_id INT AUTO_INCREMENT PRIMARY KEY, item_name VARCHAR(100) NOT NULL,
            unit_count INT NOT NULL)`
      ),
    pg: () =>
      Effect.zipRight(
        sql`CREATE TABLE items (id SERIAL PRIMARY KEY, name TEXT NOT NULL, qty INTEGER NOT NULL,
            made_at TIMESTAMP NOT NULL DEFAULT '2026-12-04 10:00:00')`,
        sql`CREATE TABLE line_items (line_id SERIAL PRIMARY KEY, item_name TEXT NOT NULL, unit_count INTEGER NOT NULL)`
      ),
    orElse: () =>
      Effect.zipRight(
        sql`CREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, qty INTEGER NOT NULL,
            made_at TEXT NOT NULL DEFAULT '2026-12-04 10:00:00')`,
        sql`CREATE TABLE line_items (line_id INTEGER PRIMARY KEY AUTOINCREMENT, item_name TEXT NOT NULL,
            unit_count INTEGER NOT NULL)`
      )
  })
  return sql
})

const names = (rows: ReadonlyArray<Readonly<Record<string, unknown>>>) => rows.map((row) => row.name)

for (const backend of backends) {
  describe.skipIf(!backend.available)(`conformance: ${backend.name}`, () => {
    layer(backend.layer({}), { timeout: 60_000 })((it) => {
      it.effect(".raw gives the driver's own result: one result object for a write; for a read the rows (pg: its Result)", () =>
        Effect.gen(function*() {
          const sql = yield* freshTables
          const write: unknown = yield* sql`INSERT INTO items (name, qty) VALUES (${"a"}, ${1})`.raw
          assert.isFalse(Array.isArray(write))
          if (backend.dialect === "sqlite") {
            assert.deepStrictEqual(write, { changes: 1, lastInsertRowid: 1 })
          } else if (backend.dialect === "mysql") {
            assert.propertyVal(write, "affectedRows", 1)
            assert.propertyVal(write, "insertId", 1)
          } else {
            // pg's Result: no insert id (that takes RETURNING), the command and the rows it changed.
            assert.propertyVal(write, "command", "INSERT")
            assert.propertyVal(write, "rowCount", 1)
            assert.deepStrictEqual((write as { rows: unknown }).rows, [])
            const returning: unknown = yield* sql`INSERT INTO items (name, qty) VALUES (${"b"}, ${2}) RETURNING id`.raw
            assert.propertyVal(returning, "rowCount", 1)
            assert.deepStrictEqual((returning as { rows: unknown }).rows, [{ id: 2 }])
            yield* sql`DELETE FROM items WHERE id = ${2}`
          }
          const read: unknown = yield* sql`SELECT name, qty FROM items`.raw
          if (backend.dialect === "pg") {
            // Upstream's PgClient gives pg's Result for a read too, its rows inside.
            assert.isFalse(Array.isArray(read))
            assert.propertyVal(read, "command", "SELECT")
            assert.propertyVal(read, "rowCount", 1)
            assert.deepStrictEqual((read as { rows: unknown }).rows, [{ name: "a", qty: 1 }])
            assert.deepStrictEqual((read as { fields: ReadonlyArray<{ name: string }> }).fields.map((f) => f.name), [
              "name",
              "qty"
            ])
          } else {
            assert.deepStrictEqual(read, [{ name: "a", qty: 1 }])
          }
        }))

      it.effect(".values gives rows as arrays; .unprepared runs as a statement of its own", () =>
        Effect.gen(function*() {
          const sql = yield* freshTables
          yield* sql`INSERT INTO items ${sql.insert([{ name: "a", qty: 1 }, { name: "b", qty: 2 }])}`
          assert.deepStrictEqual(yield* sql`SELECT name, qty FROM items ORDER BY id`.values, [["a", 1], ["b", 2]])
          const rows = yield* sql`SELECT name FROM items WHERE qty = ${2}`.unprepared
          assert.deepStrictEqual(names(rows), ["b"])
        }))

      it.effect("sql.insert, sql.update and sql.in bind every value", () =>
        Effect.gen(function*() {
          const sql = yield* freshTables
          yield* sql`INSERT INTO items ${sql.insert({ name: "x'); DROP TABLE items; --", qty: 1 })}`
          yield* sql`INSERT INTO items ${sql.insert([{ name: "b", qty: 2 }, { name: "c", qty: 3 }])}`
          yield* sql`UPDATE items SET ${sql.update({ qty: 20 })} WHERE name = ${"b"}`
          const rows = yield* sql<{ name: string; qty: number }>`SELECT name, qty FROM items WHERE ${
            sql.in("name", ["b", "c", "x'); DROP TABLE items; --"])
          } ORDER BY id`
          assert.deepStrictEqual(rows.map((row) => [row.name, row.qty]), [
            ["x'); DROP TABLE items; --", 1],
            ["b", 20],
            ["c", 3]
          ])
        }))

      it.effect("nested withTransaction: an inner failure caught undoes only the inner part; an outer one undoes all", () =>
        Effect.gen(function*() {
          const sql = yield* freshTables
          yield* sql.withTransaction(Effect.gen(function*() {
            yield* sql`INSERT INTO items ${sql.insert({ name: "outer", qty: 1 })}`
            const inner = yield* Effect.exit(sql.withTransaction(Effect.gen(function*() {
              yield* sql`INSERT INTO items ${sql.insert({ name: "inner", qty: 2 })}`
              return yield* Effect.fail("inner failed")
            })))
            assert.isTrue(Exit.isFailure(inner))
            yield* sql.withTransaction(sql`INSERT INTO items ${sql.insert({ name: "second inner", qty: 3 })}`)
            // Reads inside see the transaction's own writes.
            assert.deepStrictEqual(names(yield* sql`SELECT name FROM items ORDER BY id`), ["outer", "second inner"])
          }))
          const failed = yield* Effect.exit(sql.withTransaction(Effect.gen(function*() {
            yield* sql`INSERT INTO items ${sql.insert({ name: "rolled back", qty: 4 })}`
            yield* sql.withTransaction(sql`INSERT INTO items ${sql.insert({ name: "also rolled back", qty: 5 })}`)
            return yield* Effect.fail("outer failed")
          })))
          assert.isTrue(Exit.isFailure(failed))
          assert.deepStrictEqual(names(yield* sql`SELECT name FROM items ORDER BY id`), ["outer", "second inner"])
          assert.strictEqual(yield* OpenResources.current("transaction"), 0)
        }))

      it.effect("reserve gives a connection of one's own until its scope closes", () =>
        Effect.gen(function*() {
          const sql = yield* freshTables
          const rows = yield* Effect.scoped(Effect.gen(function*() {
            const connection = yield* sql.reserve
            yield* connection.execute("INSERT INTO items (name, qty) VALUES (?, ?)", ["r", 7], undefined)
            return yield* connection.execute("SELECT name, qty FROM items", [], undefined)
          }))
          assert.deepStrictEqual(rows, [{ name: "r", qty: 7 }])
          // Released: the client still runs statements (on SQLite the one connection is free again).
          assert.deepStrictEqual(names(yield* sql`SELECT name FROM items`), ["r"])
        }))

      it.effect("SqlResolver batches lookups into one query", () =>
        Effect.gen(function*() {
          const sql = yield* freshTables
          yield* sql`INSERT INTO items ${sql.insert([{ name: "a", qty: 1 }, { name: "b", qty: 2 }])}`
          const byName = yield* SqlResolver.findById("ItemByName", {
            Id: Schema.String,
            Result: Schema.Struct({ name: Schema.String, qty: Schema.Number }),
            ResultId: (item) => item.name,
            execute: (ids) => sql`SELECT name, qty FROM items WHERE ${sql.in("name", ids)}`
          })
          const found = yield* Effect.all([byName.execute("b"), byName.execute("a"), byName.execute("zz")], {
            batching: true
          })
          assert.deepStrictEqual(found.map(Option.map((item) => item.qty)), [
            Option.some(2),
            Option.some(1),
            Option.none()
          ])
        }))

      it.effect("Model.makeRepository: insert and update give back the stored row", () =>
        Effect.gen(function*() {
          yield* freshTables
          const repo = yield* Model.makeRepository(Item, { tableName: "items", spanPrefix: "Items", idColumn: "id" })
          const first = yield* repo.insert(Item.insert.make({ name: "a", qty: 1 }))
          const second = yield* repo.insert(Item.insert.make({ name: "b", qty: 2 }))
          // Ids count up by one on one server, by the cluster's size on Galera (its auto-increment control).
          assert.strictEqual(first.name, "a")
          assert.isAbove(second.id, first.id)
          const updated = yield* repo.update(Item.update.make({ id: second.id, name: "b2", qty: 20 }))
          assert.deepStrictEqual([updated.id, updated.name, updated.qty], [second.id, "b2", 20])
          assert.strictEqual(Option.getOrThrow(yield* repo.findById(first.id)).name, "a")
          yield* repo.delete(first.id)
          assert.isTrue(Option.isNone(yield* repo.findById(first.id)))
        }))

      it.scoped("Model.makeDataLoaders: batched inserts give back their rows; lookups batch too", () =>
        // The loaders batch over a real 5 ms window: live clock.
        TestServices.provideLive(Effect.gen(function*() {
          yield* freshTables
          const loaders = yield* Model.makeDataLoaders(Item, {
            tableName: "items",
            spanPrefix: "ItemLoaders",
            idColumn: "id",
            window: "5 millis"
          })
          const inserted = yield* Effect.all(
            ["a", "b", "c"].map((name) => loaders.insert(Item.insert.make({ name, qty: 1 }))),
            { concurrency: "unbounded" }
          )
          assert.deepStrictEqual(inserted.map((item) => item.name).sort(), ["a", "b", "c"])
          const ids = inserted.map((item) => item.id).sort((a, b) => a - b)
          assert.strictEqual(new Set(ids).size, 3)
          const found = yield* Effect.all([loaders.findById(ids[0]!), loaders.findById(ids[2]!)], {
            concurrency: "unbounded"
          })
          assert.deepStrictEqual(found.map((item) => Option.getOrThrow(item).id), [ids[0], ids[2]])
        })))

      it.effect("a stream is lazy: it reads rows as they are pulled and closes its cursor when stopped", () =>
        Effect.gen(function*() {
          const sql = yield* freshTables
          yield* sql`INSERT INTO items ${
            sql.insert(Array.from({ length: 2000 }, (_, i) => ({ name: `n${i}`, qty: i })))
          }`
          const connectionsBefore = yield* OpenResources.current("postgresConnection")
          const firstTen = yield* sql<{ qty: number }>`SELECT qty FROM items ORDER BY id`.stream.pipe(
            Stream.take(10),
            Stream.runCollect
          )
          assert.deepStrictEqual(Chunk.toReadonlyArray(firstTen).map((row) => row.qty), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
          assert.strictEqual(yield* OpenResources.current("iterator"), 0)
          // On PostgreSQL the stream's cursor had a connection of its own: given back to the pool.
          assert.strictEqual(yield* OpenResources.current("postgresConnection"), connectionsBefore)
          const total = yield* sql<{ qty: number }>`SELECT qty FROM items`.stream.pipe(
            Stream.runFold(0, (sum, row) => sum + row.qty)
          )
          assert.strictEqual(total, (1999 * 2000) / 2)
        }))

      it.scoped("a write tells Reactivity the table it changed", () =>
        Effect.gen(function*() {
          const sql = yield* freshTables
          const reactivity = yield* Reactivity.Reactivity
          let runs = 0
          const results = yield* reactivity.query(["items"], Effect.sync(() => ++runs))
          assert.strictEqual(yield* results.take, 1)
          yield* sql`INSERT INTO items ${sql.insert({ name: "a", qty: 1 })}`
          assert.strictEqual(yield* results.take, 2)
        }))

      if (backend.dialect !== "sqlite") {
        // SQLite has no date type: its column is TEXT, read back as the string stored.
        it.effect("MySQL and PostgreSQL dates come back as Date, as upstream", () =>
          Effect.gen(function*() {
            const sql = yield* freshTables
            yield* sql`INSERT INTO items ${sql.insert({ name: "a", qty: 1 })}`
            const [row] = yield* sql<{ made_at: unknown }>`SELECT made_at FROM items`
            assert.instanceOf(row?.made_at, Date)
            assert.strictEqual((row?.made_at as Date).toISOString(), "2026-12-04T10:00:00.000Z")
          }))
      }
      if (backend.dialect !== "mysql") {
        // MySQL checks a foreign key at once (it has no deferred constraints): its COMMIT does not fail so.
        it.effect("a COMMIT that fails is rolled back and comes back as a typed CommitError", () =>
          Effect.gen(function*() {
            const sql = yield* freshTables
            yield* sql`DROP TABLE IF EXISTS child`
            yield* sql`CREATE TABLE child (parent INTEGER REFERENCES items(id) DEFERRABLE INITIALLY DEFERRED)`
            const exit = yield* Effect.exit(sql.withTransaction(sql`INSERT INTO child (parent) VALUES (${42})`))
            assert.isTrue(Exit.isFailure(exit) && Exit.causeOption(exit).pipe(Option.isSome))
            if (Exit.isFailure(exit)) {
              const error = exit.cause._tag === "Fail" ? exit.cause.error : undefined
              assert.instanceOf(error, CommitError)
              assert.instanceOf(error, SqlError)
              // PostgreSQL checks the deferred foreign key at COMMIT: foreign_key_violation.
              if (backend.dialect === "pg") assert.propertyVal(error?.cause, "code", "23503")
            }
            assert.deepStrictEqual(yield* sql`SELECT * FROM child`, [])
            assert.strictEqual(yield* OpenResources.current("transaction"), 0)
          }))
      }
    })

    layer(
      backend.layer({ transformQueryNames: camelToSnake, transformResultNames: snakeToCamel }),
      { timeout: 60_000 }
    )((it) => {
      it.effect("transformQueryNames / transformResultNames: camelCase fields over snake_case columns", () =>
        Effect.gen(function*() {
          const sql = yield* freshTables
          yield* sql`INSERT INTO ${sql("lineItems")} ${sql.insert({ itemName: "bolt", unitCount: 12 })}`
          const rows = yield* sql`SELECT ${sql("itemName")}, ${sql("unitCount")} FROM ${sql("lineItems")}`
          assert.deepStrictEqual(rows, [{ itemName: "bolt", unitCount: 12 }])
          // Without transforms the columns are as stored.
          const raw = yield* sql.withoutTransforms()`SELECT item_name FROM line_items`
          assert.deepStrictEqual(raw, [{ item_name: "bolt" }])
        }))
    })
  })
}

function camelToSnake(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`)
}

function snakeToCamel(name: string): string {
  return name.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase())
}
