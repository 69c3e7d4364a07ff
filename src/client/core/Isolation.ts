/**
 * The isolation level a transaction asks for. `transactional` leaves it to the database unless
 * `transactionalWith({ isolation })` sets one: the level is carried by the fiber to the client
 * core, which starts the outermost transaction at it (a savepoint inside keeps its transaction's).
 */
import * as FiberRef from "effect/FiberRef"

/** The SQL standard's levels, as each database spells them in `SET TRANSACTION` / `BEGIN`. */
export type IsolationLevel = "read uncommitted" | "read committed" | "repeatable read" | "serializable"

/** The level the next outermost transaction of this fiber starts at; `undefined`: the database's default. */
export const currentIsolation: FiberRef.FiberRef<IsolationLevel | undefined> = FiberRef.unsafeMake<
  IsolationLevel | undefined
>(undefined)

/** The level as SQL writes it (`SERIALIZABLE`, `READ COMMITTED`, ...): only ever one of these four. */
export const sqlName = (level: IsolationLevel): string => level.toUpperCase()
