/**
 * Which tables a statement reads and writes, as SQLite itself plans it. `EXPLAIN` lists every
 * b-tree a statement opens, including those opened by triggers, foreign-key actions and views,
 * and the schema maps each b-tree's root page to its table. A write through dbscope uses this to
 * tell `Reactivity` (and so `cacheQuery`) exactly which tables it changed; a cached query uses it
 * to know which tables it was read from.
 */
import type Sqlite from "better-sqlite3"
import { anyTable, everyTable } from "./core/StatementObserver.js"

/** The tables one statement touches; sentinel keys stand in when SQLite cannot say. */
export interface Access {
  readonly reads: ReadonlyArray<string>
  readonly writes: ReadonlyArray<string>
  /** The statement changes the schema (or may): root pages must be read again after it runs. */
  readonly changesSchema: boolean
}

const unknown: Access = { reads: [anyTable], writes: [everyTable], changesSchema: false }
/** The same answer, when SQLite could not explain the statement right now (not remembered). */
const unknownForNow: Access = { ...unknown }

/** Statements that change data without touching the schema; anything else that writes may. */
const dataChange = /^\s*(?:INSERT|UPDATE|DELETE|REPLACE|WITH)\b/i

/** Settings (`PRAGMA query_only = 1`, ...): they change neither data nor tables. */
const pragma = /^\s*PRAGMA\b/i
const touchesNothing: Access = { reads: [], writes: [], changesSchema: false }

/** `OpenWrite`'s P5 flag meaning "P2 is a register, not a root page" (CREATE TABLE's new table). */
const p2IsRegister = 0x10

interface Opcode {
  readonly opcode: string
  readonly p2: number
  readonly p3: number
  readonly p5: number
}

/** How many statements' answers to remember. */
const memoCapacity = 500

/** Table access of the statements run on `db`, worked out once per SQL text. */
export const make = (db: Sqlite.Database) => {
  const memo = new Map<string, Access>()
  let rootPages: Map<number, string> | undefined

  const loadRootPages = () => {
    const pages = new Map<number, string>([[1, "sqlite_schema"]])
    const rows = db.prepare("SELECT rootpage, tbl_name FROM sqlite_schema WHERE rootpage > 0").all() as Array<{
      readonly rootpage: number
      readonly tbl_name: string
    }>
    for (const row of rows) pages.set(row.rootpage, row.tbl_name)
    return pages
  }

  const explain = (sql: string, params: ReadonlyArray<unknown>, reader: boolean): Access => {
    if (!reader && pragma.test(sql)) return touchesNothing
    if (!reader && !dataChange.test(sql)) return { ...unknown, changesSchema: true }
    try {
      rootPages ??= loadRootPages()
      const reads = new Set<string>()
      const writes = new Set<string>()
      // The statement's own text with its own bound parameters: nothing here comes from elsewhere.
      for (const op of db.prepare(`EXPLAIN ${sql}`).all(...params) as Array<Opcode>) {
        const writing = op.opcode === "OpenWrite"
        if (!writing && op.opcode !== "OpenRead" && op.opcode !== "ReopenIdx") continue
        // Another attached database, a root page held in a register: not something we can name.
        if (op.p3 !== 0 || (writing && (op.p5 & p2IsRegister) !== 0)) return unknown
        const table = rootPages.get(op.p2)
        if (table === undefined || table === "sqlite_schema") {
          return reader
            ? unknown
            : { ...unknown, changesSchema: true }
        }
        ;(writing ? writes : reads).add(table)
      }
      return { reads: [...reads], writes: [...writes], changesSchema: false }
    } catch {
      return unknownForNow
    }
  }

  return {
    /** The tables `sql` touches; computed before it runs (with its parameters), then remembered. */
    of: (sql: string, params: ReadonlyArray<unknown>, reader: boolean): Access => {
      const known = memo.get(sql)
      if (known !== undefined) return known
      const access = explain(sql, params, reader)
      if (access === unknownForNow) return access
      if (memo.size >= memoCapacity) memo.clear()
      memo.set(sql, access)
      return access
    },
    /** Forgets every answer: call after a statement that changed the schema has run. */
    schemaChanged: () => {
      memo.clear()
      rootPages = undefined
    }
  }
}

/** The table access of one connection, as `make` builds it. */
export type TableAccess = ReturnType<typeof make>
