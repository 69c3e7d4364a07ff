/**
 * The CPU time of other processes on this machine, from /proc: a database server's work for a
 * benchmark (the queries it answers) is the benchmark's own, not contention, so the suites count
 * it apart. A server of one process (MariaDB) is read alone; one that forks a process per
 * connection (PostgreSQL) is read with its children, live and ended.
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as fs from "node:fs"
import { runProcess } from "./ChildProbe.js"

/** Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`, 100 on Linux almost always). */
export const clockTicks = Effect.map(Effect.either(runProcess("getconf", ["CLK_TCK"])), (answer) => {
  const ticks = Either.isRight(answer) ? Number(answer.right.stdout.trim()) : NaN
  return Number.isFinite(ticks) && ticks > 0 ? ticks : 100
})

/**
 * The fields of /proc/<pid>/stat from the state on (index 0 is field 3, the state; 1 the parent's
 * pid; 11 and 12 utime and stime; 13 and 14 the ended children's), or undefined if it cannot be read.
 */
const statFields = (pid: number): ReadonlyArray<string> | undefined => {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
    // After "pid (name) ": the name may hold spaces and parentheses, so the fields start after the last ")".
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  } catch {
    return undefined
  }
}

/** The sum of the clock-tick fields `at` of `fields`, in ms; undefined if one is not a number. */
const ticksMs = (fields: ReadonlyArray<string> | undefined, at: ReadonlyArray<number>, ticksPerSecond: number) => {
  if (fields === undefined) return undefined
  const ticks = at.reduce((sum, i) => sum + Number(fields[i]), 0)
  return Number.isFinite(ticks) ? ticks * 1000 / ticksPerSecond : undefined
}

/** CPU time (ms) process `pid` has used so far, from /proc/<pid>/stat; undefined if it cannot be read. */
export const processCpu = (pid: number, ticksPerSecond: number): number | undefined =>
  ticksMs(statFields(pid), [11, 12], ticksPerSecond)

/** The parent of process `pid`, if it can be read. */
export const parentPid = (pid: number): number | undefined => {
  const parent = Number(statFields(pid)?.[1])
  return Number.isSafeInteger(parent) && parent > 0 ? parent : undefined
}

/**
 * CPU time (ms) of process `pid` and of its children: its own, that of the children it has waited
 * for (a connection's process that ended), and that of those still running. Undefined if `pid`
 * cannot be read.
 */
export const processTreeCpu = (pid: number, ticksPerSecond: number): number | undefined => {
  const own = ticksMs(statFields(pid), [11, 12, 13, 14], ticksPerSecond)
  if (own === undefined) return undefined
  let children: ReadonlyArray<string> = []
  try {
    children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(" ").filter((s) => s !== "")
  } catch {
    // No list of children (a kernel without it): the process alone, with the children it has waited for.
  }
  return children.reduce((sum, child) => sum + (processTreeCpu(Number(child), ticksPerSecond) ?? 0), own)
}

/** The server's process as this machine sees it: its pid, and its CPU time so far (ms; 0 when not visible). */
export interface ServerProcess {
  readonly pid: Option.Option<number>
  readonly cpu: () => number
}

/**
 * The server process `pid` (if it is known and visible from here), its CPU time read with `read`
 * (`processCpu` for one process, `processTreeCpu` with its children).
 */
export const serverProcessOf = (
  pid: Option.Option<number>,
  read: (pid: number, ticksPerSecond: number) => number | undefined
) =>
  Effect.map(clockTicks, (ticks): ServerProcess => {
    const visible = Option.filter(pid, (pid) => Number.isSafeInteger(pid) && read(pid, ticks) !== undefined)
    return {
      pid: visible,
      cpu: () => Option.match(visible, { onNone: () => 0, onSome: (pid) => read(pid, ticks) ?? 0 })
    }
  })

/** The command name of process `pid` (/proc/<pid>/comm), if it can be read. */
export const commandName = (pid: number): string | undefined => {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim()
  } catch {
    return undefined
  }
}
