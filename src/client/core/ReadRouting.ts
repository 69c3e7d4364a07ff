/**
 * Where a read outside a transaction runs when reader workers are there: a thread hop costs about
 * as much as a cheap read, so reads measured cheaper than `mainThreadBelow` stay on the main
 * connection, and anything else (or not yet measured) goes to a reader. A statement a reader
 * refused because it writes is remembered and goes to the main connection from then on.
 */

/** How many SQL texts' routes to remember. */
const capacity = 1000

interface Route {
  readonly readOnly: boolean
  /** Moving average of what it cost, in milliseconds. */
  cost: number
}

/** The routes learnt for one client. */
export const make = (mainThreadBelow: number) => {
  const routes = new Map<string, Route>()
  return {
    /**
     * Where `sql` should run: `writes` on the main connection; `cheap` there too when it is free;
     * `reader` on a worker (also when not measured yet).
     */
    choose: (sql: string): "writes" | "cheap" | "reader" => {
      const route = routes.get(sql)
      if (route === undefined) return "reader"
      return !route.readOnly ? "writes" : route.cost < mainThreadBelow ? "cheap" : "reader"
    },
    /** What running `sql` cost, wherever it ran. */
    measured: (sql: string, millis: number) => {
      const route = routes.get(sql)
      if (route !== undefined && route.readOnly) {
        route.cost = route.cost * 0.7 + millis * 0.3
        return
      }
      if (routes.size >= capacity) routes.clear()
      routes.set(sql, { readOnly: true, cost: millis })
    },
    /** A reader refused `sql`: it writes. */
    writes: (sql: string) => {
      if (routes.size >= capacity) routes.clear()
      routes.set(sql, { readOnly: false, cost: 0 })
    }
  }
}

export type ReadRouting = ReturnType<typeof make>
