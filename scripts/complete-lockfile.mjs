// Completes package-lock.json with the platform-specific optional packages that this machine's
// npm registry does not serve (rollup and msgpackr-extract builds for other systems). `npm install`
// leaves them out, and `npm ci` then refuses the lock as "out of sync". Each is recorded with its
// os/cpu/libc, so npm skips it here exactly as it would on a full registry. Run after `npm install`.
import * as fs from "node:fs"

const file = new URL("../package-lock.json", import.meta.url)
const lock = JSON.parse(fs.readFileSync(file, "utf8"))
const systems = ["darwin", "linux", "win32", "android", "freebsd", "openbsd", "openharmony"]
const cpus = ["x64", "arm64", "arm", "ia32", "loong64", "ppc64", "riscv64", "s390x"]

const platformOf = (name) => {
  const parts = name.split("/").pop().split("-")
  const os = parts.find((part) => systems.includes(part))
  const cpu = parts.find((part) => cpus.includes(part))
  if (os === undefined || cpu === undefined) return undefined
  const libc = parts.includes("musl") ? ["musl"] : os === "linux" ? ["glibc"] : undefined
  return { cpu: [cpu], os: [os], ...(libc ? { libc } : {}) }
}

let added = 0
for (const [, entry] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`
    if (lock.packages[key] !== undefined) continue
    const platform = platformOf(name)
    if (platform === undefined) continue
    lock.packages[key] = { version, ...platform, optional: true }
    added++
  }
}
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))
)
fs.writeFileSync(file, JSON.stringify(lock, null, 2) + "\n")
console.log(`complete-lockfile: recorded ${added} platform packages`)
