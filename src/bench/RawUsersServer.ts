/**
 * The `serve` suite's baseline: what a user would write without dbscope — `node:http` and a raw
 * better-sqlite3 connection with dbscope's pragmas, answering the same two requests as `dbscope
 * serve`, `GET /api/users/{id}` (the row as JSON, 404 when there is none) and `GET
 * /api/users/export.ndjson` (every user as JSON Lines, in keyset pages of 1000, waiting for `drain`
 * when the socket is full). `node RawUsersServer.js <db file> [port]` prints the same first line as
 * `dbscope serve` (`... listening on http://127.0.0.1:PORT`) and runs until it is killed. No
 * Effect here: this is the floor that the suite measures dbscope's HTTP stack against.
 */
import Sqlite from "better-sqlite3"
import * as http from "node:http"

const [file, portText = "0"] = process.argv.slice(2)
if (file === undefined) {
  process.stderr.write("usage: RawUsersServer.js <db file> [port]\n")
  process.exit(2)
}

const db = new Sqlite(file)
db.pragma("journal_mode = WAL")
db.pragma("synchronous = NORMAL")
db.pragma("foreign_keys = ON")

const columns = "user_id, name, email, age, created_at"
const byId = db.prepare(`SELECT ${columns} FROM users WHERE user_id = ?`)
const pageAfter = db.prepare(`SELECT ${columns} FROM users WHERE user_id > ? ORDER BY user_id LIMIT ?`)
const pageSize = 1000

interface Row {
  readonly user_id: number
}

const json = (response: http.ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body)
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) })
  response.end(text)
}

/** Every user as JSON Lines, a page per write; waits for `drain` when the client reads slowly, stops when it leaves. */
const exportUsers = (response: http.ServerResponse) => {
  response.writeHead(200, { "content-type": "application/x-ndjson" })
  let cursor = 0
  const next = () => {
    while (!response.destroyed) {
      const rows = pageAfter.all(cursor, pageSize) as ReadonlyArray<Row>
      const last = rows.at(-1)
      if (last === undefined) return response.end()
      cursor = last.user_id
      const written = response.write(rows.map((row) => JSON.stringify(row)).join("\n") + "\n")
      if (rows.length < pageSize) return response.end()
      if (!written) return response.once("drain", next)
    }
  }
  next()
}

const server = http.createServer((request, response) => {
  const url = request.url ?? "/"
  if (url === "/api/users/export.ndjson") return exportUsers(response)
  const match = /^\/api\/users\/(\d+)$/.exec(url)
  const id = match === null ? NaN : Number(match[1])
  if (!Number.isSafeInteger(id) || id < 1) return json(response, 404, { error: "not_found", message: "no such path" })
  const user = byId.get(id)
  return user === undefined
    ? json(response, 404, { error: "not_found", message: `no user with id ${id}` })
    : json(response, 200, user)
})

server.listen(Number(portText), "127.0.0.1", () => {
  const address = server.address()
  const port = typeof address === "object" && address !== null ? address.port : portText
  process.stdout.write(`raw users server: listening on http://127.0.0.1:${port}\n`)
})
