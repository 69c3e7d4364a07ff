/**
 * Counts this process's open file descriptors on a file, read from /proc/self/fd: an independent
 * check that a connection is really closed, whatever dbscope's own counters say.
 */
import * as fs from "node:fs"

export const openDescriptors = (file: string): number => {
  let count = 0
  for (const fd of fs.readdirSync("/proc/self/fd")) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${fd}`) === file) count++
    } catch {
      // The descriptor closed while we were listing: it is not open.
    }
  }
  return count
}
