// Links the built CLI into node_modules/.bin, so that `npx dbscope` works inside this checkout
// right after `npm ci` (npm links the bins of dependencies, never the project's own).
import * as fs from "node:fs"

const target = "../../dist/src/bin.js"
const link = new URL("../node_modules/.bin/dbscope", import.meta.url)
fs.mkdirSync(new URL("../node_modules/.bin/", import.meta.url), { recursive: true })
fs.rmSync(link, { force: true })
fs.symlinkSync(target, link)
fs.chmodSync(new URL("../dist/src/bin.js", import.meta.url), 0o755)
